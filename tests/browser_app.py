"""The app a real browser talks to in ``test_browser.py``, served by uvicorn.

``/form/urlencoded`` and ``/form/multipart`` are pages whose form posts to
``/api/v1/orders``, which moved; a script submits the form as soon as the page loads.
``/fetch?api=<origin>`` calls the moved API from another origin with ``fetch()``, a request
the browser sends a CORS preflight for. ``/api/v2/orders`` answers with a page showing what
it received, for the browser to show and the test to read.
"""

from __future__ import annotations

import html
import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from redirectware import RedirectMiddleware

RULES: dict[str, Any] = {
    "version": 1,
    "rules": [
        {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}", "permanent": True}
    ],
}
#: What the form holds; the test expects these fields at the moved endpoint.
FIELDS = {"item": "widget", "qty": "3", "note": "café & more"}

FORM_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>order</title></head><body>
<form method="post" action="/api/v1/orders?src=browser" enctype="{enctype}">
{inputs}
</form>
<script>document.forms[0].submit()</script>
</body></html>
"""

FETCH_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>fetch</title></head><body>
<pre id="received">pending</pre>
<script>
fetch({url}, {{method: "POST", headers: {{"Content-Type": "application/json"}}, body: {body}}})
  .then(r => r.text().then(t => r.status + " " + r.url + " " + t))
  .catch(e => "failed: " + e)
  .then(text => {{ document.getElementById("received").textContent = text; }});
</script>
</body></html>
"""


def _fields(content_type: str, body: bytes) -> dict[str, str]:
    if content_type.startswith("multipart/form-data"):
        # The email parser reads MIME multipart: no third-party form parser needed.
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        fields: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = payload.decode("utf-8")
        return fields
    return dict(parse_qsl(body.decode("utf-8")))


async def form_page(request: Request) -> HTMLResponse:
    """A page that submits a form to the moved URL as soon as it loads."""
    kind = request.path_params["kind"]
    enctype = "multipart/form-data" if kind == "multipart" else "application/x-www-form-urlencoded"
    inputs = "\n".join(
        f'<input name="{name}" value="{html.escape(value)}">' for name, value in FIELDS.items()
    )
    return HTMLResponse(FORM_PAGE.format(enctype=enctype, inputs=inputs))


async def fetch_page(request: Request) -> HTMLResponse:
    """A page that POSTs JSON to the moved URL on another origin (``?api=``)."""
    url = request.query_params["api"] + "/api/v1/orders?src=fetch"
    body = json.dumps(json.dumps({"order": 42}))
    return HTMLResponse(FETCH_PAGE.format(url=json.dumps(url), body=body))


async def orders(request: Request) -> Response:
    """The moved endpoint: shows what it received (as a page for forms, as JSON for fetch)."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    seen: dict[str, Any] = {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "content_type": content_type.split(";")[0],
        "body": body.decode("utf-8", "replace"),
    }
    if content_type.startswith("application/json"):
        return JSONResponse(seen)
    seen["fields"] = _fields(content_type, body)
    shown = html.escape(json.dumps(seen))
    return HTMLResponse(f'<!doctype html><body><pre id="received">{shown}</pre></body>')


def build(*, cors_outermost: bool = True) -> Starlette:
    """The app; ``cors_outermost=False`` puts CORS inside redirectware, to show it failing."""
    built = Starlette(
        routes=[
            Route("/form/{kind}", form_page),
            Route("/fetch", fetch_page),
            Route("/api/v2/orders", orders, methods=["POST"]),
        ]
    )
    if cors_outermost:
        built.add_middleware(RedirectMiddleware, rules=RULES)
    # CORS outside redirectware: it answers the preflight itself, and labels the 308 with
    # Access-Control-Allow-Origin, without which the browser refuses to follow it.
    built.add_middleware(
        CORSMiddleware,
        allow_origin_regex=r"http://127\.0\.0\.1:[0-9]+",
        allow_methods=["POST"],
        allow_headers=["content-type"],
    )
    if not cors_outermost:
        built.add_middleware(RedirectMiddleware, rules=RULES)
    return built


app = build()
app_cors_inside = build(cors_outermost=False)
