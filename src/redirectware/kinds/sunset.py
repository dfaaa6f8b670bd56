"""``sunset`` and ``deprecated``: the ``Sunset`` and ``Deprecation`` headers of a moved API."""

from __future__ import annotations

from redirectware.kinds.base import Key, Kind, Refuses, Unsayable, everywhere

_NONE = "the source format has no Sunset or Deprecation header for a redirect"

KIND = Kind(
    key="sunset",
    role="option",
    title="Retiring an API: sunset and deprecated",
    summary=(
        "`sunset: 2027-06-30` adds `Sunset` (RFC 8594) to the rule's answers and a "
        "`Deprecation` header (RFC 9745) with the same date, so API clients learn that the old "
        "URL goes away and when. `deprecated:` gives `Deprecation` an earlier date; on its own, "
        "without `sunset:`, it sends `Deprecation` alone: deprecated, no end date yet."
    ),
    keys=(
        Key("sunset", "ISO 8601 date or time", "none", "the `Sunset` header"),
        Key(
            "deprecated",
            "ISO 8601 date or time",
            "the sunset date",
            "the `Deprecation` header; without `sunset`, sent alone",
        ),
    ),
    example="""\
version: 1
rules:
  - name: api-v1-moved
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
    permanent: true
    sunset: 2027-06-30
    deprecated: 2026-01-01
tests:
  - request: GET http://example.com/api/v1/orders
    expect:
      status: 301
      location: /api/v2/orders
      headers: {Sunset: "Wed, 30 Jun 2027 00:00:00 GMT"}
  - request: POST http://example.com/api/v1/orders
    expect: {status: 308, location: /api/v2/orders}
  - request: GET http://example.com/api/v2/orders
    expect: pass
""",
    broken=(
        """\
version: 1
rules:
  - name: api-v1-moved
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
    sunset: next june
""",
        "sunset",
    ),
    surfaces=everywhere(
        export_cloudflare=Refuses("a Bulk Redirect cannot send Sunset/Deprecation headers"),
        export_netlify=Refuses("Netlify's _redirects cannot send Sunset/Deprecation headers"),
        import_netlify=Unsayable(_NONE),
        import_vercel=Unsayable(_NONE),
        import_nginx=Unsayable(_NONE),
        import_apache=Unsayable(_NONE),
        import_cloudflare=Unsayable(_NONE),
        import_django=Unsayable(_NONE),
        import_wagtail=Unsayable(_NONE),
    ),
    in_use=lambda rule: rule.sunset is not None or rule.deprecated is not None,
)
