"""Versions of the redirect table: every change recorded, drafts, publishing and rollback.

Each change to the :class:`~.models.Redirect` table (an admin save or delete, a CSV import,
``redirectware_import_contrib``, ``track_url_changes``, any queryset ``update``/``delete``/
``bulk_*``) is recorded, in the same transaction, as a :class:`TableVersion`: a number, the
time, the author, a note, and a :class:`RowChange` per row it changed (the row's fields
before and after; None for a row that did not exist). All the changes of one transaction go
into one version, so a CSV import of 1,000 rows is one version, not 1,000.

Only what decides an answer is compared (``from``, ``to``, ``permanent``, ``status``,
``host``, ``enabled``, ``note``): a write that leaves those alone records nothing.

With ``REDIRECTWARE_REVIEW = True`` the admin does not write its edits to the table: it
stages them in the draft (a version with no number yet), which :func:`publish` applies in
one transaction. :func:`rollback` publishes the rows as they were at a version as a new
version; history is never rewritten.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Max
from django.utils import timezone

from .models import Redirect, RedirectVersion, record_versions_with
from .version_models import FIELDS, Fields, RowChange, TableVersion, describe


def fields_of(row: Redirect) -> Fields:
    """The fields a version keeps of ``row``."""
    return {name: getattr(row, name) for name in FIELDS}


# --- recording -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    author: str | None
    note: str
    version: TableVersion | None


_context: contextvars.ContextVar[_Context | None] = contextvars.ContextVar(
    "redirectware_version", default=None
)


@contextmanager
def change(author: str | None = None, note: str = "",
           version: TableVersion | None = None) -> Iterator[None]:  # fmt: skip
    """Record the changes made inside this block with ``author`` and ``note`` (by default
    the author is the rows' ``changed_by``), into ``version`` when given."""
    token = _context.set(_Context(author, note, version))
    try:
        yield
    finally:
        _context.reset(token)


def snapshot(using: str, pks: Iterable[int | None]) -> dict[int, Fields]:
    """The kept fields (and ``changed_by``) of the rows ``pks`` as the database holds them."""
    wanted = [pk for pk in pks if pk is not None]
    found: dict[int, Fields] = {}
    for chunk in _chunks(wanted):
        rows = Redirect._base_manager.using(using).filter(pk__in=chunk)
        found.update((row["pk"], row) for row in rows.values("pk", "changed_by", *FIELDS))
    return found


#: Ids per ``IN (...)`` query: SQLite refuses more than 32,766 parameters, some builds 999.
CHUNK: Final = 900


def _chunks(items: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _kept(fields: Mapping[str, Any] | None) -> Fields | None:
    return None if fields is None else {name: fields[name] for name in FIELDS}


def next_number(using: str) -> int:
    """The number the next published version takes."""
    top = TableVersion.objects.using(using).aggregate(top=Max("number"))["top"]
    return int(top or 0) + 1


def _lock(using: str) -> None:
    """Serialise version numbering: the table's change counter row, locked to the end of
    the transaction (every change updates it anyway)."""
    RedirectVersion.objects.using(using).select_for_update().filter(pk=1).exists()


def _version_for(using: str, author: str) -> TableVersion:
    """The version the current transaction records into: the one given to :func:`change`,
    else one made on the transaction's first change and kept on its outermost block."""
    context = _context.get()
    if context is not None and context.version is not None:
        return context.version
    connection = connections[using]
    outer = connection.atomic_blocks[0] if connection.atomic_blocks else None
    found: TableVersion | None = getattr(outer, "_redirectware_version", None)
    if found is not None:
        return found
    _lock(using)
    made: TableVersion = TableVersion.objects.using(using).create(
        number=next_number(using),
        published=timezone.now(),
        author=(context.author if context and context.author is not None else author),
        note=context.note if context else "",
    )
    if outer is not None:
        outer._redirectware_version = made  # type: ignore[attr-defined]
    return made


def record(using: str, before: Mapping[int, Fields], after: Mapping[int, Fields]) -> None:
    """Record what changed between two snapshots of the same rows (inside the transaction
    that changed them); nothing when no kept field changed."""
    changed: list[tuple[int, Fields | None, Fields | None]] = []
    author = ""
    for pk in sorted(set(before) | set(after)):
        old, new = _kept(before.get(pk)), _kept(after.get(pk))
        if old != new:
            changed.append((pk, old, new))
            author = author or str((after.get(pk) or before.get(pk) or {}).get("changed_by", ""))
    if not changed:
        return
    version = _version_for(using, author)
    changes = RowChange.objects.using(using)
    # A few queries per batch, not per row: a CSV import of 100,000 rows is one version.
    kept: dict[int | None, RowChange] = {}
    for chunk in _chunks([pk for pk, _, _ in changed]):
        kept.update((item.row, item) for item in changes.filter(version=version, row__in=chunk))
    again: list[RowChange] = []
    for pk, _, new in changed:
        if pk in kept:
            # Changed twice in one version: it went from the first before to the last after.
            kept[pk].after = new
            again.append(kept[pk])
    changes.bulk_update(again, ["after"], batch_size=CHUNK)
    changes.bulk_create(
        [RowChange(version=version, row=pk, before=old, after=new)
         for pk, old, new in changed if pk not in kept],
        batch_size=CHUNK,
    )  # fmt: skip


# --- reading the history -------------------------------------------------------------------


def live(using: str) -> TableVersion | None:
    """The version the site serves: the highest published."""
    published = TableVersion.objects.using(using).filter(number__isnull=False)
    found: TableVersion | None = published.order_by("-number").first()
    return found


def state_at(using: str, number: int) -> dict[int, Fields]:
    """The rows as they were at version ``number``, by id."""
    rows: dict[int, Fields] = {}
    changes = (
        RowChange.objects.using(using)
        .filter(version__number__isnull=False, version__number__lte=number, row__isnull=False)
        .order_by("version__number", "id")
    )
    for item in changes.iterator():
        assert item.row is not None
        if item.after is None:
            rows.pop(item.row, None)
        else:
            rows[item.row] = item.after
    return rows


def rows_now(using: str) -> dict[int, Fields]:
    """The table as it is, by id."""
    return {row.pop("pk"): row for row in Redirect._base_manager.using(using).values("pk", *FIELDS)}


# --- drafts, publishing, rollback ----------------------------------------------------------


class NothingToDo(Exception):
    """A publish or rollback that would change nothing; the message says why."""


def review_on() -> bool:
    """Whether ``REDIRECTWARE_REVIEW`` makes admin edits drafts."""
    return bool(getattr(settings, "REDIRECTWARE_REVIEW", False))


def draft(using: str) -> TableVersion | None:
    """The draft, if an editor has staged anything."""
    found: TableVersion | None = (
        TableVersion.objects.using(using).filter(number__isnull=True).first()
    )
    return found


def stage(using: str, author: str, pk: int | None, after: Fields | None) -> TableVersion:
    """Put one row's new fields (None: delete it) into the draft, without touching the table."""
    with transaction.atomic(using=using):
        version: TableVersion = draft(using) or TableVersion.objects.using(using).create(
            author=author
        )
        if author and author not in version.author.split(", "):
            version.author = ", ".join(filter(None, [version.author, author]))
            version.save(using=using, update_fields=["author"])
        kept = None if pk is None else version.changed_rows(using).filter(row=pk).first()
        if kept is None:
            before = _kept(snapshot(using, [pk]).get(pk)) if pk is not None else None
            RowChange.objects.using(using).create(
                version=version, row=pk, before=before, after=after
            )
        else:
            kept.after = after
            kept.save(using=using, update_fields=["after"])
    return version


def draft_rows(using: str) -> dict[int | None, list[Fields | None]]:
    """What the draft would leave: the new fields of each row it changes (by id; new rows
    under None)."""
    found = draft(using)
    staged: dict[int | None, list[Fields | None]] = {}
    if found is None:
        return staged
    for item in found.changed_rows(using):
        staged.setdefault(item.row, []).append(item.after)
    return staged


def _apply(using: str, target: Mapping[int | None, list[Fields | None]], author: str) -> int:
    """Make the table hold ``target`` (new rows under None); return the rows changed."""
    count = 0
    for pk, states in target.items():
        if pk is None:
            for fields in states:
                if fields is not None:
                    Redirect(changed_by=author, **fields).save(using=using)
                    count += 1
            continue
        fields = states[-1]
        row = Redirect._base_manager.using(using).filter(pk=pk).first()
        if fields is None:
            if row is not None:
                row.delete(using=using)
                count += 1
            continue
        if row is None:
            Redirect(pk=pk, changed_by=author, **fields).save(using=using, force_insert=True)
            count += 1
        elif fields_of(row) != fields:
            for name, value in fields.items():
                setattr(row, name, value)
            row.changed_by = author
            row.save(using=using)
            count += 1
    return count


def publish(using: str, author: str, note: str = "") -> TableVersion:
    """Make the draft live in one transaction; :class:`NothingToDo` when there is none."""
    with transaction.atomic(using=using):
        _lock(using)
        version = (
            TableVersion.objects.using(using)
            .select_for_update()
            .filter(number__isnull=True)
            .first()
        )
        if version is None or not version.changes.using(using).exists():
            raise NothingToDo("there is no draft to publish: no edit is waiting for review")
        staged = draft_rows(using)
        # The draft's rows are recorded again as the table takes them: what really changed.
        version.changed_rows(using).delete()
        with change(author, note, version):
            _apply(using, staged, author)
        version.number = next_number(using)
        version.published = timezone.now()
        version.note = note or version.note
        if author and author not in version.author.split(", "):
            version.author = ", ".join(filter(None, [version.author, author]))
        version.save(using=using)
    done: TableVersion = version
    return done


def rollback(using: str, number: int, author: str, note: str = "") -> TableVersion:
    """Publish the rows as they were at version ``number`` as a new version."""
    with transaction.atomic(using=using):
        _lock(using)
        if not TableVersion.objects.using(using).filter(number=number).exists():
            top = live(using)
            known = f"versions go from 1 to {top.number}" if top is not None else "none exists"
            raise NothingToDo(f"there is no version {number}: {known}")
        wanted = state_at(using, number)
        now = rows_now(using)
        if wanted == now:
            raise NothingToDo(f"the table already holds the rows of version {number}")
        target: dict[int | None, list[Fields | None]] = {
            pk: [None] for pk in now if pk not in wanted
        }
        target.update({pk: [fields] for pk, fields in wanted.items() if now.get(pk) != fields})
        made: TableVersion = TableVersion.objects.using(using).create(
            number=next_number(using),
            published=timezone.now(),
            author=author,
            note=note or f"roll back to version {number}",
        )
        with change(author, made.note, made):
            # Deletions first: a row coming back may take a from another row holds now.
            _apply(using, {k: v for k, v in target.items() if v == [None]}, author)
            _apply(using, {k: v for k, v in target.items() if v != [None]}, author)
    return made


# Every change of the table records itself through this module from now on.
record_versions_with(sys.modules[__name__])

__all__ = [
    "FIELDS",
    "Fields",
    "NothingToDo",
    "RowChange",
    "TableVersion",
    "change",
    "describe",
    "draft",
    "draft_rows",
    "fields_of",
    "live",
    "next_number",
    "publish",
    "record",
    "review_on",
    "rollback",
    "rows_now",
    "snapshot",
    "stage",
    "state_at",
]
