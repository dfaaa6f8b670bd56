"""``case_sensitive: false``: ``from``, ``except`` and map rows match whatever the case."""

from __future__ import annotations

from redirectware.kinds.base import Imported, Key, Kind, Refuses, Surface, Unsayable, everywhere

KIND = Kind(
    key="case_sensitive",
    role="option",
    title="Any case: case_sensitive",
    summary=(
        "`case_sensitive: false` (on a rule, or in `settings` for every rule) matches `from`, "
        "`except`, `from_regex` and map rows whatever the case of the request's path, as IIS "
        "and many CMSs did: `/About-Us` and `/ABOUT-US` both hit `/about-us`. What a capture "
        "copies into the target keeps the request's own case."
    ),
    keys=(Key("case_sensitive", "bool", "true", "false: match whatever the case"),),
    example="""\
version: 1
rules:
  - name: legacy-pages
    case_sensitive: false
    map:
      - {from: /About-Us.aspx, to: /about/}
    permanent: true
  - name: docs
    case_sensitive: false
    from: /Docs/{page}
    to: /documentation/{page}
tests:
  - request: GET http://example.com/ABOUT-US.ASPX
    expect: {status: 301, location: /about/}
  - request: POST http://example.com/about-us.aspx
    expect: {status: 308, location: /about/}
  - request: GET http://example.com/docs/Intro
    expect: {status: 302, location: /documentation/Intro}
  - request: GET http://example.com/about-us.aspxx
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: docs
    case_sensitive: sometimes
    from: /Docs/{page}
    to: /documentation/{page}
""",
        "case_sensitive",
    ),
    surfaces=everywhere(
        export_cloudflare=Refuses("a Bulk Redirect row matches one spelling of its path"),
        export_netlify=Refuses("Netlify compares the case of paths"),
        import_netlify=Unsayable("Netlify matches paths case-sensitively"),
        import_vercel=Unsayable("Vercel matches paths case-sensitively"),
        import_apache=Unsayable(
            "the importer reads RewriteRule's [NC] where given; Redirect matches case-sensitively"
        ),
        import_cloudflare=Unsayable("the importer reads Bulk Redirects as exact URLs"),
        import_django=Unsayable("contrib.redirects matches old_path exactly"),
        import_wagtail=Unsayable("Wagtail matches the old path as it stores it"),
    ),
    imports={
        Surface.IMPORT_NGINX: Imported(
            "map $uri $moved {\n  /About-Us.aspx /about/;\n}\n"
            "server {\n  if ($moved) { return 301 $moved; }\n}\n",
            (("GET http://example.com/ABOUT-US.ASPX", 301, "/about/"),),
        ),
    },
    explain=lambda rule: (
        None if rule.case_sensitive else ("matching: case-insensitive (case_sensitive: false)")
    ),
    in_use=lambda rule: not rule.case_sensitive,
)
