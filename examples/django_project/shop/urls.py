"""The shop's pages. The old URLs are not here: redirects.yaml sends them to these."""

from __future__ import annotations

from django.urls import path

from shop import views

urlpatterns = [
    path("", views.home),
    path("healthz", views.healthz),
    path("maintenance", views.maintenance),
    path("api/v2/<path:rest>", views.api_v2),
    path("forms/contact/", views.contact),
    path("products/<slug:slug>/", views.product),
]
