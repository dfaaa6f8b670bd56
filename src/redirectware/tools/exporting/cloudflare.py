"""A Cloudflare Bulk Redirects list (CSV) that answers as the middleware does.

Cloudflare's list is far less expressive than a server config, so the export refuses more:

* **one status for every method.** A Bulk Redirect sends its status to GET and POST alike,
  so a 301 or 302 would let clients turn a POST into a GET. Only redirects that the
  middleware answers with 307/308 to every method export: ``get_codes: strict``, or an
  explicit ``status: 307|308``;
* rows are static: an exact ``from`` (or a ``map`` row), or ``from: /prefix/{rest:path}``
  with a target ending in ``{rest}`` (``subpath_matching`` with the suffix kept);
* every row needs a host: the rule's exact ``host``, else each of ``allowed_hosts``'
  exact names. A target that is a path is written on the scheme of each source row
  (one row for http, one for https), as the middleware builds it from the request;
* Cloudflare picks the most specific row, the middleware the first rule: a subpath row with
  a more specific row of a later rule under it is refused;
* ``keep_query`` becomes ``preserve_query_string``; a target with its own query and a kept
  query is refused (the join is not documented). Cloudflare sets its own caching headers:
  ``Cache-Control`` is noted, not exported.
"""

from __future__ import annotations

import csv
import io

