"""``to``: redirect to a target built from what the rule captured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redirectware.document.fields import Where, as_target
from redirectware.engine.model import Action, ToAction
from redirectware.engine.regex import RegexPath
from redirectware.engine.templates import BUILTIN_NAMES, HostTemplate, PathTemplate, Target
from redirectware.kinds.base import (
    Imported,
    Key,
    Kind,
    RuleContext,
    Surface,
    Unsayable,
    everywhere,
)


def parse_to(node: Mapping[str, Any], where: Where, rule: RuleContext) -> Action:
    """``to``: a target whose placeholders the rule captures."""
    target = as_target(node["to"], where, "to")
    check_placeholders(target, rule.path or rule.regex, rule.host, where, "to")
    return ToAction(target)


def check_placeholders(
    target: Target,
    path: PathTemplate | RegexPath | None,
    host: HostTemplate | None,
    where: Where,
    key: str,
    also: frozenset[str] = frozenset(),
) -> None:
    """Every placeholder of ``target`` is captured (or one of ``also``, which the kind fills
    in itself), and none from the path stands in its host."""
    captured = set(BUILTIN_NAMES) | also
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


_EXACT_ROWS = "its redirects are exact paths, which the importer writes as map rows"

KIND = Kind(
    key="to",
    role="action",
    title="Move a URL: to",
    summary=(
        "Redirects to a target built from what `from` (or `host`, or `from_regex`) captured, "
        "plus `{scheme}`, `{host}` and `{path}` of the request. The request's query is kept "
        "and appended unless `keep_query` says otherwise."
    ),
    keys=(
        Key("to", "path or URL template", "(required)", "where the request goes"),
        Key(
            "from",
            "path template",
            "any path",
            "`{name}` one segment, `{name:int}` digits, `{name:path}` the rest of the path",
        ),
        Key(
            "keep_query",
            "bool or list",
            "true",
            "keep the request's query; false drops it; a "
            "list keeps only those names (`utm_*` a prefix)",
        ),
        Key("permanent", "bool", "false", "301 (or 308) instead of 302 (or 307)"),
        Key(
            "status",
            "301, 302, 307 or 308",
            "(from permanent)",
            "the status for GET and HEAD; other methods get 307 or 308",
        ),
    ),
    example="""\
version: 1
rules:
  - name: api-v1-moved
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
    permanent: true
tests:
  - request: GET http://example.com/api/v1/orders?page=2
    expect: {status: 301, location: "/api/v2/orders?page=2"}
  - request: POST http://example.com/api/v1/orders
    expect: {status: 308, location: /api/v2/orders}
  - request: GET http://example.com/api/v10/orders
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: api-v1-moved
    from: /api/v1/{rest:path}
    to: /api/v2/{resst}
""",
        "placeholder {resst} is not captured",
    ),
    surfaces=everywhere(
        import_django=Unsayable(_EXACT_ROWS),
        import_wagtail=Unsayable(_EXACT_ROWS),
    ),
    imports={
        Surface.IMPORT_NETLIFY: Imported(
            "/api/v1/*  /api/v2/:splat  301!\n",
            (
                ("GET http://example.com/api/v1/orders", 301, "/api/v2/orders"),
                ("POST http://example.com/api/v1/orders", 308, "/api/v2/orders"),
            ),
        ),
        Surface.IMPORT_VERCEL: Imported(
            '{"redirects": [{"source": "/api/v1/:rest*", "destination": "/api/v2/:rest*", '
            '"permanent": true}]}\n',
            (("GET http://example.com/api/v1/orders", 308, "/api/v2/orders"),),
        ),
        Surface.IMPORT_NGINX: Imported(
            "location /old-page { return 301 /new-page; }\n",
            (("GET http://example.com/old-page", 301, "/new-page"),),
        ),
        Surface.IMPORT_APACHE: Imported(
            "Redirect permanent /old-page /new-page\n",
            (("GET http://example.com/old-page", 301, "/new-page"),),
        ),
        Surface.IMPORT_CLOUDFLARE: Imported(
            "example.com/old-page,https://example.com/new-page,301\n",
            (("GET http://example.com/old-page", 301, "https://example.com/new-page"),),
        ),
    },
    parse=parse_to,
    action=ToAction,
    surface_examples={
        # Netlify's splat also matches the path without its last slash, so {name:path} is
        # refused there; one segment at a time it says the same.
        Surface.EXPORT_NETLIFY: """\
version: 1
rules:
  - name: blog-moved
    from: /blog/{slug}
    to: /articles/{slug}
    status: 308
tests:
  - request: GET http://example.com/blog/hello
    expect: {status: 308, location: /articles/hello}
  - request: GET http://example.com/blog/hello/more
    expect: pass
""",
    },
)
