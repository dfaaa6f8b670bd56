"""redirectware's benchmark suite: every row side by side with its baselines, in one run.

Run it from the repository root::

    .venv/bin/python benchmarks/bench.py            # the full suite (a few minutes)
    .venv/bin/python benchmarks/bench.py --quick    # every row, few iterations, small sizes

Each row is a middleware (or a bare app) answering one in-process request again and again; the
number is the median, over several samples, of nanoseconds per request. "Added" is a row's
time minus its bare app's: the middleware's own cost. Ratios compare rows measured in this
same run, so they hold across machines far better than the absolute numbers do.

This is a measuring script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import io
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redirectware import RedirectMiddleware, RuleSet, WSGIRedirectMiddleware
from redirectware.asgi import ASGIApp, Message, Receive, Scope, Send

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

FULL_SIZES = (10, 1_000, 10_000, 100_000)
QUICK_SIZES = (10, 100)
#: The templates of the "site" document; the issue's headline configuration.
SITE_TEMPLATES = 100

HEADERS = [
    (b"host", b"example.com"),
    (b"user-agent", b"bench/1.0"),
    (b"accept", b"text/html,application/xhtml+xml,*/*;q=0.8"),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b"en-GB,en;q=0.9"),
    (b"connection", b"keep-alive"),
]
PASS_PATH = "/products/widget-123"


# --- requests ------------------------------------------------------------------------------


def asgi_scope(url_path: str, scheme: str = "https", host: str = "example.com") -> Scope:
    """An HTTP scope as uvicorn builds it."""
    path, _, query = url_path.partition("?")
    headers = [(b"host", host.encode()), *HEADERS[1:]]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def wsgi_environ(url_path: str, scheme: str = "https", host: str = "example.com") -> dict[str, Any]:
    """A WSGI environ as gunicorn builds it."""
    path, _, query = url_path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "RAW_URI": url_path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "443" if scheme == "https" else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in [(b"host", host.encode()), *HEADERS[1:]]:
        environ["HTTP_" + name.decode().upper().replace("-", "_")] = value.decode()
    return environ


# --- apps and baselines ----------------------------------------------------------------------

_START = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"3")]}
_BODY = {"type": "http.response.body", "body": b"app"}


async def bare_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    """The app every ASGI row wraps: two sends and nothing else."""
    await send(_START)
    await send(_BODY)


def bare_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The app every WSGI row wraps."""
    start_response("200 OK", [("Content-Length", "3")])
    return [b"app"]


class NaiveRegexMiddleware:
    """The baseline: what a hand-written redirect middleware does, one regex after another."""

    def __init__(self, app: ASGIApp, rules: list[tuple[str, str]]) -> None:
        self.app = app
        self.rules = [(re.compile(pattern), target) for pattern, target in rules]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            for regex, target in self.rules:
                found = regex.match(path)
                if found is not None:
                    location = found.expand(target).encode()
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 301,
                            "headers": [(b"location", location), (b"content-length", b"0")],
                        }
                    )
                    await send({"type": "http.response.body", "body": b""})
                    return
        await self.app(scope, receive, send)


# --- rule documents --------------------------------------------------------------------------


def map_csv(folder: Path, rows: int) -> Path:
    """A ``map`` CSV of legacy URLs: ``/legacy/page-N.html`` -> ``/pages/N``."""
    path = folder / f"map-{rows}.csv"
    if not path.exists():
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["from", "to"])
            writer.writerows((f"/legacy/page-{i}.html", f"/pages/{i}") for i in range(rows))
    return path


def template_rules(count: int) -> list[dict[str, Any]]:
    """``count`` template rules in four shapes, one of them starting with a placeholder."""
    rules: list[dict[str, Any]] = []
    for i in range(count):
        shape = i % 4
        if shape == 0:
            rules.append({"from": f"/cat-{i}/{{slug}}", "to": f"/c/{i}/{{slug}}"})
        elif shape == 1:
            rules.append({"from": f"/blog-{i}/{{year:int}}/{{slug}}", "to": f"/b/{i}/{{slug}}"})
        elif shape == 2:
            rules.append({"from": f"/docs-{i}/{{rest:path}}", "to": f"/d/{i}/{{rest}}"})
        else:
            rules.append({"from": f"/{{lang}}/old-{i}", "to": f"/{{lang}}/new-{i}"})
    return rules


