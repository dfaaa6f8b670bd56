"""Netlify's ``_redirects`` file and the ``[[redirects]]`` tables of ``netlify.toml``.

Netlify's semantics, as translated:

* the status defaults to **301**; ``302``, ``307`` and ``308`` are kept. ``410`` becomes
  ``gone: true`` and ``451`` ``gone: 451`` (Netlify serves the target's content with that
  status; redirectware answers with its own short body: a note says so). ``200`` is a rewrite
  (or, to another site, a proxy) and ``404`` serves a custom not-found page: neither is a
  redirect, so both are reported. ``303`` is reported (redirectware never sends it);
* a rule matches with and without a trailing slash (``/foo`` and ``/foo/``, pinned by GitLab
  Pages' matching tests): written once, with ``trailing_slash_match: ignore``. A rule ending
  in ``/*`` also matches the path without it (``/foo``, an empty splat): a second rule for
  that path, since the slash-less path is not a spelling of ``/foo/{splat:path}``;
* matching is case-sensitive (Netlify answers ``/About`` and ``/about`` differently today);
* ``:name`` as a whole segment captures it and ``*`` as the last segment captures the rest
  (``:splat`` in the target), and so does a ``*`` that ends the path inside a segment
  (``/inbox*`` matches ``/inbox``, ``/inboxes``, ``/inbox/a``: a splat, as Netlify's
  documentation and the open implementations read it). A placeholder inside a segment is
  plain text, as Netlify and GitLab Pages read it. A ``*`` anywhere else (what Netlify does
  with it is not documented), a ``:name`` twice, or a target placeholder ``from`` does not
  capture is reported as not translated;
* the request's query is passed on, unless the target has its own (``/form?usp=sharing``):
  then the target is sent as written (``keep_query: false``), as Cloudflare Pages does;
* an **unforced** rule (no ``!``, or ``force = false``) yields to a file that exists at its
  path: it applies only where the site would answer 404, so it becomes ``when: not_found``
  (its tests say ``app: not_found``). A **forced** rule (``!``, ``force = true``) applies
  whatever the site serves: an ordinary rule;
* ``Country``, ``Language``, ``Role`` and ``Cookie`` conditions, signed proxies and custom
  headers are reported as not translated; a query condition with a literal value becomes a
  ``query`` condition, one whose value the target uses cannot be (redirectware does not
  capture query values).
"""

from __future__ import annotations

import re
import sys
from typing import Any

from redirectware.kinds import Surface
from redirectware.kinds.language import KIND as LANGUAGE

from .result import Imported, ImportResult, Row, capture_name, test_entry

DEFAULT_STATUS = 301
_KEPT = (301, 302, 307, 308)
#: Netlify's statuses that say a page is gone, as ``gone`` values.
_GONE: dict[int, bool | int] = {410: True, 451: 451}
_WHY = {
    404: "status 404 serves a custom not-found page (a rewrite), not a redirect",
    303: "redirectware never sends 303 (it sends 302 to GET/HEAD, 307 to the rest)",
}
_STAR_INSIDE = (
    "a '*' before the last segment: Netlify documents a splat only at the end, Cloudflare "
    "and GitLab Pages read it as any text there; Netlify's answer is not documented"
)
_PLACEHOLDER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_STATUS = re.compile(r"([0-9]{3})(!?)\Z")
SAMPLE_HOST = "example.com"


def _target(to: str, names: set[str]) -> tuple[str | None, str]:
    """``to`` with captured ``:name`` as ``{name}``; or None and why."""
    if "{" in to or "}" in to:
        return None, "a brace in the target"
    missing = [name for name in _PLACEHOLDER.findall(to) if capture_name(name) not in names]
    if missing:
        return None, (f"placeholder :{missing[0]} is not captured by from (Netlify leaves it "
                      "as text, GitLab Pages removes it)")  # fmt: skip
    if "*" in to:
        return None, "a '*' in the target"
    return _PLACEHOLDER.sub(lambda m: "{" + capture_name(m.group(1)) + "}", to), ""


def _template(path: str) -> tuple[str | None, list[str], str]:
    """The path as a template, the names it captures; or None and why."""
    if "{" in path or "}" in path:
        return None, [], "a brace in the path"
    segments = path.split("/")
    names: list[str] = []
    out: list[str] = []
    for index, segment in enumerate(segments):
        if "*" in segment and segment != "*":
            if index != len(segments) - 1 or segment.count("*") > 1 or not segment.endswith("*"):
                return None, [], ("a '*' inside the path: Netlify documents a splat only at "
                                  "the end, Cloudflare and GitLab Pages read it as any text "
                                  "there; what Netlify does is not documented")  # fmt: skip
            # /inbox*: Netlify's documentation says a splat matches anything that follows
            # it, and both open implementations (Cloudflare Pages, GitLab Pages) read a
            # final * this way, /inbox, /inboxes and /inbox/a alike.
            # GitLab Pages alone reads it as text: a note says so (see translate).
            if "splat" in names:
                return None, [], "':splat' and '*' both name the splat"
            names.append("splat")
            out.append(segment[:-1] + "{splat:path}")
            continue
        if segment == "*":
            if index != len(segments) - 1:
                return None, [], _STAR_INSIDE
            if "splat" in names:
                return None, [], "':splat' and '*' both name the splat"
            names.append("splat")
            out.append("{splat:path}")
            continue
        whole = re.fullmatch(r":([A-Za-z_][A-Za-z0-9_]*)", segment)
        if whole:
            name = capture_name(whole.group(1))
            if name in names:
                return None, [], f"placeholder :{name} appears twice"
            names.append(name)
            out.append("{" + name + "}")
        else:
            out.append(segment)
    return "/".join(out), names, ""


