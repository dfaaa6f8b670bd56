"""Which proxy headers to believe, and what they say.

``X-Forwarded-Proto``, ``X-Forwarded-Host``, ``X-Forwarded-Port``, ``X-Forwarded-For`` and
``Forwarded`` are ordinary request headers: any client can send them with any value. A redirect
layer that believed them from everyone would let a client choose the host of a ``Location``
(an open redirect and a cache-poisoning vector) or dodge an https rule. So they are read only
when the direct peer, the address the TCP connection comes from, is one of the proxies listed in
``trusted_proxies``; from anyone else they are ignored as if absent.

A proxy appends to these headers, so a header that holds several values lists them from the
farthest hop to the nearest. The values left of the right-most came from further away and may
have been written by the client. For the scheme, host and port only the right-most value is
used: it is what the nearest, trusted, proxy said.

The client address is different, because each proxy in a chain appends the address *it* was
connected from. Behind two trusted proxies (a load balancer, then nginx) the right-most
``X-Forwarded-For`` value is the load balancer, not the client. So the list is walked from the
right, skipping addresses that are themselves trusted proxies, and the first one that is not
is the client: a value further left was written by that untrusted hop and cannot be believed.
When every address listed is trusted (the request came from inside), the left-most counts.
``Forwarded: for=`` is walked the same way, one element per hop. This is what uvicorn's
``ProxyHeadersMiddleware`` does.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrustedProxies:
    """A set of addresses and networks; ``"1.2.3.4" in proxies`` tells whether to trust it.

    ``"*"`` trusts every peer: only right when the app cannot be reached except through a proxy
    that overwrites these headers.
    """

    networks: tuple[IPNetwork, ...] = ()
    everyone: bool = False
    _cache: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TrustedProxies:
        """Build from strings such as ``10.0.0.0/8`` or ``127.0.0.1``; ``ValueError`` if bad."""
        networks: list[IPNetwork] = []
        everyone = False
        for entry in entries:
            if entry == "*":
                everyone = True
                continue
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        return cls(tuple(networks), everyone)

    def __bool__(self) -> bool:
        return self.everyone or bool(self.networks)

    def __contains__(self, peer: object) -> bool:
        if not isinstance(peer, str) or not peer:
            return False
        if self.everyone:
            return True
        known = self._cache.get(peer)
        if known is not None:
            return known
        try:
            address = ipaddress.ip_address(peer.strip("[]"))
        except ValueError:
            trusted = False
        else:
            trusted = any(address in network for network in self.networks)
        # The set of peers a server sees is small (its proxies); bound it all the same.
        if len(self._cache) < 4096:
            self._cache[peer] = trusted
        return trusted


@dataclass(frozen=True)
class Forwarded:
    """What a trusted proxy said about the original request; None where it said nothing."""

    proto: str | None = None
    host: str | None = None
    port: str | None = None
    client: str | None = None


_FORWARDED_PAIR = re.compile(r'\s*([A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*')
# One element of a Forwarded header: everything up to a comma that is not inside quotes.
_FORWARDED_ELEMENT = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*"?)+')

_NOBODY = TrustedProxies()


def _rightmost(value: str) -> str:
    return value.rsplit(",", 1)[-1].strip()


def _address(value: str) -> str:
    """The address of ``192.0.2.1:4711``, ``[2001:db8::1]:4711`` or a bare address."""
    value = value.strip()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _client(hops: list[str | None], trusted: TrustedProxies) -> str | None:
    """The client among the addresses the proxies recorded, farthest first.

    From the right, the first hop that is not a trusted proxy; the left-most when all are.
    """
    for hop in reversed(hops):
        if hop is None or hop not in trusted:
            return hop or None
    return hops[0] if hops else None


def _parse_forwarded(value: str) -> list[dict[str, str]]:
    """The pairs of each element of an RFC 7239 ``Forwarded`` header, farthest hop first."""
    elements: list[dict[str, str]] = []
    for element in _FORWARDED_ELEMENT.findall(value):
        pairs: dict[str, str] = {}
        for item in element.split(";"):
            found = _FORWARDED_PAIR.fullmatch(item)
            if found is None:
                continue
            text = found.group(2)
            if text.startswith('"'):
                text = re.sub(r"\\(.)", r"\1", text[1:-1])
            pairs[found.group(1).lower()] = text
        elements.append(pairs)
    return elements or [{}]


def read_forwarded(headers: Mapping[str, str], trusted: TrustedProxies | None = None) -> Forwarded:
    """Read the forwarding headers of a request from a trusted peer.

    ``Forwarded`` wins when present, since it is the standard and carries every field in one
    place; otherwise the ``X-Forwarded-*`` family is read. ``trusted`` (the document's
    ``trusted_proxies``) lets the client address be found behind several proxies; without it
    the right-most address is the client.
    """
    trusted = _NOBODY if trusted is None else trusted
    standard = headers.get("forwarded")
    if standard:
        elements = _parse_forwarded(standard)
        nearest = elements[-1]
        hops = [_address(e["for"]) if "for" in e else None for e in elements]
        return Forwarded(
            proto=_proto(nearest.get("proto")),
            host=nearest.get("host") or None,
            client=_client(hops, trusted),
        )
    proto = headers.get("x-forwarded-proto")
    host = headers.get("x-forwarded-host")
    port = headers.get("x-forwarded-port")
    client = headers.get("x-forwarded-for")
    return Forwarded(
        proto=_proto(_rightmost(proto)) if proto else None,
        host=_rightmost(host) or None if host else None,
        port=_rightmost(port) or None if port else None,
        client=_client([_address(hop) for hop in client.split(",")], trusted) if client else None,
    )


def _proto(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    # Anything but http/https is a proxy misconfiguration; ignore it rather than guess.
    return value if value in ("http", "https") else None
