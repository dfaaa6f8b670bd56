"""The refusals every export takes from the registry of rule kinds.

What a target cannot say about a whole kind (``maintenance`` to nginx, ``gone`` to Cloudflare,
``from_regex`` to Netlify) is declared once, with its reason, in the kind's module
(:mod:`redirectware.kinds`); each exporter asks here first, so the message a user reads and
the reference in ``docs/kinds.md`` are the same words, and ``tests/test_matrix.py`` holds
every exporter to them. What a target refuses of one rule only (a ``$`` in an nginx target,
a query in a Cloudflare row) stays with the exporter.
"""

from __future__ import annotations

from redirectware.engine.model import Rule
from redirectware.kinds import ENTRIES, Surface

#: The registry's surface of each export target.
SURFACES = {
    "nginx": Surface.EXPORT_NGINX,
    "caddy": Surface.EXPORT_CADDY,
    "apache": Surface.EXPORT_APACHE,
    "cloudflare": Surface.EXPORT_CLOUDFLARE,
    "netlify": Surface.EXPORT_NETLIFY,
}


def kind_refusal(rule: Rule, target: str) -> tuple[str, str] | None:
    """``(key, reason)`` for the first kind or option of ``rule`` that ``target`` refuses."""
    surface = SURFACES[target]
    for kind in ENTRIES:
        reason = kind.refusal(surface)
        if reason is not None and kind.uses(rule):
            return kind.key, reason
    return None
