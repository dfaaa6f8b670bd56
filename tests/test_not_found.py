"""``when: not_found``: a rule that applies only when the app answers 404, to any method.

Through real apps that answer 404 for what they do not serve: a raw ASGI app and Starlette's
router, a raw WSGI app and Flask's, and Django's middleware in both modes. (The shared table
runs the case where the app serves the URL: then the rule never applies.)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from flask import Flask
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route
from werkzeug.test import Client

from redirectware import RedirectMiddleware, RuleError, RuleSet, WSGIRedirectMiddleware
from redirectware.asgi import Receive, Scope, Send
from tests.console import run_cli, write

DOC: dict[str, Any] = {
    "settings": {"permanent_max_age": 60},
    "rules": [
        {"name": "moved", "from": "/old/{rest:path}", "to": "/new/{rest}", "when": "not_found", "permanent": True},
        {"name": "dead", "map": [{"from": "/dead", "status": 410}], "when": "not_found"},
        {"name": "always", "from": "/always", "to": "/elsewhere"},
    ],
}  # fmt: skip

# (method, path the app serves or not, status expected, Location expected)
TABLE = [
    ("GET", "/old/a%2Fb?x=1", 301, "http://example.com/new/a%2Fb?x=1"),
    ("HEAD", "/old/a", 301, "http://example.com/new/a"),
    ("GET", "/dead", 410, None),
    # Any method: the app has read the body, and the 308 has the client send it again.
    ("POST", "/old/a", 308, "http://example.com/new/a"),
    ("PUT", "/old/a?x=1", 308, "http://example.com/new/a?x=1"),
    ("DELETE", "/dead", 410, None),
    ("POST", "/unknown", 404, None),
    ("GET", "/old/served", 200, None),  # the app serves it: the rule never applies
    ("GET", "/unknown", 404, None),  # no rule: the app's 404 stands
    ("GET", "/always", 302, "http://example.com/elsewhere"),  # before the app is asked
]  # fmt: skip
PARAMS = [pytest.param(*row, id=f"{row[0]}-{row[1]}") for row in TABLE]


def _check(status: int, headers: dict[str, str], body: bytes, row: tuple[Any, ...]) -> None:
    method, _, want, location = row
    assert status == want, (status, headers, body)
    assert headers.get("location") == location
    if want == 404:
        assert headers.get("x-app") == "404", "the app's own 404 must reach the client"
    if want in (301, 308, 410):
        assert "x-app" not in headers, "the app's 404 headers must never reach the client"
        assert headers.get("cache-control") == "max-age=60"
        assert body == b"" if method == "HEAD" else b"not here" not in body


# --- ASGI ---------------------------------------------------------------------------------


async def raw_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    """Serves /old/served (streamed in two parts); a streamed 404 for everything else."""
    served = scope["path"] == "/old/served"
    headers = [(b"x-app", b"200" if served else b"404")]
    await send(
        {"type": "http.response.start", "status": 200 if served else 404, "headers": headers}
    )
    await send({"type": "http.response.body", "body": b"not ", "more_body": True})
    await send({"type": "http.response.body", "body": b"here" if not served else b"served"})


def _served(request: Any) -> PlainTextResponse:
    return PlainTextResponse("served", headers={"x-app": "200"})


async def _not_found(request: Any, exc: Exception) -> PlainTextResponse:
    return PlainTextResponse("not here", status_code=404, headers={"x-app": "404"})


STARLETTE = Starlette(
    routes=[Route("/old/served", _served, methods=["GET", "HEAD", "POST", "PUT", "DELETE"])],
    exception_handlers={404: _not_found},
)


async def _asgi(app: Any, method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=RedirectMiddleware(app, rules=DOC))
    async with httpx.AsyncClient(transport=transport, base_url="http://example.com") as client:
        return await client.request(method, path)


@pytest.mark.parametrize(("method", "path", "status", "location"), PARAMS)
@pytest.mark.parametrize("app", [raw_asgi, STARLETTE], ids=["asgi", "starlette"])
def test_asgi(app: Any, method: str, path: str, status: int, location: str | None) -> None:
    response = asyncio.run(_asgi(app, method, path))
    _check(
        response.status_code,
        dict(response.headers),
        response.content,
        (method, path, status, location),
    )


def test_a_post_after_the_apps_404_is_sent_again_with_its_body() -> None:
    """The app reads the POST's body and answers 404; the rule's 308 has the client send
    the same method and body to the new URL, where the app takes it."""
    seen: list[tuple[str, str, bytes]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append((scope["method"], scope["path"], body))
        status = 200 if scope["path"].startswith("/new/") else 404
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"taken" if status == 200 else b""})

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=RedirectMiddleware(app, rules=DOC))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://example.com", follow_redirects=True
        ) as client:
            return await client.post("/old/a", content=b'{"order": 42}')

    response = asyncio.run(go())
    assert [(r.status_code, r.headers.get("location")) for r in response.history] == [
        (308, "http://example.com/new/a")
    ]
    assert (response.status_code, response.content) == (200, b"taken")
    assert seen == [("POST", "/old/a", b'{"order": 42}'), ("POST", "/new/a", b'{"order": 42}')]


def test_asgi_streams_what_it_does_not_replace() -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b"one,"
        yield b"two"

    async def endpoint(request: Any) -> StreamingResponse:
        return StreamingResponse(stream(), headers={"x-app": "200"})

    app = Starlette(routes=[Route("/old/served", endpoint)])
    response = asyncio.run(_asgi(app, "GET", "/old/served"))
    assert (response.status_code, response.content) == (200, b"one,two")


# --- WSGI ---------------------------------------------------------------------------------


class Body:
    """A WSGI body that records whether it was read to the end and closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.read += 1
            yield chunk

    def close(self) -> None:
        self.closed = True


