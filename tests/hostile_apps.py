"""The apps the real servers run for the hostile corpus: one middleware per document.

A raw request names the document it is meant for in an ``X-Hostile-Doc`` header; the app hands
it to the middleware built from that document. ``NAME+lo`` is the same document with the
loopback address trusted as a proxy, so that what a trusted proxy passes on can be tried over
a real socket (where the peer is always 127.0.0.1).

Run by ``uvicorn tests.hostile_apps:asgi_app`` and ``gunicorn tests.hostile_apps:wsgi_app``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from redirectware import RedirectMiddleware, WSGIRedirectMiddleware
from redirectware.asgi import Receive, Scope, Send
from tests.conftest import echo_asgi_app, echo_wsgi_app
from tests.hostile import DOCUMENTS

DOC_HEADER = "X-Hostile-Doc"


def server_documents() -> dict[str, dict[str, Any]]:
    """Every document, and its ``+lo`` twin that trusts 127.0.0.1 as a proxy."""
    out: dict[str, dict[str, Any]] = {}
    for name, document in DOCUMENTS.items():
        out[name] = document
        twin = copy.deepcopy(document)
        twin.setdefault("settings", {})["trusted_proxies"] = ["127.0.0.1"]
        out[name + "+lo"] = twin
    return out


_ASGI = {name: RedirectMiddleware(echo_asgi_app, rules=d) for name, d in server_documents().items()}
_WSGI = {
    name: WSGIRedirectMiddleware(echo_wsgi_app, rules=d) for name, d in server_documents().items()
}
_KEY = DOC_HEADER.lower().encode()


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Dispatch to the ASGI middleware of the document the request names."""
    if scope["type"] != "http":
        await echo_asgi_app(scope, receive, send)
        return
    name = next((v.decode() for k, v in scope["headers"] if k == _KEY), "guarded")
    await _ASGI[name](scope, receive, send)


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Dispatch to the WSGI middleware of the document the request names."""
    name = environ.get("HTTP_X_HOSTILE_DOC", "guarded")
    return _WSGI[name](environ, start_response)