from redirectware.engine.engine import Engine
from redirectware.engine.exhaustive import assert_never
from redirectware.engine.model import (
    GONE_CODES,
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

from .plan import Exported, ExportError, Problem
from .refusals import kind_refusal

HEADER = ("source_url", "target_url", "status_code", "preserve_query_string",
          "include_subdomains", "subpath_matching", "preserve_path_suffix")  # fmt: skip


def _hosts(engine: Engine, rule: Rule) -> list[str]:
    if rule.host is not None:
        return [rule.host.exact] if rule.host.exact else []
    return sorted(engine.settings.allowed_hosts.exact)


def _status(engine: Engine, rule: Rule, permanent: bool, status: int | None) -> int | None:
    if status is not None:
        return status if status in (307, 308) else None
    if engine.settings.strict_codes:
        return 308 if permanent else 307
    return None


def export_csv(engine: Engine, partial: bool = False) -> Exported:
    """The CSV, what was left out and the notes for stderr; :class:`ExportError` for what it
    cannot say."""
    problems: list[Problem] = []
    rows: list[tuple[Rule, tuple[str, ...]]] = []
    subpaths: list[tuple[Rule, str, str]] = []  # (rule, host, prefix)

    def problem(rule: Rule, key: str | None, why: str) -> None:
        problems.append(Problem(engine.source, rule.line_of(key), rule.label, key, why))

    for rule in engine.rules:
        refusal = _refusal(rule)
        if refusal is not None:
            problem(rule, *refusal)
            continue
        conditions = [k for k in ("query", "headers", "cookies", "methods", "excepts")
                      if getattr(rule, k)] + (["scheme"] if rule.scheme else [])  # fmt: skip
        if conditions:
            problem(rule, conditions[0], "a Bulk Redirect has no such condition")
            continue
        action = rule.action
        hosts = _hosts(engine, rule)
        if not hosts:
            problem(rule, "host", "every Bulk Redirect names a host: give the rule an exact "
                    "host, or the document exact allowed_hosts")  # fmt: skip
            continue
        keep = rule.keep_query.keep_all
        match action:
            case MapAction():
                for key, row_target in map_targets(action.entries):
                    entry = action.entries[key]
                    if entry.status in GONE_CODES:
                        problem(rule, "map", f"row {key}: a Bulk Redirect only redirects; it "
                                f"cannot answer {entry.status}")  # fmt: skip
                        break
                    code = _status(engine, rule, entry.permanent, entry.status)
                    if code is None:
                        problem(rule, "map", f"row {key}: {_WHY_STATUS}")
                        break
                    if "?" in key or ("?" in row_target and keep):
                        problem(rule, "map", f"row {key}: a query in it is not exported")
                        break
                    made = _rows(hosts, key, row_target, code, keep, False)
                    rows += [(rule, row) for row in made]
                continue
            case ToAction() if rule.path is not None:
                pass
            case (
                ToAction()
                | HttpsAction()
                | SlashAction()
                | Maintenance()
                | GoneAction()
                | LanguageAction()
            ):
                problem(rule, None, "only to and map rules become Bulk Redirects")
                continue
            case _:
                assert_never(action)
        code = _status(engine, rule, rule.permanent, rule.status)
        if code is None:
            problem(rule, "status", _WHY_STATUS)
            continue
        template, target = rule.path, action.target
        source = template.source
        if template.literal is not None and not target.names:
            rows += [(rule, row) for row in _rows(hosts, source, target.source, code, keep, False)]
        elif (source.endswith("/{rest:path}") and template.names == ("rest",)
              and target.source.endswith("{rest}") and target.names == {"rest"}):  # fmt: skip
            prefix = source[: -len("{rest:path}")]
            stem = target.source[: -len("{rest}")]
            rows += [(rule, row) for row in _rows(hosts, prefix, stem, code, keep, True)]
            subpaths += [(rule, host, prefix) for host in hosts]
        else:
            problem(rule, "from", "only an exact from, or /prefix/{rest:path} to a target "
                    "ending in {rest}, becomes a Bulk Redirect")  # fmt: skip
            continue
        if "?" in target.source and keep:
            problem(rule, "to", "a target with a query, the request's kept: not exported")
    for rule, host, prefix in subpaths:
        for later in engine.rules[rule.index + 1 :]:
            paths = _paths(later)
            if host in _hosts(engine, later) and any(
                p.startswith(prefix) and p != prefix for p in paths
            ):
                problem(
                    later,
                    None,
                    f"under {rule.label}'s {prefix}: Cloudflare would pick this more specific "
                    "row first, the middleware the earlier rule",
                )
    if problems and not partial:
        raise ExportError("cloudflare", problems)
    left_out = {p.rule for p in problems}
    kept = [row for rule, row in rows if rule.label not in left_out]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(kept)
    notes = ["Cloudflare sets its own caching headers: Cache-Control is not exported"]
    return Exported(buffer.getvalue(), problems, notes, len(kept))


def _refusal(rule: Rule) -> tuple[str, str] | None:
    """The key and reason a rule cannot be a Bulk Redirect at all, or None: first what the
    registry says of its kind and options, then the keys no kind owns."""
    refused = kind_refusal(rule, "cloudflare")
    if refused is not None:
        return refused
    if rule.active_from is not None or rule.active_until is not None:
        return "active", "a Bulk Redirect has no scheduled window"
    if rule.report_only:
        return "report_only", "a report-only rule only logs: there is nothing to export"
    return None


def _paths(rule: Rule) -> list[str]:
    """The paths a rule's rows or ``from`` name, for the specificity check."""
    action = rule.action
    match action:
        case MapAction():
            return list(action.entries)
        case (
            ToAction()
            | HttpsAction()
            | SlashAction()
            | Maintenance()
            | GoneAction()
            | LanguageAction()
        ):
            return [rule.path.source] if rule.path is not None else []
        case _:
            assert_never(action)


_WHY_STATUS = ("Cloudflare sends one status to every method: a 301/302 would let a POST turn "
               "into a GET; use get_codes: strict or status 307/308")  # fmt: skip


def _rows(hosts: list[str], path: str, target: str, code: int, keep: bool,
          subpath: bool) -> list[tuple[str, ...]]:  # fmt: skip
    flags = ("TRUE" if keep else "FALSE", "FALSE", "TRUE" if subpath else "FALSE", "TRUE")
    rows: list[tuple[str, ...]] = []
    for host in hosts:
        if target.startswith("/"):
            # The middleware builds a path target on the request's scheme: a row per scheme.
            rows += [(f"{scheme}://{host}{path}", f"{scheme}://{host}{target}", str(code), *flags)
                     for scheme in ("http", "https")]  # fmt: skip
        else:
            rows.append((f"{host}{path}", target, str(code), *flags))
    return rows
