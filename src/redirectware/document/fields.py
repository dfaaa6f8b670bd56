"""Reading the values of a rule document: each checked, each error naming where it stands.

:class:`Where` is a place in the document (file, rule, key, line); the ``as_*`` functions
read one value of one kind or raise :class:`~redirectware.RuleError` through it. Every
layer of loading (settings, rules, the rule kinds, map rows) reads its values with these.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from typing import Any, NoReturn

from redirectware.document.foreign import hint
from redirectware.document.sources import LineDict, substitute_environment
from redirectware.engine.templates import PathTemplate, Target, compile_path, compile_target
from redirectware.errors import RuleError

TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0", ""})


class Where:
    """Where in the document we are (file, rule, key prefix, the node's lines), to make
    errors that say so."""

    def __init__(
        self,
        source: str | None,
        node: Any = None,
        index: int | None = None,
        name: str | None = None,
        prefix: str = "",
    ) -> None:
        self.source = source
        self.node = node
        self.index = index
        self.name = name
        self.prefix = prefix

    def line(self, key: str | None = None) -> int | None:
        """The line of ``key`` in the node, else the node's own line (None outside YAML)."""
        if isinstance(self.node, LineDict):
            return self.node.line_of(key) if key is not None else self.node.line
        return None

    def fail(self, key: str | None, message: str) -> NoReturn:
        """Raise the error for ``key``."""
        raise self.error(key, message)

    def error(self, key: str | None, message: str, line: int | None = None) -> RuleError:
        """The error for ``key``; ``line`` when a part of its value has a line of its own."""
        full_key = f"{self.prefix}{key}" if key is not None else (self.prefix.rstrip(".") or None)
        return RuleError(
            message,
            source=self.source,
            line=self.line(key) if line is None else line,
            rule_index=self.index,
            rule_name=self.name,
            key=full_key,
        )

    def inner(self, node: Any, key: str) -> Where:
        """The same place, one mapping deeper (``maintenance.to``)."""
        nested = Where(self.source, node, self.index, self.name, f"{self.prefix}{key}.")
        if not isinstance(node, LineDict):
            nested.node = self.node
            nested.prefix = self.prefix
        return nested


def expand_env(value: Any, where: Where, key: str, line: int | None = None) -> Any:
    """Apply ``${VAR:-default}`` to every string inside ``value``.

    An unset variable is reported at the key that holds it (``to``, ``maintenance.enabled``)
    and that key's line, since that is where the user wrote it.
    """
    if isinstance(value, str):
        try:
            return substitute_environment(value)
        except KeyError as missing:
            raise where.error(
                key,
                f"environment variable {missing.args[0]} is not set and has no default "
                f"(write ${{{missing.args[0]}:-value}} to give one)",
                line,
            ) from None
    if isinstance(value, LineDict):
        out = LineDict(
            {k: expand_env(v, where, _subkey(key, k), value.line_of(k)) for k, v in value.items()}
        )
        out.line, out.key_lines = value.line, value.key_lines
        return out
    if isinstance(value, dict):
        return {k: expand_env(v, where, _subkey(key, k), line) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, where, key, line) for v in value]
    return value


def _subkey(key: str, name: object) -> str:
    # The rule itself is the root: its keys are named bare (to), deeper ones dotted.
    return str(name) if not key else f"{key}.{name}"


def as_bool(value: Any, where: Where, key: str) -> bool:
    """A boolean: ``true``/``false`` or one of the words YAML and environments use."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    where.fail(key, f"must be true or false, got {value!r}")


def as_int(value: Any, where: Where, key: str, minimum: int = 0) -> int:
    """A whole number of at least ``minimum`` (a digit string counts)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        where.fail(key, f"must be a whole number of at least {minimum}, got {value!r}")
    return value


def as_str_list(value: Any, where: Where, key: str) -> list[str]:
    """A list of strings (one string counts as a list of one)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        where.fail(key, f"must be a list of strings, got {value!r}")
    return value


def as_mapping(value: Any, where: Where, key: str) -> Mapping[str, Any]:
    """A mapping, as written."""
    if not isinstance(value, dict):
        where.fail(key, f"must be a mapping, got {value!r}")
    return value


def check_keys(node: Mapping[str, Any], allowed: frozenset[str], where: Where) -> None:
    """Fail on the first key not in ``allowed``, suggesting the closest allowed one."""
    for key in node:
        if key not in allowed:
            hint = _closest(key, allowed)
            where.fail(
                key,
                "unknown key"
                + (f" (did you mean {hint!r}?)" if hint else "")
                + f"; allowed: {', '.join(sorted(allowed))}",
            )


def _closest(word: str, choices: frozenset[str]) -> str | None:
    found = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def as_moment(value: Any, where: Where, key: str) -> dt.datetime:
    """An ISO 8601 date or date-time (naive values are UTC)."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            where.fail(key, f"must be an ISO 8601 date or date-time, got {value!r}")
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    where.fail(key, f"must be an ISO 8601 date or date-time, got {value!r}")


def as_pairs(value: Any, where: Where, key: str) -> tuple[tuple[str, str | None], ...]:
    """``{name: value | "*"}`` -> ((name, value or None for present), ...)."""
    node = as_mapping(value, where, key)
    pairs: list[tuple[str, str | None]] = []
    for name, wanted in node.items():
        if isinstance(wanted, bool):
            wanted = "true" if wanted else "false"
        if isinstance(wanted, int | float):
            wanted = str(wanted)
        if not isinstance(wanted, str):
            where.fail(key, f"{name}: must be a string, or '*' for present; got {wanted!r}")
        pairs.append((str(name), None if wanted == "*" else wanted))
    return tuple(pairs)


def as_path(value: Any, where: Where, key: str) -> PathTemplate:
    """A compiled path template."""
    if not isinstance(value, str):
        where.fail(key, f"must be a path template string, got {value!r}")
    try:
        return compile_path(value)
    except ValueError as error:
        where.fail(key, str(error) + hint(value))


def as_target(value: Any, where: Where, key: str) -> Target:
    """A compiled ``to`` target."""
    try:
        return compile_target(value)
    except ValueError as error:
        where.fail(key, str(error) + hint(value, target=True))
