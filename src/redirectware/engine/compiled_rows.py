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
as LMDB requires. One environment per file and process is shared by the rows that use it and
closed when the last of them is garbage (a reload's old rules, once no request holds them):
a process that reloads an edited map a hundred times holds one or two files open, not a
hundred. A lookup that fails (an LMDB error, a record that does not decode) never reaches the
request: the rows switch to the CSV in memory, once, with one error logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from .model import MapEntry

#: The value of a bare path that only ``path?query`` rows start from.
PATH_MARK = b"\x01"
META_KEY = b"\x01meta"
TARGET_PREFIX = b"\x02"
#: Bumped whenever the layout above changes: files of another format are rebuilt. (3: a
#: compiled file carries its size and checksum beside it, see compiled_maps.SEAL.)
FORMAT = 3
#: The most distinct first segments a compiled map lists for the index to test in memory.
FIRST_SEGMENTS = 10_000


logger = logging.getLogger("redirectware")


class _Shared:
    """The open LMDB environment of one compiled file in one process, and how many
    :class:`CompiledRows` use it: LMDB allows one environment per file and process, and a
    forked child must open its own."""

    __slots__ = ("env", "pid", "users")

    def __init__(self, env: Any, pid: int) -> None:
        self.env = env
        self.pid = pid
        self.users = 1


class _Lease:
    """What one :class:`CompiledRows` holds of a shared environment; given back when the
    rows are garbage (no rule set, so no request, refers to them any more)."""

    __slots__ = ("env", "key", "path", "pid")

    def __init__(self, path: str) -> None:
        self.path = path
        #: Where the environment is registered: the path, device and inode of the file.
        self.key = path
        self.env: Any = None
        self.pid = 0


_ENVIRONMENTS: dict[str, _Shared] = {}
_OPENING = threading.Lock()
#: Bumped in a forked child: a map opened before the fork opens its file again. (A global
#: read per lookup, where os.getpid() would be a system call.)
_generation = 0


def _forked() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_forked)


def _acquire(lease: _Lease) -> Any:
    """Open (or share) the read-only environment of ``lease.key`` for this process."""
    import lmdb  # the extra redirectware[lmdb]; callers check that it is installed

    pid = os.getpid()
    # Shared only with rows of the same file, not the same name: a damaged file removed
    # and compiled again under its name is another file, which another environment maps.
    info = os.stat(os.path.join(lease.path, "data.mdb"))
    lease.key = f"{lease.path}\0{info.st_dev}\0{info.st_ino}"
    with _OPENING:
        known = _ENVIRONMENTS.get(lease.key)
        if known is not None and known.pid == pid:
            known.users += 1
        else:
            if known is not None:
                # Inherited through a fork: the parent's handle is not ours to use.
                with contextlib.suppress(Exception):
                    known.env.close()
            env = lmdb.open(lease.path, readonly=True, lock=False, subdir=True, max_readers=4096)
            known = _ENVIRONMENTS[lease.key] = _Shared(env, pid)
        lease.env, lease.pid = known.env, pid
        return known.env


def _release(lease: _Lease) -> None:
    """Give ``lease`` back; the environment is closed (its descriptor and mapping freed)
    when no rows of this process use it any more."""
    if lease.pid != os.getpid():
        return  # taken by the parent before a fork: the parent gives it back, not us
    with _OPENING:
        known = _ENVIRONMENTS.get(lease.key)
        lease.pid = 0
        if known is None or known.env is not lease.env:
            return
        known.users -= 1
        if known.users > 0:
            return
        del _ENVIRONMENTS[lease.key]
    with contextlib.suppress(Exception):
        known.env.close()


def open_environments() -> int:
    """How many compiled files this process holds open (for tests and diagnostics)."""
    pid = os.getpid()
    with _OPENING:
        return sum(1 for known in _ENVIRONMENTS.values() if known.pid == pid)


class MemoryFallback(Protocol):
    """The rows of a compiled map built again in memory from its CSV, or None when the CSV
    no longer holds the rows the file was compiled from (edited, gone, unreadable)."""

    def __call__(self) -> Mapping[str, MapEntry] | None: ...


