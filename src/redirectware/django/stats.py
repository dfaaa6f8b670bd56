"""Hit counts kept in the database: rules of the file in :class:`RuleHits`, rows of
``map: {database: ALIAS}`` in :attr:`Redirect.hits <redirectware.django.models.Redirect>`.

Each process counts in memory (:class:`redirectware.counting.HitCounts`); every
``REDIRECTWARE_STATS_FLUSH`` seconds, and at exit, :func:`write_hits` adds what it counted
since the last flush. A flush is a fixed number of statements, however many rules, rows and
paths it carries: an ``INSERT ... ON CONFLICT DO UPDATE`` for the rules, an
``UPDATE ... FROM (VALUES ...)`` per database whose rows were hit, an upsert and a prune for
the 404s. They add increments in the database (``hits = hits + n``), never a value read
before: the workers of a server, and several servers, sum correctly whatever the order of
their flushes. And they run in one transaction per database, all committed together or all
rolled back: a flush that fails halfway (a table missing, a database away) wrote nothing, so
that the next flush, which carries the same counts again, cannot count them twice.

The row update is plain SQL on purpose: ``Redirect``'s own ``update`` bumps the table's
version, which would make every process compile its rules again after every flush.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime, timezone
from typing import Any, Final

from django.apps import apps
from django.db import connections, models, router, transaction

from redirectware.counting import (
    DEFAULT_NOT_FOUND_KEEP,
    Counting,
    HitBatch,
    HitCounts,
    NotFoundPath,
    NotFoundTally,
)

#: The row source whose rows are :class:`~redirectware.django.models.Redirect` rows.
DATABASE_KIND: Final = "database"


class RuleHits(models.Model):
    """How often a rule of the rule file answered, and when it last did, by rule name
    (``rules[N]`` for a rule without one)."""

    name: models.CharField[str, str] = models.CharField(max_length=200, unique=True)
    hits: models.BigIntegerField[int, int] = models.BigIntegerField(default=0)
    last_hit: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )

    class Meta:
        ordering = ("name",)
        verbose_name = "rule hits"
        verbose_name_plural = "rule hits"

    def __str__(self) -> str:
        return f"{self.name}: {self.hits} hits"


class NotFound(models.Model):
    """A path the app answered 404 to GET or HEAD, among the most asked for: how often, when
    last, from where (the top referrers), and what share of it came from crawlers."""

    path: models.CharField[str, str] = models.CharField(max_length=2000, unique=True)
    hits: models.BigIntegerField[int, int] = models.BigIntegerField(default=0)
    last_seen: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    #: The most frequent ``Referer`` values of the last flush that saw any, most first.
    referrers: models.JSONField[Any, Any] = models.JSONField(default=list, blank=True)
    #: Of the hits, the share whose user agent is a crawler's (0 to 1).
    bot_share: models.FloatField[float, float] = models.FloatField(default=0.0)

    class Meta:
        ordering = ("-hits", "path")
        verbose_name = "not found path"

    def __str__(self) -> str:
        return f"{self.path}: {self.hits} hits"


def _when(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def write_hits(
    batch: HitBatch,
    paths: Sequence[NotFoundPath] = (),
    keep: int = DEFAULT_NOT_FOUND_KEEP,
    alias: str | None = None,
) -> None:
    """Add a flush's hits to the database: the rules', then each database's rows', then
    the 404s, of which the table keeps the ``keep`` most hit.

    ``alias`` is the database of the rules' and the 404s' tables (None: the one Django's
    router picks for them); a row's hits go to the database its map reads. Everything is
    written in one transaction per database, entered together: an error anywhere leaves
    every database as it was.
    """
    rules = [
        (key[1], count, _when(last)) for key, (count, last) in batch.items() if key[0] == "rule"
    ]
    rows: dict[str, list[tuple[int, int, datetime]]] = defaultdict(list)
    for key, (count, last) in batch.items():
        if key[0] == "row" and key[1] == DATABASE_KIND and key[2] in connections:
            rows[key[2]].append((int(key[3]), count, _when(last)))
    rules_alias = alias or router.db_for_write(RuleHits) or "default"
    paths_alias = alias or router.db_for_write(NotFound) or "default"
    used = {*rows, *([rules_alias] if rules else []), *([paths_alias] if paths else [])}
    with ExitStack() as transactions:
        for each in sorted(used):
            transactions.enter_context(transaction.atomic(using=each))
        # Each in key order: the workers' flushes then take their row locks in one order,
        # which keeps two of them from waiting on each other. (A deadlock PostgreSQL breaks
        # would only roll a flush back whole, to be written by the next one.)
        if rules:
            _add_rule_hits(rules_alias, sorted(rules))
        for each, changes in sorted(rows.items()):
            _add_row_hits(each, sorted(changes))
        if paths:
            _add_not_found(paths_alias, sorted(paths), keep)


def _later(column: str, value: str) -> str:
    # The later of two times, NULL being the earliest: GREATEST is PostgreSQL's, and
    # SQLite's max() returns NULL when either side is.
    return f"CASE WHEN {column} IS NULL OR {column} < {value} THEN {value} ELSE {column} END"


def _add_rule_hits(alias: str, rules: list[tuple[str, int, datetime]]) -> None:
    connection = connections[alias]
    table = connection.ops.quote_name(RuleHits._meta.db_table)
    values = ", ".join(["(%s, %s, %s)"] * len(rules))
    params: list[Any] = []
    for name, count, last in rules:
        params += [name, count, connection.ops.adapt_datetimefield_value(last)]
    sql = (
        f"INSERT INTO {table} (name, hits, last_hit) VALUES {values} "
        f"ON CONFLICT (name) DO UPDATE SET hits = {table}.hits + excluded.hits, "
        f"last_hit = {_later(f'{table}.last_hit', 'excluded.last_hit')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _add_row_hits(alias: str, changes: list[tuple[int, int, datetime]]) -> None:
    # By the registry, not an import: models.py imports this module for its models.
    redirect = apps.get_model("redirectware", "Redirect")
    connection = connections[alias]
    table = connection.ops.quote_name(redirect._meta.db_table)
    if connection.vendor == "postgresql":
        # Typed, else PostgreSQL reads a parameter in VALUES as text.
        one = "(%s::bigint, %s::bigint, %s::timestamptz)"
    else:
        one = "(%s, %s, %s)"
    values = ", ".join([one] * len(changes))
    params: list[Any] = []
    for row, count, last in changes:
        params += [row, count, connection.ops.adapt_datetimefield_value(last)]
    # column1.. are what both PostgreSQL and SQLite call the columns of a VALUES list.
    sql = (
        f"UPDATE {table} SET hits = {table}.hits + v.column2, "
        f"last_hit = {_later(f'{table}.last_hit', 'v.column3')} "
        f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def hit_counts(
    inner: Counting | None, flush_seconds: float, keep: int, alias: str | None = None
) -> HitCounts:
    """The middleware's hit counting, in front of its metrics (``inner``), flushing to the
    database ``alias`` (None: the router's choice) every ``flush_seconds`` on a thread of its
    own; with a 404 tally of ``keep`` paths unless ``keep`` is 0."""
    tally = NotFoundTally(keep) if keep > 0 else None

    def write_and_close(batch: HitBatch, paths: list[NotFoundPath]) -> None:
        # The flush runs on its own thread, which never serves a request: Django would not
        # close its connections, so it closes them itself, as at the end of a request.
        try:
            write_hits(batch, paths, keep, alias)
        finally:
            connections.close_all()

    counts = HitCounts(inner, write_and_close, flush_seconds, tally)
    counts.start()
    return counts


def _add_not_found(alias: str, paths: Sequence[NotFoundPath], keep: int) -> None:
    """Upsert the paths (hits added, the crawlers' share weighted by hits, the referrers of
    this flush when it saw any), then drop all but the ``keep`` most hit rows."""
    connection = connections[alias]
    table = connection.ops.quote_name(NotFound._meta.db_table)
    json_cast = "::jsonb" if connection.vendor == "postgresql" else ""
    values = ", ".join([f"(%s, %s, %s, %s{json_cast}, %s)"] * len(paths))
    params: list[Any] = []
    for item in paths:
        referrers = json.dumps([{"referrer": r, "hits": n} for r, n in item.referrers])
        share = item.bot_hits / item.hits
        when = connection.ops.adapt_datetimefield_value(_when(item.last_seen))
        params += [item.path, item.hits, when, referrers, share]
    old, new = f"{table}.hits", "excluded.hits"
    sql = (
        f"INSERT INTO {table} (path, hits, last_seen, referrers, bot_share) VALUES {values} "
        f"ON CONFLICT (path) DO UPDATE SET hits = {old} + {new}, "
        f"last_seen = {_later(f'{table}.last_seen', 'excluded.last_seen')}, "
        f"bot_share = ({table}.bot_share * {old} + excluded.bot_share * {new}) / ({old} + {new}), "
        f"referrers = CASE WHEN excluded.referrers = '[]'{json_cast} "
        f"THEN {table}.referrers ELSE excluded.referrers END"
    )
    prune = (
        f"DELETE FROM {table} WHERE id NOT IN "
        f"(SELECT id FROM {table} ORDER BY hits DESC, last_seen DESC LIMIT %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(prune, [keep])
