"""Sites for ``redirectware verify`` to check: the middleware under a real server, in front
of an app that serves every URL but those the document's ``tests:`` say it does not
(``app: not_found``), and sites that answer wrongly on purpose.

Each app is written to a folder as a module and started with :mod:`tests.servers`; the
worktree's ``src`` comes first on the server's ``PYTHONPATH``, so it runs this code.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redirectware
from redirectware.ruleset import RuleSet
from redirectware.tools.expectations import expectations_of
from tests.servers import GUNICORN, UVICORN, Server, serve

SRC = str(Path(redirectware.__file__).resolve().parent.parent)

_ASGI = """\
from redirectware import RedirectMiddleware

MISSING = {missing!r}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    status = 404 if scope["path"] in MISSING else 200
    await send({{"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain")]}})
    await send({{"type": "http.response.body", "body": b"app"}})


app = RedirectMiddleware(app, rules={rules!r})
"""

_WSGI = """\
from redirectware import WSGIRedirectMiddleware

MISSING = {missing!r}


def app(environ, start_response):
    missing = environ["PATH_INFO"] in MISSING
    start_response("404 Not Found" if missing else "200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


app = WSGIRedirectMiddleware(app, rules={rules!r})
"""


def missing_paths(rules: Path) -> set[str]:
    """The paths the document's ``tests:`` say the app does not serve."""
    return {test.probe.path for test in expectations_of(RuleSet.from_file(rules))
            if test.app_not_found}  # fmt: skip


def _env(folder: Path) -> dict[str, str]:
    # The venv's editable install points at the main checkout: this worktree's code first.
    return {"PYTHONPATH": os.pathsep.join([SRC, str(folder)])}


def self_signed(folder: Path, host: str) -> tuple[Path, Path]:
    """A key and a self-signed certificate for ``host``, made with the openssl command."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=DNS:{host}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return key, cert


@contextmanager
def middleware_site(
    rules: Path, folder: Path, server: str = "uvicorn", tls: tuple[Path, Path] | None = None
) -> Iterator[Server]:
    """The middleware with ``rules`` under uvicorn (ASGI) or gunicorn (WSGI); over TLS with
    ``tls`` (a key and certificate; uvicorn only)."""
    missing = missing_paths(rules)
    if server == "uvicorn":
        (folder / "verify_app.py").write_text(_ASGI.format(missing=missing, rules=str(rules)))
        command = [*UVICORN, "verify_app:app", "--fd", "{fd}", "--lifespan", "off"]
        if tls is not None:
            command += ["--ssl-keyfile", str(tls[0]), "--ssl-certfile", str(tls[1])]
    else:
        (folder / "verify_app.py").write_text(_WSGI.format(missing=missing, rules=str(rules)))
        command = [*GUNICORN, "--bind", "fd://{fd}", "--workers", "1", "verify_app:app"]
    scheme = "http" if tls is None else "https"
    with serve(command, cwd=folder, env=_env(folder), scheme=scheme) as running:
        yield running


_WRONG = """\
# A site that answers wrongly on purpose: {what}.
ROUTES = {routes!r}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    status, headers, body = ROUTES.get((scope["method"], scope["path"]),
                                       ROUTES.get(("*", scope["path"]), (200, [], "app")))
    await send({{"type": "http.response.start", "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in headers]}})
    await send({{"type": "http.response.body", "body": body.encode()}})
"""

Routes = dict[tuple[str, str], tuple[int, list[tuple[str, str]], str]]


@contextmanager
def scripted_site(routes: Routes, folder: Path, what: str) -> Iterator[Server]:
    """A plain ASGI app under uvicorn: ``(method or "*", path)`` -> (status, headers, body);
    any other request gets 200 ``app``."""
    (folder / "wrong_app.py").write_text(_WRONG.format(routes=routes, what=what))
    command = [*UVICORN, "wrong_app:app", "--fd", "{fd}", "--lifespan", "off"]
    with serve(command, cwd=folder, env=_env(folder)) as running:
        yield running


_WATCHED = """\
# A site that writes down each request and the most it ever had in flight at once.
import asyncio

SEEN = {seen!r}
READY = {ready!r}
in_flight = 0
most = 0


async def app(scope, receive, send):
    global in_flight, most
    if scope["type"] != "http":
        return
    in_flight += 1
    most = max(most, in_flight)
    try:
        while (await receive()).get("more_body"):
            pass
        await asyncio.sleep(0.05)  # long enough for requests sent together to overlap
        if scope["path"] == READY:
            pass  # the test's own wait for the server to start, not a request of verify's
        else:
            with open(SEEN, "a") as log:
                log.write(f"{{most}} {{scope['method']}} {{scope['path']}}\\n")
        await send({{"type": "http.response.start", "status": 200, "headers": []}})
        await send({{"type": "http.response.body", "body": b"app"}})
    finally:
        in_flight -= 1
"""


@contextmanager
def watched_site(folder: Path) -> Iterator[tuple[Server, Path]]:
    """A site that answers 200 to everything and writes ``MOST METHOD PATH`` per request to
    the file it yields (MOST: the most requests it had in flight at once so far)."""
    seen = folder / "seen.txt"
    ready = "/the-test-waits-for-the-server"
    (folder / "watched_app.py").write_text(_WATCHED.format(seen=str(seen), ready=ready))
    command = [*UVICORN, "watched_app:app", "--fd", "{fd}", "--lifespan", "off"]
    with serve(command, cwd=folder, env=_env(folder), ready_path=ready) as running:
        yield running, seen
