"""Holding the rules an adapter serves, and swapping in an edited rule file.

With ``reload=True`` the rule file is looked at (one ``stat``) at most once per
``reload_interval`` seconds. When it changed, the new document is compiled completely before
it replaces the old one, in a single reference assignment: a request sees the old rule set or
the new one, never a mix. An invalid edit, or a deleted file, keeps the old rules serving and
logs the error once per change.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._logging import make_failures_visible
from .errors import RuleError
from .ruleset import RuleSet
from .wording import rule_count

logger = logging.getLogger("redirectware")

RulesArgument = RuleSet | str | os.PathLike[str] | Mapping[str, Any]


class RuleHolder:
    """The current :class:`RuleSet` of a middleware; reloads its file when asked to.

    ``prepare`` is applied to every rule set before it serves, the first and each reloaded
    one (the Django adapter fills in ``ALLOWED_HOSTS`` with it); a :class:`RuleError` it
    raises on a reload keeps the previous rules, like an invalid file.
    """

    def __init__(
        self,
        rules: RulesArgument,
        *,
        reload: bool = False,
        reload_interval: float = 1.0,
        prepare: Callable[[RuleSet], RuleSet] | None = None,
    ) -> None:
        # Built by every adapter, before anything here can log: a failed reload must reach
        # someone even where logging was never configured (see _logging).
        make_failures_visible()
        self._prepare = prepare
        self.ruleset = self._prepared(RuleSet.load(rules))
        path = rules if isinstance(rules, str | os.PathLike) else None
        if reload and path is None:
            raise ValueError("reload=True needs rules given as a file path")
        self._path = None if path is None else os.fspath(path)
        self._reload = reload
        self._interval = reload_interval
        self._checked_at = time.monotonic()
        self._signature = self._stat()
        self._lock = threading.Lock()

    def _prepared(self, ruleset: RuleSet) -> RuleSet:
        return ruleset if self._prepare is None else self._prepare(ruleset)

    def _stat(self) -> tuple[int, int] | None:
        if self._path is None:
            return None
        try:
            info = os.stat(self._path)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def current(self) -> RuleSet:
        """The rule set to answer this request with."""
        if not self._reload:
            return self.ruleset
        now = time.monotonic()
        if now - self._checked_at < self._interval:
            return self.ruleset
        # One thread reloads; the others keep answering with the rules in hand.
        if not self._lock.acquire(blocking=False):
            return self.ruleset
        try:
            self._checked_at = now
            signature = self._stat()
            if signature != self._signature:
                self._signature = signature
                self._try_reload()
        finally:
            self._lock.release()
        return self.ruleset

    def _try_reload(self) -> None:
        assert self._path is not None
        if not os.path.exists(self._path):
            logger.error("rule file %s is gone; still serving the previous rules", self._path)
            return
        try:
            fresh = self._prepared(RuleSet.from_file(self._path))
        except RuleError as error:
            logger.error("rule file not reloaded, previous rules still serving: %s", error)
            return
        self.ruleset = fresh
        logger.info("reloaded %s: %s", self._path, rule_count(fresh.document))
