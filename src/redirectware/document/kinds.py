"""The parser of each rule kind, in the order of the engine's behaviour and the model's
actions: ``to``, ``https``, ``trailing_slash``, ``maintenance``, ``map``, ``gone``.

Each reads its own keys from a rule and returns its action of :mod:`redirectware.engine.model`;
what each action does on a request is one ``_step_*`` method of
:class:`redirectware.engine.engine.Engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redirectware.document.fields import (
    Where,
    as_bool,
    as_int,
    as_mapping,
    as_str_list,
    as_target,
    check_keys,
)
from redirectware.document.maps import compile_map, normal_map
from redirectware.engine.model import (
    GONE_CODES,
    Action,
    FlagFile,
    GoneAction,
    Hsts,
    HttpsAction,
    Maintenance,
    SlashAction,
    ToAction,
)
from redirectware.engine.proxies import TrustedProxies
from redirectware.engine.regex import RegexPath
from redirectware.engine.templates import BUILTIN_NAMES, HostTemplate, PathTemplate, Target
from redirectware.engine.urls import canonical_literal

MAINTENANCE_KEYS = frozenset({"enabled", "to", "retry_after", "allow_ips", "flag_file"})
HSTS_KEYS = frozenset({"max_age", "include_subdomains", "preload"})


@dataclass(frozen=True)
class RuleContext:
    """What a kind's parser may need besides its own keys: the rule's ``from`` and ``host``,
    its status, and the folder that relative file names (CSV, flag file) start from."""

    path: PathTemplate | None
    host: HostTemplate | None
    permanent: bool
    status: int | None
    base: Path
    #: ``settings.map_cache``: a folder for compiled maps, None for the defaults, False for none.
    map_cache: str | bool | None = None
    #: False under ``case_sensitive: false``: a map's rows then match whatever the case.
    case_sensitive: bool = True
    #: ``trailing_slash_match: ignore``: a map's rows match with or without a slash.
    ignore_trailing_slash: bool = False
    #: ``from_regex``, whose named groups a ``to`` may use.
    regex: RegexPath | None = None


def parse_to(node: Mapping[str, Any], where: Where, rule: RuleContext) -> Action:
    """``to``: a target whose placeholders the rule captures."""
    target = as_target(node["to"], where, "to")
    _check_placeholders(target, rule.path or rule.regex, rule.host, where, "to")
    return ToAction(target)


def parse_https(node: Mapping[str, Any], where: Where, rule: RuleContext) -> Action:
    """``https: true``, with ``https_port`` and ``websockets``."""
    if not as_bool(node["https"], where, "https"):
        where.fail("https", "https: false does nothing; remove the rule or set enabled: false")
    port = as_int(node["https_port"], where, "https_port", 1) if "https_port" in node else None
    if port is not None and port > 65535:
        where.fail("https_port", f"must be a port number, got {port!r}")
    websockets = node.get("websockets", "allow")
    if websockets not in ("allow", "deny"):
        where.fail("websockets", f"must be 'allow' or 'deny', got {websockets!r}")
    return HttpsAction(port=None if port == 443 else port, deny_websockets=websockets == "deny")


def parse_trailing_slash(node: Mapping[str, Any], where: Where, rule: RuleContext) -> Action:
    """``trailing_slash: add | remove``."""
    if node["trailing_slash"] not in ("add", "remove"):
        where.fail("trailing_slash", f"must be 'add' or 'remove', got {node['trailing_slash']!r}")
    return SlashAction(add=node["trailing_slash"] == "add")


def parse_maintenance(node: Mapping[str, Any], where: Where, rule: RuleContext) -> Action:
    """``maintenance``: never permanent."""
    if rule.permanent:
        where.fail(
            "status" if rule.status else "permanent",
            "maintenance is temporary by nature; a permanent answer would be cached",
        )
    return _maintenance(node["maintenance"], where, rule.base)


def parse_map(node: Mapping[str, Any], where: Where, rule: RuleContext) -> Action:
    """``map``: rows from a CSV file or an inline list; the rule's status is their default."""
    if rule.path is not None:
        where.fail("from", "a map rule matches the from of its rows; remove this from")
    if rule.regex is not None:
        where.fail("from_regex", "a map rule matches the from of its rows; remove from_regex")
    host = rule.host.source.strip().lower() if rule.host is not None else None
    action = compile_map(
        node["map"], where, rule.base, rule.permanent, rule.status, rule.map_cache, host
    )
    if rule.case_sensitive and not rule.ignore_trailing_slash:
        return action
    return normal_map(action, where, not rule.case_sensitive, rule.ignore_trailing_slash)


