"""The engine: :class:`RuleSet` turns plain request values into a :class:`Decision`.

It knows no framework and does no I/O on a request, apart from a maintenance ``flag_file``
(stat-ed at most once a second). Adapters translate their request into the arguments of
:meth:`RuleSet.resolve` and the decision back into their response.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Hashable, Mapping
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any

from .decision import PASS, PASS_KIND, REDIRECT_KIND, RESPOND_KIND, Decision, Hop
from .hosts import PARSED_HOSTS, Host, parse_host, parse_host_cached
from .loading import load_source
from .matching import RequestView, RuleIndex, rule_matches
from .memo import MAX_KEY_TEXT, AnswerMemo
from .model import (
    Document,
    HttpsAction,
    KeepQuery,
    Maintenance,
    MapAction,
    Rule,
    SlashAction,
    ToAction,
)
from .proxies import read_forwarded
from .responses import HTML, JSON, bad_request_body, maintenance_body, prefers_json, redirect_body
from .status import redirect_status
from .urls import PLAIN_PATH, collapse_leading_slashes, encode_target_part, path_forms
from .wording import host_refusal, rule_count

#: A chain longer than this is cut short: real chains are two or three hops.
MAX_HOPS = 10
_EMPTY: Mapping[str, str] = {}
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_plain_path = PLAIN_PATH.match
_UNSEEN: Any = object()
_JSON_BODY = ("Content-Type", JSON)
_HTML_BODY = ("Content-Type", HTML)


class _Step:
    """Where one rule sends a request."""

    __slots__ = ("host", "netloc", "path", "permanent", "query", "scheme", "status", "url")

    def __init__(
        self,
        scheme: str,
        netloc: str,
        host: Host | None,
        path: str,
        query: str,
        fragment: str,
        permanent: bool,
        status: int | None,
    ) -> None:
        self.scheme = scheme
        self.netloc = netloc
        self.host = host
        self.path = path
        self.query = query
        self.permanent = permanent
        self.status = status
        self.url = f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")
        if fragment:
            self.url += "#" + fragment


class RuleSet:
    """A compiled, immutable rule document.

    Build one with :meth:`from_file` or :meth:`from_dict` (or :meth:`load`, which takes
    either); ask it what a request gets with :meth:`resolve`. Compiling validates the whole
    document and raises :class:`RuleError` for any problem, including a redirect loop.
    """

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
        """Answers that adapters may give again without asking :meth:`resolve`; see
        :mod:`redirectware.memo`. Each rule set has its own, so a reload starts afresh."""
        # None when no proxy is trusted: one identity test per request instead of a call.
        self._proxies = self.settings.trusted_proxies or None
        self.trusted_proxies = self._proxies
        """The document's ``trusted_proxies``, or None when it trusts none: an adapter must not
        give a remembered answer to a trusted proxy, whose forwarded headers count."""
        from .loops import check_loops

        check_loops(self)

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> RuleSet:
        """Load a ``.yaml``, ``.yml`` or ``.json`` rule file."""
        return cls(load_source(os.fspath(path)))

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> RuleSet:
        """Compile a rule document given as a mapping (as a Django setting would hold it)."""
        return cls(load_source(document))

    @classmethod
    def load(cls, rules: RuleSet | str | os.PathLike[str] | Mapping[str, Any]) -> RuleSet:
        """Accept what ``rules=`` accepts: a RuleSet, a path, or a document mapping."""
        if isinstance(rules, RuleSet):
            return rules
        if isinstance(rules, str | os.PathLike):
            return cls.from_file(rules)
        if isinstance(rules, Mapping):
            return cls.from_dict(rules)
        raise TypeError(f"rules must be a path, a dict or a RuleSet, got {type(rules).__name__}")

    def with_settings(self, **changes: Any) -> RuleSet:
        """A new rule set with some :class:`~redirectware.model.Settings` fields replaced.

        For adapters whose framework already holds a setting (Django's ``ALLOWED_HOSTS``):
        ``ruleset.with_settings(allowed_hosts=..., allowed_hosts_given=True)``. The copy is
        compiled again, so loop detection sees the new settings too.
        """
        settings = dataclasses.replace(self.settings, **changes)
        return RuleSet(dataclasses.replace(self.document, settings=settings))

    def __repr__(self) -> str:
        return f"<RuleSet {self.source or '(dict)'}: {rule_count(self.document)}>"

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
            sent). When the answer is reusable (see :mod:`redirectware.memo`) it is stored
            in :attr:`answers` under that key, for the adapter to give again.
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
            forwarded = read_forwarded(hdrs)
            if forwarded.proto is not None:
                scheme = forwarded.proto
            if forwarded.host is not None:
                if host and parse_host_cached(host) is None:
                    # Two Host headers, or a malformed one, get 400 even behind a trusted
                    # proxy: the forwarded host must not paper over a broken request.
                    return self._bad_request("malformed Host header")
                host = forwarded.host
            if forwarded.port is not None and host is not None and forwarded.port.isdigit():
                parsed_fwd = parse_host(host)
                if parsed_fwd is not None:
                    host = f"{parsed_fwd.name}:{forwarded.port}"
            if forwarded.client is not None:
                client = forwarded.client
        parsed: Host | None = None
        if host:
            parsed = PARSED_HOSTS.get(host, _UNSEEN)  # parse_host_cached, its hit inline
            if parsed is _UNSEEN:
                parsed = parse_host_cached(host)
            if parsed is None:
                decision = self._bad_request("malformed Host header")
                if remember_as is not None:
                    self._remember(remember_as, decision, path, query, host, now)
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
            if remember_as is None:
                decision = self._decide(request, candidates)
            else:
                looked_at = [candidates]
                decision = self._decide(request, candidates, looked_at)
                unrepeatable = self._unrepeatable
                if unrepeatable and not all(unrepeatable.isdisjoint(c) for c in looked_at):
                    remember_as = None
        else:
            decision = PASS
        if scheme == "https" and self._hsts:
            decision = self._with_hsts(decision, parsed)
        if remember_as is not None:
            self._remember(remember_as, decision, path, query, host, now)
        return decision

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

    def _remember(
        self,
        key: Hashable,
        decision: Decision,
        path: str,
        query: str,
        host: str | None,
        now: float | None,
    ) -> None:
        """Store a reusable answer; the rules it met were checked by the caller."""
        if now is not None or len(path) + len(query) + len(host or "") > MAX_KEY_TEXT:
            return  # an explicit time is a test's; a long URL would make a big entry
        if _JSON_BODY in decision.headers:
            return  # only HTML bodies are remembered: recall() turns JSON clients away
        self.answers.store(key, decision)

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

    # --- internals ----------------------------------------------------------------------

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
        steps: list[tuple[Rule, _Step]] = []
        current = request
        own_url = request.url()
        seen = {own_url}
        while True:
            outcome = self._apply(rule, captures, current)
            if isinstance(outcome, Decision):
                if steps:
                    break  # a 503 or 400 further down the chain: send the redirect so far
                return Decision(PASS_KIND, would=outcome, rule=rule) if report_only else outcome
            steps.append((rule, outcome))
            if outcome.url in seen:
                what = (
                    "a redirect to the request's own URL"
                    if len(steps) == 1
                    else (
                        "a redirect loop ("
                        + " -> ".join([own_url] + [s.url for _, s in steps])
                        + ")"
                    )
                )
                return Decision(PASS_KIND, rule=rule, error=f"{rule.label}: refused {what}")
            seen.add(outcome.url)
            if len(steps) >= MAX_HOPS or not self._serves(outcome, current):
                break
            forms = (
                (outcome.path, outcome.path)
                if _plain_path(outcome.path)
                else path_forms(outcome.path)
            )
            candidates = self._index.candidates(
                outcome.scheme, forms[1], None if outcome.host is None else outcome.host.name
            )
            if not candidates:
                break  # the usual end of a chain, found without building the next request
            if looked_at is not None:
                looked_at.append(candidates)
            current = RequestView(
                request.method,
                outcome.scheme,
                outcome.host,
                outcome.path,
                outcome.query,
                request.headers,
                request.client,
                request.now,
                request.vary,
                forms,
            )
            found = self._index.first_match(current, candidates)
            if found is None:
                break
            rule, captures = found
            if rule.report_only and not report_only:
                break
        decision = self._redirect(request, steps)
        return Decision(PASS_KIND, would=decision, rule=decision.rule) if report_only else decision

    def _serves(self, step: _Step, current: RequestView) -> bool:
        """Whether the engine answers for the host a step leads to, so the chain goes on."""
        if step.host is None:
            return False
        if current.host is not None and step.host.name == current.host.name:
            return True
        return self.settings.allowed_hosts_given and step.host.name in self.settings.allowed_hosts

    def _host_usable(self, request: RequestView) -> bool:
        if request.host is None:
            return False
        return self._every_host or request.host.name in self.settings.allowed_hosts

    def _refuse_host(self, reason: str, rule: Rule, request: RequestView) -> Decision:
        # The client reads `reason`; explain and the log get the host and the setting.
        return self._bad_request(reason, rule, host_refusal(request.host, self.settings))

    def _bad_request(self, reason: str, rule: Rule | None = None, detail: str = "") -> Decision:
        content_type, body = bad_request_body(reason)
        return Decision(
            RESPOND_KIND,
            HTTPStatus.BAD_REQUEST,
            (
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ),
            body,
            rule=rule,
            error=detail or reason,
        )

    def _apply(
        self, rule: Rule, captures: dict[str, str], request: RequestView
    ) -> _Step | Decision:
        action = rule.action
        if isinstance(action, ToAction):
            target = action.target
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
        if isinstance(action, HttpsAction):
            if not self._host_usable(request):
                return self._refuse_host("Host header missing or not allowed", rule, request)
            assert request.host is not None
            netloc = request.host.name + (f":{action.port}" if action.port else "")
            return _Step(
                "https",
                netloc,
                parse_host_cached(netloc),
                request.raw_path,
                request.query,
                "",
                rule.permanent,
                rule.status,
            )
        if isinstance(action, SlashAction):
            if not self._host_usable(request):
                return self._refuse_host("Host header missing or not allowed", rule, request)
            path = request.raw_path + "/" if action.add else (request.raw_path.rstrip("/") or "/")
            return _Step(
                request.scheme,
                request.netloc,
                request.host,
                collapse_leading_slashes(path),
                request.query,
                "",
                rule.permanent,
                rule.status,
            )
        if isinstance(action, Maintenance):
            if action.target is None:
                return self._unavailable(request, action, rule)
            return self._locate(action.target.source, rule, request, False, rule.status, True)
        assert isinstance(action, MapAction)
        entry, consumed = self._index.map_entry(action, request)
        assert entry is not None  # rule_matches looked it up already
        return self._locate(
            entry.target,
            rule,
            request,
            entry.permanent,
            entry.status,
            True,
            keep_query=not consumed,
        )

    def _locate(
        self,
        text: str,
        rule: Rule,
        request: RequestView,
        permanent: bool,
        status: int | None,
        trusted_authority: bool,
        keep_query: bool = True,
    ) -> _Step | Decision:
        """Turn a rendered target into a step, keeping the request's query as the rule says."""
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
                    return self._bad_request("target host is not a valid host name", rule)
            else:
                netloc = host.netloc if host.port != _DEFAULT_PORTS.get(scheme) else host.name
        path = collapse_leading_slashes(encode_target_part(path) or "/")
        query = encode_target_part(target_query, query=True) if target_query else ""
        if keep_query and request.query:
            kept = _kept_query(request.query, rule.keep_query)
            if kept:
                query = f"{query}&{kept}" if query else kept
        return _Step(
            scheme, netloc, host, path, query, encode_target_part(fragment, True), permanent, status
        )

    def _unavailable(self, request: RequestView, action: Maintenance, rule: Rule) -> Decision:
        content_type, body = maintenance_body(request.headers.get("accept"))
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ]
        if action.retry_after is not None:
            headers.append(("Retry-After", str(action.retry_after)))
        return Decision(
            RESPOND_KIND,
            HTTPStatus.SERVICE_UNAVAILABLE,
            tuple(headers),
            b"" if request.method == "HEAD" else body,
            rule=rule,
        )

    def _redirect(self, request: RequestView, steps: list[tuple[Rule, _Step]]) -> Decision:
        # Plain loops, not generators: this runs for every redirect answered.
        permanent = True
        sunset_rule: Rule | None = None
        for rule, step in steps:
            if not step.permanent:
                permanent = False
            if sunset_rule is None and rule.sunset is not None:
                sunset_rule = rule
        # An explicit status is honoured from the step that decides the chain's nature.
        deciding = steps[0][1]
        for _, step in steps:
            if step.permanent == permanent:
                deciding = step
                break
        status = redirect_status(
            request.method, permanent, deciding.status, self.settings.strict_codes
        )
        final = steps[-1][1]
        location = final.url
        content_type, body = redirect_body(status, location, request.headers.get("accept"))
        headers = [
            ("Location", location),
            (
                "Cache-Control",
                f"max-age={self.settings.permanent_max_age}" if permanent else "no-store",
            ),
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
        ]
        if request.vary:
            headers.append(("Vary", ", ".join(sorted(request.vary))))
        last_rule = steps[-1][0]
        if isinstance(last_rule.action, Maintenance) and last_rule.action.retry_after is not None:
            headers.append(("Retry-After", str(last_rule.action.retry_after)))
        if sunset_rule is not None and sunset_rule.sunset is not None:
            headers.append(("Sunset", format_datetime(sunset_rule.sunset, usegmt=True)))
            deprecated = sunset_rule.deprecated or sunset_rule.sunset
            headers.append(("Deprecation", f"@{int(deprecated.timestamp())}"))
        return Decision(
            REDIRECT_KIND,
            status,
            tuple(headers),
            b"" if request.method == "HEAD" else body,
            location=location,
            rule=steps[0][0],
            # tuple.__new__ skips the NamedTuple's own Python-level __new__: same Hop, made
            # in a third of the time, once per step of every redirect.
            hops=tuple([tuple.__new__(Hop, (rule, s.url, s.permanent)) for rule, s in steps]),
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


def _kept_query(query: str, keep: KeepQuery) -> str:
    if keep.keep_all:
        return query
    if not keep.names and not keep.prefixes:
        return ""
    from urllib.parse import unquote_plus

    kept = [
        part
        for part in query.split("&")
        if part and keep.keeps(unquote_plus(part.split("=", 1)[0]))
    ]
    return "&".join(kept)
