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

import atexit
import itertools
import logging
import os
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from time import time as _now
from typing import Any

from .engine.decision import Decision
from .engine.model import Rule
from .settings_values import SettingValueError, parse_bool

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

logger = logging.getLogger("redirectware")


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


# --- hit counts: which rules and rows earn their keep -----------------------------------------

#: A hit counter's key: ``("rule", NAME)`` for a rule (its name, or ``rules[N]``), or
#: ``("row", KIND, SOURCE, ROW)`` for a row a registered source gave a ``map``
#: (``("row", "database", "default", 42)``: row 42 of the database ``default``).
HitKey = tuple[Any, ...]
#: What a flush hands its sink: per key, the hits since the last flush and the last hit's time
#: (seconds since the epoch).
HitBatch = dict[HitKey, tuple[int, float]]
#: Writes a batch where it is kept (a database); raising keeps the batch for the next flush.
HitSink = Callable[[HitBatch], None]
#: Seconds between two flushes unless told otherwise (``REDIRECTWARE_STATS_FLUSH``).
DEFAULT_FLUSH_SECONDS = 60.0


class HitCounts(Counting):
    """Hit counts and last-hit times per rule and per managed row, kept in this process.

    Counting costs an answer a dictionary lookup, one ``next()`` and one ``time()`` per rule
    that made it, with no lock and no I/O: nothing is written on the request path. A flush
    (:meth:`flush`, every ``flush_seconds`` on a daemon thread once :meth:`start` is called,
    and at exit) hands the *increments* since the last flush to ``sink``, which adds them to
    what is stored: several processes and servers then sum correctly. A sink that fails keeps
    its batch for the next flush.

    ``inner`` is the metrics this counting stands in front of (or None): its own tallies and
    answers are kept as they were. Without it the app is not wrapped at all, so a
    pass-through costs what it did without counting.
    """

    def __init__(
        self,
        inner: Counting | None = None,
        sink: HitSink | None = None,
        flush_seconds: float = DEFAULT_FLUSH_SECONDS,
    ) -> None:
        self.inner = inner
        self.sink = sink
        self.flush_seconds = flush_seconds
        self.passed = inner.passed if inner is not None else Tally()
        self.not_found = inner.not_found if inner is not None else Tally()
        self._tallies: dict[HitKey, Tally] = {}
        self._last: dict[HitKey, float] = {}
        # The lock guards making a tally and flushing, never a plain hit.
        self._lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        _ALL_HIT_COUNTS.add(self)

    # The request path.

    def answered(self, decision: Decision) -> None:
        """Count each rule (and managed row) that made an answer the middleware sends."""
        now = _now()
        hops = decision.hops
        if hops:
            for hop in hops:
                self._hit(hop.rule, hop.row, now)
        elif decision.rule is not None:
            self._hit(decision.rule, decision.row, now)
        if self.inner is not None:
            self.inner.answered(decision)

    def _hit(self, rule: Rule, row: int | None, now: float) -> None:
        key: HitKey = ("rule", rule.name or f"rules[{rule.index}]")
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tally(key)
        tally.add()
        self._last[key] = now
        if row is None:
            return
        source = getattr(rule.action, "provided_by", None)
        if source is None:
            return  # a row of a file: the rule's count says it all, the file is the record
        key = ("row", source.kind, source.name, row)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tally(key)
        tally.add()
        self._last[key] = now

    def _tally(self, key: HitKey) -> Tally:
        with self._lock:
            return self._tallies.setdefault(key, Tally())

    # Reading and flushing.

    def pending(self) -> HitBatch:
        """The hits not flushed yet, per key, with the last hit's time."""
        batch: HitBatch = {}
        for key, tally in list(self._tallies.items()):
            count = tally.total() - tally._flushed
            if count > 0:
                batch[key] = (count, self._last.get(key, 0.0))
        return batch

    def flush(self) -> None:
        """Hand the hits since the last flush to the sink; on success they are done with."""
        with self._lock:
            totals = {key: tally.total() for key, tally in self._tallies.items()}
            batch: HitBatch = {}
            for key, total in totals.items():
                count = total - self._tallies[key]._flushed
                if count > 0:
                    batch[key] = (count, self._last.get(key, 0.0))
            if not batch or self.sink is None:
                return
            try:
                self.sink(batch)
            except Exception:
                # Kept for the next flush: a database that is away must not lose the counts,
                # nor stop the thread that writes them.
                logger.exception("could not write hit counts; they are kept for the next flush")
                return
            for key, total in totals.items():
                self._tallies[key]._flushed = total

    def start(self) -> None:
        """Flush every :attr:`flush_seconds` on a daemon thread (and once at exit)."""
        if self._flusher is not None and self._flusher.is_alive():
            return
        self._flusher = threading.Thread(
            target=self._flush_forever, name="redirectware-hits", daemon=True
        )
        self._flusher.start()

    def _flush_forever(self) -> None:
        # A daemon thread needs no stopping; the exit flush catches what it had not written.
        never = threading.Event()
        while not never.wait(self.flush_seconds):
            self.flush()

    def _after_fork(self) -> None:
        # The parent's pending hits are the parent's to write; the child starts from zero,
        # with a thread of its own (threads do not survive a fork).
        self._lock = threading.Lock()
        for tally in self._tallies.values():
            tally.forget()
        if self._flusher is not None:
            self._flusher = None
            self.start()

    # The app's side: only wrapped when the inner metrics want it.

    def asgi_app(self, app: ASGIApp) -> ASGIApp:
        """The inner metrics' wrapper, or ``app`` itself."""
        return app if self.inner is None else self.inner.asgi_app(app)

    def wsgi_app(self, app: WSGIApp) -> WSGIApp:
        """The inner metrics' wrapper, or ``app`` itself."""
        return app if self.inner is None else self.inner.wsgi_app(app)

    def django_get_response(self, get_response: Any, is_async: bool) -> Any:
        """The inner metrics' wrapper, or ``get_response`` itself."""
        if self.inner is None:
            return get_response
        return self.inner.django_get_response(get_response, is_async)


_ALL_HIT_COUNTS: weakref.WeakSet[HitCounts] = weakref.WeakSet()


def _flush_all_hits() -> None:
    for counts in list(_ALL_HIT_COUNTS):
        counts.flush()


def _hits_after_fork() -> None:
    for counts in list(_ALL_HIT_COUNTS):
        counts._after_fork()


atexit.register(_flush_all_hits)
os.register_at_fork(after_in_child=_hits_after_fork)
