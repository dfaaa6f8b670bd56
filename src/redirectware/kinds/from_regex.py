"""``from_regex``: match the path with a regular expression, run on RE2."""

from __future__ import annotations

from redirectware.kinds.base import Imported, Key, Kind, Refuses, Surface, Unsayable, everywhere

KIND = Kind(
    key="from_regex",
    role="option",
    title="Patterns: from_regex",
    summary=(
        "Instead of `from`, a regular expression matched against the whole path (anchored at "
        "both ends). Named groups `(?P<name>...)` feed `{name}` in `to`. It runs on RE2 "
        "(extra `redirectware[regex]`), which matches in linear time whatever the pattern, so "
        "no pattern can be made to stall a worker. Use `from` where it can say it: a "
        "template is faster and clearer."
    ),
    keys=(Key("from_regex", "RE2 pattern", "none", "instead of `from`; named groups feed `to`"),),
    example="""\
version: 1
rules:
  - name: dated-posts
    from_regex: "/(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/(?P<slug>[a-z0-9-]+)\\\\.html"
    to: /blog/{year}/{slug}/
    permanent: true
tests:
  - request: GET http://example.com/2019/04/hello-world.html
    expect: {status: 301, location: /blog/2019/hello-world/}
  - request: POST http://example.com/2019/04/hello-world.html
    expect: {status: 308, location: /blog/2019/hello-world/}
  - request: GET http://example.com/2019/4/hello-world.html
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: dated-posts
    from_regex: "/(?P<year>[0-9]{4}/"
    to: /blog/{year}/
""",
        "from_regex",
    ),
    surfaces=everywhere(
        export_cloudflare=Refuses("a Bulk Redirect has no regular expressions"),
        export_netlify=Refuses("Netlify has no regular expressions"),
        import_netlify=Unsayable("_redirects has no regular expressions"),
        import_cloudflare=Unsayable("a Bulk Redirect matches exact URLs and prefixes"),
        import_django=Unsayable("a row's old_path is an exact path"),
        import_wagtail=Unsayable("a redirect's old path is an exact path"),
    ),
    imports={
        Surface.IMPORT_VERCEL: Imported(
            '{"redirects": [{"source": "/:year(\\\\d{4})/:slug", '
            '"destination": "/blog/:year/:slug/", "permanent": true}]}\n',
            (
                ("GET http://example.com/2019/hello", 308, "/blog/2019/hello/"),
                ("GET http://example.com/19/hello", None, None),
            ),
        ),
        Surface.IMPORT_NGINX: Imported(
            # nginx reads a "{" as the start of a block: a regex holding one is quoted.
            'server {\n  location ~ "^/(?<year>[0-9]{4})/(?<slug>[a-z-]+)[.]html$" '
            "{ return 301 /blog/$year/$slug/; }\n}\n",
            (("GET http://example.com/2019/hello.html", 301, "/blog/2019/hello/"),),
        ),
        Surface.IMPORT_APACHE: Imported(
            "RedirectMatch 301 ^/([0-9]{4})/([a-z-]+)[.]html$ /blog/$1/$2/\n",
            (("GET http://example.com/2019/hello.html", 301, "/blog/2019/hello/"),),
        ),
    },
    explain=lambda rule: (
        None if rule.regex is None else (f"matching: from_regex {rule.regex.source!r}, run on RE2")
    ),
    in_use=lambda rule: rule.regex is not None,
)
