"""A request written as text, as ``redirectware explain`` and a document's ``tests:`` give it.

``POST https://example.com/api/v1/orders?x=1``, with optional headers and a client address,
becomes the plain arguments of :meth:`Engine.resolve`. Nothing here decides anything: the
answer always comes from the engine, so ``explain`` and ``tests:`` see exactly what a
middleware would send.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from redirectware.engine.decision import PASS, Decision

if TYPE_CHECKING:
    from redirectware.engine.engine import Engine

# Characters a client may send unescaped in a path or query; anything else a person types
# (a space, "é") is sent UTF-8 percent-encoded, as a browser would.
_URL_SAFE = "/:@!$&'()*+,;=-._~%?"
# RFC 9110 section 5.6.2: a method is a token.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


class ProbeError(ValueError):
    """A request line, URL or header that cannot be turned into a request; says what to write.

    :attr:`part` names what was wrong: ``"request"``, ``"headers"`` or ``"client"``.
    """

    def __init__(self, message: str, part: str = "request") -> None:
        super().__init__(message)
        self.part = part


@dataclass(frozen=True)
class Probe:
    """One request to ask the engine about."""

    method: str
    url: str
    scheme: str
    host: str
    path: str
    query: str
    #: Lower-case header names to values, several values of one name joined with ", ".
    headers: Mapping[str, str] = field(default_factory=dict)
    client: str | None = None

    def resolve(self, ruleset: Engine, now: float | None = None) -> Decision:
        """What the engine answers for this request."""
        return ruleset.resolve(
            self.method,
            self.scheme,
            self.headers.get("host", self.host),
            self.path,
            self.query,
            self.headers,
            self.client,
            now,
        )

    def resolve_not_found(self, ruleset: Engine) -> Decision:
        """What the request gets once the app has answered it 404 (``when: not_found``);
        PASS from an engine without such rules."""
        after = getattr(ruleset, "resolve_not_found", None)
        if after is None:
            return PASS
        decision: Decision = after(
            self.method,
            self.scheme,
            self.headers.get("host", self.host),
            self.path,
            self.query,
            self.headers,
            self.client,
        )
        return decision

    @property
    def line(self) -> str:
        """``POST https://example.com/x``: the request as a person wrote it."""
        return f"{self.method} {self.url}"


def parse_url(url: str) -> tuple[str, str, str, str]:
    """``(scheme, host, path, query)`` of an absolute http(s) URL; :class:`ProbeError` if not."""
    text = url.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise ProbeError(
            f"{url!r} is not an absolute http(s) URL: write the scheme and host too, "
            f"e.g. https://example.com{text if text.startswith('/') else '/path'}"
        )
    path = quote(parts.path or "/", safe=_URL_SAFE)
    query = quote(parts.query, safe=_URL_SAFE)
    return scheme, parts.netloc, path, query


def parse_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` -> ``("name", "value")``; :class:`ProbeError` if there is no colon."""
    name, sep, value = text.partition(":")
    if not sep or not _TOKEN.match(name):
        raise ProbeError(
            f"header {text!r} is not 'Name: value', e.g. 'Accept: application/json'", "headers"
        )
    return name.lower(), value.strip()


def make_probe(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]] = (),
    client: str | None = None,
) -> Probe:
    """Build a :class:`Probe`; header names may be in any case."""
    if not _TOKEN.match(method):
        raise ProbeError(f"{method!r} is not an HTTP method: write GET, POST, PUT, ...")
    scheme, host, path, query = parse_url(url)
    if client is not None:
        try:
            ipaddress.ip_address(client)
        except ValueError:
            raise ProbeError(
                f"client {client!r} is not an IP address, e.g. 203.0.113.7", "client"
            ) from None
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    return Probe(method, url.strip(), scheme, host, path, query, joined, client)


def parse_request_line(text: str) -> tuple[str, str]:
    """``"POST https://example.com/x"`` -> ``("POST", "https://example.com/x")``."""
    method, _, url = text.strip().partition(" ")
    if not url.strip():
        raise ProbeError(
            f"{text!r} is not 'METHOD URL': write e.g. 'GET https://example.com/old-page'"
        )
    return method, url.strip()
