"""Regular expressions of nginx and Apache rules, as redirectware path templates.

Only regexes a template says exactly are translated: ``^``, literal text (``\\.`` for a dot),
``(.*)`` (any rest, ``{pN:path}``), ``([^/]+)`` (one segment, ``{pN}``), ``(\\d+)`` or
``([0-9]+)`` (digits, ``{pN:int}``), and ``$`` or nothing at the end (then the rule matches
any continuation, as the regex did). Anything else (``(.+)``, which refuses the empty string a
template accepts; an unescaped ``.``, which matches any character; alternation, classes,
``(?i)``) raises :class:`ValueError` saying why: :func:`regex_path` then writes the regex as
a ``from_regex`` (RE2), when RE2 can run it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from redirectware.engine.regex import compile_regex

from .result import capture_name

_GROUPS = {
    "(.*)": "path",
    "([^/]+)": "str",
    "(\\d+)": "int",
    "([0-9]+)": "int",
}
_LITERAL = re.compile(r"[A-Za-z0-9/_~%=,;:@!&'-]")
_ESCAPED = re.compile(r"\\([./\-_~?+*()\[\]$^|{}])")


def regex_template(regex: str, leading_slash: bool = True) -> tuple[str, list[str]]:
    """``^/old/(.*)$`` -> ``("/old/{p1:path}", ["p1"])``; ValueError when it cannot be exact.

    ``leading_slash=False`` for Apache's per-directory patterns (``^old$`` in ``.htaccess``
    matches ``/old``).
    """
    if not regex.startswith("^"):
        raise ValueError("a regex not anchored with '^' matches anywhere in the path")
    body = regex[1:]
    anchored = body.endswith("$") and not body.endswith("\\$")
    if anchored:
        body = body[:-1]
    out: list[str] = []
    names: list[str] = []
    index = 0
    while index < len(body):
        for group, converter in _GROUPS.items():
            if body.startswith(group, index):
                name = f"p{len(names) + 1}"
                names.append(name)
                out.append("{" + name + ("" if converter == "str" else f":{converter}") + "}")
                index += len(group)
                break
        else:
            escaped = _ESCAPED.match(body, index)
            if escaped:
                out.append(escaped.group(1))
                index += 2
                continue
            char = body[index]
            if char == ".":
                raise ValueError("an unescaped '.' matches any character (write '\\.')")
            if not _LITERAL.match(char):
                raise ValueError(f"{char!r} in the regex is more than a path template says")
            out.append(char)
            index += 1
    template = "".join(out)
    if not leading_slash and not template.startswith("/"):
        template = "/" + template
    if not template.startswith("/"):
        raise ValueError("the regex does not start with '/'")
    if not anchored:
        # Unanchored at the end: any continuation matches, as the regex did.
        name = f"p{len(names) + 1}"
        names.append(name)
        template += "{" + name + ":path}"
    if "{" in template.replace("{p", "") or "}}" in template:
        raise ValueError("a brace in the path")
    return template, names


def substitute(target: str, names: list[str], marker: str = "$") -> str:
    """``/new/$1`` -> ``/new/{p1}``; ValueError for a reference the regex does not capture."""

    def one(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if number == 0 or number > len(names):
            raise ValueError(f"{marker}{number} is not captured by the regex")
        return "{" + names[number - 1] + "}"

    return re.sub(re.escape(marker) + r"([0-9])", one, target)


@dataclass(frozen=True)
class RegexPath:
    """A source's regular expression as a ``from_regex``: the pattern, and the placeholder
    each of its captures feeds (by number, and by the source's own name)."""

    pattern: str
    numbered: dict[int, str]
    named: dict[str, str]

    def target(self, target: str, marker: str = "$") -> str:
        """``/new/$1`` -> ``/new/{p1}`` (and ``$name``, nginx's named capture, ->
        ``{name}``); ValueError for a reference the regex does not capture."""

        def one(match: re.Match[str]) -> str:
            reference = match.group(1) or match.group(2)
            if reference.isdigit():
                placeholder = self.numbered.get(int(reference))
                if placeholder is None:
                    raise ValueError(f"{marker}{reference} is not captured by the regex")
                return "{" + placeholder + "}"
            if reference in self.named:
                return "{" + self.named[reference] + "}"
            return match.group(0)  # a variable, not a capture: the caller decides

        return re.sub(re.escape(marker) + r"(?:([0-9])|\{?([A-Za-z_][A-Za-z0-9_]*)\}?)", one,
                      target)  # fmt: skip


_NAMED_GROUP = re.compile(r"\(\?(?:P?<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')")


def _scan(regex: str) -> tuple[str, dict[int, str], dict[str, str], bool]:
    """Each capturing group of a PCRE regex as an RE2 named group ``(?P<name>``: the regex
    so written, the placeholder of each group by number and by source name, and whether the
    regex has an alternation at its top level."""
    out: list[str] = []
    numbered: dict[int, str] = {}
    named: dict[str, str] = {}
    depth, index, top_alternation = 0, 0, False
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            out.append(regex[index : index + 2])
            index += 2
            continue
        if char == "[":
            # A character class: copied whole (a "]" first in it, or escaped, is literal).
            end = index + 1
            if end < len(regex) and regex[end] == "^":
                end += 1
            if end < len(regex) and regex[end] == "]":
                end += 1
            while end < len(regex) and regex[end] != "]":
                end += 2 if regex[end] == "\\" else 1
            out.append(regex[index : end + 1])
            index = end + 1
            continue
        if char == "(":
            depth += 1
            found = _NAMED_GROUP.match(regex, index)
            if found is not None:
                source_name = found.group(1) or found.group(2)
                name = capture_name(source_name)
                numbered[len(numbered) + 1] = name
                named[source_name] = name
                out.append(f"(?P<{name}>")
                index = found.end()
                continue
            if regex.startswith("(?", index):
                out.append(char)
                index += 1
                continue
            name = f"p{len(numbered) + 1}"
            numbered[len(numbered) + 1] = name
            out.append(f"(?P<{name}>")
            index += 1
            continue
        if char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            top_alternation = True
        out.append(char)
        index += 1
    return "".join(out), numbered, named, top_alternation


def regex_path(regex: str, case_sensitive: bool = True, per_dir: bool = False) -> RegexPath:
    """A PCRE regex that nginx or Apache searches the path with, as a ``from_regex`` RE2 runs
    on the whole path: ``^/old/(.*)$`` -> ``/old/(?P<p1>.*)``; ``\\.php$`` ->
    ``.*\\.php``. ``per_dir``: an ``.htaccess`` pattern, which sees the path without its
    leading ``/``. ValueError says why RE2 cannot run it (back-references, look-around and
    other PCRE-only constructs); ImportError that RE2 is not installed."""
    body, numbered, named, alternation = _scan(regex)
    if alternation:
        if per_dir and "^" in body:
            raise ValueError("an alternation of anchored per-directory patterns")
        pattern = f".*(?:{body}).*"
    else:
        start = body.startswith("^")
        end = body.endswith("$") and not body.endswith("\\$")
        body = body[1 if start else 0 : len(body) - 1 if end else len(body)]
        pattern = ("" if start else ".*") + body + ("" if end else ".*")
    if per_dir:
        pattern = "/" + pattern
    try:
        compile_regex(pattern, case_sensitive)
    except ValueError as error:
        raise ValueError(str(error).replace(repr(pattern), repr(regex))) from None
    return RegexPath(pattern, numbered, named)
