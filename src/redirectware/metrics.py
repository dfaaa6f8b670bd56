"""Counters of what the middleware does, in Prometheus (``pip install 'redirectware[prometheus]'``).

Three counters, in ``prometheus_client``'s default registry unless told otherwise:

* ``redirectware_answers_total{rule, status}``: answers the middleware sent itself
  (redirects, 503s, 400s). ``rule`` is the rule's name, or ``rules[N]`` for a rule without
  one, or ``""`` for an answer no rule made (a malformed Host): never a path, so the number
  of series stays bounded by the document, whatever clients send.
* ``redirectware_passed_total``: requests handed to the app.
* ``redirectware_not_found_total``: of those, the ones the app answered 404: the URLs people
  still ask for that no rule covers (``redirectware replay`` and ``suggest`` name them).

Adapters build a :class:`Metrics` only when asked (``metrics=True``), through
:func:`redirectware.adapter.metrics_for`; without it this module (and ``prometheus_client``) is
never imported and the request path is the one without metrics. With it, the app is wrapped
once, at start-up, by a counting app (:meth:`Metrics.asgi_app`, :meth:`Metrics.wsgi_app`,
:meth:`Metrics.django_get_response`).

A request counts with one call to ``next()`` of an :func:`itertools.count` (atomic under the
GIL, some 25 ns), not with ``Counter.inc()`` (a lock, some 300 ns: more than the 10% of a
pass-through that counting may cost). The tallies are carried into the
``prometheus_client`` counters when the registry is collected (a scrape, ``generate_latest``,
``get_sample_value``), so a scrape in the same process is always exact; in multiprocess
mode, where another process reads the counts, a background thread also carries them over
every :data:`FLUSH_SECONDS` and at exit.

Under gunicorn (or any server with several worker processes), set ``PROMETHEUS_MULTIPROC_DIR``
before the server starts: ``prometheus_client`` then keeps each worker's counts in a file
there, and a :class:`prometheus_client.multiprocess.MultiProcessCollector` adds them up for a
scrape (see docs/operating.md).
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import Any

from ._extras import require_extra
from .counting import Counting, Tally, answer_key
from .engine.decision import Decision

require_extra("redirectware metrics", "prometheus", ("prometheus_client",))

from prometheus_client import REGISTRY, CollectorRegistry, Counter  # noqa: E402
from prometheus_client.metrics_core import Metric  # noqa: E402

ANSWERS = "redirectware_answers"
PASSED = "redirectware_passed"
NOT_FOUND = "redirectware_not_found"
#: In multiprocess mode, the longest a count waits in a worker before it reaches the files.
FLUSH_SECONDS = 1.0


class Counts:
    """The three counters of one registry, and the tallies that feed them.

    Registered in the registry as one collector: collecting it first carries the tallies
    over, then reports the counters. ``prometheus_client`` refuses a second counter of one
    name in one registry, and several middlewares (a reload, tests, two apps in one process)
    must count into the same ones: :func:`counts_of` makes one per registry.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.answers = Counter(
            ANSWERS,
            "Answers redirectware sent itself, by rule (name or rules[N]) and status.",
            ["rule", "status"],
            registry=None,
        )
        self.passed_counter = Counter(
            PASSED, "Requests redirectware passed to the app.", registry=None
        )
        self.not_found_counter = Counter(
            NOT_FOUND,
            "Requests redirectware passed to the app that the app answered 404.",
            registry=None,
        )
        self.passed = Tally(self.passed_counter)
        self.not_found = Tally(self.not_found_counter)
        # One per (rule, status): a number bounded by the document.
        self.answer_tallies: dict[tuple[str, int], Tally] = {}
        self._lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        registry.register(self)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            self.start_flusher()

    def answer_tally(self, rule: str, status: int) -> Tally:
        """The tally of answers of ``rule`` with ``status``, made on first use."""
        with self._lock:
            tally = self.answer_tallies.get((rule, status))
            if tally is None:
                tally = Tally(self.answers.labels(rule, str(status)))
                self.answer_tallies[(rule, status)] = tally
            return tally

    def _tallies(self) -> list[Tally]:
        return [self.passed, self.not_found, *self.answer_tallies.values()]

    def flush(self) -> None:
        """Carry every tally into its counter."""
        with self._lock:
            for tally in self._tallies():
                tally.flush()

    def forget(self) -> None:
        """In a forked child: drop the parent's pending counts, and flush from here on."""
        self._lock = threading.Lock()
        for tally in self._tallies():
            tally.forget()
        if self._flusher is not None:
            self.start_flusher()

    def start_flusher(self) -> None:
        """Flush every :data:`FLUSH_SECONDS` on a daemon thread, and once at exit."""
        self._flusher = threading.Thread(
            target=self._flush_forever, name="redirectware-metrics", daemon=True
        )
        self._flusher.start()

    def _flush_forever(self) -> None:
        # Every FLUSH_SECONDS until the process ends (a daemon thread needs no stopping).
        never = threading.Event()
        while not never.wait(FLUSH_SECONDS):
            self.flush()

    # The collector protocol of prometheus_client.

    def describe(self) -> list[Metric]:
        """The three metrics' names, for the registry's duplicate check."""
        counters = (self.answers, self.passed_counter, self.not_found_counter)
        return [metric for counter in counters for metric in counter.describe()]

    def collect(self) -> Iterator[Metric]:
        """Flush, then the three metrics with their samples."""
        self.flush()
        for counter in (self.answers, self.passed_counter, self.not_found_counter):
            yield from counter.collect()


