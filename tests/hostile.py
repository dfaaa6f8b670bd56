"""The hostile request corpus and the invariants every answer to it must keep.

Each :class:`Hostile` is one request written the way an attacker would send it: as raw
request-line and header text (latin-1, one character per byte), so that it can hold what
ordinary HTTP clients refuse to send (raw CR/LF, tabs, NUL, two Host headers, 8 KiB paths).
``test_hostile.py`` runs every request against every document in :data:`DOCUMENTS` through
the engine, the ASGI, WSGI and Django adapters in-process, and as raw bytes over a socket to a
real uvicorn and a real gunicorn.

:func:`violations` is the judge. Whatever the request, the answer must keep these promises:

* a ``Location`` is absolute ``http``/``https``, printable ASCII only, never protocol-relative
  or backslashed, carries no userinfo, and names a host the document allows (``allowed_hosts``,
  or without it the Host the client itself addressed) or one a rule names literally;
* no response header holds CR, LF or NUL (a header-injection attempt never splits a header);
* no 5xx: the middleware never fails on input;
* a redirect of a method other than ``GET``/``HEAD`` (compared exactly) is 307 or 308, and
  every redirect status is one of 301, 302, 307, 308.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: The direct peer of a hostile request: not a trusted proxy of any document.
UNTRUSTED = "203.0.113.7"
#: A peer inside every document's ``trusted_proxies``.
TRUSTED = "10.1.2.3"

#: The server's own address in every run. With no Host header at all, an adapter may fall
#: back to it (Django does, as ``request.get_host()`` does): not a name the client chose.
SERVER_NAME = "127.0.0.1"
#: Hosts that rules name literally in their targets; a Location may always point there.
LITERAL_TARGET_HOSTS = frozenset({"example.org", "example.com"})

_RULES: list[dict[str, Any]] = [
    {"name": "www", "host": "www.example.com", "to": "https://example.com{path}", "permanent": True},
    {"name": "sub", "host": "{sub}.example.org", "to": "https://example.org/{sub}{path}"},
    {"name": "go", "from": "/go/{rest:path}", "to": "/{rest}"},
    {"name": "out", "from": "/out/{rest:path}", "to": "https://example.org/{rest}"},
    {"name": "user", "from": "/u/{name}", "to": "/users/{name}"},
    {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}", "permanent": True},
    {"name": "beta", "from": "/beta", "headers": {"X-Beta": "*"}, "to": "/beta/{host}"},
    {"name": "self", "from": "/self/{rest:path}", "to": "{scheme}://{host}/{rest}"},
    {"name": "map", "map": [{"from": "/old", "to": "/new"}, {"from": "/ext", "to": "https://example.org/x"}]},
    {"name": "docs", "from": "/docs/{rest:path}", "trailing_slash": "add"},
    {"name": "slash", "from": "/s/{rest:path}", "trailing_slash": "remove", "status": 301},
    {"name": "posts", "methods": ["POST"], "from": "/form", "to": "/form2"},
    {"name": "mirror", "host": "{a}.{b}", "from": "/mirror", "to": "https://{a}.{b}/m"},
]  # fmt: skip

#: The rule documents every hostile request is tried against.
DOCUMENTS: dict[str, dict[str, Any]] = {
    # Hosts are listed, and one proxy range is trusted: the recommended set-up.
    "guarded": {
        "version": 1,
        "settings": {
            "allowed_hosts": ["example.com", "www.example.com", "*.example.org"],
            "trusted_proxies": ["10.0.0.0/8"],
        },
        "rules": _RULES,
    },
    # No allowed_hosts: any well-formed Host may be redirected to itself, never elsewhere.
    "open": {"version": 1, "rules": _RULES},
    # https first (a chain collapses into one redirect), a catch-all slash rule, strict codes.
    "https": {
        "version": 1,
        "settings": {
            "allowed_hosts": ["example.com", "*.example.org"],
            "trusted_proxies": ["10.0.0.0/8"],
            "get_codes": "strict",
        },
        "rules": [
            {"name": "https", "https": True, "permanent": True, "except": ["/healthz"],
             "hsts": {"max_age": 600}},
            {"name": "slash", "trailing_slash": "remove"},
            *_RULES[2:6],
        ],
    },
}  # fmt: skip


@dataclass(frozen=True)
class Hostile:
    """One hostile request, as raw text (latin-1: one character per byte)."""

    id: str
    target: str
    #: Header lines in order, exactly as sent; ``Host`` included (or left out, or twice).
    headers: tuple[tuple[str, str], ...] = (("Host", "example.com"),)
    method: str = "GET"
    client: str = UNTRUSTED
    body: bytes = b""
    scheme: str = "http"

    @property
    def host_headers(self) -> list[str]:
        """Every Host header value sent."""
        return [value for name, value in self.headers if name.lower() == "host"]

    def forwarded_host(self) -> str | None:
        """The host a trusted proxy says the client addressed (right-most value), if any."""
        headers = self.header_map()
        forwarded = headers.get("forwarded")
        if forwarded is not None:
            for pair in forwarded.rsplit(",", 1)[-1].split(";"):
                name, _, value = pair.strip().partition("=")
                if name.lower() == "host":
                    return value.strip('"')
            return None
        listed = headers.get("x-forwarded-host")
        return None if listed is None else listed.rsplit(",", 1)[-1].strip()

    def header_map(self) -> dict[str, str]:
        """Headers by lower-case name, repeated ones joined with ``", "`` (as the engine takes)."""
        out: dict[str, str] = {}
        for name, value in self.headers:
            key = name.lower()
            out[key] = f"{out[key]}, {value}" if key in out else value
        return out

    def raw_bytes(self, extra: Sequence[tuple[str, str]] = ()) -> bytes:
        """The request on the wire, with ``extra`` header lines before the blank line."""
        lines = [f"{self.method} {self.target} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in (*self.headers, *extra)]
        if self.body:
            lines.append(f"Content-Length: {len(self.body)}")
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def _h(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return pairs


def _host(value: str) -> tuple[tuple[str, str], ...]:
    return (("Host", value),)


H = _host("example.com")
LONG = 8192

HOSTILE: list[Hostile] = [
    # --- protocol-relative and backslashed captures ------------------------------------
    Hostile("pr-double-slash", "/go//evil.com"),
    Hostile("pr-triple-slash", "/go///evil.com/x"),
    Hostile("pr-backslash", "/go/\\evil.com"),
    Hostile("pr-double-backslash", "/go/\\\\evil.com"),
    Hostile("pr-slash-backslash", "/go/\\/evil.com"),
    Hostile("pr-backslash-slash", "/go//\\evil.com"),
    Hostile("pr-encoded-slashes", "/go/%2F%2Fevil.com"),
    Hostile("pr-encoded-slashes-lower", "/go/%2f%2fevil.com"),
    Hostile("pr-encoded-backslash", "/go/%5Cevil.com"),
    Hostile("pr-encoded-backslashes-lower", "/go/%5c%5cevil.com"),
    Hostile("pr-encoded-mixed", "/go/%2F%5Cevil.com"),
    Hostile("pr-double-encoded", "/go/%252F%252Fevil.com"),
    Hostile("pr-scheme-in-capture", "/go/http://evil.com/"),
    Hostile("pr-scheme-encoded", "/go/https:%2F%2Fevil.com"),
    Hostile("pr-tab-between-slashes", "/go//%09/evil.com"),
    Hostile("pr-at-sign", "/go//@evil.com"),
    Hostile("pr-userinfo-capture", "/go/example.com@evil.com"),
    Hostile("pr-dot-segments", "/go/..%2F..%2F/evil.com"),
    Hostile("pr-fullwidth-slashes", "/go/\xef\xbc\x8f\xef\xbc\x8fevil.com"),
    Hostile("pr-ideographic-dot", "/go/evil%E3%80%82com"),
    Hostile("pr-javascript", "/go/javascript:alert(1)"),
    Hostile("pr-out-capture", "/out//evil.com"),
    Hostile("pr-out-authority-escape", "/out/@evil.com/x"),
    Hostile("pr-out-encoded", "/out/%2F%2Fevil.com"),
    Hostile("pr-segment-capture", "/u/%2F%2Fevil.com"),
    Hostile("pr-slash-add-double", "//evil.com/docs/x", H),
    Hostile("pr-slash-remove-double", "/s//evil.com/", H),
    Hostile("pr-slash-remove-backslash", "/s/\\evil.com/"),
    Hostile("pr-self-host-capture", "/self//evil.com"),
    Hostile("pr-root-double", "//evil.com/"),
    Hostile("pr-root-backslash", "/\\evil.com/"),
    # --- CR, LF, tab and NUL, raw and percent-encoded -----------------------------------
    Hostile("crlf-encoded-path", "/go/a%0D%0ASet-Cookie:%20injected=1"),
    Hostile("crlf-encoded-lower", "/go/a%0d%0aX-Injected:%201"),
    Hostile("lf-encoded-path", "/go/a%0AX-Injected:1"),
    Hostile("cr-encoded-path", "/go/a%0DX-Injected:1"),
    Hostile("crlf-encoded-query", "/go/a?x=%0D%0AX-Injected:%201"),
    Hostile("crlf-raw-path", "/go/a\r\nX-Injected: 1"),
    Hostile("lf-raw-path", "/go/a\nX-Injected: 1"),
    Hostile("cr-raw-path", "/go/a\rX-Injected: 1"),
    Hostile("crlf-raw-query", "/go/a?x=\r\nX-Injected: 1"),
    Hostile("tab-raw-path", "/go/a\tb"),
    Hostile("tab-raw-query", "/go/a?x=\ty"),
    Hostile("tab-encoded-path", "/go/a%09b"),
    Hostile("tab-encoded-query", "/api/v1/x?y=%09z"),
    Hostile("nul-encoded-path", "/go/a%00b"),
    Hostile("nul-encoded-query", "/go/a?x=%00"),
    Hostile("nul-raw-path", "/go/a\x00b"),
    Hostile("nul-raw-query", "/go/a?x=\x00"),
    Hostile("crlf-slash-add", "/docs/a%0D%0AX-Injected:1"),
    Hostile("crlf-https-path", "/a%0D%0AX-Injected:1"),
    Hostile("crlf-segment", "/u/a%0D%0AX-Injected:1"),
    # --- invalid UTF-8 and broken escapes -----------------------------------------------
    Hostile("utf8-ff", "/go/%FF"),
    Hostile("utf8-overlong-slash", "/go/%C0%AF%C0%AFevil.com"),
    Hostile("utf8-overlong-dots", "/go/%C0%AE%C0%AE/x"),
    Hostile("utf8-surrogate", "/go/%ED%A0%80"),
    Hostile("utf8-truncated", "/go/%E2%82"),
    Hostile("utf8-raw-high-bytes", "/go/\xff\xfe"),
    Hostile("utf8-query", "/go/x?q=%FF%FE%00"),
    Hostile("escape-stray-percent", "/go/%"),
    Hostile("escape-bad-hex", "/go/%G1%zz"),
    Hostile("escape-nested", "/go/%%32%46%%32%46evil.com"),
    Hostile("utf8-map-key", "/old%FF"),
    # --- size ---------------------------------------------------------------------------
    Hostile("long-path", "/go/" + "a" * LONG),
    Hostile("long-encoded-slashes", "/go/" + "%2F" * (LONG // 3)),
    Hostile("long-slashes", "/" * LONG),
    Hostile("long-query", "/api/v1/x?" + "q=" + "b" * LONG),
    Hostile("long-segment", "/u/" + "c" * LONG),
    # --- Host ---------------------------------------------------------------------------
    Hostile("host-userinfo", "/go/x", _host("user@example.com")),
    Hostile("host-userinfo-password", "/go/x", _host("user:pw@example.com")),
    Hostile("host-at-evil", "/go/x", _host("example.com@evil.com")),
    Hostile("host-fragment-trick", "/go/x", _host("evil.com#@example.com")),
    Hostile("host-path-trick", "/go/x", _host("example.com/evil.com")),
    Hostile("host-backslash-trick", "/go/x", _host("example.com\\evil.com")),
    Hostile("host-port-80", "/go/x", _host("example.com:80")),
    Hostile("host-port-8080", "/go/x", _host("example.com:8080")),
    Hostile("host-port-huge", "/go/x", _host("example.com:99999")),
    Hostile("host-port-negative", "/go/x", _host("example.com:-1")),
    Hostile("host-port-garbage", "/go/x", _host("example.com:abc")),
    Hostile("host-port-empty", "/go/x", _host("example.com:")),
    Hostile("host-port-twice", "/go/x", _host("example.com:80:80")),
    Hostile("host-ipv6", "/go/x", _host("[::1]")),
    Hostile("host-ipv6-port", "/go/x", _host("[::1]:8080")),
    Hostile("host-ipv6-unclosed", "/go/x", _host("[::1")),
    Hostile("host-ipv6-bare", "/go/x", _host("::1")),
    Hostile("host-ipv6-zone", "/go/x", _host("[fe80::1%25eth0]")),
    Hostile("host-brackets-name", "/go/x", _host("[example.com]")),
    Hostile("host-ipv4", "/go/x", _host("127.0.0.1")),
    Hostile("host-empty", "/go/x", _host("")),
    Hostile("host-missing", "/go/x", ()),
    Hostile("host-duplicated", "/go/x", _h(("Host", "example.com"), ("Host", "evil.com"))),
    Hostile("host-duplicated-same", "/go/x", _h(("Host", "example.com"), ("Host", "example.com"))),
    Hostile("host-comma-list", "/go/x", _host("example.com, evil.com")),
    Hostile("host-space", "/go/x", _host("exa mple.com")),
    Hostile("host-tab", "/go/x", _host("example.com\tevil.com")),
    Hostile("host-nul", "/go/x", _host("example.com\x00evil.com")),
    Hostile("host-encoded-nul", "/go/x", _host("example.com%00.evil.com")),
    Hostile("host-not-allowed", "/go/x", _host("evil.com")),
    Hostile("host-not-allowed-https", "/a", _host("evil.com")),
    Hostile("host-uppercase", "/go/x", _host("EXAMPLE.COM")),
    Hostile("host-trailing-dot", "/go/x", _host("example.com.")),
    Hostile("host-suffix-trick", "/go/x", _host("evil-example.com")),
    Hostile("host-allowed-suffix-trick", "/go/x", _host("example.org.evil.com")),
    Hostile("host-too-long", "/go/x", _host("a" * 300 + ".example.org")),
    Hostile("host-utf8-raw", "/go/x", _host("ex\xc3\xa4mple.com")),
    Hostile("host-wildcard-literal", "/go/x", _host("*.example.org")),
    Hostile("host-template-capture", "/x", _host("evil.com%2F.example.org")),
    Hostile("host-template-dots", "/x", _host("a.b.example.org")),
    Hostile("host-template-authority", "/mirror", _host("evil.com")),
    Hostile("host-template-authority-port", "/mirror", _host("evil.com:8080")),
    Hostile("host-www-chain", "/api/v1/%2F%2Fevil.com", _host("www.example.com")),
    Hostile("host-header-template", "/beta", _h(("Host", "example.com"), ("X-Beta", "1"))),
    Hostile("host-header-template-evil", "/beta", _h(("Host", "evil.com"), ("X-Beta", "1"))),
    # --- spoofed forwarding headers from an untrusted peer ----------------------------------
    Hostile("spoof-xfh", "/go/x", _h(("Host", "example.com"), ("X-Forwarded-Host", "evil.com"))),
    Hostile("spoof-xfproto", "/a", _h(("Host", "example.com"), ("X-Forwarded-Proto", "https"))),
    Hostile("spoof-xfport", "/go/x", _h(("Host", "example.com"), ("X-Forwarded-Port", "1"))),
    Hostile("spoof-xff-trusted-ip", "/go/x", _h(("Host", "example.com"), ("X-Forwarded-For", "10.0.0.1"), ("X-Forwarded-Host", "evil.com"))),
    Hostile("spoof-forwarded", "/go/x", _h(("Host", "example.com"), ("Forwarded", "for=10.0.0.1;host=evil.com;proto=https"))),
    Hostile("spoof-forwarded-self", "/self/x", _h(("Host", "example.com"), ("Forwarded", "host=evil.com"))),
    Hostile("spoof-xfh-self", "/self/x", _h(("Host", "example.com"), ("X-Forwarded-Host", "evil.com"))),
    # --- what a trusted proxy passes on from its own client --------------------------------
    Hostile("trusted-xfh-evil", "/go/x", _h(("Host", "example.com"), ("X-Forwarded-Host", "evil.com")), client=TRUSTED),
    Hostile("trusted-xfh-left-evil", "/go/x", _h(("Host", "example.com"), ("X-Forwarded-Host", "evil.com, example.com")), client=TRUSTED),
    Hostile("trusted-xfh-right-evil", "/go/x", _h(("Host", "example.com"), ("X-Forwarded-Host", "example.com, evil.com")), client=TRUSTED),
    Hostile("trusted-xfh-userinfo", "/go/x", _h(("Host", "example.com"), ("X-Forwarded-Host", "a@evil.com")), client=TRUSTED),
    Hostile("trusted-xfh-garbage", "/go/x", _h(("Host", "example.com"), ("X-Forwarded-Host", "a b/c")), client=TRUSTED),
    Hostile("trusted-xfproto-garbage", "/a", _h(("Host", "example.com"), ("X-Forwarded-Proto", "javascript")), client=TRUSTED),
    Hostile("trusted-xfport-garbage", "/a", _h(("Host", "example.com"), ("X-Forwarded-Port", "99999")), client=TRUSTED),
    Hostile("trusted-xfport-text", "/a", _h(("Host", "example.com"), ("X-Forwarded-Port", "80@evil.com")), client=TRUSTED),
    Hostile("trusted-xfh-two-hosts", "/go/x", _h(("Host", "example.com"), ("Host", "evil.com"), ("X-Forwarded-Host", "example.com")), client=TRUSTED),
    Hostile("trusted-forwarded-evil", "/self/x", _h(("Host", "example.com"), ("Forwarded", 'host="evil.com"')), client=TRUSTED),
    Hostile("trusted-forwarded-quoted", "/go/x", _h(("Host", "example.com"), ("Forwarded", 'host="example.com\\"@evil.com"')), client=TRUSTED),
    Hostile("spoof-forwarded-two", "/go/x", _h(("Host", "example.com"), ("Forwarded", "host=example.com, host=evil.com"))),
    Hostile("trusted-forwarded-encoded-crlf", "/go/x", _h(("Host", "example.com"), ("Forwarded", 'host="example.com%0D%0AX-Injected:1"')), client=TRUSTED),
    # --- methods ------------------------------------------------------------------------
    Hostile("method-lower-get", "/api/v1/x", method="get"),
    Hostile("method-mixed-post", "/api/v1/x", method="Post", body=b"a=1"),
    Hostile("method-head", "/go//evil.com", method="HEAD"),
    Hostile("method-options", "/api/v1/x", method="OPTIONS"),
    Hostile("method-options-star", "*", method="OPTIONS"),
    Hostile("method-propfind", "/api/v1/x", method="PROPFIND"),
    Hostile("method-unknown", "/go/x", method="BREW"),
    Hostile("method-trace", "/go/x", method="TRACE"),
    Hostile("method-post-body", "/go//evil.com", method="POST", body=b"secret=1"),
    Hostile("method-post-lower-https", "/a", method="post", body=b"x"),
    Hostile("method-delete-slash", "/s/x/", method="DELETE"),
    Hostile("method-post-map", "/old", method="POST", body=b"{}"),
    Hostile("method-methods-rule-lower", "/form", method="post", body=b"x"),
    # --- request targets ----------------------------------------------------------------
    Hostile("target-absolute-form", "http://evil.com/go/x"),
    Hostile("target-absolute-form-https", "https://evil.com//evil.com"),
    Hostile("target-no-slash", "go/x"),
    Hostile("target-fragment", "/go/x#@evil.com"),
    Hostile("target-json-accept", "/go/%22%3E%3Cscript%3E", _h(("Host", "example.com"), ("Accept", "application/json"))),
    Hostile("target-html-escape", "/go/\"><script>alert(1)</script>"),
    Hostile("target-https-scheme", "/go//evil.com", scheme="https"),
]  # fmt: skip


# --- the invariants ----------------------------------------------------------------------

_PRINTABLE = re.compile(r"[\x21-\x7e]+\Z")
REDIRECT_CODES = frozenset({301, 302, 307, 308})


_PLAIN_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{0,5})?\Z")


def _host_name(value: str) -> str | None:
    """The lower-case name of a plain ``host[:port]`` Host value; None for anything odder."""
    if not _PLAIN_HOST.match(value):
        return None
    return (urlsplit("//" + value).hostname or "").rstrip(".") or None


def allowed_location_hosts(
    document: Mapping[str, Any], host_headers: Sequence[str]
) -> tuple[frozenset[str], tuple[str, ...]]:
    """Exact host names and ``.suffix`` patterns a Location may name for this request."""
    settings = document.get("settings") or {}
    listed = settings.get("allowed_hosts")
    exact = set(LITERAL_TARGET_HOSTS)
    suffixes: list[str] = []
    if listed is None:
        # Without allowed_hosts a site redirects within whatever host the client addressed.
        exact.update(name for name in map(_host_name, host_headers) if name)
    else:
        for entry in listed:
            if entry.startswith("*."):
                suffixes.append(entry[1:])
            else:
                exact.add(entry.strip("[]"))  # urlsplit gives IPv6 hosts without brackets
            if entry.startswith("."):  # Django's spelling: the apex and its subdomains
                exact.add(entry[1:])
                suffixes.append(entry)
    return frozenset(exact), tuple(suffixes)


def location_problems(location: str, exact: frozenset[str], suffixes: tuple[str, ...]) -> list[str]:
    """What is wrong with one Location value (empty when it is safe)."""
    problems: list[str] = []
    if not _PRINTABLE.match(location):
        problems.append(f"Location holds a non-printable or non-ASCII character: {location!r}")
    if "\\" in location:
        problems.append(f"Location holds a backslash: {location!r}")
    if location.startswith("//"):
        problems.append(f"Location is protocol-relative: {location!r}")
    try:
        parts = urlsplit(location)
        port = parts.port
    except ValueError as error:
        return [*problems, f"Location does not parse ({error}): {location!r}"]
    if parts.scheme not in ("http", "https"):
        problems.append(f"Location is not an absolute http(s) URL: {location!r}")
    if "@" in parts.netloc:
        problems.append(f"Location carries userinfo: {location!r}")
    if port is not None and not 0 < port < 65536:
        problems.append(f"Location has a bad port: {location!r}")
    name = (parts.hostname or "").rstrip(".")
    if name not in exact and not any(name.endswith(s) and len(name) > len(s) for s in suffixes):
        problems.append(f"Location host {name!r} is not allowed: {location!r}")
    return problems


def violations(
    document: Mapping[str, Any],
    method: str,
    host_headers: Sequence[str],
    status: int,
    headers: Sequence[tuple[str, str]],
    forwarded_host: str | None = None,
) -> list[str]:
    """Every broken promise in one answer (empty when the answer keeps them all).

    ``host_headers`` are the Host values the client sent: without ``allowed_hosts``, a
    Location may name that host (the client chose it) but no other. ``forwarded_host`` is
    the host a *trusted* proxy said the client addressed, which counts the same way.
    """
    problems: list[str] = []
    for name, value in headers:
        if any(c in name or c in value for c in "\r\n\0"):
            problems.append(f"header holds CR, LF or NUL: {name!r}: {value!r}")
        if name.lower() in ("x-injected", "set-cookie"):
            problems.append(f"injected header: {name!r}: {value!r}")
    if status >= 500:
        problems.append(f"status {status}: the middleware must not fail on input")
    locations = [value for name, value in headers if name.lower() == "location"]
    if 300 <= status < 400:
        if status not in REDIRECT_CODES:
            problems.append(f"redirect with status {status}")
        if method not in ("GET", "HEAD") and status not in (307, 308):
            problems.append(f"{method!r} redirected with {status}, not 307/308")
        if len(locations) != 1:
            problems.append(f"redirect with {len(locations)} Location headers")
    if len(host_headers) > 1 and locations:
        problems.append(f"two Host headers, yet a Location: {locations}")
    addressed = [*host_headers[:1], *([forwarded_host] if forwarded_host else [])]
    if not host_headers:
        addressed.append(SERVER_NAME)
    exact, suffixes = allowed_location_hosts(document, addressed)
    for location in locations:
        problems += location_problems(location, exact, suffixes)
    return problems
