"""Finding the first rule that matches a request, without trying every rule.

:class:`RuleIndex` files each rule under the cheapest key that can rule it out, once, when the
document is compiled:

* exact paths (a literal ``from`` and every ``map`` row) in a dict;
* path templates in a trie of their leading segments, each edge a literal segment or a
  one-segment placeholder; a rule hangs at the node where its literal prefix ends;
* rules with no ``from`` but a ``host``, by host name (exact names in a dict, ``*.example.com``
  and ``{sub}.example.com`` by the domain after the wildcard);
* the rest (``https``, ``trailing_slash``, ``maintenance`` without ``from``) in a short list
  per scheme, since an ``https`` rule can never match a request that is already https.

A lookup gathers the candidates from those places (a dict lookup each, plus a walk as deep as
the path) and tries them in document order, so the answer is the same as trying every rule in
turn; the cost does not grow with the number of rules.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import cast
from urllib.parse import parse_qsl

from .compiled_rows import CompiledRows
from .folding import normal, normal_kept
from .hosts import Host
from .model import (
    HttpsAction,
    LanguageAction,
    Maintenance,
    MapAction,
    MapEntry,
    Rule,
    SlashAction,
)
from .status import SAFE_METHODS
from .urls import canonical_literal, canonical_offsets, path_forms, safe_query

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
        forms: tuple[str, str] | None = None,
    ) -> None:
        self.method = method
        self.scheme = scheme
        self.host = host
        self.netloc = ""
        if host is not None:
            self.netloc = (
                host.name if host.port in ("", _DEFAULT_PORTS.get(scheme)) else host.netloc
            )
        # forms: the (safe, canonical) path when the caller has worked it out already.
        self.raw_path, self.path = path_forms(raw_path or "/") if forms is None else forms
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
    if action.match_keys is not None:
        return _normal_map_entry(action, request)
    if action.has_query_keys and request.query:
        entry = action.entries.get(f"{request.path}?{request.query}")
        if entry is not None:
            return entry, True
    return action.entries.get(request.path), False


def _normal_map_entry(action: MapAction, request: RequestView) -> tuple[MapEntry | None, bool]:
    """:func:`map_entry` for a map that ignores case or a trailing slash: rows looked up by
    their key in normal form (see ``engine/folding.py``)."""
    assert action.match_keys is not None
    path = normal(request.path, action.fold_case, action.ignore_slash)
    if action.has_query_keys and request.query:
        key = action.match_keys.get(f"{path}?{request.query}")
        if key is not None:
            return action.entries.get(key), True
    key = action.match_keys.get(path)
    return (None if key is None else action.entries.get(key)), False


def _match_normal(rule: Rule, request: RequestView) -> dict[str, str] | None:
    """A ``from`` that ignores case or a trailing slash: the rule's :attr:`Rule.match_path`
    against the path in the same normal form, each capture taken from the request's own
    bytes, as :meth:`PathTemplate.match_kept` does."""
    template = rule.match_path
    assert template is not None
    canonical = request.path
    folded, offsets = normal_kept(canonical, not rule.case_sensitive, rule.ignore_trailing_slash)
    if template.literal is not None:
        return {} if folded == template.literal else None
    found = template.regex.match(folded)
    if found is None:
        return None
    safe = request.raw_path
    kept = None if safe == canonical else canonical_offsets(safe)
    captures = {}
    for name in template.names:
        start, end = found.start(name), found.end(name)
        if offsets is not None:
            start, end = offsets[start], offsets[end]
        if kept is not None:
            start, end = kept[start], kept[end]
        captures[name] = safe[start:end]
    return captures


def _normal_path(rule: Rule, path: str) -> str:
    if rule.case_sensitive and not rule.ignore_trailing_slash:
        return path
    return normal(path, not rule.case_sensitive, rule.ignore_trailing_slash)


def rule_matches(rule: Rule, request: RequestView) -> dict[str, str] | None:
    """The captured values when every condition of ``rule`` holds for ``request``, else None."""
    if rule.when_not_found:
        return None  # asked only after the app's 404, by an engine of its own (ruleset.py)
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
    if rule.match_path is not None:
        got = _match_normal(rule, request)
        if got is None:
            return None
        captures.update(got)
    elif rule.path is not None:
        # Captures keep the request's own bytes (%2f stays %2f): taken from the safe form
        # where it differs from the canonical one that rules match against.
        safe = request.raw_path
        got = rule.path.match(path) if safe is path else rule.path.match_kept(path, safe)
        if got is None:
            return None
        captures.update(got)
    elif rule.regex is not None:
        got = rule.regex.match_kept(path, request.raw_path)
        if got is None:
            return None
        captures.update(got)
    elif isinstance(action, MapAction) and map_entry(action, request)[0] is None:
        return None
    if isinstance(action, SlashAction) and (
        action.add == path.endswith("/") or (not action.add and path == "/")
    ):
        return None
    if rule.excepts:
        # The excepts of a rule that ignores case or slashes are in normal form, like its from
        # (worked out once for all of them, not once per except).
        seen_as = _normal_path(rule, path)
        for excepted in rule.excepts:
            if excepted.match(seen_as) is not None:
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
        # A language redirect never re-sends a body: any method but GET and HEAD passes.
        language = action if isinstance(action, LanguageAction) else None
        if language is not None and request.method not in SAFE_METHODS:
            return None
        # From here on the answer depends on request headers: caches must know.
        request.vary.update(rule.vary)
        if rule.headers and not _pairs_match(rule.headers, request.headers):
            return None
        if rule.cookies and not _pairs_match(rule.cookies, request.cookies()):
            return None
        if language is not None:
            chosen = language.choose(
                request.headers.get("accept-language"),
                request.cookies() if language.cookie is not None else None,
            )
            if chosen is None:
                return None  # no language asked for (a crawler): the app serves the page
            captures["lang"] = chosen
    if rule.query and not _pairs_match(rule.query, request.query_pairs()):
        return None
    return captures


_Positions = tuple[int, ...]
_NO_RULES: _Positions = ()
# A whole segment that is one placeholder matching within a segment: a trie wildcard edge.
_ONE_SEGMENT = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?::(?:str|int))?\}\Z")


class _Node:
    """A trie node: rules whose literal prefix ends here, and the edges below."""

    __slots__ = ("literal", "positions", "wild")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.wild: _Node | None = None
        self.positions: list[int] | _Positions = []

    def freeze(self) -> None:
        self.positions = tuple(self.positions)
        for child in self.literal.values():
            child.freeze()
        if self.wild is not None:
            self.wild.freeze()


def _template_node(root: _Node, source: str) -> _Node:
    """The node a path template hangs at: the end of its literal or one-segment prefix."""
    node = root
    for segment in source[1:].split("/"):
        if "{" not in segment:
            node = node.literal.setdefault(canonical_literal(segment), _Node())
        elif _ONE_SEGMENT.match(segment):
            if node.wild is None:
                node.wild = _Node()
            node = node.wild
        else:  # a {name:path}, or literal text and a placeholder in one segment
            break
    return node


def _literal_segments(node: _Node) -> set[str]:
    """Every literal edge below ``node``."""
    found: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        found.update(current.literal)
        pending.extend(current.literal.values())
        if current.wild is not None:
            pending.append(current.wild)
    return found


def _file_map(exact: dict[str, _Positions], action: MapAction, position: int) -> None:
    """File every row of a map under its path (without the query of a ``path?query`` row)."""
    entries = action.entries
    if action.has_query_keys:
        for key in entries:
            slot = exact.get(key.split("?", 1)[0], _NO_RULES)
            if not slot or slot[-1] != position:
                exact[key.split("?", 1)[0]] = (*slot, position)
        return
    # A big map is filed in one C-level update, not row by row.
    shared = {key: exact[key] for key in entries.keys() & exact.keys()}
    exact.update(dict.fromkeys(entries, (position,)))
    for key, slot in shared.items():
        exact[key] = (*slot, position)


def _host_suffix(source: str) -> str | None:
    """``example.com`` for ``*.example.com`` or ``{sub}.example.com``; None if no such tail."""
    text = source.strip().lower().rstrip(".")
    tail = text[max(text.rfind("}"), text.rfind("*")) + 1 :]
    return tail[1:] if tail.startswith(".") and len(tail) > 1 else None


class RuleIndex:
    """Rules filed for quick candidate lookup; see the module docstring."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        # Positions only ever grow as rules are filed, so each tuple stays in document order.
        exact: dict[str, _Positions] = {}
        hosts: dict[str, list[int]] = {}
        suffixes: dict[str, list[int]] = {}
        general: list[int] = []
        compiled: list[tuple[int, CompiledRows]] = []
        root = _Node()
        normal_form: dict[tuple[bool, bool], list[int]] = {}
        for position, rule in enumerate(rules):
            if rule.match_path is not None or (
                isinstance(rule.action, MapAction) and rule.action.match_keys is not None
            ):
                # Filed by the path in normal form: see _NormalRules.
                flags = (not rule.case_sensitive, rule.ignore_trailing_slash)
                normal_form.setdefault(flags, []).append(position)
                continue
            if isinstance(rule.action, MapAction):
                if isinstance(rule.action.entries, CompiledRows):
                    # Its rows stay in the shared file: one lookup there per request, not
                    # a million keys copied into this process.
                    compiled.append((position, rule.action.entries))
                else:
                    _file_map(exact, rule.action, position)
            elif rule.path is not None and rule.path.literal is not None:
                exact[rule.path.literal] = (*exact.get(rule.path.literal, _NO_RULES), position)
            elif rule.path is not None:
                positions = _template_node(root, rule.path.source).positions
                assert isinstance(positions, list)  # not frozen yet
                positions.append(position)
            elif rule.host is not None and rule.host.exact is not None:
                hosts.setdefault(rule.host.exact, []).append(position)
            elif rule.host is not None and (suffix := _host_suffix(rule.host.source)):
                suffixes.setdefault(suffix, []).append(position)
            else:
                general.append(position)
        root.freeze()
        self._normal = tuple(
            _NormalRules(rules, positions, *flags) for flags, positions in normal_form.items()
        )
        self._root = root
        # The common case, a trie whose root holds only literal edges, is one dict lookup.
        self._simple_root = not root.positions and root.wild is None
        # Otherwise most paths share no segment with any template: then only the nodes
        # reached by placeholder edges alone (root, root.wild, root.wild.wild ...) can
        # hold candidates, and one set test tells so without walking.
        self._vocabulary = frozenset(_literal_segments(root))
        self._wild_chain: list[tuple[int, _Positions]] = []
        node: _Node | None = root
        depth = 0
        while node is not None:
            if node.positions:
                self._wild_chain.append((depth, node.positions))  # type: ignore[arg-type]
            node, depth = node.wild, depth + 1
        self._exact = exact
        self._compiled = tuple(compiled)
        self._hosts = {key: tuple(value) for key, value in hosts.items()}
        self._suffixes = {key: tuple(value) for key, value in suffixes.items()}
        self._by_host = bool(hosts or suffixes)
        self._general = tuple(general)
        # An https rule never matches an https request, nor a scheme: https rule an http one.
        self._general_by_scheme = {
            scheme: tuple(
                position
                for position in general
                if not (isinstance(rules[position].action, HttpsAction) and scheme != "http")
                and rules[position].scheme in (None, scheme)
            )
            for scheme in ("http", "https")
        }

    map_entry = staticmethod(map_entry)

    def _walk(self, path: str, found: list[_Positions]) -> None:
        """Add the positions of every trie node on ``path``'s way down to ``found``."""
        node = self._root
        # Most walks follow one branch: keep that in locals, and a stack only for the other
        # branches a wildcard edge opens.
        pending: list[tuple[_Node, int]] = []
        segments = path[1:].split("/")
        depth = 0
        last = len(segments)
        while True:
            if node.positions:
                found.append(node.positions)  # type: ignore[arg-type]  # frozen
            if depth < last:
                child = node.literal.get(segments[depth])
                depth += 1
                wild = node.wild
                if wild is not None:
                    if child is None:
                        node = wild
                        continue
                    pending.append((wild, depth))
                if child is not None:
                    node = child
                    continue
            if not pending:
                return
            node, depth = pending.pop()

    def candidates(self, scheme: str, path: str, host: str | None = None) -> _Positions:
        """Positions of the rules that may match, in document order.

        ``path`` is the canonical path, ``host`` the lower-case host name without port.
        """
        general = self._general_by_scheme.get(scheme, self._general)
        found: list[_Positions] = [general] if general else []
        exact = self._exact.get(path)
        if exact is not None:
            found.append(exact)
        for position, rows in self._compiled:
            if rows.has_path(path):
                found.append((position,))
        if self._simple_root:
            end = path.find("/", 1)
            child = self._root.literal.get(path[1:end] if end > 0 else path[1:])
            if child is not None:
                self._walk(path, found)
        else:
            segments = path[1:].split("/")
            if not self._vocabulary.isdisjoint(segments):
                self._walk(path, found)
            else:
                for depth, positions in self._wild_chain:
                    if depth > len(segments):
                        break
                    found.append(positions)
        if host is not None and self._by_host:
            if self._hosts:
                by_host = self._hosts.get(host)
                if by_host is not None:
                    found.append(by_host)
            if self._suffixes:
                dot = host.find(".")
                while dot >= 0:
                    by_suffix = self._suffixes.get(host[dot + 1 :])
                    if by_suffix is not None:
                        found.append(by_suffix)
                    dot = host.find(".", dot + 1)
        for normal_rules in self._normal:
            by_form = normal_rules.candidates(scheme, path, host)
            if by_form:
                found.append(by_form)
        if not found:
            return _NO_RULES
        if len(found) == 1:
            return found[0]
        return tuple(sorted({position for positions in found for position in positions}))

    def first_match(
        self, request: RequestView, candidates: _Positions | None = None
    ) -> tuple[Rule, dict[str, str]] | None:
        """The first rule, in document order, whose conditions hold, with its captures."""
        if candidates is None:
            host = request.host
            candidates = self.candidates(
                request.scheme, request.path, None if host is None else host.name
            )
        rules = self.rules
        for position in candidates:
            rule = rules[position]
            captures = rule_matches(rule, request)
            if captures is not None:
                return rule, captures
        return None