def template_hit(count: int) -> str:
    """A path that only the last ``cat-`` template matches (the worst case for a scan)."""
    last = max(i for i in range(count) if i % 4 == 0)
    return f"/cat-{last}/hello"


def host_rules(count: int) -> list[dict[str, Any]]:
    """``count`` rules moving whole hosts: ``siteN.example.net`` -> ``example.com/siteN``."""
    return [
        {"host": f"site{i}.example.net", "to": f"https://example.com/site{i}{{path}}"}
        for i in range(count)
    ]


HTTPS_RULE = {"name": "https", "https": True, "permanent": True, "except": ["/healthz"]}


def site_document(folder: Path, rows: int, templates: int = SITE_TEMPLATES) -> dict[str, Any]:
    """The headline document: an https rule, ``templates`` templates, a ``rows``-row map."""
    return {
        "version": 1,
        "rules": [
            HTTPS_RULE,
            *template_rules(templates),
            {"map": str(map_csv(folder, rows)), "permanent": True},
        ],
    }


def naive_rules(count: int) -> list[tuple[str, str]]:
    """The naive middleware's list: the templates as regexes, then exact legacy paths."""
    out: list[tuple[str, str]] = []
    for i in range(count):
        if i % 2:
            out.append((rf"/legacy/page-{i}\.html\Z", f"/pages/{i}"))
        else:
            out.append((rf"/cat-{i}/(?P<slug>[^/]+)\Z", rf"/c/{i}/\g<slug>"))
    return out


# --- timing ----------------------------------------------------------------------------------


@dataclass
class Timer:
    """Runs a callable in batches and keeps the median time per call."""

    quick: bool
    #: Seconds one sample aims to take.
    sample_seconds: float = 0.1
    samples: int = 7

    def __post_init__(self) -> None:
        if self.quick:
            self.sample_seconds, self.samples = 0.002, 2

    def _calibrate(self, batch: Callable[[int], int]) -> int:
        loops = 1
        while True:
            took = batch(loops)
            if took >= self.sample_seconds * 1e9 / 4 or loops >= 1 << 22:
                return max(1, int(loops * self.sample_seconds * 1e9 / max(took, 1)))
            loops *= 4

    def median_ns(self, batch: Callable[[int], int]) -> float:
        """Median ns per call; ``batch(n)`` runs n calls and returns the ns they took."""
        return self.interleaved({"": batch})[""]

    def interleaved(
        self, batches: dict[str, Callable[[int], int]], rounds: int | None = None
    ) -> dict[str, float]:
        """Median ns per call of each batch, their samples taken in turn.

        Rows whose difference matters (a middleware and its bare app) are sampled
        alternately, so that a slow moment of the machine falls on all of them alike.
        """
        loops = {name: self._calibrate(batch) for name, batch in batches.items()}
        gc.collect()
        samples: dict[str, list[float]] = {name: [] for name in batches}
        for _ in range(self.samples if rounds is None or self.quick else rounds):
            for name, batch in batches.items():
                samples[name].append(batch(loops[name]) / loops[name])
        return {name: statistics.median(values) for name, values in samples.items()}


FreshScopes = Callable[[int], Scope]


def asgi_batch(app: ASGIApp, scope: Scope | FreshScopes) -> Callable[[int], int]:
    """A batch runner for one ASGI app, on one event loop: one request asked again and
    again, or (given a maker of fresh requests, see :func:`fresh_scopes`) a new one each
    time."""
    loop = asyncio.new_event_loop()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    # The number of the next fresh request: batches go on counting, so that no request is
    # ever asked twice.
    counter = [0]

    async def run(loops: int) -> int:
        if callable(scope):
            return await fresh_run(scope, loops)
        started = time.thread_time_ns()
        for _ in range(loops):
            await app(scope, receive, send)
        return time.thread_time_ns() - started

    async def fresh_run(make: FreshScopes, loops: int) -> int:
        first = counter[0]
        counter[0] += loops
        started = time.thread_time_ns()
        for number in range(first, first + loops):
            await app(make(number), receive, send)
        return time.thread_time_ns() - started

    def batch(loops: int) -> int:
        return loop.run_until_complete(run(loops))

    return batch


