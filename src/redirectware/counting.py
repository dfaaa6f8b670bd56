"""What every kind of metrics shares: tallies that cost a request almost nothing, and the
wrappers that count what the app does with the requests it is handed.

A request is counted with one call to ``next()`` of an :func:`itertools.count` (atomic under
the GIL, some 25 ns), never with a metrics library's own ``inc()``/``add()`` (a lock and
more, some 300 ns to microseconds: more than the 10% of a pass-through that counting may
cost). Each kind reads the tallies when its library collects: ``prometheus_client`` in
:mod:`redirectware.metrics`, OpenTelemetry in :mod:`redirectware.otel`.

The wrappers are built once, at start-up, around the app (ASGI, WSGI) or Django's
``get_response``: the request path of a middleware without metrics never meets them.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from .engine.decision import Decision
from .settings_values import SettingValueError, parse_bool

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Tally:
    """A count that any thread adds to without a lock, carried into a counter on demand."""

    __slots__ = ("_count", "_flushed", "add", "counter")

    def __init__(self, counter: Any = None) -> None:
        self.counter = counter
        self._count = itertools.count()
        #: Add one: ``next()`` of an ``itertools.count``, one C call, atomic under the GIL.
        self.add: Callable[[], object] = self._count.__next__
        self._flushed = 0

    def total(self) -> int:
        """How many were added so far (``repr`` is the one public way to read a count)."""
        return int(repr(self._count)[6:-1])

    def flush(self) -> None:
        """Carry what was added since the last flush into the counter."""
        now = self.total()
        if now > self._flushed and self.counter is not None:
            self.counter.inc(now - self._flushed)
            self._flushed = now

    def forget(self) -> None:
        """Drop what is pending: after a fork, the parent's counts are the parent's to flush."""
        self._flushed = self.total()


#: The kinds of metrics a setting may name, besides true and false (true is Prometheus).
KINDS = ("prometheus", "otel")


def parse_metrics_setting(key: str, value: object) -> bool | str:
    """``REDIRECTWARE_METRICS`` (Flask's config, Django's settings): a boolean as
    :func:`~redirectware.settings_values.parse_bool` reads it, or ``"prometheus"`` or
    ``"otel"`` in any case. :class:`SettingValueError` for anything else."""
    if isinstance(value, str) and value.strip().lower() in KINDS:
        return value.strip().lower()
    try:
        return parse_bool(key, value)
    except SettingValueError:
        raise SettingValueError(
            f"{key} must be true, false, 'prometheus' or 'otel' (true/false/1/0/yes/no in any "
            f"case for a boolean), not {value!r}"
        ) from None


def answer_key(decision: Decision) -> tuple[str, int]:
    """The labels of an answer: the rule's name or ``rules[N]`` (``""`` when no rule made it:
    a malformed Host), and the status. Never a path: bounded by the document."""
    rule = decision.rule
    return ("" if rule is None else rule.short_name, int(decision.status))


class Counting:
    """Counts pass-throughs and the app's 404s in :attr:`passed` and :attr:`not_found`;
    each kind of metrics adds :meth:`answered` and reads the tallies its own way."""

    passed: Tally
    not_found: Tally

    def answered(self, decision: Decision) -> None:
        """Count an answer the middleware sends itself."""
        raise NotImplementedError

    def asgi_app(self, app: ASGIApp) -> ASGIApp:
        """``app``, counting each HTTP request it gets and each 404 it answers."""
        passed = self.passed.add
        not_found = self.not_found.add

        # Plain functions handing back the app's (and send's) own awaitable: a coroutine of
        # ours per request and per message would cost more than the counting itself.
        def counting_app(
            scope: MutableMapping[str, Any], receive: Receive, send: Send
        ) -> Awaitable[None]:
            if scope["type"] != "http":  # lifespan and websockets are no requests
                return app(scope, receive, send)
            passed()

            def watching_send(message: Message) -> Awaitable[None]:
                # Only http.response.start carries a status: one lookup per message.
                if message.get("status") == 404:
                    not_found()
                return send(message)

            return app(scope, receive, watching_send)

        return counting_app

    def wsgi_app(self, app: WSGIApp) -> WSGIApp:
        """``app``, counting each request it gets and each 404 it answers."""
        passed = self.passed.add
        not_found = self.not_found.add

        def counting_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            passed()

            def watching_start(status: str, headers: Any, exc_info: Any = None) -> Any:
                if status.startswith("404"):
                    not_found()
                return start_response(status, headers, exc_info)

            return app(environ, watching_start)

        return counting_app

    def django_get_response(self, get_response: Any, is_async: bool) -> Any:
        """Django's ``get_response``, counting each request and each 404 response."""
        passed = self.passed.add
        not_found = self.not_found.add
        if is_async:

            async def counting_async(request: Any) -> Any:
                passed()
                response = await get_response(request)
                if response.status_code == 404:
                    not_found()
                return response

            return counting_async

        def counting(request: Any) -> Any:
            passed()
            response = get_response(request)
            if response.status_code == 404:
                not_found()
            return response

        return counting