def parse_gone(node: Mapping[str, Any], where: Where, rule: RuleContext) -> Action:
    """``gone: true`` (410) or ``gone: 451``: an answer, so no redirect status applies."""
    value = node["gone"]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes")):
        code = 410
    elif isinstance(value, int) and not isinstance(value, bool) and value in GONE_CODES:
        code = value
    else:
        where.fail("gone", f"must be true (410 Gone) or 451, got {value!r}")
    for key in ("permanent", "status"):
        if key in node:
            where.fail(
                key,
                "does not apply to gone: it answers 410 (or 451 with gone: 451), not a redirect",
            )
    return GoneAction(code)


Parser = Callable[[Mapping[str, Any], Where, RuleContext], Action]
#: Each action key and its parser, in document order of the README's reference.
PARSERS: dict[str, Parser] = {
    "to": parse_to,
    "https": parse_https,
    "trailing_slash": parse_trailing_slash,
    "maintenance": parse_maintenance,
    "map": parse_map,
    "gone": parse_gone,
}
#: The keys that name an action: a rule has exactly one.
ACTION_KEYS = tuple(PARSERS)


def _check_placeholders(
    target: Target,
    path: PathTemplate | RegexPath | None,
    host: HostTemplate | None,
    where: Where,
    key: str,
) -> None:
    captured = set(BUILTIN_NAMES)
    if path is not None:
        captured.update(path.names)
    if host is not None:
        captured.update(host.names)
    for name in sorted(target.names - captured):
        origin = " (this rule has no from)"
        if path is not None:
            origin = (
                f" by {'from_regex' if isinstance(path, RegexPath) else 'from'} {path.source!r}"
            )
        where.fail(key, f"placeholder {{{name}}} is not captured{origin}")
    # A value that goes into the host of a Location must itself have come from a host.
    safe_in_authority = {"host", "scheme"} | set(host.names if host is not None else ())
    for name in sorted(target.authority_names - safe_in_authority):
        where.fail(
            key,
            f"placeholder {{{name}}} comes from the path and cannot stand in the "
            "host of a target (that would be an open redirect)",
        )


def parse_hsts(value: Any, where: Where) -> Hsts:
    """An https rule's ``hsts``: ``true`` (a year) or ``{max_age, include_subdomains, ...}``."""
    if value is True:
        return Hsts(max_age=31536000)
    node = as_mapping(value, where, "hsts")
    inner = where.inner(node, "hsts")
    check_keys(node, HSTS_KEYS, inner)
    if "max_age" not in node:
        inner.fail(None, "needs max_age (seconds), e.g. {max_age: 31536000}")
    return Hsts(
        max_age=as_int(node["max_age"], inner, "max_age"),
        include_subdomains=as_bool(
            node.get("include_subdomains", False), inner, "include_subdomains"
        ),
        preload=as_bool(node.get("preload", False), inner, "preload"),
    )


def _maintenance(value: Any, where: Where, base: Path) -> Maintenance:
    node = as_mapping(value, where, "maintenance")
    inner = where.inner(node, "maintenance")
    check_keys(node, MAINTENANCE_KEYS, inner)
    target = as_target(node["to"], inner, "to") if "to" in node else None
    if target is not None and target.names:
        inner.fail("to", "a maintenance target takes no placeholders")
    flag = node.get("flag_file")
    if flag is not None and not isinstance(flag, str):
        inner.fail("flag_file", f"must be a file path, got {flag!r}")
    try:
        allow = TrustedProxies.parse(as_str_list(node.get("allow_ips", []), inner, "allow_ips"))
    except ValueError as error:
        inner.fail("allow_ips", f"{error} (write an IP address or a CIDR like 10.0.0.0/8)")
    retry = node.get("retry_after")
    # With neither switch given, the rule's presence is the switch; a flag file alone
    # means "on while the file exists".
    enabled = as_bool(node.get("enabled", flag is None), inner, "enabled")
    target_path = None
    if target is not None and not target.absolute:
        target_path = canonical_literal(target.source.split("?", 1)[0])
    return Maintenance(
        enabled=enabled,
        target=target,
        target_path=target_path,
        retry_after=None if retry is None else as_int(retry, inner, "retry_after"),
        allow_ips=allow,
        flag_file=None if flag is None else FlagFile(str(base / flag)),
    )
