"""Warnings about a valid document: what ``redirectware check`` reports besides errors.

* **chain**: a rule whose target another rule redirects again. The engine collapses the chain
  into one redirect, but the document reads better (and caches better) pointing straight at
  the end. Found by asking the engine itself about a sample request, so what is reported is a
  chain the engine really follows. Chains through an ``https`` rule (http -> https, then the
  move) are how ``https`` is meant to work and are not reported.
* **shadowed**: a rule that an earlier rule always takes first, so it never applies. Claimed
  only when it is provable from the two rules' conditions that the earlier one matches every
  request the later one does (a false claim would send someone to delete a working rule);
  cases it cannot prove are left alone.
* **never-matches**: a rule whose own conditions exclude every request (an ``active`` window
  that has ended, an ``https`` rule limited to ``scheme: https``, ...).
* **off-site-target**: a target on a host outside ``allowed_hosts``.

Nothing here changes a decision; it reads the compiled rules and calls :meth:`Engine.resolve`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redirectware.engine.exhaustive import assert_never
from redirectware.engine.hosts import parse_host
from redirectware.engine.matching import RuleIndex
from redirectware.engine.model import (
    GoneAction,
    HttpsAction,
    LanguageAction,
    Maintenance,
    MapAction,
    MapEntry,
    Rule,
    SlashAction,
    ToAction,
)
from redirectware.engine.templates import PathTemplate
from redirectware.engine.urls import PLAIN_PATH, canonical_literal

from .samples import sample_path, sample_request

if TYPE_CHECKING:
    from redirectware.engine.engine import Engine

CHAIN = "chain"
SHADOWED = "shadowed"
NEVER_MATCHES = "never-matches"
OFF_SITE = "off-site-target"

Pairs = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class Finding:
    """One warning about a rule (or one ``map`` row), with where it stands."""

    kind: str
    message: str
    source: str | None
    line: int | None
    rule: Rule
    #: The ``from`` of the ``map`` row the warning is about, when it is about one row.
    row: str | None = None

    def __str__(self) -> str:
        place = self.source or "(dict)"
        if self.line is not None:
            place += f":{self.line}"
        return f"{place}: warning: {self.rule.label}: {self.message}"


# --- shadowing: does rule `a` match every request that rule `b` (or one of its rows) does? ---


def _scheme_of(rule: Rule) -> str | None:
    # An https rule only ever matches plain http requests.
    return "http" if isinstance(rule.action, HttpsAction) else rule.scheme


def _pairs_covered(wanted: Pairs, given: Pairs) -> bool:
    """Whether every request meeting ``given`` also meets ``wanted``."""
    have = dict(given)
    for name, value in wanted:
        if name not in have:
            return False
        if value is not None and have[name] != value:
            return False
    return True


def _catch_all_prefix(template: PathTemplate) -> str | None:
    """``/api/`` for ``/api/{rest:path}``: a template that matches everything below a prefix."""
    if len(template.names) != 1 or not template.source.endswith(":path}"):
        return None
    head = template.source[: template.source.rindex("{")]
    return None if "{" in head else canonical_literal(head)


def _path_covered(
    a: Rule, literal: str | None, template: PathTemplate | None, b_slash: bool | None = None
) -> bool:
    """Whether ``a``'s path conditions hold for every path that the later rule allows.

    The later rule allows exactly ``literal``, or what ``template`` matches, or (both None)
    any path. ``b_slash`` is its own trailing-slash action (``add`` or not), if it has one.
    """
    if a.excepts and (literal is None or any(e.match(literal) is not None for e in a.excepts)):
        return False
    if isinstance(a.action, MapAction):
        return literal is not None and literal in a.action.entries
    if isinstance(a.action, SlashAction):
        if literal is None:
            # Only a rule with the same slash condition stays inside a's.
            if b_slash != a.action.add:
                return False
        elif a.action.add == literal.endswith("/") or (not a.action.add and literal == "/"):
            return False
    if a.regex is not None:
        return False  # what a regular expression covers is not worked out here
    if a.path is None:
        return True
    if literal is not None:
        return a.path.match(literal) is not None
    prefix = _catch_all_prefix(a.path)
    if template is None:
        return prefix == "/"
    if a.path.source == template.source:
        return True
    if prefix is None:
        return False
    head = template.source.split("{", 1)[0]
    return canonical_literal(head).startswith(prefix)


def _conditions_covered(a: Rule, b: Rule) -> bool:
    """Whether ``a``'s conditions other than the path hold for every request ``b`` matches."""
    if isinstance(a.action, Maintenance):
        return False  # switched by a flag file, a client list and its own page: not provable
    if a.scheme is not None and a.scheme != _scheme_of(b):
        return False
    if isinstance(a.action, HttpsAction) and _scheme_of(b) != "http":
        return False
    if a.methods is not None and (b.methods is None or not b.methods <= a.methods):
        return False
    if a.host is not None:
        if b.host is None:
            return False
        if b.host.exact is not None:
            if a.host.match(b.host.exact) is None:
                return False
        elif a.host.source.strip().lower() != b.host.source.strip().lower():
            return False
    if a.active_from is not None and (b.active_from is None or b.active_from < a.active_from):
        return False
    if a.active_until is not None and (b.active_until is None or b.active_until > a.active_until):
        return False
    return (
        _pairs_covered(a.query, b.query)
        and _pairs_covered(a.headers, b.headers)
        and _pairs_covered(a.cookies, b.cookies)
    )


