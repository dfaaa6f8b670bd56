"""``https: true``: the same URL over https, with an optional HSTS policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redirectware.document.fields import Where, as_bool, as_int, as_mapping, check_keys
from redirectware.engine.model import Action, Hsts, HttpsAction
from redirectware.kinds.base import Key, Kind, Refuses, RuleContext, Unsayable, everywhere

HSTS_KEYS = frozenset({"max_age", "include_subdomains", "preload"})


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


_SCHEME = "the source format matches paths, not the scheme a request came over"

KIND = Kind(
    key="https",
    role="action",
    title="Force HTTPS: https",
    summary=(
        "Sends a request that came over http to the same URL over https (port 80 dropped). "
        "Behind a proxy, the scheme comes from `X-Forwarded-Proto` only when the proxy is in "
        "`trusted_proxies`. `hsts` adds `Strict-Transport-Security` to answers served over "
        "https, the app's own included."
    ),
    keys=(
        Key("https", "true", "(required)", "the rule's action"),
        Key("https_port", "int", "443", "the port of the https URL"),
        Key(
            "websockets",
            "allow | deny",
            "allow",
            "deny: refuse a websocket over ws:// (403) instead of passing it on",
        ),
        Key(
            "hsts",
            "true or mapping",
            "none",
            "`{max_age, include_subdomains, preload}`; true is a year",
        ),
        Key("except", "list of path templates", "none", "paths never redirected (health checks)"),
    ),
    example="""\
version: 1
settings:
  allowed_hosts: [example.com]
rules:
  - name: force-https
    https: true
    permanent: true
    except: [/healthz]
tests:
  - request: GET http://example.com/cart?x=1
    expect: {status: 301, location: "https://example.com/cart?x=1"}
  - request: POST http://example.com/cart
    expect: {status: 308, location: https://example.com/cart}
  - request: GET http://example.com/healthz
    expect: pass
  - request: GET https://example.com/cart
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: force-https
    https: true
    https_port: 70000
""",
        "must be a port number",
    ),
    surfaces=everywhere(
        export_cloudflare=Refuses(
            "a Bulk Redirect cannot tell http from https: turn on Cloudflare's Always Use HTTPS"
        ),
        export_netlify=Refuses("Netlify serves https itself: turn on its Force HTTPS setting"),
        import_netlify=Unsayable(_SCHEME),
        import_vercel=Unsayable(_SCHEME),
        import_nginx=Unsayable(
            "a server block listening on port 80 with return 301 https://... is read as a "
            "to rule on that host"
        ),
        import_apache=Unsayable(_SCHEME),
        import_cloudflare=Unsayable(_SCHEME),
        import_django=Unsayable(_SCHEME),
        import_wagtail=Unsayable(_SCHEME),
    ),
    parse=parse_https,
    action=HttpsAction,
)
