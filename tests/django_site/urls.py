"""Every path goes to the echo view, so "reached the app" is always a 200 with APP_BODY."""

from __future__ import annotations

from django.urls import URLPattern, re_path

from tests.django_site.views import echo

urlpatterns: list[URLPattern] = [re_path(r"", echo)]
