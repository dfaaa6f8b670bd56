"""How counts are written in messages: the plural right, and disabled rules said aloud."""

from __future__ import annotations

from .hosts import Host
from .model import Document, Settings


def plural(count: int, word: str) -> str:
    """``1 rule``, ``2 rules``, ``0 rules``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def rule_count(document: Document) -> str:
    """Every rule the file holds, disabled ones included and counted apart.

    A user counts the rules in the file; a count that silently left out the
    ``enabled: false`` ones read as if a rule had been lost.
    """
    written = len(document.rules) + document.disabled
    text = plural(written, "rule")
    if document.disabled:
        text += f" ({document.disabled} disabled)"
    return text


def host_refusal(host: Host | None, settings: Settings) -> str:
    """Why a request that would be redirected gets 400 for its Host, naming the setting.

    The client's answer says only "Host header missing or not allowed"; this longer text is
    for ``explain`` and the log, where the person who can change the setting reads it.
    """
    if host is None:
        return (
            "the request has no Host header, and a target written as a path needs one "
            "to build the Location"
        )
    allowed = settings.allowed_hosts
    listed = sorted(allowed.exact) + [f"*{suffix}" for suffix in allowed.suffixes]
    return (
        f"Host {host.name!r} is not in {settings.allowed_hosts_from} [{', '.join(listed)}]: "
        f"add {host.name!r} there, or send the request with an allowed Host"
    )
