"""The apps the real servers run for ``tests/test_draining.py``.

``/old/...`` moved (permanently) to ``/new/...``; the app behind the middleware answers
``/new/...`` with the number of body bytes it received, so a test can tell that a body sent
after a drained one on the same connection arrived whole. ``asgi_app`` and ``wsgi_app`` use
the default drain limit; ``asgi_big``, ``wsgi_big`` and ``flask_big`` a 16 MiB one, enough
for the issue's 8 MB upload.

Run by ``uvicorn tests.draining_apps:asgi_app``, ``gunicorn tests.draining_apps:wsgi_app``
and ``python -m tests.servers --fd N tests.draining_apps:wsgi_app`` (waitress).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, request

from redirectware import RedirectMiddleware, WSGIRedirectMiddleware
from redirectware.asgi import Receive, Scope, Send
from redirectware.flask import Redirectware

DOCUMENT: dict[str, Any] = {
    "version": 1,
    "rules": [
        {"name": "moved", "from": "/old/{rest:path}", "to": "/new/{rest}", "permanent": True}
    ],
}
#: The raised limit of the ``*_big`` apps.
BIG_LIMIT = 16 * 1024 * 1024


async def counting_asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers 200 with the number of body bytes received."""
    if scope["type"] != "http":
        return
    received = 0
    while True:
        message = await receive()
        received += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})  # fmt: skip
    await send({"type": "http.response.body", "body": str(received).encode()})


def counting_wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """The WSGI twin of :func:`counting_asgi_app`."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    body = stream.read(int(length)) if length else stream.read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(len(body)).encode()]


asgi_app = RedirectMiddleware(counting_asgi_app, rules=DOCUMENT)
asgi_big = RedirectMiddleware(counting_asgi_app, rules=DOCUMENT, drain_limit=BIG_LIMIT)
wsgi_app = WSGIRedirectMiddleware(counting_wsgi_app, rules=DOCUMENT)
wsgi_big = WSGIRedirectMiddleware(counting_wsgi_app, rules=DOCUMENT, drain_limit=BIG_LIMIT)

flask_big = Flask(__name__)
flask_big.config["REDIRECTWARE"] = DOCUMENT
flask_big.config["REDIRECTWARE_DRAIN_LIMIT"] = BIG_LIMIT
Redirectware(flask_big)


@flask_big.route("/new/<path:rest>", methods=["GET", "POST"])
def flask_new(rest: str) -> str:
    """The Flask twin of :func:`counting_wsgi_app`."""
    return str(len(request.get_data()))