_COUNTS: weakref.WeakKeyDictionary[CollectorRegistry, Counts] = weakref.WeakKeyDictionary()
_COUNTS_LOCK = threading.Lock()


def counts_of(registry: CollectorRegistry) -> Counts:
    """The :class:`Counts` of ``registry``, made the first time it is asked for."""
    with _COUNTS_LOCK:
        found = _COUNTS.get(registry)
        if found is None:
            found = _COUNTS[registry] = Counts(registry)
        return found


def _flush_all() -> None:
    for counts in list(_COUNTS.values()):
        counts.flush()


def _after_fork() -> None:
    global _COUNTS_LOCK
    _COUNTS_LOCK = threading.Lock()
    for counts in list(_COUNTS.values()):
        counts.forget()


atexit.register(_flush_all)
os.register_at_fork(after_in_child=_after_fork)


class Metrics(Counting):
    """The counting the adapters ask for, into the counters of one registry.

    :param registry: where the counters live (default: ``prometheus_client``'s own
        ``REGISTRY``, which ``generate_latest()`` and ``make_asgi_app()`` serve). Every
        :class:`Metrics` of one registry shares its counters.
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.counts = counts_of(registry)
        self.passed = self.counts.passed
        self.not_found = self.counts.not_found
        self._answer_adds: dict[tuple[str, int], Callable[[], object]] = {}

    def answered(self, decision: Decision) -> None:
        """Count an answer the middleware sends itself."""
        key = answer_key(decision)
        add = self._answer_adds.get(key)
        if add is None:
            add = self._answer_adds[key] = self.counts.answer_tally(*key).add
        add()


_SHARED: Metrics | None = None


def shared_metrics() -> Metrics:
    """The :class:`Metrics` of the default registry, which ``metrics=True`` means."""
    global _SHARED
    if _SHARED is None:
        _SHARED = Metrics()
    return _SHARED


# --- serving the counters ---------------------------------------------------------------------

# The shapes of asgi.py and wsgi.py, spelt out here: those modules import this one.
_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_ASGIApp = Callable[[_Scope, _Receive, _Send], Awaitable[None]]
_StartResponse = Callable[..., Callable[[bytes], object]]
_WSGIApp = Callable[[dict[str, Any], _StartResponse], Iterable[bytes]]

#: ``Content-Type`` of the text exposition format a Prometheus server scrapes.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def exposition(registry: CollectorRegistry | None = None) -> bytes:
    """The counters as Prometheus scrapes them: every worker's under a multi-process server.

    With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn with several workers), the counts of every
    worker are read from their files and added up into a fresh registry, which is what
    ``prometheus_client``'s multiprocess mode asks for; this process's own tallies are written
    to its file first, so a scrape never misses what the worker serving it has counted.
    Otherwise ``registry`` (default: the default registry) is served as it is.
    """
    from prometheus_client import generate_latest

    if registry is None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector

        _flush_all()
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(REGISTRY if registry is None else registry)


def asgi_app(registry: CollectorRegistry | None = None) -> _ASGIApp:
    """An ASGI app that answers every HTTP request with :func:`exposition`.

    Mount it where Prometheus scrapes, e.g. ``app.mount("/metrics", asgi_app())`` in Starlette
    or FastAPI.
    """

    async def app(scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            return
        body = exposition(registry)
        headers = [
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def wsgi_app(registry: CollectorRegistry | None = None) -> _WSGIApp:
    """A WSGI app that answers every request with :func:`exposition`."""

    def app(environ: dict[str, Any], start_response: _StartResponse) -> list[bytes]:
        body = exposition(registry)
        start_response(
            "200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app
