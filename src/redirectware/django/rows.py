"""``map: {database: ALIAS}``: the :class:`~redirectware.django.models.Redirect` rows as a
``map``'s rows, and the watch that tells a process to compile them again.

:func:`database_rows` is registered as the ``database`` row source when the app is ready
(:mod:`redirectware.document.mapsources`). It reads the table's version first, then the
enabled rows of the rule's host, each in one query: the rows are then at least as new as the
version, so a change made in between is compiled again at the next look, never missed.

:func:`pending` compiles the document as if some rows were already changed, without writing
them: the admin validates an edit or an import this way, with the engine's own checks.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final

from django.conf import settings
from django.db import DatabaseError, connections

from redirectware.document.mapfile import RawRow
from redirectware.document.mapsources import MapSourceError, ProvidedRows
from redirectware.engine.model import MapAction
from redirectware.ruleset import RuleSet

from .models import Redirect, current_version

KIND: Final = "database"


@dataclass
class Pending:
    """Rows of database ``alias`` as an unsaved change would leave them."""

    alias: str
    #: Ids of saved rows the change replaces or deletes.
    drop: set[int] = field(default_factory=set)
    #: ``(host, raw row)`` of the rows it adds; a raw row's number is None for a new row.
    add: list[tuple[str, RawRow]] = field(default_factory=list)


_pending: contextvars.ContextVar[Pending | None] = contextvars.ContextVar(
    "redirectware_pending", default=None
)
#: Off while ``manage.py check`` runs without the database (``migrate`` checks before the
#: table exists): the rows are left out then, the document itself still checked.
_reading: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "redirectware_reading", default=True
)


@contextmanager
def pending(change: Pending) -> Iterator[None]:
    """Compile, inside this block, as if ``change`` were saved."""
    token = _pending.set(change)
    try:
        yield
    finally:
        _pending.reset(token)


@contextmanager
def without_rows() -> Iterator[None]:
    """Compile, inside this block, with every database map empty (no query at all)."""
    token = _reading.set(False)
    try:
        yield
    finally:
        _reading.reset(token)


def table_exists(alias: str) -> bool:
    """Whether database ``alias`` has the redirect table (``migrate`` checks before it does)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        return Redirect._meta.db_table in connection.introspection.table_names(cursor)


def label(alias: str) -> str:
    """What stands for a file name in messages about a row: ``database:default``."""
    return f"{KIND}:{alias}"


def database_rows(name: str, host: str | None) -> ProvidedRows:
    """The enabled rows of database ``name`` for a ``map`` rule with ``host`` (a row source)."""
    if name not in settings.DATABASES:
        known = ", ".join(sorted(settings.DATABASES)) or "none"
        raise MapSourceError(
            f"{{database: {name!r}}}: no such alias in settings.DATABASES (it has: {known})"
        )
    if not _reading.get():
        return ProvidedRows(label(name), ())
    change = _pending.get()
    try:
        if _in_event_loop():
            # Django refuses a query in an event loop (SynchronousOnlyOperation); a
            # middleware built there (AsyncClient) reads once, at start, from a thread.
            with ThreadPoolExecutor(1) as pool:
                version, rows = pool.submit(_read_and_close, name, host).result()
        else:
            version, rows = _read(name, host)
    except DatabaseError as error:
        raise MapSourceError(
            f"{{database: {name!r}}}: cannot read the redirect table ({error}); "
            "has `manage.py migrate` run?"
        ) from None
    if change is not None and change.alias == name:
        rows = [row for row in rows if row[4] not in change.drop]
        rows += [row for row_host, row in change.add if row_host == (host or "")]
    return ProvidedRows(label(name), rows, None if change is not None else version)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _read(name: str, host: str | None) -> tuple[int, list[RawRow]]:
    """The version, then the rows: two queries, the rows at least as new as the version."""
    version = current_version(name)
    query = (
        Redirect.objects.using(name)
        .filter(enabled=True, host=host or "")
        .order_by("pk")
        .values_list("from_path", "to", "permanent", "status", "pk")
    )
    return version, list(query)


def _read_and_close(name: str, host: str | None) -> tuple[int, list[RawRow]]:
    try:
        return _read(name, host)
    finally:
        connections.close_all()  # this thread ends now


def database_maps(ruleset: RuleSet) -> Iterable[MapAction]:
    """The ``map`` rules of ``ruleset`` whose rows came from a database."""
    for rule in ruleset.rules:
        action = rule.action
        if (
            isinstance(action, MapAction)
            and action.provided_by is not None
            and action.provided_by.kind == KIND
        ):
            yield action


class DatabaseWatch:
    """Tells the middleware's :class:`~redirectware.reloading.RuleHolder` when the table changed.

    One query by primary key per database the rules read, once per reload interval, on the
    holder's worker thread; the worker's connections are closed when it is done, as Django
    does at the end of a request.
    """

    def watches(self, ruleset: RuleSet) -> bool:
        """Whether ``ruleset`` has a ``map: {database: ...}`` rule."""
        return any(True for _ in database_maps(ruleset))

    def changed(self, ruleset: RuleSet) -> bool:
        """Whether some table's version differs from the one its rows were read at."""
        seen = {action.provided_by for action in database_maps(ruleset)}
        return any(
            source is not None and current_version(source.name) != source.version for source in seen
        )

    def release(self) -> None:
        """Close this thread's connections: a worker thread never serves a request."""
        connections.close_all()
