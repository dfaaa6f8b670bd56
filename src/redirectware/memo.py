"""Answers remembered between requests, and what makes one safe to give again.

Most of a site's traffic repeats: the same pages over http before the https redirect, the same
legacy URLs asked for by crawlers, the same pages passing through. An answer is given again
without working it out only when it cannot have depended on anything but the request line and
the Host header, that is when every rule the engine looked at reads nothing else:

* no ``headers`` or ``cookies`` condition (the answer would vary by header);
* no ``active`` window (it would vary by time);
* no ``maintenance`` (a flag file and ``allow_ips`` make it vary by time and by client);
* the direct peer is not a trusted proxy (its forwarded headers would decide scheme and host).

A redirect body is HTML or JSON by the client's ``Accept``: only the HTML one is remembered,
and a client that prefers JSON is answered afresh.

The store is bounded: when it holds :data:`MEMO_LIMIT` answers it is emptied and fills again
with what is asked for now, so a client sending endless distinct URLs costs a little memory
and no more. Requests whose path, query and host together run over :data:`MAX_KEY_TEXT`
characters are never remembered, which bounds the size of each entry too.
"""

from __future__ import annotations

from collections.abc import Hashable

from .decision import Decision

#: The most answers one rule set remembers before starting afresh.
MEMO_LIMIT = 4096
#: The longest path + query + host (in characters) whose answer is remembered.
MAX_KEY_TEXT = 1024


class AnswerMemo:
    """A bounded store of reusable decisions, keyed by however an adapter reads a request.

    Adapters read it with :attr:`get` (a plain ``dict.get``, the cheapest lookup there is)
    and never write it: :meth:`RuleSet.resolve <redirectware.RuleSet.resolve>` stores an
    answer, under the key it is given as ``remember_as``, only when the answer is reusable.
    """

    __slots__ = ("_answers", "get", "limit")

    def __init__(self, limit: int = MEMO_LIMIT) -> None:
        self._answers: dict[Hashable, Decision] = {}
        self.get = self._answers.get
        self.limit = limit

    def store(self, key: Hashable, decision: Decision) -> None:
        """Remember ``decision`` under ``key``, emptying the store first when it is full."""
        answers = self._answers
        if len(answers) >= self.limit:
            # Emptied, not trimmed: no bookkeeping on the hot path, and what is asked for
            # often comes back within a few requests.
            answers.clear()
        answers[key] = decision

    def clear(self) -> None:
        """Forget every answer."""
        self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)

    def __contains__(self, key: object) -> bool:
        return key in self._answers