def fresh_scopes(pattern: str, scheme: str = "https", host: str = "example.com") -> FreshScopes:
    """Fresh requests, as a server builds them: a new scope per request, its URL made new by
    the request's number put into ``pattern``. None was asked before, so the engine answers
    each afresh. Building the scope is part of every row it serves, the bare app's too, so
    it cancels out of the "added" column."""
    base = asgi_scope("/", scheme, host)
    path, _, query = pattern.partition("?")

    def make(number: int) -> Scope:
        scope = dict(base)
        scope["path"] = path.format(number)
        scope["raw_path"] = scope["path"].encode()
        scope["query_string"] = query.format(number).encode()
        scope["headers"] = base["headers"].copy()
        return scope

    return make


def wsgi_batch(
    app: WSGIApp, environ: dict[str, Any] | Callable[[int], dict[str, Any]]
) -> Callable[[int], int]:
    """A batch runner for one WSGI app; each call gets a copy of the environ, or a new
    one from a maker of fresh environs (as :func:`asgi_batch`)."""
    counter = [0]
    make = environ if callable(environ) else (lambda number: environ.copy())

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return None

    def batch(loops: int) -> int:
        first = counter[0]
        counter[0] += loops
        started = time.thread_time_ns()
        for number in range(first, first + loops):
            result = app(make(number), start_response)
            close = getattr(result, "close", None)
            for _chunk in result:
                pass
            if close is not None:
                close()
        return time.thread_time_ns() - started

    return batch


def fresh_environs(pattern: str, scheme: str = "https") -> Callable[[int], dict[str, Any]]:
    """The WSGI twin of :func:`fresh_scopes`."""
    base = wsgi_environ("/", scheme)

    def make(number: int) -> dict[str, Any]:
        environ = base.copy()
        target = pattern.format(number)
        environ["RAW_URI"] = target
        environ["PATH_INFO"], _, environ["QUERY_STRING"] = target.partition("?")
        return environ

    return make


# --- the suite -------------------------------------------------------------------------------


@dataclass
class Row:
    """One measured line of the table."""

    group: str
    name: str
    ns: float
    baseline: str | None = None
    note: str = ""


@dataclass
class Suite:
    """Collects rows; prints and saves the table."""

    timer: Timer
    rows: list[Row] = field(default_factory=list)
    #: The headline block (bare, Starlette, biggest site), sampled together, by row name.
    headline: dict[str, float] = field(default_factory=dict)

    def add(self, group: str, name: str, ns: float, baseline: str | None = None) -> Row:
        row = Row(group, name, ns, baseline)
        self.rows.append(row)
        print(f"  {group:5} {name:62} {ns:12.0f} ns", file=sys.stderr, flush=True)
        return row

    def get(self, name: str) -> float:
        return next(row.ns for row in self.rows if row.name == name)


