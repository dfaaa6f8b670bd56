"""Compiling a ``map`` rule's rows: a CSV file or an inline list, into exact entries.

A plain two-column CSV takes a bulk path (a regex over each whole column, one ``dict`` built
in C); anything else, row by row, each row checked and every error naming its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from itertools import count
from pathlib import Path
from typing import Any

from redirectware.document.compiled_maps import cache_folders, compiled_map, lmdb_available
from redirectware.document.fields import FALSE_WORDS, TRUE_WORDS, Where
from redirectware.document.mapfile import (
    RawRow,
    RowFail,
    read_csv_pairs,
    read_csv_rows,
    read_inline_rows,
)
from redirectware.document.mapsources import MapSourceError, ProvidedRows, provided_rows
from redirectware.engine.folding import fold, strip_slash
from redirectware.engine.model import MapAction, MapEntry, PlainRows, RowSource
from redirectware.engine.status import REDIRECT_CODES, is_permanent_code
from redirectware.engine.urls import canonical_literal
from redirectware.errors import RuleError

# A map row that needs no canonicalising and no closer look (see _map_row for the rules):
# a path of plain characters, and a target that is a path or an http(s) URL without control
# characters or backslashes.
_PLAIN_MAP_FROM = re.compile(r"/(?!/)[A-Za-z0-9\-._~/:@!$&'()*+,;=]*\Z")
_PLAIN_MAP_TO = re.compile(r"(?:/(?!/)|[Hh][Tt][Tt][Pp][Ss]?://)[^\r\n\0\\]*\Z")
# The same two checks over a whole column at once, one row per line.
_PLAIN_FROM_COLUMN = re.compile(
    r"(?:/(?!/)[A-Za-z0-9\-._~/:@!$&'()*+,;=]*\n)*/(?!/)[A-Za-z0-9\-._~/:@!$&'()*+,;=]*"
)
# Targets that are absolute URLs or paths already canonical: the loop check needs no work.
_CANONICAL_TO_COLUMN = re.compile(
    r"(?:(?:[Hh][Tt][Tt][Pp][Ss]?://[^\n]*|/[A-Za-z0-9\-._~/:@!$&'()*+,;=]*)\n)*"
    r"(?:[Hh][Tt][Tt][Pp][Ss]?://[^\n]*|/[A-Za-z0-9\-._~/:@!$&'()*+,;=]*)"
)
_PLAIN_TO_COLUMN = re.compile(
    r"(?:(?:/(?!/)|[Hh][Tt][Tt][Pp][Ss]?://)[^\r\n\0\\]*\n)*(?:/(?!/)|[Hh][Tt][Tt][Pp][Ss]?://)[^\r\n\0\\]*"
)


def _bulk_entries(
    froms: list[str],
    tos: list[str],
    permanent: bool,
    status: int | None,
    lines: Iterable[int] | None = None,
) -> PlainRows | None:
    """The entries of a plain two-column map built without a Python loop per row, or None
    when a row needs the closer look of the row-by-row path (which then reports it)."""
    targets = "\n".join(tos)
    if not (_PLAIN_FROM_COLUMN.fullmatch("\n".join(froms)) and _PLAIN_TO_COLUMN.fullmatch(targets)):
        return None
    canonical = _CANONICAL_TO_COLUMN.fullmatch(targets) is not None
    # Row i stands on line i + 2: read_csv_pairs only reads files with one line per row.
    numbers = count(2) if lines is None else lines
    rows = dict(zip(froms, zip(tos, numbers, strict=False), strict=True))
    # A repeated from: the row-by-row path tells a harmless repeat from a conflict.
    if len(rows) != len(froms):
        return None
    return PlainRows(rows, permanent, status, canonical)


def _map_row(
    source: str,
    target: str,
    row_permanent: object,
    row_status: object,
    line: int | None,
    permanent: bool,
    status: int | None,
    fail: RowFail,
    csv_source: str | None,
) -> tuple[str, MapEntry, bool]:
    """Validate one map row the long way: its key, its entry, whether the key has a query."""
    at = f"{csv_source}:{line}" if csv_source and line else f"row {source!r}"
    if not source.startswith("/") or source.startswith("//"):
        raise fail(f"{at}: from must be a path starting with a single '/', got {source!r}", line)
    if str(row_status).strip() in ("410", "451") or not target:
        return _gone_row(source, target, row_status, line, fail, at)
    if not (target.startswith("/") and not target.startswith("//")) and not (
        target.lower().startswith(("http://", "https://"))
    ):
        raise fail(f"{at}: to must be a path or an http(s) URL, got {target!r}", line)
    if any(c in target for c in "\r\n\0") or (target.startswith("/") and "\\" in target):
        raise fail(f"{at}: to holds a character a URL may not: {target!r}", line)
    entry_permanent, entry_status = permanent, status
    if row_status is not None:
        try:
            entry_status = int(str(row_status))
        except ValueError:
            entry_status = -1
        if entry_status not in REDIRECT_CODES:
            raise fail(f"{at}: status must be 301, 302, 307 or 308, got {row_status!r}", line)
        entry_permanent = is_permanent_code(entry_status)
    elif row_permanent is not None:
        text = str(row_permanent).strip().lower()
        if isinstance(row_permanent, bool):
            entry_permanent = row_permanent
        elif text in TRUE_WORDS | FALSE_WORDS:
            entry_permanent = text in TRUE_WORDS
        else:
            raise fail(f"{at}: permanent must be true or false, got {row_permanent!r}", line)
        entry_status = None
    path, sep, query = source.partition("?")
    key = canonical_literal(path) + (sep + query if sep else "")
    return key, MapEntry(target, entry_permanent, entry_status, line), bool(sep)


def _provided(
    value: Mapping[Any, Any], host: str | None, fail: RowFail
) -> tuple[ProvidedRows, RowSource]:
    """``map: {KIND: name}``: the rows a registered source gives (:mod:`.mapsources`)."""
    if len(value) != 1:
        raise fail(f"must name one row source, like {{database: default}}; got {dict(value)!r}")
    ((kind, name),) = value.items()
    if not isinstance(kind, str) or not isinstance(name, str) or not name:
        raise fail(f"a row source is {{KIND: NAME}} with a name, got {dict(value)!r}")
    try:
        provided = provided_rows(kind, name, host)
    except MapSourceError as error:
        raise fail(str(error)) from None
    return provided, RowSource(kind, name, provided.version)


def _plain_provided(rows: list[RawRow], permanent: bool, status: int | None) -> PlainRows | None:
    """Provided rows that all take the rule's status, through the bulk path of a CSV."""
    if any(row[2] is not None or row[3] is not None for row in rows):
        return None
    return _bulk_entries(
        [row[0] for row in rows],
        [row[1] for row in rows],
        permanent,
        status,
        [row[4] or 0 for row in rows],
    )


