"""Compiling a CSV ``map`` once into a memory-mapped file, and finding it again.

The first load of a CSV map validates its rows (with the same errors, naming CSV lines, as
an in-memory map) and writes them into an LMDB file
(:class:`~redirectware.engine.compiled_rows.CompiledRows` describes its layout). The file's
name carries a digest of the CSV's bytes and of the rule's defaults, so every worker and
every restart finds and reuses it, and an edited CSV is compiled anew, never matched against
a stale file. A file that does not open, or whose record does not match, is rebuilt.

A compiled file is never trusted on its name alone. Beside its ``data.mdb`` stands
:data:`SEAL`, the size and CRC-32 the file had when it was written; both are checked with
plain reads before LMDB maps the file (a mapping of a truncated file kills the process with
SIGBUS on the first read past its end, which no Python code can catch). A file that fails is
removed and compiled again. It is written once, through a folder renamed into place, and
never rewritten: ``data.mdb`` is read-only, so that a tool that would rewrite it in place is
refused and must replace it instead, which processes that have the old one mapped survive.
Under a running process, a file that fails a lookup anyway (junk written over it) makes that
map serve from the CSV in memory (see :class:`~redirectware.engine.compiled_rows.CompiledRows`).
Compiling anew removes the files of earlier versions of the CSV but the one just before.

Where: the document's ``settings.map_cache`` folder when it names one, else a
``.redirectware`` folder beside the CSV, else ``$XDG_CACHE_HOME/redirectware`` (or
``~/.cache/redirectware``). A file already compiled in any of them is used, even on a
read-only file system; when none can be written (a full disk included: LMDB's own errors
count), the map is loaded in memory as before, with one warning, and nothing of the attempt
is left behind. ``settings.map_cache: false`` keeps every map in memory. Without the
``lmdb`` package (``pip install 'redirectware[lmdb]'``) maps are loaded in memory too.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from redirectware.engine.compiled_rows import (
    FIRST_SEGMENTS,
    FORMAT,
    META_KEY,
    PATH_MARK,
    TARGET_PREFIX,
    CompiledRows,
    MemoryFallback,
    on_damage,
)
from redirectware.engine.model import MapEntry, PlainRows, map_targets
from redirectware.engine.urls import canonical_literal
from redirectware.errors import RuleError

logger = logging.getLogger("redirectware")

#: Builds the validated rows of a map in memory: ``(entries, has_query_keys)``.
Build = Callable[[], tuple[Mapping[str, MapEntry], bool]]

_warned: set[str] = set()
_removals = itertools.count()
#: Seconds after which a scratch folder left beside compiled files is known to be abandoned.
SCRATCH_AGE = 3600.0
#: Beside ``data.mdb``: its size and CRC-32 when it was written, checked before it is opened.
SEAL = "seal.json"


def lmdb_available() -> bool:
    """Whether the ``lmdb`` package (the extra ``redirectware[lmdb]``) is installed."""
    try:
        import lmdb  # noqa: F401
    except ImportError:
        return False
    return True


def cache_folders(csv_path: Path, setting: str | None, base: Path) -> list[Path]:
    """Where a compiled map may stand, in the order they are tried."""
    if setting:
        return [base / setting]
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return [csv_path.parent / ".redirectware", Path(xdg) / "redirectware"]


def digest(csv_path: Path, permanent: bool, status: int | None) -> str:
    """What a compiled file is keyed by: the CSV's bytes, the rule's defaults, the format."""
    hasher = hashlib.sha256(f"{FORMAT}\0{int(permanent)}\0{status or ''}\0".encode())
    with csv_path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def compiled_map(
    csv_path: Path,
    permanent: bool,
    status: int | None,
    build: Build,
    folders: list[Path],
) -> CompiledRows | None:
    """The compiled rows of a CSV map, compiled now if no valid file exists; None when it
    cannot be written anywhere (the caller then builds the map in memory).

    ``build`` validates the rows: its :class:`~redirectware.RuleError` propagates, and no
    file is written for an invalid CSV.
    """
    try:
        key = digest(csv_path, permanent, status)
    except OSError:
        # Unreadable (permissions, a directory, gone since): the caller's build() reads it
        # with the reader's own errors, a RuleError naming the file.
        return None
    name = f"{csv_path.name}.{key[:24]}.lmdb"
    fallback = _memory_fallback(csv_path, permanent, status, build, key)
    for folder in folders:
        found = _open_valid(folder / name, key, fallback)
        if found is not None:
            return found
    entries, has_query = build()
    problems: list[str] = []
    for folder in folders:
        written = _write(folder, name, key, entries, has_query, csv_path, fallback, problems)
        if written is not None:
            return written
    if str(csv_path) not in _warned:
        _warned.add(str(csv_path))
        logger.warning(
            "map %s: could not write its compiled file (%s); loaded in memory instead "
            "(set settings.map_cache to a writable folder, or run `redirectware compile` "
            "where it can write)",
            csv_path,
            "; ".join(problems),
        )
    return None


def _memory_fallback(
    csv_path: Path, permanent: bool, status: int | None, build: Build, key: str
) -> MemoryFallback:
    """What a compiled map serves when its file fails under a running process: the CSV's
    rows in memory, but only while the CSV still holds the rows the file was compiled
    from (an edited CSV is for the next reload to validate against the whole document)."""

    def rebuild() -> Mapping[str, MapEntry] | None:
        try:
            if digest(csv_path, permanent, status) != key:
                return None
            return build()[0]
        except (OSError, RuleError):
            return None

    return rebuild


def seal_of(data: Path) -> dict[str, Any]:
    """The size and CRC-32 of a compiled file's ``data.mdb``, read with plain reads (never
    through a mapping, where a truncated file would kill the process with SIGBUS).

    CRC-32, not a cryptographic digest: it guards against damage (a copy cut short, junk
    written over the file), not an attacker, who could as well edit the CSV the file is
    compiled from; and every process start reads the whole file for it, at more than a
    gigabyte a second where SHA-256 manages half that.
    """
    crc = 0
    size = 0
    with data.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            crc = zlib.crc32(block, crc)
            size += len(block)
    return {"size": size, "crc32": crc}


def damage(path: Path) -> str | None:
    """Why the compiled file at ``path`` cannot be trusted, or None when it is whole: its
    ``data.mdb`` must have the size and checksum written beside it when it was compiled."""
    problem = _damage(path)
    return None if problem is None else problem[0]


def _damage(path: Path) -> tuple[str, int | None] | None:
    """Why ``path`` cannot be trusted, and the inode of the ``data.mdb`` found wanting."""
    try:
        inode: int | None = (path / "data.mdb").stat().st_ino
    except OSError:
        inode = None
    found = _check(path)
    return None if found is None else (found, inode)


def _check(path: Path) -> str | None:
    try:
        sealed = json.loads((path / SEAL).read_text(encoding="utf-8"))
        expected = {"size": int(sealed["size"]), "crc32": int(sealed["crc32"])}
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"no valid {SEAL} ({type(error).__name__})"
    try:
        found = seal_of(path / "data.mdb")
    except OSError as error:
        return f"data.mdb unreadable ({error.strerror or error})"
    if found["size"] != expected["size"]:
        return f"data.mdb has {found['size']} bytes, {expected['size']} were written"
    if found["crc32"] != expected["crc32"]:
        return "data.mdb does not match the checksum written with it"
    return None


def _open_valid(path: Path, key: str, fallback: MemoryFallback) -> CompiledRows | None:
    if not path.is_dir():
        return None
    # Checked before LMDB maps it: a truncated file would raise SIGBUS on the first read
    # past its end, and junk in it an error on some lookup long after the start.
    problem = _damage(path)
    if problem is not None:
        logger.warning("compiled map %s is damaged (%s); compiling it again", path, problem[0])
        _remove(path, problem[1])
        return None
    try:
        rows = CompiledRows(path, fallback)
    except Exception as error:  # a foreign file, or another format: never trusted, rebuilt
        logger.warning("compiled map %s is unreadable (%s); compiling it again", path, error)
        _remove(path)
        return None
    if rows.meta.get("digest") != key:
        logger.warning("compiled map %s does not match its CSV; compiling it again", path)
        _remove(path)
        return None
    return rows


def _discard_if_damaged(path: Path) -> None:
    # A file that passes its check is left alone: another process may have compiled it anew.
    problem = _damage(path) if path.is_dir() else None
    if problem is not None:
        _remove(path, problem[1])


on_damage(_discard_if_damaged)


def _remove(path: Path, inode: int | None = None) -> None:
    """Remove the compiled file at ``path``; with ``inode``, only if its ``data.mdb`` is still
    that one (several workers may find one damaged file at once, and the first to compile
    it again puts a good file under the same name, which the others must leave alone)."""
    # Processes that have it mapped keep reading their copy (the inode lives on until they
    # close it). In a read-only cache this fails, and the rebuilt file goes to the next folder.
    aside = path.with_name(f".{path.name}.{os.getpid()}.{next(_removals)}.removed")
    try:
        path.rename(aside)
    except OSError:
        return
    try:
        moved = (aside / "data.mdb").stat().st_ino
    except OSError:
        moved = None
    if inode is not None and moved != inode:
        # Replaced since it was judged: put the good one back, unless yet another is there.
        with contextlib.suppress(OSError):
            aside.rename(path)
            return
    shutil.rmtree(aside, ignore_errors=True)


def _write(
    folder: Path,
    name: str,
    key: str,
    entries: Mapping[str, MapEntry],
    has_query: bool,
    csv_path: Path,
    fallback: MemoryFallback,
    problems: list[str],
) -> CompiledRows | None:
    """Write the rows into ``folder / name`` through a temporary folder renamed at the end,
    so that a reader never sees half a file; None when the folder cannot be written (why is
    added to ``problems``), and nothing of the attempt is left behind."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=folder))
    except OSError as error:
        problems.append(f"{folder}: {error.strerror or error}")
        return None
    try:
        _fill(scratch, key, entries, has_query)
        data = scratch / "data.mdb"
        seal = {**seal_of(data), "csv": str(csv_path.resolve())}
        # Read-only: a tool that would rewrite it in place (cp, a shell's >) is refused, and
        # must replace it (a new file), which processes that have the old one mapped survive.
        # As readable as the CSV (mkdtemp makes a folder for its owner alone): workers that
        # run as another user than the one that compiled must read it too.
        readable = csv_path.stat().st_mode & 0o444 | 0o400
        data.chmod(readable)
        scratch.chmod(0o700 | readable | readable >> 2)
        with (scratch / SEAL).open("w", encoding="utf-8") as handle:
            json.dump(seal, handle)
            handle.flush()
            os.fsync(handle.fileno())
        final = folder / name
        try:
            scratch.rename(final)
        except OSError:
            # Another process compiled the same CSV first: its file is as good as ours, once
            # it passes the same check as any file found.
            shutil.rmtree(scratch, ignore_errors=True)
            return _open_valid(final, key, fallback)
        _prune(folder, name, csv_path)
        # Ours, just sealed: not read a second time for its checksum.
        return CompiledRows(final, fallback)
    except Exception as error:
        # An OSError, or an lmdb.Error (a full disk is lmdb.DiskError, no OSError): either
        # means "not here"; the rows are valid (build() checked them), so memory will do.
        shutil.rmtree(scratch, ignore_errors=True)
        problems.append(f"{folder}: {type(error).__name__}: {error}")
        return None