class CompiledRows(Mapping[str, MapEntry]):
    """The rows of a compiled map, read from its LMDB file; a read-only mapping of entries.

    ``fallback`` builds the same rows in memory. When the file fails under a running process
    (an LMDB error, a record that does not decode: the file was overwritten in place), the
    rows switch to it for good, with one error logged, and the damaged file is removed so
    that the next load compiles it again; a lookup never raises for a damaged file.
    """

    def __init__(self, path: Path, fallback: MemoryFallback | None = None) -> None:
        self.path = path
        self._fallback = fallback
        self._memory: _MemoryRows | None = None
        self._failing = threading.Lock()
        self._lease = _Lease(str(path))
        # Gives the environment back once these rows are garbage: a reloaded map's old file
        # is closed when the last request that holds the old rules is done with them.
        self._give_back = weakref.finalize(self, _release, self._lease)
        self._give_back.atexit = False
        try:
            self._open()
            raw = self._txn().get(META_KEY)
            if raw is None:
                raise ValueError(f"{path}: not a compiled map (no meta record)")
            #: What the compiler recorded: format, rows, digest, has_query_keys, inner_edges.
            self.meta: dict[str, Any] = json.loads(raw)
            if self.meta.get("format") != FORMAT:
                raise ValueError(f"{path}: compiled map of format {self.meta.get('format')!r}")
            self._rows = int(self.meta["rows"])
        except BaseException:
            self._give_back()
            raise
        self.has_query_keys = bool(self.meta.get("has_query_keys"))
        #: Every target is an absolute URL or a path already in canonical form.
        self.canonical_targets = bool(self.meta.get("canonical_targets"))
        # The first segments the rows start with, when they are few: a path outside them
        # (most of a site's traffic) is told apart without a lookup in the file.
        segments = self.meta.get("first_segments")
        self._first_segments = None if segments is None else frozenset(segments)
        self._last: tuple[str | None, bytes | None] = (None, None)

    def _open(self) -> None:
        if self._lease.pid == os.getpid():
            _release(self._lease)
        self._env = _acquire(self._lease)
        self._generation = _generation
        self._txns: dict[int, Any] = {}

    def _txn(self) -> Any:
        # A transaction belongs to one thread, and an environment to one process: a forked
        # worker opens the file again (see _acquire()).
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
        try:
            raw = self._lookup(key)
            if raw is None or raw == PATH_MARK:
                return default
            target, permanent, status, line = raw.decode("utf-8").split("\x00")
            return MapEntry(target, permanent == "1", int(status) if status else None,
                            int(line) if line else None)  # fmt: skip
        except Exception as error:  # the file failed: see _fall_back
            return self._fall_back(error).get(key, default)

    def has_path(self, path: str) -> bool:
        """Whether a row starts from ``path``, with or without a query: the index's test."""
        segments = self._first_segments
        if segments is not None:
            end = path.find("/", 1)
            if (path[1:end] if end > 0 else path[1:]) not in segments:
                return False
        try:
            return self._lookup(path) is not None
        except Exception as error:  # the file failed: see _fall_back
            return self._fall_back(error).has_path(path)

    def _fall_back(self, error: Exception) -> _MemoryRows:
        """Serve these rows from memory from now on: the file failed under a lookup."""
        # This thread's transaction is of no use after an error (LMDB answers MDB_BAD_TXN
        # to everything that follows): dropped, and the file is not read again.
        with contextlib.suppress(Exception):
            self._txns.pop(threading.get_ident()).abort()
        with self._failing:
            memory = self._memory
            if memory is not None:
                return memory
            rows = None
            try:
                rows = None if self._fallback is None else self._fallback()
            except Exception:
                logger.exception("compiled map %s: could not rebuild its rows", self.path)
            memory = _MemoryRows({} if rows is None else rows)
            self._memory = memory
            # Instance attributes: every later lookup goes straight to memory.
            self.get = memory.get  # type: ignore[method-assign,assignment]
            self.has_path = memory.has_path  # type: ignore[method-assign]
        served = (
            "its rows are served from the CSV in memory"
            if rows is not None
            else "its CSV no longer holds the compiled rows, so this map matches nothing "
            "until the rules are loaded again"
        )
        logger.error(
            "compiled map %s failed (%s: %s); %s, and it is compiled again at the next load",
            self.path,
            type(error).__name__,
            error,
            served,
        )
        _discard_if_damaged(self.path)
        return memory

    def __getitem__(self, key: str) -> MapEntry:
        entry: MapEntry | None = self.get(key)
        if entry is None:
            raise KeyError(key)
        return entry

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        if self._memory is not None:
            return iter(self._memory.rows)
        return self._iter_file()

    def _iter_file(self) -> Iterator[str]:
        cursor = self._txn().cursor()
        for key, value in cursor:
            if key[:1] in (b"\x01", b"\x02") or value == PATH_MARK:
                continue
            yield key.decode("utf-8", "surrogateescape")

    def __len__(self) -> int:
        return self._rows

    def sources_of(self, target: str) -> list[str]:
        """Every ``from`` whose row leads to the path ``target``."""
        if self._memory is not None:
            return self._memory.sources_of(target)
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


class _MemoryRows:
    """A compiled map's rows held in memory, after its file failed."""

    def __init__(self, rows: Mapping[str, MapEntry]) -> None:
        self.rows = rows
        self.get = rows.get
        # has_path's question: does a row start from this path, with or without a query.
        self._paths = frozenset(key.split("?", 1)[0] for key in rows)

    def has_path(self, path: str) -> bool:
        return path in self._paths

    def sources_of(self, target: str) -> list[str]:
        return [key for key, entry in self.rows.items() if entry.target.split("?", 1)[0] == target]


def _keep(path: Path) -> None:
    """Leave a failed file where it is (until :func:`on_damage` says otherwise)."""


#: Set by :mod:`redirectware.document.compiled_maps`: removes a compiled file that fails its
#: check, so that the next load compiles it again (a file that passes is left alone: another
#: process may have compiled it anew already).
_discard_if_damaged: Callable[[Path], None] = _keep


def on_damage(discard: Callable[[Path], None]) -> None:
    """Set what a compiled map that failed under a lookup does with its file."""
    global _discard_if_damaged
    _discard_if_damaged = discard
