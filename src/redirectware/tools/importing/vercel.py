"""The ``redirects`` of a ``vercel.json``.

Vercel's semantics, as translated (its "Configuration Redirects" documentation and Next.js'
``redirects``, whose rules Vercel shares):

* ``permanent`` (the default) is **308** and ``permanent: false`` is 307, to GET as to any
  other method: written as ``status: 308``/``307``, never ``permanent: true`` (which would send
  GET a 301); ``statusCode`` is kept when it is 301, 302, 307 or 308;
* the request's query is passed on to the destination;
* ``:name`` captures a segment; ``:name*`` the rest of the path, or nothing, and ``:name?``
  a segment or nothing (two rules: the path without it, and with it). A capture called
  ``path``, ``host`` or ``scheme`` (``:path*`` is Vercel's own example) is renamed ``path_``:
  redirectware's ``{path}`` is the whole request path. ``:name+`` (one segment or more) and
  a parameter with a pattern (``:id(\\d+)``) make the source a ``from_regex`` (RE2), each
  parameter a named group; a pattern RE2 cannot run (look-around, back-references) is
  reported with RE2's reason, and so is an unnamed group;
* ``has`` on ``host``, ``header``, ``cookie`` and ``query`` becomes ``host``, ``headers``,
  ``cookies`` and ``query`` (a value must be plain text, not a regex); ``missing`` is
  reported (redirectware has no negated condition);
* paths are matched with the case written, as redirectware does; Vercel documents no
  case-folding for redirects.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from redirectware.engine.regex import compile_regex

from .result import Imported, ImportResult, absolute, capture_name, fill, test_entry

SAMPLE_HOST = "example.com"
_KEPT = (301, 302, 307, 308)
_PARAM = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)([*+?]|\()?")
_NAME = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_PLAIN = re.compile(r"[A-Za-z0-9._~!$&'*+,;=:@%/-]*\Z")


def _redirect_lines(text: str) -> tuple[list[int], int | None]:
    """:func:`_entry_lines`, with only ``trailingSlash``'s line of the top-level keys."""
    lines, top = _entry_lines(text)
    return lines, top.get("trailingSlash")


def _entry_lines(text: str) -> tuple[list[int], dict[str, int]]:
    """The line of each entry of the top-level ``redirects`` array (its ``"source"`` key, or
    where the entry starts), and the line of a top-level ``trailingSlash``: JSON keeps no
    line numbers, and ``"source"`` keys under ``headers`` and ``rewrites`` must not count."""
    lines: list[int] = []
    top: dict[str, int] = {}
    stack: list[str] = []  # "{" or "[" for each open container
    redirects_depth: int | None = None  # the depth of the redirects array, once opened
    last_key: str | None = None
    index, line = 0, 1
    while index < len(text):
        char = text[index]
        if char == "\n":
            line += 1
        elif char == '"':
            end = index + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            word = text[index + 1 : end]
            after = text[end + 1 :].lstrip()
            if after.startswith(":"):  # a key
                last_key = word
                if len(stack) == 1:
                    top.setdefault(word, line)
                if (
                    redirects_depth is not None
                    and len(stack) == redirects_depth + 1
                    and word == "source"
                ):
                    lines[-1] = line
            index = end
        elif char in "{[":
            stack.append(char)
            if char == "[" and len(stack) == 2 and last_key == "redirects":
                redirects_depth = 2
            elif char == "{" and redirects_depth is not None and len(stack) == 3:
                lines.append(line)
        elif char in "}]":
            if redirects_depth is not None and len(stack) == redirects_depth and char == "]":
                redirects_depth = None
            stack.pop()
        index += 1
    return lines, top


@dataclass(frozen=True)
class _Param:
    """A ``:name`` of a Vercel source, with its pattern (``:id(\\d+)``) and modifier."""

    name: str
    pattern: str | None
    modifier: str


