"""What ``redirectware explain`` would say of a :class:`~.models.Redirect` row, for the admin.

A row is asked about with a request for its ``from`` at the server the editor is using: the
scheme, host and port of the editor's own request to the admin (read as the middleware reads
them, :class:`~.middleware.RequestValues`), so that the preview says what that server
answers. A row whose ``map`` rule is for another host is asked about at that host. Without a
request (a shell, a test) it is the sample request ``check`` uses (the rule's host, https then
http). The answer is told in one line: status for GET and for POST, the ``Location``, which
rule decided, and how many hops were collapsed. A row that an earlier rule shadows says so,
as does one that no ``map`` rule serves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.http import HttpRequest

from redirectware.engine.decision import Decision
from redirectware.engine.hosts import parse_host
from redirectware.engine.model import MapAction, Rule
from redirectware.errors import RuleError
from redirectware.ruleset import RuleSet
from redirectware.tools.samples import sample_request

from .conf import load_ruleset
from .middleware import RequestValues
from .models import Redirect
from .rows import KIND, DatabaseWatch
from .validation import row_key

logger = logging.getLogger("redirectware")

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


@dataclass(frozen=True)
class Origin:
    """Where the editor's browser sent its request: what a preview request is sent as."""

    scheme: str
    #: The Host as sent, with its port (``127.0.0.1:8063``).
    host: str | None
    #: The request's headers (forwarded ones count as the document's trusted_proxies say).
    headers: Mapping[str, str] = field(default_factory=dict, compare=False)
    client: str | None = None

    @classmethod
    def of(cls, request: HttpRequest) -> Origin:
        """The origin of ``request``, read as the middleware reads a request."""
        values = RequestValues(request)
        headers = dict(_forwarded(values.headers))
        return cls(values.scheme, values.host, headers, values.client)


#: The headers of the editor's request a preview keeps: those that say where a request was
#: sent, which the engine believes only from the document's trusted_proxies.
_FORWARDED = ("forwarded", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port")


def _forwarded(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(name, value) for name in _FORWARDED if (value := headers.get(name)) is not None]


def _map_rules(ruleset: RuleSet, alias: str) -> list[Rule]:
    return [
        rule
        for rule in ruleset.rules
        if isinstance(rule.action, MapAction)
        and rule.action.provided_by is not None
        and rule.action.provided_by[:2] == (KIND, alias)
    ]


def _map_rule(ruleset: RuleSet, row: Redirect, alias: str) -> Rule | None:
    host = row.host.strip().lower()
    for rule in _map_rules(ruleset, alias):
        if (rule.host.source.strip().lower() if rule.host is not None else "") == host:
            return rule
    return None


def _default_of(rule: Rule) -> str:
    if rule.status is not None:
        return f"status {rule.status}"
    return "permanent (301, or 308)" if rule.permanent else "temporary (302, or 307)"


def rule_default(alias: str) -> str:
    """What “Rule's default” means now, in a sentence; empty when the rules do not load."""
    try:
        rules = _map_rules(admin_ruleset(), alias)
    except RuleError:
        return ""
    if not rules:
        return ""
    if len({_default_of(rule) for rule in rules}) == 1:
        return f"The rule's default is now {_default_of(rules[0])}."
    each = "; ".join(
        f"{rule.host.source if rule.host is not None else 'without a host'}: {_default_of(rule)}"
        for rule in rules
    )
    return f"The rules' defaults are now, by host: {each}."


def _takes(rule: Rule, origin: Origin) -> bool:
    """Whether ``rule``'s host condition accepts the editor's host."""
    if rule.host is None:
        return True
    parsed = parse_host(origin.host or "")
    return parsed is not None and rule.host.match(parsed.name) is not None


def _answer(decision: Decision) -> str:
    if decision.kind == "redirect":
        return f"{decision.status} to {decision.location}"
    if decision.kind == "pass":
        return "passes through to the app" + (f" ({decision.error})" if decision.error else "")
    return f"{decision.status}" + (f" ({decision.error})" if decision.error else "")


def explain_row(row: Redirect, alias: str = "default", origin: Origin | None = None) -> str:
    """One line: what a request for ``row``'s ``from`` gets from the rules now.

    :param origin: where the editor's request went (:meth:`Origin.of`): the preview is asked
        there, so it shows what that server answers. None: the sample request of ``check``.
    """
    if not row.enabled:
        return "disabled: not served"
    try:
        ruleset = admin_ruleset()
    except RuleError as error:
        logger.warning("the admin cannot explain rows: the rules do not load: %s", error)
        return "unknown: the site's redirect rules do not load (ask a developer)"
    rule = _map_rule(ruleset, row, alias)
    if rule is None:
        where = f"for {row.host}" if row.host else "without a host"
        return f"not served: the site's rule file has no rule for redirects {where}"
    path, _, query = row_key(row.from_path).partition("?")
    sample = sample_request(rule, ruleset.settings, path, query)
    scheme, host, client = sample.schemes[0], sample.host, None
    headers: dict[str, str] = dict(sample.headers)
    if origin is not None and _takes(rule, origin):
        scheme, host, client = origin.scheme, origin.host or sample.host, origin.client
        headers = {**origin.headers, **sample.headers}
    elif origin is not None:
        scheme = origin.scheme  # the rule's own host, asked as the editor would
    url = f"{scheme}://{host}{row.from_path}"
    decided: list[Decision] = []
    for method in ("GET", "POST"):
        found = ruleset.resolve(method, scheme, host, path, query, headers, client)
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
