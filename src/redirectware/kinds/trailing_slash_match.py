"""``trailing_slash_match: ignore``: ``from``, ``except`` and map rows match with or without
a trailing slash."""

from __future__ import annotations

from redirectware.kinds.base import Imported, Key, Kind, Refuses, Surface, Unsayable, everywhere

KIND = Kind(
    key="trailing_slash_match",
    role="option",
    title="With or without the slash: trailing_slash_match",
    summary=(
        "`trailing_slash_match: ignore` (on a rule, or in `settings`) matches `/docs/intro` "
        "and `/docs/intro/` alike, as Netlify does, so one rule covers both spellings. The "
        "default, `strict`, matches only the spelling written. Not for a `trailing_slash` rule, "
        "whose point is the slash."
    ),
    keys=(Key("trailing_slash_match", "strict | ignore", "strict", "ignore: either spelling"),),
    example="""\
version: 1
rules:
  - name: docs-moved
    trailing_slash_match: ignore
    from: /docs/{page}
    to: /guide/{page}
    permanent: true
tests:
  - request: GET http://example.com/docs/intro/
    expect: {status: 301, location: /guide/intro}
  - request: GET http://example.com/docs/intro
    expect: {status: 301, location: /guide/intro}
  - request: PUT http://example.com/docs/intro/
    expect: {status: 308, location: /guide/intro}
  - request: GET http://example.com/docs/intro/more
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: docs-moved
    trailing_slash_match: loose
    from: /docs/{page}
    to: /guide/{page}
""",
        "must be 'strict' or 'ignore'",
    ),
    surfaces=everywhere(
        export_cloudflare=Refuses("a Bulk Redirect row matches one spelling of its path"),
        import_vercel=Unsayable("Vercel's patterns are strict about the slash"),
        import_nginx=Unsayable("nginx locations are strict about the slash"),
        import_apache=Unsayable("the importer writes patterns as the source has them"),
        import_cloudflare=Unsayable("a Bulk Redirect matches the URL as written"),
        import_django=Unsayable(
            "contrib.redirects tries the slash-added path only under "
            "APPEND_SLASH, which the importer reads as such"
        ),
        import_wagtail=Unsayable("the importer reads Wagtail's normalised paths as written"),
    ),
    imports={
        Surface.IMPORT_NETLIFY: Imported(
            "/docs/intro  /guide/intro  301!\n",
            (
                ("GET http://example.com/docs/intro/", 301, "/guide/intro"),
                ("GET http://example.com/docs/intro", 301, "/guide/intro"),
            ),
        ),
    },
    explain=lambda rule: (
        "matching: with or without a trailing slash (trailing_slash_match: ignore)"
        if rule.ignore_trailing_slash
        else None
    ),
    in_use=lambda rule: rule.ignore_trailing_slash,
)
