"""``maintenance``: send every request to a page, or answer 503, while switched on."""

from __future__ import annotations

from collections.abc import Mapping
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
from redirectware.engine.model import Action, FlagFile, Maintenance
from redirectware.engine.proxies import TrustedProxies
from redirectware.engine.urls import canonical_literal
from redirectware.kinds.base import Key, Kind, Refuses, RuleContext, Unsayable, everywhere

MAINTENANCE_KEYS = frozenset({"enabled", "to", "retry_after", "allow_ips", "flag_file"})


def parse_maintenance(node: Mapping[str, Any], where: Where, rule: RuleContext) -> Action:
    """``maintenance``: never permanent."""
    if rule.permanent:
        where.fail(
            "status" if rule.status else "permanent",
            "maintenance is temporary by nature; a permanent answer would be cached",
        )
    return _maintenance(node["maintenance"], where, rule.base)


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


_EDGE = (
    "maintenance switches at run time (a flag file, an environment variable, allow_ips): "
    "serve it from the middleware, or use the server's own maintenance page"
)
_NONE = "the source format has no maintenance switch"

KIND = Kind(
    key="maintenance",
    role="action",
    title="A maintenance window: maintenance",
    summary=(
        "While switched on (`enabled`, or the existence of `flag_file`), answers every "
        "request it matches with a temporary redirect to `to`, or with `503 Service "
        "Unavailable` and `Retry-After` when there is no `to`. The target itself, the "
        "`except` paths and the `allow_ips` clients are left alone. Never permanent."
    ),
    keys=(
        Key("maintenance.enabled", "bool", "true (false with flag_file)", "the switch"),
        Key("maintenance.to", "path or URL", "none: 503", "the maintenance page"),
        Key("maintenance.retry_after", "int seconds", "none", "`Retry-After` of the 503"),
        Key("maintenance.allow_ips", "list of IPs/CIDRs", "none", "clients let through"),
        Key("maintenance.flag_file", "path", "none", "on while this file exists"),
    ),
    example="""\
version: 1
settings:
  allowed_hosts: [example.com]
rules:
  - name: maintenance
    maintenance:
      enabled: true
      retry_after: 600
      allow_ips: [10.0.0.0/8]
    except: ["/static/{file:path}", /healthz]
tests:
  - request: GET http://example.com/checkout
    expect: {status: 503, headers: {Retry-After: "600"}}
  - request: POST http://example.com/checkout
    expect: {status: 503}
  - request: GET http://example.com/static/app.css
    expect: pass
  - request: GET http://example.com/checkout
    client: 10.1.2.3
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: maintenance
    maintenance: {retry_after: 600}
    permanent: true
""",
        "maintenance is temporary by nature",
    ),
    surfaces=everywhere(
        export_nginx=Refuses(_EDGE),
        export_caddy=Refuses(_EDGE),
        export_apache=Refuses(_EDGE),
        export_cloudflare=Refuses(_EDGE),
        export_netlify=Refuses(_EDGE),
        import_netlify=Unsayable(_NONE),
        import_vercel=Unsayable(_NONE),
        import_nginx=Unsayable(_NONE),
        import_apache=Unsayable(_NONE),
        import_cloudflare=Unsayable(_NONE),
        import_django=Unsayable(_NONE),
        import_wagtail=Unsayable(_NONE),
    ),
    parse=parse_maintenance,
    action=Maintenance,
)
