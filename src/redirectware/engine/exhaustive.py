"""``assert_never`` for Python 3.10, where :mod:`typing` does not have it yet.

Every chain that decides by rule kind (``match rule.action: case ToAction(): ...``) ends in
``case _: assert_never(action)``: mypy then names each chain a new kind has not reached yet,
and at run time a kind that slipped through raises instead of being silently skipped.
"""

from __future__ import annotations

from typing import NoReturn


def assert_never(value: NoReturn) -> NoReturn:
    """Fail for a value that the type checker proved cannot reach this line."""
    raise AssertionError(f"unhandled rule kind or option: {type(value).__name__}: {value!r}")
