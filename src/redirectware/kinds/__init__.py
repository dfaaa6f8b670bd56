"""The registry of rule kinds and matching options: one module each, one table here.

A rule kind is an action (a rule has exactly one): ``to``, ``https``, ``trailing_slash``,
``maintenance``, ``map``, ``gone``, ``language``. A matching option changes how a rule
matches or answers:
``host``, ``from_regex``, ``case_sensitive``, ``trailing_slash_match``, ``when``, ``sunset``.
Each module holds its kind's parser, its reference, a worked example with ``tests:``, and
what every surface does with it (:mod:`.base`). The loader takes its parsers from
:data:`PARSERS`; the reference in the docs and ``tests/test_matrix.py`` are generated from
:data:`ENTRIES`, so neither can leave a kind out.
"""

from __future__ import annotations

from redirectware.kinds import (
    case_sensitive,
    from_regex,
    gone,
    host,
    https,
    language,
    maintenance,
    sunset,
    to,
    trailing_slash,
    trailing_slash_match,
    when,
)
from redirectware.kinds import map as map_rows
from redirectware.kinds.base import (
    Imported,
    Key,
    Kind,
    Parser,
    Refuses,
    RuleContext,
    Support,
    Surface,
    Unsayable,
    Works,
)

#: The actions, in the order of the reference.
ACTIONS: tuple[Kind, ...] = (
    to.KIND,
    https.KIND,
    trailing_slash.KIND,
    maintenance.KIND,
    map_rows.KIND,
    gone.KIND,
    language.KIND,
)
#: The matching options, in the order of the reference.
OPTIONS: tuple[Kind, ...] = (
    host.KIND,
    from_regex.KIND,
    case_sensitive.KIND,
    trailing_slash_match.KIND,
    when.KIND,
    sunset.KIND,
)
#: Every row of the kinds x surfaces matrix.
ENTRIES: tuple[Kind, ...] = ACTIONS + OPTIONS
#: Each action key and its parser.
PARSERS: dict[str, Parser] = {kind.key: kind.parse for kind in ACTIONS if kind.parse is not None}
#: The keys that name an action: a rule has exactly one.
ACTION_KEYS = tuple(PARSERS)
BY_KEY: dict[str, Kind] = {kind.key: kind for kind in ENTRIES}


def kind_of(action: object) -> Kind:
    """The registry entry of a compiled action (a :class:`~redirectware.engine.model.ToAction`
    gives the ``to`` kind)."""
    for kind in ACTIONS:
        if kind.action is not None and isinstance(action, kind.action):
            return kind
    raise LookupError(f"no rule kind is registered for {type(action).__name__}")


__all__ = [
    "ACTIONS",
    "ACTION_KEYS",
    "BY_KEY",
    "ENTRIES",
    "OPTIONS",
    "PARSERS",
    "Imported",
    "Key",
    "Kind",
    "Parser",
    "Refuses",
    "RuleContext",
    "Support",
    "Surface",
    "Unsayable",
    "Works",
    "kind_of",
]
