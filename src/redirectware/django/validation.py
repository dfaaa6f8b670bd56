"""Judging a change to the redirect table before it is saved, with the engine's own checks.

The whole rule document is compiled as if the change were saved (:func:`~.rows.pending`):
what makes it invalid (a loop with the file's rules or other rows, a ``from`` mapped twice,
a malformed path or target) is refused. A target host outside ``allowed_hosts`` (the
document's, or Django's ``ALLOWED_HOSTS``) is refused too: an editor cannot send visitors off
the site. ``check``'s warnings about the changed rows (a chain, a row an earlier rule
shadows, a row no ``map`` rule serves) are returned for the editor to accept or not.

Each refusal and warning is a :class:`Said`: in plain words for the editor (which row, what
is wrong, what to do), keyed by the :class:`~.models.Redirect` field it is about, and in
``redirectware check``'s words (file, line, rule, key), which go to the log: an editor has no
use for a file path, and whoever reads the log needs it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from redirectware.document.mapfile import RawRow
from redirectware.engine.hosts import parse_host
from redirectware.engine.model import MapAction
from redirectware.engine.urls import canonical_literal
from redirectware.errors import RuleError
from redirectware.ruleset import RuleSet
from redirectware.tools.analysis import CHAIN, SHADOWED, Finding, analyse

from .conf import load_ruleset
from .models import Redirect
from .rows import KIND, Pending, pending
from .verdicts import Said, Verdict

__all__ = ["Said", "Verdict", "judge", "judge_row", "row_key"]

logger = logging.getLogger("redirectware")

#: The model fields a message can be about; None is the row as a whole.
FROM, TO, STATUS, PERMANENT = "from_path", "to", "status", "permanent"

_LOOP = re.compile(r"redirect loop: (?P<cycle>.+)$")
_TWICE = re.compile(
    r"from '(?P<source>.*)' is mapped twice, to '(?P<first>.*)' and '(?P<second>.*)'"
)
_ROW = re.compile(r"^row '(?P<source>.*?)': (?P<rest>.*)$")
_FINAL = re.compile(r"the engine sends one \d{3} to (?P<final>\S+?);")
_FIRST = re.compile(r"never applies: (?P<label>.+) comes first")
_LABEL = re.compile(r"rules\[(?P<index>\d+)\](?: '(?P<name>.*)')?")
#: What the engine's words about one value of a row name, and the field that holds it.
_SUBJECTS = (("from ", FROM), ("to ", TO), ("status ", STATUS), ("permanent ", PERMANENT))


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


def _off_site(ruleset: RuleSet, rows: Iterable[tuple[str, RawRow]]) -> Said | None:
    settings = ruleset.settings
    if not settings.allowed_hosts_given:
        return None
    for _, (source, target, *_rest) in rows:
        host = _target_host(target)
        if host is not None and host not in settings.allowed_hosts:
            return Said(
                f"The redirect from {source} goes to {host}, which is not one of this site's "
                f"hosts, so visitors would leave the site. Use a path such as /new-page, or a "
                f"host of this site; if {host} is yours too, ask a developer to allow it.",
                f"row {source!r}: target host {host!r} is outside allowed_hosts "
                f"({settings.allowed_hosts_from or 'the document'}); a redirect there leaves "
                "the site (add the host to allowed_hosts if it is yours)",
                TO,
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


def refusal(error: RuleError, change: Pending) -> Said:
    """``error`` (the rules do not compile with ``change``) for the editor and for the log."""
    technical = str(error)
    text = error.message
    loop = _LOOP.search(text)
    if loop is not None:
        cycle = loop["cycle"].split(" -> ")
        # Told from the changed row (of an import: the first in the loop), round to itself.
        keys = [row_key(source) for _, (source, *_rest) in change.add]
        start = next((cycle.index(key) for key in keys if key in cycle[:-1]), 0)
        cycle = [*cycle[start:-1], *cycle[:start], cycle[start]]
        return Said(
            f"The redirect from {cycle[0]} would send visitors round in a loop: "
            f"{' → '.join(cycle)}, so the page would never load. Point “to” at a page "
            "that does not lead back here, or first change the other redirect in the loop.",
            technical,
            TO,
        )
    twice = _TWICE.search(text)
    if twice is not None:
        return Said(
            f"Another redirect already starts at {twice['source']} (it goes to "
            f"{twice['first']}). Edit that one instead, or choose another “from”.",
            technical,
            FROM,
        )
    row = _ROW.match(text)
    mine = {source for _, (source, *_rest) in change.add}
    if row is not None and (row["source"] in mine or not mine):
        rest = row["rest"]
        subject = next((name for word, name in _SUBJECTS if rest.startswith(word)), None)
        what = rest if subject is None else _quote_subject(rest)
        return Said(
            f"The redirect from {row['source']} cannot be saved: {what}. Correct it and save "
            "again.",
            technical,
            subject,
        )
    # Not about the changed rows: the rule file itself does not load (or another row, saved
    # before a rule changed, no longer fits). Nothing the editor can fix on this page.
    return Said(
        "The redirects cannot be checked right now because the site's redirect rules do not "
        "load. Nothing was saved; ask a developer to run `manage.py check`.",
        technical,
    )


def _quote_subject(rest: str) -> str:
    """``to must be ...`` as ``“To” must be ...``: the field's label, as the form shows it."""
    word, _, tail = rest.partition(" ")
    return f"“{word[:1].upper()}{word[1:]}” {tail}"


