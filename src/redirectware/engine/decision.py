"""What the engine answers for one request: a :class:`Decision`, and the :class:`Hop` of
each rule on the way to it."""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

from .hosts import Host
from .model import Rule

PASS_KIND: Final = "pass"
REDIRECT_KIND: Final = "redirect"
RESPOND_KIND: Final = "respond"


# NamedTuples, not frozen dataclasses: just as immutable, and built several times faster
# (a frozen dataclass sets each field through object.__setattr__), which a redirect answer
# does once per request and per hop.
class Hop(NamedTuple):
    """Where one rule sends a request: one step of a chain the engine collapses into one
    answer. ``location`` is the whole URL; the other fields are its parts, for the next step."""

    rule: Rule
    location: str
    permanent: bool
    status: int | None = None
    scheme: str = ""
    netloc: str = ""
    host: Host | None = None
    path: str = ""
    query: str = ""
    #: The row of a ``map`` that made this hop (its line, or a database row's id), else None:
    #: hit counting credits the row, not only its rule.
    row: int | None = None


class Refusal(NamedTuple):
    """A redirect the engine worked out and will not send; the request passes through.

    ``kind`` is ``"self"`` (the one hop leads back to the request's own URL) or ``"loop"``
    (the chain comes back to a URL it visited, or never ends: it reaches the hop limit, or a
    rule matches its own output again and makes it longer). ``urls`` is the request's URL
    followed by each hop's. Tools read this, never the text of :attr:`Decision.error`.
    """

    kind: Literal["self", "loop"]
    urls: tuple[str, ...]
    #: What the chain does, for messages: "comes back", "grows", "never ends".
    how: str = "comes back"

    @property
    def message(self) -> str:
        """``refused a redirect loop (http://a/x -> http://a/y -> http://a/x)``."""
        if self.kind == "self":
            return "refused a redirect to the request's own URL"
        shown = list(self.urls[:4]) + (["..."] if len(self.urls) > 4 else [])
        what = "a redirect loop" if self.how == "comes back" else f"a redirect loop that {self.how}"
        return f"refused {what} ({' -> '.join(shown)})"


class Decision(NamedTuple):
    """The engine's answer for one request.

    * ``kind == "pass"``: hand the request to the app unchanged; add :attr:`headers` (HSTS)
      to the app's response. :attr:`refused` (with :attr:`error`, its text for the log) holds
      a self-redirect or loop the engine would not send, and :attr:`would` the redirect a
      report-only rule did not send.
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
    refused: Refusal | None = None
    #: For a ``map`` row that answers 410 or 451 itself: the row, as :attr:`Hop.row`.
    row: int | None = None

    @property
    def passes(self) -> bool:
        """True when the request goes on to the app."""
        return self.kind == PASS_KIND


PASS = Decision(PASS_KIND)
