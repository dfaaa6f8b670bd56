"""The shop's views. The API and form views echo what reached them, so that you can see
(with curl, or in the tests) which method and which body arrived after a redirect."""

from __future__ import annotations

import base64
import hashlib

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt


def home(request: HttpRequest) -> HttpResponse:
    """The front page."""
    return HttpResponse("<!doctype html><title>Shop</title><h1>The example shop</h1>")


def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: never redirected, never in maintenance."""
    return HttpResponse("ok\n", content_type="text/plain")


def maintenance(request: HttpRequest) -> HttpResponse:
    """Where the maintenance rule sends everyone."""
    return HttpResponse("<!doctype html><title>Maintenance</title><p>Back soon.", status=503)


def _echo(request: HttpRequest) -> JsonResponse:
    body = request.body
    return JsonResponse(
        {
            "method": request.method,
            "path": request.path,
            "query": request.META.get("QUERY_STRING", ""),
            "content_type": request.content_type,
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "body_base64": base64.b64encode(body).decode("ascii"),
        }
    )


@csrf_exempt  # an API for non-browser clients; a real one would authenticate instead
def api_v2(request: HttpRequest, rest: str) -> JsonResponse:
    """The v2 API (any method): echoes the request it got."""
    return _echo(request)


@csrf_exempt  # the example keeps forms token-free so that curl can post to them
def contact(request: HttpRequest) -> JsonResponse:
    """Where the contact form posts (any method): echoes the request it got."""
    return _echo(request)


def product(request: HttpRequest, slug: str) -> HttpResponse:
    """A product page."""
    return HttpResponse(f"<!doctype html><title>{slug}</title><h1>{slug}</h1>")