def asgi_rows(suite: Suite, folder: Path, sizes: tuple[int, ...]) -> None:
    """Every ASGI row: baselines, then redirectware at each size."""
    from starlette.middleware.httpsredirect import HTTPSRedirectMiddleware

    timer = suite.timer
    passing, plain_http = asgi_scope(PASS_PATH), asgi_scope(PASS_PATH, "http")
    starlette = HTTPSRedirectMiddleware(bare_asgi)
    # The headline comparison, sampled in turn: bare app, Starlette, the biggest site.
    site = RedirectMiddleware(bare_asgi, rules=RuleSet.from_dict(site_document(folder, sizes[-1])))
    site_label = f"redirectware site, {SITE_TEMPLATES} templates + {sizes[-1]} map rows"
    fresh_passing = fresh_scopes("/products/widget-{}")
    fresh_http = fresh_scopes("/products/widget-{}", "http")
    headline = timer.interleaved(
        {
            "bare app": asgi_batch(bare_asgi, passing),
            "bare app, fresh URLs": asgi_batch(bare_asgi, fresh_passing),
            "starlette HTTPSRedirect: pass": asgi_batch(starlette, passing),
            "starlette HTTPSRedirect: redirect": asgi_batch(starlette, plain_http),
            # Fresh against fresh: Starlette's redirect is cheaper on a repeated URL because
            # urllib.parse caches what it split before.
            "starlette HTTPSRedirect: pass, fresh URL": asgi_batch(starlette, fresh_passing),
            "starlette HTTPSRedirect: redirect, fresh URL": asgi_batch(starlette, fresh_http),
            f"{site_label}: pass": asgi_batch(site, passing),
            f"{site_label}: https redirect": asgi_batch(site, plain_http),
            f"{site_label}: pass, fresh URL": asgi_batch(site, fresh_passing),
            f"{site_label}: https redirect, fresh URL": asgi_batch(site, fresh_http),
        }
    )
    del site
    # All of the block is printed; its fresh rows for the biggest site come again, measured
    # in their family block, below. The targets are computed from this block.
    for name, ns in headline.items():
        suite.add("asgi", name, ns)
    suite.headline = headline
    for size in sizes:
        naive = NaiveRegexMiddleware(bare_asgi, naive_rules(size))
        hit = asgi_scope(f"/legacy/page-{size - 1}.html")
        suite.add(
            "asgi", f"naive regex list {size}: pass", timer.median_ns(asgi_batch(naive, passing))
        )
        suite.add(
            "asgi", f"naive regex list {size}: last hit", timer.median_ns(asgi_batch(naive, hit))
        )

    def family(members: list[tuple[str, dict[str, Any], dict[str, FreshScopes]]]) -> None:
        """One document shape at every size; each kind of request sampled across sizes in
        turn, since the sizes are compared with each other. Every request is a fresh one
        (see :func:`fresh`): these rows measure the index, not the memory of answers."""
        apps = {}
        for label, document, _ in members:
            started = time.perf_counter()
            apps[label] = RedirectMiddleware(bare_asgi, rules=RuleSet.from_dict(document))
            took = time.perf_counter() - started
            print(f"        (compiled {label} in {took:.2f} s)", file=sys.stderr)
        for what in members[0][2]:
            measured = timer.interleaved(
                {
                    f"redirectware {label}: {what}, fresh URL": asgi_batch(
                        apps[label], requests[what]
                    )
                    for label, _, requests in members
                }
            )
            for name, ns in measured.items():
                suite.add("asgi", name, ns)

    family(
        [
            (
                f"site, {SITE_TEMPLATES} templates + {size} map rows",
                site_document(folder, size),
                {
                    "pass": fresh_passing,
                    "https redirect": fresh_http,
                    # One row of the map, made new by a query string it keeps.
                    "map hit": fresh_scopes(f"/legacy/page-{size - 1}.html?ref={{}}"),
                    "template hit": fresh_scopes(template_hit(SITE_TEMPLATES) + "-{}"),
                },
            )
            for size in sizes
        ]
    )
    family(
        [
            (
                f"{size} templates",
                {"version": 1, "rules": template_rules(size)},
                {
                    "pass": fresh_passing,
                    "template hit": fresh_scopes(template_hit(size) + "-{}"),
                },
            )
            for size in sizes
        ]
    )
    family(
        [
            (
                f"{size} host rules",
                {"version": 1, "rules": host_rules(size)},
                {
                    "pass": fresh_passing,
                    "host hit": fresh_scopes(
                        "/products/widget-{}", host=f"site{size - 1}.example.net"
                    ),
                },
            )
            for size in sizes
        ]
    )