def _parts(source: str) -> list[str | _Param]:
    """A Vercel source as literal text and parameters; ValueError for an unnamed group."""
    parts: list[str | _Param] = []
    index = 0
    unnamed = 0
    while index < len(source):
        found = _NAME.match(source, index)
        if source[index] == "(":
            # An unnamed group is a parameter too (path-to-regexp numbers it): a pattern
            # with a name of our own, which no destination can name.
            end = _group_end(source, index)
            modifier = ""
            if end < len(source) and source[end] in "*+?":
                modifier, end = source[end], end + 1
            parts.append(_Param(f"g{unnamed}", source[index + 1 : end - 1 - len(modifier)],
                                modifier))  # fmt: skip
            unnamed += 1
            index = end
            continue
        if found is None:
            parts.append(source[index])
            index += 1
            continue
        index = found.end()
        pattern = None
        if index < len(source) and source[index] == "(":
            end = _group_end(source, index)
            pattern, index = source[index + 1 : end - 1], end
        modifier = ""
        if index < len(source) and source[index] in "*+?":
            modifier, index = source[index], index + 1
        parts.append(_Param(capture_name(found.group(1)), pattern, modifier))
    return parts


def _group_end(source: str, index: int) -> int:
    """Where the group that opens at ``index`` ends (just after its ``)``)."""
    depth, end = 0, index
    while end < len(source):
        char = source[end]
        if char == "\\":
            end += 2
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        end += 1
        if depth == 0:
            return end
    raise ValueError("an unbalanced group in the source")


def _source(source: str) -> tuple[list[tuple[str, dict[str, str]]], list[str], str | None]:
    """The template spellings of a Vercel source and the captured names; or, for a source
    that needs a regular expression (``:id(\\d+)``, ``:name+``), no spellings and the
    ``from_regex``. ValueError when neither says it."""
    if not source.startswith("/"):
        raise ValueError("a source must start with '/'")
    parts = _parts(source)
    if any(part in ("{", "}") for part in parts):
        raise ValueError("a brace in the source")
    params = [part for part in parts if isinstance(part, _Param)]
    names = [param.name for param in params]
    if len(set(names)) != len(names):
        raise ValueError("a parameter named twice in the source")
    optional = [param for param in params if param.modifier in ("*", "?")]
    if (
        any(param.pattern is not None or param.modifier == "+" for param in params)
        or len(optional) > 1
    ):
        return [], names, _regex(parts)
    template = "".join(
        part if isinstance(part, str) else
        "{" + part.name + (":path" if part.modifier == "*" else "") + "}"
        for part in parts
    )  # fmt: skip
    if not optional:
        return [(template, {})], names, None
    name = optional[0].name
    if optional[0].modifier == "*" and not template.endswith("/{" + name + ":path}"):
        raise ValueError(f":{name}* before the end of the source")
    # ":name*" and ":name?" also match nothing at all, slash included: /docs as well as
    # /docs/a/b.
    written = "{" + name + (":path" if optional[0].modifier == "*" else "") + "}"
    if "/" + written not in template:
        raise ValueError(f"an optional :{name} that is not a whole segment")
    stem = template.replace("/" + written, "", 1) or "/"
    return [(template, {}), (stem, {name: ""})], names, None