def _prune(folder: Path, name: str, csv_path: Path) -> None:
    """Remove files compiled from earlier versions of the same CSV, but the newest one, and
    scratch folders abandoned by processes killed while they compiled it.

    The one before stays for a process still starting with the previous rules; files of
    another CSV of the same name (a shared ``map_cache``) are told apart by their seal.
    Files of an older format have no seal and are of no use to anyone.
    """
    pattern = re.compile(re.escape(csv_path.name) + r"\.[0-9a-f]{24}\.lmdb")
    mine = str(csv_path.resolve())
    older: list[tuple[float, Path]] = []
    try:
        listed = list(folder.iterdir())
    except OSError:
        return
    for path in listed:
        if path.name.startswith(f".{csv_path.name}."):
            # A scratch folder (or one set aside for removal) that a process killed in the
            # middle left behind; one younger than an hour may still be in use.
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime > SCRATCH_AGE:
                    shutil.rmtree(path, ignore_errors=True)
            continue
        if path.name == name or not pattern.fullmatch(path.name):
            continue
        try:
            sealed = json.loads((path / SEAL).read_text(encoding="utf-8"))
            owner = sealed.get("csv") if isinstance(sealed, dict) else None
        except (OSError, ValueError):
            owner = None
        if owner is not None and owner != mine:
            continue
        with contextlib.suppress(OSError):
            older.append((path.stat().st_mtime, path))
    older.sort(reverse=True)
    for _, path in older[1:]:
        _remove(path)


