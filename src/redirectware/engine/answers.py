"""Building the answers the engine gives itself: a redirect, a 503, a 400.

The engine works out *where* a request goes (a chain of :class:`Hop`); this module turns that
into a :class:`Decision` with its status, headers and body. What does not depend on the
request (the ``Sunset`` text, the ``Retry-After`` value) is worked out once per rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import format_datetime
from functools import lru_cache
from http import HTTPStatus

from .decision import REDIRECT_KIND, RESPOND_KIND, Decision, Hop
from .model import Maintenance, Rule
from .responses import bad_request_body, maintenance_body, redirect_body
from .status import redirect_status


def bad_request(reason: str, rule: Rule | None = None, detail: str = "") -> Decision:
    """A 400 whose body says why; ``reason`` is plain ASCII text of ours. ``detail``, the
    longer story for ``explain`` and the log (the host, the setting), goes in ``error``."""
    content_type, body = bad_request_body(reason)
    return Decision(
        RESPOND_KIND,
        HTTPStatus.BAD_REQUEST,
        (
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ),
        body,
        rule=rule,
        error=detail or reason,
    )


def unavailable(method: str, accept: str | None, action: Maintenance, rule: Rule) -> Decision:
    """A maintenance rule's 503, with ``Retry-After`` when the rule gives one."""
    content_type, body = maintenance_body(accept)
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
    ]
    if action.retry_after is not None:
        headers.append(("Retry-After", str(action.retry_after)))
    return Decision(
        RESPOND_KIND,
        HTTPStatus.SERVICE_UNAVAILABLE,
        tuple(headers),
        b"" if method == "HEAD" else body,
        rule=rule,
    )


@lru_cache(maxsize=256)
def _sunset_headers(rule: Rule) -> tuple[tuple[str, str], ...]:
    # Rules are immutable and few: the dates are formatted once per rule, not per request.
    if rule.sunset is None:
        return ()
    deprecated = rule.deprecated or rule.sunset
    return (
        ("Sunset", format_datetime(rule.sunset, usegmt=True)),
        ("Deprecation", f"@{int(deprecated.timestamp())}"),
    )


def redirect(
    method: str,
    accept: str | None,
    vary: set[str],
    hops: Sequence[Hop],
    strict_codes: bool,
    permanent_max_age: int,
) -> Decision:
    """One redirect to the end of ``hops``: permanent only if every hop was.

    An explicit ``status`` is honoured from the first hop whose nature (permanent or not)
    is the chain's.
    """
    # Plain loops, not generators: this runs for every redirect answered.
    permanent = True
    sunset_rule: Rule | None = None
    for hop in hops:
        if not hop.permanent:
            permanent = False
        if sunset_rule is None and hop.rule.sunset is not None:
            sunset_rule = hop.rule
    deciding = hops[0]
    for hop in hops:
        if hop.permanent == permanent:
            deciding = hop
            break
    status = redirect_status(method, permanent, deciding.status, strict_codes)
    location = hops[-1].location
    content_type, body = redirect_body(status, location, accept)
    headers = [
        ("Location", location),
        ("Cache-Control", f"max-age={permanent_max_age}" if permanent else "no-store"),
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
    ]
    if vary:
        headers.append(("Vary", ", ".join(sorted(vary))))
    last = hops[-1].rule.action
    if isinstance(last, Maintenance) and last.retry_after is not None:
        headers.append(("Retry-After", str(last.retry_after)))
    if sunset_rule is not None:
        headers.extend(_sunset_headers(sunset_rule))
    return Decision(
        REDIRECT_KIND,
        status,
        tuple(headers),
        b"" if method == "HEAD" else body,
        location=location,
        rule=hops[0].rule,
        hops=tuple(hops),
    )
