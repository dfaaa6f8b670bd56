"""The bytes of the answers redirectware gives itself: redirects, 503 and 400.

Bodies are short: a line of HTML with the link (for a person whose client does not follow
redirects) or a small JSON object when the client prefers JSON. A HEAD answer carries the same
headers and no body.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus

HTML = "text/html; charset=utf-8"
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


_HTML_SPECIAL = re.compile("[&<>\"']").search


def prefers_json(accept: str | None) -> bool:
    """Whether an ``Accept`` header asks for JSON before HTML (``*/*`` alone means HTML)."""
    if not accept or "json" not in accept:
        return False
    html_at = accept.find("text/html")
    return html_at < 0 or accept.find("json") < html_at


def maintenance_body(accept: str | None) -> tuple[str, bytes]:
    """Content type and body of a 503 maintenance answer."""
    if prefers_json(accept):
        return JSON, b'{"status": 503, "error": "down for maintenance"}'
    return HTML, (
        b"<!doctype html><title>503 Service Unavailable</title>"
        b"<p>This site is down for maintenance. Please try again shortly."
    )


def gone_body(status: int, accept: str | None) -> tuple[str, bytes]:
    """Content type and body of a ``gone`` answer: 410 Gone or 451 Unavailable For Legal
    Reasons."""
    phrase = HTTPStatus(status).phrase
    if prefers_json(accept):
        return JSON, json.dumps({"status": status, "error": phrase.lower()}).encode()
    what = (
        "This page has been removed and will not come back."
        if status == HTTPStatus.GONE
        else "This page is unavailable for legal reasons."
    )
    return HTML, f"<!doctype html><title>{status} {phrase}</title><p>{what}".encode()


def bad_request_body(reason: str) -> tuple[str, bytes]:
    """Content type and body of a 400 answer; ``reason`` is plain ASCII text of ours."""
    return TEXT, f"400 Bad Request: {reason}\n".encode()
