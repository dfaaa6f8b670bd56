"""The hostile corpus (``tests/hostile.py``) through every adapter, in-process and on the wire.

In-process, each raw request is turned into an ASGI scope the way uvicorn builds one and into a
WSGI environ the way gunicorn builds one, with nothing cleaned up: that shows what the
middleware does with bytes a lenient server lets through. On the wire, the same bytes go over a
socket to a real uvicorn and a real gunicorn on 127.0.0.1: that shows what a client actually
gets, server and middleware together. Every answer is judged by :func:`tests.hostile.violations`.
"""

from __future__ import annotations

import asyncio
import io
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

import pytest

from redirectware import RedirectMiddleware, RuleSet, WSGIRedirectMiddleware
from redirectware.asgi import Message
from tests.conftest import echo_asgi_app, echo_wsgi_app
from tests.django_site import configure
from tests.hostile import DOCUMENTS, HOSTILE, TRUSTED, Hostile, violations
from tests.hostile_apps import DOC_HEADER, server_documents
from tests.servers import GUNICORN, UVICORN, serve

configure()

from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test import override_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PARAMS = [pytest.param(case, id=case.id) for case in HOSTILE]
ASGI = {name: RedirectMiddleware(echo_asgi_app, rules=doc) for name, doc in DOCUMENTS.items()}
WSGI = {name: WSGIRedirectMiddleware(echo_wsgi_app, rules=doc) for name, doc in DOCUMENTS.items()}
RULESETS = {name: RuleSet.from_dict(doc) for name, doc in DOCUMENTS.items()}


def test_corpus_is_big_enough_and_ids_are_unique() -> None:
    assert len(HOSTILE) >= 80
    assert len({case.id for case in HOSTILE}) == len(HOSTILE)


def _split_target(case: Hostile) -> tuple[str, str]:
    raw_path, _, query = case.target.partition("?")
    return raw_path, query


def _judge(case: Hostile, doc: str, status: int, headers: list[tuple[str, str]]) -> None:
    problems = violations(DOCUMENTS[doc], case.method, case.host_headers, status, headers)
    assert not problems, f"{doc}: {case.method} {case.target!r}: {problems}"


# --- the engine ------------------------------------------------------------------------


@pytest.mark.parametrize("case", PARAMS)
def test_engine(case: Hostile) -> None:
    path, query = _split_target(case)
    hosts = case.host_headers
    for doc, ruleset in RULESETS.items():
        decision = ruleset.resolve(
            case.method,
            case.scheme,
            ",".join(hosts) if hosts else None,
            path,
            query,
            case.header_map(),
            case.client,
        )
        _judge(case, doc, decision.status or 200, list(decision.headers))


# --- ASGI, with the scope uvicorn would build -------------------------------------------


def asgi_scope(case: Hostile) -> dict[str, Any]:
    """The scope uvicorn (h11) builds for this request line and these headers."""
    raw_path, _, query = case.target.encode("latin-1").partition(b"?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": (case.client, 50000),
        "scheme": case.scheme,
        "method": case.method,
        "root_path": "",
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "query_string": query,
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in case.headers
        ],
    }


