"""``trailing_slash: add | remove``: one spelling of every URL, with or without the slash."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redirectware.document.fields import Where
from redirectware.engine.model import Action, SlashAction
from redirectware.kinds.base import Key, Kind, Refuses, RuleContext, Unsayable, everywhere


def parse_trailing_slash(node: Mapping[str, Any], where: Where, rule: RuleContext) -> Action:
    """``trailing_slash: add | remove``."""
    if node["trailing_slash"] not in ("add", "remove"):
        where.fail("trailing_slash", f"must be 'add' or 'remove', got {node['trailing_slash']!r}")
    return SlashAction(add=node["trailing_slash"] == "add")


_NONE = "the source format has no rule that adds or removes a slash for every path"

KIND = Kind(
    key="trailing_slash",
    role="action",
    title="One spelling of a URL: trailing_slash",
    summary=(
        "`add` redirects `/blog/post` to `/blog/post/`; `remove` the reverse. With a `from`, "
        "only the paths it matches. Unlike Django's `APPEND_SLASH`, a POST gets 307 or 308 "
        "and keeps its body."
    ),
    keys=(
        Key("trailing_slash", "add | remove", "(required)", "the rule's action"),
        Key("from", "path template", "any path", "the paths it applies to"),
    ),
    example="""\
version: 1
settings:
  allowed_hosts: [example.com]
rules:
  - name: blog-slash
    from: /blog/{slug}
    trailing_slash: add
    permanent: true
tests:
  - request: GET http://example.com/blog/hello?ref=home
    expect: {status: 301, location: "/blog/hello/?ref=home"}
  - request: POST http://example.com/blog/hello
    expect: {status: 308, location: /blog/hello/}
  - request: GET http://example.com/blog/hello/
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: blog-slash
    trailing_slash: append
""",
        "must be 'add' or 'remove'",
    ),
    surfaces=everywhere(
        export_cloudflare=Refuses("a Bulk Redirect cannot add or remove the slash of every path"),
        export_netlify=Refuses("Netlify normalizes trailing slashes itself"),
        import_netlify=Unsayable(_NONE),
        import_vercel=Unsayable("vercel.json says it only site-wide, as trailingSlash"),
        import_nginx=Unsayable(_NONE),
        import_apache=Unsayable(_NONE),
        import_cloudflare=Unsayable(_NONE),
        import_django=Unsayable("APPEND_SLASH is a setting, not a row of the table"),
        import_wagtail=Unsayable(_NONE),
    ),
    parse=parse_trailing_slash,
    action=SlashAction,
)
