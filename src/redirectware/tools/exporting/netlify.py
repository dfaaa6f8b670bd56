"""A Netlify ``_redirects`` file that answers as the middleware does.

One line per redirect, ``from to status!``, tried top to bottom as the middleware tries its
rules. What Netlify does differently decides what exports:

* **one status for every method.** Netlify sends a line's status to GET and POST alike, so
  a 301 or 302 would let a client turn a POST into a GET, which redirectware never allows.
  Only redirects the middleware answers with 307/308 to every method export:
  ``get_codes: strict``, or an explicit ``status: 307|308``. Anything else is refused (with
  ``--partial``, left out and listed), never silently written with another code;
* **always forced** (``!``): an unforced line yields to a file at its path, the middleware
  does not;
* **a trailing slash never matters** to Netlify (``/about`` and ``/about/`` match one line):
  only rules with ``trailing_slash_match: ignore`` (the rule's or the settings' default)
  match the same paths. Netlify compares case, as the middleware does by default, so a rule
  with ``case_sensitive: false`` is refused;
* ``from`` is literal segments and ``{name}`` as a whole segment (``:name``), or a map's rows;
  a ``{name:path}`` is refused (Netlify's ``*`` also matches the path without its last
  ``/``), as are ``{name:int}`` and a placeholder inside a segment;
* the request's query always goes on to the target: ``keep_query: false``, a kept query
  joined to a target's own, and map rows with a query are refused;
* a ``host`` becomes an absolute ``from`` (one line per scheme); header, cookie, query and
  method conditions, ``except``, ``https``, ``trailing_slash``, ``maintenance``, ``gone``
  (Netlify answers 410 by serving a page of the site, which the document does not name),
  ``sunset`` headers and targets using ``{scheme}``, ``{host}`` or ``{path}`` are refused;
* the middleware answers a chain (``/a -> /b``, ``/b -> /c``) with one redirect to ``/c``;
  Netlify would answer two: refused, as for the servers.

Netlify sets its own ``Cache-Control``: noted, not exported.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from redirectware.engine.engine import Engine
from redirectware.engine.exhaustive import assert_never
from redirectware.engine.model import (
    GoneAction,
    HttpsAction,
    LanguageAction,
    Maintenance,
    MapAction,
    Rule,
    SlashAction,
    ToAction,
    map_targets,
)
from redirectware.engine.templates import PathTemplate, Target
from redirectware.tools.samples import sample_request

from .plan import Exported, ExportError, Problem
from .refusals import kind_refusal

_WHY_STATUS = (
    "Netlify sends one status to every method: a 301/302 would let a POST turn into a GET; "
    "use get_codes: strict or status 307/308"
)
_WHY_SLASH = (
    "Netlify matches a path with and without its trailing slash: give the rule (or the "
    "settings) trailing_slash_match: ignore"
)
_SEGMENT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}\Z")
#: Characters that would end or change a ``_redirects`` field.
_UNSAFE = re.compile(r"[\s#:*]")


def _status(engine: Engine, permanent: bool, status: int | None) -> int | None:
    """The status Netlify can send to every method, or None when none is faithful."""
    if status is not None:
        return status if status in (307, 308) else None
    if engine.settings.strict_codes:
        return 308 if permanent else 307
    return None


def _from_path(template: PathTemplate) -> str | None:
    """``/a/{b}/c`` as ``/a/:b/c``; None for what a Netlify path cannot say."""
    out: list[str] = []
    for segment in template.source.split("/"):
        whole = _SEGMENT.match(segment)
        if whole:
            out.append(":" + whole.group(1))
        elif "{" in segment or _UNSAFE.search(segment):
            return None
        else:
            out.append(segment)
    return "/".join(out)


def _to_text(target: Target) -> str | None:
    """A target with ``{name}`` as ``:name``; None if it uses what Netlify has not."""
    if target.names & {"scheme", "host", "path"}:
        return None
    text = target.source
    for name in target.names:
        text = text.replace("{" + name + "}", ":" + name)
    if "{" in text or re.search(r"\s", text):
        return None
    return text


def _origins(rule: Rule) -> list[str] | None:
    """The ``scheme://host`` prefixes of the rule's lines ("" for any host); None if its
    host cannot be written."""
    if rule.host is None:
        return [""]
    if rule.host.exact is None:
        return None
    schemes = [rule.scheme] if rule.scheme else ["http", "https"]
    return [f"{scheme}://{rule.host.exact}" for scheme in schemes]


def export_redirects(engine: Engine, partial: bool = False) -> Exported:
    """The ``_redirects`` text, what was left out and notes; :class:`ExportError` for what
    Netlify cannot express (without ``partial``)."""
    problems: list[Problem] = []
    lines: list[tuple[Rule, str]] = []

    def problem(rule: Rule, key: str | None, why: str) -> None:
        problems.append(Problem(engine.source, rule.line_of(key), rule.label, key, why))

    for rule in engine.rules:
        refusal = _rule_problem(rule)
        if refusal is not None:
            problem(rule, *refusal)
            continue
        origins = _origins(rule)
        if origins is None:
            problem(rule, "host", "Netlify matches exact host names only")
            continue
        action = rule.action
        match action:
            case MapAction():
                written = _map_lines(engine, rule, action, origins, problem)
                lines += [(rule, line) for line in written]
            case ToAction():
                assert rule.path is not None  # _rule_problem refused a rule without one
                path = _from_path(rule.path)
                target = _to_text(action.target)
                code = _status(engine, rule.permanent, rule.status)
                if path is None:
                    problem(rule, "from", "Netlify's from has literal segments and :name "
                            "segments only (no {name:path}, {name:int} or text around a "
                            "placeholder)")  # fmt: skip
                elif target is None:
                    problem(rule, "to", "Netlify's targets have no {scheme}, {host} or {path}")
                elif code is None:
                    problem(rule, "status", _WHY_STATUS)
                elif "?" in action.target.source:
                    problem(rule, "to", "a target with a query: Netlify joins the "
                            "request's query its own way")  # fmt: skip
                else:
                    lines += [(rule, f"{origin}{path}  {target}  {code}!") for origin in origins]
            case HttpsAction() | SlashAction() | Maintenance() | GoneAction() | LanguageAction():
                pass  # refused by _rule_problem
            case _:
                assert_never(action)
    _chains(engine, problems)
    if problems and not partial:
        raise ExportError("netlify", problems)
    left_out = {p.rule for p in problems}
    kept = [line for rule, line in lines if rule.label not in left_out]
    header = [
        f"# Generated by 'redirectware export netlify' from {engine.source or 'a document'}.",
        "# Every line is forced (!) and sends its status to every method, as the middleware",
        "# sends 307/308 to methods other than GET and HEAD. Edit the rule document and",
        "# export again rather than this file.",
        *(f"# Left out: {p}" for p in problems),
    ]
    notes = ["Netlify sets its own caching headers: Cache-Control is not exported"]
    return Exported("\n".join([*header, *kept]) + "\n", problems, notes, len(kept))


def _rule_problem(rule: Rule) -> tuple[str | None, str] | None:
    """The key and reason a rule cannot be a Netlify line at all, or None: first what the
    registry says of its kind and options, then the keys no kind owns."""
    refused = kind_refusal(rule, "netlify")
    if refused is not None:
        return refused
    for key in ("query", "headers", "cookies", "methods", "excepts"):
        if getattr(rule, key):
            return key, "Netlify's _redirects has no such condition"
    if rule.active_from is not None or rule.active_until is not None:
        return "active", "Netlify has no scheduled window"
    if rule.report_only:
        return "report_only", "a report-only rule only logs: there is nothing to export"
    if not rule.keep_query.keep_all:
        return "keep_query", "Netlify always passes the request's query on to the target"
    action = rule.action
    match action:
        case HttpsAction() | SlashAction() | Maintenance() | GoneAction() | LanguageAction():
            pass  # refused by the registry, above
        case ToAction():
            if rule.path is None:
                return "to", "every Netlify line has a from path"
        case MapAction():
            pass
        case _:
            assert_never(action)
    if not rule.ignore_trailing_slash:
        return "trailing_slash_match", _WHY_SLASH
    return None


def _map_lines(
    engine: Engine,
    rule: Rule,
    action: MapAction,
    origins: list[str],
    problem: Callable[[Rule, str | None, str], None],
) -> list[str]:
    """A line per row (per origin); a problem for the first row that cannot be one."""
    out: list[str] = []
    for key, target in map_targets(action.entries):
        entry = action.entries[key]
        if entry.status in (410, 451):
            problem(rule, "map", f"row {key}: Netlify answers {entry.status} by serving a page "
                    "of the site, which the row does not name")  # fmt: skip
            return []
        code = _status(engine, entry.permanent, entry.status)
        if code is None:
            problem(rule, "map", f"row {key}: {_WHY_STATUS}")
            return []
        if "?" in key or "?" in target:
            problem(rule, "map", f"row {key}: a query in a row is not exported (Netlify "
                    "passes the request's query on)")  # fmt: skip
            return []
        if _UNSAFE.search(key) or re.search(r"\s", target):
            problem(rule, "map", f"row {key}: a space, '#', ':' or '*' in it cannot be "
                    "written in _redirects")  # fmt: skip
            return []
        out += [f"{origin}{key}  {target}  {code}!" for origin in origins]
    return out


def _chains(engine: Engine, problems: list[Problem]) -> None:
    """A problem for each rule whose sample the middleware answers with a collapsed chain:
    Netlify would send the first hop only."""
    refused = {p.rule for p in problems}
    for rule in engine.rules:
        if rule.label in refused:
            continue
        paths: list[str | None] = [None]
        action = rule.action
        match action:
            case MapAction():
                paths = [key.partition("?")[0] for key in list(action.entries)[:1000]]
            case (
                ToAction()
                | HttpsAction()
                | SlashAction()
                | Maintenance()
                | GoneAction()
                | LanguageAction()
            ):
                pass
            case _:
                assert_never(action)
        for path in paths:
            sample = sample_request(rule, engine.settings, path=path)
            scheme = sample.schemes[0]
            decision = engine.resolve(sample.method, scheme, sample.host, sample.path,
                                      sample.query, sample.headers)  # fmt: skip
            if len(decision.hops) > 1:
                urls = " -> ".join(
                    [f"{scheme}://{sample.host}{sample.path}"]
                    + [hop.location for hop in decision.hops]
                )
                problems.append(Problem(
                    engine.source, rule.line, rule.label, None,
                    f"chain {urls}: the middleware answers with one redirect to the end, "
                    "Netlify would answer each hop; point the rule at the end of the chain",
                ))  # fmt: skip
                break
