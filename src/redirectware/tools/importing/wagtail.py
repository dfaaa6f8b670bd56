"""The redirects of ``wagtail.contrib.redirects``, as a spreadsheet: CSV, TSV or XLSX.

Two shapes of file, both as Wagtail writes or reads them:

* the **export** of Wagtail's redirects report (``?export=csv`` or ``xlsx``): the columns
  ``From``, ``To``, ``Type`` (``permanent`` or ``temporary``) and ``Site``;
* a file for Wagtail's **import** (the admin's import view, ``manage.py import_redirects``):
  a header row, then the old path and the target; Wagtail asks for the permanence once for
  the whole file (permanent by default), and for the columns (the first two by default).

Columns are found by their header, without case: ``From`` (or ``old_path``), ``To`` (or
``redirect_link``, ``link``), ``Type``, ``Permanent`` (true/false, yes/no, 1/0), ``Site``;
without a ``From`` and a ``To``, the first two columns are taken, as Wagtail does.

Wagtail's semantics, as translated (``RedirectMiddleware`` and ``Redirect.normalise_path``):

* a redirect applies only when the app answers **404** (``when: not_found``). Wagtail also
  redirects other methods then, and so does redirectware, with 307/308 to them (the client
  sends the body again to the new URL);
* ``From`` is normalised as Wagtail stores it: scheme, host and fragment dropped, a leading
  ``/`` added, a trailing ``/`` dropped; and a request matches it with or without a trailing
  slash (``trailing_slash_match: ignore``). The case is kept: Wagtail matches paths with the
  case written (its own tests pin ``/Hello`` and ``/hello`` as two paths);
* a ``From`` with a query matches that query, its parameters in any order (Wagtail sorts
  them): one map row per order, up to three parameters (six orders), more are reported; a
  ``From`` without one matches whatever the query (Wagtail's second lookup, without it);
* the target is the ``To`` as written, the request's query not added (``keep_query:
  false``): 301 for ``permanent``, 302 for ``temporary``. An empty ``To`` (a page since
  deleted) redirects nowhere: reported;
* ``Site``: empty for a redirect of every site; else the site as Wagtail names it (its
  hostname, with ``:port`` unless 80, or its site name; `` [default]`` after the default
  site). A hostname becomes the rule's ``host``; a site's name is reported (the file does not
  say its hostname). The default site also answers every host no other site claims: its
  rows get no host condition when the file names no other site, and are reported when it
  does. Rows of one site come before rows of every site, as Wagtail prefers them.
"""

from __future__ import annotations

import csv
import importlib
import io
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from redirectware._extras import require_extra

from .result import Imported, ImportResult, Row, absolute, test_entry

SAMPLE_HOST = "example.com"
#: The extra that installs the XLSX reader, named in the error when it is missing.
EXTRA = "wagtail"
#: A ``From`` with more query parameters than this is reported (its orders grow as n!).
MAX_QUERY_PARAMETERS = 3
_FROM = ("from", "old_path", "redirect from", "old path")
_TO = ("to", "redirect_link", "link", "redirect to", "new path")
_TRUE = frozenset({"permanent", "true", "yes", "1", "y", "t"})
_FALSE = frozenset({"temporary", "false", "no", "0", "n", "f"})
_DEFAULT_SUFFIX = " [default]"
_HOSTNAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]+)?\Z")


@dataclass(frozen=True)
class Sheet:
    """A spreadsheet's rows, each with the line (CSV) or row number (XLSX) it stands on."""

    rows: list[tuple[int, list[str]]]


