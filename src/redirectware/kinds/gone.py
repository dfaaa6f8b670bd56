"""``gone: true`` (410 Gone) or ``gone: 451``: an answer for URLs that are gone for good."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redirectware.document.fields import Where
from redirectware.engine.model import GONE_CODES, Action, GoneAction
from redirectware.kinds.base import (
    Imported,
    Key,
    Kind,
    Refuses,
    RuleContext,
    Surface,
    Unsayable,
    everywhere,
)


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


KIND = Kind(
    key="gone",
    role="action",
    title="Gone for good: gone",
    summary=(
        "Answers `410 Gone` (or `451 Unavailable For Legal Reasons` with `gone: 451`) with a "
        "short body, to every method, cacheable like a permanent redirect. Search engines drop "
        "a 410 faster than a 404. A map row with an empty `to` (and status 410) does the same "
        "for one URL."
    ),
    keys=(Key("gone", "true | 451", "(required)", "410, or 451 for legal reasons"),),
    example="""\
version: 1
rules:
  - name: old-campaign
    from: /promo/{rest:path}
    gone: true
tests:
  - request: GET http://example.com/promo/summer-2019
    expect: {status: 410}
  - request: POST http://example.com/promo/summer-2019
    expect: {status: 410}
  - request: GET http://example.com/promotions
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: old-campaign
    from: /promo/{rest:path}
    gone: 404
""",
        "must be true (410 Gone) or 451",
    ),
    surfaces=everywhere(
        export_cloudflare=Refuses("a Bulk Redirect only redirects: it cannot answer 410 or 451"),
        export_netlify=Refuses(
            "Netlify answers 410/451 by serving a page of the site: write "
            "'/old  /gone.html  410!' with a page of yours"
        ),
        import_vercel=Unsayable("a vercel.json redirect always has a destination"),
        import_cloudflare=Unsayable("a Bulk Redirect always has a target URL"),
        import_wagtail=Unsayable("a Wagtail redirect always has a target"),
    ),
    imports={
        Surface.IMPORT_NETLIFY: Imported(
            "/promo/*  /404.html  410!\n",
            (("GET http://example.com/promo/summer", 410, None),),
        ),
        Surface.IMPORT_NGINX: Imported(
            "location /promo/ { return 410; }\n",
            (("GET http://example.com/promo/summer", 410, None),),
        ),
        Surface.IMPORT_APACHE: Imported(
            "Redirect gone /promo\n",
            (("GET http://example.com/promo/summer", 410, None),),
        ),
        Surface.IMPORT_DJANGO: Imported(
            '[{"model": "redirects.redirect", "pk": 1, "fields": {"site": 1, '
            '"old_path": "/promo/summer", "new_path": ""}}]\n',
            (("GET http://example.com/promo/summer", 410, None),),
        ),
    },
    parse=parse_gone,
    action=GoneAction,
)
