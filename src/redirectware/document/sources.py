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
        raise RuleError(f"not valid YAML: {problem}", source=source, line=line) from None
    except yaml.YAMLError as error:
        raise RuleError(f"not valid YAML: {error}", source=source) from None


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
        raise RuleError("no such file", source=source) from None
    except (OSError, UnicodeDecodeError) as error:
        raise RuleError(f"cannot read the file: {error}", source=source) from None
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise RuleError(
                f"not valid JSON: {error.msg}", source=source, line=error.lineno
            ) from None
    return parse_yaml(text, source)


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
