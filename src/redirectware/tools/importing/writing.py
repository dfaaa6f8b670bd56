"""Writing an :class:`ImportResult` as a rule document, with comments naming the sources.

Runs of exact moves (no placeholder, no condition) become one ``map`` rule: in the document
when short, in a CSV beside it when long (pure-Python YAML reads 100,000 rows slowly; CSV is
what ``map`` is for). A map keeps the source's order: only consecutive exact rules join one,
and within it the first row for a path wins, as it did in the source.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import yaml

from redirectware.engine.folding import strip_slash

from .result import Imported, ImportResult, Row

#: Consecutive exact moves at least this many become one map rule.
MAP_MIN = 5
#: A map with at least this many rows goes to a CSV file (when the document goes to a file).
CSV_MIN = 50


@dataclass
class Written:
    """The document's text, and the CSV maps it names (file name, text)."""

    document: str
    maps: list[tuple[str, str]]
    #: The source entries behind each rule written, by the rule's index.
    owners: list[list[Imported]]


def _dump(value: Any, indent: str) -> list[str]:
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100)
    return [indent + line if line else line for line in text.rstrip("\n").split("\n")]


def _groups(items: list[Imported]) -> list[list[Imported]]:
    """Consecutive exact items (with rows) together; every other item on its own."""
    groups: list[list[Imported]] = []
    for item in items:
        if (
            item.rows is not None
            and groups
            and groups[-1][0].rows is not None
            and groups[-1][0].map_options == item.map_options
        ):
            groups[-1].append(item)
        else:
            groups.append([item])
    out: list[list[Imported]] = []
    for group in groups:
        if group[0].rows is not None and len(group) < MAP_MIN:
            out.extend([item] for item in group)
        else:
            out.append(group)
    return out


def _match_key(path: str, options: dict[str, Any]) -> str:
    """The form of a row's ``from`` its map looks it up in: two rows equal in it are one
    (the first wins, as in the source), as ``case_sensitive: false`` and
    ``trailing_slash_match: ignore`` make them."""
    head, mark, query = path.partition("?")
    if options.get("trailing_slash_match") == "ignore":
        head = strip_slash(head)
    key = head + mark + query
    return key.lower() if options.get("case_sensitive") is False else key


def _row(row: Row) -> dict[str, Any]:
    """A map row as the document writes it inline: a gone row (410, 451) has no ``to``."""
    if not row.to:
        return {"from": row.from_path, "status": row.status}
    return {"from": row.from_path, "to": row.to, "status": row.status}


def render(result: ImportResult, map_stem: str | None = None) -> Written:
    """The document (and CSV maps, named ``{map_stem}-N.csv``, when ``map_stem`` is given)."""
    tool = f"'redirectware import {result.fmt}'"
    lines = [
        f"# Imported by {tool} from {result.source}.",
        "# Each rule names the source line it comes from; tests: pin what the source tool",
        "# answers for each (redirectware sends 307/308 instead of 301/302 to methods other",
        "# than GET and HEAD, so that a POST stays a POST).",
    ]
    if result.losses:
        lines.append(f"# {len(result.losses)} source line(s) were not translated: see the end.")
    lines += ["version: 1"]
    if result.settings:
        lines += ["settings:", *_dump(result.settings, "  ")]
    lines.append("rules:")
    tests: list[dict[str, Any]] = []
    maps: list[tuple[str, str]] = []
    owners: list[list[Imported]] = []
    seen: dict[str, tuple[str, int]] = {}
    for group in _groups(result.items):
        first = group[0]
        tests += [test for item in group for test in item.tests]
        if first.rows is None or (len(group) == 1 and len(group[0].rows or []) < MAP_MIN):
            lines.append(f"  # {first.source}:{first.line}: {first.text.strip()}")
            lines += _dump(first.rules, "  ")
            owners += [[first]] * len(first.rules)
            continue
        owners.append(group)
        rows: list[Row] = []
        for item in group:
            for row in item.rows or []:
                key = repr(sorted(item.map_options.items())) + _match_key(
                    row.from_path, item.map_options
                )
                earlier = seen.get(key)
                if earlier is not None:
                    result.notes.append(
                        f"{item.source}:{item.line}: {row.from_path} is never reached: "
                        f"{earlier[0]}:{earlier[1]} matches it first (left out of the map)"
                    )
                    continue
                seen[key] = (item.source, item.line)
                rows.append(row)
        where = f"{first.source}:{first.line}-{group[-1].line}"
        lines.append(f"  # {where}: {len(group)} exact moves, one map row per path")
        if map_stem is not None and len(rows) >= CSV_MIN:
            name = f"{map_stem}-{len(maps) + 1}.csv"
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["from", "to", "status"])
            writer.writerows([row.from_path, row.to, row.status] for row in rows)
            maps.append((name, buffer.getvalue()))
            rule = {"name": f"{result.fmt}-{first.line}", **first.map_options, "map": name}
            lines += _dump([rule], "  ")
        else:
            entries = [_row(r) for r in rows]
            rule = {"name": f"{result.fmt}-{first.line}", **first.map_options, "map": entries}
            lines += _dump([rule], "  ")
    if not result.items:
        lines[-1] = "rules: []"
    if tests:
        lines += ["tests:", *_dump(tests, "  ")]
    for loss in result.losses:
        lines.append(f"# {loss}")
    return Written("\n".join(lines) + "\n", maps, owners)