def _spellings(template: str) -> list[tuple[str, dict[str, str], bool]]:
    """The rules a Netlify path needs: each ``from``, the captures its path fixes, and
    whether it ignores a trailing slash. Netlify matches ``/foo`` and ``/foo/`` alike: one
    rule with ``trailing_slash_match: ignore``. ``/foo/*`` also matches ``/foo`` with an
    empty splat, and ``/foo/a/`` with the splat ``a/`` (the slash kept, so no ``ignore``):
    a second rule for ``/foo``."""
    if template == "/{splat:path}":
        return [(template, {}, False)]  # it matches "/" itself, with an empty splat
    if template.endswith("/{splat:path}"):
        return [(template, {}, False), (template[: -len("/{splat:path}")], {"splat": ""}, True)]
    if template.endswith("{splat:path}"):
        return [(template, {}, False)]  # /inbox*: the splat takes any trailing slash
    return [(template, {}, True)]


def _sample(template: str, fixed: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A path the template matches and the value each name takes in it."""
    values: dict[str, str] = {}

    def fill(match: re.Match[str]) -> str:
        name, _, converter = match.group(1).partition(":")
        values[name] = fixed.get(name, "a/b" if converter == "path" else "sample")
        return values[name]

    path = re.sub(r"\{([^{}]+)\}", fill, template)
    return path, {**fixed, **values}


def translate(
    result: ImportResult,
    line: int,
    text: str,
    origin: str,
    to: str | None,
    status: int,
    force: bool,
    query: dict[str, str],
    conditions: dict[str, Any],
) -> None:
    """Translate one Netlify rule into ``result`` (or record why not)."""
    gone = _GONE.get(status)
    why = None if status in _KEPT or gone is not None else _why_not(status, to)
    if why is None and set(conditions) == {"Language"}:
        why = LANGUAGE.refusal(Surface.IMPORT_NETLIFY)
    if why is None and conditions:
        why = f"a {', '.join(sorted(conditions))} condition (redirectware does not see it)"
    if why is None and to is None and gone is None:
        why = "no target"
    host = scheme = None
    path = origin
    match = re.match(r"(https?)://([^/]+)(/.*)?\Z", origin)
    if match:
        scheme, host, path = match.group(1), match.group(2).lower(), match.group(3) or "/"
    if why is None and not path.startswith("/"):
        why = "from must be a path or an http(s) URL"
    template, names, bad = _template(path)
    if why is None and template is None:
        why = bad
    used = {capture_name(name) for name in _PLACEHOLDER.findall(to or "")}
    conditions_query: dict[str, str] = {}
    for key, value in query.items():
        if value.startswith(":"):
            if gone is None and capture_name(value[1:]) in used:
                why = why or f"the target uses the value of query parameter {key!r}"
            conditions_query[key] = "*"
        else:
            conditions_query[key] = value
    target: str | None = ""
    if why is None and gone is None:
        target, bad = _target(to or "", set(names))
        if target is None:
            why = bad
    if why is not None or template is None or target is None:
        result.lose(line, text, why or "not translated")
        return
    if re.search(r"[^/]\*\Z", path):
        result.notes.append(
            f"{result.source}:{line}: the '*' that ends {path} is read as a splat, as "
            "Netlify's documentation (a splat matches anything that follows it) and Cloudflare "
            "Pages read it; GitLab Pages reads it as text"
        )
    if gone is not None and to:
        result.notes.append(
            f"{result.source}:{line}: Netlify serves {to} with status {status}; redirectware "
            f"answers {status} with its own short body"
        )
    rules: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []
    rows: list[Row] = []
    # A target with its own query (/form?usp=sharing) is sent as written: the Netlify-
    # compatible matchers (Cloudflare Pages: the target's search, else the request's) drop
    # the request's query then.
    own_query = gone is None and "?" in target.partition("#")[0]
    for spelling, fixed, ignore in _spellings(template):
        rule: dict[str, Any] = {"name": f"{result.fmt}-{line}" + ("" if not rules else "-stem")}
        if host is not None:
            rule["host"] = host
            rule["scheme"] = scheme
        rule["from"] = spelling
        if conditions_query:
            rule["query"] = dict(conditions_query)
        rendered = target
        for name, value in fixed.items():
            rendered = rendered.replace("{" + name + "}", value)
        if gone is not None:
            rule["gone"] = gone
        else:
            rule["to"] = rendered
            rule["status"] = status
        if ignore:
            rule["trailing_slash_match"] = "ignore"
        if own_query:
            rule["keep_query"] = False
        if not force:
            rule["when"] = "not_found"
        rules.append(rule)
        rows.append(Row(spelling, rendered, status))
        sample, values = _sample(spelling, fixed)
        samples = [sample]
        if ignore and sample != "/":
            # Netlify matches the other spelling too: pin it.
            samples.append(sample[:-1] if sample.endswith("/") else sample + "/")
        for request_path in samples:
            tests.append(_test(target if gone is None else None, status, values, scheme, host,
                               request_path, conditions_query, force))  # fmt: skip
    exact = not names and host is None and not conditions_query
    options: dict[str, Any] = {"trailing_slash_match": "ignore"}
    if own_query:
        options["keep_query"] = False
    if not force:
        options["when"] = "not_found"
    item = Imported(result.source, line, text, rules, tests, rows if exact else None, options)
    result.items.append(item)


def _why_not(status: int, to: str | None) -> str:
    """Why a status that is neither a redirect nor gone is not translated."""
    if status == 200:
        if to is not None and to.startswith(("http://", "https://")):
            return "status 200 to another site is a proxy, not a redirect"
        return "status 200 is a rewrite, not a redirect"
    return _WHY.get(status, f"status {status} is not a redirect redirectware sends")


def _test(
    target: str | None,
    status: int,
    values: dict[str, str],
    scheme: str | None,
    host: str | None,
    path: str,
    query: dict[str, str],
    force: bool,
) -> dict[str, Any]:
    """The ``tests:`` entry for a request to ``path``: what Netlify answers."""
    base = f"{scheme or 'http'}://{host or SAMPLE_HOST}"
    wanted = "&".join(f"{k}={'1' if v == '*' else v}" for k, v in query.items())
    url = base + path + (f"?{wanted}" if wanted else "")
    if target is None:
        return test_entry("GET", url, status, None, not_found=not force)
    location = target
    for name, value in values.items():
        location = location.replace("{" + name + "}", value)
    if not location.startswith("http"):
        location = base + location
    if wanted and "?" not in location.partition("#")[0]:
        # Netlify passes the request's query on to a target without one of its own.
        head, mark, fragment = location.partition("#")
        location = head + ("&" if "?" in head else "?") + wanted + mark + fragment
    return test_entry("GET", url, status, location, not_found=not force)


def _strip_comment(line: str) -> str:
    # A "#" starts a comment at the line's start or after a space; "/a#b" is a target's
    # fragment.
    return re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()


def parse_redirects(text: str, source: str) -> ImportResult:
    """A ``_redirects`` file."""
    result = ImportResult("netlify", source)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        if not line:
            continue
        tokens = line.split()
        origin = tokens.pop(0)
        query: dict[str, str] = {}
        while tokens and "=" in tokens[0] and not tokens[0].startswith(("/", "http")):
            key, _, value = tokens.pop(0).partition("=")
            query[key] = value
        to = tokens.pop(0) if tokens and not _STATUS.match(tokens[0]) else None
        status, force = DEFAULT_STATUS, False
        if tokens and _STATUS.match(tokens[0]):
            found = _STATUS.match(tokens.pop(0))
            assert found is not None
            status, force = int(found.group(1)), bool(found.group(2))
        conditions: dict[str, Any] = {}
        for token in tokens:
            key, _, value = token.partition("=")
            conditions[key] = value.split(",")
        if to is None and status == 200:
            to = origin
        translate(result, number, raw, origin, to, status, force, query, conditions)
    return result


def _load_toml(text: str, source: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{source}: not valid TOML: {error}") from None
    raise ValueError("reading netlify.toml needs Python 3.11 or newer (tomllib)")


def parse_toml(text: str, source: str) -> ImportResult:
    """The ``[[redirects]]`` tables of a ``netlify.toml``."""
    result = ImportResult("netlify", source)
    data = _load_toml(text, source)
    # tomllib keeps no line numbers: the Nth [[redirects]] header is the Nth table.
    starts = [n for n, raw in enumerate(text.splitlines(), start=1)
              if raw.strip() == "[[redirects]]"]  # fmt: skip
    for index, table in enumerate(data.get("redirects", [])):
        line = starts[index] if index < len(starts) else 1
        shown = f"[[redirects]] from = {table.get('from')!r} to = {table.get('to')!r}"
        extra = sorted(set(table) - {"from", "to", "status", "force", "query", "conditions"})
        if extra:
            result.lose(line, shown, f"{', '.join(extra)} (signed proxies and custom headers "
                        "are not redirects)")  # fmt: skip
            continue
        translate(
            result, line, shown, str(table.get("from", "")), table.get("to"),
            int(table.get("status", DEFAULT_STATUS)), bool(table.get("force", False)),
            {str(k): str(v) for k, v in dict(table.get("query", {})).items()},
            dict(table.get("conditions", {})),
        )  # fmt: skip
    return result


def parse(text: str, source: str) -> ImportResult:
    """``netlify.toml`` by its name, else a ``_redirects`` file."""
    if source.endswith(".toml"):
        return parse_toml(text, source)
    return parse_redirects(text, source)
