"""Validating a rule document and compiling it into :mod:`redirectware.model` objects.

Every check happens here, at load time: a typo in a key, a placeholder ``from`` does not
capture, two actions in one rule. Each problem is a :class:`RuleError` that names the file,
line, rule and key.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping
from itertools import count
from pathlib import Path
from typing import Any, NoReturn

from .errors import RuleError
from .expectations import parse_expectations
from .hosts import AllowedHosts
from .mapfile import RawRow, RowFail, read_csv_pairs, read_csv_rows, read_inline_rows
from .model import (
    DEFAULT_PERMANENT_MAX_AGE,
    Action,
    Document,
    FlagFile,
    Hsts,
    HttpsAction,
    KeepQuery,
    Maintenance,
    MapAction,
    MapEntry,
    PlainRows,
    Rule,
    Settings,
    SlashAction,
    ToAction,
)
from .proxies import TrustedProxies
from .sources import LineDict, read_file, substitute_environment
from .status import REDIRECT_CODES, is_permanent_code
from .templates import (
    BUILTIN_NAMES,
    HostTemplate,
    PathTemplate,
    Target,
    compile_host,
    compile_path,
    compile_target,
)
from .urls import canonical_literal

TOP_KEYS = frozenset({"version", "settings", "rules", "tests"})
SETTINGS_KEYS = frozenset(
    {"allowed_hosts", "trusted_proxies", "get_codes", "permanent_max_age", "report_only"}
)
ACTION_KEYS = ("to", "https", "trailing_slash", "maintenance", "map")
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
        *ACTION_KEYS,
    }
)
MAINTENANCE_KEYS = frozenset({"enabled", "to", "retry_after", "allow_ips", "flag_file"})
HSTS_KEYS = frozenset({"max_age", "include_subdomains", "preload"})
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0", ""})


class _Where:
    """Where in the document we are, to make errors that say so."""

    def __init__(
        self,
        source: str | None,
        node: Any = None,
        index: int | None = None,
        name: str | None = None,
        prefix: str = "",
    ) -> None:
        self.source = source
        self.node = node
        self.index = index
        self.name = name
        self.prefix = prefix

    def line(self, key: str | None = None) -> int | None:
        if isinstance(self.node, LineDict):
            return self.node.line_of(key) if key is not None else self.node.line
        return None

    def fail(self, key: str | None, message: str) -> NoReturn:
        raise self.error(key, message)

    def error(self, key: str | None, message: str, line: int | None = None) -> RuleError:
        """The error for ``key``; ``line`` when a part of its value has a line of its own."""
        full_key = f"{self.prefix}{key}" if key is not None else (self.prefix.rstrip(".") or None)
        return RuleError(
            message,
            source=self.source,
            line=self.line(key) if line is None else line,
            rule_index=self.index,
            rule_name=self.name,
            key=full_key,
        )

    def inner(self, node: Any, key: str) -> _Where:
        """The same place, one mapping deeper (``maintenance.to``)."""
        nested = _Where(self.source, node, self.index, self.name, f"{self.prefix}{key}.")
        if not isinstance(node, LineDict):
            nested.node = self.node
            nested.prefix = self.prefix
        return nested


def _expand(value: Any, where: _Where, key: str, line: int | None = None) -> Any:
    """Apply ``${VAR:-default}`` to every string inside ``value``.

    An unset variable is reported at the key that holds it (``to``, ``maintenance.enabled``)
    and that key's line, since that is where the user wrote it.
    """
    if isinstance(value, str):
        try:
            return substitute_environment(value)
        except KeyError as missing:
            raise where.error(
                key,
                f"environment variable {missing.args[0]} is not set and has no default "
                f"(write ${{{missing.args[0]}:-value}} to give one)",
                line,
            ) from None
    if isinstance(value, LineDict):
        out = LineDict(
            {k: _expand(v, where, _subkey(key, k), value.line_of(k)) for k, v in value.items()}
        )
        out.line, out.key_lines = value.line, value.key_lines
        return out
    if isinstance(value, dict):
        return {k: _expand(v, where, _subkey(key, k), line) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, where, key, line) for v in value]
    return value


def _subkey(key: str, name: object) -> str:
    # The rule itself is the root: its keys are named bare (to), deeper ones dotted.
    return str(name) if not key else f"{key}.{name}"


def _bool(value: Any, where: _Where, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    where.fail(key, f"must be true or false, got {value!r}")


def _int(value: Any, where: _Where, key: str, minimum: int = 0) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        where.fail(key, f"must be a whole number of at least {minimum}, got {value!r}")
    return value


def _str_list(value: Any, where: _Where, key: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        where.fail(key, f"must be a list of strings, got {value!r}")
    return value


def _mapping(value: Any, where: _Where, key: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        where.fail(key, f"must be a mapping, got {value!r}")
    return value


def _unknown_keys(node: Mapping[str, Any], allowed: frozenset[str], where: _Where) -> None:
    for key in node:
        if key not in allowed:
            hint = _closest(key, allowed)
            where.fail(
                key,
                "unknown key"
                + (f" (did you mean {hint!r}?)" if hint else "")
                + f"; allowed: {', '.join(sorted(allowed))}",
            )


def _closest(word: str, choices: frozenset[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _moment(value: Any, where: _Where, key: str) -> dt.datetime:
    """An ISO 8601 date or date-time (naive values are UTC)."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            where.fail(key, f"must be an ISO 8601 date or date-time, got {value!r}")
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    where.fail(key, f"must be an ISO 8601 date or date-time, got {value!r}")


