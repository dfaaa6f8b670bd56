"""The ``redirects`` of a ``vercel.json``.

Vercel's semantics, as translated (its "Configuration Redirects" documentation and Next.js'
``redirects``, whose rules Vercel shares):

* ``permanent`` (the default) is **308** and ``permanent: false`` is 307, to GET as to any
  other method: written as ``status: 308``/``307``, never ``permanent: true`` (which would send
  GET a 301); ``statusCode`` is kept when it is 301, 302, 307 or 308;
* the request's query is passed on to the destination;
* ``:name`` captures a segment; ``:name*`` the rest of the path, or nothing (two rules: the
  path without it, and ``{name:path}``). A capture called ``path``, ``host`` or ``scheme``
  (``:path*`` is Vercel's own example) is renamed ``path_``: redirectware's ``{path}`` is the
  whole request path. ``:name+``, ``:name?``, a regex group or a custom parameter pattern is
  reported until issue 15's ``from_regex``;
* ``has`` on ``host``, ``header``, ``cookie`` and ``query`` becomes ``host``, ``headers``,
  ``cookies`` and ``query`` (a value must be plain text, not a regex); ``missing`` is
  reported (redirectware has no negated condition);
* paths are matched with the case written, as redirectware does; Vercel documents no
  case-folding for redirects.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .result import Imported, ImportResult, absolute, capture_name, fill, test_entry

SAMPLE_HOST = "example.com"
_KEPT = (301, 302, 307, 308)
_PARAM = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)([*+?]|\()?")
_PLAIN = re.compile(r"[A-Za-z0-9._~!$&'*+,;=:@%/-]*\Z")


def _line_of(text: str, index: int) -> int:
    """The line of the ``index``-th ``"source"`` key: JSON keeps no line numbers."""
    found = [m.start() for m in re.finditer(r'"source"\s*:', text)]
    return text.count("\n", 0, found[index]) + 1 if index < len(found) else 1


def _source(source: str) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """The template spellings of a Vercel source, and the captured names; ValueError."""
    if not source.startswith("/"):
        raise ValueError("a source must start with '/'")
    if "(" in source.replace(":", "") or "{" in source or "}" in source:
        raise ValueError("a regex group in the source needs issue 15's from_regex")
    names: list[str] = []
    rest_name: str | None = None

    def one(match: re.Match[str]) -> str:
        nonlocal rest_name
        name, modifier = capture_name(match.group(1)), match.group(2)
        if modifier in ("+", "?", "("):
            raise ValueError(f":{match.group(1)}{modifier} needs issue 15's from_regex")
        names.append(name)
        if modifier == "*":
            if match.end() != len(source):
                raise ValueError(f":{match.group(1)}* before the end of the source")
            rest_name = name
            return "{" + name + ":path}"
        return "{" + name + "}"

    template = _PARAM.sub(one, source)
    if rest_name is None:
        return [(template, {})], names
    # ":name*" also matches nothing at all, slash included: /docs as well as /docs/a/b.
    stem = template[: -len("/{" + rest_name + ":path}")] or "/"
    return [(template, {}), (stem, {rest_name: ""})], names


def _destination(destination: str, names: list[str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = capture_name(match.group(1))
        if name not in names:
            raise ValueError(f"the destination's :{match.group(1)} is not captured by source")
        return "{" + name + "}"

    return _PARAM.sub(lambda m: one(m) + ("" if m.group(2) in (None, "*") else m.group(2)),
                      destination)  # fmt: skip


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
    for index, entry in enumerate(data.get("redirects", []) if isinstance(data, dict) else []):
        line = _line_of(text, index)
        shown = json.dumps(entry, separators=(", ", ": "))
        try:
            item = _translate(result, line, shown, entry)
        except ValueError as error:
            result.lose(line, shown, str(error))
            continue
        result.items.append(item)
    return result


def _translate(result: ImportResult, line: int, shown: str, entry: dict[str, Any]) -> Imported:
    if entry.get("missing"):
        raise ValueError("missing conditions are not translated (no negated condition)")
    status = entry.get("statusCode") or (308 if entry.get("permanent", True) else 307)
    if status not in _KEPT:
        raise ValueError(f"statusCode {status} is not a redirect redirectware sends")
    spellings, names = _source(str(entry.get("source", "")))
    destination = _destination(str(entry.get("destination", "")), names)
    if not destination.startswith(("/", "http://", "https://")):
        raise ValueError("the destination must be a path or an http(s) URL")
    conditions = _conditions(list(entry.get("has", [])))
    rules: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    for template, fixed in spellings:
        rendered = destination
        for name in fixed:
            # An empty :name* takes its "/" prefix with it: /blog/:path* -> /blog.
            rendered = rendered.replace("/{" + name + "}", "").replace("{" + name + "}", "")
        rule: dict[str, Any] = {"name": f"vercel-{line}" + (f"-{len(rules) + 1}" if rules else "")}
        rule.update(conditions)
        rule.update({"from": template, "to": rendered, "status": status})
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
