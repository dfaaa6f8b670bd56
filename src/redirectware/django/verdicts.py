"""What the engine says of a change to the redirect table: :class:`Verdict`, made of :class:`Said`.

A module of its own: :mod:`.models` shows them (``Redirect.warnings``) and :mod:`.validation`
makes them, which reads the table through :mod:`.models`; neither may import the other both
ways.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from redirectware.ruleset import RuleSet


@dataclass(frozen=True)
class Said:
    """One refusal or warning: for the editor, for the log, and the field it is about."""

    #: Plain words: which row, what is wrong, what to do.
    editor: str
    #: ``redirectware check``'s words, with file, line and rule: for the log.
    technical: str
    #: The :class:`~.models.Redirect` field it is about, None for the row as a whole.
    field: str | None = None


@dataclass
class Verdict:
    """What the engine says of a change: an error that refuses it, or warnings, or neither."""

    error: Said | None = None
    warnings: list[Said] = field(default_factory=list)
    #: The rules as they would be after the change, when it is valid.
    ruleset: RuleSet | None = None

    @property
    def ok(self) -> bool:
        """True when nothing refuses the change (warnings may still need accepting)."""
        return self.error is None
