"""A ``map`` whose rows live in a compiled, memory-mapped file that every process shares.

A million legacy URLs held as Python objects cost every worker some 500 bytes a row, and
``--preload`` does not help for long: each hit touches the rows' reference counts, and
copy-on-write copies the pages back into every worker. Compiled into an LMDB file (see
:mod:`redirectware.document.compiled_maps`) and opened read-only, the rows stay in the
operating system's page cache, one copy for all workers, with no Python object per row.

Layout of the file's keys (UTF-8):

* ``from`` (a canonical path, or ``path?query``) -> ``target NUL permanent NUL status NUL line``;
* ``path`` of a ``path?query`` row, when no row has the bare path -> :data:`PATH_MARK`, so that
  the index can tell in one lookup whether a path may match;
* ``\\x02 target \\x00 from`` -> empty, for every row whose target is a path: what the load-time
  loop check asks ("which rows lead to this path?") without reading every row;
* ``\\x01meta`` -> JSON: format, rows, content digest, loops found inside the map.

Lookups run in C; a read transaction is kept per thread and opened again after a fork,
as LMDB requires.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .model import MapEntry

#: The value of a bare path that only ``path?query`` rows start from.
PATH_MARK = b"\x01"
META_KEY = b"\x01meta"
TARGET_PREFIX = b"\x02"
#: Bumped whenever the layout above changes: files of another format are rebuilt.
FORMAT = 2
#: The most distinct first segments a compiled map lists for the index to test in memory.
FIRST_SEGMENTS = 10_000


#: The open LMDB environment of each compiled file, with the process that opened it: LMDB
#: allows one per file and process, and a forked child must open its own.
_ENVIRONMENTS: dict[str, tuple[int, Any]] = {}
_OPENING = threading.Lock()
#: Bumped in a forked child: a map opened before the fork opens its file again. (A global
#: read per lookup, where os.getpid() would be a system call.)
_generation = 0


def _forked() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_forked)


def environment(path: Path) -> Any:
    """The read-only LMDB environment of ``path`` for this process, opened once."""
    import lmdb  # the extra redirectware[lmdb]; callers check that it is installed

    key, pid = str(path), os.getpid()
    with _OPENING:
        known = _ENVIRONMENTS.get(key)
        if known is not None:
            if known[0] == pid:
                return known[1]
            # Inherited through a fork: the parent's handle is not ours to use.
            with contextlib.suppress(Exception):
                known[1].close()
        env = lmdb.open(key, readonly=True, lock=False, subdir=True, max_readers=4096)
        _ENVIRONMENTS[key] = (pid, env)
        return env


def forget(path: Path) -> None:
    """Close the environment of ``path`` (a file found corrupt, about to be rebuilt)."""
    with _OPENING:
        known = _ENVIRONMENTS.pop(str(path), None)
    if known is not None:
        with contextlib.suppress(Exception):
            known[1].close()


class CompiledRows(Mapping[str, MapEntry]):
    """The rows of a compiled map, read from its LMDB file; a read-only mapping of entries."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._open()
        try:
            raw = self._txn().get(META_KEY)
        except Exception:
            forget(path)
            raise
        if raw is None:
            forget(path)
            raise ValueError(f"{path}: not a compiled map (no meta record)")
        #: What the compiler recorded: format, rows, digest, has_query_keys, inner_edges.
        self.meta: dict[str, Any] = json.loads(raw)
        if self.meta.get("format") != FORMAT:
            raise ValueError(f"{path}: compiled map of format {self.meta.get('format')!r}")
        self._rows = int(self.meta["rows"])
        self.has_query_keys = bool(self.meta.get("has_query_keys"))
        #: Every target is an absolute URL or a path already in canonical form.
        self.canonical_targets = bool(self.meta.get("canonical_targets"))
        # The first segments the rows start with, when they are few: a path outside them
        # (most of a site's traffic) is told apart without a lookup in the file.
        segments = self.meta.get("first_segments")
        self._first_segments = None if segments is None else frozenset(segments)
        self._last: tuple[str | None, bytes | None] = (None, None)

    def _open(self) -> None:
        self._env = environment(self.path)
        self._generation = _generation
        self._txns: dict[int, Any] = {}

    def _txn(self) -> Any:
        # A transaction belongs to one thread, and an environment to one process: a forked
        # worker opens the file again (see environment()).
        if self._generation != _generation:
            self._open()
        ident = threading.get_ident()
        txn = self._txns.get(ident)
        if txn is None:
            txn = self._txns[ident] = self._env.begin(buffers=False)
        return txn

    def _lookup(self, key: str) -> bytes | None:
        # One request asks for its path two or three times in a row (the index, the rule's
        # match, the answer): the last lookup is kept. A tuple swapped in one assignment:
        # another thread can only replace it, never pair a key with another key's value.
        last = self._last
        if last[0] == key:
            return last[1]
        raw: bytes | None = self._txn().get(key.encode("utf-8", "surrogateescape"))
        self._last = (key, raw)
        return raw

    def get(self, key: str, default: Any = None) -> Any:
        """The entry of the row that starts from ``key``, else ``default``."""
        raw = self._lookup(key)
        if raw is None or raw == PATH_MARK:
            return default
        target, permanent, status, line = raw.decode("utf-8").split("\x00")
        return MapEntry(target, permanent == "1", int(status) if status else None,
                        int(line) if line else None)  # fmt: skip

    def has_path(self, path: str) -> bool:
        """Whether a row starts from ``path``, with or without a query: the index's test."""
        segments = self._first_segments
        if segments is not None:
            end = path.find("/", 1)
            if (path[1:end] if end > 0 else path[1:]) not in segments:
                return False
        return self._lookup(path) is not None

    def __getitem__(self, key: str) -> MapEntry:
        entry: MapEntry | None = self.get(key)
        if entry is None:
            raise KeyError(key)
        return entry

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        cursor = self._txn().cursor()
        for key, value in cursor:
            if key[:1] in (b"\x01", b"\x02") or value == PATH_MARK:
                continue
            yield key.decode("utf-8", "surrogateescape")

    def __len__(self) -> int:
        return self._rows

    def sources_of(self, target: str) -> list[str]:
        """Every ``from`` whose row leads to the path ``target``."""
        prefix = TARGET_PREFIX + target.encode("utf-8", "surrogateescape") + b"\x00"
        cursor = self._txn().cursor()
        found: list[str] = []
        if cursor.set_range(prefix):
            for key in cursor.iternext(keys=True, values=False):
                if not key.startswith(prefix):
                    break
                found.append(key[len(prefix) :].decode("utf-8", "surrogateescape"))
        return found

    def inner_edges(self) -> list[tuple[str, str]]:
        """``(from, target)`` of the rows whose target another row of this map starts from,
        found when the map was compiled."""
        return [(edge[0], edge[1]) for edge in self.meta.get("inner_edges", [])]

    def __repr__(self) -> str:
        return f"CompiledRows({str(self.path)!r}, {self._rows} rows)"
