"""Pure WSGI middleware: ``WSGIRedirectMiddleware(wsgi_app, rules=...)``.

WSGI servers decode ``PATH_INFO``, so ``/a%2Fb`` and ``/a/b`` look alike there. Where the
server keeps the request line as sent (``RAW_URI`` under gunicorn and Werkzeug,
``REQUEST_URI`` under others), the path is taken from it; otherwise from ``SCRIPT_NAME`` and
``PATH_INFO``, re-encoded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .adapter import (
    check_stats,
    headers_to_add,
    hit_counts_for,
    log_decision,
    metrics_for,
    path_from_decoded,
    target_path,
)
from .counting import DEFAULT_FLUSH_SECONDS, DEFAULT_NOT_FOUND_KEEP
from .draining import DEFAULT_DRAIN_LIMIT, check_limit, drain_wsgi
from .engine.decision import PASS, Decision
from .reloading import RuleHolder, RulesArgument

if TYPE_CHECKING:
    from .counting import Counting

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_UNPREFIXED = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
#: "301 Moved Permanently" and the like, for every status the engine may answer.
_STATUS_LINES = {int(status): f"{status.value} {status.phrase}" for status in HTTPStatus}


class EnvironHeaders(Mapping[str, str]):
    """Request headers read straight from a WSGI environ, by lower-case name."""

    __slots__ = ("_environ",)

    def __init__(self, environ: Environ) -> None:
        self._environ = environ

    @staticmethod
    def _key(name: str) -> str:
        return _UNPREFIXED.get(name) or "HTTP_" + name.upper().replace("-", "_")

    def __getitem__(self, name: str) -> str:
        value = self._environ[self._key(name)]
        if not isinstance(value, str):
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        value = self._environ.get(self._key(name))
        return value if isinstance(value, str) else default

    def __iter__(self) -> Iterator[str]:
        for key in self._environ:
            if key.startswith("HTTP_"):
                yield key[5:].lower().replace("_", "-")
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                yield key.lower().replace("_", "-")

    def __len__(self) -> int:
        return sum(1 for _ in self)


def request_path(environ: Environ) -> str:
    """The path as sent (see the module docstring)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return target_path(raw) or "/"
    # PEP 3333 hands the path over as bytes decoded as latin-1: get the bytes back.
    return path_from_decoded(
        environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), "latin-1"
    )


class WSGIRedirectMiddleware:
    """WSGI middleware that applies a redirect rule document.

    :param app: the WSGI application to protect (for Flask, ``app.wsgi_app``).
    :param rules: a path to a ``.yaml``/``.yml``/``.json`` file, a document ``dict``, or a
        :class:`~redirectware.RuleSet`; compiled now, so an invalid one raises
        :class:`~redirectware.RuleError` at start-up.
    :param reload: re-read the rule file when it changes (docs/reference/settings.md, "Reloading").
    :param reload_interval: with ``reload``, the least number of seconds between two looks
        at the file (one ``stat`` each).
    :param drain_limit: before answering a request itself, read and discard up to this many
        bytes of its body, so that the server can close the connection without resetting a
        client still sending (see docs/explanation/bodies.md); 0 never reads.
    :param metrics: count answers, pass-throughs and the app's 404s: ``True`` (Prometheus,
        :mod:`redirectware.metrics`), ``"otel"`` (:mod:`redirectware.otel`), or an instance.
    :param stats: count hits per rule and per row, and tally the app's 404s by path, in the
        tables of ``redirectware.django`` in this Django database alias (``True``: the one
        Django's router picks); needs Django set up. The Django settings of the same names
        (``REDIRECTWARE_STATS``...): see docs/howto/stale-rules.md.
    :param stats_flush: with ``stats``, seconds between two writes of this process's counts.
    :param not_found_keep: with ``stats``, the 404 paths kept, most hit first (0: none).
    """

    def __init__(
        self,
        app: WSGIApp,
        rules: RulesArgument,
        *,
        reload: bool = False,
        reload_interval: float = 1.0,
        drain_limit: int = DEFAULT_DRAIN_LIMIT,
        metrics: bool | str | Counting = False,
        stats: bool | str = False,
        stats_flush: float = DEFAULT_FLUSH_SECONDS,
        not_found_keep: int = DEFAULT_NOT_FOUND_KEEP,
    ) -> None:
        self.drain_limit = check_limit(drain_limit)
        # Checked before the rules load: a mistyped option is named, whatever the rules say.
        stats_plan = check_stats(stats, stats_flush, not_found_keep)
        self.app = app
        self.rules = RuleHolder(rules, reload=reload, reload_interval=reload_interval)
        self._metrics = hit_counts_for(stats_plan, metrics_for(metrics))
        if self._metrics is not None:
            # Counting wraps the app once, here: the request path itself stays as it is.
            self.app = self._metrics.wsgi_app(app)
        # Without reloading nor a watched source the rules never change: one attribute read
        # per request.
        self._fixed_rules = None if self.rules.watching else self.rules.ruleset

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        ruleset = self._fixed_rules or self.rules.current()
        if ruleset.waits_for_404:
            watch = NotFoundWatch(
                start_response, ruleset, environ, self._metrics
            )  # when: not_found
            return watch.result(self._call(environ, watch))
        return self._call(environ, start_response)

    def _call(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        ruleset = self._fixed_rules or self.rules.current()
        method = environ["REQUEST_METHOD"]
        path = request_path(environ)
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST")
        query = environ.get("QUERY_STRING", "")
        client = environ.get("REMOTE_ADDR")
        # The engine's own arguments are the key of an answer it may have given before.
        key = (method, scheme, host, path, query)
        decision = ruleset.recall(key, EnvironHeaders(environ), client)
        if decision is None:
            decision = ruleset.resolve(
                method,
                scheme,
                host,
                path,
                query,
                EnvironHeaders(environ),
                client,
                remember_as=key,
            )
        if decision is PASS:  # the common case first, decided by identity
            return self.app(environ, start_response)
        if decision.kind != "pass":
            if self._metrics is not None:
                self._metrics.answered(decision)
            log_decision(decision, method, path)
            drain_wsgi(environ, self.drain_limit)
            # The status line straight from a table, no framework response class.
            start_response(_STATUS_LINES[decision.status], list(decision.headers))
            return [decision.body]
        log_decision(decision, method, path)
        if not decision.headers:
            return self.app(environ, start_response)
        extra = decision.headers

        def start_with_headers(
            status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], object]:
            added = headers_to_add((name for name, _ in headers), extra)
            return start_response(status, [*headers, *added], exc_info)

        return self.app(environ, start_with_headers)


