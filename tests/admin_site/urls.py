"""The admin, and a page for everything else that says who answered."""

from __future__ import annotations

import os
from collections.abc import Callable

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.http.response import HttpResponseBase
from django.urls import path, re_path


def worker_pid(
    get_response: Callable[[HttpRequest], HttpResponseBase],
) -> Callable[[HttpRequest], HttpResponseBase]:
    """Middleware: every response says which process served it."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        response["X-Worker-Pid"] = str(os.getpid())
        return response

    return middleware


def page(request: HttpRequest, rest: str = "") -> HttpResponse:
    """What the app answers where no redirect applies."""
    return HttpResponse(f"app: /{rest}", content_type="text/plain")


def missing(request: HttpRequest, rest: str = "") -> HttpResponse:
    """A page that is no more: the app's own 404."""
    return HttpResponseNotFound(f"no /old-docs/{rest}", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    # A live page the 404s below resemble, for redirectware suggest to propose.
    path("docs/getting-started/", page),
    re_path(r"^old-docs/(?P<rest>.*)$", missing),
    re_path(r"^(?P<rest>.*)$", page),
]