BODIES: list[Body] = []


def raw_wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    served = environ["PATH_INFO"] == "/old/served"
    start_response("200 OK" if served else "404 Not Found", [("X-App", "200" if served else "404")])
    body = Body([b"served"] if served else [b"not ", b"here"])
    BODIES.append(body)
    return body


def lazy_wsgi(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """A generator app: it calls start_response only when its body is first read."""
    served = environ["PATH_INFO"] == "/old/served"
    start_response("200 OK" if served else "404 Not Found", [("X-App", "200" if served else "404")])
    yield b"served" if served else b"not here"


FLASK = Flask(__name__)


@FLASK.route("/old/served", methods=["GET", "HEAD", "POST", "PUT", "DELETE"])
def flask_served() -> tuple[str, int, dict[str, str]]:
    return "served", 200, {"X-App": "200"}


@FLASK.errorhandler(404)
def flask_not_found(error: Exception) -> tuple[str, int, dict[str, str]]:
    return "not here", 404, {"X-App": "404"}


@pytest.mark.parametrize(("method", "path", "status", "location"), PARAMS)
@pytest.mark.parametrize(
    "app", [raw_wsgi, lazy_wsgi, FLASK.wsgi_app], ids=["wsgi", "generator", "flask"]
)
def test_wsgi(app: Any, method: str, path: str, status: int, location: str | None) -> None:
    client = Client(WSGIRedirectMiddleware(app, rules=DOC))
    response = client.open(path, method=method, base_url="http://example.com")
    headers = {name.lower(): value for name, value in response.headers.items()}
    _check(response.status_code, headers, response.get_data(), (method, path, status, location))


def test_a_replaced_wsgi_body_is_read_and_closed() -> None:
    BODIES.clear()
    client = Client(WSGIRedirectMiddleware(raw_wsgi, rules=DOC))
    assert client.get("/old/x", base_url="http://example.com").status_code == 301
    assert len(BODIES) == 1
    assert BODIES[0].read == 2 and BODIES[0].closed
    BODIES.clear()
    passed = client.get("/unknown", base_url="http://example.com")
    assert passed.status_code == 404 and not BODIES[0].closed
    passed.close()  # what a server does when it has sent a body: through our wrapper
    assert BODIES[0].closed


# --- Django, sync and async ----------------------------------------------------------------


def test_django_sync_and_async() -> None:
    from tests.django_site import configure

    configure()
    from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
    from django.test import AsyncRequestFactory, RequestFactory, override_settings

    from redirectware.django import RedirectMiddleware as DjangoMiddleware

    def view(request: HttpRequest) -> HttpResponse:
        if request.path == "/old/served":
            return HttpResponse(b"served", headers={"X-App": "200"})
        return HttpResponseNotFound(b"not here", headers={"X-App": "404"})

    async def async_view(request: HttpRequest) -> HttpResponse:
        return view(request)

    with override_settings(REDIRECTWARE=DOC, ALLOWED_HOSTS=["example.com"]):
        sync = DjangoMiddleware(view)
        asynchronous = DjangoMiddleware(async_view)
        for row in TABLE:
            method, path, _, _ = row
            target, _, query = path.partition("?")
            request = RequestFactory().generic(method, path, HTTP_HOST="example.com")
            request.META["RAW_URI"] = path
            response = sync(request)
            headers = {n.lower(): v for n, v in response.headers.items()}
            _check(response.status_code, headers, response.content, row)
            arequest = AsyncRequestFactory().generic(method, target, QUERY_STRING=query)
            # The factory sends its own Host (testserver); one Host, as a server would.
            scope = cast(dict[str, Any], arequest.scope)
            scope["headers"] = [(b"host", b"example.com")]
            arequest.META["HTTP_HOST"] = "example.com"
            scope["raw_path"] = target.encode("latin-1")  # as uvicorn gives it
            aresponse = asyncio.run(asynchronous(arequest))
            headers = {n.lower(): v for n, v in aresponse.headers.items()}
            _check(aresponse.status_code, headers, aresponse.content, row)


# --- the document, explain, tests: ----------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("- from: /x\n  to: /y\n  when: sometimes", "rules[0]: when: must be 'always' or 'not_found', got 'sometimes'"),
        ("- https: true\n  when: not_found", "rules[0]: when: not_found applies to to, map and gone rules; a https rule acts on every URL"),
    ],
)  # fmt: skip
def test_bad_when(tmp_path: Path, rule: str, message: str) -> None:
    path = write(tmp_path, "r.yaml", "rules:\n" + rule + "\n")
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    assert str(caught.value).endswith(message)
    assert str(caught.value).startswith(f"{path}:")


