"""The shared behaviour table through the engine, the ASGI middleware and the WSGI middleware."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from werkzeug.test import Client

from redirectware import RedirectMiddleware, RuleSet, WSGIRedirectMiddleware
from redirectware.asgi import Receive, Scope, Send
from tests.cases import APP_BODY, CASES, Case
from tests.conftest import echo_asgi_app, echo_wsgi_app, open_case

PARAMS = [pytest.param(case, id=case.id) for case in CASES]
#: The cases whose request line is absolute-form: also run through every way a server may
#: hand the target over (raw_path or not; RAW_URI, REQUEST_URI or only PATH_INFO).
TARGET_PARAMS = [pytest.param(case, id=case.id) for case in CASES if case.target is not None]


def check_followed(case: Case, echo: str | None) -> None:
    """The request sent again to the Location reached the app with its method and body."""
    assert case.body is not None and case.location is not None
    assert echo is not None, "the followed request did not reach the app"
    seen = json.loads(echo)
    assert seen["method"] == case.method
    assert seen["body"].encode("latin-1") == case.body
    assert seen["path"].split("?", 1)[0] == urlsplit(case.location).path


def as_sent(app: Any, case: Case) -> Any:
    """``app`` behind an ASGI server that hands the case's absolute-form target over whole in
    ``raw_path``, as uvicorn's h11 server does."""

    async def server(scope: Scope, receive: Receive, send: Send) -> None:
        if case.target is not None and scope["type"] == "http":
            scope = {**scope, "raw_path": case.target.split("?", 1)[0].encode("latin-1")}
        await app(scope, receive, send)

    return server


def _split(case: Case) -> tuple[str, str, str, str, dict[str, str]]:
    url = urlsplit(case.url)
    headers = {name.lower(): value for name, value in case.headers}
    host = headers.pop("host", url.netloc)
    return url.scheme, host, url.path or "/", url.query, headers


def _check(case: Case, status: int, headers: dict[str, str], body: bytes) -> None:
    if case.status is None:
        assert status == 200, f"expected the app to answer, got {status} {headers}"
        assert body == APP_BODY
        assert "location" not in headers
    else:
        assert status == case.status
        assert headers.get("location") == case.location
        if case.method == "HEAD":
            assert body == b""
    for name, value in case.expect_headers:
        assert headers.get(name.lower()) == value, name


@pytest.mark.parametrize("case", PARAMS)
def test_engine(case: Case) -> None:
    scheme, host, path, query, headers = _split(case)
    decision = RuleSet.from_dict(case.document).resolve(
        case.method, scheme, host, path, query, headers, "127.0.0.1"
    )
    answer = {name.lower(): value for name, value in decision.headers}
    if case.status is None:
        assert decision.passes, decision
        assert "location" not in answer
        for name, value in case.expect_headers:
            assert answer.get(name.lower()) == value
    else:
        _check(case, decision.status, answer, decision.body)


@pytest.mark.parametrize("case", PARAMS)
def test_asgi(case: Case) -> None:
    app = as_sent(RedirectMiddleware(echo_asgi_app, rules=case.document), case)
    for response in asyncio.run(_asgi_requests(app, case)):
        _check(case, response.status_code, dict(response.headers), response.content)


async def _asgi_requests(app: Any, case: Case) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport) as client:
        url = httpx.URL(case.url)
        # Twice through one middleware: the second answer may be a remembered one.
        sent = [
            await client.request(case.method, url, headers=dict(case.headers), content=case.body)
            for _ in range(2)
        ]
        if case.body is not None and sent[0].status_code in (307, 308):
            location = sent[0].headers["location"]
            followed = await client.request(
                case.method, location, headers=dict(case.headers), content=case.body
            )
            check_followed(case, followed.headers.get("x-echo"))
        return sent


@pytest.mark.parametrize("case", TARGET_PARAMS)
def test_asgi_without_raw_path(case: Case) -> None:
    """A server that gives only the decoded ``path`` (raw_path is optional in ASGI)."""
    inner = RedirectMiddleware(echo_asgi_app, rules=case.document)

    async def server(scope: Scope, receive: Receive, send: Send) -> None:
        scope = {key: value for key, value in scope.items() if key != "raw_path"}
        scope["path"] = unquote(urlsplit(case.url).path)
        await inner(scope, receive, send)

    for response in asyncio.run(_asgi_requests(server, case)):
        _check(case, response.status_code, dict(response.headers), response.content)


@pytest.mark.parametrize("case", PARAMS)
def test_wsgi(case: Case) -> None:
    app = WSGIRedirectMiddleware(echo_wsgi_app, rules=case.document)
    client = Client(app, use_cookies=False)
    for _ in range(2):  # the second answer may be a remembered one
        response = open_case(client, case)
        headers = {name.lower(): value for name, value in response.headers.items()}
        _check(case, response.status_code, headers, response.get_data())
    if case.body is not None and case.location is not None:
        followed = open_case(client, case, url=case.location)
        check_followed(case, followed.headers.get("X-Echo"))


@pytest.mark.parametrize("given", ["RAW_URI", "REQUEST_URI", "PATH_INFO"])
@pytest.mark.parametrize("case", TARGET_PARAMS)
def test_wsgi_target_forms(case: Case, given: str) -> None:
    """The same answer whichever of the environ's keys a WSGI server fills in."""
    assert case.target is not None
    app = WSGIRedirectMiddleware(echo_wsgi_app, rules=case.document)

    def server(environ: dict[str, Any], start_response: Any) -> Any:
        for key in ("RAW_URI", "REQUEST_URI"):
            environ.pop(key, None)
        if given != "PATH_INFO":
            environ[given] = case.target
        return app(environ, start_response)

    response = open_case(Client(server, use_cookies=False), case)
    headers = {name.lower(): value for name, value in response.headers.items()}
    _check(case, response.status_code, headers, response.get_data())
