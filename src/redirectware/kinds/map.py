"""``map``: exact ``from`` -> ``to`` rows, for thousands of legacy URLs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redirectware.document.fields import Where
from redirectware.document.maps import compile_map, normal_map
from redirectware.engine.model import Action, MapAction
from redirectware.kinds.base import (
    Imported,
    Key,
    Kind,
    RuleContext,
    Surface,
    Unsayable,
    everywhere,
)


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


_OWN_RULE = "each line of the source is written as a rule of its own, naming its line"

# A list export says exact rows only: no query rows, no 410 rows.
_LIST_EXAMPLE = """\
version: 1
rules:
  - name: legacy
    permanent: true
    map:
      - {from: /about-us.html, to: /about/}
      - {from: /contact.html, to: /contact/}
tests:
  - request: GET http://example.com/about-us.html
    expect: {status: 308, location: /about/}
  - request: GET http://example.com/about-us.htm
    expect: pass
"""

KIND = Kind(
    key="map",
    role="action",
    title="Many exact moves: map",
    summary=(
        "Exact `from` -> `to` rows: an inline list, a CSV file (a header row naming `from`, "
        "`to` and optionally `permanent` or `status`), or `{database: alias}` for the rows "
        "editors manage in Django's admin. A row's `from` may carry a query (`/page.php?id=3`), "
        "matched exactly; a row with an empty `to` and status 410 or 451 answers gone. A CSV "
        "of a million rows is compiled once into a shared memory-mapped file."
    ),
    keys=(
        Key("map", "list, CSV path or {database: alias}", "(required)", "the rows"),
        Key("permanent", "bool", "false", "the default of every row"),
        Key("status", "301, 302, 307 or 308", "(from permanent)", "the default of every row"),
    ),
    example="""\
version: 1
rules:
  - name: legacy
    permanent: true
    map:
      - {from: /about-us.html, to: /about/}
      - {from: "/page.php?id=3", to: /pages/3}
      - {from: /press-kit, to: "", status: 410}
tests:
  - request: GET http://example.com/about-us.html?ref=x
    expect: {status: 301, location: "/about/?ref=x"}
  - request: POST http://example.com/about-us.html
    expect: {status: 308, location: /about/}
  - request: GET http://example.com/page.php?id=3
    expect: {status: 301, location: /pages/3}
  - request: GET http://example.com/press-kit
    expect: {status: 410}
  - request: GET http://example.com/about-us.htm
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: legacy
    from: /old
    map:
      - {from: /about-us.html, to: /about/}
""",
        "a map rule matches the from of its rows",
    ),
    surfaces=everywhere(
        import_netlify=Unsayable(_OWN_RULE),
        import_vercel=Unsayable(_OWN_RULE),
        import_apache=Unsayable(_OWN_RULE),
        import_cloudflare=Unsayable(_OWN_RULE),
    ),
    imports={
        Surface.IMPORT_NGINX: Imported(
            "map $uri $moved {\n  /about-us.html /about/;\n}\n"
            "server {\n  if ($moved) { return 301 $moved; }\n}\n",
            (("GET http://example.com/about-us.html", 301, "/about/"),),
        ),
        Surface.IMPORT_DJANGO: Imported(
            '[{"model": "redirects.redirect", "pk": 1, "fields": {"site": 1, '
            '"old_path": "/about-us.html", "new_path": "/about/"}}]\n',
            (("GET http://example.com/about-us.html", 301, "/about/"),),
        ),
        Surface.IMPORT_WAGTAIL: Imported(
            "From,To,Permanent\n/about-us.html,/about/,True\n",
            (("GET http://example.com/about-us.html", 301, "/about/"),),
        ),
    },
    parse=parse_map,
    action=MapAction,
    surface_examples=dict.fromkeys(
        (Surface.EXPORT_CLOUDFLARE, Surface.EXPORT_NETLIFY), _LIST_EXAMPLE
    ),
)
