"""Faults: app errors pass through untouched, hung-up clients leak nothing, the load script holds.

* An app that raises raises the same exception through the middleware, on every path the
  middleware has (plain pass-through, and the wrapper that adds HSTS to the app's answer),
  under ASGI and WSGI, before and after the response started.
* Behind a real uvicorn, a client that hangs up halfway through its request body, to the app
  or to a redirect (which drains the body first), leaves no open descriptor behind and the
  server keeps answering.
* ``scripts/load_test.py --short`` (load, 8 rule-file edits with reload, a maintenance flag
  flip, hang-ups, on uvicorn and gunicorn) exits 0: no failed request, no mixed answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from redirectware import RedirectMiddleware, WSGIRedirectMiddleware
from redirectware.asgi import Receive, Scope, Send
from tests.hostile import Hostile
from tests.servers import UVICORN, serve
from tests.test_hostile import asgi_scope, call_asgi, call_wsgi, wsgi_environ

ROOT = Path(__file__).resolve().parent.parent

#: https plus HSTS: an https request passes through the wrapper that adds the header.
DOCUMENT = {
    "version": 1,
    "rules": [
        {"name": "https", "https": True, "hsts": {"max_age": 60}, "except": ["/boom/{x:path}"]},
        {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}"},
    ],
}


class AppError(Exception):
    """What the app raises; the test checks that this very object comes out."""


def _raising_asgi(after_start: bool) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if after_start:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        raise AppError(scope["path"])

    return app


def _raising_wsgi(after_start: bool) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if after_start:
            start_response("200 OK", [])
        raise AppError(environ["PATH_INFO"])

    return app


REQUESTS = [
    pytest.param(Hostile("plain", "/boom/x"), id="pass-through"),
    pytest.param(Hostile("hsts", "/page", scheme="https"), id="hsts-wrapper"),
]


@pytest.mark.parametrize("after_start", [False, True], ids=["before-start", "after-start"])
@pytest.mark.parametrize("request_", REQUESTS)
def test_asgi_app_errors_come_out_unchanged(request_: Hostile, after_start: bool) -> None:
    app = RedirectMiddleware(_raising_asgi(after_start), rules=DOCUMENT)
    with pytest.raises(AppError) as raised:
        asyncio.run(call_asgi(app, asgi_scope(request_), b""))
    assert raised.value.args == (request_.target,)
    assert raised.value.__cause__ is None and raised.value.__context__ is None


@pytest.mark.parametrize("after_start", [False, True], ids=["before-start", "after-start"])
@pytest.mark.parametrize("request_", REQUESTS)
def test_wsgi_app_errors_come_out_unchanged(request_: Hostile, after_start: bool) -> None:
    app = WSGIRedirectMiddleware(_raising_wsgi(after_start), rules=DOCUMENT)
    with pytest.raises(AppError) as raised:
        call_wsgi(app, wsgi_environ(request_))
    assert raised.value.args == (request_.target,)
    assert raised.value.__cause__ is None and raised.value.__context__ is None


def test_redirects_still_answer_next_to_a_raising_app() -> None:
    app = RedirectMiddleware(_raising_asgi(False), rules=DOCUMENT)
    status, headers, _ = asyncio.run(call_asgi(app, asgi_scope(Hostile("r", "/api/v1/a")), b""))
    assert status == 302  # http -> https, then v1 -> v2: one temporary redirect
    assert dict(headers)["location"] == "https://example.com/api/v2/a"


# --- hang-ups behind a real server ---------------------------------------------------------


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            f"GET {path} HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n".encode()
        )
        return conn.recv(64)


@pytest.mark.servers
def test_clients_that_hang_up_mid_body_leak_nothing() -> None:
    env = {"PYTHONPATH": str(ROOT)}
    command = [*UVICORN, "--fd", "{fd}", "--log-level", "warning", "--no-access-log",
               "tests.hostile_apps:asgi_app"]  # fmt: skip
    with serve(command, cwd=ROOT, env=env, ready_path="/healthz") as server:
        pid = server.process.pid
        assert _get(server.port, "/healthz").startswith(b"HTTP/1.1 200")
        baseline = _open_fds(pid)
        for n in range(40):
            # Even: to the app, which is waiting for the rest of the body; odd: to a redirect,
            # which reads (drains) the body before answering: one in two of those hang up
            # mid-drain, the others send the rest and get the answer before hanging up.
            path = "/echo" if n % 2 == 0 else "/api/v1/x"
            conn = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            head = f"POST {path} HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100000\r\n\r\n"
            conn.sendall(head.encode() + b"x" * 1000)
            if n % 4 == 1:
                conn.sendall(b"x" * 99000)
                assert conn.recv(12).startswith(b"HTTP/1.1 30")  # answered once drained
            # SO_LINGER 0: close with a reset, like a client that crashed.
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            conn.close()
        deadline = time.monotonic() + 15
        settled = 0
        # The server may still be accepting (and dropping) connections the clients reset
        # while they waited in the listen backlog: only five calm looks in a row count.
        while settled < 5 and time.monotonic() < deadline:
            settled = settled + 1 if _open_fds(pid) <= baseline else 0
            # Waiting on the server process doubles as a pause that ends if it dies.
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.process.wait(timeout=0.1)
        assert _open_fds(pid) <= baseline, server.log()
        assert _get(server.port, "/api/v1/x").startswith(b"HTTP/1.1 30")
        assert "Traceback" not in server.log(), server.log()


# --- the load and fault script, short mode -------------------------------------------------------


@pytest.mark.servers
def test_load_script_short_mode_holds(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "load_test.py"), "--short", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(figures.read_text())
    assert data["ok"] is True
    for server in ("uvicorn", "gunicorn"):
        load, faults = data[f"{server}_load"], data[f"{server}_faults"]
        assert load["errors"] == 0 and load["requests"] == 2000, load
        assert faults["errors"] == 0, faults
        assert faults["old_rules_kept"] == faults["invalid_edits"] + faults["deletions"], faults
        assert faults["reloads_seen"] == faults["valid_versions_written"] - 1, faults
        assert faults["fds_leaked"] == 0 and faults["alive_after_hangups"], faults
