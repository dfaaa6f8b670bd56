"""A URLconf that serves a sitemap, for ``manage.py redirectware_suggest``."""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import sitemap
from django.urls import URLPattern, URLResolver, include, path


class PagesSitemap(Sitemap):  # type: ignore[type-arg]
    """The live pages of the test site."""

    def items(self) -> list[str]:
        return ["/about/", "/contact/", "/blog/hello-world/", "/docs/install/"]

    def location(self, item: str) -> str:
        return item


urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "meta/",
        include([path("sitemap.xml", sitemap, {"sitemaps": {"pages": PagesSitemap}})]),
    ),
]
