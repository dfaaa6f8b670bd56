"""ASGI-specific promises: pass-through untouched, body never read, lifespan, websockets, HSTS."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket

from redirectware import RedirectMiddleware
from redirectware.asgi import Message, Scope

DOC: dict[str, Any] = {
    "version": 1,
    "rules": [
        {"name": "https", "https": True, "permanent": True, "websockets": "deny",
         "except": ["/healthz", "/stream", "/ws-open"],
         "hsts": {"max_age": 600}},
        {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}"},
    ],
}  # fmt: skip


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"method": request.method, "path": request.url.path, "body": body.decode()})


async def stream(request: Request) -> StreamingResponse:
    # Read the streamed request first: a StreamingResponse also listens on receive().
    received = [chunk async for chunk in request.stream()]

    async def chunks() -> Any:
        for chunk in received:
            yield chunk.upper()

    return StreamingResponse(chunks(), media_type="text/plain")


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


starlette_app = Starlette(
    routes=[
        Route("/api/v2/{rest:path}", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/stream", stream, methods=["POST"]),
        Route("/healthz", healthz),
        WebSocketRoute("/ws", ws),
        WebSocketRoute("/ws-open", ws),
    ]
)
app = RedirectMiddleware(starlette_app, rules=DOC)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_redirect_never_reads_the_body() -> None:
    received: list[Message] = []

    async def receive() -> Message:
        message: Message = {"type": "http.request", "body": b"secret", "more_body": False}
        received.append(message)
        return message

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http", "method": "POST", "scheme": "http", "path": "/api/v1/x",
        "raw_path": b"/api/v1/x", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"example.com")], "client": ("10.0.0.1", 1234),
        "server": ("10.0.0.2", 80), "asgi": {"version": "3.0"}, "http_version": "1.1",
    }  # fmt: skip
    run(app(scope, receive, send))
    assert received == []
    assert sent[0]["status"] == 307
    assert (b"location", b"https://example.com/api/v2/x") in sent[0]["headers"]


def test_streaming_request_and_response_pass_through() -> None:
    def body() -> Any:
        yield from (b"abc", b"def", b"ghi")

    with TestClient(app, base_url="https://example.com") as client:
        response = client.post("/stream", content=body())
    assert response.status_code == 200
    assert response.content == b"ABCDEFGHI"
    # The app's own https response carries the rule's HSTS header.
    assert response.headers["strict-transport-security"] == "max-age=600"


def test_hsts_only_over_https() -> None:
    with TestClient(app, base_url="http://example.com") as client:
        plain = client.get("/healthz")
    assert plain.status_code == 200
    assert "strict-transport-security" not in plain.headers
    with TestClient(app, base_url="https://example.com") as client:
        secure = client.get("/healthz")
    assert secure.headers["strict-transport-security"] == "max-age=600"


def test_lifespan_passes_through() -> None:
    events: list[str] = []

    async def lifespan_app(scope: Scope, receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            events.append(message["type"])
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return

    wrapped = RedirectMiddleware(lifespan_app, rules=DOC)
    with TestClient(wrapped):
        pass
    assert events == ["lifespan.startup", "lifespan.shutdown"]


def test_plain_websocket_denied_with_403() -> None:
    # Starlette's TestClient offers the websocket.http.response extension.
    with (
        TestClient(app, base_url="http://example.com") as client,
        pytest.raises(WebSocketDenialResponse) as caught,
        client.websocket_connect("/ws"),
    ):
        pass
    assert caught.value.status_code == 403
    assert caught.value.content == b"websocket connections must use wss://\n"


def test_websocket_denied_by_close_without_extension() -> None:
    sent: list[Message] = []
    called: list[bool] = []

    async def inner(scope: Scope, receive: Any, send: Any) -> None:
        called.append(True)

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "websocket", "scheme": "ws", "path": "/ws", "raw_path": b"/ws",
        "query_string": b"", "headers": [(b"host", b"example.com")], "client": ("1.2.3.4", 5),
    }  # fmt: skip
    run(RedirectMiddleware(inner, rules=DOC)(scope, receive, send))
    assert called == []
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_secure_and_excepted_websockets_pass() -> None:
    with (
        TestClient(app, base_url="https://example.com") as client,
        client.websocket_connect("wss://example.com/ws") as socket,
    ):
        assert socket.receive_text() == "hello"
    with (
        TestClient(app, base_url="http://example.com") as client,
        client.websocket_connect("/ws-open") as socket,
    ):
        assert socket.receive_text() == "hello"


def test_self_redirect_is_logged_once_and_passes(caplog: pytest.LogCaptureFixture) -> None:
    doc = {"version": 1, "rules": [{"name": "me", "from": "/x", "to": "{scheme}://{host}/x"}]}

    async def ok(scope: Scope, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=RedirectMiddleware(ok, rules=doc))
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get("http://example.com/x")

    with caplog.at_level(logging.ERROR, logger="redirectware"):
        response = run(go())
    assert response.status_code == 204
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "refused a redirect to the request's own URL" in errors[0].getMessage()


def test_head_redirect_has_no_body_and_json_when_preferred() -> None:
    with TestClient(app, base_url="http://example.com", follow_redirects=False) as client:
        head = client.head("/api/v1/x")
        wants_json = client.post("/api/v1/x", headers={"Accept": "application/json"})
    assert head.status_code == 302 and head.content == b""
    assert wants_json.status_code == 307
    assert wants_json.json() == {"status": 307, "location": "https://example.com/api/v2/x"}
