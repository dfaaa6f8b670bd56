"""Host header parsing and the ``allowed_hosts`` check.

A Host header is the client's to write. Before one is used to build a ``Location`` it must be
a well-formed ``host[:port]`` (no userinfo, no path, no spaces, one value) and, when the
document lists ``allowed_hosts``, one of them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

# A DNS name as sites use them: labels of letters, digits, hyphens and underscores.
_NAME = re.compile(
    r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\Z"
)
_PORT = re.compile(r"[0-9]{1,5}\Z")


@dataclass(frozen=True)
class Host:
    """A validated host: lower-case name (IPv6 in brackets) and port text (may be empty)."""

    name: str
    port: str

    @property
    def netloc(self) -> str:
        """``name`` or ``name:port``, as it goes into a URL."""
        return f"{self.name}:{self.port}" if self.port else self.name


def parse_host(value: str) -> Host | None:
    """A :class:`Host` when ``value`` is a well-formed ``host[:port]``, else None."""
    if not value or len(value) > 300:
        return None
    text = value.lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        name, rest = text[: end + 1], text[end + 1 :]
        if "%" in name:
            # A zone id ("[fe80::1%25eth0]") names an interface of the client's own
            # machine; RFC 6874 bars it from Host, and it has no place in a Location.
            return None
        try:
            ipaddress.IPv6Address(name[1:-1])
        except ValueError:
            return None
        if rest and not (rest.startswith(":") and _PORT.match(rest[1:])):
            return None
        port = rest[1:]
    else:
        name, sep, port = text.partition(":")
        if sep and not _PORT.match(port):
            return None
        if name.endswith("."):
            name = name[:-1]
        if not _NAME.match(name):
            return None
    if port and int(port) > 65535:
        return None
    return Host(name, port)


# A site sees a handful of names, but any client can send any Host, so the memo is
# emptied when it reaches this size rather than grow without bound.
_PARSED_MAX = 1024
#: Host headers parsed lately, and what they parsed to. The engine reads a hit straight
#: from this dict (a call costs more than the lookup); only parse_host_cached writes it.
PARSED_HOSTS: dict[str, Host | None] = {}


def parse_host_cached(value: str) -> Host | None:
    """:func:`parse_host`, remembered: the same few Host values come on every request."""
    try:
        return PARSED_HOSTS[value]
    except KeyError:
        pass
    host = parse_host(value)
    if len(PARSED_HOSTS) >= _PARSED_MAX:
        PARSED_HOSTS.clear()
    PARSED_HOSTS[value] = host
    return host


@dataclass(frozen=True)
class AllowedHosts:
    """``allowed_hosts``: exact names and ``*.suffix`` patterns.

    ``*.example.org`` allows every subdomain of example.org but not example.org itself;
    ``.example.org`` (Django's spelling) allows both.
    """

    exact: frozenset[str]
    suffixes: tuple[str, ...]
    everyone: bool

    @classmethod
    def parse(cls, entries: Iterable[str] | None) -> AllowedHosts:
        """Build from entries; None means any well-formed host. ``ValueError`` if one is bad."""
        if entries is None:
            return cls(frozenset(), (), True)
        exact: set[str] = set()
        suffixes: list[str] = []
        everyone = False
        for raw in entries:
            entry = raw.strip().lower()
            if entry == "*":
                everyone = True
            elif entry.startswith(("*.", ".")):
                suffix = entry[entry.index(".") :]
                apex = parse_host(suffix[1:])
                if apex is None or apex.port:
                    raise ValueError(f"bad host pattern {raw!r}")
                suffixes.append(suffix)
                if entry.startswith("."):
                    exact.add(apex.name)
            else:
                host = parse_host(entry)
                if host is None or host.port:
                    raise ValueError(f"bad host {raw!r} (a host name, without port)")
                exact.add(host.name)
        return cls(frozenset(exact), tuple(suffixes), everyone)

    def __contains__(self, name: object) -> bool:
        if self.everyone:
            return True
        if not isinstance(name, str):
            return False
        return name in self.exact or any(name.endswith(suffix) for suffix in self.suffixes)
