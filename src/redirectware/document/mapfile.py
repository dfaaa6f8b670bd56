"""Reading the rows of a ``map``: a CSV file or an inline list.

Bulk maps belong in CSV: Python's ``csv`` module reads 100,000 rows in a fraction of a second,
where a pure-Python YAML parser takes seconds for the same rows.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from redirectware.document.sources import LineDict, not_utf8_message
from redirectware.errors import RuleError

#: ``(from, to, permanent or None, status or None, line)``, as read, before validation.
RawRow = tuple[str, str, object, object, int | None]


class RowFail(Protocol):
    """Makes the error for a map row: ``line`` is the row's own YAML line, when it has one."""

    def __call__(self, message: str, line: int | None = None) -> RuleError: ...


def read_csv_rows(path: Path, fail: Callable[[str], RuleError]) -> Iterator[RawRow]:
    """Rows of a CSV map; its header row names ``from``, ``to``, maybe ``permanent``/``status``."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise fail(f"map file {str(path)!r} does not exist") from None
    except OSError as error:
        raise fail(f"cannot read map file {str(path)!r}: {error}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise fail(f"map file {str(path)!r} is empty: it needs a header row from,to")
            columns = [name.strip().lower() for name in header]
            unknown = set(columns) - {"from", "to", "permanent", "status"}
            if "from" not in columns or "to" not in columns or unknown:
                raise fail(
                    f"{path}:1: the header row must name the columns from, to and optionally "
                    f"permanent or status; got {header!r}"
                )
            at_from, at_to = columns.index("from"), columns.index("to")
            at_perm = columns.index("permanent") if "permanent" in columns else None
            at_status = columns.index("status") if "status" in columns else None
            width = len(columns)
            if columns == ["from", "to"]:
                # The usual file: a tighter loop for it, since it may hold 100,000 rows.
                for row in reader:
                    if len(row) == 2:
                        yield (row[0].strip(), row[1].strip(), None, None, reader.line_num)
                    elif row and (len(row) != 1 or row[0].strip()):
                        raise fail(
                            f"{path}:{reader.line_num}: expected {width} columns, got {len(row)}"
                        )
                return
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != width:
                    raise fail(
                        f"{path}:{reader.line_num}: expected {width} columns, got {len(row)}"
                    )
                yield (
                    row[at_from].strip(),
                    row[at_to].strip(),
                    row[at_perm].strip() or None if at_perm is not None else None,
                    row[at_status].strip() or None if at_status is not None else None,
                    reader.line_num,
                )
        except csv.Error as error:
            raise fail(f"{path}:{reader.line_num}: not valid CSV: {error}") from None
        except UnicodeDecodeError:
            message, line = not_utf8_message(path)
            where = f"{path}:{line}" if line is not None else str(path)
            raise fail(f"{where}: {message}") from None


def read_csv_pairs(path: Path) -> tuple[list[str], list[str]] | None:
    """The ``from`` and ``to`` columns of the usual CSV map, read in bulk.

    Only for a file whose header is exactly ``from,to`` and whose every record is one line of
    two fields: then the C reader does all the work and row *i* stands on line *i + 2*.
    Anything else (other columns, blank lines, quoted newlines, a bad row, an unreadable
    file) returns None, and :func:`read_csv_rows` reads the file row by row, with errors.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or [name.strip().lower() for name in header] != ["from", "to"]:
                return None
            rows = list(reader)
            if reader.line_num != len(rows) + 1 or not rows or set(map(len, rows)) != {2}:
                return None
    except (OSError, csv.Error, UnicodeDecodeError):
        return None
    return [row[0] for row in rows], [row[1] for row in rows]


def read_inline_rows(rows: Iterable[Any], fail: RowFail) -> Iterator[RawRow]:
    """Rows of an inline ``map`` list of ``{from, to, permanent?, status?}`` mappings.

    A row read from YAML knows its line (a :class:`~redirectware.document.sources.LineDict`); its
    errors name that line rather than the line of ``map:``.
    """
    for number, row in enumerate(rows):
        line = getattr(row, "line", None)
        if not isinstance(row, dict):
            raise fail(f"map[{number}] must be a mapping with from and to, got {row!r}", line)
        unknown = set(row) - {"from", "to", "permanent", "status"}
        if unknown:
            key = sorted(unknown)[0]
            at = row.line_of(key) if isinstance(row, LineDict) else line
            raise fail(f"map[{number}]: unknown key {key!r}", at)
        source, target = row.get("from"), row.get("to")
        if target is None and str(row.get("status")) in ("410", "451"):
            target = ""  # a gone row: nothing to redirect to
        if not isinstance(source, str) or not isinstance(target, str):
            raise fail(f"map[{number}] needs from and to, both strings", line)
        yield (source, target, row.get("permanent"), row.get("status"), line)
