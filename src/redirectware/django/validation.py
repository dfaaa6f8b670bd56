"""Judging a change to the redirect table before it is saved, with the engine's own checks.

The whole rule document is compiled as if the change were saved (:func:`~.rows.pending`):
what makes it invalid (a loop with the file's rules or other rows, a ``from`` mapped twice,
a malformed path or target) is refused with the very :class:`~redirectware.RuleError` text
``redirectware check`` prints. A target host outside ``allowed_hosts`` (the document's, or
Django's ``ALLOWED_HOSTS``) is refused too: an editor cannot send visitors off the site.
``check``'s warnings about the changed rows (a chain, a row an earlier rule shadows, a row no
``map`` rule serves) are returned for the editor to accept or not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from redirectware.document.mapfile import RawRow
from redirectware.engine.hosts import parse_host
from redirectware.engine.model import MapAction
from redirectware.engine.urls import canonical_literal
from redirectware.errors import RuleError
from redirectware.ruleset import RuleSet
from redirectware.tools.analysis import analyse

from .conf import load_ruleset
from .rows import KIND, Pending, pending


@dataclass
class Verdict:
    """What the engine says of a change: an error that refuses it, or warnings, or neither."""

    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    #: The rules as they would be after the change, when it is valid.
    ruleset: RuleSet | None = None

    @property
    def ok(self) -> bool:
        """True when nothing refuses the change (warnings may still need accepting)."""
        return self.error is None


def row_key(from_path: str) -> str:
    """A row's ``from`` as the compiled map keys it (the canonical path, then its query)."""
    path, sep, query = from_path.partition("?")
    try:
        return canonical_literal(path) + (sep + query if sep else "")
    except ValueError:
        return from_path


def _target_host(target: str) -> str | None:
    scheme, sep, rest = target.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return None
    host = parse_host(rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0])
    return None if host is None else host.name


def _off_site(ruleset: RuleSet, rows: Iterable[tuple[str, RawRow]]) -> str | None:
    settings = ruleset.settings
    if not settings.allowed_hosts_given:
        return None
    for _, (source, target, *_rest) in rows:
        host = _target_host(target)
        if host is not None and host not in settings.allowed_hosts:
            return (
                f"row {source!r}: target host {host!r} is outside allowed_hosts "
                f"({settings.allowed_hosts_from or 'the document'}); a redirect there leaves "
                "the site (add the host to allowed_hosts if it is yours)"
            )
    return None


def _served_hosts(ruleset: RuleSet, alias: str) -> set[str]:
    """The hosts whose rows some ``map: {database: alias}`` rule serves ("" for no host)."""
    return {
        rule.host.source.strip().lower() if rule.host is not None else ""
        for rule in ruleset.rules
        if isinstance(rule.action, MapAction)
        and rule.action.provided_by is not None
        and rule.action.provided_by[:2] == (KIND, alias)
    }


def judge(change: Pending) -> Verdict:
    """Compile the rules as ``change`` would leave them; say what refuses it or warns."""
    try:
        with pending(change):
            ruleset = load_ruleset()
    except RuleError as error:
        return Verdict(str(error))
    off_site = _off_site(ruleset, change.add)
    if off_site is not None:
        return Verdict(off_site)
    warnings: list[str] = []
    served = _served_hosts(ruleset, change.alias)
    keys = set()
    for host, row in change.add:
        keys.add(row_key(row[0]))
        if host not in served:
            where = f"host: {host}" if host else "no host"
            warnings.append(
                f"row {row[0]!r} is not served: no rule `map: {{database: {change.alias}}}` "
                f"with {where} in the rule document"
            )
    if keys:
        for finding in analyse(ruleset):
            if finding.row is not None and finding.row in keys:
                warnings.append(f"{finding.rule.label}: {finding.message}")
    return Verdict(None, warnings, ruleset)
