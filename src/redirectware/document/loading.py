"""Validating a rule document and compiling it into :mod:`redirectware.engine.model` objects.

Every check happens here, at load time: a typo in a key, a placeholder ``from`` does not
capture, two actions in one rule. Each problem is a :class:`RuleError` that names the file,
line, rule and key. The values are read with :mod:`.fields`, each rule kind's own keys by
its parser in :mod:`.kinds`, a map's rows by :mod:`.maps`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from redirectware.document.expectations import parse_expectations
from redirectware.document.fields import (
    Where,
    as_bool,
    as_int,
    as_mapping,
    as_moment,
    as_pairs,
    as_path,
    as_str_list,
    check_keys,
    expand_env,
)
from redirectware.document.sources import LineDict, read_file
from redirectware.engine.folding import normal_template
from redirectware.engine.hosts import AllowedHosts
from redirectware.engine.model import (
    DEFAULT_PERMANENT_MAX_AGE,
    Document,
    KeepQuery,
    MapAction,
    Rule,
    Settings,
)
from redirectware.engine.proxies import TrustedProxies
from redirectware.engine.regex import RegexPath, compile_regex
from redirectware.engine.status import REDIRECT_CODES, is_permanent_code
from redirectware.engine.templates import HostTemplate, PathTemplate, compile_host
from redirectware.kinds import ACTION_KEYS, BY_KEY, PARSERS, RuleContext
from redirectware.kinds.https import parse_hsts

TOP_KEYS = frozenset({"version", "settings", "rules", "tests"})
SETTINGS_KEYS = frozenset(
    {
        "allowed_hosts",
        "trusted_proxies",
        "get_codes",
        "permanent_max_age",
        "report_only",
        "map_cache",
        "case_sensitive",
        "trailing_slash_match",
    }
)
RULE_KEYS = frozenset(
    {
        "name",
        "from",
        "host",
        "scheme",
        "methods",
        "query",
        "headers",
        "cookies",
        "except",
        "active",
        "enabled",
        "permanent",
        "status",
        "keep_query",
        "sunset",
        "deprecated",
        "hsts",
        "https_port",
        "websockets",
        "report_only",
        "case_sensitive",
        "trailing_slash_match",
        "from_regex",
        "when",
        *ACTION_KEYS,
    }
)


# --- settings -------------------------------------------------------------------------------


def _settings(node: Any, where: Where) -> Settings:
    if node is None:
        return Settings()
    node = expand_env(as_mapping(node, where, "settings"), where, "settings")
    inner = where.inner(node, "settings")
    check_keys(node, SETTINGS_KEYS, inner)
    hosts = node.get("allowed_hosts")
    try:
        allowed = AllowedHosts.parse(
            None if hosts is None else as_str_list(hosts, inner, "allowed_hosts")
        )
    except ValueError as error:
        inner.fail("allowed_hosts", str(error))
    try:
        proxies = TrustedProxies.parse(
            as_str_list(node.get("trusted_proxies", []), inner, "trusted_proxies")
        )
    except ValueError as error:
        inner.fail("trusted_proxies", f"{error} (write an IP address or a CIDR like 10.0.0.0/8)")
    codes = node.get("get_codes", "classic")
    if codes not in ("classic", "strict"):
        inner.fail("get_codes", f"must be 'classic' or 'strict', got {codes!r}")
    return Settings(
        allowed_hosts=allowed,
        allowed_hosts_given=hosts is not None,
        trusted_proxies=proxies,
        strict_codes=codes == "strict",
        permanent_max_age=as_int(
            node.get("permanent_max_age", DEFAULT_PERMANENT_MAX_AGE), inner, "permanent_max_age"
        ),
        report_only=as_bool(node.get("report_only", False), inner, "report_only"),
        map_cache=_map_cache(node.get("map_cache"), inner),
        case_sensitive=as_bool(node.get("case_sensitive", True), inner, "case_sensitive"),
        ignore_trailing_slash=_slash_match(node.get("trailing_slash_match", "strict"), inner),
    )


def _map_cache(value: Any, where: Where) -> str | bool | None:
    """``map_cache``: a folder (relative to the document), or false for maps in memory."""
    if value is None or value is False:
        return value
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "off"):
        return False
    if not isinstance(value, str) or not value.strip():
        where.fail("map_cache", f"must be a folder path, or false; got {value!r}")
    return value.strip()


def _slash_match(value: Any, where: Where) -> bool:
    """``trailing_slash_match``: True for ``ignore``."""
    if value not in ("strict", "ignore"):
        where.fail("trailing_slash_match", f"must be 'strict' or 'ignore', got {value!r}")
    return bool(value == "ignore")


# --- one rule -------------------------------------------------------------------------------


def _keep_query(value: Any, where: Where) -> KeepQuery:
    if isinstance(value, bool):
        return KeepQuery(keep_all=value)
    names = as_str_list(value, where, "keep_query")
    return KeepQuery(
        keep_all=False,
        names=frozenset(n for n in names if not n.endswith("*")),
        prefixes=tuple(n[:-1] for n in names if n.endswith("*")),
    )


def _status(node: Mapping[str, Any], where: Where) -> tuple[bool, int | None]:
    if "status" in node and "permanent" in node:
        where.fail("status", "give either status or permanent, not both")
    if "status" in node:
        code = node["status"]
        if isinstance(code, str) and code.strip().isdigit():
            code = int(code)
        if isinstance(code, bool) or not isinstance(code, int) or code not in REDIRECT_CODES:
            where.fail("status", f"must be one of 301, 302, 307, 308; got {code!r}")
        return is_permanent_code(code), code
    return as_bool(node.get("permanent", False), where, "permanent"), None


def _rule(
    node: Any, index: int, source: str | None, base: Path, defaults: Settings | None = None
) -> Rule | None:
    where = Where(source, node, index)
    if not isinstance(node, dict):
        where.fail(None, f"a rule must be a mapping, got {node!r}")
    name = node.get("name")
    if name is not None and not isinstance(name, str):
        where.fail("name", f"must be a string, got {name!r}")
    where.name = name
    check_keys(node, RULE_KEYS, where)
    node = expand_env(node, where, "")
    kind = _kind(node, where)
    enabled = as_bool(node.get("enabled", True), where, "enabled")
    path = as_path(node["from"], where, "from") if "from" in node else None
    host = _host(node, where)
    permanent, status = _status(node, where)
    case_sensitive = as_bool(
        node.get("case_sensitive", defaults.case_sensitive if defaults else True),
        where,
        "case_sensitive",
    )
    ignore_slash = _rule_slash_match(node, where, kind, defaults)
    regex = _regex(node, where, case_sensitive, ignore_slash) if "from_regex" in node else None
    context = RuleContext(
        path,
        host,
        permanent,
        status,
        base,
        map_cache=defaults.map_cache if defaults else None,
        case_sensitive=case_sensitive,
        ignore_trailing_slash=ignore_slash,
        regex=regex,
    )
    action = PARSERS[kind](node, where, context)
    if not enabled:
        return None
    headers = as_pairs(node.get("headers", {}), where, "headers")
    cookies = as_pairs(node.get("cookies", {}), where, "cookies")
    vary = tuple(n.title() for n, _ in headers) + (("Cookie",) if cookies else ())
    fields = BY_KEY[kind].rule_fields
    extra = dict(fields(action)) if fields is not None else {}
    vary = tuple(dict.fromkeys((*vary, *extra.pop("vary", ()))))
    return Rule(
        index=index,
        name=name,
        line=where.line(),
        action=action,
        path=path,
        regex=regex,
        when_not_found=_when(node, where, kind),
        host=host,
        permanent=permanent,
        status=status,
        query=as_pairs(node.get("query", {}), where, "query"),
        headers=tuple((n.lower(), v) for n, v in headers),
        cookies=cookies,
        vary=vary,
        **extra,
        key_lines=dict(node.key_lines) if isinstance(node, LineDict) else {},
        # A case-insensitive rule's folded excepts replace the ones written.
        **{
            **_conditions(node, where),
            **_normal_keys(path, node, where, case_sensitive, ignore_slash),
        },
        **_answer_keys(node, where),
    )


def _regex(
    node: Mapping[str, Any], where: Where, case_sensitive: bool, ignore_slash: bool
) -> RegexPath:
    """``from_regex``: compiled with RE2, which must be installed (extra ``regex``)."""
    if "from" in node:
        where.fail("from_regex", "give either from or from_regex, not both")
    value = node["from_regex"]
    if not isinstance(value, str):
        where.fail("from_regex", f"must be a regular expression string, got {value!r}")
    try:
        return compile_regex(value, case_sensitive, ignore_slash)
    except (ValueError, ImportError) as error:
        where.fail("from_regex", str(error))


def _when(node: Mapping[str, Any], where: Where, kind: str) -> bool:
    """``when``: ``always`` (the default) or ``not_found``, for the rules that answer a URL
    the app does not serve (``to``, ``map``, ``gone``)."""
    value = node.get("when", "always")
    if value not in ("always", "not_found"):
        where.fail("when", f"must be 'always' or 'not_found', got {value!r}")
    if value == "not_found" and kind not in ("to", "map", "gone"):
        where.fail(
            "when", f"not_found applies to to, map and gone rules; a {kind} rule acts on every URL"
        )
    return bool(value == "not_found")


def _rule_slash_match(
    node: Mapping[str, Any], where: Where, kind: str, defaults: Settings | None
) -> bool:
    """A rule's ``trailing_slash_match``; a ``trailing_slash`` rule is about the slash, so
    neither the key nor the setting applies to it."""
    if kind == "trailing_slash":
        if "trailing_slash_match" in node:
            where.fail("trailing_slash_match", "does not apply to a trailing_slash rule")
        return False
    if "trailing_slash_match" in node:
        return _slash_match(node["trailing_slash_match"], where)
    return defaults is not None and defaults.ignore_trailing_slash


def _normal_keys(
    path: PathTemplate | None,
    node: Mapping[str, Any],
    where: Where,
    case_sensitive: bool,
    ignore_slash: bool,
) -> dict[str, Any]:
    """The ``from`` and ``except`` of a rule that ignores case or a trailing slash, in the
    normal form its requests are matched in (see ``engine/folding.py``)."""
    if case_sensitive and not ignore_slash:
        return {}
    fold_case = not case_sensitive
    excepts = as_str_list(node.get("except", []), where, "except")
    return {
        "case_sensitive": case_sensitive,
        "ignore_trailing_slash": ignore_slash,
        "match_path": None
        if path is None
        else as_path(normal_template(path.source, fold_case, ignore_slash), where, "from"),
        "excepts": tuple(
            as_path(normal_template(p, fold_case, ignore_slash), where, "except") for p in excepts
        ),
    }


def _kind(node: Mapping[str, Any], where: Where) -> str:
    """The rule's one action key."""
    actions = [key for key in ACTION_KEYS if key in node]
    # A kind may read another's key as its own (language's to): then it is no second action.
    taken = {key for action in actions for key in BY_KEY[action].takes}
    actions = [key for key in actions if key not in taken]
    if not actions:
        where.fail(None, "no action: give exactly one of " + ", ".join(ACTION_KEYS))
    if len(actions) > 1:
        where.fail(
            actions[1], f"two actions in one rule ({actions[0]} and {actions[1]}); give exactly one"
        )
    kind = actions[0]
    for key in ("https_port", "websockets", "hsts"):
        if key in node and kind != "https":
            where.fail(key, "only applies to an https rule")
    if "keep_query" in node and kind not in ("to", "map", "maintenance", "language"):
        where.fail("keep_query", f"does not apply to {kind}: it keeps the whole URL")
    return kind