def django_handlers(document: dict[str, Any]) -> dict[str, WSGIApp]:
    """Django WSGI handlers: bare, with SecurityMiddleware, with redirectware's middleware."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="bench",
            ALLOWED_HOSTS=["example.com"],
            ROOT_URLCONF=__name__,
            SECURE_SSL_REDIRECT=True,
            USE_TZ=True,
            INSTALLED_APPS=[],
            REDIRECTWARE=document,
        )
        django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    handlers: dict[str, WSGIApp] = {}
    stacks = {
        "django": [],
        "django + SecurityMiddleware": ["django.middleware.security.SecurityMiddleware"],
        "django + redirectware": ["redirectware.django.RedirectMiddleware"],
    }
    for name, middleware in stacks.items():
        settings.MIDDLEWARE = middleware
        try:
            handlers[name] = WSGIHandler()
        except ImportError as error:  # the adapter may not exist in this checkout yet
            print(f"        (skipped {name}: {error})", file=sys.stderr)
    return handlers


def _django_view(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse(b"app")


def _urlpatterns() -> list[Any]:
    from django.urls import path

    return [path("products/<slug:name>", _django_view)]


def __getattr__(name: str) -> Any:
    # Django reads urlpatterns from ROOT_URLCONF (this module) only once it is configured.
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def wsgi_rows(suite: Suite, folder: Path, sizes: tuple[int, ...]) -> None:
    """WSGI rows: bare, redirectware's WSGI middleware, Django with and without middleware."""
    timer = suite.timer
    passing, plain_http = wsgi_environ(PASS_PATH), wsgi_environ(PASS_PATH, "http")
    document = site_document(folder, sizes[-1])
    label = f"site, {SITE_TEMPLATES} templates + {sizes[-1]} map rows"
    app = WSGIRedirectMiddleware(bare_wsgi, rules=RuleSet.from_dict(document))
    handlers = django_handlers(document)
    # Sampled in turn, since the Django rows are compared by their differences.
    fresh_passing = fresh_environs("/products/widget-{}")
    passes = timer.interleaved(
        {
            "bare app": wsgi_batch(bare_wsgi, passing),
            "bare app, fresh URLs": wsgi_batch(bare_wsgi, fresh_passing),
            f"redirectware {label}: pass": wsgi_batch(app, passing),
            f"redirectware {label}: pass, fresh URL": wsgi_batch(app, fresh_passing),
            **{f"{name}: pass": wsgi_batch(handler, passing) for name, handler in handlers.items()},
            **{
                f"{name}: pass, fresh URL": wsgi_batch(handler, fresh_passing)
                for name, handler in handlers.items()
            },
        },
        # A Django request costs some 100 µs; the middleware differences are a tenth of
        # that, so these rows get three times the samples.
        rounds=21,
    )
    redirects = timer.interleaved(
        {
            f"redirectware {label}: https redirect": wsgi_batch(app, plain_http),
            **{
                f"{name}: https redirect": wsgi_batch(handler, plain_http)
                for name, handler in handlers.items()
                if name != "django"
            },
        }
    )
    for name, ns in [*passes.items(), *redirects.items()]:
        suite.add("wsgi", name, ns)
    # The smallest and the biggest site, each kind of fresh request sampled across both.
    edges = sorted({sizes[0], sizes[-1]})
    sites = {
        size: WSGIRedirectMiddleware(
            bare_wsgi, rules=RuleSet.from_dict(site_document(folder, size))
        )
        for size in edges
    }
    kinds = {
        "pass": fresh_passing,
        "https redirect": fresh_environs("/products/widget-{}", "http"),
        "map hit": fresh_environs(f"/legacy/page-{edges[0] - 1}.html?ref={{}}"),
        "template hit": fresh_environs(template_hit(SITE_TEMPLATES) + "-{}"),
    }
    for what, make in kinds.items():
        measured = timer.interleaved(
            {
                f"redirectware wsgi site, {SITE_TEMPLATES} templates + {size} map rows: "
                f"{what}, fresh URL": wsgi_batch(site, make)
                for size, site in sites.items()
            }
        )
        for name, ns in measured.items():
            suite.add("wsgi", name, ns)


def load_rows(suite: Suite, folder: Path, sizes: tuple[int, ...]) -> dict[str, float]:
    """Loading: a big CSV map against csv.reader alone; big template documents; memory."""
    rows = sizes[-1]
    path = map_csv(folder, rows)
    doc_path = folder / "map.yaml"
    doc_path.write_text(f"version: 1\nrules:\n  - map: {path.name}\n    permanent: true\n")
    repeats = 2 if suite.timer.quick else 5

    def best_of(action: Callable[[], object]) -> float:
        times: list[float] = []
        # Fewer repeats for a load that takes seconds: the minimum barely moves.
        while len(times) < repeats and sum(times) < 10e9:
            gc.collect()
            started = time.thread_time_ns()
            action()
            times.append(time.thread_time_ns() - started)
        return min(times)

    def read_csv() -> int:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return sum(1 for _ in csv.reader(handle))

    suite.add("load", f"csv.reader alone, {rows} rows", best_of(read_csv))
    suite.add(
        "load",
        f"RuleSet.from_file, {rows}-row CSV map",
        best_of(lambda: RuleSet.from_file(doc_path)),
    )
    templates = {"version": 1, "rules": template_rules(rows)}
    suite.add(
        "load",
        f"RuleSet.from_dict, {rows} templates",
        best_of(lambda: RuleSet.from_dict(templates)),
    )
    hosts = {"version": 1, "rules": host_rules(rows)}
    suite.add(
        "load", f"RuleSet.from_dict, {rows} host rules", best_of(lambda: RuleSet.from_dict(hosts))
    )

    gc.collect()
    tracemalloc.start()
    ruleset = RuleSet.from_file(doc_path)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del ruleset
    return {"map_rows": rows, "retained_bytes": retained, "peak_bytes": peak}


# --- reporting -------------------------------------------------------------------------------


