"""Reading framework settings that say yes or no, strictly.

A setting often comes from the environment as a string: Flask's
``app.config.from_prefixed_env()`` turns ``FLASK_REDIRECTWARE_RELOAD=true`` into ``True`` (it
parses JSON) but leaves ``False`` or ``yes`` as strings, and ``bool("False")`` is ``True``. So
a boolean setting is read here, by one rule for Flask and Django alike: ``True``/``False``,
``1``/``0``, or a string ``true/false/1/0/yes/no`` in any case (surrounding blanks ignored).
Anything else is an error naming the setting and the value, never a guess.
"""

from __future__ import annotations

import contextlib
import math
from typing import Final

_WORDS: Final = {
    "true": True,
    "1": True,
    "yes": True,
    "false": False,
    "0": False,
    "no": False,
}


class SettingValueError(ValueError):
    """A setting holds a value redirectware cannot read as what it must be."""


def parse_bool(key: str, value: object) -> bool:
    """``value`` of the setting ``key`` as a boolean; :class:`SettingValueError` if it is none.

    >>> parse_bool("REDIRECTWARE_RELOAD", "False")
    False
    """
    if isinstance(value, bool):
        return value
    # 1 and 0 as numbers: what from_prefixed_env makes of FLASK_..._RELOAD=1.
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        found = _WORDS.get(value.strip().lower())
        if found is not None:
            return found
    raise SettingValueError(
        f"{key} must be true or false (one of true/false/1/0/yes/no, any case), not {value!r}"
    )


def parse_seconds(key: str, value: object) -> float:
    """``value`` of the setting ``key`` as a number of seconds above 0 (a string of digits,
    as ``os.environ`` gives it, is read as its number); :class:`SettingValueError` else."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < math.inf:
        return float(value)
    raise SettingValueError(f"{key} must be a number of seconds above 0, got {value!r}")


def parse_count(key: str, value: object) -> int:
    """``value`` of the setting ``key`` as a whole number, 0 or more (a string of digits is
    read as its number); :class:`SettingValueError` else."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SettingValueError(f"{key} must be a whole number, 0 or more, got {value!r}")
    return value


def parse_stats(key: str, value: object) -> str | bool:
    """``value`` of the setting ``key`` saying where hit counts go: false for nowhere, true
    for the database Django's router picks, or a database alias (a name of
    ``settings.DATABASES``). A boolean is read as :func:`parse_bool` reads it."""
    try:
        return parse_bool(key, value)
    except SettingValueError:
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise SettingValueError(
            f"{key} must be true, false or a database alias such as 'default', not {value!r}"
        ) from None
