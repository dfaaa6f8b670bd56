"""Named row sources for ``map`` rules: rows that live somewhere other than a file.

A ``map`` rule usually names a CSV file or lists its rows inline. ``map: {database: default}``
instead names a *row source* of kind ``database`` and the name ``default``; the document
layer knows no database, so an integration registers a provider for the kind and the map's
rows come from it. ``redirectware.django`` registers ``database`` when Django makes its app
ready (the name is a Django database alias)::

    register_map_source("database", provider, needs="...")

A provider is called at load time, once per ``map`` rule that names its kind, with the name
and the rule's ``host`` (as written, lower-cased; None for a rule without one). It returns a
:class:`ProvidedRows`: a label that stands where a file name would in messages
(``database:default``) and the raw rows, each with a number that stands for a line (the
row's id). It raises :class:`MapSourceError` when it cannot read them; the loader turns that
into a :class:`~redirectware.RuleError` at the rule's ``map`` key, like a missing CSV.

A document that names a kind nobody registered is a load error that says what would: a
Django database alias read outside Django has no database to read.

A provider may come with a *watch* (``watch=``): what tells the adapters' rule holders that
rows changed since a rule set read them, so that every adapter (the Django middleware, and
the ASGI and WSGI middleware in a process where Django is set up) compiles the rules again
after an edit. See :class:`~redirectware.reloading.SourceWatch`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from redirectware.document.mapfile import RawRow


class MapSourceError(ValueError):
    """A registered row source could not give its rows (the message says why)."""


@dataclass(frozen=True)
class ProvidedRows:
    """What a provider gives for one ``map`` rule."""

    #: Stands where a CSV file name would in messages: ``database:default:17: ...``.
    label: str
    #: ``(from, to, permanent or None, status or None, number)``: ``None`` takes the rule's.
    rows: Iterable[RawRow]
    #: The source's version, read before the rows (see ``RowSource`` in the engine model).
    version: object = None


class MapSource(Protocol):
    """Gives the rows of ``map: {KIND: name}`` for a rule whose ``host`` is ``host``."""

    def __call__(self, name: str, host: str | None) -> ProvidedRows: ...


class RowSourceWatch(Protocol):
    """Tells whether the rows a rule set read from a source have changed since (the shape of
    :class:`redirectware.reloading.SourceWatch`, which this layer cannot name)."""

    def watches(self, ruleset: Any) -> bool:
        """Whether ``ruleset`` holds rows from this source (cheap, no I/O)."""
        ...

    def changed(self, ruleset: Any) -> bool:
        """Whether those rows changed since ``ruleset`` read them (on a worker thread)."""
        ...

    def release(self) -> None:
        """Give back what the worker thread holds (a database connection)."""
        ...


@dataclass(frozen=True)
class _Registered:
    provider: MapSource
    needs: str
    watch: RowSourceWatch | None = None


_registry: dict[str, _Registered] = {}
_lock = threading.Lock()


def register_map_source(
    kind: str, provider: MapSource, *, needs: str, watch: RowSourceWatch | None = None
) -> None:
    """Make ``map: {kind: name}`` take its rows from ``provider``.

    ``needs`` says, for the error a document meets where nothing registered the kind, what
    would have (``"Django, with 'redirectware.django' in INSTALLED_APPS"``). ``watch`` tells
    when the rows changed (see the module docstring). Registering a kind again replaces its
    provider (Django may make an app ready more than once in tests).
    """
    with _lock:
        _registry[kind] = _Registered(provider, needs, watch)


def unregister_map_source(kind: str) -> None:
    """Forget the provider of ``kind`` (for tests, and integrations that shut down)."""
    with _lock:
        _registry.pop(kind, None)


def source_watches() -> list[RowSourceWatch]:
    """The watches of the registered row sources, as they are now."""
    with _lock:
        return [entry.watch for entry in _registry.values() if entry.watch is not None]


#: The kinds a document may name, and what registers each: the error for an unregistered
#: one says what is missing rather than "unknown key".
KNOWN_KINDS: dict[str, str] = {
    "database": "Django, with 'redirectware.django' in INSTALLED_APPS (the name is a "
    "database alias of settings.DATABASES)",
}


def provided_rows(kind: str, name: str, host: str | None) -> ProvidedRows:
    """The rows of ``map: {kind: name}``; :class:`MapSourceError` when nothing gives them."""
    registered = _registry.get(kind)
    if registered is None:
        needs = KNOWN_KINDS.get(kind)
        if needs is None:
            raise MapSourceError(
                f"unknown row source {kind!r}: a map is a CSV file path, a list of "
                f"{{from, to}} rows, or {{database: ALIAS}}"
            )
        raise MapSourceError(
            f"{{{kind}: {name!r}}}: rows from a {kind} are read only under {needs}; "
            "nothing here can read them"
        )
    return registered.provider(name, host)
