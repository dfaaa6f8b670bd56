"""What an importer produces: :class:`ImportResult`, shared by every format.

An importer translates behaviour, not words: each :class:`Imported` entry holds the rules
that answer as the source tool did, and ``tests:`` entries that pin the source tool's
documented answer for it. What it cannot translate faithfully is a :class:`Loss` naming the
source file, line and why, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Loss:
    """A source line that was not translated, and why."""

    source: str
    line: int
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: not translated: {self.why}: {self.text.strip()}"

    def as_json(self) -> dict[str, Any]:
        """The loss as the ``--report`` file holds it."""
        return {"file": self.source, "line": self.line, "source": self.text.strip(),
                "why": self.why}  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One exact move (no placeholder, no condition): a candidate for a CSV ``map``."""

    from_path: str
    to: str
    status: int


@dataclass
class Imported:
    """One source rule, translated: its rules, its tests, and its rows when exact."""

    source: str
    line: int
    text: str
    rules: list[dict[str, Any]]
    tests: list[dict[str, Any]]
    rows: list[Row] | None = None
    #: Rule-level keys a map of these rows needs (``host``, ``keep_query``): only items
    #: with equal options join one map.
    map_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportResult:
    """Everything one source gave: translated entries in source order, and what was not."""

    fmt: str
    source: str
    items: list[Imported] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    #: What a reader should know that changes no answer (a rule never reached, ...).
    notes: list[str] = field(default_factory=list)

    def lose(self, line: int, text: str, why: str) -> None:
        """Record ``text`` (at ``line``) as not translated."""
        self.losses.append(Loss(self.source, line, text, why))


def test_entry(
    method: str, url: str, status: int | None, location: str | None, not_found: bool = False
) -> dict[str, Any]:
    """A ``tests:`` entry: the request and what the source tool answers (``status`` None: the
    request passes; ``location`` None: an answer without one, such as ``gone``'s 410).
    ``not_found``: the app answers the request 404 (for a ``when: not_found`` rule)."""
    entry: dict[str, Any] = {"request": f"{method} {url}"}
    if not_found:
        entry["app"] = "not_found"
    if status is None:
        entry["expect"] = "pass"
    elif location is None:
        entry["expect"] = {"status": status}
    else:
        entry["expect"] = {"status": status, "location": location}
    return entry


#: What stands in for each kind of placeholder in a sample request.
SAMPLES = {"str": "sample", "int": "1", "path": "a/b"}


def fill(template: str, fixed: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """A path ``template`` matches, and the value each placeholder took."""
    import re

    values: dict[str, str] = {}

    def one(match: re.Match[str]) -> str:
        name, _, converter = match.group(1).partition(":")
        values[name] = (fixed or {}).get(name, SAMPLES[converter or "str"])
        return values[name]

    path = re.sub(r"\{([^{}]+)\}", one, template)
    return path, {**(fixed or {}), **values}


def absolute(location: str, scheme: str, host: str) -> str:
    """A Location as the client reads it: a path made absolute on the request's origin, and
    an empty path written ``/`` (the same URL for http and https, RFC 3986 section 6.2.3)."""
    if "://" not in location:
        return f"{scheme}://{host}{location}"
    origin, _, rest = location.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    tail = rest[len(authority) :]
    return f"{origin}://{authority}{tail if tail.startswith('/') else '/' + tail}"


#: Placeholder names every redirectware target reads as the request's own (``{path}`` is
#: the whole request path): a source's capture of that name is renamed ``NAME_``.
BUILTIN = frozenset({"path", "host", "scheme"})


def capture_name(name: str) -> str:
    """A source's capture name as a redirectware placeholder (``path`` -> ``path_``)."""
    return name + "_" if name in BUILTIN else name
