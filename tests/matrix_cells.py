"""The cells of the kinds x surfaces matrix: one function per surface, each given a kind's
worked example (``tests/test_matrix.py`` crosses them with the registry).

Every cell runs the real thing: the middleware through each framework's own test client, the
CLI's own entry point, Debian's nginx, Caddy and Apache for the exports, the importers on
source text. A cell either proves the kind works on its surface or, where the registry says
the surface refuses the kind, that it refuses naming the file, the line, the rule and the
registry's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from redirectware import RedirectMiddleware, RuleSet, WSGIRedirectMiddleware
from redirectware.asgi import Receive, Scope, Send
from redirectware.cli import main
from redirectware.document.expectations import Expectation
from redirectware.kinds import Kind
from redirectware.tools.expectations import expectations_of, same_location

#: The header by which a matrix request tells the app behind the middleware what to answer:
#: ``404`` stands for "the app does not serve this URL", for ``when: not_found`` rules.
APP_STATUS = "x-app-status"
APP_BODY = b"app"


@dataclass(frozen=True)
class Answer:
    """What a client got: status, Location, the other headers (lower-case names), body."""

    status: int
    location: str | None
    headers: dict[str, str]
    body: bytes


def write_example(kind: Kind, folder: Path, text: str | None = None) -> Path:
    """The kind's example (or ``text``) as ``redirects.yaml`` in ``folder``."""
    path = folder / "redirects.yaml"
    path.write_text(kind.example if text is None else text)
    return path


def expectations(path: Path) -> list[Expectation]:
    """The ``tests:`` of the document at ``path``, as the loader reads them."""
    return expectations_of(RuleSet.from_file(path))


def request_headers(expectation: Expectation) -> dict[str, str]:
    """The headers a client sends for ``expectation``, with the app's answer asked for."""
    headers = dict(expectation.probe.headers)
    headers[APP_STATUS] = "404" if expectation.app_not_found else "200"
    return headers


def judge(expectation: Expectation, answer: Answer) -> None:
    """Fail unless ``answer`` is what ``expectation`` says, as a client sees it."""
    what = f"{expectation.probe.line}: expected {expectation.describe()}, got {answer}"
    if expectation.passes:
        app_status = 404 if expectation.app_not_found else 200
        assert answer.status == app_status and answer.location is None, what
        if expectation.probe.method != "HEAD":
            assert answer.body == APP_BODY, what
        return
    if expectation.status is not None:
        assert answer.status == expectation.status, what
    if expectation.location is not None:
        assert same_location(expectation.location, answer.location, expectation.probe), what
    for name, value in expectation.headers:
        assert answer.headers.get(name.lower()) == value, what


# --- the app behind the middleware, for each interface ----------------------------------------


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the status the request's ``x-app-status`` asks for, body ``app``."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    wanted = dict(scope["headers"]).get(APP_STATUS.encode(), b"200")
    await send({"type": "http.response.start", "status": int(wanted), "headers": []})
    await send({"type": "http.response.body", "body": APP_BODY})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The WSGI twin of :func:`asgi_app`."""
    wanted = environ.get("HTTP_X_APP_STATUS", "200")
    start_response(f"{wanted} {'Not Found' if wanted == '404' else 'OK'}", [])
    return [APP_BODY]


def _answer(status: int, headers: dict[str, str], body: bytes) -> Answer:
    lower = {name.lower(): value for name, value in headers.items()}
    return Answer(status, lower.get("location"), lower, body)


# --- the adapters -----------------------------------------------------------------------------


def through_asgi(path: Path, tests: list[Expectation], metrics: Any = None) -> list[Answer]:
    """Every request through :class:`RedirectMiddleware` and httpx's ASGI transport."""
    app = RedirectMiddleware(asgi_app, rules=path, metrics=metrics)

    async def run() -> list[Answer]:
        answers = []
        for test in tests:
            client = ("127.0.0.1", 50000) if test.probe.client is None else (test.probe.client, 1)
            transport = httpx.ASGITransport(app=app, client=client)
            async with httpx.AsyncClient(transport=transport) as http:
                response = await http.request(
                    test.probe.method, test.probe.url, headers=request_headers(test)
                )
            answers.append(_answer(response.status_code, dict(response.headers),
                                   response.content))  # fmt: skip
        return answers

    return asyncio.run(run())


def through_wsgi(path: Path, tests: list[Expectation], metrics: Any = None) -> list[Answer]:
    """Every request through :class:`WSGIRedirectMiddleware` and Werkzeug's test client."""
    from werkzeug.test import Client

    app = WSGIRedirectMiddleware(wsgi_app, rules=path, metrics=metrics)
    client = Client(app, use_cookies=False)
    return [_werkzeug(client, test) for test in tests]


def _werkzeug(client: Any, test: Expectation) -> Answer:
    url = urlsplit(test.probe.url)
    response = client.open(
        url.path,
        method=test.probe.method,
        base_url=f"{url.scheme}://{url.netloc}",
        query_string=url.query,
        headers=request_headers(test),
        environ_overrides={"REMOTE_ADDR": test.probe.client or "127.0.0.1"},
    )
    return _answer(response.status_code, dict(response.headers), response.get_data())


def through_flask(path: Path, tests: list[Expectation]) -> list[Answer]:
    """Every request through the Flask extension, ``REDIRECTWARE`` in the app's config."""
    from flask import Flask, request

    from redirectware.flask import Redirectware

    app = Flask("matrix", static_folder=None)
    app.config["REDIRECTWARE"] = str(path)

    @app.route("/", defaults={"rest": ""}, methods=["GET", "HEAD", "POST", "PUT", "DELETE"])
    @app.route("/<path:rest>", methods=["GET", "HEAD", "POST", "PUT", "DELETE"])
    def anything(rest: str) -> tuple[bytes, int]:
        return APP_BODY, int(request.headers.get(APP_STATUS, "200"))

    Redirectware(app)
    client = app.test_client(use_cookies=False)  # the Cookie header as the test sends it
    return [_werkzeug(client, test) for test in tests]


def through_django(path: Path, tests: list[Expectation]) -> list[Answer]:
    """Every request through the Django middleware (the sync path of the test ``Client``)."""
    from django.test import Client, override_settings

    answers = []
    with override_settings(REDIRECTWARE=str(path), ROOT_URLCONF="tests.matrix_urls"):
        client = Client()
        for test in tests:
            url = urlsplit(test.probe.url)
            response = client.generic(
                test.probe.method,
                url.path + (f"?{url.query}" if url.query else ""),
                secure=url.scheme == "https",
                headers={"Host": url.netloc, **request_headers(test)},
                REMOTE_ADDR=test.probe.client or "127.0.0.1",
            )
            answers.append(_answer(response.status_code, dict(response.headers),
                                   response.content))  # fmt: skip
    return answers


# --- the command line -------------------------------------------------------------------------


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``redirectware ARGV`` in this process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(argv))
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else 1
    return status, out.getvalue(), err.getvalue()


def rule_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, label)`` of every rule of the document, as messages name them."""
    ruleset = RuleSet.from_file(path)
    for rule in ruleset.rules:
        assert rule.line is not None
        yield rule.line, rule.label


def with_settings(text: str, **settings: Any) -> str:
    """The document ``text`` with ``settings`` added to its own (as YAML, tests dropped)."""
    document = yaml.safe_load(text)
    document.setdefault("settings", {}).update(settings)
    document.pop("tests", None)
    return yaml.safe_dump(document, sort_keys=False)
