"""Building the answers the engine gives itself: a redirect, a 503, a 400.

The engine works out *where* a request goes (a chain of :class:`Hop`); this module turns that
into a :class:`Decision` with its status, headers and body. What does not depend on the
request (both statuses, ``Cache-Control``, the ``Sunset`` text, ``Retry-After``, the body
around the link) is a :class:`Shape`, worked out once.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from email.utils import format_datetime
from http import HTTPStatus

from .decision import REDIRECT_KIND, RESPOND_KIND, Decision, Hop
from .model import Maintenance, Rule
from .responses import (
    HTML,
    JSON,
    bad_request_body,
    gone_body,
    maintenance_body,
    prefers_json,
)
from .status import SAFE_METHODS, redirect_status

_HTML_SPECIAL = re.compile("[&<>\"']").search


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


def gone(method: str, accept: str | None, status: int, max_age: int, rule: Rule) -> Decision:
    """A ``gone`` answer: 410 cached like a permanent redirect (it is as final), 451 never
    cached (a legal block may be lifted any day). The same for every method: it is not a
    redirect, so nothing is re-sent."""
    content_type, body = gone_body(status, accept)
    cache = f"max-age={max_age}" if status == HTTPStatus.GONE else "no-store"
    return Decision(
        RESPOND_KIND,
        status,
        (
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", cache),
            *sunset_headers(rule),
        ),
        b"" if method == "HEAD" else body,
        rule=rule,
    )


def sunset_headers(rule: Rule | None) -> tuple[tuple[str, str], ...]:
    """``Sunset`` and ``Deprecation`` for a rule with ``sunset``, ``Deprecation`` alone for
    one with only ``deprecated``; none for another. The exports write the same headers."""
    if rule is None or (rule.sunset is None and rule.deprecated is None):
        return ()
    if rule.sunset is None:
        # RFC 9745's Deprecation stands on its own: an API may be deprecated before it has
        # a date on which it goes away.
        assert rule.deprecated is not None
        return (("Deprecation", f"@{int(rule.deprecated.timestamp())}"),)
    deprecated = rule.deprecated or rule.sunset
    return (
        ("Sunset", format_datetime(rule.sunset, usegmt=True)),
        ("Deprecation", f"@{int(deprecated.timestamp())}"),
    )


class _Status:
    """Everything about a redirect with one status that does not depend on the request."""

    __slots__ = ("code", "html_head", "html_tail", "line")

    def __init__(self, code: int) -> None:
        phrase = HTTPStatus(code).phrase
        self.code = code
        #: The HTML body around the link, which stands in it twice.
        self.html_head = f'<!doctype html><title>{code} {phrase}</title><p>{phrase}: <a href="'
        self.html_tail = "</a>"
        #: ``"308 Permanent Redirect"``: WSGI's status line.
        self.line = f"{code} {phrase}"


class Shape:
    """A redirect's answer with everything that does not depend on the request built once.

    One shape stands for every redirect whose chain has the same nature (permanent or
    not), the same explicit status, the same rule giving ``Sunset`` and the same
    ``Retry-After``: the request fills in the ``Location``, the link in the body, and
    picks the status by its method. Shapes are made when first needed and kept for the
    rule set's life (there are at most a few per rule).
    """

    __slots__ = ("cache_control", "other", "safe", "tail")

    def __init__(
        self,
        permanent: bool,
        explicit: int | None,
        strict_codes: bool,
        max_age: int,
        sunset_rule: Rule | None,
        retry_after: int | None,
        private: bool = False,
    ) -> None:
        self.safe = _Status(redirect_status("GET", permanent, explicit, strict_codes))
        self.other = _Status(redirect_status("POST", permanent, explicit, strict_codes))
        cache = f"max-age={max_age}" if permanent else "no-store"
        # An answer made for one visitor (their language) is for no shared cache at all.
        self.cache_control = ("Cache-Control", "private, no-store" if private else cache)
        tail = list(sunset_headers(sunset_rule))
        if retry_after is not None:
            tail.insert(0, ("Retry-After", str(retry_after)))
        #: Headers after Content-Length, Vary aside.
        self.tail = tuple(tail)

    def answer(
        self, method: str, accept: str | None, vary: set[str], hops: Sequence[Hop]
    ) -> Decision:
        """The redirect to the end of ``hops`` for a request with ``method`` and ``accept``."""
        status = self.safe if method in SAFE_METHODS else self.other
        location = hops[-1].location
        if accept is not None and prefers_json(accept):
            content_type = JSON
            body = json.dumps({"status": status.code, "location": location}).encode()
        else:
            content_type = HTML
            # A Location rarely holds a character HTML must escape ("&" in a query).
            link = html.escape(location, quote=True) if _HTML_SPECIAL(location) else location
            body = f'{status.html_head}{link}">{link}{status.html_tail}'.encode()
        headers = [
            ("Location", location),
            self.cache_control,
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
        ]
        if vary:
            headers.append(("Vary", ", ".join(sorted(vary))))
        if self.tail:
            headers.extend(self.tail)
        # tuple.__new__: the NamedTuple's own __new__ is a Python function, and a redirect
        # makes one Decision.
        return tuple.__new__(
            Decision,
            (
                REDIRECT_KIND,
                status.code,
                tuple(headers),
                b"" if method == "HEAD" else body,
                location,
                hops[0].rule,
                tuple(hops),
                None,
                None,
                None,
                None,  # row: a redirect's rows are on its hops
            ),
        )


ShapeKey = tuple[bool, "int | None", "Rule | None", "int | None", bool]


def _announces(rule: Rule) -> bool:
    """Whether the rule's answers carry ``Sunset`` or ``Deprecation``."""
    return rule.sunset is not None or rule.deprecated is not None


def shape_key(hops: Sequence[Hop]) -> ShapeKey:
    """What a chain's answer depends on besides the request: permanent only if every hop
    was; the explicit status of the first hop of that nature; the first rule with
    ``sunset``; the last rule's ``Retry-After`` (a maintenance redirect); whether a rule
    made the answer for one visitor only (``private``: a language redirect)."""
    first = hops[0]
    if len(hops) == 1:
        rule = first.rule
        last = rule.action
        retry = last.retry_after if isinstance(last, Maintenance) else None
        announcing = rule if _announces(rule) else None
        return (first.permanent, first.status, announcing, retry, rule.private)
    permanent = all(hop.permanent for hop in hops)
    deciding = next((hop for hop in hops if hop.permanent == permanent), first)
    sunset_rule = next((hop.rule for hop in hops if _announces(hop.rule)), None)
    last = hops[-1].rule.action
    retry = last.retry_after if isinstance(last, Maintenance) else None
    private = any(hop.rule.private for hop in hops)
    return (permanent, deciding.status, sunset_rule, retry, private)
