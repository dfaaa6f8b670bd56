"""Recognising path syntax copied from other tools: Netlify, Express, Vercel, nginx, Apache.

``/blog/*``, ``/users/:id``, ``^/old/(.*)$``, ``/new/$1`` and ``/new [R=301]`` mean something to
the tool they come from; to redirectware they are literal text, so the rule never matches as
its author meant, silently. :func:`foreign_syntax` names what it recognises and the
redirectware spelling of it. A load error for a value that holds such syntax says so too
(``from: ^/old/(.*)$`` does not even start with ``/``); ``redirectware check`` reports the
rest, as errors where the text cannot be meant literally and as warnings where it could.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Characters without which none of the patterns below can match: most values skip them all.
_MAYBE = re.compile(r"[*:$()\[^]").search

_APACHE_FLAGS = re.compile(r"\s*\[(?:R|L|NC|QSA|NE|END)(?:=\d+)?(?:,[A-Z]+(?:=\d+)?)*\]\s*\Z")
_REDIRECT_FLAG = re.compile(r"\bR=(\d{3})")
_BACKREF = re.compile(r"\$\d")
_GROUP = re.compile(r"\((?:[^()]*[*+?|][^()]*)\)")
_SPLAT = re.compile(r":splat\b")
_PARAM = re.compile(r"/:([A-Za-z_][A-Za-z0-9_]*)")
_STAR = re.compile(r"\*")


@dataclass(frozen=True)
class Foreign:
    """One piece of another tool's syntax found in a value."""

    #: The text recognised, as written (``(.*)``, ``:id``, ``[R=301]``).
    found: str
    #: Whose syntax it is.
    origin: str
    #: What to write in redirectware instead.
    instead: str
    #: True when the text cannot be meant literally (a check error), False when it could.
    certain: bool

    @property
    def message(self) -> str:
        """``'(.*)' is a regular expression group (nginx, Apache) ...: write ...``."""
        text = (
            f"{self.found!r} looks like {self.origin}, which redirectware reads as literal "
            f"text, so this never works as meant: write {self.instead}"
        )
        return text if self.certain else text + " (if it is meant literally, ignore this)"


def foreign_syntax(value: str, target: bool = False) -> list[Foreign]:
    """What in ``value`` (a ``from``/``except`` template, or a ``to`` when ``target``) looks
    copied from another tool, in the order of the value."""
    if not _MAYBE(value):
        return []
    found: list[tuple[int, Foreign]] = []
    flags = _APACHE_FLAGS.search(value)
    if flags is not None:
        code_flag = _REDIRECT_FLAG.search(flags.group())
        code = code_flag.group(1) if code_flag else None
        status = f"status: {code}" if code else "status: 302 ([R] alone is a 302)"
        found.append(
            (
                flags.start(),
                Foreign(
                    flags.group().strip(),
                    "an Apache mod_rewrite flag",
                    f"{status} as a key of the rule",
                    True,
                ),
            )
        )
        value = value[: flags.start()]
    regex = value.startswith("^") or (value.endswith("$") and not target)
    if regex:
        anchor = "^" if value.startswith("^") else "$"
        found.append(
            (
                0 if anchor == "^" else len(value) - 1,
                Foreign(anchor, "a regular-expression anchor of nginx or Apache", _TEMPLATE, True),
            )
        )
    for match in _GROUP.finditer(value):
        found.append(
            (
                match.start(),
                Foreign(
                    match.group(), "a regular-expression group of nginx or Apache", _GROUPS, True
                ),
            )
        )
    for match in _BACKREF.finditer(value):
        found.append(
            (
                match.start(),
                Foreign(
                    match.group(),
                    "a regular-expression back-reference of nginx or Apache",
                    _NAMED,
                    True,
                ),
            )
        )
    for match in _SPLAT.finditer(value):
        found.append(
            (
                match.start(),
                Foreign(
                    match.group(), "Netlify's splat", "{rest:path} in from and {rest} in to", True
                ),
            )
        )
    for match in _PARAM.finditer(value):
        if match.group(1) == "splat":
            continue
        name = match.group(1)
        found.append(
            (
                match.start() + 1,
                Foreign(
                    f":{name}",
                    "a named parameter of Express, Netlify or Vercel",
                    f"{{{name}}}",
                    False,
                ),
            )
        )
    if not regex and not any(f.found.startswith("(") for _, f in found):
        for match in _STAR.finditer(value):
            instead = (
                "{rest} (after from: ...{rest:path})"
                if target
                else "{rest:path} (and {rest} in to)"
            )
            found.append(
                (
                    match.start(),
                    Foreign("*", "a wildcard of Netlify, Express, Vercel or Caddy", instead, False),
                )
            )
    found.sort(key=lambda pair: pair[0])
    return [foreign for _, foreign in found]


_TEMPLATE = (
    "a path template: literal text, {name} for one segment, {rest:path} for the rest; or "
    "from_regex: with named groups (?P<name>...) for a regular expression"
)
_GROUPS = (
    "{rest:path} for (.*), {name} for ([^/]+), or {name:int} for digits; or from_regex: "
    "with named groups (?P<name>...)"
)
_NAMED = "{name}, a placeholder that from names"


def hint(value: object, target: bool = False) -> str:
    """A sentence to add to a load error about ``value`` when it holds foreign syntax."""
    if not isinstance(value, str):
        return ""
    found = foreign_syntax(value, target)
    return f" ({found[0].message})" if found else ""
