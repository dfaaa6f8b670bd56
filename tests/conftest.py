"""Shared fixtures: the apps that stand behind the middleware in tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from werkzeug.test import Client, TestResponse

from redirectware.asgi import Receive, Scope, Send
from tests.cases import APP_BODY, Case


async def echo_asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers 200 with ``app`` and, in headers, what it received (method, path, body)."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    echo = {
        "method": scope["method"],
        "path": scope.get("raw_path", b"").decode("latin-1"),
        "query": scope["query_string"].decode("latin-1"),
        "body": body.decode("latin-1"),
    }
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain"), (b"x-echo", json.dumps(echo).encode())],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": APP_BODY})


def echo_wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The WSGI twin of :func:`echo_asgi_app`."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    echo = {
        "method": environ["REQUEST_METHOD"],
        "path": environ.get("RAW_URI", ""),
        "query": environ.get("QUERY_STRING", ""),
        "body": body.decode("latin-1"),
    }
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Echo", json.dumps(echo))])
    return [APP_BODY]


def open_case(client: Client, case: Case, url: str | None = None) -> TestResponse:
    """Send a case's request through a Werkzeug (or Flask) test client, from 127.0.0.1.

    The client must be built with ``use_cookies=False``: otherwise it replaces a Cookie
    header with its own (empty) jar. ``url`` sends the same request elsewhere (to follow a
    redirect); an absolute-form ``case.target`` is what a server would put in ``RAW_URI``.
    """
    parts = urlsplit(url or case.url)
    environ = {"REMOTE_ADDR": "127.0.0.1"}
    if case.target is not None and url is None:
        environ["RAW_URI"] = environ["REQUEST_URI"] = case.target
    return client.open(
        parts.path,
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=case.method,
        headers=list(case.headers),
        data=case.body,
        environ_base=environ,
    )