def notice(finding: Finding, key: str) -> Said:
    """``check``'s warning about the row from ``key``, for the editor and for the log."""
    technical = f"{finding.rule.label}: {finding.message}"
    if finding.kind == CHAIN:
        final = _FINAL.search(finding.message)
        where = f" on to {final['final']}" if final is not None else " on"
        return Said(
            f"The redirect from {key} leads to another redirect, which sends visitors{where}. "
            "They still get one redirect, but pointing “to” at the final page keeps it so "
            "if the other redirect changes.",
            technical,
            TO,
        )
    if finding.kind == SHADOWED:
        first = _FIRST.search(finding.message)
        label = _LABEL.search(first["label"]) if first is not None else None
        who = "a rule of the site's rule file"
        if label is not None:
            who = (
                f"the rule “{label['name']}” of the site's rule file"
                if label["name"]
                else f"rule {int(label['index']) + 1} of the site's rule file"
            )
        return Said(
            f"The redirect from {key} never applies: {who} already answers {key}. Remove "
            "this redirect, or ask a developer to change that rule.",
            technical,
            FROM,
        )
    return Said(f"The redirect from {key}: {finding.message}.", technical)


def judge(change: Pending) -> Verdict:
    """Compile the rules as ``change`` would leave them; say what refuses it or warns.

    Each refusal is logged (at INFO, in ``check``'s words): the editor sees plain words.
    """
    try:
        with pending(change):
            ruleset = load_ruleset()
    except RuleError as error:
        said = refusal(error, change)
        logger.info("refused a change to database %s: %s", change.alias, said.technical)
        return Verdict(said)
    off_site = _off_site(ruleset, change.add)
    if off_site is not None:
        logger.info("refused a change to database %s: %s", change.alias, off_site.technical)
        return Verdict(off_site)
    warnings: list[Said] = []
    served = _served_hosts(ruleset, change.alias)
    keys: dict[str, str] = {}
    for host, row in change.add:
        keys[row_key(row[0])] = row[0]
        if host not in served:
            where = f"host: {host}" if host else "no host"
            warnings.append(
                Said(
                    f"The redirect from {row[0]} is saved but not served: the site's rule "
                    "file has no rule for redirects "
                    + (f"of {host}" if host else "without a host")
                    + ". Choose a host it serves, or ask a developer to add a rule for it.",
                    f"row {row[0]!r} is not served: no rule `map: {{database: {change.alias}}}` "
                    f"with {where} in the rule document",
                    "host",
                )
            )
    if keys:
        for finding in analyse(ruleset):
            if finding.row is not None and finding.row in keys:
                warnings.append(notice(finding, keys[finding.row]))
    return Verdict(None, warnings, ruleset)


def judge_row(row: Redirect, using: str) -> Verdict:
    """Judge ``row`` as saved in database ``using`` (:meth:`.models.Redirect.clean` asks)."""
    add = (row.from_path, row.to, row.permanent, row.status, row.pk)
    return judge(Pending(using, {row.pk} if row.pk else set(), [(row.host, add)]))
