"""Reading a rule document from YAML, JSON or a dict, keeping YAML line numbers.

Every mapping read from YAML is a :class:`LineDict`: a plain ``dict`` that also knows the line
it starts on and the line of each of its keys, so that errors can say ``redirects.yaml:14``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from redirectware.errors import RuleError

# libyaml's C parser is many times faster on big documents; fall back when it is not built.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict[str, Any]):
    """A mapping from a YAML document, with the line of itself and of each key (1-based)."""

    line: int | None = None
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        """The line ``key`` stands on, else the mapping's own line."""
        lines: dict[str, int] = getattr(self, "key_lines", {})
        return lines.get(key, self.line)


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader that records where each mapping and key stands."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise RuleError(
                "a mapping key must be a plain value", line=key_node.start_mark.line + 1
            )
        text_key = key if isinstance(key, str) else str(key)
        if text_key in mapping:
            raise RuleError(
                f"duplicate key {text_key!r}", line=key_node.start_mark.line + 1, key=text_key
            )
        mapping[text_key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[text_key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str | None = None) -> Any:
    """Parse YAML text into plain values with :class:`LineDict` mappings."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except RuleError as error:
        raise RuleError(error.message, source=source, line=error.line, key=error.key) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "invalid YAML"
        tabby = "cannot start any token" in problem or "tab" in problem
        tab = _tab_line(text, line) if tabby else None
        if tab is not None:
            # PyYAML's own words ("found character '\t' that cannot start any token") do
            # not tell a user that a tab is the whole problem.
            raise RuleError(
                "a tab in the indentation: YAML indents with spaces only; "
                "replace the tab with spaces",
                source=source,
                line=tab,
            ) from None
        quoted = error.context or ""
        if "quoted scalar" in quoted and error.context_mark is not None:
            # PyYAML names where it gave up looking for the closing quote, often the end of
            # the file; the quote to close is where the scalar started.
            opened = error.context_mark.line + 1
            column = error.context_mark.column
            quote = text.splitlines()[opened - 1][column : column + 1]
            raise RuleError(
                f"not valid YAML: the quote {quote or chr(34)} opened on line {opened} is never "
                f"closed ({problem} at line {line}): close it, or remove it",
                source=source,
                line=opened,
            ) from None
        raise RuleError(f"not valid YAML: {problem}", source=source, line=line) from None
    except yaml.YAMLError as error:
        raise RuleError(f"not valid YAML: {error}", source=source) from None


def _tab_line(text: str, near: int | None) -> int | None:
    """The line whose indentation holds a tab, when that is what PyYAML tripped over.

    PyYAML reports a tab at the line it stopped on, which is the tab's own line or, when
    the tab indents a block it was still reading, the line after; the first indenting tab
    at or before that line is the one to name.
    """
    if near is None:
        return None
    lines = text.splitlines()
    for number in range(min(near, len(lines)), 0, -1):
        line = lines[number - 1]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            return number
    return None


def first_undecodable_line(path: Path) -> tuple[int, str] | None:
    """The first line of ``path`` that is not UTF-8, and the bytes that are not, in hex.

    A decoder working in blocks does not know the line; reading the bytes again does.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return None
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return number, raw[error.start : error.end].hex(" ")
    return None


def not_utf8_message(path: Path) -> tuple[str, int | None]:
    """What to tell a user whose file is not UTF-8 (the usual culprit: Latin-1 / cp1252)."""
    bad = first_undecodable_line(path)
    if bad is None:
        return "not UTF-8 text: save the file as UTF-8", None
    line, hexed = bad
    return (
        f"not UTF-8 text (byte {hexed}; the file looks like Latin-1 or "
        "Windows-1252): save it as UTF-8",
        line,
    )


def read_file(path: str | os.PathLike[str]) -> Any:
    """Read a ``.yaml``/``.yml``/``.json`` file into plain values."""
    file = Path(path)
    source = str(path)
    suffix = file.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise RuleError(
            f"unknown file type {suffix or '(none)'!r}: name the file .yaml, .yml or .json",
            source=source,
        )
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        where = "" if file.is_absolute() else f" (a relative path is read from {Path.cwd()})"
        raise RuleError(f"no such file{where}", source=source) from None
    except UnicodeDecodeError:
        message, line = not_utf8_message(file)
        raise RuleError(message, source=source, line=line) from None
    except OSError as error:
        raise RuleError(f"cannot read the file: {error}", source=source) from None
    if not text.strip() or _only_comments(text, suffix):
        raise RuleError(
            "the file is empty: a rule document needs at least 'version: 1' and a 'rules:' list",
            source=source,
        )
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise RuleError(
                f"not valid JSON: {error.msg}", source=source, line=error.lineno
            ) from None
    return parse_yaml(text, source)


def _only_comments(text: str, suffix: str) -> bool:
    # A YAML file of nothing but comments parses to None, as an empty one does.
    if suffix == ".json":
        return False
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def substitute_environment(value: str, environ: dict[str, str] | None = None) -> str:
    """Replace ``${VAR}`` and ``${VAR:-default}``; ``KeyError`` names an unset variable."""
    if "${" not in value:
        return value
    env = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = env.get(name)
        if found is None or (found == "" and default is not None):
            if default is None:
                raise KeyError(name)
            return default
        return found

    return _VARIABLE.sub(replace, value)
