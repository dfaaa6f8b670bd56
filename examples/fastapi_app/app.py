"""The FastAPI example: an orders API that moved from /api/v1 to /api/v2, behind redirectware.

Run it with ``.venv/bin/python examples/fastapi_app/serve.py`` (see README.md here). The
rules are in ``redirects.yaml`` next to this file; every API endpoint answers with what it
received, so you can see that a POST sent to /api/v1 arrives at /api/v2 with its body.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from redirectware import RedirectMiddleware

HERE = Path(__file__).resolve().parent

app = FastAPI(title="redirectware FastAPI example")

PAGES = {
    "/about": "About us",
    "/products/widget": "The widget",
    "/blog/hello-world": "Hello, world",
}

INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>redirectware example</title></head>
<body>
<h1>redirectware FastAPI example</h1>
<p>This form posts to <code>/api/v1/orders</code>, which moved. redirectware answers
<b>308</b>, and your browser re-sends the same POST, fields and all, to
<code>/api/v2/orders</code>.</p>
<form method="post" action="/api/v1/orders">
  <label>Item <input name="item" value="widget"></label>
  <label>Quantity <input name="qty" value="3"></label>
  <button>Order</button>
</form>
<p>Old URLs: <a href="/about-us.html">/about-us.html</a>,
<a href="/products.php?id=1">/products.php?id=1</a>.</p>
</body></html>
"""


async def received(request: Request) -> dict[str, Any]:
    """What the endpoint got: method, path, headers that matter, and the body byte for byte."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    seen: dict[str, Any] = {
        "endpoint": "v2",
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "content_type": content_type,
        "body": body.decode("utf-8", "replace"),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    if content_type.startswith("application/x-www-form-urlencoded"):
        seen["form"] = dict(parse_qsl(body.decode("latin-1")))
    return seen


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    """A page with a form whose action has moved."""
    return INDEX


@app.get("/healthz", response_class=PlainTextResponse)
async def healthz() -> str:
    """Load-balancer probe: exempt from the https and maintenance rules."""
    return "ok\n"


@app.api_route("/api/v2/orders", methods=["GET", "POST"])
async def orders(request: Request) -> JSONResponse:
    """List orders (GET) or place one (POST): answers with what it received."""
    status = 201 if request.method == "POST" else 200
    return JSONResponse(await received(request), status_code=status)


@app.api_route("/api/v2/orders/{order_id}", methods=["GET", "PUT", "PATCH", "DELETE"])
async def order(order_id: int, request: Request) -> JSONResponse:
    """Read, replace, change or delete one order: answers with what it received."""
    return JSONResponse({**await received(request), "order_id": order_id})


@app.get("/{page:path}", response_class=HTMLResponse)
async def page(page: str) -> HTMLResponse:
    """The pages the legacy URLs now point at."""
    title = PAGES.get("/" + page)
    if title is None:
        return HTMLResponse("<h1>Not found</h1>", status_code=404)
    return HTMLResponse(f"<!doctype html><title>{title}</title><h1>{title}</h1>")


# Added last, so it is the outermost middleware: it answers before anything else runs.
# reload=True: edit redirects.yaml and the next request (within a second) uses it.
app.add_middleware(RedirectMiddleware, rules=HERE / "redirects.yaml", reload=True)
