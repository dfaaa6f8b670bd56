"""``when: not_found``: a rule that applies only once the app has answered 404."""

from __future__ import annotations

from redirectware.kinds.base import Imported, Key, Kind, Refuses, Surface, Unsayable, everywhere

_EDGE_WAIT = (
    "an edge server answers before the app, so it cannot wait for the app's 404; serve "
    "this rule from the middleware"
)

KIND = Kind(
    key="when",
    role="option",
    title="Only for missing pages: when: not_found",
    summary=(
        "`when: not_found` (on a `to`, `map` or `gone` rule) lets the app answer first: the "
        "rule applies only when the app answers 404, as Netlify's unforced rules, Django's "
        "redirects app and Wagtail's do. Any method: a POST then gets 307 or 308, and the "
        "client sends its body again to the new URL."
    ),
    keys=(Key("when", "always | not_found", "always", "not_found: only after the app's 404"),),
    example="""\
version: 1
rules:
  - name: old-blog
    when: not_found
    from: /blog/{slug}
    to: /articles/{slug}
    permanent: true
tests:
  - request: GET http://example.com/blog/hello
    app: not_found
    expect: {status: 301, location: /articles/hello}
  - request: GET http://example.com/blog/hello
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: force-https
    when: not_found
    https: true
""",
        "not_found applies to to, map and gone rules",
    ),
    surfaces=everywhere(
        export_nginx=Refuses(_EDGE_WAIT),
        export_caddy=Refuses(_EDGE_WAIT),
        export_apache=Refuses(_EDGE_WAIT),
        export_cloudflare=Refuses(_EDGE_WAIT),
        export_netlify=Refuses(
            "a Netlify line without '!' yields to a file of the site, not to the app's 404: "
            "write it yourself if that is what you mean"
        ),
        import_vercel=Unsayable("vercel.json redirects apply before the filesystem"),
        import_nginx=Unsayable("the importer reads return and rewrite, not try_files fallbacks"),
        import_apache=Unsayable("the importer reads Redirect and RewriteRule, not ErrorDocument"),
        import_cloudflare=Unsayable("Bulk Redirects apply before the origin answers"),
    ),
    imports={
        Surface.IMPORT_NETLIFY: Imported(
            "/blog/:slug  /articles/:slug  301\n",
            (("GET http://example.com/blog/hello", 301, "/articles/hello"),),
        ),
        Surface.IMPORT_DJANGO: Imported(
            '[{"model": "redirects.redirect", "pk": 1, "fields": {"site": 1, '
            '"old_path": "/blog/hello", "new_path": "/articles/hello"}}]\n',
            (("GET http://example.com/blog/hello", 301, "/articles/hello"),),
        ),
        Surface.IMPORT_WAGTAIL: Imported(
            "From,To,Permanent\n/blog/hello,/articles/hello,True\n",
            (("GET http://example.com/blog/hello", 301, "/articles/hello"),),
        ),
    },
    in_use=lambda rule: rule.when_not_found,
)