async def call_asgi(
    app: Any, scope: dict[str, Any], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run one request through an ASGI app; the status, headers and body it sent."""
    sent: list[Message] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        if messages:
            return messages.pop()
        # The client stays connected until the answer is sent: a disconnect now would make
        # Django's handler drop the response, as it should for a client that left.
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start.get("headers", [])]
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, body_out


@pytest.mark.parametrize("case", PARAMS)
def test_asgi(case: Hostile) -> None:
    for doc, app in ASGI.items():
        status, headers, _ = asyncio.run(call_asgi(app, asgi_scope(case), case.body))
        _judge(case, doc, status, headers)


# --- WSGI, with the environ gunicorn would build ------------------------------------------


def wsgi_environ(case: Hostile) -> dict[str, Any]:
    """The environ gunicorn builds for this request line and these headers."""
    path, _, query = case.target.partition("?")
    if "://" in path:  # absolute-form target: PATH_INFO is its path
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": case.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "RAW_URI": case.target,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": case.client,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": case.scheme,
        "wsgi.input": io.BytesIO(case.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if case.body:
        environ["CONTENT_LENGTH"] = str(len(case.body))
    for name, value in case.headers:
        key = "HTTP_" + name.upper().replace("-", "_")
        # gunicorn joins a repeated header with ","; so does the engine's Host check.
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def call_wsgi(app: Any, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run one request through a WSGI app; the status, headers and body it gave."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    return int(status.split(" ", 1)[0]), list(headers), body


@pytest.mark.parametrize("case", PARAMS)
def test_wsgi(case: Hostile) -> None:
    for doc, app in WSGI.items():
        status, headers, _ = call_wsgi(app, wsgi_environ(case))
        _judge(case, doc, status, headers)


# --- Django, its own WSGI and ASGI handlers ------------------------------------------------


def _django_handlers() -> tuple[dict[str, WSGIHandler], dict[str, ASGIHandler]]:
    # A handler builds its middleware chain, and so reads REDIRECTWARE, when it is made.
    wsgi_handlers, asgi_handlers = {}, {}
    for name, document in DOCUMENTS.items():
        with override_settings(REDIRECTWARE=document):
            wsgi_handlers[name] = WSGIHandler()
            asgi_handlers[name] = ASGIHandler()
    return wsgi_handlers, asgi_handlers


DJANGO_WSGI, DJANGO_ASGI = _django_handlers()


@pytest.mark.parametrize("case", PARAMS)
def test_django_wsgi(case: Hostile) -> None:
    for doc, handler in DJANGO_WSGI.items():
        status, headers, _ = call_wsgi(handler, wsgi_environ(case))
        _judge(case, doc, status, headers)


@pytest.mark.parametrize("case", PARAMS)
def test_django_asgi(case: Hostile) -> None:
    for doc, handler in DJANGO_ASGI.items():
        status, headers, _ = asyncio.run(call_asgi(handler, asgi_scope(case), case.body))
        _judge(case, doc, status, headers)


# --- real servers, raw bytes ---------------------------------------------------------------


def _server(command: list[str]) -> Iterator[int]:
    env = {"PYTHONPATH": str(ROOT)}
    with serve(command, cwd=ROOT, env=env, ready_path="/healthz") as server:
        yield server.port


@pytest.fixture(scope="module")
def uvicorn_port() -> Iterator[int]:
    """A real uvicorn serving :func:`tests.hostile_apps.asgi_app` on 127.0.0.1."""
    yield from _server([*UVICORN, "--fd", "{fd}", "--log-level", "warning",
                        "--no-access-log", "tests.hostile_apps:asgi_app"])  # fmt: skip


@pytest.fixture(scope="module")
def gunicorn_port() -> Iterator[int]:
    """A real gunicorn (sync worker) serving :func:`tests.hostile_apps.wsgi_app` on 127.0.0.1."""
    yield from _server([*GUNICORN, "--bind", "fd://{fd}", "--workers", "1",
                        "--log-level", "warning", "tests.hostile_apps:wsgi_app"])  # fmt: skip


def exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        chunks = []
        while True:
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def parse_response(raw: bytes) -> tuple[int, list[tuple[str, str]]]:
    """Status and headers of a raw HTTP/1.1 response; a stray CR/LF/NUL fails the test."""
    head, sep, _ = raw.partition(b"\r\n\r\n")
    assert sep, f"no complete response head: {raw[:200]!r}"
    lines = head.split(b"\r\n")
    assert lines[0].startswith(b"HTTP/1.1 "), lines[0]
    status = int(lines[0].split(b" ")[1])
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        assert not any(c in line for c in b"\r\n\0"), f"split or NUL in header line {line!r}"
        name, colon, value = line.decode("latin-1").partition(":")
        assert colon, f"header line without a colon (a split header?): {line!r}"
        headers.append((name, value.strip()))
    return status, headers


def _judge_wire(port: int, case: Hostile) -> None:
    for doc in DOCUMENTS:
        name = doc + "+lo" if case.client == TRUSTED else doc
        raw = exchange(port, case.raw_bytes(extra=[(DOC_HEADER, name)]))
        status, headers = parse_response(raw)
        trusted = case.forwarded_host() if case.client == TRUSTED else None
        problems = violations(
            server_documents()[name], case.method, case.host_headers, status, headers, trusted
        )
        assert not problems, f"{name}: {case.method} {case.target!r}: {problems}"


@pytest.mark.servers
@pytest.mark.parametrize("case", PARAMS)
def test_uvicorn(uvicorn_port: int, case: Hostile) -> None:
    _judge_wire(uvicorn_port, case)


@pytest.mark.servers
@pytest.mark.parametrize("case", PARAMS)
def test_gunicorn(gunicorn_port: int, case: Hostile) -> None:
    _judge_wire(gunicorn_port, case)
