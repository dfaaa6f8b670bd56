"""What ``redirectware explain`` would say of a :class:`~.models.Redirect` row, for the admin.

A row is asked about the way ``check`` asks about any rule: a sample request the row's
``map`` rule matches (its host, the row's path and query, tried at https then http), resolved
by the compiled rules, and the answer told in one line: status for GET and for POST, the
``Location``, which rule decided, and how many hops were collapsed. A row that an earlier rule
shadows says so, as does one that no ``map`` rule serves.
"""

from __future__ import annotations

import threading

from redirectware.engine.decision import Decision
from redirectware.engine.model import MapAction, Rule
from redirectware.errors import RuleError
from redirectware.ruleset import RuleSet
from redirectware.tools.samples import sample_request

from .conf import load_ruleset
from .models import Redirect
from .rows import KIND, DatabaseWatch
from .validation import row_key

_cache_lock = threading.Lock()
_cached: RuleSet | None = None


def admin_ruleset() -> RuleSet:
    """The rules as a server would compile them now: recompiled only when the table changed.

    One query (the version) per call; the admin shows every row's explanation from it.
    Raises :class:`~redirectware.RuleError` when the document is invalid.
    """
    global _cached
    with _cache_lock:
        if _cached is None or DatabaseWatch().changed(_cached):
            _cached = load_ruleset()
        return _cached


def forget_ruleset() -> None:
    """Drop the cached rules (settings changed, as in tests)."""
    global _cached
    with _cache_lock:
        _cached = None


def _map_rule(ruleset: RuleSet, row: Redirect, alias: str) -> Rule | None:
    host = row.host.strip().lower()
    for rule in ruleset.rules:
        action = rule.action
        if (
            isinstance(action, MapAction)
            and action.provided_by is not None
            and action.provided_by[:2] == (KIND, alias)
            and (rule.host.source.strip().lower() if rule.host is not None else "") == host
        ):
            return rule
    return None


def _answer(decision: Decision) -> str:
    if decision.kind == "redirect":
        return f"{decision.status} to {decision.location}"
    if decision.kind == "pass":
        return "passes through to the app" + (f" ({decision.error})" if decision.error else "")
    return f"{decision.status}" + (f" ({decision.error})" if decision.error else "")


def explain_row(row: Redirect, alias: str = "default") -> str:
    """One line: what a request for ``row``'s ``from`` gets from the rules now."""
    if not row.enabled:
        return "disabled: not served"
    try:
        ruleset = admin_ruleset()
    except RuleError as error:
        return f"the rules do not load: {error}"
    rule = _map_rule(ruleset, row, alias)
    if rule is None:
        where = f"host: {row.host}" if row.host else "no host"
        return f"not served: no rule `map: {{database: {alias}}}` with {where}"
    path, _, query = row_key(row.from_path).partition("?")
    sample = sample_request(rule, ruleset.settings, path, query)
    scheme = sample.schemes[0]
    url = f"{scheme}://{sample.host}{row.from_path}"
    decided: list[Decision] = []
    for method in ("GET", "POST"):
        found = ruleset.resolve(method, scheme, sample.host, path, query, sample.headers, None)
        decided.append(found.would or found)
    get, post = decided
    text = f"GET {url}: {_answer(get)}; POST: {_answer(post)}"
    if get.rule is not None:
        text += f"; by {get.rule.label}"
        if get.rule is not rule:
            text += f" (this row never applies: {get.rule.label} comes first)"
    if len(get.hops) > 1:
        text += f"; {len(get.hops)} hops collapsed into one"
    return text
