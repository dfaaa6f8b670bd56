"""``host``: match the request's host; with an absolute ``to``, move a whole host."""

from __future__ import annotations

from redirectware.kinds.base import (
    Imported,
    Key,
    Kind,
    Surface,
    Unsayable,
    everywhere,
)

# A list export says exact paths: no whole host moved (a rule without from) there.
_LIST_EXAMPLE = """\
version: 1
settings:
  allowed_hosts: [example.com, www.example.com]
rules:
  - name: old-about
    host: www.example.com
    from: /about
    to: https://example.com/about-us
    status: 308
tests:
  - request: GET http://www.example.com/about
    expect: {status: 308, location: "https://example.com/about-us"}
  - request: GET http://example.com/about
    expect: pass
"""

KIND = Kind(
    key="host",
    role="option",
    title="Move a host: host",
    summary=(
        "A rule with `host` applies only to requests for that host: an exact name, "
        "`*.example.com`, or a template such as `{sub}.example.com` whose captures a target "
        "may use. With `to: https://example.com{path}` it moves a whole host; a chain such as "
        "www -> apex -> a moved path is answered with one redirect to the end of it."
    ),
    keys=(
        Key(
            "host",
            "host name or template",
            "any host",
            "`example.com`, `*.example.com`, `{sub}.example.com`",
        ),
    ),
    example="""\
version: 1
settings:
  allowed_hosts: [example.com, www.example.com]
rules:
  - name: canonical-host
    host: www.example.com
    to: https://example.com{path}
    permanent: true
  - name: api-v1-moved
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
    permanent: true
tests:
  - request: GET http://www.example.com/about?x=1
    expect: {status: 301, location: "https://example.com/about?x=1"}
  - request: GET http://www.example.com/api/v1/orders
    expect: {status: 301, location: https://example.com/api/v2/orders}
  - request: POST http://www.example.com/api/v1/orders
    expect: {status: 308, location: https://example.com/api/v2/orders}
  - request: GET http://example.com/about
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: canonical-host
    host: "www.exa mple.com"
    to: https://example.com{path}
""",
        "host",
    ),
    surfaces=everywhere(
        import_netlify=Unsayable("a _redirects file belongs to one site: its rules name paths"),
        import_vercel=Unsayable("the importer reads paths; a has condition on host is not read"),
        import_apache=Unsayable(
            "a Redirect line belongs to its VirtualHost: the importer reads the paths"
        ),
        import_django=Unsayable("rows belong to a Site; the importer reads paths"),
        import_wagtail=Unsayable("rows belong to a Site; the importer reads paths"),
    ),
    imports={
        Surface.IMPORT_NGINX: Imported(
            "server {\n  server_name www.example.com;\n"
            "  return 301 https://example.com$request_uri;\n}\n",
            (("GET http://www.example.com/about", 301, "https://example.com/about"),),
        ),
        Surface.IMPORT_CLOUDFLARE: Imported(
            "www.example.com/about,https://example.com/about,301\n",
            (("GET http://www.example.com/about", 301, "https://example.com/about"),),
        ),
    },
    in_use=lambda rule: rule.host is not None,
    surface_examples=dict.fromkeys(
        (Surface.EXPORT_CLOUDFLARE, Surface.EXPORT_NETLIFY), _LIST_EXAMPLE
    ),
)