def _fill(path: Path, key: str, entries: Mapping[str, MapEntry], has_query: bool) -> None:
    import lmdb

    records: dict[bytes, bytes] = {}
    inner: list[list[str]] = []
    canonical = isinstance(entries, PlainRows) and entries.canonical_targets
    for source, entry in entries.items():
        status = "" if entry.status is None else str(entry.status)
        line = "" if entry.line is None else str(entry.line)
        value = f"{entry.target}\0{int(entry.permanent)}\0{status}\0{line}"
        records[source.encode("utf-8", "surrogateescape")] = value.encode("utf-8")
    for source, target in map_targets(entries):
        if "?" in source:
            bare = source.split("?", 1)[0].encode("utf-8", "surrogateescape")
            records.setdefault(bare, PATH_MARK)
        if target.startswith("/"):
            to_path = target.split("?", 1)[0].split("#", 1)[0]
            to_path = to_path if canonical else canonical_literal(to_path)
            marker = TARGET_PREFIX + f"{to_path}\0{source}".encode("utf-8", "surrogateescape")
            records[marker] = b""
            if to_path in entries and "?" not in source:
                inner.append([source, to_path])
    segments: set[str] = set()
    for source in entries:
        start = source.split("?", 1)[0]
        end = start.find("/", 1)
        segments.add(start[1:end] if end > 0 else start[1:])
        if len(segments) > FIRST_SEGMENTS:
            break
    meta = {
        "first_segments": sorted(segments) if len(segments) <= FIRST_SEGMENTS else None,
        "format": FORMAT,
        "digest": key,
        "rows": len(entries),
        "has_query_keys": has_query,
        "canonical_targets": canonical,
        "inner_edges": inner,
    }
    records[META_KEY] = json.dumps(meta).encode()
    size = sum(len(k) + len(v) + 64 for k, v in records.items())
    env = lmdb.open(str(path), map_size=max(size * 2, 1 << 20), subdir=True, lock=False,
                    sync=False, metasync=False)  # fmt: skip
    try:
        with env.begin(write=True) as txn:
            # Sorted keys appended: LMDB builds its tree without searching for each key.
            txn.cursor().putmulti(sorted(records.items()), append=True)
        env.sync(True)
    finally:
        env.close()