# --- settings -------------------------------------------------------------------------------


def _settings(node: Any, where: _Where) -> Settings:
    if node is None:
        return Settings()
    node = _expand(_mapping(node, where, "settings"), where, "settings")
    inner = where.inner(node, "settings")
    _unknown_keys(node, SETTINGS_KEYS, inner)
    hosts = node.get("allowed_hosts")
    try:
        allowed = AllowedHosts.parse(
            None if hosts is None else _str_list(hosts, inner, "allowed_hosts")
        )
    except ValueError as error:
        inner.fail("allowed_hosts", str(error))
    try:
        proxies = TrustedProxies.parse(
            _str_list(node.get("trusted_proxies", []), inner, "trusted_proxies")
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
        permanent_max_age=_int(
            node.get("permanent_max_age", DEFAULT_PERMANENT_MAX_AGE), inner, "permanent_max_age"
        ),
        report_only=_bool(node.get("report_only", False), inner, "report_only"),
    )


# --- one rule -------------------------------------------------------------------------------


def _pairs(value: Any, where: _Where, key: str) -> tuple[tuple[str, str | None], ...]:
    """``{name: value | "*"}`` -> ((name, value or None for present), ...)."""
    node = _mapping(value, where, key)
    pairs: list[tuple[str, str | None]] = []
    for name, wanted in node.items():
        if isinstance(wanted, bool):
            wanted = "true" if wanted else "false"
        if isinstance(wanted, int | float):
            wanted = str(wanted)
        if not isinstance(wanted, str):
            where.fail(key, f"{name}: must be a string, or '*' for present; got {wanted!r}")
        pairs.append((str(name), None if wanted == "*" else wanted))
    return tuple(pairs)


def _path(value: Any, where: _Where, key: str) -> PathTemplate:
    if not isinstance(value, str):
        where.fail(key, f"must be a path template string, got {value!r}")
    try:
        return compile_path(value)
    except ValueError as error:
        where.fail(key, str(error))


def _target(value: Any, where: _Where, key: str) -> Target:
    try:
        return compile_target(value)
    except ValueError as error:
        where.fail(key, str(error))


def _check_placeholders(
    target: Target, path: PathTemplate | None, host: HostTemplate | None, where: _Where, key: str
) -> None:
    captured = set(BUILTIN_NAMES)
    if path is not None:
        captured.update(path.names)
    if host is not None:
        captured.update(host.names)
    for name in sorted(target.names - captured):
        origin = f" by from {path.source!r}" if path is not None else " (this rule has no from)"
        where.fail(key, f"placeholder {{{name}}} is not captured{origin}")
    # A value that goes into the host of a Location must itself have come from a host.
    safe_in_authority = {"host", "scheme"} | set(host.names if host is not None else ())
    for name in sorted(target.authority_names - safe_in_authority):
        where.fail(
            key,
            f"placeholder {{{name}}} comes from the path and cannot stand in the "
            "host of a target (that would be an open redirect)",
        )


