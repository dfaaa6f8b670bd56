"""The paths of a Django project's sitemaps (``django.contrib.sitemaps``): the live URLs that
``manage.py redirectware_suggest`` and the admin's list of 404s propose redirects to.

The sitemaps are found where Django serves them: every URL pattern of ``ROOT_URLCONF`` whose
view is ``django.contrib.sitemaps.views.sitemap`` (or ``index``) names its ``sitemaps``
dict. Each sitemap's URLs are listed with :meth:`Sitemap.get_urls`, page by page, as the
sitemap view lists them.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


class _Site:
    """Stands in for ``django.contrib.sites``: only the paths of the URLs are kept."""

    domain = "example.com"
    name = "example.com"


def _sitemap_dicts(patterns: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _sitemap_dicts(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            module = getattr(pattern.callback, "__module__", "")
            sitemaps = pattern.default_args.get("sitemaps")
            if module == "django.contrib.sitemaps.views" and isinstance(sitemaps, dict):
                found.append(sitemaps)
    return found


def sitemap_paths() -> list[str]:
    """The path of every URL in the project's sitemaps; empty when it serves none."""
    from urllib.parse import urlsplit

    paths: list[str] = []
    seen: set[int] = set()
    for sitemaps in _sitemap_dicts(get_resolver().url_patterns):
        for sitemap in sitemaps.values():
            instance = sitemap() if isinstance(sitemap, type) else sitemap
            if id(instance) in seen:
                continue
            seen.add(id(instance))
            for page in instance.paginator.page_range:
                for url in instance.get_urls(page=page, site=_Site(), protocol="https"):
                    paths.append(urlsplit(url["location"]).path or "/")
    return paths