def _regex(parts: list[str | _Param]) -> str:
    """The ``from_regex`` of a source with patterns: path-to-regexp's meaning, on RE2."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(re.escape(part))
            continue
        base = part.pattern if part.pattern is not None else "[^/]+"
        if part.modifier in ("+", "*"):
            # One segment or more, as path-to-regexp repeats a parameter across "/".
            group = f"(?P<{part.name}>(?:{base})(?:/(?:{base}))*)"
        else:
            group = f"(?P<{part.name}>{base})"
        if part.modifier in ("*", "?") and out and out[-1] == "/":
            # An optional parameter takes the "/" before it along: /a/:b? matches /a.
            out[-1] = f"(?:/{group})?"
        elif part.modifier in ("*", "?"):
            out.append(f"(?:{group})?")
        else:
            out.append(group)
    pattern = "".join(out)
    compile_regex(pattern)  # ValueError for what RE2 cannot run, with its reason
    return pattern


def _destination(destination: str, names: list[str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = capture_name(match.group(1))
        if name not in names:
            raise ValueError(f"the destination's :{match.group(1)} is not captured by source")
        return "{" + name + "}"

    # A modifier in the destination (:path*, :id+) names the same parameter.
    return _PARAM.sub(lambda m: one(m) + ("" if m.group(2) != "(" else "("), destination)


def _conditions(has: list[dict[str, Any]]) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    for condition in has:
        kind, key, value = condition.get("type"), condition.get("key"), condition.get("value")
        if value is not None and not _PLAIN.match(str(value)):
            raise ValueError(f"a {kind} value {value!r} that is a regex is not translated")
        if kind == "host":
            rule["host"] = str(value)
        elif kind in ("header", "cookie", "query") and key:
            plural = {"header": "headers", "cookie": "cookies", "query": "query"}[kind]
            rule.setdefault(plural, {})[str(key)] = "*" if value is None else str(value)
        else:
            raise ValueError(f"a has condition of type {kind!r} is not translated")
    return rule


def parse(text: str, source: str) -> ImportResult:
    """A ``vercel.json``."""
    result = ImportResult("vercel", source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{source}: not valid JSON: {error}") from None
    lines, top = _entry_lines(text)
    if isinstance(data, dict) and data.get("cleanUrls"):
        # Vercel's cleanUrls routes come first, then trailingSlash's, then the redirects.
        _clean_urls(result, top.get("cleanUrls", 1), data.get("trailingSlash") is True)
    if isinstance(data, dict) and "trailingSlash" in data:
        _trailing_slash(result, top.get("trailingSlash", 1), data["trailingSlash"])
    for index, entry in enumerate(data.get("redirects", []) if isinstance(data, dict) else []):
        line = lines[index] if index < len(lines) else 1
        shown = json.dumps(entry, separators=(", ", ": "))
        try:
            item = _translate(result, line, shown, entry)
        except (ValueError, ImportError) as error:  # ImportError: RE2 is not installed
            result.lose(line, shown, str(error))
            continue
        result.items.append(item)
    return result


#: Vercel's own routes for ``trailingSlash`` (``convertTrailingSlash`` in
#: ``@vercel/routing-utils``), which it puts before the redirects: with ``true`` a path whose
#: last segment has no dot gets a slash, a file-like one (``/a.html/``) loses it, and
#: ``/.well-known`` is left alone; with ``false`` every path but ``/`` loses its slash.
_ADD_SLASH = r"^/(?:[^/]+/)*[^/.]+$"
_FILE_SLASH = r"^/(?:[^/]+/)*[^/]+\.\w+/$"


def _clean_urls(result: ImportResult, line: int, slash: bool) -> None:
    """``cleanUrls: true``: Vercel's ``convertCleanUrls`` routes, ``/a/index`` and
    ``/a.html`` sent to ``/a`` (``/a/`` with ``trailingSlash: true``), 308."""
    shown = '"cleanUrls": true'
    target = "/{p1}/" if slash else "/{p1}"
    try:
        compile_regex(_CLEAN_INDEX)
    except ImportError as error:  # RE2 is not installed
        result.lose(line, shown, str(error))
        return
    rules = [
        {"name": "vercel-clean-index", "from_regex": _CLEAN_INDEX, "to": target, "status": 308},
        {"name": "vercel-clean-html", "from_regex": _CLEAN_HTML, "to": target, "status": 308},
    ]
    result.items.append(Imported(result.source, line, shown, rules, []))


#: Vercel's cleanUrls routes, each capture named.
_CLEAN_INDEX = r"^/(?:(?P<p1>.+)/)?index(?:\.html)?/?$"
_CLEAN_HTML = r"^/(?P<p1>.*)\.html/?$"


def _trailing_slash(result: ImportResult, line: int, value: object) -> None:
    shown = f'"trailingSlash": {json.dumps(value)}'
    if not isinstance(value, bool):
        result.lose(line, shown, "trailingSlash must be true or false")
        return
    if not value:
        rule = {"name": "vercel-trailing-slash", "trailing_slash": "remove", "status": 308}
        tests = [
            test_entry(
                "GET", f"https://{SAMPLE_HOST}/sample/", 308, f"https://{SAMPLE_HOST}/sample"
            ),
            test_entry("GET", f"https://{SAMPLE_HOST}/", None, None),
        ]
        result.items.append(Imported(result.source, line, shown, [rule], tests))
        return
    try:
        compile_regex(_ADD_SLASH)
    except ImportError as error:  # RE2 is not installed
        result.lose(line, shown, str(error))
        return
    well_known = ["/.well-known", "/.well-known/{rest:path}"]
    rules = [
        {"name": "vercel-trailing-slash", "from_regex": _ADD_SLASH, "except": well_known,
         "trailing_slash": "add", "status": 308},
        {"name": "vercel-trailing-slash-file", "from_regex": _FILE_SLASH,
         "except": well_known, "trailing_slash": "remove", "status": 308},
    ]  # fmt: skip
    result.items.append(Imported(result.source, line, shown, rules, []))


def _translate(result: ImportResult, line: int, shown: str, entry: dict[str, Any]) -> Imported:
    if entry.get("missing"):
        raise ValueError("missing conditions are not translated (no negated condition)")
    status = entry.get("statusCode") or (308 if entry.get("permanent", True) else 307)
    if status not in _KEPT:
        raise ValueError(f"statusCode {status} is not a redirect redirectware sends")
    spellings, names, regex = _source(str(entry.get("source", "")))
    destination = _destination(str(entry.get("destination", "")), names)
    if not destination.startswith(("/", "http://", "https://")):
        raise ValueError("the destination must be a path or an http(s) URL")
    conditions = _conditions(list(entry.get("has", [])))
    rules: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    if regex is not None:
        # No sample request can be drawn from a regex: the rule has no tests: entry.
        pattern = {"name": f"vercel-{line}", **conditions, "from_regex": regex,
                   "to": destination, "status": status}  # fmt: skip
        return Imported(result.source, line, shown, [pattern], [])
    for template, fixed in spellings:
        rendered = destination
        for name in fixed:
            # Vercel writes the destination's :name* as $1 and fills an empty match with
            # nothing, the "/" before it kept: /blog/:path* -> /blog/, /:splat* -> /.
            rendered = rendered.replace("{" + name + "}", "")
        rule: dict[str, Any] = {"name": f"vercel-{line}" + (f"-{len(rules) + 1}" if rules else "")}
        rule.update(conditions)
        rule.update({"from": template, "to": rendered, "status": status})
        if template.endswith(":path}"):
            # Vercel's patterns are strict about a trailing slash: /a/:p* matches /a and
            # /a/b, never /a/ or /a/b/ (a {p:path} takes both).
            stem = template[: template.rindex("/{")]
            rule["except"] = [stem + "/", stem + "/{rest_:path}/"]
        rules.append(rule)
        sample, values = fill(template, fixed)
        host = str(conditions.get("host", SAMPLE_HOST))
        location = rendered
        for name, value in values.items():
            location = location.replace("{" + name + "}", value)
        query = "&".join(f"{k}={'1' if v == '*' else v}" for k, v in
                         conditions.get("query", {}).items())  # fmt: skip
        url = f"https://{host}{sample}" + (f"?{query}" if query else "")
        if query:
            head, mark, fragment = location.partition("#")
            location = head + ("&" if "?" in head else "?") + query + mark + fragment
        test = test_entry("GET", url, status, absolute(location, "https", host))
        headers = {k: "1" if v == "*" else v for k, v in conditions.get("headers", {}).items()}
        cookies = "; ".join(f"{k}={'1' if v == '*' else v}" for k, v in
                            conditions.get("cookies", {}).items())  # fmt: skip
        if cookies:
            headers["Cookie"] = cookies
        if headers:
            test["headers"] = headers
        tests.append(test)
    return Imported(result.source, line, shown, rules, tests)
