"""OpenTelemetry: the same counters through a real SDK meter provider, and the rule and
status on the current span."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from redirectware import RedirectMiddleware, WSGIRedirectMiddleware
from redirectware.asgi import Receive, Scope, Send
from redirectware.counting import parse_metrics_setting
from redirectware.otel import RULE_ATTRIBUTE, STATUS_ATTRIBUTE, OtelMetrics

RULES = {
    "version": 1,
    "rules": [
        {"name": "old-blog", "from": "/blog/{slug}", "to": "/posts/{slug}", "permanent": True},
        {"from": "/about-us", "to": "/about"},
    ],
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    status = 404 if scope["path"] == "/missing" else 200
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def points(reader: InMemoryMetricReader) -> dict[tuple[str, tuple[tuple[str, Any], ...]], float]:
    """Every data point the SDK collects now: (metric, attributes) -> value."""
    found: dict[tuple[str, tuple[tuple[str, Any], ...]], float] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    attributes = tuple(sorted((point.attributes or {}).items()))
                    found[(metric.name, attributes)] = point.value  # type: ignore[union-attr]
    return found


def test_counters_through_a_real_meter_provider() -> None:
    reader = InMemoryMetricReader()
    counting = OtelMetrics(MeterProvider(metric_readers=[reader]))
    middleware = RedirectMiddleware(app, rules=RULES, metrics=counting)

    async def run() -> None:
        transport = httpx.ASGITransport(app=middleware)
        async with httpx.AsyncClient(transport=transport, base_url="http://example.com") as c:
            for path in ["/blog/a", "/blog/b", "/about-us", "/missing", "/fine"]:
                await c.get(path)

    asyncio.run(run())
    found = points(reader)
    assert found[("redirectware.answers", (("rule", "old-blog"), ("status", "301")))] == 2
    assert found[("redirectware.answers", (("rule", "rules[1]"), ("status", "302")))] == 1
    assert found[("redirectware.passed", ())] == 2
    assert found[("redirectware.not_found", ())] == 1


def test_the_rule_and_status_go_on_the_current_span() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    counting = OtelMetrics(MeterProvider(metric_readers=[InMemoryMetricReader()]))

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b""]

    middleware = WSGIRedirectMiddleware(wsgi_app, rules=RULES, metrics=counting)
    for path in ["/blog/x", "/fine"]:
        with tracer.start_as_current_span(f"GET {path}"):
            client = httpx.Client(transport=httpx.WSGITransport(app=middleware))
            client.get("http://example.com" + path)
    spans = {span.name: dict(span.attributes or {}) for span in exporter.get_finished_spans()}
    assert spans["GET /blog/x"] == {RULE_ATTRIBUTE: "old-blog", STATUS_ATTRIBUTE: 301}
    assert spans["GET /fine"] == {}  # passed through: no rule to name


def test_the_setting_names_the_kind() -> None:
    assert parse_metrics_setting("REDIRECTWARE_METRICS", " OTel ") == "otel"
    assert parse_metrics_setting("REDIRECTWARE_METRICS", "yes") is True
    assert parse_metrics_setting("REDIRECTWARE_METRICS", False) is False


def test_metrics_otel_means_the_global_meter_provider() -> None:
    from redirectware.otel import shared_otel

    middleware = RedirectMiddleware(app, rules=RULES, metrics="otel")
    assert middleware._metrics is shared_otel()
