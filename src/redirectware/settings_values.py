"""Reading framework settings that say yes or no, strictly.

A setting often comes from the environment as a string: Flask's
``app.config.from_prefixed_env()`` turns ``FLASK_REDIRECTWARE_RELOAD=true`` into ``True`` (it
parses JSON) but leaves ``False`` or ``yes`` as strings, and ``bool("False")`` is ``True``. So
a boolean setting is read here, by one rule for Flask and Django alike: ``True``/``False``,
``1``/``0``, or a string ``true/false/1/0/yes/no`` in any case (surrounding blanks ignored).
Anything else is an error naming the setting and the value, never a guess.
"""

from __future__ import annotations

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
