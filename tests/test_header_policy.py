"""One header policy in every adapter: on a pass-through, the app's own header wins.

An ``https`` rule with ``hsts`` adds ``Strict-Transport-Security`` to answers served over
https. When the app sets its own (a view with a stricter policy, Django's
``SecurityMiddleware``), the client must see exactly one value, the app's: two values of
this header confuse browsers, and the app knows its own pages better than a site-wide rule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from werkzeug.test import Client

from redirectware import RedirectMiddleware, WSGIRedirectMiddleware
from redirectware.asgi import Receive, Scope, Send
from tests.django_site import configure

RULES = {
    "version": 1,
    "rules": [{"https": True, "permanent": True, "hsts": {"max_age": 600}}],
}
APP_OWN = "max-age=31536000; includeSubDomains"


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-type", b"text/plain")]
    if scope["path"] == "/own":
        headers.append((b"strict-transport-security", APP_OWN.encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"app"})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    headers = [("Content-Type", "text/plain")]
    if environ["PATH_INFO"] == "/own":
        headers.append(("Strict-Transport-Security", APP_OWN))
    start_response("200 OK", headers)
    return [b"app"]


def _asgi(path: str) -> list[str]:
    app = RedirectMiddleware(asgi_app, rules=RULES)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get(f"https://example.com{path}")

    return asyncio.run(go()).headers.get_list("strict-transport-security")


def _wsgi(path: str) -> list[str]:
    client = Client(WSGIRedirectMiddleware(wsgi_app, rules=RULES))
    response = client.get(path, base_url="https://example.com")
    return response.headers.getlist("Strict-Transport-Security")


def _django(path: str) -> list[str]:
    configure()
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory, override_settings

    from redirectware.django import RedirectMiddleware as DjangoMiddleware

    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse(b"app")
        if request.path == "/own":
            response["Strict-Transport-Security"] = APP_OWN
        return response

    with override_settings(REDIRECTWARE=RULES, ALLOWED_HOSTS=["example.com"]):
        request = RequestFactory().get(path, secure=True, headers={"Host": "example.com"})
        response = DjangoMiddleware(view)(request)
    return [
        value for name, value in response.items() if name.lower() == "strict-transport-security"
    ]


ADAPTERS = {"asgi": _asgi, "wsgi": _wsgi, "django": _django}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_apps_own_header_wins(adapter: str) -> None:
    assert ADAPTERS[adapter]("/own") == [APP_OWN]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_rules_header_is_added_where_the_app_has_none(adapter: str) -> None:
    assert ADAPTERS[adapter]("/plain") == ["max-age=600"]