def _gone_row(
    source: str, target: str, row_status: object, line: int | None, fail: RowFail, at: str
) -> tuple[str, MapEntry, bool]:
    """A row that answers 410 or 451: an empty ``to`` and one of those statuses, both or
    neither (an empty ``to`` alone is more likely a mistake than a wish for 410)."""
    code = str(row_status).strip()
    if code not in ("410", "451"):
        raise fail(
            f"{at}: to is empty; give a path or an http(s) URL, or status 410 (gone) or 451 "
            "for a URL that is gone",
            line,
        )
    if target:
        raise fail(f"{at}: a status {code} row answers itself; leave its to empty", line)
    path, sep, query = source.partition("?")
    key = canonical_literal(path) + (sep + query if sep else "")
    return key, MapEntry("", False, int(code), line), bool(sep)


def compile_map(
    value: Any,
    where: Where,
    base: Path,
    permanent: bool,
    status: int | None,
    map_cache: str | bool | None = None,
    host: str | None = None,
) -> MapAction:
    """A ``map`` rule's rows: from a CSV file, an inline list, or a row source
    (``{database: ALIAS}``); the rule's status is their default.

    A CSV map is compiled into a shared memory-mapped file (see
    :mod:`redirectware.document.compiled_maps`) unless ``map_cache`` is False, the ``lmdb``
    extra is missing, or no folder can hold the file; otherwise its rows are kept in memory.
    ``host`` is the rule's ``host`` as written (lower-cased), which a registered row source
    uses to pick the rows of that site.
    """
    csv_source = None

    def fail(message: str, line: int | None = None) -> RuleError:
        # A CSV row's line is in the message; an inline row's is the YAML line of the error.
        return where.error("map", message, None if csv_source else line)

    if isinstance(value, str):
        csv_path = base / value
        csv_source = name = str(csv_path)

        def build() -> tuple[Mapping[str, MapEntry], bool]:
            return _csv_entries(csv_path, fail, permanent, status, name)

        if map_cache is not False and csv_path.is_file() and lmdb_available():
            folders = cache_folders(
                csv_path, map_cache if isinstance(map_cache, str) else None, base
            )
            compiled = compiled_map(csv_path, permanent, status, build, folders)
            if compiled is not None:
                return MapAction(compiled, csv_source, compiled.has_query_keys)
        entries, has_query = build()
        return MapAction(entries, csv_source, has_query)
    if isinstance(value, Mapping):
        provided, provided_by = _provided(value, host, fail)
        csv_source = provided.label
        listed = list(provided.rows)
        bulk = _plain_provided(listed, permanent, status)
        if bulk is not None:
            return MapAction(bulk, csv_source, False, provided_by)
        entries, has_query = _entries(iter(listed), fail, permanent, status, csv_source)
        return MapAction(entries, csv_source, has_query, provided_by)
    if not isinstance(value, list):
        where.fail(
            "map",
            "must be a CSV file path, a list of {from, to} or {database: ALIAS}, "
            f"got {value!r}",
        )
    rows = read_inline_rows(value, fail)
    entries, has_query = _entries(rows, fail, permanent, status, None)
    return MapAction(entries, None, has_query)