def _host(node: Mapping[str, Any], where: Where) -> HostTemplate | None:
    if "host" not in node:
        return None
    if not isinstance(node["host"], str):
        where.fail("host", f"must be a string, got {node['host']!r}")
    try:
        return compile_host(node["host"])
    except ValueError as error:
        where.fail("host", str(error))


def _conditions(node: Mapping[str, Any], where: Where) -> dict[str, Any]:
    """The conditions besides ``from`` and ``host``: scheme, methods, except, active."""
    scheme = node.get("scheme")
    if scheme is not None and scheme not in ("http", "https"):
        where.fail("scheme", f"must be 'http' or 'https', got {scheme!r}")
    methods = None
    if "methods" in node:
        methods = frozenset(m.upper() for m in as_str_list(node["methods"], where, "methods"))
    excepts = tuple(
        as_path(p, where, "except") for p in as_str_list(node.get("except", []), where, "except")
    )
    active_from = active_until = None
    if "active" in node:
        window = as_mapping(node["active"], where, "active")
        inner = where.inner(window, "active")
        check_keys(window, frozenset({"from", "until"}), inner)
        if "from" in window:
            active_from = as_moment(window["from"], inner, "from").timestamp()
        if "until" in window:
            active_until = as_moment(window["until"], inner, "until").timestamp()
        if active_from is not None and active_until is not None and active_until <= active_from:
            inner.fail("until", "must come after from")
    return {
        "scheme": scheme,
        "methods": methods,
        "excepts": excepts,
        "active_from": active_from,
        "active_until": active_until,
    }