def _keep_query(value: Any, where: _Where) -> KeepQuery:
    if isinstance(value, bool):
        return KeepQuery(keep_all=value)
    names = _str_list(value, where, "keep_query")
    return KeepQuery(
        keep_all=False,
        names=frozenset(n for n in names if not n.endswith("*")),
        prefixes=tuple(n[:-1] for n in names if n.endswith("*")),
    )


def _status(node: Mapping[str, Any], where: _Where) -> tuple[bool, int | None]:
    if "status" in node and "permanent" in node:
        where.fail("status", "give either status or permanent, not both")
    if "status" in node:
        code = node["status"]
        if isinstance(code, str) and code.strip().isdigit():
            code = int(code)
        if isinstance(code, bool) or not isinstance(code, int) or code not in REDIRECT_CODES:
            where.fail("status", f"must be one of 301, 302, 307, 308; got {code!r}")
        return is_permanent_code(code), code
    return _bool(node.get("permanent", False), where, "permanent"), None


def _hsts(value: Any, where: _Where) -> Hsts:
    if value is True:
        return Hsts(max_age=31536000)
    node = _mapping(value, where, "hsts")
    inner = where.inner(node, "hsts")
    _unknown_keys(node, HSTS_KEYS, inner)
    if "max_age" not in node:
        inner.fail(None, "needs max_age (seconds), e.g. {max_age: 31536000}")
    return Hsts(
        max_age=_int(node["max_age"], inner, "max_age"),
        include_subdomains=_bool(
            node.get("include_subdomains", False), inner, "include_subdomains"
        ),
        preload=_bool(node.get("preload", False), inner, "preload"),
    )


def _maintenance(value: Any, where: _Where, base: Path) -> Maintenance:
    node = _mapping(value, where, "maintenance")
    inner = where.inner(node, "maintenance")
    _unknown_keys(node, MAINTENANCE_KEYS, inner)
    target = _target(node["to"], inner, "to") if "to" in node else None
    if target is not None and target.names:
        inner.fail("to", "a maintenance target takes no placeholders")
    flag = node.get("flag_file")
    if flag is not None and not isinstance(flag, str):
        inner.fail("flag_file", f"must be a file path, got {flag!r}")
    try:
        allow = TrustedProxies.parse(_str_list(node.get("allow_ips", []), inner, "allow_ips"))
    except ValueError as error:
        inner.fail("allow_ips", f"{error} (write an IP address or a CIDR like 10.0.0.0/8)")
    retry = node.get("retry_after")
    # With neither switch given, the rule's presence is the switch; a flag file alone
    # means "on while the file exists".
    enabled = _bool(node.get("enabled", flag is None), inner, "enabled")
    target_path = None
    if target is not None and not target.absolute:
        target_path = canonical_literal(target.source.split("?", 1)[0])
    return Maintenance(
        enabled=enabled,
        target=target,
        target_path=target_path,
        retry_after=None if retry is None else _int(retry, inner, "retry_after"),
        allow_ips=allow,
        flag_file=None if flag is None else FlagFile(str(base / flag)),
    )


# A map row that needs no canonicalising and no closer look (see _map_row for the rules):
# a path of plain characters, and a target that is a path or an http(s) URL without control
# characters or backslashes.
_PLAIN_MAP_FROM = re.compile(r"/(?!/)[A-Za-z0-9\-._~/:@!$&'()*+,;=]*\Z")
_PLAIN_MAP_TO = re.compile(r"(?:/(?!/)|[Hh][Tt][Tt][Pp][Ss]?://)[^\r\n\0\\]*\Z")
# The same two checks over a whole column at once, one row per line.
_PLAIN_FROM_COLUMN = re.compile(
    r"(?:/(?!/)[A-Za-z0-9\-._~/:@!$&'()*+,;=]*\n)*/(?!/)[A-Za-z0-9\-._~/:@!$&'()*+,;=]*"
)
# Targets that are absolute URLs or paths already canonical: the loop check needs no work.
_CANONICAL_TO_COLUMN = re.compile(
    r"(?:(?:[Hh][Tt][Tt][Pp][Ss]?://[^\n]*|/[A-Za-z0-9\-._~/:@!$&'()*+,;=]*)\n)*"
    r"(?:[Hh][Tt][Tt][Pp][Ss]?://[^\n]*|/[A-Za-z0-9\-._~/:@!$&'()*+,;=]*)"
)
_PLAIN_TO_COLUMN = re.compile(
    r"(?:(?:/(?!/)|[Hh][Tt][Tt][Pp][Ss]?://)[^\r\n\0\\]*\n)*(?:/(?!/)|[Hh][Tt][Tt][Pp][Ss]?://)[^\r\n\0\\]*"
)


