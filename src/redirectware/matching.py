"""Finding the first rule that matches a request, without trying every rule.

:class:`RuleIndex` files each rule under the cheapest key that can rule it out: exact paths
(literal ``from`` and every ``map`` row) in a dict, templates by their first literal segment,
and the rest (no ``from``, or a template that starts with a placeholder) in a short list.
A lookup gathers the candidates from those places and tries them in document order, so the
answer is the same as trying every rule in turn.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import parse_qsl

from .hosts import Host
from .model import HttpsAction, Maintenance, MapAction, MapEntry, Rule, SlashAction
from .urls import canonical_path, safe_path, safe_query

_DEFAULT_PORTS = {"http": "80", "https": "443"}


class RequestView:
    """The request as rules see it: validated host, safe and canonical path, lazy parts."""

    __slots__ = (
        "_cookies",
        "_query_pairs",
        "client",
        "headers",
        "host",
        "method",
        "netloc",
        "now",
        "path",
        "query",
        "raw_path",
        "scheme",
        "vary",
    )

    def __init__(
        self,
        method: str,
        scheme: str,
        host: Host | None,
        raw_path: str,
        query: str,
        headers: Mapping[str, str],
        client: str | None,
        now: float | None,
        vary: set[str] | None = None,
    ) -> None:
        self.method = method
        self.scheme = scheme
        self.host = host
        self.netloc = ""
        if host is not None:
            self.netloc = (
                host.name if host.port in ("", _DEFAULT_PORTS.get(scheme)) else host.netloc
            )
        self.raw_path = safe_path(raw_path or "/")
        self.path = canonical_path(self.raw_path)
        self.query = safe_query(query) if query else ""
        self.headers = headers
        self.client = client
        self.now = now
        self.vary: set[str] = set() if vary is None else vary
        self._query_pairs: dict[str, str] | None = None
        self._cookies: dict[str, str] | None = None

    def url(self) -> str:
        """The request's own URL, in the form a Location would take."""
        return f"{self.scheme}://{self.netloc}{self.raw_path}" + (
            f"?{self.query}" if self.query else ""
        )

    def query_pairs(self) -> dict[str, str]:
        """Query parameters (the first value of each name), parsed once."""
        if self._query_pairs is None:
            self._query_pairs = {}
            for name, value in parse_qsl(self.query, keep_blank_values=True):
                self._query_pairs.setdefault(name, value)
        return self._query_pairs

    def cookies(self) -> dict[str, str]:
        """Cookies from the ``Cookie`` header, parsed once."""
        if self._cookies is None:
            self._cookies = {}
            for part in self.headers.get("cookie", "").split(";"):
                name, sep, value = part.strip().partition("=")
                if sep and name not in self._cookies:
                    self._cookies[name] = value.strip().strip('"')
        return self._cookies

    def moment(self) -> float:
        """The time that ``active`` windows are checked against."""
        if self.now is None:
            self.now = time.time()
        return self.now


def _pairs_match(wanted: tuple[tuple[str, str | None], ...], have: Mapping[str, str]) -> bool:
    for name, value in wanted:
        got = have.get(name)
        if got is None or (value is not None and got != value):
            return False
    return True


def map_entry(action: MapAction, request: RequestView) -> tuple[MapEntry | None, bool]:
    """The row of ``action`` for this request, and whether the row consumed its query."""
    if action.has_query_keys and request.query:
        entry = action.entries.get(f"{request.path}?{request.query}")
        if entry is not None:
            return entry, True
    return action.entries.get(request.path), False


def rule_matches(rule: Rule, request: RequestView) -> dict[str, str] | None:
    """The captured values when every condition of ``rule`` holds for ``request``, else None."""
    action = rule.action
    # Cheapest, most often decisive checks first: an https rule never matches https.
    if isinstance(action, HttpsAction) and request.scheme != "http":
        return None
    if rule.scheme is not None and rule.scheme != request.scheme:
        return None
    if rule.methods is not None and request.method not in rule.methods:
        return None
    captures: dict[str, str] = {}
    if rule.host is not None:
        if request.host is None:
            return None
        got = rule.host.match(request.host.name)
        if got is None:
            return None
        captures.update(got)
    path = request.path
    if rule.path is not None:
        got = rule.path.match(path)
        if got is None:
            return None
        captures.update(got)
    elif isinstance(action, MapAction) and map_entry(action, request)[0] is None:
        return None
    if isinstance(action, SlashAction) and (
        action.add == path.endswith("/") or (not action.add and path == "/")
    ):
        return None
    for excepted in rule.excepts:
        if excepted.match(path) is not None:
            return None
    if isinstance(action, Maintenance):
        if path == action.target_path or not action.is_on():
            return None
        if action.allow_ips and request.client in action.allow_ips:
            return None
    if rule.active_from is not None or rule.active_until is not None:
        moment = request.moment()
        if rule.active_from is not None and moment < rule.active_from:
            return None
        if rule.active_until is not None and moment >= rule.active_until:
            return None
    if rule.vary:
        # From here on the answer depends on request headers: caches must know.
        request.vary.update(rule.vary)
        if rule.headers and not _pairs_match(rule.headers, request.headers):
            return None
        if rule.cookies and not _pairs_match(rule.cookies, request.cookies()):
            return None
    if rule.query and not _pairs_match(rule.query, request.query_pairs()):
        return None
    return captures


class RuleIndex:
    """Rules filed for quick candidate lookup; see the module docstring."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        exact: dict[str, list[int]] = {}
        by_segment: dict[str, list[int]] = {}
        general: list[int] = []
        for position, rule in enumerate(rules):
            if isinstance(rule.action, MapAction):
                for key in rule.action.entries:
                    slot = exact.setdefault(key.split("?", 1)[0], [])
                    if not slot or slot[-1] != position:
                        slot.append(position)
            elif rule.path is not None and rule.path.literal is not None:
                exact.setdefault(rule.path.literal, []).append(position)
            elif rule.path is not None and rule.path.first_segment is not None:
                by_segment.setdefault(rule.path.first_segment, []).append(position)
            else:
                general.append(position)
        self._exact = {key: tuple(value) for key, value in exact.items()}
        self._by_segment = {key: tuple(value) for key, value in by_segment.items()}
        self._general = tuple(general)

    map_entry = staticmethod(map_entry)

    def candidates(self, path: str) -> tuple[int, ...]:
        """Positions of the rules that may match ``path``, in document order."""
        exact = self._exact.get(path)
        if self._by_segment:
            end = path.find("/", 1)
            segment = self._by_segment.get(path[1:end] if end > 0 else path[1:])
        else:
            segment = None
        if exact is None and segment is None:
            return self._general
        return tuple(sorted({*self._general, *(exact or ()), *(segment or ())}))

    def first_match(self, request: RequestView) -> tuple[Rule, dict[str, str]] | None:
        """The first rule, in document order, whose conditions hold, with its captures."""
        rules = self.rules
        for position in self.candidates(request.path):
            rule = rules[position]
            captures = rule_matches(rule, request)
            if captures is not None:
                return rule, captures
        return None
