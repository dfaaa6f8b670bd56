"""What the engine answers for one request: a :class:`Decision`."""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

from .model import Rule

PASS_KIND: Final = "pass"
REDIRECT_KIND: Final = "redirect"
RESPOND_KIND: Final = "respond"


# NamedTuples, not frozen dataclasses: just as immutable, and built several times faster
# (a frozen dataclass sets each field through object.__setattr__), which a redirect answer
# does once per request.
class Hop(NamedTuple):
    """One step of a redirect chain that the engine collapsed into one answer."""

    rule: Rule
    location: str
    permanent: bool


class Decision(NamedTuple):
    """The engine's answer for one request.

    * ``kind == "pass"``: hand the request to the app unchanged; add :attr:`headers` (HSTS)
      to the app's response. :attr:`error` may hold a refused self-redirect or loop to log,
      and :attr:`would` the redirect a report-only rule did not send.
    * ``kind == "redirect"``: answer :attr:`status` with :attr:`headers` and :attr:`body`.
    * ``kind == "respond"``: answer :attr:`status` (503 maintenance, 400 bad Host) likewise.

    :attr:`headers` are ``(name, value)`` pairs of ``str``; every value is ASCII without
    CR, LF or NUL. :attr:`body` is empty for HEAD requests.
    """

    kind: Literal["pass", "redirect", "respond"]
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    location: str | None = None
    rule: Rule | None = None
    hops: tuple[Hop, ...] = ()
    error: str | None = None
    would: Decision | None = None

    @property
    def passes(self) -> bool:
        """True when the request goes on to the app."""
        return self.kind == PASS_KIND


PASS = Decision(PASS_KIND)
