"""Instructions per request, counted by valgrind's callgrind: numbers that do not move with load.

Timings on a shared 2-core machine wander by 10 % from one run to the next; the number of
machine instructions a request costs does not. This script runs one scenario twice under
``valgrind --tool=callgrind``, once with ``N`` requests and once with ``2N``, and reports the
difference divided by ``N``: the cost of one request, with start-up (imports, compiling the
rules) cancelled out. Each request goes through the real ASGI or WSGI middleware; the ASGI
coroutine is driven by hand, without an event loop, so that the loop's own bookkeeping is not
counted.

Run it from the repository root::

    .venv/bin/python benchmarks/instructions.py                 # every scenario
    .venv/bin/python benchmarks/instructions.py asgi-pass-fresh  # one of them

``--inner`` is how the script runs itself under valgrind; ``--python`` and ``PYTHONPATH``
let it measure another checkout (``PYTHONPATH=/tmp/old/src``) with the same scenarios.
This is a measuring script, not a test: nothing here asserts a count.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: Requests in the shorter run; the longer one sends twice as many.
REQUESTS = 2000
#: Rows of the map in the "site" document: the cost of a lookup does not depend on it.
MAP_ROWS = 10_000


def site_document(folder: Path) -> dict[str, Any]:
    """The benchmark suite's headline document: https, 100 templates, a CSV map."""
    csv_path = folder / "legacy.csv"
    with csv_path.open("w", encoding="utf-8") as out:
        out.write("from,to\n")
        for n in range(MAP_ROWS):
            out.write(f"/legacy/page-{n}.html,/pages/{n}\n")
    rules: list[dict[str, Any]] = [{"name": "https", "https": True, "except": ["/healthz"]}]
    rules += [{"from": f"/cat-{n}/{{slug}}", "to": f"/category/{n}/{{slug}}"} for n in range(100)]
    rules.append({"map": str(csv_path), "permanent": True})
    return {"version": 1, "rules": rules}