def read_sheet(path: Path) -> Sheet:
    """The rows of a ``.csv``, ``.tsv`` or ``.xlsx`` file (by its name, CSV otherwise);
    ``ValueError`` when it cannot be read, ``ImportError`` (naming the extra) when reading
    an ``.xlsx`` needs openpyxl and it is not installed."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text (an .xlsx file must be named .xlsx)") from None
    return sheet_of_text(text, "\t" if path.suffix.lower() == ".tsv" else ",")


def sheet_of_text(text: str, delimiter: str = ",") -> Sheet:
    """The rows of CSV (or, with ``delimiter="\\t"``, TSV) text."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    for row in reader:
        rows.append((line, row))
        line = reader.line_num + 1
    return Sheet(rows)


def _xlsx(path: Path) -> Sheet:
    require_extra("reading an .xlsx file", EXTRA, ["openpyxl"])
    openpyxl = importlib.import_module("openpyxl")

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a bad file
        raise ValueError(f"{path}: not an .xlsx workbook ({error})") from None
    try:
        # The first sheet, as Wagtail's import reads it.
        sheet = workbook.worksheets[0]
        rows = [
            (number, ["" if cell is None else str(cell) for cell in row])
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()
    return Sheet(rows)


@dataclass(frozen=True)
class _Columns:
    source: int
    target: int
    type: int | None
    permanent: int | None
    site: int | None
    #: Whether From and To were named by the header (else the first two columns).
    named: bool


def _columns(header: list[str]) -> _Columns:
    names = [cell.strip().lower() for cell in header]

    def find(*wanted: str) -> int | None:
        for name in wanted:
            if name in names:
                return names.index(name)
        return None

    source, target = find(*_FROM), find(*_TO)
    named = source is not None and target is not None
    return _Columns(
        source if source is not None else 0,
        target if target is not None else 1,
        find("type"),
        find("permanent", "is_permanent"),
        find("site"),
        named,
    )


def normalise(value: str) -> tuple[str, list[str]]:
    """A ``From`` as Wagtail stores it (``Redirect.normalise_path``), split into the path
    (with its ``;`` parameters) and the query's parameters; ValueError for what it cannot
    say."""
    parsed = urlparse(value.strip())
    path = parsed.path
    if not path.startswith("/"):
        path = "/" + path
    if path.endswith("/") and len(path) > 1:
        path = path[:-1]
    params = [p for p in parsed.params.split(";") if p]
    if len(params) > 1:
        raise ValueError("several ';' parameters, which Wagtail matches in any order")
    if params:
        path += ";" + params[0]
    query = [q for q in parsed.query.split("&") if q]
    return path, query


def _permanent(cells: list[str], columns: _Columns) -> bool | None:
    """The row's permanence: its Type or Permanent cell; Wagtail's default (permanent) when
    the file has neither; None for a value that says neither."""
    for index in (columns.type, columns.permanent):
        if index is None:
            continue
        value = _cell(cells, index).strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        return None
    return True


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


def _site(value: str) -> tuple[str | None, bool]:
    """The hostname a Site cell names (None: every site), and whether it is the default
    site; ValueError for a site's name, which says no hostname."""
    text = value.strip()
    default = text.endswith(_DEFAULT_SUFFIX)
    if default:
        text = text[: -len(_DEFAULT_SUFFIX)].strip()
    if not text:
        return None, False
    if not _HOSTNAME.match(text):  # Wagtail stores hostnames lower-cased
        raise ValueError(f"site {value.strip()!r} is a site's name, not its hostname")
    return text.lower(), default


def read_file(path: Path) -> ImportResult:
    """A Wagtail redirects spreadsheet (``.csv``, ``.tsv``, ``.xlsx``) as an import."""
    return parse_sheet(read_sheet(path), str(path))


def parse(text: str, source: str) -> ImportResult:
    """A Wagtail redirects CSV given as text (``source`` names it in messages)."""
    return parse_sheet(sheet_of_text(text), source)


def parse_sheet(sheet: Sheet, source: str) -> ImportResult:
    """The rows of a Wagtail redirects spreadsheet, translated."""
    result = ImportResult("wagtail", source)
    rows = [(line, cells) for line, cells in sheet.rows if any(c.strip() for c in cells)]
    if not rows:
        return result
    (_, header), body = rows[0], rows[1:]
    columns = _columns(header)
    if not columns.named:
        result.notes.append(
            f"{source}: no From and To columns named in the header: the first two columns "
            "are taken, as Wagtail's import does by default"
        )
    if columns.type is None and columns.permanent is None:
        result.notes.append(
            f"{source}: no Type or Permanent column: every row is permanent (301), as "
            "Wagtail's import makes them by default"
        )
    sites: dict[int, tuple[str | None, bool]] = {}
    #: The sites besides the default one, as the file names them.
    others: set[str] = set()
    for line, cells in body:
        if columns.site is None:
            continue
        value = _cell(cells, columns.site).strip()
        if value and not value.endswith(_DEFAULT_SUFFIX):
            others.add(value)
        try:
            sites[line] = _site(value)
        except ValueError:
            continue
    specific: list[Imported] = []
    every: list[Imported] = []
    for line, cells in body:
        shown = ",".join(cells)
        try:
            item = _translate(result, line, shown, cells, columns, sites.get(line), others)
        except ValueError as error:
            result.lose(line, shown, str(error))
            continue
        (specific if "host" in item.map_options else every).append(item)
    result.items = specific + every
    return result


def _translate(
    result: ImportResult,
    line: int,
    shown: str,
    cells: list[str],
    columns: _Columns,
    site: tuple[str | None, bool] | None,
    others: set[str],
) -> Imported:
    old, target = _cell(cells, columns.source).strip(), _cell(cells, columns.target).strip()
    if not old:
        raise ValueError("no From")
    if not target:
        raise ValueError("no To (a redirect to a page since deleted): Wagtail lets the 404 stand")
    if not target.startswith(("/", "http://", "https://")):
        raise ValueError("the To is not a path or an http(s) URL")
    permanent = _permanent(cells, columns)
    if permanent is None:
        raise ValueError("a Type that is neither permanent nor temporary")
    if columns.site is not None and site is None:
        _site(_cell(cells, columns.site))  # raises the reason
    host, default = site or (None, False)
    if default and others:
        raise ValueError(
            "a redirect of the default site, which also answers every host no other site "
            f"claims ({', '.join(sorted(others))} are named here): a host condition cannot "
            "say that"
        )
    if default:
        host = None
    if host is not None and ":" in host:
        name, _, port = host.partition(":")
        if port not in ("80", "443"):
            raise ValueError(f"site {host!r} has a port a host condition cannot say")
        host = name
    path, query = normalise(old)
    if len(query) > MAX_QUERY_PARAMETERS:
        raise ValueError(
            f"a query of {len(query)} parameters, which Wagtail matches in any order: more "
            f"than {MAX_QUERY_PARAMETERS} are not written out"
        )
    status = 301 if permanent else 302
    froms = (
        [path + "?" + "&".join(order) for order in itertools.permutations(query)]
        if query
        else [path]
    )
    options: dict[str, Any] = {}
    if host is not None:
        options["host"] = host
    options.update({"keep_query": False, "trailing_slash_match": "ignore", "when": "not_found"})
    rows = [Row(key, target, status) for key in froms]
    rule: dict[str, Any] = {"name": f"wagtail-{line}", **options}
    rule["map"] = [{"from": row.from_path, "to": row.to, "status": status} for row in rows]
    origin = host or SAMPLE_HOST
    location = absolute(target, "https", origin)
    tests = [test_entry("GET", f"https://{origin}{froms[0]}", status, location, True)]
    if path != "/":
        # Wagtail drops the request's trailing slash too: pin the other spelling.
        slashed = path + "/" + (f"?{'&'.join(query)}" if query else "")
        tests.append(test_entry("GET", f"https://{origin}{slashed}", status, location, True))
    return Imported(result.source, line, shown, [rule], tests, rows, options)