class _NormalRules:
    """The rules with a ``from`` or a ``map`` that ignore case, a trailing slash, or both
    (one instance per combination), filed by the path in that normal form.

    Each is filed in an index of its own as a view of itself whose ``from`` and map keys are
    in normal form, so that a lookup stays a dict lookup and a trie walk, whatever the case
    or the slash of the request's path.
    """

    __slots__ = ("_fold_case", "_ignore_slash", "_index", "_positions")

    def __init__(
        self, rules: tuple[Rule, ...], positions: list[int], fold_case: bool, ignore_slash: bool
    ) -> None:
        self._fold_case = fold_case
        self._ignore_slash = ignore_slash
        views = []
        for position in positions:
            rule = rules[position]
            action = rule.action
            if isinstance(action, MapAction) and action.match_keys is not None:
                # Only the keys are filed; the view's rows are never looked up.
                keys = cast(Mapping[str, MapEntry], action.match_keys)
                action = replace(action, entries=keys, match_keys=None)
            views.append(
                replace(
                    rule,
                    path=rule.match_path,
                    match_path=None,
                    case_sensitive=True,
                    ignore_trailing_slash=False,
                    action=action,
                )
            )
        self._index = RuleIndex(tuple(views))
        self._positions = tuple(positions)

    def candidates(self, scheme: str, path: str, host: str | None) -> _Positions:
        """Positions (in the whole document) of these rules that may match."""
        found = self._index.candidates(
            scheme, normal(path, self._fold_case, self._ignore_slash), host
        )
        return tuple(self._positions[index] for index in found)
