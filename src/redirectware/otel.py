"""The same counters through OpenTelemetry (``pip install 'redirectware[otel]'``), and the
matched rule and status on the current span.

``metrics="otel"`` (Flask and Django: ``REDIRECTWARE_METRICS = "otel"``) counts into three
observable counters of the meter ``redirectware``: ``redirectware.answers`` (attributes
``rule`` and ``status``), ``redirectware.passed`` and ``redirectware.not_found``; exported
through Prometheus they read ``redirectware_answers_total`` and so on, as with
``metrics=True``. Observable counters report the tallies' totals when the SDK collects, so a
request pays one ``next()`` (see :mod:`redirectware.counting`), never the SDK's ``add()``.
Without an SDK configured, the OpenTelemetry API does nothing with them.

An answer of the middleware's own also sets ``redirectware.rule`` and
``redirectware.status`` on the current span, when one is recording (a server
instrumentation's request span, say).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from ._extras import require_extra
from .counting import Counting, Tally, answer_key
from .engine.decision import Decision

require_extra("redirectware OpenTelemetry metrics", "otel", ("opentelemetry",))

from opentelemetry import metrics, trace  # noqa: E402
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation  # noqa: E402

METER = "redirectware"
RULE_ATTRIBUTE = "redirectware.rule"
STATUS_ATTRIBUTE = "redirectware.status"


class OtelMetrics(Counting):
    """Counting through the OpenTelemetry metrics API.

    :param meter_provider: where the counters live (default: the global one, which an
        SDK's ``metrics.set_meter_provider`` sets, before or after this is made).
    """

    def __init__(self, meter_provider: MeterProvider | None = None) -> None:
        meter = metrics.get_meter(METER, meter_provider=meter_provider)
        self.passed = Tally()
        self.not_found = Tally()
        self._answers: dict[tuple[str, int], Tally] = {}
        self._lock = threading.Lock()
        meter.create_observable_counter(
            "redirectware.answers",
            callbacks=[self._observe_answers],
            unit="{answer}",
            description="Answers redirectware sent itself, by rule (name or rules[N]) and status.",
        )
        meter.create_observable_counter(
            "redirectware.passed",
            callbacks=[_observe(self.passed)],
            unit="{request}",
            description="Requests redirectware passed to the app.",
        )
        meter.create_observable_counter(
            "redirectware.not_found",
            callbacks=[_observe(self.not_found)],
            unit="{request}",
            description="Requests redirectware passed to the app that the app answered 404.",
        )

    def answered(self, decision: Decision) -> None:
        """Count an answer, and name its rule and status on the current span."""
        key = answer_key(decision)
        tally = self._answers.get(key)
        if tally is None:
            with self._lock:
                tally = self._answers.setdefault(key, Tally())
        tally.add()
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(RULE_ATTRIBUTE, key[0])
            span.set_attribute(STATUS_ATTRIBUTE, key[1])

    def _observe_answers(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            answers = list(self._answers.items())
        return [
            Observation(tally.total(), {"rule": rule, "status": str(status)})
            for (rule, status), tally in answers
        ]


def _observe(tally: Tally) -> Any:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(tally.total())]

    return observe


_SHARED: OtelMetrics | None = None


def shared_otel() -> OtelMetrics:
    """The :class:`OtelMetrics` of the global meter provider, which ``metrics="otel"`` means."""
    global _SHARED
    if _SHARED is None:
        _SHARED = OtelMetrics()
    return _SHARED
