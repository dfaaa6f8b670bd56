"""The Django URLconf of the matrix (tests/matrix_cells.py): every path answers with the
status the request's ``X-App-Status`` asks for, so a cell can play an app that 404s."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path


def answer(request: HttpRequest) -> HttpResponse:
    """``app`` with the status asked for (200 when none is)."""
    return HttpResponse(b"app", status=int(request.headers.get("X-App-Status", "200")))


urlpatterns: list[URLPattern] = [re_path(r"", answer)]
