"""The Flask example: an orders API that moved from /api/v1 to /api/v2, behind redirectware.

Run it with ``.venv/bin/python examples/flask_app/serve.py`` (see README.md here). The rules
are in ``redirects.yaml`` next to this file; every API endpoint answers with what it
received, so you can see that a POST sent to /api/v1 arrives at /api/v2 with its body.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, Response, jsonify, request

from redirectware.flask import Redirectware

PAGES = {
    "about": "About us",
    "products/widget": "The widget",
    "blog/hello-world": "Hello, world",
}

INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>redirectware example</title></head>
<body>
<h1>redirectware Flask example</h1>
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

app = Flask(__name__)
# A relative path is read from app.root_path: this folder, wherever the server starts.
app.config["REDIRECTWARE"] = "redirects.yaml"
# Edit redirects.yaml and the next request (within a second) uses it.
app.config["REDIRECTWARE_RELOAD"] = True


def received() -> dict[str, Any]:
    """What the endpoint got: method, path, headers that matter, and the body byte for byte."""
    body = request.get_data(cache=True)
    seen: dict[str, Any] = {
        "endpoint": "v2",
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode("latin-1"),
        "content_type": request.content_type or "",
        "body": body.decode("utf-8", "replace"),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    if request.mimetype == "application/x-www-form-urlencoded":
        seen["form"] = request.form.to_dict()
    return seen


@app.get("/")
def index() -> str:
    """A page with a form whose action has moved."""
    return INDEX


@app.get("/healthz")
def healthz() -> Response:
    """Load-balancer probe: exempt from the https and maintenance rules."""
    return Response("ok\n", content_type="text/plain")


@app.route("/api/v2/orders", methods=["GET", "POST"])
def orders() -> tuple[Response, int]:
    """List orders (GET) or place one (POST): answers with what it received."""
    return jsonify(received()), 201 if request.method == "POST" else 200


@app.route("/api/v2/orders/<int:order_id>", methods=["GET", "PUT", "PATCH", "DELETE"])
def order(order_id: int) -> Response:
    """Read, replace, change or delete one order: answers with what it received."""
    return jsonify({**received(), "order_id": order_id})


@app.get("/<path:page>")
def page(page: str) -> tuple[str, int]:
    """The pages the legacy URLs now point at."""
    title = PAGES.get(page)
    if title is None:
        return "<h1>Not found</h1>", 404
    return f"<!doctype html><title>{title}</title><h1>{title}</h1>", 200


# Last, after any other app.wsgi_app wrapping, so that it is the outermost WSGI middleware.
Redirectware(app)