def expected_rows(sizes: tuple[int, ...], django: bool = True) -> list[tuple[str, str]]:
    """The (group, name) of every row a full run of the three groups prints, for the smoke
    test."""
    big = sizes[-1]
    site = f"redirectware site, {SITE_TEMPLATES} templates + {{}} map rows"
    asgi = ["bare app", "bare app, fresh URLs", "starlette HTTPSRedirect: pass",
            "starlette HTTPSRedirect: redirect", "starlette HTTPSRedirect: pass, fresh URL",
            "starlette HTTPSRedirect: redirect, fresh URL"]  # fmt: skip
    headline = ("pass", "https redirect", "pass, fresh URL", "https redirect, fresh URL")
    asgi += [f"{site.format(big)}: {what}" for what in headline]
    for size in sizes:
        asgi += [f"naive regex list {size}: pass", f"naive regex list {size}: last hit"]
    for size in sizes:
        asgi += [f"{site.format(size)}: {what}, fresh URL" for what in
                 ("pass", "https redirect", "map hit", "template hit")]  # fmt: skip
    for size in sizes:
        asgi += [
            f"redirectware {size} templates: pass, fresh URL",
            f"redirectware {size} templates: template hit, fresh URL",
        ]
    for size in sizes:
        asgi += [
            f"redirectware {size} host rules: pass, fresh URL",
            f"redirectware {size} host rules: host hit, fresh URL",
        ]
    wsgi = ["bare app", "bare app, fresh URLs"]
    wsgi += [f"{site.format(big)}: {what}" for what in
             ("pass", "pass, fresh URL", "https redirect")]  # fmt: skip
    if django:
        for stack in ("django", "django + SecurityMiddleware", "django + redirectware"):
            wsgi += [f"{stack}: pass", f"{stack}: pass, fresh URL"]
            if stack != "django":
                wsgi.append(f"{stack}: https redirect")
    wsgi_site = f"redirectware wsgi site, {SITE_TEMPLATES} templates + {{}} map rows"
    wsgi += [
        f"{wsgi_site.format(size)}: {what}, fresh URL"
        for what in ("pass", "https redirect", "map hit", "template hit")
        for size in sorted({sizes[0], big})
    ]
    load = [
        f"csv.reader alone, {big} rows",
        f"RuleSet.from_file, {big}-row CSV map",
        f"RuleSet.from_dict, {big} templates",
        f"RuleSet.from_dict, {big} host rules",
    ]
    return (
        [("asgi", name) for name in asgi]
        + [("wsgi", name) for name in wsgi]
        + [("load", name) for name in load]
    )


