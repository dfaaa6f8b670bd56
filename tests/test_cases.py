"""The shared behaviour table through the engine, the ASGI middleware and the WSGI middleware."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx
import pytest
from werkzeug.test import Client

from redirectware import RedirectMiddleware, RuleSet, WSGIRedirectMiddleware
from tests.cases import APP_BODY, CASES, Case
from tests.conftest import echo_asgi_app, echo_wsgi_app, open_case

PARAMS = [pytest.param(case, id=case.id) for case in CASES]


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
    app = RedirectMiddleware(echo_asgi_app, rules=case.document)

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport) as client:
            url = httpx.URL(case.url)
            # Twice through one middleware: the second answer may be a remembered one.
            return [
                await client.request(case.method, url, headers=dict(case.headers)) for _ in range(2)
            ]

    for response in asyncio.run(go()):
        _check(case, response.status_code, dict(response.headers), response.content)


@pytest.mark.parametrize("case", PARAMS)
def test_wsgi(case: Case) -> None:
    app = WSGIRedirectMiddleware(echo_wsgi_app, rules=case.document)
    client = Client(app, use_cookies=False)
    for _ in range(2):  # the second answer may be a remembered one
        response = open_case(client, case)
        headers = {name.lower(): value for name, value in response.headers.items()}
        _check(case, response.status_code, headers, response.get_data())
