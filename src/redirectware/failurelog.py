"""Logging a failure that repeats at every look without flooding the log.

A source of rules that is looked at once a second (a database whose version is polled, a
rule file a reload reads) can fail for minutes: a database that is down fails at every look.
The first failure is what an operator needs, with its traceback; after that, one line a
minute says it still lasts, and one line says when it is over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger("redirectware")

#: Seconds between two reminders that a failure still lasts.
REMIND_EVERY = 60.0


class RepeatedFailure:
    """The log of one thing that may fail again and again (``what`` names it in each line).

    Call :meth:`failed` from the ``except`` block of each failure, :meth:`succeeded` after
    each success. Thread-safe: the failures of several threads share one log.
    """

    def __init__(
        self,
        what: str,
        *,
        remind_every: float = REMIND_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self._remind_every = remind_every
        self._clock = clock
        self._lock = threading.Lock()
        self._since: float | None = None
        self._reminded = 0.0
        self._failures = 0

    @property
    def failing(self) -> bool:
        """Whether the last outcome was a failure."""
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        """Log ``error``: in full the first time, then once per interval while it lasts."""
        now = self._clock()
        with self._lock:
            self._failures += 1
            if self._since is None:
                self._since = self._reminded = now
                first = True
            elif now - self._reminded >= self._remind_every:
                self._reminded = now
                first = False
            else:
                return
            since, failures = self._since, self._failures
        if first:
            logger.error("%s: %s", self.what, error, exc_info=error)
        else:
            logger.error(
                "%s: still failing for %.0f s (%d failures; the first was logged with its "
                "traceback); last error: %s: %s",
                self.what,
                now - since,
                failures,
                type(error).__name__,
                error,
            )

    def succeeded(self) -> None:
        """Say once that a failure is over (nothing when none lasted)."""
        with self._lock:
            since, failures = self._since, self._failures
            if since is None:
                return
            self._since, self._failures = None, 0
        logger.warning(
            "%s: recovered after %.0f s and %d failures",
            self.what,
            self._clock() - since,
            failures,
        )