def _template_covered(a: Rule, b: Rule) -> bool:
    b_slash = b.action.add if isinstance(b.action, SlashAction) else None
    if b.path is None:
        return _path_covered(a, None, None, b_slash)
    literal = b.path.literal
    return _path_covered(a, literal, None if literal is not None else b.path, b_slash)


def _shadows(a: Rule, b: Rule) -> bool:
    """Whether ``a`` provably matches every request that ``b`` matches."""
    return _conditions_covered(a, b) and _template_covered(a, b) and not _widened(b)


def _widened(b: Rule) -> bool:
    """Whether ``b`` matches more paths than its ``from`` or rows as written (any case, either
    slash, a regular expression): then which rule covers it is not claimed."""
    return not b.case_sensitive or b.ignore_trailing_slash or b.regex is not None


def _row_shadowed_by(a: Rule, b: Rule, key: str) -> bool:
    return (
        _conditions_covered(a, b)
        and _path_covered(a, key.split("?", 1)[0], None)
        and not _widened(b)
    )


def _where(rule: Rule) -> str:
    return f"{rule.label} (line {rule.line})" if rule.line is not None else rule.label


def _shadowing(ruleset: Engine) -> Iterator[Finding]:
    rules = ruleset.rules
    for position, b in enumerate(rules):
        earlier = rules[:position]
        if isinstance(b.action, MapAction):
            yield from _shadowed_rows(ruleset, b, earlier)
            continue
        for a in earlier:
            if _shadows(a, b):
                yield Finding(
                    SHADOWED,
                    f"never applies: {_where(a)} comes first and matches every request this "
                    "rule matches; remove this rule or move it above that one",
                    ruleset.source,
                    b.line,
                    b,
                )
                break


def _shadowed_rows(ruleset: Engine, b: Rule, earlier: tuple[Rule, ...]) -> Iterator[Finding]:
    assert isinstance(b.action, MapAction)
    # Only rules that can cover an exact path are worth trying against every row.
    candidates = [a for a in earlier if _conditions_covered(a, b)]
    if not candidates:
        return
    # Trying every candidate on every row is rows x rules: 10 million tries, minutes, for a
    # 100,000-row map behind 100 templates. A rule with a path condition can only match the
    # rows the engine's own index files under that path; only rules without one (https,
    # trailing_slash) are tried on every row.
    with_path = tuple(a for a in candidates if _has_path_condition(a))
    everywhere = [a for a in candidates if not _has_path_condition(a)]
    index = RuleIndex(with_path) if with_path else None
    for key, entry in b.action.entries.items():
        path = key.split("?", 1)[0]
        tried = everywhere
        if index is not None:
            filed = [with_path[position] for position in index.candidates("https", path)]
            if filed:
                tried = sorted([*everywhere, *filed], key=_document_order) if everywhere else filed
        for a in tried:
            if _row_shadowed_by(a, b, key):
                yield Finding(
                    SHADOWED,
                    f"map row from {key!r} never applies: {_where(a)} comes first and matches it",
                    b.action.source or ruleset.source,
                    entry.line if entry.line is not None else b.line,
                    b,
                    key,
                )
                break


