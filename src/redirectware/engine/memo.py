"""Answers remembered between requests, and what makes one safe to give again.

Most of a site's traffic repeats: the same pages over http before the https redirect, the same
legacy URLs asked for by crawlers, the same pages passing through. An answer is given again
without working it out only when it cannot have depended on anything but the request line and
the Host header, that is when every rule the engine looked at reads nothing else:

* no ``headers`` or ``cookies`` condition (the answer would vary by header);
* no ``active`` window (it would vary by time);
* no ``maintenance`` with ``allow_ips`` (the answer would vary by client);
* the direct peer is not a trusted proxy (its forwarded headers would decide scheme and host).

A ``maintenance`` rule switched by a ``flag_file`` is remembered with the rest: the memory
looks at the flag files itself, at most once a second (as the rule would), and forgets every
answer as soon as one of them has come or gone. A site whose rules include the usual
maintenance switch keeps the benefit, and the switch still takes effect within a second.

A redirect body is HTML or JSON by the client's ``Accept``: only the HTML one is remembered,
and a client that prefers JSON is answered afresh.

An answer is stored on its second sighting: the first time a key is asked for, only the key
is noted (:attr:`AnswerMemo.once`, a set), so a URL asked for once, which is most of the
URLs a crawler or an API with ids in its paths sends, costs a set insertion and not a stored
answer. ``benchmarks/bench.py`` measures both kinds of traffic.

The store is bounded: when it holds :data:`MEMO_LIMIT` answers it is emptied and fills again
with what is asked for now, so a client sending endless distinct URLs costs a little memory
and no more. Requests whose path, query and host together run over :data:`MAX_KEY_TEXT`
characters are never remembered, which bounds the size of each entry too.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

from .decision import Decision
from .responses import JSON

if TYPE_CHECKING:
    from .model import FlagFile

#: The most answers one rule set remembers before starting afresh.
MEMO_LIMIT = 4096
#: The longest path + query + host (in characters) whose answer is remembered.
MAX_KEY_TEXT = 1024
_JSON_BODY = ("Content-Type", JSON)


class AnswerMemo:
    """A bounded store of reusable decisions, keyed by however an adapter reads a request.

    Adapters read it with :attr:`get` and never write it: :meth:`RuleSet.resolve
    <redirectware.RuleSet.resolve>` stores an answer, under the key it is given as
    ``remember_as``, only when the answer is reusable. Without flag files to watch, ``get``
    is a plain ``dict.get``, the cheapest lookup there is.
    """

    __slots__ = ("_answers", "_flags", "_next_look", "_seen", "get", "limit", "once")

    def __init__(self, limit: int = MEMO_LIMIT, flags: Sequence[FlagFile] = ()) -> None:
        self._answers: dict[Hashable, Decision] = {}
        self.limit = limit
        #: Keys asked for once and not yet remembered: an answer is stored on its second
        #: sighting, so that a URL asked for once (most of a crawler's, an API's ids) costs
        #: a set insertion, not a stored answer. Emptied when full, like the answers.
        self.once: set[Hashable] = set()
        self._flags = tuple(flags)
        self._seen = tuple(flag.last_seen for flag in self._flags)
        self._next_look = 0.0
        self.get = self._watching_get if self._flags else self._answers.get

    def _watching_get(self, key: Hashable) -> Decision | None:
        now = time.monotonic()
        if now >= self._next_look:
            # Once a second, as a maintenance rule itself would: a flag file that came or
            # went makes every remembered answer stale.
            self._next_look = now + min(flag.ttl for flag in self._flags)
            self._compare(tuple(flag.look(now) for flag in self._flags))
        return self._answers.get(key)

    def _compare(self, seen: tuple[bool, ...]) -> None:
        if seen != self._seen:
            self._answers.clear()
            self._seen = seen

    def store(self, key: Hashable, decision: Decision) -> None:
        """Remember ``decision`` under ``key``, emptying the store first when it is full."""
        if self._flags:
            # The answer was worked out with the flag files as last seen; if that is news
            # to the memory, what it holds predates the change.
            self._compare(tuple(flag.last_seen for flag in self._flags))
        answers = self._answers
        if len(answers) >= self.limit:
            # Emptied, not trimmed: no bookkeeping on the hot path, and what is asked for
            # often comes back within a few requests.
            answers.clear()
        answers[key] = decision

    def admit(
        self,
        key: Hashable,
        decision: Decision,
        path: str,
        query: str,
        host: str | None,
        now: float | None,
    ) -> None:
        """Store ``decision`` under ``key`` if it is worth remembering.

        The engine calls this only for an answer that depends on nothing but the request
        line and Host (see the module docstring); here the rest of the policy: an explicit
        time is a test's, a long URL would make a big entry, and only HTML bodies are kept
        (:meth:`~redirectware.engine.engine.Engine.recall` turns JSON clients away).
        """
        if now is not None or len(path) + len(query) + len(host or "") > MAX_KEY_TEXT:
            return
        if _JSON_BODY in decision.headers:
            return
        self.store(key, decision)

    def sighted(self, key: Hashable) -> bool:
        """Whether ``key`` was asked for before; if not, note that it now has been.

        The admission rule of the memory: the engine offers an answer to :meth:`admit` only
        on its second sighting. The engine inlines the common case (a key not seen before)
        and calls this for the rest of the policy.
        """
        once = self.once
        if key in once:
            return True
        if len(once) >= self.limit:
            once.clear()
        once.add(key)
        return False

    def __len__(self) -> int:
        return len(self._answers)

    def __contains__(self, key: object) -> bool:
        return key in self._answers
