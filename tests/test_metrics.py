"""Prometheus counters: ``metrics=True`` on every adapter, real registries, and a real
multi-worker gunicorn in multiprocess mode."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector

from redirectware import RedirectMiddleware, WSGIRedirectMiddleware
from redirectware.asgi import Receive, Scope, Send
from redirectware.metrics import Metrics
from tests.django_site import configure

from .servers import GUNICORN, serve

configure()

from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402

from redirectware.django import RedirectMiddleware as DjangoMiddleware  # noqa: E402

RULES = {
    "version": 1,
    "rules": [
        {"name": "old-blog", "from": "/blog/{slug}", "to": "/posts/{slug}", "permanent": True},
        {"from": "/about-us", "to": "/about"},
        {"name": "legacy", "map": [{"from": f"/legacy/{n}", "to": f"/new/{n}"} for n in range(50)]},
    ],
}


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    """A counter's value in ``registry``; 0 before its first count."""
    return registry.get_sample_value(name, labels) or 0.0


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    status = 404 if scope["path"].startswith("/missing") else 200
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"app"})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    missing = environ["PATH_INFO"].startswith("/missing")
    start_response("404 Not Found" if missing else "200 OK", [])
    return [b"app"]


TRAFFIC = [
    ("GET", "/blog/a", 301),
    ("POST", "/blog/b", 308),
    ("GET", "/about-us", 302),
    ("GET", "/missing", 404),
    ("GET", "/missing/2", 404),
    ("GET", "/fine", 200),
    *[("GET", f"/legacy/{n}", 302) for n in range(50)],
]


def expect_counts(registry: CollectorRegistry, before: dict[str, float] | None = None) -> None:
    base = before or {}

    def delta(name: str, **labels: str) -> float:
        key = name + repr(sorted(labels.items()))
        return value(registry, name, **labels) - base.get(key, 0.0)

    assert delta("redirectware_answers_total", rule="old-blog", status="301") == 1
    assert delta("redirectware_answers_total", rule="old-blog", status="308") == 1
    assert delta("redirectware_answers_total", rule="rules[1]", status="302") == 1
    # 50 different paths, one series: the label is the rule, never the path.
    assert delta("redirectware_answers_total", rule="legacy", status="302") == 50
    assert delta("redirectware_passed_total") == 3
    assert delta("redirectware_not_found_total") == 2


def snapshot(registry: CollectorRegistry) -> dict[str, float]:
    keys = [
        ("redirectware_answers_total", {"rule": "old-blog", "status": "301"}),
        ("redirectware_answers_total", {"rule": "old-blog", "status": "308"}),
        ("redirectware_answers_total", {"rule": "rules[1]", "status": "302"}),
        ("redirectware_answers_total", {"rule": "legacy", "status": "302"}),
        ("redirectware_passed_total", {}),
        ("redirectware_not_found_total", {}),
    ]
    return {
        name + repr(sorted(labels.items())): value(registry, name, **labels)
        for name, labels in keys
    }


def test_asgi_counts_answers_passes_and_the_apps_404s() -> None:
    registry = CollectorRegistry()
    app = RedirectMiddleware(asgi_app, rules=RULES, metrics=Metrics(registry))

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://example.com") as client:
            for method, path, status in TRAFFIC:
                assert (await client.request(method, path)).status_code == status

    asyncio.run(run())
    expect_counts(registry)


def test_asgi_lifespan_is_not_a_request() -> None:
    registry = CollectorRegistry()
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    middleware = RedirectMiddleware(app, rules=RULES, metrics=Metrics(registry))

    async def nothing() -> Any:
        return {"type": "lifespan.startup"}

    async def ignore(message: Any) -> None:
        pass

    asyncio.run(middleware({"type": "lifespan"}, nothing, ignore))
    assert seen == ["lifespan"]
    assert value(registry, "redirectware_passed_total") == 0


def test_metrics_true_counts_in_the_default_registry() -> None:
    before = snapshot(REGISTRY)
    app = WSGIRedirectMiddleware(wsgi_app, rules=RULES, metrics=True)
    from werkzeug.test import Client

    client = Client(app)
    for method, path, status in TRAFFIC:
        assert client.open(path, method=method, base_url="http://example.com").status_code == status
    expect_counts(REGISTRY, before)


def test_flask_config_switches_metrics_on() -> None:
    from flask import Flask

    from redirectware.flask import Redirectware

    app = Flask(__name__)
    app.config.update(REDIRECTWARE=RULES, REDIRECTWARE_METRICS="true")

    @app.route("/fine")
    def fine() -> str:
        return "fine"

    Redirectware(app)
    before = snapshot(REGISTRY)
    client = app.test_client()
    for method, path, status in TRAFFIC:
        assert client.open(path, method=method).status_code == status
    expect_counts(REGISTRY, before)


def test_flask_metrics_value_must_be_a_boolean() -> None:
    from flask import Flask

    from redirectware.flask import Redirectware

    app = Flask(__name__)
    app.config.update(REDIRECTWARE=RULES, REDIRECTWARE_METRICS="sometimes")
    with pytest.raises(ValueError, match="REDIRECTWARE_METRICS"):
        Redirectware(app)


