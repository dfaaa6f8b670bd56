"""The engine: :class:`Engine` turns plain request values into a :class:`Decision`.

It knows no framework, reads no document and does no I/O on a request, apart from a
maintenance ``flag_file`` (stat-ed at most once a second). Adapters translate their request
into the arguments of :meth:`Engine.resolve` and the decision back into their response.
:class:`redirectware.RuleSet` is this engine built from a document and checked for loops.

The behaviour of each rule kind is one method here, in the order of the document layer's
parsers (``redirectware/kinds/``) and the model's actions (``model.py``): ``to``, ``https``,
``trailing_slash``, ``maintenance``, ``map``, ``gone``. Each turns a matched rule into a
:class:`Hop` (where the rule sends the request) or a final :class:`Decision` (a 503, a 410,
a 400).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, ClassVar
from urllib.parse import unquote_plus

from . import answers
from .decision import PASS, PASS_KIND, Decision, Hop, Refusal
from .hosts import PARSED_HOSTS, Host, parse_host, parse_host_cached
from .matching import RequestView, RuleIndex, rule_matches
from .memo import AnswerMemo
from .model import (
    GONE_CODES,
    Action,
    Document,
    GoneAction,
    HttpsAction,
    KeepQuery,
    LanguageAction,
    Maintenance,
    MapAction,
    Rule,
    SlashAction,
    ToAction,
)
from .proxies import read_forwarded
from .responses import HTML, prefers_json
from .templates import Target
from .urls import PLAIN_PATH, collapse_leading_slashes, encode_target_part, path_forms
from .wording import host_refusal, rule_count

#: A chain that has not ended after this many hops never will: real chains are two or three.
MAX_HOPS = 10
_EMPTY: Mapping[str, str] = {}
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_plain_path = PLAIN_PATH.match
_UNSEEN: Any = object()
_HTML_BODY = ("Content-Type", HTML)

Outcome = Hop | Decision
Step = Callable[["Engine", Rule, dict[str, str], RequestView], Outcome]


def _hop(
    rule: Rule,
    scheme: str,
    netloc: str,
    host: Host | None,
    path: str,
    query: str,
    permanent: bool,
    status: int | None,
    fragment: str = "",
    row: int | None = None,
) -> Hop:
    url = f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")
    if fragment:
        url += "#" + fragment
    # tuple.__new__ skips the NamedTuple's own Python-level __new__: the same Hop, made in a
    # third of the time, once per hop of every redirect.
    return tuple.__new__(
        Hop, (rule, url, permanent, status, scheme, netloc, host, path, query, row)
    )


class Engine:
    """The request-time half of a rule set: answers requests from a compiled document."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.settings = document.settings
        self.rules = document.rules
        self.source = document.source
        self._index = RuleIndex(document.rules)
        self._hsts = tuple(
            (rule, rule.hsts.header_value) for rule in document.rules if rule.hsts is not None
        )
        self._websocket_rules = tuple(
            rule
            for rule in document.rules
            if isinstance(rule.action, HttpsAction) and rule.action.deny_websockets
        )
        self._pass_with: dict[str, Decision] = {}
        self._strict_codes = self.settings.strict_codes
        #: Compiled answers by what they depend on (see answers.shape_key): a few per rule.
        self._shapes: dict[answers.ShapeKey, answers.Shape] = {}
        self._max_age = self.settings.permanent_max_age
        # Rules whose answer may depend on more than the request line and Host (see memo.py).
        self._unrepeatable = frozenset(
            position
            for position, rule in enumerate(document.rules)
            if rule.vary
            or rule.active_from is not None
            or rule.active_until is not None
            or (isinstance(rule.action, Maintenance) and bool(rule.action.allow_ips))
        )
        # A maintenance flag file is watched by the memory instead: it forgets its answers
        # when the file comes or goes.
        flags = tuple(
            rule.action.flag_file
            for position, rule in enumerate(document.rules)
            if isinstance(rule.action, Maintenance)
            and rule.action.flag_file is not None
            and not rule.action.enabled
            and position not in self._unrepeatable
        )
        # Without allowed_hosts any well-formed Host may stand in a Location: no call to ask.
        self._every_host = self.settings.allowed_hosts.everyone
        self.answers = AnswerMemo(flags=flags)
        self._once = self.answers.once
        self._once_limit = self.answers.limit
        """Answers that adapters may give again without asking :meth:`resolve`; see
        :mod:`redirectware.engine.memo`. Each rule set has its own, so a reload starts afresh."""
        # None when no proxy is trusted: one identity test per request instead of a call.
        self._proxies = self.settings.trusted_proxies or None
        self.trusted_proxies = self._proxies
        """The document's ``trusted_proxies``, or None when it trusts none: an adapter must not
        give a remembered answer to a trusted proxy, whose forwarded headers count."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.source or '(dict)'}: {rule_count(self.document)}>"

    # --- answering ----------------------------------------------------------------------

    def resolve(
        self,
        method: str,
        scheme: str,
        host: str | None,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        client: str | None = None,
        now: float | None = None,
        *,
        remember_as: Hashable | None = None,
    ) -> Decision:
        """What a request gets.

        :param method: the request method, as sent (``"POST"``).
        :param scheme: ``"http"`` or ``"https"`` as the server saw it.
        :param host: the Host header (``"example.com:8080"``); several Host headers joined
            with ``","`` (which is then rejected as malformed); None when there is none.
        :param path: the path as sent, percent-encoded (ASGI ``raw_path``; WSGI
            ``RAW_URI``), decoded from bytes as latin-1.
        :param query: the query string as sent, without ``?``.
        :param headers: request headers with lower-case names, several values of one name
            joined with ``", "``. Needed for forwarded headers, conditions and ``Accept``.
        :param client: the direct peer's IP address.
        :param now: the time (seconds since the epoch) for ``active`` windows; default now.
        :param remember_as: an adapter's key for this request (built from the same values as
            sent). When the answer is reusable (see :mod:`redirectware.engine.memo`) it is
            stored in :attr:`answers` under that key, for the adapter to give again.
        """
        if path and path[0] != "/":
            # Only an origin-form path can be redirected: "*" (OPTIONS *) or a target a
            # server let through without its leading slash would run into the host of the
            # Location ("https://example.com*"). Such a request is the app's to answer.
            return PASS
        hdrs = _EMPTY if headers is None else headers
        proxies = self._proxies
        if proxies is not None and client in proxies:
            remember_as = None  # the forwarded headers decide: see memo.py
            forwarded = self._forwarded(scheme, host, client, hdrs)
            if isinstance(forwarded, Decision):
                return forwarded
            scheme, host, client = forwarded
        parsed: Host | None = None
        if host:
            parsed = PARSED_HOSTS.get(host, _UNSEEN)  # parse_host_cached, its hit inline
            if parsed is _UNSEEN:
                parsed = parse_host_cached(host)
            if parsed is None:
                decision = answers.bad_request("malformed Host header")
                if remember_as is not None and self.answers.sighted(remember_as):
                    self.answers.admit(remember_as, decision, path, query, host, now)
                return decision
        # path_forms, with its common case (a plain path is both forms) written out here.
        forms = (path, path) if path and _plain_path(path) else path_forms(path or "/")
        # Most requests meet no rule that could match them: answer those without building
        # anything (the pass-through is the cost every request of the site pays).
        candidates = self._index.candidates(
            scheme, forms[1], None if parsed is None else parsed.name
        )
        if candidates:
            request = RequestView(
                method, scheme, parsed, path, query, hdrs, client, now, forms=forms
            )
            looked_at = None if remember_as is None else [candidates]
            decision = self._decide(request, candidates, looked_at)
            unrepeatable = self._unrepeatable
            if (
                looked_at is not None
                and unrepeatable
                and not all(unrepeatable.isdisjoint(seen) for seen in looked_at)
            ):
                remember_as = None
        else:
            decision = PASS
        if scheme == "https" and self._hsts:
            decision = self._with_hsts(decision, parsed)
        if remember_as is not None:
            # AnswerMemo.sighted, its common case written out: a key new to the set of keys
            # seen once is only added there (one hash), and its answer is not stored.
            once = self._once
            size = len(once)
            if size >= self._once_limit:
                self.answers.sighted(remember_as)
            else:
                once.add(remember_as)
                if len(once) == size:
                    self.answers.admit(remember_as, decision, path, query, host, now)
        return decision

    def _forwarded(
        self, scheme: str, host: str | None, client: str | None, headers: Mapping[str, str]
    ) -> tuple[str, str | None, str | None] | Decision:
        """Scheme, host and client as a trusted proxy says they were; or a 400."""
        forwarded = read_forwarded(headers, self._proxies)
        if forwarded.proto is not None:
            scheme = forwarded.proto
        if forwarded.host is not None:
            if host and parse_host_cached(host) is None:
                # Two Host headers, or a malformed one, get 400 even behind a trusted
                # proxy: the forwarded host must not paper over a broken request.
                return answers.bad_request("malformed Host header")
            host = forwarded.host
        if forwarded.port is not None and host is not None and forwarded.port.isdigit():
            parsed = parse_host(host)
            if parsed is not None:
                host = f"{parsed.name}:{forwarded.port}"
        if forwarded.client is not None:
            client = forwarded.client
        return scheme, host, client

    def recall(
        self, key: Hashable, headers: Mapping[str, str], client: str | None = None
    ) -> Decision | None:
        """The answer remembered under ``key`` (see ``remember_as``), if it suits this
        request; else None, and the adapter asks :meth:`resolve`.

        ``client`` is the direct peer: a trusted proxy is never given a remembered answer,
        since its forwarded headers decide scheme and host. A remembered redirect or 503
        carries an HTML body: a client that prefers JSON is answered afresh.
        """
        if self._proxies is not None and client in self._proxies:
            return None
        known = self.answers.get(key)
        if known is None or known is PASS:
            return known
        if _HTML_BODY in known.headers and prefers_json(headers.get("accept")):
            return None
        return known

    def candidates(self, scheme: str, path: str, host: str | None = None) -> tuple[int, ...]:
        """Positions (in :attr:`rules`) of every rule that may match a request, document order.

        ``path`` is canonical (as a plain path is), ``host`` a lower-case name without port.
        A superset: a rule listed may still not match, a rule not listed never does. For
        tools that reason about the document, such as ``redirectware check``.
        """
        return self._index.candidates(scheme, path, host)

    def denies_websocket(
        self,
        scheme: str,
        host: str | None,
        path: str,
        headers: Mapping[str, str] | None = None,
        client: str | None = None,
    ) -> bool:
        """Whether a plain-``ws`` handshake must be refused by an ``https`` rule's
        ``websockets: deny``. ``scheme`` is ``"http"`` for ws and ``"https"`` for wss."""
        if not self._websocket_rules:
            return False
        hdrs = _EMPTY if headers is None else headers
        if self.settings.trusted_proxies and client in self.settings.trusted_proxies:
            scheme = read_forwarded(hdrs).proto or scheme
        if scheme != "http":
            return False
        parsed = parse_host(host) if host else None
        request = RequestView("GET", scheme, parsed, path, "", hdrs, client, None)
        return any(rule_matches(rule, request) is not None for rule in self._websocket_rules)

    # --- following a chain ----------------------------------------------------------------

    def _decide(
        self,
        request: RequestView,
        candidates: tuple[int, ...],
        looked_at: list[tuple[int, ...]] | None = None,
    ) -> Decision:
        found = self._index.first_match(request, candidates)
        if found is None:
            return PASS
        rule, captures = found
        report_only = self.settings.report_only or rule.report_only
        chain = self._chain(request, rule, captures, report_only, looked_at)
        if isinstance(chain, Decision):
            if chain.refused is not None:
                return chain
            decision = chain
        else:
            key = answers.shape_key(chain)
            shape = self._shapes.get(key)
            if shape is None:
                permanent, status, sunset_rule, retry, private = key
                shape = self._shapes[key] = answers.Shape(
                    permanent,
                    status,
                    self._strict_codes,
                    self._max_age,
                    sunset_rule,
                    retry,
                    private,
                )
            # Accept is read here, once, and only for a redirect: a pass-through never asks.
            decision = shape.answer(
                request.method, request.headers.get("accept"), request.vary, chain
            )
        return Decision(PASS_KIND, would=decision, rule=rule) if report_only else decision

    def _chain(
        self,
        request: RequestView,
        rule: Rule,
        captures: dict[str, str],
        report_only: bool,
        looked_at: list[tuple[int, ...]] | None,
    ) -> list[Hop] | Decision:
        """The hops from ``request`` while rules keep matching; or a final answer (a 503, a
        400) from the first rule; or a refusal when the chain is a loop."""
        hops: list[Hop] = []
        #: The request each hop was worked out from: a map's row is looked up from it.
        origins: list[RequestView] = []
        current = request
        seen: set[str] = set()
        while True:
            outcome = self._STEPS[type(rule.action)](self, rule, captures, current)
            if isinstance(outcome, Decision):
                return hops or outcome  # a 503 or 400 further down: the redirect so far
            if rule.ignore_trailing_slash and outcome.location == current.url():
                # /about and /about/ are one path to this rule, and its target is the one
                # the request is at: the request has arrived, which is no loop.
                return hops or PASS
            if not hops:
                # The first hop, most chains' only one: the request's own URL is all it can
                # come back to, and the set of URLs seen is only needed for a second.
                own = request.url()
                if outcome.location == own:
                    return _refused(rule, Refusal("self", (own, outcome.location)))
                seen.add(own)
                refusal = None
            else:
                refusal = self._refusal(request, hops, origins, outcome, seen, current)
            hops.append(outcome)
            origins.append(current)
            if refusal is not None:
                return _refused(rule, refusal)
            seen.add(outcome.location)
            if not self._serves(outcome, current):
                return hops
            nxt = self._next(current, outcome, looked_at)
            if nxt is None:
                return hops
            current, (rule, captures) = nxt
            if rule.report_only and not report_only:
                return hops
            if len(hops) >= MAX_HOPS:
                urls = (request.url(), *(hop.location for hop in hops))
                return _refused(rule, Refusal("loop", urls, "never ends"))

    def _next(
        self, request: RequestView, hop: Hop, looked_at: list[tuple[int, ...]] | None
    ) -> tuple[RequestView, tuple[Rule, dict[str, str]]] | None:
        """The request a hop from ``request`` leads to, and the rule that matches it, if any."""
        path = hop.path
        if path is request.raw_path:
            forms = (path, request.path)  # an https or host hop keeps the path as it was
        else:
            forms = (path, path) if _plain_path(path) else path_forms(path)
        host = hop.host
        candidates = self._index.candidates(
            hop.scheme, forms[1], None if host is None else host.name
        )
        if not candidates:
            return None  # the usual end of a chain, found without building the next request
        if looked_at is not None:
            looked_at.append(candidates)
        current = RequestView(
            request.method,
            hop.scheme,
            host,
            path,
            hop.query,
            request.headers,
            request.client,
            request.now,
            request.vary,
            forms,
        )
        found = self._index.first_match(current, candidates)
        return None if found is None else (current, found)

    def _refusal(
        self,
        request: RequestView,
        hops: list[Hop],
        origins: list[RequestView],
        hop: Hop,
        seen: set[str],
        current: RequestView,
    ) -> Refusal | None:
        """Why ``hop`` must not be sent, if it must not: it comes back to a URL the chain
        visited, or what made it (a template rule, or one row of a map) already applied in
        this chain and now makes the URL longer, which no number of further hops undoes
        (``/shop/{p:path}`` to ``/shop/{p}/``). Two rows of one map are two redirects
        (``/a.md`` to ``/a/``, then ``/a/`` to ``/setup/a/``): the URL growing across them
        is an ordinary chain."""
        if hop.location in seen:
            urls = (request.url(), *(h.location for h in hops), hop.location)
            return Refusal("self", urls) if not hops else Refusal("loop", urls)
        rule = hop.rule
        # A trailing_slash rule adds (or drops) one slash where it is missing (or present), so
        # it may rightly act twice in a chain (/old -> /old/ -> /new -> /new/) without growing
        # for ever; a loop through it comes back to a URL seen, which the test above catches.
        if isinstance(rule.action, SlashAction) or len(hop.location) <= len(current.url()):
            return None
        if isinstance(rule.action, MapAction):
            # Compared by value: a compiled map builds a new row object on each lookup.
            row = self._index.map_entry(rule.action, current)[0]
            again = any(
                earlier.rule is rule and self._index.map_entry(rule.action, origin)[0] == row
                for earlier, origin in zip(hops, origins, strict=True)
            )
        else:
            again = any(earlier.rule is rule for earlier in hops)
        if again:
            urls = (request.url(), *(h.location for h in hops), hop.location)
            return Refusal("loop", urls, "grows the URL")
        return None

    def _serves(self, hop: Hop, current: RequestView) -> bool:
        """Whether the engine answers for the host a hop leads to, so the chain goes on."""
        if hop.host is None:
            return False
        if current.host is not None and hop.host.name == current.host.name:
            return True
        return self.settings.allowed_hosts_given and hop.host.name in self.settings.allowed_hosts

    def _refuse_host(self, reason: str, rule: Rule, request: RequestView) -> Decision:
        # The client reads `reason`; explain and the log get the host and the setting.
        return answers.bad_request(reason, rule, host_refusal(request.host, self.settings))

    def _host_usable(self, request: RequestView) -> bool:
        if request.host is None:
            return False
        return self._every_host or request.host.name in self.settings.allowed_hosts

    # --- the rule kinds: where each sends a request ---------------------------------------

    def _step_to(self, rule: Rule, captures: dict[str, str], request: RequestView) -> Outcome:
        action = rule.action
        assert isinstance(action, ToAction)
        return self._render(action.target, rule, captures, request)

    def _step_language(self, rule: Rule, captures: dict[str, str], request: RequestView) -> Outcome:
        # rule_matches chose the language and put it in the captures as {lang}.
        action = rule.action
        assert isinstance(action, LanguageAction)
        return self._render(action.target, rule, captures, request)

    def _render(
        self, target: Target, rule: Rule, captures: dict[str, str], request: RequestView
    ) -> Outcome:
        """A target's hop: its placeholders filled from the captures and the request."""
        if target.absolute and not target.names:
            text = target.source if target.parts[0][0] == target.source else target.render({})
            return self._locate(text, rule, request, rule.permanent, rule.status, True)
        values = dict(captures)
        if (
            rule.host is not None
            and not target.names.isdisjoint(rule.host.names)
            and not self._host_usable(request)
        ):
            # A value captured from the Host header is the client's to write: like
            # {host}, it reaches a Location only from an allowed host.
            return self._refuse_host("Host header not allowed", rule, request)
        if "host" in target.names or "scheme" in target.names or "path" in target.names:
            if "host" in target.names and not self._host_usable(request):
                return self._refuse_host("Host header not allowed", rule, request)
            values["scheme"] = request.scheme
            values["host"] = request.host.name if request.host is not None else ""
            values["path"] = request.raw_path
        text = target.render(values)
        return self._locate(
            text, rule, request, rule.permanent, rule.status, not target.authority_names
        )

    def _step_https(self, rule: Rule, captures: dict[str, str], request: RequestView) -> Outcome:
        action = rule.action
        assert isinstance(action, HttpsAction)
        if not self._host_usable(request):
            return self._refuse_host("Host header missing or not allowed", rule, request)
        assert request.host is not None
        netloc = request.host.name + (f":{action.port}" if action.port else "")
        return _hop(
            rule,
            "https",
            netloc,
            parse_host_cached(netloc),
            request.raw_path,
            request.query,
            rule.permanent,
            rule.status,
        )

    def _step_slash(self, rule: Rule, captures: dict[str, str], request: RequestView) -> Outcome:
        action = rule.action
        assert isinstance(action, SlashAction)
        if not self._host_usable(request):
            return self._refuse_host("Host header missing or not allowed", rule, request)
        path = request.raw_path + "/" if action.add else (request.raw_path.rstrip("/") or "/")
        return _hop(
            rule,
            request.scheme,
            request.netloc,
            request.host,
            collapse_leading_slashes(path),
            request.query,
            rule.permanent,
            rule.status,
        )

    def _step_maintenance(
        self, rule: Rule, captures: dict[str, str], request: RequestView
    ) -> Outcome:
        action = rule.action
        assert isinstance(action, Maintenance)
        if action.target is None:
            return answers.unavailable(request.method, request.headers.get("accept"), action, rule)
        return self._locate(action.target.source, rule, request, False, rule.status, True)

    def _step_map(self, rule: Rule, captures: dict[str, str], request: RequestView) -> Outcome:
        action = rule.action
        assert isinstance(action, MapAction)
        entry, consumed = self._index.map_entry(action, request)
        assert entry is not None  # rule_matches looked it up already
        if entry.status in GONE_CODES:
            gone = answers.gone(
                request.method, request.headers.get("accept"), entry.status, self._max_age, rule
            )
            return gone._replace(row=entry.line)
        return self._locate(
            entry.target,
            rule,
            request,
            entry.permanent,
            entry.status,
            True,
            keep_query=not consumed,
            row=entry.line,
        )

    def _step_gone(self, rule: Rule, captures: dict[str, str], request: RequestView) -> Outcome:
        action = rule.action
        assert isinstance(action, GoneAction)
        return answers.gone(
            request.method, request.headers.get("accept"), action.status, self._max_age, rule
        )

    _STEPS: ClassVar[dict[type[Action], Step]] = {
        ToAction: _step_to,
        HttpsAction: _step_https,
        SlashAction: _step_slash,
        Maintenance: _step_maintenance,
        MapAction: _step_map,
        GoneAction: _step_gone,
        LanguageAction: _step_language,
    }

    def _locate(
        self,
        text: str,
        rule: Rule,
        request: RequestView,
        permanent: bool,
        status: int | None,
        trusted_authority: bool,
        keep_query: bool = True,
        row: int | None = None,
    ) -> Outcome:
        """Turn a rendered target into a hop, keeping the request's query as the rule says."""
        text, _, fragment = text.partition("#")
        text, _, target_query = text.partition("?")
        if text.startswith("/"):
            if not self._host_usable(request):
                return self._refuse_host("Host header missing or not allowed", rule, request)
            scheme, netloc, host, path = request.scheme, request.netloc, request.host, text
        else:
            scheme, _, rest = text.partition("://")
            scheme = scheme.lower()
            netloc, slash, path = rest.partition("/")
            path = slash + path
            host = parse_host(netloc)
            if host is None:
                if not trusted_authority:
                    return answers.bad_request("target host is not a valid host name", rule)
            else:
                netloc = host.netloc if host.port != _DEFAULT_PORTS.get(scheme) else host.name
        path = collapse_leading_slashes(encode_target_part(path) or "/")
        query = encode_target_part(target_query, query=True) if target_query else ""
        if keep_query and request.query:
            kept = _kept_query(request.query, rule.keep_query)
            if kept:
                query = f"{query}&{kept}" if query else kept
        return _hop(
            rule,
            scheme,
            netloc,
            host,
            path,
            query,
            permanent,
            status,
            encode_target_part(fragment, True),
            row,
        )

    def _with_hsts(self, decision: Decision, host: Host | None) -> Decision:
        value = next(
            (
                value
                for rule, value in self._hsts
                if rule.host is None
                or (host is not None and rule.host.match(host.name) is not None)
            ),
            None,
        )
        if value is None:
            return decision
        header = ("Strict-Transport-Security", value)
        if decision is PASS:
            cached = self._pass_with.get(value)
            if cached is None:
                cached = self._pass_with[value] = Decision(PASS_KIND, headers=(header,))
            return cached
        return decision._replace(headers=(*decision.headers, header))


def _refused(rule: Rule, refusal: Refusal) -> Decision:
    return Decision(PASS_KIND, rule=rule, error=f"{rule.label}: {refusal.message}", refused=refusal)


def _kept_query(query: str, keep: KeepQuery) -> str:
    if keep.keep_all:
        return query
    if not keep.names and not keep.prefixes:
        return ""
    kept = [
        part
        for part in query.split("&")
        if part and keep.keeps(unquote_plus(part.split("=", 1)[0]))
    ]
    return "&".join(kept)
