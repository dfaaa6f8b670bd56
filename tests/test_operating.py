"""Report-only mode and logging, through the ASGI and the WSGI middleware, read with caplog."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from werkzeug.test import Client

from redirectware import RedirectMiddleware, RuleError, WSGIRedirectMiddleware
from redirectware.reloading import RuleHolder
from tests.cases import APP_BODY
from tests.conftest import echo_asgi_app, echo_wsgi_app

Send = Callable[[dict[str, Any], str, str], tuple[int, dict[str, str], bytes]]


def _asgi(document: dict[str, Any], method: str, url: str) -> tuple[int, dict[str, str], bytes]:
    app = RedirectMiddleware(echo_asgi_app, rules=document)

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.request(method, url)

    response = asyncio.run(go())
    return response.status_code, dict(response.headers), response.content


def _wsgi(document: dict[str, Any], method: str, url: str) -> tuple[int, dict[str, str], bytes]:
    app = WSGIRedirectMiddleware(echo_wsgi_app, rules=document)
    parts = urlsplit(url)
    response = Client(app).open(
        parts.path,
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    headers = {name.lower(): value for name, value in response.headers.items()}
    return response.status_code, headers, response.get_data()


ADAPTERS = [pytest.param(_asgi, id="asgi"), pytest.param(_wsgi, id="wsgi")]

OLD = {"name": "old", "from": "/old", "to": "/new", "permanent": True}
OTHER = {"name": "other", "from": "/other", "to": "/elsewhere"}


def _records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "redirectware"]


@pytest.mark.parametrize("send", ADAPTERS)
def test_report_only_in_settings_logs_and_passes_through(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="redirectware")
    document = {"settings": {"report_only": True}, "rules": [OLD]}
    status, headers, body = send(document, "POST", "http://example.com/old?x=1")
    assert (status, body) == (200, APP_BODY)
    assert "location" not in headers
    assert _records(caplog) == [
        (
            logging.INFO,
            "report-only: POST /old would get 308 from rules[0] 'old', "
            "Location http://example.com/new?x=1",
        )
    ]


@pytest.mark.parametrize("send", ADAPTERS)
def test_report_only_on_one_rule(send: Send, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="redirectware")
    document = {"rules": [{**OLD, "report_only": True}, OTHER]}
    status, _, body = send(document, "GET", "http://example.com/old")
    assert (status, body) == (200, APP_BODY)
    status, headers, _ = send(document, "GET", "http://example.com/other")
    assert (status, headers["location"]) == (302, "http://example.com/elsewhere")
    assert _records(caplog) == [
        (
            logging.INFO,
            "report-only: GET /old would get 301 from rules[0] 'old', "
            "Location http://example.com/new",
        ),
        (logging.DEBUG, "GET /other -> 302 http://example.com/elsewhere (rules[1] 'other')"),
    ]


@pytest.mark.parametrize("send", ADAPTERS)
def test_a_chain_stops_before_a_report_only_rule_which_logs_the_next_request(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    # /old -> /new is live; /new -> /newest is on trial. The live hop is sent alone (the
    # trial rule must not act), and the client's next request, for /new, is the one the
    # trial rule reports on.
    caplog.set_level(logging.DEBUG, logger="redirectware")
    trial = {"name": "trial", "from": "/new", "to": "/newest", "report_only": True}
    document = {"rules": [OLD, trial]}
    status, headers, _ = send(document, "GET", "http://example.com/old")
    assert (status, headers["location"]) == (301, "http://example.com/new")
    status, _, body = send(document, "GET", "http://example.com/new")
    assert (status, body) == (200, APP_BODY)
    assert _records(caplog) == [
        (logging.DEBUG, "GET /old -> 301 http://example.com/new (rules[0] 'old')"),
        (
            logging.INFO,
            "report-only: GET /new would get 302 from rules[1] 'trial', "
            "Location http://example.com/newest",
        ),
    ]


@pytest.mark.parametrize("send", ADAPTERS)
def test_one_debug_line_per_redirect_and_none_per_pass_through(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="redirectware")
    document = {"rules": [OLD]}
    for _ in range(3):
        assert send(document, "GET", "http://example.com/untouched")[0] == 200
    assert _records(caplog) == []
    assert send(document, "HEAD", "http://example.com/old")[0] == 301
    assert _records(caplog) == [
        (logging.DEBUG, "HEAD /old -> 301 http://example.com/new (rules[0] 'old')")
    ]


@pytest.mark.parametrize("send", ADAPTERS)
def test_a_refused_self_redirect_is_logged_at_error(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="redirectware")
    # An absolute target naming the request's own URL: it would send the client round in circles.
    rule = {"name": "self", "scheme": "http", "from": "/here", "to": "http://example.com/here"}
    document = {"rules": [rule]}
    status, _, body = send(document, "GET", "http://example.com/here")
    assert (status, body) == (200, APP_BODY)
    assert _records(caplog) == [
        (
            logging.ERROR,
            "GET /here: rules[0] 'self': refused a redirect to the request's own URL; "
            "the request passes through",
        )
    ]


def test_a_load_error_on_reload_is_logged_at_error_and_the_old_rules_serve(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text("rules:\n  - {name: old, from: /old, to: /new}\n", encoding="utf-8")
    holder = RuleHolder(str(path), reload=True, reload_interval=0)
    first = holder.current()
    path.write_text("rules:\n  - {name: old, from: /old, to: /new}\n  - {to: 1}\n", "utf-8")
    caplog.set_level(logging.DEBUG, logger="redirectware")
    assert holder.current() is first  # sees the edit, waits for the file to hold still
    assert holder.current() is first  # finds it unchanged: compiles it
    assert holder.wait_idle(15)  # the edit is compiled off the request's thread
    assert holder.current() is first
    [(level, message)] = _records(caplog)
    assert level == logging.ERROR
    assert message.startswith(f"rule file not reloaded, previous rules still serving: {path}:3: ")


def test_a_load_error_at_start_up_is_raised_not_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="redirectware")
    with pytest.raises(RuleError, match=r"rules\[0\]: no action"):
        WSGIRedirectMiddleware(echo_wsgi_app, rules={"rules": [{"from": "/a"}]})
    assert _records(caplog) == []