def _bulk_entries(
    froms: list[str], tos: list[str], permanent: bool, status: int | None
) -> PlainRows | None:
    """The entries of a plain two-column map built without a Python loop per row, or None
    when a row needs the closer look of the row-by-row path (which then reports it)."""
    targets = "\n".join(tos)
    if not (_PLAIN_FROM_COLUMN.fullmatch("\n".join(froms)) and _PLAIN_TO_COLUMN.fullmatch(targets)):
        return None
    canonical = _CANONICAL_TO_COLUMN.fullmatch(targets) is not None
    # Row i stands on line i + 2: read_csv_pairs only reads files with one line per row.
    rows = dict(zip(froms, zip(tos, count(2)), strict=True))
    # A repeated from: the row-by-row path tells a harmless repeat from a conflict.
    if len(rows) != len(froms):
        return None
    return PlainRows(rows, permanent, status, canonical)


def _map_row(
    source: str,
    target: str,
    row_permanent: object,
    row_status: object,
    line: int | None,
    permanent: bool,
    status: int | None,
    fail: RowFail,
    csv_source: str | None,
) -> tuple[str, MapEntry, bool]:
    """Validate one map row the long way: its key, its entry, whether the key has a query."""
    at = f"{csv_source}:{line}" if csv_source and line else f"row {source!r}"
    if not source.startswith("/") or source.startswith("//"):
        raise fail(f"{at}: from must be a path starting with a single '/', got {source!r}", line)
    if not (target.startswith("/") and not target.startswith("//")) and not (
        target.lower().startswith(("http://", "https://"))
    ):
        raise fail(f"{at}: to must be a path or an http(s) URL, got {target!r}", line)
    if any(c in target for c in "\r\n\0") or (target.startswith("/") and "\\" in target):
        raise fail(f"{at}: to holds a character a URL may not: {target!r}", line)
    entry_permanent, entry_status = permanent, status
    if row_status is not None:
        try:
            entry_status = int(str(row_status))
        except ValueError:
            entry_status = -1
        if entry_status not in REDIRECT_CODES:
            raise fail(f"{at}: status must be 301, 302, 307 or 308, got {row_status!r}", line)
        entry_permanent = is_permanent_code(entry_status)
    elif row_permanent is not None:
        text = str(row_permanent).strip().lower()
        if isinstance(row_permanent, bool):
            entry_permanent = row_permanent
        elif text in _TRUE | _FALSE:
            entry_permanent = text in _TRUE
        else:
            raise fail(f"{at}: permanent must be true or false, got {row_permanent!r}", line)
        entry_status = None
    path, sep, query = source.partition("?")
    key = canonical_literal(path) + (sep + query if sep else "")
    return key, MapEntry(target, entry_permanent, entry_status, line), bool(sep)