def _django_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("app", status=404 if request.path.startswith("/missing") else 200)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_django_setting_switches_metrics_on(mode: str) -> None:
    factory = RequestFactory()
    before = snapshot(REGISTRY)
    with override_settings(REDIRECTWARE=RULES, REDIRECTWARE_METRICS=True, ALLOWED_HOSTS=["*"]):
        if mode == "sync":
            middleware = DjangoMiddleware(_django_view)
        else:

            async def view(request: HttpRequest) -> HttpResponse:
                return _django_view(request)

            middleware = DjangoMiddleware(view)
        for method, path, status in TRAFFIC:
            request = factory.generic(method, path, HTTP_HOST="example.com")
            response = middleware(request)
            if mode == "async":
                response = asyncio.run(response)
            assert response.status_code == status
    expect_counts(REGISTRY, before)


def test_django_metrics_value_must_be_a_boolean() -> None:
    from django.core.checks import run_checks

    with override_settings(REDIRECTWARE=RULES, REDIRECTWARE_METRICS="sometimes"):
        ids = [m.id for m in run_checks() if m.id and m.id.startswith("redirectware.")]
    assert ids == ["redirectware.E007"]


def test_without_metrics_the_app_is_not_wrapped_and_nothing_is_imported() -> None:
    # In a fresh interpreter: serving requests without metrics loads neither the metrics
    # module nor prometheus_client, and the app is called as given.
    code = """
import asyncio, sys
from redirectware import RedirectMiddleware, WSGIRedirectMiddleware
async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})
def wapp(environ, start_response):
    start_response("200 OK", [])
    return [b""]
m = RedirectMiddleware(app, rules={"version": 1, "rules": [{"from": "/a", "to": "/b"}]})
w = WSGIRedirectMiddleware(wapp, rules={"version": 1, "rules": [{"from": "/a", "to": "/b"}]})
assert m.app is app and w.app is wapp
async def receive(): return {"type": "http.request"}
async def send(message): pass
for path in ("/a", "/x"):
    scope = {"type": "http", "method": "GET", "scheme": "http", "path": path,
             "raw_path": path.encode(), "query_string": b"", "headers": [(b"host", b"e.com")]}
    asyncio.run(m(scope, receive, send))
print(sorted(n for n in sys.modules if "prometheus" in n or n == "redirectware.metrics"))
"""
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_a_bad_metrics_argument_is_refused() -> None:
    with pytest.raises(TypeError, match="metrics must be"):
        RedirectMiddleware(asgi_app, rules=RULES, metrics="yes")


# --- gunicorn with several workers ----------------------------------------------------------

GUNICORN_APP = """\
import os
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from redirectware import WSGIRedirectMiddleware

def site(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/metrics":
        # prometheus_client's own way: a fresh registry that adds up every worker's files.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [generate_latest(registry)]
    status = "404 Not Found" if path.startswith("/missing") else "200 OK"
    start_response(status, [("X-Worker", str(os.getpid()))])
    return [b""]

application = WSGIRedirectMiddleware(
    site,
    rules={"version": 1, "rules": [{"name": "old", "from": "/old", "to": "/new"}]},
    metrics=True,
)
"""


@pytest.mark.servers
@pytest.mark.parametrize(
    "preload",
    [
        pytest.param([], id="app-loaded-in-each-worker"),
        # Counters made in the master, then forked: each child must count on its own.
        pytest.param(["--preload"], id="preload"),
    ],
)
def test_multiprocess_mode_under_gunicorn_adds_up_every_worker(
    tmp_path: Path, preload: list[str]
) -> None:
    (tmp_path / "metrics_site.py").write_text(GUNICORN_APP)
    counts = tmp_path / "prometheus"
    counts.mkdir()
    command = [
        *GUNICORN, "--bind", "fd://{fd}", "--workers", "3", *preload, "metrics_site:application"
    ]  # fmt: skip
    env = {"PROMETHEUS_MULTIPROC_DIR": str(counts)}
    sent = {"old": 0, "fine": 0, "missing": 0}
    workers: set[str] = set()
    with serve(command, cwd=tmp_path, env=env, ready_path="/fine") as server:
        sent["fine"] += 1  # the readiness request
        deadline = time.monotonic() + 60
        # New connections until at least two workers have answered pass-throughs.
        while len(workers) < 2 or sum(sent.values()) < 30:
            assert time.monotonic() < deadline, f"one worker answered everything: {workers}"
            for name, path in [("old", "/old"), ("fine", "/fine"), ("missing", "/missing")]:
                with httpx.Client() as client:
                    response = client.get(server.url + path)
                sent[name] += 1
                if "x-worker" in response.headers:
                    workers.add(response.headers["x-worker"])
        # Each worker carries its counts to the files within FLUSH_SECONDS: a scrape shows
        # every worker's requests once that has passed.
        wanted = f"redirectware_not_found_total {float(sent['missing'])}"
        deadline = time.monotonic() + 30
        exposed = httpx.get(server.url + "/metrics").text
        scrapes = 1
        while wanted not in exposed:
            assert time.monotonic() < deadline, exposed
            with httpx.Client() as client:
                exposed = client.get(server.url + "/metrics", timeout=5).text
            scrapes += 1
    assert len(list(counts.glob("counter_*.db"))) >= 2  # one file per worker that counted
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(counts))  # type: ignore[no-untyped-call]
    assert value(registry, "redirectware_answers_total", rule="old", status="302") == sent["old"]
    # Counted after the server stopped (each worker flushes at exit): exact. The scrapes of
    # /metrics passed through too.
    passed = sent["fine"] + sent["missing"] + scrapes
    assert value(registry, "redirectware_passed_total") == passed
    assert value(registry, "redirectware_not_found_total") == sent["missing"]


