"""CSV in and out of the redirect table, in a ``map`` CSV's columns.

Export writes ``from,to,permanent,status`` (and ``host`` when a row has one): the file loads
as a ``map`` CSV as it is. Import reads the same columns (``host`` optional); a row replaces
the saved row with the same host and ``from``, others are added. Nothing is written until the
whole import is judged (:func:`plan_import`): every bad row is reported with its CSV line,
first each row on its own, then the rule set with all of them (a loop, a target outside
``allowed_hosts``). With ``keep_good`` the bad rows are left out and the rest judged again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from django.db import transaction
from django.utils import timezone

from redirectware.document.fields import Where
from redirectware.document.mapfile import RawRow
from redirectware.document.maps import compile_map
from redirectware.errors import RuleError

from .models import Redirect
from .rows import Pending
from .validation import Verdict, judge, row_key

COLUMNS: Final = ("from", "to", "permanent", "status")
OPTIONAL: Final = frozenset({"permanent", "status", "host"})
#: How many times ``keep_good`` drops the rows a whole-set error names and tries again.
MAX_ROUNDS: Final = 50


@dataclass
class ImportRow:
    """One CSV row, as read."""

    line: int
    host: str
    from_path: str
    to: str
    permanent: bool | None
    status: int | None

    def raw(self) -> RawRow:
        """The row as a ``map`` row (no number: it is not saved yet)."""
        return (self.from_path, self.to, self.permanent, self.status, None)


@dataclass
class ImportPlan:
    """What an import would do, and what is wrong with it."""

    good: list[ImportRow] = field(default_factory=list)
    #: ``(line, message)`` for each bad row, ``line`` None for a problem of the whole file.
    bad: list[tuple[int | None, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def export_csv(rows: Iterable[Redirect]) -> str:
    """The rows as a ``map`` CSV (a ``host`` column only when some row has a host)."""
    listed = list(rows)
    with_host = any(row.host for row in listed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, "host"] if with_host else COLUMNS)
    for row in listed:
        permanent = "" if row.permanent is None else str(row.permanent).lower()
        values = [row.from_path, row.to, permanent, "" if row.status is None else row.status]
        writer.writerow([*values, row.host] if with_host else values)
    return out.getvalue()


def row_problem(row: ImportRow, name: str) -> str | None:
    """The engine's own complaint about one row alone, or None."""
    value = [{"from": row.from_path, "to": row.to}]
    if row.permanent is not None:
        value[0]["permanent"] = str(row.permanent).lower()
    if row.status is not None:
        value[0]["status"] = str(row.status)
    try:
        compile_map(value, Where(name), Path(), True, None)
    except RuleError as error:
        return error.message.removeprefix(f"row {row.from_path!r}: ")
    return None


def read_csv(text: str, name: str, default_host: str = "") -> ImportPlan:
    """Read an import file; each row on its own is checked here (see :func:`plan_import`)."""
    plan = ImportPlan()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    columns = [c.strip().lower() for c in header or ()]
    if "from" not in columns or "to" not in columns or set(columns) - {*COLUMNS, "host"}:
        plan.bad.append((1, f"the header row must name from, to and optionally permanent, "
                            f"status, host; got {header!r}"))  # fmt: skip
        return plan
    seen: dict[tuple[str, str], ImportRow] = {}
    for values in reader:
        line = reader.line_num
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) != len(columns):
            plan.bad.append((line, f"expected {len(columns)} columns, got {len(values)}"))
            continue
        cell = dict(zip(columns, (v.strip() for v in values), strict=True))
        permanent_text = cell.get("permanent", "").lower()
        status_text = cell.get("status", "")
        if permanent_text not in ("", "true", "false", "yes", "no", "1", "0"):
            plan.bad.append((line, f"permanent must be true or false, got {permanent_text!r}"))
            continue
        if status_text and not status_text.isdigit():
            plan.bad.append((line, f"status must be 301, 302, 307 or 308, got {status_text!r}"))
            continue
        row = ImportRow(
            line,
            (cell.get("host") or default_host).lower(),
            cell["from"],
            cell["to"],
            None if not permanent_text else permanent_text in ("true", "yes", "1"),
            int(status_text) if status_text else None,
        )
        problem = row_problem(row, name)
        if problem is not None:
            plan.bad.append((line, problem))
            continue
        key = (row.host, row_key(row.from_path))
        earlier = seen.get(key)
        if earlier is not None and earlier.to != row.to:
            plan.bad.append(
                (line, f"from {row.from_path!r} is on line {earlier.line} too, to {earlier.to!r}")
            )
            continue
        seen[key] = row
    plan.good = list(seen.values())
    return plan


def _change(rows: list[ImportRow], alias: str) -> Pending:
    keys = {(row.host, row.from_path) for row in rows}
    saved = Redirect.objects.using(alias).values_list("pk", "host", "from_path")
    drop = {pk for pk, host, source in saved if (host, source) in keys}
    return Pending(alias, drop, [(row.host, row.raw()) for row in rows])


def _lines_named(verdict: Verdict, rows: list[ImportRow]) -> list[ImportRow]:
    """The rows a whole-set error is about: those whose ``from`` it quotes or walks through."""
    text = verdict.error.technical if verdict.error is not None else ""
    named = [row for row in rows if f"{row_key(row.from_path)!r}" in text]
    if not named and "redirect loop: " in text:
        cycle = text.rsplit("redirect loop: ", 1)[1].split(" -> ")
        named = [row for row in rows if row_key(row.from_path) in cycle]
    return named


def plan_import(plan: ImportPlan, alias: str, *, keep_good: bool) -> ImportPlan:
    """Judge the rows with the whole rule set; with ``keep_good``, drop what it refuses."""
    if plan.bad and not keep_good:
        return plan
    rows = list(plan.good)
    for _ in range(MAX_ROUNDS):
        if not rows:
            break
        verdict = judge(_change(rows, alias))
        if verdict.error is None:
            plan.good = rows
            plan.warnings = [warning.editor for warning in verdict.warnings]
            return plan
        named = _lines_named(verdict, rows)
        for row in named:
            plan.bad.append((row.line, verdict.error.editor))
        if not named:
            plan.bad.append((None, verdict.error.editor))
        if not keep_good or not named:
            plan.good = []
            return plan
        dropped = {id(row) for row in named}
        rows = [row for row in rows if id(row) not in dropped]
    plan.good = rows
    return plan


def apply_import(rows: list[ImportRow], alias: str, user: str) -> tuple[int, int]:
    """Write the rows in one transaction: ``(added, replaced)``."""
    with transaction.atomic(using=alias):
        # Every saved row, not a `from_path__in` of the import's: SQLite caps a query's
        # parameters, and an import may hold 100,000 rows.
        existing = {(row.host, row.from_path): row for row in Redirect.objects.using(alias)}
        now = timezone.now()
        changed: list[Redirect] = []
        added: list[Redirect] = []
        for row in rows:
            fields = {"to": row.to, "permanent": row.permanent, "status": row.status}
            saved = existing.get((row.host, row.from_path))
            if saved is None:
                added.append(
                    Redirect(host=row.host, from_path=row.from_path, changed_by=user, **fields)
                )
            else:
                for name, value in fields.items():
                    setattr(saved, name, value)
                saved.changed_by = user
                saved.updated = now  # bulk_update leaves auto_now alone
                changed.append(saved)
        if changed:
            Redirect.objects.using(alias).bulk_update(
                changed, ["to", "permanent", "status", "changed_by", "updated"], batch_size=1000
            )
        if added:
            Redirect.objects.using(alias).bulk_create(added, batch_size=1000)
    return len(added), len(changed)
