"""``app.add_middleware(RedirectMiddleware, ...)`` in real Starlette and FastAPI apps.

The shared table runs through Starlette's ``TestClient`` and through FastAPI under
``httpx.ASGITransport``; then what only a real app shows: bodies re-sent to the moved route,
reloading, lifespan, and the order relative to Starlette's own middleware.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from redirectware import RedirectMiddleware
from tests.cases import APP_BODY, CASES, Case
from tests.test_cases import _check, check_followed

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
PARAMS = [pytest.param(case, id=case.id) for case in CASES]
#: The cases assume requests from 127.0.0.1; TestClient says "testclient" unless told.
CLIENT = ("127.0.0.1", 50000)
API_DOC: dict[str, Any] = {
    "version": 1,
    "rules": [{"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}"}],
}


async def echo(request: Request) -> Response:
    """Answers ``app``, with what arrived (method, path, query, body) in an X-Echo header."""
    body = await request.body()
    seen = {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "body": body.decode("latin-1"),
        "content_type": request.headers.get("content-type"),
    }
    return Response(APP_BODY, media_type="text/plain", headers={"X-Echo": json.dumps(seen)})


def starlette_app(rules: Any, **options: Any) -> Starlette:
    """A Starlette app answering every path, with redirectware added the documented way."""
    app = Starlette(routes=[Route("/{rest:path}", echo, methods=METHODS)])
    app.add_middleware(RedirectMiddleware, rules=rules, **options)
    return app


def fastapi_app(rules: Any, **options: Any) -> FastAPI:
    """The FastAPI twin of :func:`starlette_app`."""
    app = FastAPI()

    @app.api_route("/{rest:path}", methods=METHODS)
    async def everything(request: FastAPIRequest) -> Response:
        return await echo(request)

    app.add_middleware(RedirectMiddleware, rules=rules, **options)
    return app


def _headers(response: httpx.Response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


@pytest.mark.parametrize("case", PARAMS)
def test_starlette_testclient_answers_the_shared_table(case: Case) -> None:
    with TestClient(starlette_app(case.document), client=CLIENT) as client:
        response = client.request(
            case.method,
            case.url,
            headers=dict(case.headers),
            content=case.body,
            follow_redirects=False,
        )
        _check(case, response.status_code, _headers(response), response.content)
        if case.body is not None and case.location is not None:
            followed = client.request(
                case.method, case.location, headers=dict(case.headers), content=case.body
            )
            check_followed(case, followed.headers.get("x-echo"))


@pytest.mark.parametrize("case", PARAMS)
def test_fastapi_asgitransport_answers_the_shared_table(case: Case) -> None:
    app = fastapi_app(case.document)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=CLIENT)
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.request(
                case.method, case.url, headers=dict(case.headers), content=case.body
            )

    response = asyncio.run(go())
    _check(case, response.status_code, _headers(response), response.content)


def test_reload_true_serves_an_edited_file(tmp_path: Path) -> None:
    rule_file = tmp_path / "redirects.yaml"
    rule_file.write_text("version: 1\nrules:\n  - {from: /a, to: /first}\n", encoding="utf-8")
    with TestClient(starlette_app(rule_file, reload=True), client=CLIENT) as client:
        assert client.get("/a", follow_redirects=False).headers["location"].endswith("/first")
        rule_file.write_text(
            "version: 1\nrules:\n  - {from: /a, to: /second-target}\n", encoding="utf-8"
        )
        # The file is looked at once a second at most: ask until the new rule answers.
        deadline = time.monotonic() + 10
        location = "/first"
        while location.endswith("/first") and time.monotonic() < deadline:
            location = client.get("/a", follow_redirects=False).headers["location"]
        assert location == "http://testserver/second-target"
        # An invalid edit keeps the last good rules serving.
        rule_file.write_text("version: 1\nrules:\n  - {from: /a, to: /{nope}}\n", encoding="utf-8")
        assert client.get("/a", follow_redirects=False).headers["location"] == location


def test_reload_needs_a_path() -> None:
    app = starlette_app(API_DOC, reload=True)
    # Starlette builds its middleware on the first request (or lifespan), so the error is there.
    with pytest.raises(ValueError, match="reload=True needs rules given as a file path"):
        TestClient(app).get("/")


def test_lifespan_passes_through() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(RedirectMiddleware, rules=API_DOC)
    with TestClient(app) as client:
        assert events == ["startup"]
        assert client.get("/api/v1/x", follow_redirects=False).status_code == 302
    assert events == ["startup", "shutdown"]


# --- order relative to Starlette's own middleware ---------------------------------------

HTTPS_API: dict[str, Any] = {
    "version": 1,
    "settings": {"allowed_hosts": ["example.com"]},
    "rules": [
        {"name": "https", "https": True, "permanent": True, "except": ["/healthz"]},
        {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}", "permanent": True},
    ],
}


def _with_starlette_middleware(*, redirectware_outermost: bool) -> Starlette:
    app = Starlette(routes=[Route("/{rest:path}", echo, methods=METHODS)])
    if not redirectware_outermost:
        app.add_middleware(RedirectMiddleware, rules=HTTPS_API)
    app.add_middleware(GZipMiddleware, minimum_size=1)  # compress even our tiny answers
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
    app.add_middleware(HTTPSRedirectMiddleware)
    if redirectware_outermost:
        # Added last, so it is the outermost: it sees the request first.
        app.add_middleware(RedirectMiddleware, rules=HTTPS_API)
    return app


def test_outermost_gives_one_permanent_hop_that_keeps_the_post() -> None:
    app = _with_starlette_middleware(redirectware_outermost=True)
    with TestClient(app, base_url="http://example.com", client=CLIENT) as client:
        response = client.post(
            "/api/v1/orders",
            content=b"{}",
            headers={"Accept-Encoding": "gzip"},
            follow_redirects=False,
        )
    assert response.status_code == 308
    assert "content-encoding" not in response.headers  # answered before GZip is reached
    assert response.headers["location"] == "https://example.com/api/v2/orders"


def test_inside_https_redirect_the_client_gets_two_hops() -> None:
    # Why outermost: Starlette's HTTPSRedirectMiddleware answers first with its own 307 to
    # the old path, and only the second request reaches redirectware.
    app = _with_starlette_middleware(redirectware_outermost=False)
    with TestClient(app, base_url="http://example.com", client=CLIENT) as client:
        first = client.post("/api/v1/orders", content=b"{}", follow_redirects=False)
        assert (first.status_code, first.headers["location"]) == (
            307,
            "https://example.com/api/v1/orders",
        )
        second = client.post(first.headers["location"], content=b"{}", follow_redirects=False)
    assert (second.status_code, second.headers["location"]) == (
        308,
        "https://example.com/api/v2/orders",
    )


def test_outermost_redirectware_refuses_a_foreign_host_before_trustedhost() -> None:
    app = _with_starlette_middleware(redirectware_outermost=True)
    with TestClient(app, base_url="http://evil.com", client=CLIENT) as client:
        response = client.get("/x", follow_redirects=False)
    # redirectware's own allowed_hosts: a redirect is never built from a foreign Host.
    assert response.status_code == 400
    assert "location" not in response.headers


def test_requests_redirectware_passes_still_meet_trustedhost_and_gzip() -> None:
    app = _with_starlette_middleware(redirectware_outermost=True)
    with TestClient(app, base_url="https://evil.com", client=CLIENT) as client:
        assert client.get("/x").status_code == 400  # TrustedHostMiddleware's answer
    with TestClient(app, base_url="https://example.com", client=CLIENT) as client:
        response = client.get("/x", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == APP_BODY


def test_https_redirect_middleware_defeats_the_https_exemption() -> None:
    # Why the https rule should replace HTTPSRedirectMiddleware, not sit beside it: the rule
    # lets /healthz through on plain http, and Starlette's middleware then redirects it anyway.
    app = _with_starlette_middleware(redirectware_outermost=True)
    with TestClient(app, base_url="http://example.com", client=CLIENT) as client:
        response = client.get("/healthz", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        307,
        "https://example.com/healthz",
    )


ORIGIN = "http://app.example.net"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


def _with_cors(*, cors_outermost: bool) -> Starlette:
    app = Starlette(routes=[Route("/{rest:path}", echo, methods=METHODS)])
    if cors_outermost:
        app.add_middleware(RedirectMiddleware, rules=API_DOC)
    app.add_middleware(
        CORSMiddleware, allow_origins=[ORIGIN], allow_methods=["*"], allow_headers=["*"]
    )
    if not cors_outermost:
        app.add_middleware(RedirectMiddleware, rules=API_DOC)
    return app


def test_cors_outside_redirectware_answers_preflights_and_labels_the_redirect() -> None:
    with TestClient(_with_cors(cors_outermost=True), base_url="http://example.com") as client:
        preflight = client.options("/api/v1/orders", headers=PREFLIGHT, follow_redirects=False)
        post = client.post(
            "/api/v1/orders", json={}, headers={"Origin": ORIGIN}, follow_redirects=False
        )
    # A browser fails a preflight that is not a 2xx, and a cross-origin redirect without
    # Access-Control-Allow-Origin: both need CORSMiddleware to see the request first.
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert post.status_code == 307
    assert post.headers["access-control-allow-origin"] == ORIGIN


def test_cors_inside_redirectware_redirects_the_preflight() -> None:
    with TestClient(_with_cors(cors_outermost=False), base_url="http://example.com") as client:
        preflight = client.options("/api/v1/orders", headers=PREFLIGHT, follow_redirects=False)
    assert preflight.status_code == 307
    assert "access-control-allow-origin" not in preflight.headers