def _csv_entries(
    csv_path: Path, fail: RowFail, permanent: bool, status: int | None, csv_source: str
) -> tuple[Mapping[str, MapEntry], bool]:
    pairs = read_csv_pairs(csv_path)
    bulk = None if pairs is None else _bulk_entries(*pairs, permanent, status)
    if bulk is not None:
        return bulk, False
    return _entries(read_csv_rows(csv_path, fail), fail, permanent, status, csv_source)


def _entries(
    rows: Iterator[RawRow],
    fail: RowFail,
    permanent: bool,
    status: int | None,
    csv_source: str | None,
) -> tuple[dict[str, MapEntry], bool]:
    entries: dict[str, MapEntry] = {}
    has_query = False
    for source, target, row_permanent, row_status, line in rows:
        if (
            row_permanent is None
            and row_status is None
            and _PLAIN_MAP_FROM.match(source)
            and _PLAIN_MAP_TO.match(target)
        ):
            # The common row, a plain path to a plain path or URL: already canonical and
            # valid, so two regex matches stand in for every check below.
            key = source
            entry = MapEntry(target, permanent, status, line)
        else:
            key, entry, query_key = _map_row(
                source, target, row_permanent, row_status, line, permanent, status, fail, csv_source
            )
            has_query = has_query or query_key
        previous = entries.get(key)
        if previous is not None and previous.target != target:
            at = f"{csv_source}:{line}" if csv_source and line else f"row {source!r}"
            raise fail(
                f"{at}: from {source!r} is mapped twice, to {previous.target!r} and {target!r}",
                line,
            )
        entries[key] = entry
    return entries, has_query


def normal_map(action: MapAction, where: Where, fold_case: bool, ignore_slash: bool) -> MapAction:
    """``action`` with its rows filed by their key in normal form too, for
    ``case_sensitive: false`` or ``trailing_slash_match: ignore``.

    Two rows equal but for case (or a trailing slash) would be one row then: an error naming
    both lines, since which target wins would otherwise depend on row order.
    """
    folded: dict[str, str] = {}
    for key in action.entries:
        path, sep, query = key.partition("?")
        if fold_case:
            # A plain ASCII path folds by lower(); fold() is for escapes (the rare row).
            path = path.lower() if "%" not in path else fold(path)
        folded_key = (strip_slash(path) if ignore_slash else path) + sep + query
        earlier = folded.setdefault(folded_key, key)
        if earlier != key:
            first, second = action.entries[earlier].line, action.entries[key].line
            at = f"{action.source}:{second}" if action.source else f"row {key!r}"
            lines = f"line {first}" if first is not None else f"row {earlier!r}"
            keys = " and ".join(
                k
                for k, on in (
                    ("case_sensitive: false", fold_case),
                    ("trailing_slash_match: ignore", ignore_slash),
                )
                if on
            )
            raise where.error(
                "map",
                f"{at}: from {key!r} and {earlier!r} ({lines}) are one path under {keys}; "
                "keep one of them",
                None if action.source else second,
            )
    return replace(action, match_keys=folded, fold_case=fold_case, ignore_slash=ignore_slash)
