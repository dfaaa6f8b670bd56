"""``redirectware check``: values in a valid document that look copied from another tool.

The recognising is :func:`redirectware.document.foreign.foreign_syntax`; this walks a compiled
document's values (``from``, ``except``, ``to``, a maintenance ``to``, each ``map`` row) and
places each finding at its file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from redirectware.document.foreign import Foreign, foreign_syntax
from redirectware.engine.exhaustive import assert_never
from redirectware.engine.model import (
    Document,
    GoneAction,
    HttpsAction,
    LanguageAction,
    Maintenance,
    MapAction,
    Rule,
    SlashAction,
    ToAction,
    map_targets,
)

FOREIGN_SYNTAX = "foreign-syntax"


@dataclass(frozen=True)
class ForeignFinding:
    """Another tool's syntax in one value of one rule (or one ``map`` row)."""

    foreign: Foreign
    #: The key the value stands under: ``from``, ``except``, ``to``, ``map``.
    key: str
    source: str | None
    line: int | None
    rule: Rule
    #: The ``from`` of the ``map`` row, when the value is one row's.
    row: str | None = None

    @property
    def error(self) -> bool:
        """True when the text cannot be meant literally: ``check`` then fails."""
        return self.foreign.certain

    @property
    def message(self) -> str:
        """The finding without its place: ``to: '$1' looks like ...``."""
        row = f"row {self.row!r}: " if self.row is not None else ""
        return f"{self.key}: {row}{self.foreign.message}"

    def __str__(self) -> str:
        place = self.source or "(dict)"
        if self.line is not None:
            place += f":{self.line}"
        severity = "error" if self.error else "warning"
        return f"{place}: {severity}: {self.rule.label}: {self.message}"


def foreign_findings(document: Document) -> Iterator[ForeignFinding]:
    """Every value of ``document`` that holds another tool's syntax, in document order."""
    for rule in document.rules:
        yield from _rule_findings(rule, document.source)


def _rule_findings(rule: Rule, source: str | None) -> Iterator[ForeignFinding]:
    values: list[tuple[str, str, bool]] = []
    if rule.path is not None:
        values.append(("from", rule.path.source, False))
    values += [("except", excepted.source, False) for excepted in rule.excepts]
    action = rule.action
    match action:
        case ToAction() | LanguageAction():
            values.append(("to", action.target.source, True))
        case Maintenance():
            if action.target is not None:
                values.append(("maintenance", action.target.source, True))
        case MapAction():
            pass  # its rows, with their own lines, below
        case HttpsAction() | SlashAction() | GoneAction():
            pass  # no target written
        case _:
            assert_never(action)
    for key, value, target in values:
        for foreign in foreign_syntax(value, target):
            yield ForeignFinding(foreign, key, source, rule.line_of(key), rule)
    if isinstance(action, MapAction):
        for row, row_target in map_targets(action.entries):
            for value, is_target in ((row, False), (row_target, True)):
                for foreign in foreign_syntax(value, is_target):
                    entry = action.entries[row]
                    line = entry.line if entry.line is not None else rule.line_of("map")
                    yield ForeignFinding(foreign, "map", action.source or source, line, rule, row)
