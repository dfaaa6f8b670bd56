"""Finding redirect loops when a document loads, so that none is ever served.

Two checks, both cheap enough for a big ``map``:

* exact paths (``map`` rows and literal ``from`` rules sending to a literal path) form a graph
  with one edge per path; a walk finds every cycle in time linear in the rows;
* every other rule is tried on a sample request built from its own conditions (placeholders
  filled with sample values), following the chain the engine would follow.

What neither check can see (a loop that needs particular headers, say) is still never sent:
at run time the engine refuses a chain that comes back to a URL it has already visited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from redirectware.engine.compiled_rows import CompiledRows
from redirectware.engine.exhaustive import assert_never
from redirectware.engine.model import (
    GoneAction,
    HttpsAction,
    LanguageAction,
    Maintenance,
    MapAction,
    PlainRows,
    Rule,
    SlashAction,
    ToAction,
    map_targets,
)
from redirectware.engine.urls import canonical_literal
from redirectware.errors import RuleError

from .samples import sample_request

if TYPE_CHECKING:
    from redirectware.engine.engine import Engine

# A target path that canonical_literal would return unchanged (no "?", "%" or odd characters).
_PLAIN_TARGET = re.compile(r"[A-Za-z0-9\-._~/:@!$&'()*+,;=]*\Z")
#: Sample requests are tried for this many rules at most; beyond it the run-time guard is all.
SAMPLED_RULES = 2000


def _fail(rule: Rule, source: str | None, message: str) -> RuleError:
    action = rule.action
    key: str | None
    match action:
        case ToAction() | LanguageAction():
            key = "to"
        case MapAction():
            key = "map"
        case HttpsAction() | SlashAction() | Maintenance() | GoneAction():
            key = None  # the rule's own line: its loop is not in a target it wrote
        case _:
            assert_never(action)
    return RuleError(
        message,
        source=source,
        line=rule.line_of(key),
        rule_index=rule.index,
        rule_name=rule.name,
        key=key,
    )


def _is_unconditional(rule: Rule) -> bool:
    return not (
        rule.host
        or rule.scheme
        or rule.methods
        or rule.query
        or rule.headers
        or rule.cookies
        or rule.excepts
        or rule.active_from
        or rule.active_until
        or rule.report_only
    )


def _exact_edges(rules: tuple[Rule, ...]) -> dict[str, tuple[str, Rule]]:
    """path -> (next path, rule) for the exact, same-site, unconditional redirects that lead
    to another exact source; a redirect whose target no rule starts from cannot be in a loop."""
    maps: list[tuple[Rule, MapAction]] = []
    literal: dict[str, tuple[str, Rule]] = {}
    for rule in rules:
        if not _is_unconditional(rule):
            continue
        action = rule.action
        if isinstance(action, MapAction):
            maps.append((rule, action))
        elif (
            isinstance(action, ToAction)
            and rule.path is not None
            and rule.path.literal is not None
            and not action.target.absolute
            and not action.target.names
        ):
            target = canonical_literal(action.target.source.split("?", 1)[0].split("#", 1)[0])
            literal.setdefault(rule.path.literal, (target, rule))
    # Where a path may start another redirect: one dict per map, and the literal rules.
    sources: list[Mapping[str, object]] = [literal, *(action.entries for _, action in maps)]
    edges: dict[str, tuple[str, Rule]] = {}
    plain = _PLAIN_TARGET.match
    for rule, action in maps:
        entries = action.entries
        pairs = map_targets(entries)
        if isinstance(entries, CompiledRows):
            pairs = iter(_compiled_pairs(entries, literal, [a.entries for _, a in maps]))
        elif isinstance(entries, PlainRows) and entries.canonical_targets:
            # A bulk map: find the targets that start another redirect with set operations
            # in C, and look at those rows only (usually none).
            targets = entries.target_set()
            hits = targets.intersection(literal.keys())
            for _, other in maps:
                rows = other.entries
                hits |= targets.intersection(
                    rows.key_view() if isinstance(rows, PlainRows) else rows.keys()
                )
            if not hits:
                continue
            pairs = ((key, target) for key, target in pairs if target in hits)
        for key, target in pairs:
            if not target or target[0] != "/" or key in edges or "?" in key:
                continue
            # Most targets are plain paths, their own canonical form: skip the call.
            edge = target if plain(target) else canonical_literal(target.split("?", 1)[0])
            for found in sources:
                if edge in found:
                    edges[key] = (edge, rule)
                    break
    for key, (target, rule) in literal.items():
        if key not in edges and any(target in found for found in sources):
            edges[key] = (target, rule)
    return edges


def _compiled_pairs(
    rows: CompiledRows, literal: Mapping[str, object], all_rows: list[Mapping[str, object]]
) -> list[tuple[str, str]]:
    """The rows of a compiled map that may be in a loop, found without reading every row:
    those whose target another row of the map starts from (recorded when it was compiled),
    and those whose target a literal rule or another map starts from (its index of targets)."""
    pairs = rows.inner_edges()
    others: list[Mapping[str, object]] = [literal]
    others += [other for other in all_rows if other is not rows]
    for other in others:
        # A compiled map's keys are read from its file: rare (two big maps), but whole.
        for key in other:
            pairs.extend((source, key) for source in rows.sources_of(key))
    return pairs


def _check_exact(rules: tuple[Rule, ...], source: str | None) -> None:
    edges = _exact_edges(rules)
    done: set[str] = set()
    for start in edges:
        if start in done:
            continue
        trail: list[str] = []
        on_trail: set[str] = set()
        node: str | None = start
        while node is not None and node in edges and node not in done:
            if node in on_trail:
                cycle = [*trail[trail.index(node) :], node]
                raise _fail(edges[node][1], source, "redirect loop: " + " -> ".join(cycle))
            trail.append(node)
            on_trail.add(node)
            node = edges[node][0]
        done.update(trail)


def _check_sampled(ruleset: Engine) -> None:
    for rule in ruleset.rules[:SAMPLED_RULES]:
        if isinstance(rule.action, MapAction):
            continue
        sample = sample_request(rule, ruleset.settings)
        for scheme in sample.schemes:
            decision = ruleset.resolve(
                sample.method, scheme, sample.host, sample.path, sample.query, sample.headers
            )
            refused = decision.refused
            if refused is None:
                continue
            # A chain that comes back or never ends is a loop whoever starts it. A single
            # hop back to the request's own URL is this rule's fault only when the rule
            # wrote that path itself; an absolute target may be someone else's canonical URL.
            own_fault = (
                decision.rule is rule
                and isinstance(rule.action, ToAction)
                and not rule.action.target.absolute
            )
            if refused.kind == "loop" or own_fault:
                raise _fail(rule, ruleset.source, refused.message)


def check_loops(ruleset: Engine) -> None:
    """Raise :class:`RuleError` for a redirect loop the document makes certain."""
    _check_exact(ruleset.rules, ruleset.source)
    _check_sampled(ruleset)
