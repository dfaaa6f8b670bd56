"""The behaviour table every adapter must answer identically.

Each :class:`Case` is a rule document, a request and the expected answer. The engine, the
ASGI and WSGI middleware, Flask and Django all run this same table (see ``test_cases.py`` and
the adapter test modules), which is how we know they agree.

Requests come from 127.0.0.1, as every test client here reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: What the app behind the middleware answers, so a test can tell "passed through".
APP_BODY = b"app"


@dataclass(frozen=True)
class Case:
    """A rule document, one request, and the answer it must get."""

    id: str
    rules: list[dict[str, Any]]
    method: str
    url: str
    #: Expected status; None means the request reaches the app (which answers 200).
    status: int | None
    location: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    #: Response headers that must be present with exactly these values.
    expect_headers: tuple[tuple[str, str], ...] = ()
    #: The request target exactly as sent on the request line, when it is absolute-form
    #: (``http://host/path``); runners that can send it so do, the others send ``url``.
    target: str | None = None
    #: A request body. With it, the runner follows the redirect itself, sending the same
    #: method and body to the Location, and checks that both reached the app there.
    body: bytes | None = None

    @property
    def document(self) -> dict[str, Any]:
        """The whole rule document."""
        return {"version": 1, "settings": self.settings, "rules": self.rules}


HTTPS = {"name": "https", "https": True, "permanent": True}
API = {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}"}
API_PERMANENT = {**API, "permanent": True}
GO = {"name": "go", "from": "/go/{rest:path}", "to": "/{rest}"}
HTTPS_EXCEPT_HEALTHZ = {**HTTPS, "except": ["/healthz"]}
MAINTENANCE_EXCEPT_STATIC = {"maintenance": {"retry_after": 60}, "except": ["/static/{file:path}"]}
#: Moved documentation: each page's .md URL to its folder, and each folder to where it moved.
DOCS_MOVES = [
    {"from": "/docs/a.md", "to": "/docs/a/"},
    {"from": "/docs/a/", "to": "/docs/setup/a/"},
    {"from": "/docs/b.md", "to": "/docs/b/"},
    {"from": "/docs/b/", "to": "/docs/setup/b/"},
]
#: A body with UTF-8, CR LF, NUL and a byte that is not UTF-8: it must arrive as sent.
BODY = b'{"order": 42, "note": "caf\xc3\xa9"}\r\n\x00\xff'

CASES: list[Case] = [
    # --- the status table -------------------------------------------------------------
    *[
        Case(f"temporary-{m}", [API], m, "http://example.com/api/v1/x", 302 if m in ("GET", "HEAD") else 307, "http://example.com/api/v2/x")
        for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    ],
    *[
        Case(f"permanent-{m}", [API_PERMANENT], m, "http://example.com/api/v1/x", 301 if m in ("GET", "HEAD") else 308, "http://example.com/api/v2/x")
        for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    ],
    *[
        Case(f"strict-{kind}-{m}", [{**API, "permanent": kind == "permanent"}], m, "http://example.com/api/v1/x", code, "http://example.com/api/v2/x", settings={"get_codes": "strict"})
        for kind, m, code in [("temporary", "GET", 307), ("temporary", "HEAD", 307), ("temporary", "POST", 307),
                              ("permanent", "GET", 308), ("permanent", "HEAD", 308), ("permanent", "DELETE", 308)]
    ],
    *[
        Case(f"explicit-{code}-{m}", [{**API, "status": code}], m, "http://example.com/api/v1/x", sent, "http://example.com/api/v2/x")
        for code, m, sent in [(301, "GET", 301), (302, "HEAD", 302), (307, "GET", 307), (308, "GET", 308),
                              (301, "POST", 308), (302, "POST", 307), (301, "PUT", 308), (302, "DELETE", 307)]
    ],
    Case("explicit-301-strict-get", [{**API, "status": 301}], "GET", "http://example.com/api/v1/x", 301, "http://example.com/api/v2/x", settings={"get_codes": "strict"}),
    # --- to, captures, query ----------------------------------------------------------
    Case("query-kept", [API], "GET", "http://example.com/api/v1/orders?x=1&y=%20", 302, "http://example.com/api/v2/orders?x=1&y=%20"),
    Case("query-dropped", [{**API, "keep_query": False}], "GET", "http://example.com/api/v1/orders?x=1", 302, "http://example.com/api/v2/orders"),
    Case("query-some-kept", [{**API, "keep_query": ["utm_*", "ref"]}], "GET", "http://example.com/api/v1/o?utm_source=a&x=1&ref=b&utm_medium=c", 302, "http://example.com/api/v2/o?utm_source=a&ref=b&utm_medium=c"),
    Case("target-query-merged", [{"from": "/search", "to": "/find?src=old"}], "GET", "http://example.com/search?q=a", 302, "http://example.com/find?src=old&q=a"),
    Case("encoded-slash-kept", [API], "GET", "http://example.com/api/v1/a%2Fb", 302, "http://example.com/api/v2/a%2Fb"),
    Case("encoded-segment-one-placeholder", [{"from": "/u/{name}", "to": "/users/{name}"}], "GET", "http://example.com/u/a%2Fb", 302, "http://example.com/users/a%2Fb"),
    Case("segment-does-not-cross-slash", [{"from": "/u/{name}", "to": "/users/{name}"}], "GET", "http://example.com/u/a/b", None),
    Case("int-converter", [{"from": "/item/{id:int}", "to": "/items/{id}"}], "GET", "http://example.com/item/42", 302, "http://example.com/items/42"),
    Case("int-converter-rejects", [{"from": "/item/{id:int}", "to": "/items/{id}"}], "GET", "http://example.com/item/4x", None),
    Case("non-ascii-rule", [{"from": "/café", "to": "/cafe"}], "GET", "http://example.com/caf%C3%A9", 302, "http://example.com/cafe"),
    Case("non-ascii-lowercase-escape", [{"from": "/café", "to": "/cafe"}], "GET", "http://example.com/caf%c3%a9", 302, "http://example.com/cafe"),
    Case("non-ascii-target", [{"from": "/cafe", "to": "/café"}], "GET", "http://example.com/cafe", 302, "http://example.com/caf%C3%A9"),
    Case("absolute-target", [{"from": "/blog/{rest:path}", "to": "https://blog.example.org/{rest}"}], "GET", "http://example.com/blog/2024/post", 302, "https://blog.example.org/2024/post"),
    Case("path-placeholder", [{"host": "old.example.com", "to": "https://example.com{path}", "permanent": True}], "GET", "http://old.example.com/a/b?c=d", 301, "https://example.com/a/b?c=d"),
    Case("host-template-capture", [{"host": "{sub}.example.com", "to": "https://example.com/{sub}{path}"}], "GET", "http://shop.example.com/cart", 302, "https://example.com/shop/cart"),
    Case("host-wildcard", [{"host": "*.example.org", "to": "https://example.org/"}], "GET", "http://a.b.example.org/x", 302, "https://example.org/"),
    Case("host-wildcard-not-apex", [{"host": "*.example.org", "to": "https://example.org/"}], "GET", "http://example.org/x", None),
    # --- the request target: "://" in a path is part of the path (RFC 9112 section 3.2) ----
    Case("origin-form-scheme-in-path-https", [HTTPS_EXCEPT_HEALTHZ], "GET", "http://example.com/login/x://y/healthz", 301, "https://example.com/login/x://y/healthz"),
    Case("origin-form-scheme-in-path-maintenance", [MAINTENANCE_EXCEPT_STATIC], "GET", "http://example.com/account/x://y/static/a", 503),
    Case("origin-form-url-in-capture", [API], "GET", "http://example.com/api/v1/http://x/y", 302, "http://example.com/api/v2/http://x/y"),
    Case("absolute-form-target", [API], "POST", "http://example.com/api/v1/a?q=1", 307, "http://example.com/api/v2/a?q=1", target="http://example.com/api/v1/a?q=1"),
    Case("absolute-form-scheme-in-path", [HTTPS_EXCEPT_HEALTHZ], "GET", "http://example.com/login/x://y/healthz", 301, "https://example.com/login/x://y/healthz", target="http://example.com/login/x://y/healthz"),
    Case("absolute-form-excepted-path", [HTTPS_EXCEPT_HEALTHZ], "GET", "http://example.com/healthz", None, target="http://example.com/healthz"),
    # --- the request's own bytes reach the Location -------------------------------------
    Case("lowercase-encoded-slash-kept", [API], "GET", "http://example.com/api/v1/a%2fb", 302, "http://example.com/api/v2/a%2fb"),
    Case("escaped-unreserved-kept", [API], "GET", "http://example.com/api/v1/%7Euser", 302, "http://example.com/api/v2/%7Euser"),
    Case("lowercase-utf8-escape-kept", [API], "GET", "http://example.com/api/v1/caf%c3%a9/x", 302, "http://example.com/api/v2/caf%c3%a9/x"),
    Case("escaped-segment-capture-kept", [{"from": "/u/{name}", "to": "/users/{name}"}], "GET", "http://example.com/u/%7e%41b", 302, "http://example.com/users/%7e%41b"),
    Case("escaped-rule-still-matches", [{"from": "/caf\u00e9/{rest:path}", "to": "/cafe/{rest}"}], "GET", "http://example.com/caf%c3%a9/%7Emenu", 302, "http://example.com/cafe/%7Emenu"),
    # --- method and body survive the redirect -------------------------------------------
    *[
        Case(f"body-survives-{m}", [API_PERMANENT], m, "http://example.com/api/v1/orders?x=1", 308, "http://example.com/api/v2/orders?x=1", headers=(("Content-Type", "application/json"),), body=BODY)
        for m in ("POST", "PUT", "PATCH", "DELETE")
    ],
    Case("body-survives-https-chain", [HTTPS, API_PERMANENT], "POST", "http://example.com/api/v1/orders", 308, "https://example.com/api/v2/orders", headers=(("Content-Type", "application/json"),), body=BODY),
    # --- the hostile captures ---------------------------------------------------------
    Case("protocol-relative-capture", [GO], "GET", "http://example.com/go//evil.com", 302, "http://example.com/evil.com"),
    Case("encoded-protocol-relative-capture", [GO], "GET", "http://example.com/go/%2F%2Fevil.com", 302, "http://example.com/%2F%2Fevil.com"),
    Case("backslash-capture", [GO], "GET", "http://example.com/go/%5Cevil.com", 302, "http://example.com/%5Cevil.com"),
    Case("crlf-capture", [GO], "GET", "http://example.com/go/a%0D%0ASet-Cookie:x=1", 302, "http://example.com/a%0D%0ASet-Cookie:x=1"),
    # --- https, trailing slash --------------------------------------------------------
    Case("https-get", [HTTPS], "GET", "http://example.com/a?b=c", 301, "https://example.com/a?b=c"),
    Case("https-post", [HTTPS], "POST", "http://example.com/a", 308, "https://example.com/a"),
    Case("https-drops-port", [HTTPS], "GET", "http://example.com:8080/a", 301, "https://example.com/a"),
    Case("https-port", [{**HTTPS, "https_port": 8443}], "GET", "http://example.com/a", 301, "https://example.com:8443/a"),
    Case("https-already", [HTTPS], "GET", "https://example.com/a", None),
    Case("https-except", [{**HTTPS, "except": ["/healthz"]}], "GET", "http://example.com/healthz", None),
    Case("slash-add", [{"trailing_slash": "add", "from": "/docs/{rest:path}"}], "GET", "http://example.com/docs/intro?x=1", 302, "http://example.com/docs/intro/?x=1"),
    Case("slash-add-already", [{"trailing_slash": "add", "from": "/docs/{rest:path}"}], "GET", "http://example.com/docs/intro/", None),
    Case("slash-remove", [{"trailing_slash": "remove", "permanent": True}], "POST", "http://example.com/a/b/", 308, "http://example.com/a/b"),
    Case("slash-remove-root", [{"trailing_slash": "remove"}], "GET", "http://example.com/", None),
    # --- conditions -------------------------------------------------------------------
    Case("scheme-condition", [{"scheme": "https", "from": "/x", "to": "/y"}], "GET", "http://example.com/x", None),
    Case("methods-condition", [{"methods": ["POST"], "from": "/x", "to": "/y"}], "POST", "http://example.com/x", 307, "http://example.com/y"),
    Case("methods-condition-miss", [{"methods": ["POST"], "from": "/x", "to": "/y"}], "GET", "http://example.com/x", None),
    Case("query-condition", [{"from": "/x", "query": {"v": "1"}, "to": "/y"}], "GET", "http://example.com/x?v=1", 302, "http://example.com/y?v=1"),
    Case("query-condition-miss", [{"from": "/x", "query": {"v": "1"}, "to": "/y"}], "GET", "http://example.com/x?v=2", None),
    Case("query-present", [{"from": "/x", "query": {"v": "*"}, "to": "/y", "keep_query": False}], "GET", "http://example.com/x?v=", 302, "http://example.com/y"),
    Case("header-condition", [{"from": "/x", "headers": {"X-Beta": "1"}, "to": "/beta"}], "GET", "http://example.com/x", 302, "http://example.com/beta", headers=(("X-Beta", "1"),), expect_headers=(("Vary", "X-Beta"),)),
    Case("header-condition-miss", [{"from": "/x", "headers": {"X-Beta": "1"}, "to": "/beta"}], "GET", "http://example.com/x", None),
    Case("cookie-condition", [{"from": "/x", "cookies": {"beta": "*"}, "to": "/beta"}], "GET", "http://example.com/x", 302, "http://example.com/beta", headers=(("Cookie", "a=1; beta=yes"),), expect_headers=(("Vary", "Cookie"),)),
    Case("earlier-header-rule-varies", [{"from": "/x", "headers": {"X-Beta": "1"}, "to": "/beta"}, {"from": "/x", "to": "/y"}], "GET", "http://example.com/x", 302, "http://example.com/y", expect_headers=(("Vary", "X-Beta"),)),
    Case("first-rule-wins", [{"from": "/x", "to": "/first"}, {"from": "/x", "to": "/second"}], "GET", "http://example.com/x", 302, "http://example.com/first"),
    Case("expired-window", [{"from": "/x", "to": "/y", "active": {"until": "2001-01-01"}}], "GET", "http://example.com/x", None),
    Case("open-window", [{"from": "/x", "to": "/y", "active": {"from": "2001-01-01T00:00:00Z"}}], "GET", "http://example.com/x", 302, "http://example.com/y"),
    Case("disabled-rule", [{"from": "/x", "to": "/y", "enabled": False}], "GET", "http://example.com/x", None),
    Case("no-match", [API], "POST", "http://example.com/other", None),
    # --- map --------------------------------------------------------------------------
    Case("map-inline", [{"map": [{"from": "/old", "to": "/new"}, {"from": "/gone", "to": "https://example.org/"}], "permanent": True}], "GET", "http://example.com/old?a=1", 301, "http://example.com/new?a=1"),
    Case("map-row-status", [{"map": [{"from": "/old", "to": "/new", "status": 302}], "permanent": True}], "POST", "http://example.com/old", 307, "http://example.com/new"),
    Case("map-query-key", [{"map": [{"from": "/page.php?id=3", "to": "/pages/three"}]}], "GET", "http://example.com/page.php?id=3", 302, "http://example.com/pages/three"),
    Case("map-miss", [{"map": [{"from": "/old", "to": "/new"}]}], "GET", "http://example.com/older", None),
    # Two rows of one map are two redirects, even where the URL grows between them: a page's
    # .md URL to its folder, and the folder to where it moved, is one redirect to the end.
    *[
        Case(f"map-chain-grows-{m}", [{"map": DOCS_MOVES, "permanent": True}], m, "http://example.com/docs/a.md?x=1", code, "http://example.com/docs/setup/a/?x=1")
        for m, code in (("GET", 301), ("HEAD", 301), ("POST", 308), ("PUT", 308))
    ],
    Case("map-chain-grows-second-row", [{"map": DOCS_MOVES, "permanent": True}], "GET", "http://example.com/docs/b/", 301, "http://example.com/docs/setup/b/"),
    # --- maintenance ------------------------------------------------------------------
    Case("maintenance-503", [{"maintenance": {"retry_after": 600}, "except": ["/healthz"]}], "POST", "http://example.com/x", 503, expect_headers=(("Retry-After", "600"), ("Cache-Control", "no-store"))),
    Case("maintenance-except", [{"maintenance": {"retry_after": 600}, "except": ["/healthz"]}], "GET", "http://example.com/healthz", None),
    Case("maintenance-to", [{"maintenance": {"to": "/maintenance"}}], "POST", "http://example.com/x", 307, "http://example.com/maintenance"),
    Case("maintenance-target-untouched", [{"maintenance": {"to": "/maintenance"}}], "GET", "http://example.com/maintenance", None),
    Case("maintenance-off", [{"maintenance": {"enabled": False, "to": "/m"}}], "GET", "http://example.com/x", None),
    Case("maintenance-allow-ip", [{"maintenance": {"allow_ips": ["127.0.0.0/8"]}}], "GET", "http://example.com/x", None),
    # --- gone: 410 / 451, the same for every method ------------------------------------
    *[
        Case(f"gone-410-{m}", [{"from": "/old/{rest:path}", "gone": True}], m, "http://example.com/old/a?x=1", 410, settings={"permanent_max_age": 60}, expect_headers=(("Cache-Control", "max-age=60"),))
        for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
    ],
    *[
        Case(f"gone-451-{m}", [{"from": "/banned", "gone": 451}], m, "http://example.com/banned", 451, expect_headers=(("Cache-Control", "no-store"),))
        for m in ("GET", "HEAD", "POST")
    ],
    Case("gone-json", [{"from": "/old", "gone": True}], "GET", "http://example.com/old", 410, headers=(("Accept", "application/json"),), expect_headers=(("Content-Type", "application/json"),)),
    Case("gone-post-body", [{"from": "/old", "gone": True}], "POST", "http://example.com/old", 410, headers=(("Content-Type", "application/json"),), body=BODY),
    Case("gone-after-https", [HTTPS, {"from": "/old", "gone": True}], "GET", "http://example.com/old", 301, "https://example.com/old"),
    Case("gone-except", [{"from": "/old/{rest:path}", "gone": True, "except": ["/old/keep"]}], "GET", "http://example.com/old/keep", None),
    Case("gone-map-row-410", [{"map": [{"from": "/a", "to": "/b"}, {"from": "/dead", "to": "", "status": 410}], "permanent": True}], "DELETE", "http://example.com/dead", 410, expect_headers=(("Cache-Control", "max-age=86400"),)),
    Case("gone-map-row-451", [{"map": [{"from": "/a", "to": "/b"}, {"from": "/blocked", "status": 451}]}], "GET", "http://example.com/blocked", 451, expect_headers=(("Cache-Control", "no-store"),)),
    Case("gone-map-other-rows-redirect", [{"map": [{"from": "/a", "to": "/b"}, {"from": "/dead", "status": 410}]}], "POST", "http://example.com/a", 307, "http://example.com/b"),
    # --- case_sensitive: false: from, except and map rows whatever the case -------------
    Case("case-insensitive-literal", [{"from": "/About", "to": "/about-us", "case_sensitive": False}], "GET", "http://example.com/ABOUT", 302, "http://example.com/about-us"),
    Case("case-sensitive-by-default", [{"from": "/About", "to": "/about-us"}], "GET", "http://example.com/about", None),
    Case("case-insensitive-setting", [{"from": "/About", "to": "/about-us"}], "POST", "http://example.com/aBoUt", 307, "http://example.com/about-us", settings={"case_sensitive": False}),
    Case("case-insensitive-rule-overrides-setting", [{"from": "/About", "to": "/about-us", "case_sensitive": True}], "GET", "http://example.com/about", None, settings={"case_sensitive": False}),
    Case("case-insensitive-capture-keeps-bytes", [{"from": "/Blog/{slug}/{rest:path}", "to": "/posts/{slug}/{rest}", "case_sensitive": False}], "GET", "http://example.com/BLOG/Hello-World/A%2fB?X=1", 302, "http://example.com/posts/Hello-World/A%2fB?X=1"),
    Case("case-insensitive-non-ascii", [{"from": "/Café/{rest:path}", "to": "/cafe/{rest}", "case_sensitive": False}], "GET", "http://example.com/CAF%C3%89/Menu", 302, "http://example.com/cafe/Menu"),
    Case("case-insensitive-non-ascii-capture", [{"from": "/u/{name}", "to": "/users/{name}", "case_sensitive": False}], "GET", "http://example.com/U/%C3%89mile", 302, "http://example.com/users/%C3%89mile"),
    Case("case-insensitive-except", [{"from": "/Docs/{rest:path}", "to": "/help/{rest}", "except": ["/docs/Keep"], "case_sensitive": False}], "GET", "http://example.com/DOCS/KEEP", None),
    Case("case-insensitive-map", [{"map": [{"from": "/Old/Page", "to": "/new"}, {"from": "/x.php?id=3", "to": "/three"}], "case_sensitive": False}], "GET", "http://example.com/old/PAGE?a=1", 302, "http://example.com/new?a=1"),
    Case("case-insensitive-map-query-key", [{"map": [{"from": "/x.php?id=3", "to": "/three"}], "case_sensitive": False}], "GET", "http://example.com/X.PHP?id=3", 302, "http://example.com/three"),
    Case("case-insensitive-map-gone-row", [{"map": [{"from": "/Dead", "status": 410}], "case_sensitive": False}], "GET", "http://example.com/DEAD", 410),
    Case("case-insensitive-https-except", [{**HTTPS, "except": ["/HealthZ"], "case_sensitive": False}], "GET", "http://example.com/healthz", None),
    # --- trailing_slash_match: ignore: /about and /about/ are one path -----------------
    Case("slash-ignore-adds", [{"from": "/about", "to": "/about-us", "trailing_slash_match": "ignore"}], "GET", "http://example.com/about/", 302, "http://example.com/about-us"),
    Case("slash-ignore-removes", [{"from": "/team/", "to": "/people/", "trailing_slash_match": "ignore"}], "POST", "http://example.com/team?x=1", 307, "http://example.com/people/?x=1"),
    Case("slash-strict-by-default", [{"from": "/about", "to": "/about-us"}], "GET", "http://example.com/about/", None),
    Case("slash-ignore-setting", [{"from": "/about", "to": "/about-us"}], "GET", "http://example.com/about/", 302, "http://example.com/about-us", settings={"trailing_slash_match": "ignore"}),
    Case("slash-ignore-rule-overrides-setting", [{"from": "/about", "to": "/about-us", "trailing_slash_match": "strict"}], "GET", "http://example.com/about/", None, settings={"trailing_slash_match": "ignore"}),
    Case("slash-ignore-template", [{"from": "/blog/{slug}", "to": "/posts/{slug}", "trailing_slash_match": "ignore"}], "GET", "http://example.com/blog/Hello/", 302, "http://example.com/posts/Hello"),
    Case("slash-ignore-map", [{"map": [{"from": "/old/a/", "to": "/new/a"}, {"from": "/old/b", "to": "/new/b"}], "trailing_slash_match": "ignore", "permanent": True}], "GET", "http://example.com/old/a", 301, "http://example.com/new/a"),
    Case("slash-ignore-map-other-way", [{"map": [{"from": "/old/a/", "to": "/new/a"}, {"from": "/old/b", "to": "/new/b"}], "trailing_slash_match": "ignore", "permanent": True}], "GET", "http://example.com/old/b/", 301, "http://example.com/new/b"),
    Case("slash-ignore-except", [{"from": "/old/{rest:path}", "to": "/new/{rest}", "except": ["/old/keep"], "trailing_slash_match": "ignore"}], "GET", "http://example.com/old/keep/", None),
    Case("slash-ignore-and-case", [{"from": "/About", "to": "/about-us", "trailing_slash_match": "ignore", "case_sensitive": False}], "GET", "http://example.com/ABOUT/", 302, "http://example.com/about-us"),
    Case("slash-ignore-target-is-the-request", [{"from": "/x", "to": "/x/", "trailing_slash_match": "ignore"}], "GET", "http://example.com/x/", None),
    Case("slash-ignore-target-adds-slash", [{"from": "/x", "to": "/x/", "trailing_slash_match": "ignore"}], "GET", "http://example.com/x", 302, "http://example.com/x/"),
    *[
        Case(f"slash-ignore-with-site-{action}-{name}", [{"trailing_slash": action, "permanent": True}, {"from": "/old/", "to": "/new/", "trailing_slash_match": "ignore", "permanent": True}], "POST", f"http://example.com{path}", 308, location)
        for action, name, path, location in [
            ("add", "bare", "/old", "http://example.com/new/"),
            ("add", "slashed", "/old/", "http://example.com/new/"),
            ("remove", "bare", "/old", "http://example.com/new"),
            ("remove", "slashed", "/old/", "http://example.com/new"),
        ]
    ],
    # --- from_regex: RE2, named groups feed to ------------------------------------------
    Case("regex-groups", [{"from_regex": r"/posts/(?P<year>\d{4})/(?P<slug>[^/]+)\.html", "to": "/blog/{year}/{slug}", "permanent": True}], "GET", "http://example.com/posts/2024/hello.html?x=1", 301, "http://example.com/blog/2024/hello?x=1"),
    Case("regex-post", [{"from_regex": r"/posts/(?P<year>\d{4})/(?P<slug>[^/]+)\.html", "to": "/blog/{year}/{slug}", "permanent": True}], "POST", "http://example.com/posts/2024/hello.html", 308, "http://example.com/blog/2024/hello"),
    Case("regex-whole-path", [{"from_regex": r"/posts/(?P<year>\d{4})", "to": "/blog/{year}"}], "GET", "http://example.com/posts/2024/more", None),
    Case("regex-no-match", [{"from_regex": r"/posts/(?P<year>\d{4})", "to": "/blog/{year}"}], "GET", "http://example.com/posts/24", None),
    Case("regex-keeps-request-bytes", [{"from_regex": r"/old/(?P<rest>.+)", "to": "/new/{rest}"}], "GET", "http://example.com/old/a%2fb/%7Euser", 302, "http://example.com/new/a%2fb/%7Euser"),
    Case("regex-percent-encoded", [{"from_regex": r"/caf%C3%A9/(?P<x>[a-z]+)", "to": "/cafe/{x}"}], "GET", "http://example.com/caf%c3%a9/menu", 302, "http://example.com/cafe/menu"),
    Case("regex-case-insensitive", [{"from_regex": r"/Shop/(?P<rest>.+)", "to": "/store/{rest}", "case_sensitive": False}], "GET", "http://example.com/SHOP/Boots", 302, "http://example.com/store/Boots"),
    Case("regex-slash-ignore", [{"from_regex": r"/shop/(?P<item>[^/]+)", "to": "/store/{item}", "trailing_slash_match": "ignore"}], "GET", "http://example.com/shop/boots/", 302, "http://example.com/store/boots"),
    Case("regex-document-order", [{"from": "/posts/2024/x", "to": "/first"}, {"from_regex": r"/posts/.*", "to": "/second"}], "GET", "http://example.com/posts/2024/x", 302, "http://example.com/first"),
    Case("regex-before-template", [{"from_regex": r"/posts/\d+/.*", "to": "/first"}, {"from": "/posts/{n}/{rest:path}", "to": "/second"}], "GET", "http://example.com/posts/1/x", 302, "http://example.com/first"),
    Case("regex-hostile-capture", [{"from_regex": r"/go/(?P<dest>.*)", "to": "/{dest}"}], "GET", "http://example.com/go//evil.com", 302, "http://example.com/evil.com"),
    # --- when: not_found: the app here answers 200, so such a rule never applies --------
    Case("not-found-rule-waits-for-a-404", [{"from": "/old", "to": "/new", "when": "not_found"}], "GET", "http://example.com/old", None),
    Case("not-found-map-waits-for-a-404", [{"map": [{"from": "/old", "to": "/new"}], "when": "not_found"}], "GET", "http://example.com/old", None),
    Case("not-found-other-rules-still-apply", [{"from": "/old", "to": "/new", "when": "not_found"}, {"from": "/old", "to": "/always"}], "POST", "http://example.com/old", 307, "http://example.com/always"),
    # --- chains, headers --------------------------------------------------------------
    Case("chain-collapses", [HTTPS, {"host": "www.example.com", "to": "https://example.com{path}", "permanent": True}, API_PERMANENT], "POST", "http://www.example.com/api/v1/orders?x=1", 308, "https://example.com/api/v2/orders?x=1", settings={"allowed_hosts": ["example.com", "www.example.com"]}),
    Case("chain-temporary-step", [HTTPS, API], "GET", "http://example.com/api/v1/o", 302, "https://example.com/api/v2/o"),
    Case("cache-permanent", [API_PERMANENT], "GET", "http://example.com/api/v1/x", 301, "http://example.com/api/v2/x", settings={"permanent_max_age": 60}, expect_headers=(("Cache-Control", "max-age=60"),)),
    Case("cache-temporary", [API], "GET", "http://example.com/api/v1/x", 302, "http://example.com/api/v2/x", expect_headers=(("Cache-Control", "no-store"),)),
    Case("sunset", [{**API, "sunset": "2027-06-30"}], "GET", "http://example.com/api/v1/x", 302, "http://example.com/api/v2/x", expect_headers=(("Sunset", "Wed, 30 Jun 2027 00:00:00 GMT"), ("Deprecation", "@1814313600"))),
    Case("hsts-on-https-pass", [{**HTTPS, "hsts": {"max_age": 600, "include_subdomains": True}}], "GET", "https://example.com/x", None, expect_headers=(("Strict-Transport-Security", "max-age=600; includeSubDomains"),)),
    Case("self-redirect-refused", [{"from": "/x", "to": "{scheme}://{host}/x"}], "GET", "http://example.com/x", None),
    # --- trust and bad input ----------------------------------------------------------
    Case("allowed-host", [HTTPS], "GET", "http://example.com/x", 301, "https://example.com/x", settings={"allowed_hosts": ["example.com"]}),
    Case("disallowed-host-400", [HTTPS], "GET", "http://evil.com/x", 400, settings={"allowed_hosts": ["example.com"]}),
    Case("disallowed-host-passes", [API], "GET", "http://evil.com/x", None, settings={"allowed_hosts": ["example.com"]}),
    Case("malformed-host-400", [API], "GET", "http://example.com/x", 400, headers=(("Host", "exa mple.com"),)),
    Case("userinfo-host-400", [API], "GET", "http://example.com/x", 400, headers=(("Host", "user@example.com"),)),
    Case("spoofed-proto-ignored", [HTTPS], "GET", "http://example.com/x", 301, "https://example.com/x", headers=(("X-Forwarded-Proto", "https"),)),
    Case("spoofed-host-ignored", [HTTPS], "GET", "http://example.com/x", 301, "https://example.com/x", headers=(("X-Forwarded-Host", "evil.com"),)),
    Case("trusted-proto", [HTTPS], "GET", "http://example.com/x", None, headers=(("X-Forwarded-Proto", "http, https"),), settings={"trusted_proxies": ["127.0.0.1"]}),
    Case("trusted-rightmost-proto", [HTTPS], "GET", "http://example.com/x", 301, "https://example.com/x", headers=(("X-Forwarded-Proto", "https, http"),), settings={"trusted_proxies": ["127.0.0.1"]}),
    Case("trusted-forwarded", [HTTPS], "GET", "http://example.com/x", 301, "https://public.example/x", headers=(("Forwarded", 'for=1.2.3.4;proto=http;host="public.example"'),), settings={"trusted_proxies": ["127.0.0.0/8"]}),
    Case("trusted-host-not-allowed", [HTTPS], "GET", "http://example.com/x", 400, headers=(("X-Forwarded-Host", "evil.com"),), settings={"trusted_proxies": ["127.0.0.1"], "allowed_hosts": ["example.com"]}),
]  # fmt: skip