# --- the shipped /metrics views ------------------------------------------------------------

SHIPPED_FLASK_APP = """\
from flask import Flask

from redirectware.flask import Redirectware

app = Flask(__name__)
app.config.update(
    REDIRECTWARE={"version": 1, "rules": [{"name": "old", "from": "/old", "to": "/new"}]},
    REDIRECTWARE_METRICS=True,
    REDIRECTWARE_METRICS_PATH="/metrics",
)
Redirectware(app)


@app.get("/fine")
def fine() -> str:
    return "fine"
"""


@pytest.mark.servers
def test_the_shipped_flask_route_adds_up_every_gunicorn_worker(tmp_path: Path) -> None:
    # No hand-written collector: REDIRECTWARE_METRICS_PATH serves every worker's counts.
    (tmp_path / "shipped_site.py").write_text(SHIPPED_FLASK_APP)
    counts = tmp_path / "prometheus"
    counts.mkdir()
    command = [*GUNICORN, "--bind", "fd://{fd}", "--workers", "3", "shipped_site:app"]
    env = {"PROMETHEUS_MULTIPROC_DIR": str(counts)}
    redirects = 0
    with serve(command, cwd=tmp_path, env=env, ready_path="/fine") as server:
        files: set[str] = set()
        deadline = time.monotonic() + 60
        # New connections until the redirects have been answered by at least two workers
        # (each worker writes its own counter file).
        while len(files) < 2 or redirects < 30:
            assert time.monotonic() < deadline, f"one worker answered everything: {files}"
            with httpx.Client() as client:
                response = client.get(server.url + "/old")
            assert response.status_code == 302
            redirects += 1
            files = {p.name for p in counts.glob("counter_*.db")}
        wanted = f'redirectware_answers_total{{rule="old",status="302"}} {float(redirects)}'
        deadline = time.monotonic() + 30
        while True:
            with httpx.Client() as client:
                scraped = client.get(server.url + "/metrics", timeout=5)
            if wanted in scraped.text:
                break
            assert time.monotonic() < deadline, scraped.text
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")


def _scrape_asgi(app: Any) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/metrics", "headers": []}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


def test_the_shipped_asgi_wsgi_and_django_views_serve_the_counters() -> None:
    from redirectware.django import metrics_view
    from redirectware.metrics import asgi_app as metrics_asgi_app
    from redirectware.metrics import wsgi_app as metrics_wsgi_app

    registry = CollectorRegistry()
    middleware = RedirectMiddleware(asgi_app, rules=RULES, metrics=Metrics(registry))

    async def one_request() -> None:
        transport = httpx.ASGITransport(app=middleware)
        async with httpx.AsyncClient(transport=transport, base_url="http://example.com") as client:
            assert (await client.get("/about-us")).status_code == 302

    asyncio.run(one_request())
    status, headers, body = _scrape_asgi(metrics_asgi_app(registry))
    assert status == 200
    assert headers[b"content-type"].startswith(b"text/plain; version=0.0.4")
    assert b'redirectware_answers_total{rule="rules[1]",status="302"} 1.0' in body

    started: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> Any:
        started.append(status)
        return None

    chunks = metrics_wsgi_app(registry)({}, start_response)
    assert started == ["200 OK"]
    assert b'redirectware_answers_total{rule="rules[1]",status="302"} 1.0' in b"".join(chunks)

    # The Django view serves the default registry, which metrics=True counts into.
    settings = {"REDIRECTWARE": RULES, "REDIRECTWARE_METRICS": True, "ALLOWED_HOSTS": ["*"]}
    with override_settings(**settings):
        before = value(REGISTRY, "redirectware_answers_total", rule="old-blog", status="301")
        django = DjangoMiddleware(_django_view)
        answer = django(RequestFactory().get("/blog/x", HTTP_HOST="example.com"))
        assert answer.status_code == 301
    response = metrics_view(RequestFactory().get("/metrics"))
    assert response.status_code == 200
    line = f'redirectware_answers_total{{rule="old-blog",status="301"}} {before + 1}'
    assert line.encode() in response.content