def test_explain_and_tests_entries(tmp_path: Path) -> None:
    doc = write(
        tmp_path,
        "r.yaml",
        "rules:\n"
        "  - {name: moved, from: '/old/{rest:path}', to: '/new/{rest}', when: not_found}\n"
        "tests:\n"
        "  - request: GET http://example.com/old/a\n"
        "    app: not_found\n"
        "    expect: {status: 302, location: http://example.com/new/a}\n"
        "  - request: GET http://example.com/old/a\n"
        "    expect: pass\n"
        "  - request: POST http://example.com/old/a\n"
        "    app: not_found\n"
        "    expect: {status: 307, location: http://example.com/new/a}\n",
    )
    run = run_cli("explain", doc, "GET", "http://example.com/old/a")
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines[1] == "no rule matches: the request passes through to the app."
    assert "If the app answers 404, a rule with when: not_found applies:" in lines
    assert "Location: http://example.com/new/a" in lines
    checked = run_cli("check", doc)
    assert checked.code == 0, checked
    assert "3 of 3 tests passed" in checked.out
    bad = write(tmp_path, "bad.yaml", doc.read_text().replace("app: not_found", "app: gone", 1))
    assert "app: must be 'serves' or 'not_found', got 'gone'" in run_cli("check", bad).out
