"""Pure ASGI middleware: ``RedirectMiddleware(app, rules=...)``.

Works with any ASGI 3 application, and with Starlette/FastAPI's
``app.add_middleware(RedirectMiddleware, rules=...)``. It reads the scope, asks the rule set,
and either answers itself or calls the app with the scope, ``receive`` and ``send`` untouched.
Before answering itself it reads and discards the body up to ``drain_limit``
(:mod:`redirectware.draining`); a request it passes on keeps its body for the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Container, Iterator, Mapping, MutableMapping
from http import HTTPStatus
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
from .draining import DEFAULT_DRAIN_LIMIT, check_limit, drain_asgi
from .engine.decision import PASS, Decision
from .errors import RuleError
from .lazybuild import failed_before, note_failure
from .reloading import RuleHolder, RulesArgument

if TYPE_CHECKING:
    from .counting import Counting

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: What the middleware accepts as the app it protects: any ASGI 3 callable, however its
#: stubs spell the scope and the messages (Django's ``ASGIHandler`` takes a ``dict`` scope
#: and sends ``Mapping`` messages, which a strict ``ASGIApp`` would refuse).
AnyASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class ASGIHeaders(Mapping[str, str]):
    """Lower-case header names to values, built from the scope only when first read.

    ASGI servers hand header names over lower-cased (the specification requires it), so
    names are compared as they are.
    """

    __slots__ = ("_dict", "_raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._dict: dict[str, str] | None = None

    def _build(self) -> dict[str, str]:
        built: dict[str, str] = {}
        for name, value in self._raw:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            built[key] = f"{built[key]}, {text}" if key in built else text
        self._dict = built
        return built

    def __getitem__(self, key: str) -> str:
        found = self._dict if self._dict is not None else self._build()
        return found[key]

    def get(self, key: str, default: Any = None) -> Any:
        if self._dict is not None:
            return self._dict.get(key, default)
        # A request is asked for one or two headers (Accept, say): scanning for that name
        # costs a fraction of building the whole dict. ASGI header names are lower-case.
        wanted = key.encode("latin-1")
        found: str | None = None
        for name, value in self._raw:
            if name == wanted:
                text = value.decode("latin-1")
                found = text if found is None else f"{found}, {text}"
        return default if found is None else found

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict if self._dict is not None else self._build())

    def __len__(self) -> int:
        return len(self._dict if self._dict is not None else self._build())


def _host_header(raw: list[tuple[bytes, bytes]]) -> str | None:
    found: str | None = None
    for name, value in raw:
        if name == b"host":
            text = value.decode("latin-1")
            # Two Host headers are joined so that the engine rejects them as malformed.
            found = text if found is None else f"{found},{text}"
    return found


def request_path(scope: Scope) -> str:
    """The path as sent: ``raw_path`` when the server gives it, else re-encoded ``path``.

    Some servers leave the query in ``raw_path``, and uvicorn's h11 server leaves an
    absolute-form target (``GET http://host/path``) whole: :func:`target_path` reads both.
    """
    raw: bytes | None = scope.get("raw_path")
    if raw:
        return target_path(raw.decode("latin-1"))
    return path_from_decoded(scope.get("path", "/"), "utf-8")


#: The header names redirectware sends, as the lower-case bytes ASGI wants.
_NAMES: dict[str, bytes] = {
    name: name.lower().encode("latin-1")
    for name in (
        "Location",
        "Cache-Control",
        "Content-Type",
        "Content-Length",
        "Vary",
        "Retry-After",
        "Sunset",
        "Deprecation",
        "Strict-Transport-Security",
    )
}


#: Request headers the one scan of a request looks for: the Host, and whether a body comes.
_SCANNED = frozenset({b"host", b"content-length", b"transfer-encoding"})
#: Header pairs whose value is the same in many answers (Cache-Control, Content-Type, HSTS),
#: as the bytes ASGI wants: most of an answer's headers are found here, not encoded again.
_WIRE: dict[tuple[str, str], tuple[bytes, bytes]] = {}
#: Headers whose values differ from one answer to the next: never kept in _WIRE.
_VARYING = frozenset({"Location", "Content-Length"})
_WIRE_LIMIT = 1024


def _header_bytes(headers: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    wire = _WIRE
    out = []
    for pair in headers:
        known = wire.get(pair)
        if known is None:
            name, value = pair
            known = (_NAMES.get(name) or name.lower().encode("latin-1"), value.encode("latin-1"))
            if name not in _VARYING and len(wire) < _WIRE_LIMIT:
                wire[pair] = known
        out.append(known)
    return out


async def _respond(decision: Decision, send: Send) -> None:
    # Plain ASGI messages, no framework response class: a redirect is two dicts.
    await send(
        {
            "type": "http.response.start",
            "status": decision.status,
            "headers": _header_bytes(decision.headers),
        }
    )
    await send({"type": "http.response.body", "body": decision.body})


class NotFoundWatch:
    """``send`` for a request when a rule says ``when: not_found``: a 404
    response start from the app is held back and the rule set asked about the request again
    (:meth:`RuleSet.resolve_not_found <redirectware.RuleSet.resolve_not_found>`). When a rule
    answers, its answer is sent instead and every message the app sends after (its 404 body)
    is dropped; otherwise, and for any other status, the app's messages go through as sent,
    streaming included. Any method: the app has read a POST's body by then, and the rule's
    307 or 308 tells the client to send it again to the new URL."""

    __slots__ = ("_metrics", "_ruleset", "_scope", "_send", "_state")

    def __init__(
        self, send: Send, ruleset: Any, scope: Scope, metrics: Counting | None = None
    ) -> None:
        self._send = send
        self._ruleset = ruleset
        self._scope = scope
        self._metrics = metrics
        self._state = "waiting"  # then "through" or "replaced"

    async def __call__(self, message: Message) -> None:
        if self._state == "through":
            await self._send(message)
            return
        if self._state == "replaced":
            return  # the app's 404 body: read (the app sent it) and dropped
        if message["type"] == "http.response.start" and message.get("status") == 404:
            decision = self._decide()
            if not decision.passes:
                self._state = "replaced"
                if self._metrics is not None:
                    self._metrics.answered(decision)
                await _respond(decision, self._send)
                return
        self._state = "through"
        await self._send(message)

    def _decide(self) -> Decision:
        scope = self._scope
        client = scope.get("client")
        path = request_path(scope)
        decision: Decision = self._ruleset.resolve_not_found(
            scope["method"],
            scope.get("scheme", "http"),
            _host_header(scope.get("headers", [])),
            path,
            scope.get("query_string", b"").decode("latin-1"),
            ASGIHeaders(scope.get("headers", [])),
            client[0] if client else None,
        )
        log_decision(decision, scope["method"], path)
        return decision


def _from_proxy(scope: Scope, proxies: Container[str]) -> bool:
    """Whether the peer is a trusted proxy, whose forwarded headers change the answer."""
    client = scope.get("client")
    return client is not None and client[0] in proxies


class RedirectMiddleware:
    """ASGI middleware that applies a redirect rule document.

    :param app: the ASGI application to protect.
    :param rules: a path to a ``.yaml``/``.yml``/``.json`` file, a document ``dict``, or a
        :class:`~redirectware.RuleSet`. Compiled here, at start-up: an invalid document
        raises :class:`~redirectware.RuleError` now, never on a request.
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

    def __new__(cls, app: AnyASGIApp, rules: RulesArgument, **options: Any) -> RedirectMiddleware:
        # Starlette builds its stack again on every request while it fails: see lazybuild.
        return super().__new__(RulesFailed if failed_before(rules) else cls)

    def __init__(
        self,
        app: AnyASGIApp,
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
        try:
            self.rules = RuleHolder(rules, reload=reload, reload_interval=reload_interval)
        except RuleError as error:
            note_failure(rules, error)
            raise
        self._metrics = hit_counts_for(stats_plan, metrics_for(metrics))
        if self._metrics is not None:
            # Counting wraps the app once, here: the request path itself stays as it is.
            self.app = self._metrics.asgi_app(app)
        # Without reloading nor a watched source the rules never change: one attribute read
        # per request.
        self._fixed_rules = None if self.rules.watching else self.rules.ruleset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await self._websocket(scope, receive, send)
            else:  # lifespan and anything newer pass through untouched
                await self.app(scope, receive, send)
            return
        # Every request of the site comes through here, and most pass: so the http path is
        # written out inline (a helper coroutine or function costs as much as the rest).
        ruleset = self._fixed_rules or self.rules.current()
        if ruleset.waits_for_404:
            send = NotFoundWatch(send, ruleset, scope, self._metrics)  # see when: not_found
        raw = scope.get("headers", ())
        host: bytes | None = None
        has_body = False
        # One scan of the headers, for the Host and for whether a body comes (which an
        # early answer drains): one set lookup per header.
        for name, value in raw:
            if name in _SCANNED:
                if name == b"host":
                    # Two Host headers are joined so that the engine rejects them as malformed.
                    host = value if host is None else host + b"," + value
                else:
                    has_body = True
        raw_path: bytes | None = scope.get("raw_path")
        key: tuple[Any, ...] | None = None
        proxies = ruleset.trusted_proxies
        if raw_path and (proxies is None or not _from_proxy(scope, proxies)):
            # The request line and Host as sent: the key of an answer the engine gave before.
            # (Subscripts, not .get: a scope without a key ASGI requires is answered afresh.)
            try:
                key = (scope["method"], scope["scheme"], host, raw_path, scope["query_string"])
            except KeyError:
                pass
            else:
                known = ruleset.answers.get(key)
                if known is PASS:  # most requests, decided by one lookup and an identity
                    await self.app(scope, receive, send)
                    return
                if known is not None:
                    again = ruleset.recall(key, ASGIHeaders(raw))  # not from a proxy: checked above
                    if again is not None:
                        if again.kind == "pass":
                            await self._pass(again, scope, receive, send, request_path(scope))
                            return
                        if self._metrics is not None:
                            self._metrics.answered(again)
                        log_decision(again, scope["method"], request_path(scope))
                        if has_body and self.drain_limit:
                            await drain_asgi(scope, receive, self.drain_limit)
                        await _respond(again, send)
                        return
        client = scope.get("client")
        # Tested as text: `b"?" in some_bytes` first tries the needle as an int and pays
        # for the TypeError, some ten times the cost of the same test on a str.
        path = raw_path.decode("latin-1") if raw_path else ""
        if not path or path[0] != "/" or "?" in path:
            path = request_path(scope)
        decision = ruleset.resolve(
            scope["method"],
            scope.get("scheme", "http"),
            None if host is None else host.decode("latin-1"),
            path,
            scope.get("query_string", b"").decode("latin-1"),
            ASGIHeaders(raw),
            client[0] if client else None,
            remember_as=key,
        )
        if decision is PASS:
            await self.app(scope, receive, send)
        elif decision.kind == "pass":
            await self._pass(decision, scope, receive, send, path)
        else:
            # A redirect, 503 or 400 of our own, written out here: a helper coroutine per
            # answer costs as much as the drain check and the two messages.
            if self._metrics is not None:
                self._metrics.answered(decision)
            log_decision(decision, scope["method"], path)
            if has_body and self.drain_limit:
                await drain_asgi(scope, receive, self.drain_limit)
            await _respond(decision, send)

    async def _pass(
        self, decision: Decision, scope: Scope, receive: Receive, send: Send, path: str
    ) -> None:
        """Pass on with extra headers (HSTS), logging a refusal or a report-only answer."""
        log_decision(decision, scope["method"], path)
        if not decision.headers:
            await self.app(scope, receive, send)
            return
        extra = decision.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                own = message.get("headers", [])
                added = headers_to_add((name.decode("latin-1") for name, _ in own), extra)
                message["headers"] = [*own, *_header_bytes(tuple(added))]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("headers", [])
        client = scope.get("client")
        denied = self.rules.current().denies_websocket(
            "https" if scope.get("scheme") == "wss" else "http",
            _host_header(raw),
            request_path(scope),
            ASGIHeaders(raw),
            client[0] if client else None,
        )
        if not denied:
            await self.app(scope, receive, send)
            return
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        if "websocket.http.response" in scope.get("extensions", {}):
            body = b"websocket connections must use wss://\n"
            await _send_text(send, "websocket.http.response", HTTPStatus.FORBIDDEN, body)
        else:
            # 1008: policy violation. Closing before accept makes the server refuse the handshake.
            await send({"type": "websocket.close", "code": 1008})


#: What :class:`RulesFailed` answers, without a traceback.
RULES_FAILED_BODY = (
    b"500 Internal Server Error: the redirect rules failed to load; see the server log\n"
)


class RulesFailed(RedirectMiddleware):
    """Stands in for a middleware whose rules failed to load: a plain 500 per request.

    Made by ``RedirectMiddleware(...)`` itself on a repeated Starlette build (see the module
    docstring). Lifespan messages pass to the app, so that start-up and shut-down still run.
    """

    def __init__(self, app: AnyASGIApp, rules: object = None, **options: object) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1011})  # 1011: internal error
            return
        await _send_text(send, "http.response", HTTPStatus.INTERNAL_SERVER_ERROR, RULES_FAILED_BODY)


async def _send_text(send: Send, kind: str, status: int, body: bytes) -> None:
    """A plain-text answer of our own: ``kind`` is ``http.response`` or, to refuse a
    websocket handshake, ``websocket.http.response``."""
    await send(
        {
            "type": f"{kind}.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": f"{kind}.body", "body": body})