def _has_path_condition(rule: Rule) -> bool:
    """A ``from`` or a ``map``: the index files such a rule under its paths."""
    return rule.path is not None or isinstance(rule.action, MapAction)


def _document_order(rule: Rule) -> int:
    return rule.index


# --- rules that exclude every request by themselves -------------------------------------------


def _never_matches(ruleset: Engine, now: float) -> Iterator[Finding]:
    for rule in ruleset.rules:
        reason = None
        literal = rule.path.literal if rule.path is not None else None
        if rule.active_until is not None and rule.active_until <= now:
            ended = dt.datetime.fromtimestamp(rule.active_until, dt.timezone.utc)
            reason = f"its active window ended at {ended.isoformat()}"
        elif isinstance(rule.action, HttpsAction) and rule.scheme == "https":
            reason = "an https rule acts only on http requests, and this one has scheme: https"
        elif isinstance(rule.action, SlashAction) and literal is not None:
            if rule.action.add and literal.endswith("/"):
                reason = f"from {literal!r} already ends with '/', so there is none to add"
            elif not rule.action.add and (literal == "/" or not literal.endswith("/")):
                reason = f"from {literal!r} has no trailing '/' to remove"
        elif literal is not None and any(e.match(literal) is not None for e in rule.excepts):
            reason = f"its own except covers its from {literal!r}"
        if reason is not None:
            yield Finding(
                NEVER_MATCHES, f"never matches: {reason}", ruleset.source, rule.line, rule
            )


# --- chains, found by asking the engine ------------------------------------------------------


def _chain_of(ruleset: Engine, rule: Rule, path: str, query: str = "") -> str | None:
    """The chain a sample request for ``rule`` takes, described, when it has several steps."""
    sample = sample_request(rule, ruleset.settings, path, query)
    method, host, query = sample.method, sample.host, sample.query
    for tried in sample.schemes:
        found = ruleset.resolve(
            method, tried, host, path, query, sample.headers, None, rule.active_from
        )
        decision = found.would or found
        if decision.rule is not rule or decision.kind != "redirect":
            continue
        steps = [hop for hop in decision.hops if not isinstance(hop.rule.action, HttpsAction)]
        if len(steps) < 2:
            return None
        first_url = f"{tried}://{host}{path}" + (f"?{query}" if query else "")
        walk = " -> ".join(f"{hop.location} ({hop.rule.label})" for hop in decision.hops)
        return (
            f"{method} {first_url} -> {walk}; the engine sends one {decision.status} to "
            f"{decision.location}"
        )
    return None


def _chains(ruleset: Engine) -> Iterator[Finding]:
    for rule in ruleset.rules:
        if isinstance(rule.action, MapAction):
            yield from _chained_rows(ruleset, rule)
            continue
        described = _chain_of(ruleset, rule, sample_path(rule.path))
        if described is not None:
            yield Finding(
                CHAIN,
                f"chain: {described}; point this rule at the final URL",
                ruleset.source,
                rule.line,
                rule,
            )