def _scope(scheme: str, path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.com"), (b"accept", b"*/*")],
        "client": ("203.0.113.7", 50000),
        "server": ("example.com", 80),
    }


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app"})


def _starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def article(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"article {request.path_params['n']}")

    return Starlette(routes=[Route("/articles/{n}", article)])


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Any) -> None:
    return None


def _drive(coroutine: Any) -> None:
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise RuntimeError("the middleware waited for something: not a plain in-process request")


SCENARIOS: dict[str, tuple[str, str, Callable[[int], str]]] = {
    # name: (adapter, scheme, path of request n); "fresh" paths never repeat. The bare rows
    # are the app alone: subtract them for the middleware's own cost.
    "asgi-bare-fresh": ("bare-asgi", "https", lambda n: f"/articles/{n}"),
    "wsgi-bare-fresh": ("bare-wsgi", "https", lambda n: f"/articles/{n}"),
    "asgi-pass-repeated": ("asgi", "https", lambda n: "/about"),
    "asgi-pass-fresh": ("asgi", "https", lambda n: f"/articles/{n}"),
    "asgi-https-redirect-repeated": ("asgi", "http", lambda n: "/about"),
    "asgi-https-redirect-fresh": ("asgi", "http", lambda n: f"/articles/{n}"),
    "asgi-map-hit-fresh": ("asgi", "https", lambda n: f"/legacy/page-{n % MAP_ROWS}.html"),
    "asgi-template-hit-fresh": ("asgi", "https", lambda n: f"/cat-99/item-{n}"),
    "wsgi-pass-fresh": ("wsgi", "https", lambda n: f"/articles/{n}"),
    "wsgi-https-redirect-fresh": ("wsgi", "http", lambda n: f"/articles/{n}"),
    # Hit counting on (REDIRECTWARE_STATS; HitCounts without metrics): compare each with the
    # row of the same name without "-counted". A pass-through is not counted at all.
    "asgi-pass-fresh-counted": ("asgi-counted", "https", lambda n: f"/articles/{n}"),
    "asgi-https-redirect-fresh-counted": ("asgi-counted", "http", lambda n: f"/articles/{n}"),
    "asgi-map-hit-fresh-counted": (
        "asgi-counted",
        "https",
        lambda n: f"/legacy/page-{n % MAP_ROWS}.html",
    ),
    "asgi-template-hit-fresh-counted": ("asgi-counted", "https", lambda n: f"/cat-99/item-{n}"),
    "wsgi-https-redirect-fresh-counted": ("wsgi-counted", "http", lambda n: f"/articles/{n}"),
    # Hit counting with the 404 tally (the ASGI and WSGI middleware's stats=): the app is
    # wrapped to see its 404s, so a pass-through pays for a look at the status too.
    "asgi-pass-fresh-tallied": ("asgi-tallied", "https", lambda n: f"/articles/{n}"),
    "wsgi-pass-fresh-tallied": ("wsgi-tallied", "https", lambda n: f"/articles/{n}"),
    "asgi-https-redirect-fresh-tallied": ("asgi-tallied", "http", lambda n: f"/articles/{n}"),
    # The same pass in front of a real app (a Starlette route answering text): what a
    # request costs a site, of which the tally's look at the status is a part.
    "starlette-pass-fresh": ("starlette", "https", lambda n: f"/articles/{n}"),
    "starlette-pass-fresh-tallied": ("starlette-tallied", "https", lambda n: f"/articles/{n}"),
    # Django's middleware called with RequestFactory requests (no handler, no URL routing):
    # with counting, every request passes the 404 tally's check of the app's status.
    "django-pass-fresh": ("django", "https", lambda n: f"/articles/{n}"),
    "django-pass-fresh-counted": ("django-counted", "https", lambda n: f"/articles/{n}"),
    "django-map-hit-fresh": ("django", "https", lambda n: f"/legacy/page-{n % MAP_ROWS}.html"),
    "django-map-hit-fresh-counted": (
        "django-counted",
        "https",
        lambda n: f"/legacy/page-{n % MAP_ROWS}.html",
    ),
}


_DJANGO: list[Any] = []


def _django_requests(counted: bool, scheme: str, paths: Iterable[str], document: Any) -> None:
    """Requests through ``redirectware.django.RedirectMiddleware`` with hit counting on or
    off, built once per run; the app answers 200."""
    if not _DJANGO:
        import django
        from django.conf import settings

        settings.configure(
            INSTALLED_APPS=["redirectware.django"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            ALLOWED_HOSTS=["*"],
            REDIRECTWARE=document,
            REDIRECTWARE_STATS=counted,
            USE_TZ=True,
        )
        django.setup()
        from django.http import HttpResponse
        from django.test import RequestFactory

        from redirectware.django import RedirectMiddleware

        _DJANGO[:] = [RedirectMiddleware(lambda request: HttpResponse(b"app")), RequestFactory()]
    middleware, factory = _DJANGO
    secure = scheme == "https"
    for path in paths:
        middleware(factory.get(path, secure=secure, HTTP_HOST="example.com"))


def _requests(adapter: str, scheme: str, paths: Iterable[str], document: Any) -> None:
    from redirectware import RedirectMiddleware, WSGIRedirectMiddleware
    from redirectware.counting import HitCounts, NotFoundTally

    if adapter.startswith("django"):
        _django_requests(adapter.endswith("-counted"), scheme, paths, document)
        return
    # Counted in memory only: the flush (a thread, every minute) is not per-request cost.
    counting: Any = False
    if adapter.endswith("-counted"):
        counting = HitCounts()
    elif adapter.endswith("-tallied"):
        counting = HitCounts(not_found=NotFoundTally())
    adapter = adapter.removesuffix("-counted").removesuffix("-tallied")
    if adapter in ("asgi", "bare-asgi", "starlette"):
        asgi: Any = (
            _app
            if adapter == "bare-asgi"
            else RedirectMiddleware(
                _starlette() if adapter == "starlette" else _app, rules=document, metrics=counting
            )
        )
        for path in paths:
            _drive(asgi(_scope(scheme, path), _receive, _send))
        return

    def bare(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"app"]

    wsgi: Any = (
        bare
        if adapter == "bare-wsgi"
        else WSGIRedirectMiddleware(bare, rules=document, metrics=counting)
    )

    def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
        return None

    for path in paths:
        environ = {
            "REQUEST_METHOD": "GET",
            "wsgi.url_scheme": scheme,
            "PATH_INFO": path,
            "RAW_URI": path,
            "QUERY_STRING": "",
            "HTTP_HOST": "example.com",
            "HTTP_ACCEPT": "*/*",
            "REMOTE_ADDR": "203.0.113.7",
        }
        wsgi(environ, start_response)


def inner(name: str, count: int) -> None:
    """Run ``count`` requests of scenario ``name`` (what valgrind measures)."""
    adapter, scheme, path_of = SCENARIOS[name]
    with tempfile.TemporaryDirectory() as tmp:
        document = site_document(Path(tmp))
        # Warm up with other URLs: first calls fill caches that are not per-request cost.
        _requests(adapter, scheme, (path_of(n + 10**7) for n in range(50)), document)
        _requests(adapter, scheme, (path_of(n) for n in range(count)), document)


def _instructions(python: str, name: str, count: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                python,
                __file__,
                "--inner",
                name,
                str(count),
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        found = re.search(r"^summary:\s*(\d+)", out.read_text(), re.MULTILINE)
        if found is None:
            raise RuntimeError("callgrind wrote no summary")
        return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    """Print instructions per request for each scenario asked for."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("scenarios", nargs="*", choices=[[], *SCENARIOS], default=[])
    parser.add_argument("--inner", nargs=2, metavar=("SCENARIO", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument("--python", default=sys.executable, help="the interpreter to measure")
    args = parser.parse_args(argv)
    if args.inner:
        inner(args.inner[0], int(args.inner[1]))
        return 0
    for name in args.scenarios or SCENARIOS:
        one = _instructions(args.python, name, REQUESTS)
        two = _instructions(args.python, name, 2 * REQUESTS)
        print(f"{name:32} {(two - one) / REQUESTS:>10,.0f} instructions per request", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