def _map(value: Any, where: _Where, base: Path, permanent: bool, status: int | None) -> MapAction:
    csv_source = None

    def fail(message: str, line: int | None = None) -> RuleError:
        # A CSV row's line is in the message; an inline row's is the YAML line of the error.
        return where.error("map", message, None if csv_source else line)

    rows: Iterator[RawRow]
    if isinstance(value, str):
        csv_path = base / value
        csv_source = str(csv_path)
        pairs = read_csv_pairs(csv_path)
        bulk = None if pairs is None else _bulk_entries(*pairs, permanent, status)
        if bulk is not None:
            return MapAction(bulk, csv_source, False)
        rows = read_csv_rows(csv_path, fail)
    elif isinstance(value, list):
        rows = read_inline_rows(value, fail)
    else:
        where.fail("map", f"must be a CSV file path or a list of {{from, to}}, got {value!r}")
    entries: dict[str, MapEntry] = {}
    has_query = False
    for source, target, row_permanent, row_status, line in rows:
        if (
            row_permanent is None
            and row_status is None
            and _PLAIN_MAP_FROM.match(source)
            and _PLAIN_MAP_TO.match(target)
        ):
            # The common row, a plain path to a plain path or URL: already canonical and
            # valid, so two regex matches stand in for every check below.
            key = source
            entry = MapEntry(target, permanent, status, line)
        else:
            key, entry, query_key = _map_row(
                source, target, row_permanent, row_status, line, permanent, status, fail, csv_source
            )
            has_query = has_query or query_key
        previous = entries.get(key)
        if previous is not None and previous.target != target:
            at = f"{csv_source}:{line}" if csv_source and line else f"row {source!r}"
            raise fail(
                f"{at}: from {source!r} is mapped twice, to {previous.target!r} and {target!r}",
                line,
            )
        entries[key] = entry
    return MapAction(entries, csv_source, has_query)


def _rule(node: Any, index: int, source: str | None, base: Path) -> Rule | None:
    where = _Where(source, node, index)
    if not isinstance(node, dict):
        where.fail(None, f"a rule must be a mapping, got {node!r}")
    name = node.get("name")
    if name is not None and not isinstance(name, str):
        where.fail("name", f"must be a string, got {name!r}")
    where.name = name
    _unknown_keys(node, RULE_KEYS, where)
    node = _expand(node, where, "")

    actions = [key for key in ACTION_KEYS if key in node]
    if len(actions) != 1:
        if not actions:
            where.fail(None, "no action: give exactly one of " + ", ".join(ACTION_KEYS))
        where.fail(
            actions[1], f"two actions in one rule ({actions[0]} and {actions[1]}); give exactly one"
        )
    kind = actions[0]

    enabled = _bool(node.get("enabled", True), where, "enabled")
    path = _path(node["from"], where, "from") if "from" in node else None
    host: HostTemplate | None = None
    if "host" in node:
        if not isinstance(node["host"], str):
            where.fail("host", f"must be a string, got {node['host']!r}")
        try:
            host = compile_host(node["host"])
        except ValueError as error:
            where.fail("host", str(error))
    scheme = node.get("scheme")
    if scheme is not None and scheme not in ("http", "https"):
        where.fail("scheme", f"must be 'http' or 'https', got {scheme!r}")
    methods = None
    if "methods" in node:
        methods = frozenset(m.upper() for m in _str_list(node["methods"], where, "methods"))
    excepts = tuple(
        _path(p, where, "except") for p in _str_list(node.get("except", []), where, "except")
    )
    active_from = active_until = None
    if "active" in node:
        window = _mapping(node["active"], where, "active")
        inner = where.inner(window, "active")
        _unknown_keys(window, frozenset({"from", "until"}), inner)
        if "from" in window:
            active_from = _moment(window["from"], inner, "from").timestamp()
        if "until" in window:
            active_until = _moment(window["until"], inner, "until").timestamp()
        if active_from is not None and active_until is not None and active_until <= active_from:
            inner.fail("until", "must come after from")
    permanent, status = _status(node, where)
    sunset = _moment(node["sunset"], where, "sunset") if "sunset" in node else None
    deprecated = _moment(node["deprecated"], where, "deprecated") if "deprecated" in node else None
    if deprecated is not None and sunset is None:
        where.fail("deprecated", "goes with sunset")

    for key in ("https_port", "websockets", "hsts"):
        if key in node and kind != "https":
            where.fail(key, "only applies to an https rule")
    if "keep_query" in node and kind not in ("to", "map", "maintenance"):
        where.fail("keep_query", f"does not apply to {kind}: it keeps the whole URL")

    action: Action
    if kind == "to":
        target = _target(node["to"], where, "to")
        _check_placeholders(target, path, host, where, "to")
        action = ToAction(target)
    elif kind == "https":
        if not _bool(node["https"], where, "https"):
            where.fail("https", "https: false does nothing; remove the rule or set enabled: false")
        port = _int(node["https_port"], where, "https_port", 1) if "https_port" in node else None
        if port is not None and port > 65535:
            where.fail("https_port", f"must be a port number, got {port!r}")
        websockets = node.get("websockets", "allow")
        if websockets not in ("allow", "deny"):
            where.fail("websockets", f"must be 'allow' or 'deny', got {websockets!r}")
        action = HttpsAction(
            port=None if port == 443 else port, deny_websockets=websockets == "deny"
        )
    elif kind == "trailing_slash":
        if node["trailing_slash"] not in ("add", "remove"):
            where.fail(
                "trailing_slash", f"must be 'add' or 'remove', got {node['trailing_slash']!r}"
            )
        action = SlashAction(add=node["trailing_slash"] == "add")
    elif kind == "maintenance":
        if permanent:
            where.fail(
                "status" if status else "permanent",
                "maintenance is temporary by nature; a permanent answer would be cached",
            )
        action = _maintenance(node["maintenance"], where, base)
    else:
        if path is not None:
            where.fail("from", "a map rule matches the from of its rows; remove this from")
        action = _map(node["map"], where, base, permanent, status)

    if not enabled:
        return None
    header_vary = tuple(
        name.title() for name, _ in _pairs(node.get("headers", {}), where, "headers")
    )
    cookies = _pairs(node.get("cookies", {}), where, "cookies")
    return Rule(
        index=index,
        name=name,
        line=where.line(),
        action=action,
        path=path,
        host=host,
        scheme=scheme,
        methods=methods,
        query=_pairs(node.get("query", {}), where, "query"),
        headers=tuple((n.lower(), v) for n, v in _pairs(node.get("headers", {}), where, "headers")),
        cookies=cookies,
        excepts=excepts,
        active_from=active_from,
        active_until=active_until,
        permanent=permanent,
        status=status,
        keep_query=_keep_query(node.get("keep_query", True), where),
        sunset=sunset,
        deprecated=deprecated,
        hsts=_hsts(node["hsts"], where) if "hsts" in node else None,
        report_only=_bool(node.get("report_only", False), where, "report_only"),
        vary=header_vary + (("Cookie",) if cookies else ()),
        key_lines=dict(node.key_lines) if isinstance(node, LineDict) else {},
    )