def _chained_rows(ruleset: Engine, rule: Rule) -> Iterator[Finding]:
    assert isinstance(rule.action, MapAction)
    ends_at_once = _one_hop_rows(ruleset, rule)
    for key, entry in rule.action.entries.items():
        path, _, query = key.partition("?")
        if ends_at_once is not None and ends_at_once(path, entry.target):
            continue
        described = _chain_of(ruleset, rule, path, query)
        if described is not None:
            yield Finding(
                CHAIN,
                f"map row from {key!r} starts a chain: {described}; point the row at the final URL",
                rule.action.source or ruleset.source,
                entry.line if entry.line is not None else rule.line,
                rule,
                key,
            )


def _one_hop_rows(ruleset: Engine, rule: Rule) -> Callable[[str, str], bool] | None:
    """A test that a map row's sample request provably gets a one-hop redirect, or None.

    Asking the engine about every row of a 100,000-row map takes seconds. For most rows the
    answer is plain from the index alone: when no earlier rule can match the row's own path,
    the map rule answers the sample request at its first scheme; when nothing can match the
    row's target (a plain path on the same host), the engine stops after that hop, and
    :func:`_chain_of` reports nothing. Should the rule's own conditions refuse the sample (an
    ``except``), or its host not be allowed (a 400), that holds at every scheme, and nothing is
    reported either. Any row this cannot prove is asked about in full.
    """
    sample = sample_request(rule, ruleset.settings, "/")
    host = parse_host(sample.host)
    if host is None:
        return None
    scheme, name = sample.schemes[0], host.name
    # Its place among the compiled rules, which leave disabled ones out: not rule.index.
    position = next(at for at, compiled in enumerate(ruleset.rules) if compiled is rule)

    def ends_at_once(path: str, target: str) -> bool:
        return (
            target != path
            and target.startswith("/")
            and not target.startswith("//")
            and PLAIN_PATH.match(target) is not None
            and all(p >= position for p in ruleset.candidates(scheme, path, name))
            and not ruleset.candidates(scheme, target, name)
        )

    return ends_at_once


# --- targets outside allowed_hosts -----------------------------------------------------------


def _target_host(text: str) -> str | None:
    """The host of an absolute http(s) target, else None."""
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return None
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = parse_host(authority)
    return None if host is None else host.name


def _off_site(ruleset: Engine) -> Iterator[Finding]:
    settings = ruleset.settings
    if not settings.allowed_hosts_given:
        return  # without allowed_hosts there is no notion of "our" hosts
    for rule in ruleset.rules:
        action = rule.action
        targets: list[str] = []
        match action:
            case ToAction() | LanguageAction():
                if action.target.absolute and not action.target.authority_names:
                    targets.append(action.target.source)
            case Maintenance():
                if action.target is not None:
                    targets.append(action.target.source)
            case MapAction():
                targets.extend(entry.target for entry in _absolute_rows(action.entries))
            case HttpsAction() | SlashAction() | GoneAction():
                pass  # the same host, or no target at all
            case _:
                assert_never(action)
        outside = sorted(
            {
                host
                for host in map(_target_host, targets)
                if host is not None and host not in settings.allowed_hosts
            }
        )
        if outside:
            rows = " (map rows)" if isinstance(action, MapAction) else ""
            yield Finding(
                OFF_SITE,
                f"target host{'s' if len(outside) > 1 else ''}{rows} outside allowed_hosts: "
                f"{', '.join(outside)}; redirects there leave the site (add the host to "
                "allowed_hosts if it is yours)",
                ruleset.source,
                rule.line,
                rule,
            )


def _absolute_rows(entries: Mapping[str, MapEntry]) -> Iterator[MapEntry]:
    # A gone row (410, 451) has no target at all.
    return (entry for entry in entries.values() if entry.target and entry.target[0] != "/")


def analyse(ruleset: Engine, now: float | None = None) -> list[Finding]:
    """Every warning about ``ruleset``, in document order."""
    moment = time.time() if now is None else now
    findings = [
        *_chains(ruleset),
        *_shadowing(ruleset),
        *_never_matches(ruleset, moment),
        *_off_site(ruleset),
    ]
    return sorted(findings, key=lambda f: (f.source or "", f.line or 0, f.rule.index))
