"""The shop's pages plus the old API as Django would usually move it: a 301 RedirectView."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from shop.urls import urlpatterns as shop_urlpatterns

urlpatterns = [
    *shop_urlpatterns,
    path(
        "api/v1/<path:rest>",
        RedirectView.as_view(url="/api/v2/%(rest)s", permanent=True, query_string=True),
    ),
]