def _answer_keys(node: Mapping[str, Any], where: Where) -> dict[str, Any]:
    """The keys that shape the answer besides the action: query, sunset, hsts, report-only."""
    sunset = as_moment(node["sunset"], where, "sunset") if "sunset" in node else None
    deprecated = (
        as_moment(node["deprecated"], where, "deprecated") if "deprecated" in node else None
    )
    return {
        "keep_query": _keep_query(node.get("keep_query", True), where),
        "sunset": sunset,
        "deprecated": deprecated,
        "hsts": parse_hsts(node["hsts"], where) if "hsts" in node else None,
        "report_only": as_bool(node.get("report_only", False), where, "report_only"),
    }


# --- the document ---------------------------------------------------------------------------


def compile_document(
    data: Any, source: str | None = None, base: Path | None = None, read: tuple[str, ...] = ()
) -> Document:
    """Validate plain document values and compile them; :class:`RuleError` if invalid.

    ``read`` names the files the caller read ``data`` from; the document's
    :attr:`~redirectware.engine.model.Document.files` lists them, then each map CSV.
    """
    where = Where(source, data)
    if not isinstance(data, dict):
        where.fail(None, "a rule document must be a mapping with version, settings and rules")
    check_keys(data, TOP_KEYS, where)
    version = data.get("version", 1)
    if version != 1 and version != "1":
        where.fail("version", f"unsupported version {version!r}; this release reads version 1")
    settings = _settings(data.get("settings"), where)
    raw_rules = data.get("rules", [])
    if isinstance(raw_rules, dict):
        # The commonest slip in a first document: the rule's keys written straight under
        # rules:, without the dash that starts each item of a YAML list.
        where.fail(
            "rules",
            "must be a list of rules, and this is a mapping: each rule starts with '- ' "
            "(a dash and a space) before its first key, as in '  - name: first'",
        )
    if not isinstance(raw_rules, list):
        where.fail("rules", f"must be a list of rules, got {raw_rules!r}")
    folder = base if base is not None else Path.cwd()
    rules: list[Rule] = []
    names: dict[str, int] = {}
    disabled = 0  # counted so that check, serve and repr can say "4 rules (1 disabled)"
    for index, node in enumerate(raw_rules):
        rule = _rule(node, index, source, folder, settings)
        name = node.get("name") if isinstance(node, dict) else None
        if isinstance(name, str):
            if name in names:
                Where(source, node, index, name).fail(
                    "name", f"duplicate name: rules[{names[name]}] is called {name!r} too"
                )
            names[name] = index
        if rule is not None:
            rules.append(rule)
        else:
            disabled += 1
    tests = data.get("tests", [])
    if not isinstance(tests, list):
        where.fail("tests", f"must be a list, got {tests!r}")
    # A malformed test entry is a load error like any other; they run in `redirectware check`.
    parse_expectations(tests, source)
    maps = (
        r.action.source
        for r in rules
        if isinstance(r.action, MapAction) and r.action.source and r.action.provided_by is None
    )
    # dict.fromkeys: two rules may name the same CSV; it is one file to watch.
    files = tuple(dict.fromkeys((*read, *maps)))
    return Document(settings, tuple(rules), source, tuple(tests), files, disabled)


def load_source(rules: str | os.PathLike[str] | Mapping[str, Any]) -> Document:
    """Read and compile a path (``.yaml``/``.yml``/``.json``) or a document mapping."""
    if isinstance(rules, str | os.PathLike):
        path = Path(rules)
        source = str(rules)
        return compile_document(read_file(path), source, path.resolve().parent, (source,))
    if isinstance(rules, Mapping):
        return compile_document(dict(rules))
    raise TypeError(f"rules must be a path, a dict or a RuleSet, got {type(rules).__name__}")
