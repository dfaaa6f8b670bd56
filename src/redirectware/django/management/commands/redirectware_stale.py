"""``manage.py redirectware_stale --since 2026-09-01 [--json]``: the rules of the rule file and
the redirect rows that answered no request since that day, with how often each answered in
all (``REDIRECTWARE_STATS`` counts them).

A rule or row that never answered has no last hit and counts as stale whatever the day. The
counts are as of the last flush of each process (``REDIRECTWARE_STATS_FLUSH``). The command
only reports, and exits 0: deciding that a rule has had its day is the editor's call.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router
from django.db.models import Q

from redirectware.django.conf import SettingProblem, load_ruleset
from redirectware.django.models import Redirect
from redirectware.django.stats import RuleHits
from redirectware.errors import RuleError


def _day(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since takes a day as YYYY-MM-DD, not {text!r}") from None
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def stale_rules(since: datetime) -> list[dict[str, Any]]:
    """Each rule of the rule file without a hit since ``since``, in document order."""
    try:
        ruleset = load_ruleset()
    except (SettingProblem, RuleError) as error:
        raise CommandError(f"cannot read the rules: {error}") from None
    using = router.db_for_read(RuleHits) or "default"
    counted = {row.name: row for row in RuleHits.objects.using(using).all()}
    found = []
    for rule in ruleset.rules:
        name = rule.short_name
        row = counted.get(name)
        last = None if row is None else row.last_hit
        if last is None or last < since:
            found.append(
                {"name": name, "hits": 0 if row is None else row.hits, "last_hit": _iso(last)}
            )
    return found


def stale_rows(since: datetime) -> list[dict[str, Any]]:
    """Each enabled redirect row without a hit since ``since``, fewest hits first."""
    using = router.db_for_read(Redirect) or "default"
    rows = (
        Redirect.objects.using(using)
        .filter(enabled=True)
        .filter(Q(last_hit__isnull=True) | Q(last_hit__lt=since))
        .order_by("hits", "host", "from_path")
    )
    return [
        {
            "id": row.pk,
            "host": row.host,
            "from": row.from_path,
            "to": row.to,
            "hits": row.hits,
            "last_hit": _iso(row.last_hit),
        }
        for row in rows
    ]


class Command(BaseCommand):
    """Report the rules and rows with no hit since a day."""

    help = "List the rules and redirect rows that answered no request since a day."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--since`` (required) and ``--json``."""
        parser.add_argument("--since", required=True, help="a day, YYYY-MM-DD (UTC)")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the stale rules and rows."""
        since = _day(options["since"])
        rules, rows = stale_rules(since), stale_rows(since)
        if options["json"]:
            report = {"since": since.date().isoformat(), "rules": rules, "rows": rows}
            self.stdout.write(json.dumps(report, indent=2))
            return
        day = since.date().isoformat()
        self.stdout.write(f"Rules with no hit since {day}: {len(rules)}")
        for rule in rules:
            self.stdout.write(
                f"  {rule['name']}: {rule['hits']} hits, last {rule['last_hit'] or 'never'}"
            )
        self.stdout.write(f"Redirect rows with no hit since {day}: {len(rows)}")
        for row in rows:
            where = f"{row['host']}{row['from']}"
            self.stdout.write(
                f"  {where} -> {row['to']}: {row['hits']} hits, last {row['last_hit'] or 'never'}"
            )