class NotFoundWatch:
    """``start_response`` for a request when a rule says ``when: not_found`` (any method: a
    POST gets the rule's 307 or 308, which has the client send its body again).

    A 404 from the app makes the rule set look at the request again
    (:meth:`RuleSet.resolve_not_found <redirectware.RuleSet.resolve_not_found>`). When a rule
    answers, the app's status line and headers never reach the server: its body is read,
    dropped and closed (PEP 3333: whoever takes an app's iterable calls its ``close``), and
    the rule's answer is sent instead. Anything else goes through as the app sent it.
    """

    def __init__(
        self,
        start_response: StartResponse,
        ruleset: Any,
        environ: Environ,
        metrics: Counting | None = None,
    ) -> None:
        self._start_response = start_response
        self._ruleset = ruleset
        self._environ = environ
        self._metrics = metrics
        #: The rule's answer when it replaces the app's 404.
        self.replacement: Decision | None = None

    def __call__(
        self, status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if status[:3] == "404" and exc_info is None:
            decision = self._decide()
            if not decision.passes:
                self.replacement = decision
                if self._metrics is not None:
                    self._metrics.answered(decision)
                return _drop  # write() of the 404 body: dropped
        return self._start_response(status, headers, exc_info)

    def _decide(self) -> Decision:
        environ = self._environ
        method, path = environ["REQUEST_METHOD"], request_path(environ)
        decision: Decision = self._ruleset.resolve_not_found(
            method,
            environ.get("wsgi.url_scheme", "http"),
            environ.get("HTTP_HOST"),
            path,
            environ.get("QUERY_STRING", ""),
            EnvironHeaders(environ),
            environ.get("REMOTE_ADDR"),
        )
        log_decision(decision, method, path)
        return decision

    def result(self, body: Iterable[bytes]) -> Iterable[bytes]:
        """The app's ``body``, or the rule's answer in its place."""
        if self.replacement is not None:
            return self._replace(body, body)
        return _Replaceable(body, self)

    def _replace(self, chunks: Iterable[bytes], body: Iterable[bytes]) -> list[bytes]:
        """Read and drop ``chunks`` (what is left of the app's ``body``), close ``body``,
        and answer with the rule's decision instead."""
        try:
            for _ in chunks:
                pass  # the 404 body, read and dropped
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        decision = self.replacement
        assert decision is not None
        self._start_response(_STATUS_LINES[decision.status], list(decision.headers))
        return [decision.body]


def _drop(data: bytes) -> None:
    """The ``write`` callable given to an app whose 404 is being replaced."""


class _Replaceable:
    """An app's body whose first chunk may still bring its ``start_response`` call (a
    generator app): when that call was a 404 a rule replaces, the body is dropped then."""

    def __init__(self, body: Iterable[bytes], watch: NotFoundWatch) -> None:
        self._body = body
        self._watch = watch
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        iterator = iter(self._body)
        first = next(iterator, None)
        if self._watch.replacement is not None:
            self._closed = True  # _replace closes the app's body
            yield from self._watch._replace(_chain_first(first, iterator), self._body)
            return
        if first is not None:
            yield first
        yield from iterator

    def close(self) -> None:
        """Close the app's body, once (PEP 3333)."""
        if not self._closed:
            self._closed = True
            close = getattr(self._body, "close", None)
            if close is not None:
                close()


def _chain_first(first: bytes | None, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first is not None:
        yield first
    yield from rest