# --- the document ---------------------------------------------------------------------------


def compile_document(data: Any, source: str | None = None, base: Path | None = None) -> Document:
    """Validate plain document values and compile them; :class:`RuleError` if invalid."""
    where = _Where(source, data)
    if not isinstance(data, dict):
        where.fail(None, "a rule document must be a mapping with version, settings and rules")
    _unknown_keys(data, TOP_KEYS, where)
    version = data.get("version", 1)
    if version != 1 and version != "1":
        where.fail("version", f"unsupported version {version!r}; this release reads version 1")
    settings = _settings(data.get("settings"), where)
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        where.fail("rules", f"must be a list of rules, got {raw_rules!r}")
    folder = base if base is not None else Path.cwd()
    rules: list[Rule] = []
    names: dict[str, int] = {}
    disabled = 0  # counted so that check, serve and repr can say "4 rules (1 disabled)"
    for index, node in enumerate(raw_rules):
        rule = _rule(node, index, source, folder)
        name = node.get("name") if isinstance(node, dict) else None
        if isinstance(name, str):
            if name in names:
                _Where(source, node, index, name).fail(
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
    return Document(settings, tuple(rules), source, tuple(tests), disabled)


def load_source(rules: str | os.PathLike[str] | Mapping[str, Any]) -> Document:
    """Read and compile a path (``.yaml``/``.yml``/``.json``) or a document mapping."""
    if isinstance(rules, str | os.PathLike):
        path = Path(rules)
        return compile_document(read_file(path), str(rules), path.resolve().parent)
    if isinstance(rules, Mapping):
        return compile_document(dict(rules))
    raise TypeError(f"rules must be a path, a dict or a RuleSet, got {type(rules).__name__}")
