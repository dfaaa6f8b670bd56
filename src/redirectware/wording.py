"""How counts are written in messages: the plural right, and disabled rules said aloud."""

from __future__ import annotations

from .model import Document


def plural(count: int, word: str) -> str:
    """``1 rule``, ``2 rules``, ``0 rules``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def rule_count(document: Document) -> str:
    """Every rule the file holds, disabled ones included and counted apart.

    A user counts the rules in the file; a count that silently left out the
    ``enabled: false`` ones read as if a rule had been lost.
    """
    written = len(document.rules) + document.disabled
    text = plural(written, "rule")
    if document.disabled:
        text += f" ({document.disabled} disabled)"
    return text
