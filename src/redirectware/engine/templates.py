"""Path, host and target templates: ``/api/v1/{rest:path}``, ``{sub}.example.com``, ``/v2/{rest}``.

A template is compiled once, at load time, into a regular expression (for matching) or a list
of literal and placeholder parts (for rendering a target). Errors are plain ``ValueError`` with
a message; the loader turns them into :class:`~redirectware.RuleError` with the location.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from .urls import canonical_literal, canonical_offsets, encode_target

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# What each converter matches in the canonical path. A segment never holds a raw "/", so an
# encoded slash (%2F) stays inside one segment.
_CONVERTERS = {
    "str": r"[^/]+",
    "int": r"[0-9]+",
    "path": r".*",
}

#: Placeholders every target may use besides the captured names.
BUILTIN_NAMES = frozenset({"scheme", "host", "path"})


def _split(template: str) -> list[tuple[str, str | None, str | None]]:
    """Split into (literal, name, converter) triples; the last has name None."""
    parts: list[tuple[str, str | None, str | None]] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(template):
        literal = template[pos : match.start()]
        if "{" in literal or "}" in literal:
            raise ValueError(f"unbalanced brace in {template!r}")
        name, _, converter = match.group(1).partition(":")
        if not _NAME.match(name):
            raise ValueError(f"bad placeholder {{{match.group(1)}}} in {template!r}")
        parts.append((literal, name, converter or None))
        pos = match.end()
    tail = template[pos:]
    if "{" in tail or "}" in tail:
        raise ValueError(f"unbalanced brace in {template!r}")
    parts.append((tail, None, None))
    return parts


@dataclass(frozen=True)
class PathTemplate:
    """A compiled ``from``/``except`` template, matched against canonical paths."""

    source: str
    #: The regular expression's text; see :attr:`regex`.
    pattern: str
    names: tuple[str, ...]
    #: The canonical path when the template has no placeholder (an exact match), else None.
    literal: str | None

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """The compiled pattern, built when first needed.

        Compiling costs far more than the rest of loading a rule (some 100 µs), and a
        document of 100,000 legacy templates would take seconds to start; the rule index
        means only templates that a request could match are ever compiled.
        """
        return re.compile(self.pattern)

    def match(self, path: str) -> dict[str, str] | None:
        """The captured values when ``path`` (canonical) matches, else None."""
        if self.literal is not None:
            return {} if path == self.literal else None
        found = self.regex.match(path)
        return None if found is None else found.groupdict()

    def match_kept(self, path: str, safe: str) -> dict[str, str] | None:
        """Like :meth:`match`, with each captured value taken from ``safe``, the request's
        own bytes, rather than from its canonical form ``path``: ``/old/{rest:path}`` matches
        ``/old/a%2fb`` and captures ``a%2fb``, as sent."""
        if self.literal is not None:
            return {} if path == self.literal else None
        found = self.regex.match(path)
        if found is None:
            return None
        offsets = canonical_offsets(safe)
        return {
            name: safe[offsets[found.start(name)] : offsets[found.end(name)]] for name in self.names
        }


def compile_path(template: str) -> PathTemplate:
    """Compile a path template; ``ValueError`` says what is wrong with it."""
    if not isinstance(template, str) or not template.startswith("/"):
        raise ValueError(f"a path template must start with '/', got {template!r}")
    pattern: list[str] = []
    names: list[str] = []
    for literal, name, converter in _split(template):
        pattern.append(re.escape(canonical_literal(literal)))
        if name is None:
            continue
        if name in names:
            raise ValueError(f"placeholder {{{name}}} appears twice in {template!r}")
        if (converter or "str") not in _CONVERTERS:
            raise ValueError(
                f"unknown converter {converter!r} in {template!r} (use str, int or path)"
            )
        names.append(name)
        pattern.append(f"(?P<{name}>{_CONVERTERS[converter or 'str']})")
    literal_path = canonical_literal(template) if not names else None
    return PathTemplate(
        source=template,
        pattern="".join(pattern) + r"\Z",
        names=tuple(names),
        literal=literal_path,
    )


@dataclass(frozen=True)
class HostTemplate:
    """A compiled ``host`` condition: exact, ``*.example.com``, or ``{sub}.example.com``."""

    source: str
    exact: str | None
    regex: re.Pattern[str] | None
    names: tuple[str, ...]

    def match(self, host: str) -> dict[str, str] | None:
        """Captured values when ``host`` (lower-case, no port) matches, else None."""
        if self.exact is not None:
            return {} if host == self.exact else None
        assert self.regex is not None  # one of the two is always set
        found = self.regex.match(host)
        return None if found is None else found.groupdict()


_HOST_LITERAL = re.compile(r"[a-z0-9\-._]*\Z")


def compile_host(template: str) -> HostTemplate:
    """Compile a host condition; ``ValueError`` says what is wrong with it."""
    text = template.strip().lower().rstrip(".")
    if not text:
        raise ValueError("empty host")
    if text.startswith("*."):
        rest = text[2:]
        if not rest or "*" in rest or "{" in rest or not _HOST_LITERAL.match(rest):
            raise ValueError(f"bad host pattern {template!r}")
        return HostTemplate(template, None, re.compile(r"[^/]+\." + re.escape(rest) + r"\Z"), ())
    if "*" in text:
        raise ValueError(f"'*' may only stand first, as in '*.example.com': {template!r}")
    pattern: list[str] = []
    names: list[str] = []
    for literal, name, converter in _split(text):
        if not _HOST_LITERAL.match(literal):
            raise ValueError(f"bad host {template!r}")
        pattern.append(re.escape(literal))
        if name is None:
            continue
        if converter is not None:
            raise ValueError(f"host placeholders take no converter: {template!r}")
        if name in names:
            raise ValueError(f"placeholder {{{name}}} appears twice in {template!r}")
        names.append(name)
        pattern.append(f"(?P<{name}>[a-z0-9_-]+)")
    if not names:
        return HostTemplate(template, text, None, ())
    return HostTemplate(template, None, re.compile("".join(pattern) + r"\Z"), tuple(names))


@dataclass(frozen=True)
class Target:
    """A compiled ``to``: literal parts (already URI-safe) and placeholder names."""

    source: str
    parts: tuple[tuple[str, str | None], ...]
    absolute: bool
    #: Placeholders that stand in the ``scheme://host`` part of an absolute target.
    authority_names: frozenset[str]

    @cached_property
    def names(self) -> frozenset[str]:
        """Every placeholder the target uses (worked out once: each redirect asks)."""
        return frozenset(name for _, name in self.parts if name is not None)

    def render(self, values: Mapping[str, str]) -> str:
        """Fill the placeholders; values are already URI-safe."""
        out: list[str] = []
        for literal, name in self.parts:
            out.append(literal)
            if name is not None:
                out.append(values[name])
        return "".join(out)


_ABSOLUTE = re.compile(r"(https?|\{scheme\})://", re.IGNORECASE)


def compile_target(template: str) -> Target:
    """Compile a ``to``: a path (``/x/{y}``) or an absolute http(s) URL."""
    if not isinstance(template, str) or not template:
        raise ValueError("must be a non-empty string")
    absolute = bool(_ABSOLUTE.match(template))
    if not absolute:
        if not template.startswith("/") or template.startswith("//"):
            raise ValueError(
                f"must be a path starting with a single '/' or an http(s) URL, got {template!r}"
            )
        if "\\" in template:
            raise ValueError(f"a backslash has no place in a target: {template!r}")
    for bad in ("\r", "\n", "\0"):
        if bad in template:
            raise ValueError(f"control character in target {template!r}")
    parts = []
    authority_names: set[str] = set()
    in_authority = absolute
    for literal, name, converter in _split(template):
        if converter is not None:
            raise ValueError(f"a target placeholder takes no converter: {{{name}:{converter}}}")
        if in_authority and (
            name == "path" or any(c in literal.split("://", 1)[-1] for c in "/?#")
        ):
            # {path} always starts with "/": it begins the path, not the host.
            in_authority = False
        parts.append((encode_target(literal), name))
        if in_authority and name is not None:
            authority_names.add(name)
    return Target(template, tuple(parts), absolute, frozenset(authority_names))
