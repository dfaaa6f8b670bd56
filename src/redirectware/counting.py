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
import re
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from pathlib import Path
from time import time as _now
from typing import Any, NamedTuple
from urllib.parse import unquote_to_bytes

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
#: Writes a flush where it is kept (a database): the hits, and the 404 paths tallied since
#: the last flush (see :class:`NotFoundTally`). Raising keeps both for the next flush.
HitSink = Callable[[HitBatch, "list[NotFoundPath]"], None]
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
    answers are kept as they were. ``not_found`` tallies the paths of the app's 404s to GET
    and HEAD, in every adapter. Without either, the app is not wrapped at all, so a
    pass-through costs what it did without counting.
    """

    def __init__(
        self,
        inner: Counting | None = None,
        sink: HitSink | None = None,
        flush_seconds: float = DEFAULT_FLUSH_SECONDS,
        not_found: NotFoundTally | None = None,
    ) -> None:
        self.inner = inner
        self.not_found_paths = not_found
        self.sink = sink
        self.flush_seconds = flush_seconds
        self.passed = inner.passed if inner is not None else Tally()
        self.not_found = inner.not_found if inner is not None else Tally()
        self._tallies: dict[HitKey, Tally] = {}
        self._last: dict[HitKey, float] = {}
        self._by_rule: dict[int, tuple[Rule, Callable[[], object], HitKey, Any]] = {}
        # The lock guards making a tally and flushing, never a plain hit.
        self._lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        _ALL_HIT_COUNTS.add(self)

    # The request path.

    def answered(self, decision: Decision) -> None:
        """Count each rule (and managed row) that made an answer the middleware sends."""
        now = _now()
        by_rule = self._by_rule
        last = self._last
        # Each hop of a collapsed chain, or the decision itself (a 410, a 503): both carry
        # ``rule`` and ``row``. Inline, not a call per rule: a call costs more than a count.
        for step in decision.hops or ((decision,) if decision.rule is not None else ()):
            rule = step.rule
            assert rule is not None  # a hop always has its rule
            known = by_rule.get(id(rule))
            if known is None or known[0] is not rule:
                known = self._learn(rule)
            known[1]()
            last[known[2]] = now
            if step.row is not None and known[3] is not None:
                self._row_hit(known[3], step.row, now)
        if self.inner is not None:
            self.inner.answered(decision)

    def _learn(self, rule: Rule) -> tuple[Rule, Callable[[], object], HitKey, Any]:
        """What counting a hit of ``rule`` needs, found once per rule object: its tally's
        ``add``, its key, and the row source of its rows (None: a file's rows are not
        counted one by one; the rule's count says it all, the file is the record)."""
        key: HitKey = ("rule", rule.short_name)
        source = getattr(rule.action, "provided_by", None)
        known = (rule, self._tally(key).add, key, source)
        # By id, with the rule kept alongside: a Rule's own hash would hash its whole map.
        self._by_rule[id(rule)] = known
        return known

    def _row_hit(self, source: Any, row: int, now: float) -> None:
        key: HitKey = ("row", source.kind, source.name, row)
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
        """Hand the hits (and 404s) since the last flush to the sink; on success they are
        done with, on failure kept for the next flush."""
        with self._lock:
            totals = {key: tally.total() for key, tally in self._tallies.items()}
            batch: HitBatch = {}
            for key, total in totals.items():
                count = total - self._tallies[key]._flushed
                if count > 0:
                    batch[key] = (count, self._last.get(key, 0.0))
            tally = self.not_found_paths
            paths = tally.take() if tally is not None and self.sink is not None else []
            if (not batch and not paths) or self.sink is None:
                return
            try:
                self.sink(batch, paths)
            except Exception:
                # A database that is away must not lose the counts, nor stop the thread.
                logger.exception("could not write hit counts; they are kept for the next flush")
                if tally is not None:
                    tally.give_back(paths)
                return
            for key, total in totals.items():
                self._tallies[key]._flushed = total

    def start(self) -> None:
        """Flush every :attr:`flush_seconds` on a daemon thread (and once at exit)."""
        if self._flusher is not None and self._flusher.is_alive():
            return
        self._flusher = threading.Thread(
            target=_flush_while_alive,
            args=(weakref.ref(self), self.flush_seconds),
            name="redirectware-hits",
            daemon=True,
        )
        self._flusher.start()

    def _after_fork(self) -> None:
        # The parent's pending hits are the parent's to write; the child starts from zero,
        # with a thread of its own (threads do not survive a fork).
        self._lock = threading.Lock()
        for tally in self._tallies.values():
            tally.forget()
        if self.not_found_paths is not None:
            self.not_found_paths.take()
        if self._flusher is not None:
            self._flusher = None
            self.start()

    # The app's side: wrapped only when the inner metrics or the 404 tally want it.

    def asgi_app(self, app: ASGIApp) -> ASGIApp:
        """The inner metrics' wrapper (or ``app`` itself), tallying the app's 404s to GET
        and HEAD by path when asked to."""
        if self.inner is not None:
            app = self.inner.asgi_app(app)
        if self.not_found_paths is None:
            return app
        add = self.not_found_paths.add

        def tallying_app(
            scope: MutableMapping[str, Any], receive: Receive, send: Send
        ) -> Awaitable[None]:
            # Lifespan and websocket scopes have no method: they pass as a POST does.
            if scope.get("method") not in _TALLIED:
                return app(scope, receive, send)

            def watching_send(message: Message) -> Awaitable[None]:
                # Only http.response.start carries a status: one lookup per message.
                if message.get("status") == 404:
                    referrer, agent = _asgi_referrer_and_agent(scope.get("headers") or ())
                    add(asgi_text_path(scope), referrer, agent)
                return send(message)

            return app(scope, receive, watching_send)

        return tallying_app

    def wsgi_app(self, app: WSGIApp) -> WSGIApp:
        """The inner metrics' wrapper (or ``app`` itself), tallying the app's 404s to GET
        and HEAD by path when asked to."""
        if self.inner is not None:
            app = self.inner.wsgi_app(app)
        if self.not_found_paths is None:
            return app
        add = self.not_found_paths.add

        def tallying_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("REQUEST_METHOD") not in _TALLIED:
                return app(environ, start_response)

            def watching_start(status: str, headers: Any, exc_info: Any = None) -> Any:
                if status.startswith("404"):
                    add(
                        wsgi_text_path(environ),
                        environ.get("HTTP_REFERER"),
                        environ.get("HTTP_USER_AGENT"),
                    )
                return start_response(status, headers, exc_info)

            return app(environ, watching_start)

        return tallying_app

    def django_get_response(self, get_response: Any, is_async: bool) -> Any:
        """The inner metrics' wrapper around ``get_response``, tallying the app's 404s to
        GET and HEAD by path when asked to; or ``get_response`` itself."""
        if self.inner is not None:
            get_response = self.inner.django_get_response(get_response, is_async)
        if self.not_found_paths is None:
            return get_response
        add = self.not_found_paths.add

        def tally(request: Any, response: Any) -> None:
            if response.status_code == 404 and request.method in _TALLIED:
                meta = request.META
                add(request.path, meta.get("HTTP_REFERER"), meta.get("HTTP_USER_AGENT"))

        if is_async:

            async def tallying_async(request: Any) -> Any:
                response = await get_response(request)
                tally(request, response)
                return response

            return tallying_async

        def tallying(request: Any) -> Any:
            response = get_response(request)
            tally(request, response)
            return response

        return tallying


_ALL_HIT_COUNTS: weakref.WeakSet[HitCounts] = weakref.WeakSet()

#: The methods whose 404s are tallied: a link followed or typed, not a form sent.
_TALLIED = frozenset({"GET", "HEAD"})
#: A byte of a path that is not UTF-8, as the decoding below leaves it (a lone surrogate).
_BROKEN_BYTE = re.compile("[\udc80-\udcff]")


def _repercent(text: str) -> str:
    return _BROKEN_BYTE.sub(lambda found: f"%{ord(found.group()) - 0xDC00:02X}", text)


def _text_of_target(target: bytes) -> str:
    decoded = unquote_to_bytes(target.split(b"?", 1)[0])
    return _repercent(decoded.decode("utf-8", "surrogateescape")) or "/"


def wsgi_text_path(environ: dict[str, Any]) -> str:
    """The path of a WSGI request as Django's ``request.path`` gives it: decoded, the bytes
    that are not UTF-8 left as ``%XX``. The 404 tally keys its paths so, whichever adapter
    saw them: one path is one row of the table. Read from the request line as sent where
    the server keeps it (``RAW_URI``, ``REQUEST_URI``), else from ``SCRIPT_NAME`` and
    ``PATH_INFO`` (bytes decoded as Latin-1, under PEP 3333)."""
    sent = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(sent, str) and sent.startswith("/"):
        return _text_of_target(sent.encode("latin-1", "replace"))
    raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode(
        "latin-1", "replace"
    )
    return _repercent(raw.decode("utf-8", "surrogateescape")) or "/"


def asgi_text_path(scope: MutableMapping[str, Any]) -> str:
    """The path of an ASGI request as Django's ``request.path`` gives it (see
    :func:`wsgi_text_path`): from ``raw_path`` when the server gives it, so that bytes that
    are not UTF-8 read as they do under WSGI; else ``root_path`` and ``path``."""
    raw: bytes | None = scope.get("raw_path")
    if raw and raw[:1] == b"/":  # not an absolute-form target, which some servers leave
        return _text_of_target(raw)
    return str(scope.get("root_path", "")) + str(scope.get("path", "/"))


def _asgi_referrer_and_agent(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[str | None, str | None]:
    referrer = agent = None
    for name, value in headers:
        if name == b"referer":
            referrer = value.decode("latin-1")
        elif name == b"user-agent":
            agent = value.decode("latin-1")
    return referrer, agent


def _flush_while_alive(ref: weakref.ref[HitCounts], seconds: float) -> None:
    # Through a weak reference: a counting nobody uses any more (a middleware built again,
    # in tests) is collected, and its thread ends.
    paced = threading.Event()
    while not paced.wait(seconds):
        counts = ref()
        if counts is None:
            return
        counts.flush()
        del counts


def flush_all_hits() -> None:
    """Flush every :class:`HitCounts` of this process now (done at exit; tests call it)."""
    for counts in list(_ALL_HIT_COUNTS):
        counts.flush()


def _hits_after_fork() -> None:
    for counts in list(_ALL_HIT_COUNTS):
        counts._after_fork()


atexit.register(flush_all_hits)
os.register_at_fork(after_in_child=_hits_after_fork)


# --- the app's 404s: which paths are worth a redirect ------------------------------------------

#: Paths a process keeps in its 404 tally unless told otherwise (``REDIRECTWARE_NOT_FOUND_KEEP``).
DEFAULT_NOT_FOUND_KEEP = 1000
#: Referrers kept per path: the first ones seen, each with its count.
REFERRERS_KEPT = 5
#: Longer paths and referrers are junk, not links to repair: not kept (memory stays bounded).
LONGEST_KEPT = 1000


def crawler_patterns() -> re.Pattern[str]:
    """The crawlers' user-agent patterns shipped in ``crawlers.txt``, as one expression."""
    text = (Path(__file__).with_name("crawlers.txt")).read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)


class NotFoundPath(NamedTuple):
    """What a process saw of one path the app answered 404, since its last flush."""

    path: str
    hits: int
    last_seen: float
    #: Hits whose user agent is a crawler's.
    bot_hits: int
    #: ``(referrer, hits)``, most first.
    referrers: tuple[tuple[str, int], ...]


class NotFoundTally:
    """The paths of the app's 404s most asked for, in a structure of bounded size.

    A top-k sketch: at most ``2 * keep`` paths are held; when a new path would pass that,
    the ``keep`` most hit stay and the rest go (one sort per ``keep`` new paths, so a
    log-time cost per path). A flood of distinct junk paths, each hit once, thus cannot
    grow memory, and cannot push out a path hit more often than the junk. Referrers and
    paths longer than :data:`LONGEST_KEPT` are not kept.

    A request thread and the flush may meet; the GIL keeps each step whole, and a hit that
    lands on a table just taken by a flush is lost: a tally meant for ranking, not billing.
    """

    def __init__(self, keep: int = DEFAULT_NOT_FOUND_KEEP) -> None:
        self.keep = keep
        self._entries: dict[str, list[Any]] = {}
        self._crawler = crawler_patterns().search

    def add(self, path: str, referrer: str | None, user_agent: str | None) -> None:
        """Count one 404 of ``path``."""
        if len(path) > LONGEST_KEPT:
            return
        entries = self._entries
        entry = entries.get(path)
        if entry is None:
            if len(entries) >= 2 * self.keep:
                self._prune(entries)
            # [hits, last seen, crawler hits, {referrer: hits}]
            entry = entries[path] = [0, 0.0, 0, {}]
        entry[0] += 1
        entry[1] = _now()
        if user_agent and self._crawler(user_agent) is not None:
            entry[2] += 1
        if referrer and len(referrer) <= LONGEST_KEPT:
            kept = entry[3]
            if referrer in kept or len(kept) < REFERRERS_KEPT:
                kept[referrer] = kept.get(referrer, 0) + 1

    def _prune(self, entries: dict[str, list[Any]]) -> None:
        ranked = sorted(entries.items(), key=lambda item: item[1][0], reverse=True)
        for path, _ in ranked[self.keep :]:
            del entries[path]

    def __len__(self) -> int:
        return len(self._entries)

    def take(self) -> list[NotFoundPath]:
        """What was tallied since the last take, at most ``keep`` paths, most hit first;
        the tally starts again empty."""
        entries, self._entries = self._entries, {}
        ranked = sorted(entries.items(), key=lambda item: item[1][0], reverse=True)
        return [
            NotFoundPath(
                path,
                hits,
                last,
                bots,
                tuple(sorted(referrers.items(), key=lambda pair: pair[1], reverse=True)),
            )
            for path, (hits, last, bots, referrers) in ranked[: self.keep]
        ]

    def give_back(self, taken: list[NotFoundPath]) -> None:
        """Put back what a failed flush took, for the next one."""
        for item in taken:
            entry = self._entries.setdefault(item.path, [0, 0.0, 0, {}])
            entry[0] += item.hits
            entry[1] = max(entry[1], item.last_seen)
            entry[2] += item.bot_hits
            for referrer, hits in item.referrers:
                entry[3][referrer] = entry[3].get(referrer, 0) + hits
        if len(self._entries) > 2 * self.keep:
            self._prune(self._entries)
