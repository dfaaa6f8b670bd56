"""Regular expressions of nginx and Apache rules, as redirectware path templates.

Only regexes a template says exactly are translated: ``^``, literal text (``\\.`` for a dot),
``(.*)`` (any rest, ``{pN:path}``), ``([^/]+)`` (one segment, ``{pN}``), ``(\\d+)`` or
``([0-9]+)`` (digits, ``{pN:int}``), and ``$`` or nothing at the end (then the rule matches
any continuation, as the regex did). Anything else (``(.+)``, which refuses the empty string a
template accepts; an unescaped ``.``, which matches any character; alternation, classes,
``(?i)``) raises :class:`ValueError` saying why, until issue 15's ``from_regex`` can run it.
"""

from __future__ import annotations

import re

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
                raise ValueError(f"{char!r} in the regex needs issue 15's from_regex")
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
