"""What the draft of ``REDIRECTWARE_REVIEW`` would change: ``redirectware diff`` between the
rules the site serves and the rules with the draft applied.

The requests asked: the rule document's ``tests:``, the sample requests of each row the
draft changes (its ``from`` before and after, under every ``map: {database: ...}`` rule),
and, when ``REDIRECTWARE_REVIEW_LOG`` names an access log, its distinct requests (the most
logged changes shown first).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from redirectware.document.expectations import Expectation
from redirectware.document.mapfile import RawRow
from redirectware.ruleset import RuleSet
from redirectware.tools.accesslog import decompressed
from redirectware.tools.diff import Differ, DiffReport, LogFeed, Request
from redirectware.tools.expectations import expectations_of
from redirectware.tools.samples import sample_host, sample_request

from .conf import load_ruleset
from .rows import Pending, database_maps, pending
from .versions import Fields, draft, draft_rows, snapshot

#: Changed requests of the log shown on the review page.
TOP_LOGGED = 50


def _raw(fields: Fields) -> RawRow:
    """A staged row as a ``map`` row (no number: the draft has not saved it)."""
    return (fields["from_path"], fields["to"], fields["permanent"], fields["status"], None)


def _request(expectation: Expectation) -> Request:
    probe = expectation.probe
    headers = tuple(sorted(probe.headers.items()))
    return Request(probe.method, probe.scheme, probe.host, probe.path, probe.query, headers,
                   probe.client, expectation.app_not_found)  # fmt: skip


def _rows_of(staged: dict[int | None, list[Fields | None]], alias: str) -> Pending:
    add: list[tuple[str, RawRow]] = [
        (fields["host"], _raw(fields))
        for states in staged.values()
        for fields in states
        if fields is not None and fields["enabled"]
    ]
    return Pending(alias, {pk for pk in staged if pk is not None}, add)


def _samples(ruleset: RuleSet, paths: set[str]) -> Iterator[Request]:
    maps = {id(action) for action in database_maps(ruleset)}
    for rule in ruleset.rules:
        if id(rule.action) not in maps:
            continue
        for key in sorted(paths):
            path, _, query = key.partition("?")
            sample = sample_request(rule, ruleset.settings, path, query)
            for scheme in sample.schemes:
                yield Request(sample.method, scheme, sample.host, sample.path, sample.query,
                              tuple(sorted(sample.headers.items())))  # fmt: skip


def review(alias: str) -> DiffReport:
    """What publishing the draft of database ``alias`` would change."""
    staged = draft_rows(alias)
    old = load_ruleset()
    with pending(_rows_of(staged, alias)):
        new = load_ruleset()
    before = snapshot(alias, [pk for pk in staged if pk is not None])
    paths = {fields["from_path"] for fields in before.values()}
    paths |= {f["from_path"] for states in staged.values() for f in states if f is not None}
    differ = Differ(old, new)
    for ruleset in (old, new):
        differ.add_documented(_request(e) for e in expectations_of(ruleset))
        differ.add_documented(_samples(ruleset, paths))
    log = getattr(settings, "REDIRECTWARE_REVIEW_LOG", None)
    if log:
        feed = LogFeed(differ, host=_log_host(new))
        with Path(log).open("rb") as raw, decompressed(raw) as stream:
            feed.feed(str(log), stream)
        feed.report()
    return differ.report()


def _log_host(ruleset: RuleSet) -> str | None:
    """The Host of log lines that name none: the one the document allows, else the one the
    rows' sample requests use (so that logged and sampled requests meet the same rules)."""
    exact = ruleset.settings.allowed_hosts.exact
    if len(exact) == 1:
        return next(iter(exact))
    maps = {id(action) for action in database_maps(ruleset)}
    for rule in ruleset.rules:
        if id(rule.action) in maps:
            return sample_host(rule, ruleset.settings)
    return None


def staged_rows(alias: str) -> list[tuple[Fields | None, Fields | None]]:
    """``(before, after)`` of each row the draft changes."""
    found = draft(alias)
    if found is None:
        return []
    return [(item.before, item.after) for item in found.changed_rows(alias)]