def ratios(suite: Suite, sizes: tuple[int, ...]) -> list[tuple[str, float, str]]:
    """The issue's targets as (what, measured ratio, target) from this run's rows."""
    big, small = sizes[-1], sizes[0]

    def get(name: str) -> float:
        # The headline rows from their own block: sampled in turn with the bare app.
        return suite.headline.get(name) or suite.get(name)

    bare = get("bare app")
    bare_fresh = get("bare app, fresh URLs")
    site = f"redirectware site, {SITE_TEMPLATES} templates + {big} map rows"
    site_small = f"redirectware site, {SITE_TEMPLATES} templates + {small} map rows"
    star_pass = get("starlette HTTPSRedirect: pass") - bare
    star_redirect = get("starlette HTTPSRedirect: redirect")
    star_pass_fresh = get("starlette HTTPSRedirect: pass, fresh URL") - bare_fresh
    star_redirect_fresh = get("starlette HTTPSRedirect: redirect, fresh URL")
    out = [
        (
            "ASGI pass-through added / Starlette HTTPSRedirect's added: fresh URL",
            (get(f"{site}: pass, fresh URL") - bare_fresh) / star_pass_fresh,
            "<= 5",
        ),
        (
            "ASGI https redirect / Starlette HTTPSRedirect's redirect: fresh URL",
            get(f"{site}: https redirect, fresh URL") / star_redirect_fresh,
            "<= 0.3",
        ),
        (
            f"ASGI map hit at {big} rows / Starlette HTTPSRedirect's redirect: fresh URL",
            suite.get(f"{site}: map hit, fresh URL") / star_redirect_fresh,
            "<= 0.3",
        ),
        (
            "ASGI pass-through added / Starlette HTTPSRedirect's added: repeated URL",
            (get(f"{site}: pass") - bare) / star_pass,
            "<= 2.5",
        ),
        (
            "ASGI https redirect / Starlette HTTPSRedirect's redirect: repeated URL",
            get(f"{site}: https redirect") / star_redirect,
            "<= 0.3",
        ),
    ]
    for what in ("pass", "map hit", "template hit"):
        out.append(
            (
                f"site {big} vs {small} map rows: {what}, fresh URL",
                suite.get(f"{site}: {what}, fresh URL")
                / suite.get(f"{site_small}: {what}, fresh URL"),
                "<= 1.1",
            )
        )
    for what in ("pass", "map hit", "template hit"):
        wsgi_site = f"redirectware wsgi site, {SITE_TEMPLATES} templates + {{}} map rows"
        out.append(
            (
                f"WSGI site {big} vs {small} map rows: {what}, fresh URL",
                suite.get(f"{wsgi_site.format(big)}: {what}, fresh URL")
                / suite.get(f"{wsgi_site.format(small)}: {what}, fresh URL"),
                "<= 1.1",
            )
        )
    for family, what in (("templates", "pass"), ("templates", "template hit"),
                         ("host rules", "pass"), ("host rules", "host hit")):  # fmt: skip
        out.append(
            (
                f"{big} vs {small} {family}: {what}, fresh URL",
                get(f"redirectware {big} {family}: {what}, fresh URL")
                / get(f"redirectware {small} {family}: {what}, fresh URL"),
                "<= 1.1",
            )
        )
    names = {row.name for row in suite.rows}
    if "django + redirectware: pass" in names:
        for how in ("", ", fresh URL"):
            django = get(f"django: pass{how}")
            out.append(
                (
                    "Django pass-through: redirectware added / SecurityMiddleware added: "
                    + ("fresh URL" if how else "repeated URL"),
                    (get(f"django + redirectware: pass{how}") - django)
                    / (get(f"django + SecurityMiddleware: pass{how}") - django),
                    "<= 0.3",
                )
            )
    out.append(
        (
            f"{big}-row CSV map load / csv.reader alone",
            get(f"RuleSet.from_file, {big}-row CSV map") / get(f"csv.reader alone, {big} rows"),
            "<= 5",
        )
    )
    return out


def table(suite: Suite) -> str:
    """The rows as a Markdown table: ns per request, added over the bare app, and µs."""
    lines = ["| group | row | median | added over bare |", "| --- | --- | ---: | ---: |"]
    bare = {row.group: row.ns for row in suite.rows if row.name == "bare app"}
    bare_fresh = {row.group: row.ns for row in suite.rows if row.name == "bare app, fresh URLs"}
    for row in suite.rows:
        if row.group == "load":
            lines.append(f"| load | {row.name} | {row.ns / 1e6:,.1f} ms | |")
            continue
        base = bare_fresh.get(row.group) if "fresh URL" in row.name else None
        added = row.ns - (base or bare[row.group]) if not row.name.startswith("bare app") else 0.0
        lines.append(f"| {row.group} | {row.name} | {row.ns:,.0f} ns | {added:,.0f} ns |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; print the table and the target ratios (Markdown) on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="few iterations, small sizes")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    parser.add_argument(
        "--only", choices=["asgi", "wsgi", "load"], action="append", help="run only these groups"
    )
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    groups = set(args.only or ["asgi", "wsgi", "load"])
    suite = Suite(Timer(args.quick))
    memory: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="redirectware-bench-") as tmp:
        folder = Path(tmp)
        if "asgi" in groups:
            asgi_rows(suite, folder, sizes)
        if "wsgi" in groups:
            wsgi_rows(suite, folder, sizes)
        if "load" in groups:
            memory = load_rows(suite, folder, sizes)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()} ({platform.python_implementation()})")  # fmt: skip
    print()
    print(table(suite))
    if memory:
        print(
            f"\nmemory of a {memory['map_rows']}-row map (tracemalloc): "
            f"{memory['retained_bytes'] / 1e6:.1f} MB retained, "
            f"{memory['peak_bytes'] / 1e6:.1f} MB peak"
        )
    if groups == {"asgi", "wsgi", "load"}:
        print("\n| target | measured | wanted |\n| --- | ---: | --- |")
        for what, value, wanted in ratios(suite, sizes):
            print(f"| {what} | {value:.3g}x | {wanted} |")
    if args.json is not None:
        args.json.write_text(
            json.dumps({"rows": [row.__dict__ for row in suite.rows], "memory": memory}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
