"""Holding the rules an adapter serves, and swapping in an edited rule file.

With ``reload=True`` every file the document was compiled from (the rule file and each CSV
its ``map`` rules name) is looked at (one ``stat`` each) at most once per ``reload_interval``
seconds. When one changed, the new document is compiled completely before it replaces the old
one, in a single reference assignment: a request sees the old rule set or the new one, never a
mix. An invalid edit, or a deleted file, keeps the old rules serving and logs the error once
per change.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .errors import RuleError
from .ruleset import RuleSet

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
        self._prepare = prepare
        self.ruleset = self._prepared(RuleSet.load(rules))
        path = rules if isinstance(rules, str | os.PathLike) else None
        if reload and path is None:
            raise ValueError("reload=True needs rules given as a file path")
        self._path = None if path is None else os.fspath(path)
        self._reload = reload
        self._interval = reload_interval
        self._checked_at = time.monotonic()
        self._files = self._files_of(self.ruleset)
        self._signature = self._stat(self._files)
        self._lock = threading.Lock()

    def _prepared(self, ruleset: RuleSet) -> RuleSet:
        return ruleset if self._prepare is None else self._prepare(ruleset)

    def _files_of(self, ruleset: RuleSet) -> tuple[str, ...]:
        if self._path is None:
            return ()
        return ruleset.document.files or (self._path,)

    @staticmethod
    def _stat(files: tuple[str, ...]) -> tuple[tuple[int, int] | None, ...]:
        signature: list[tuple[int, int] | None] = []
        for file in files:
            try:
                info = os.stat(file)
            except OSError:
                signature.append(None)  # gone: a change like any other
            else:
                signature.append((info.st_mtime_ns, info.st_size))
        return tuple(signature)

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
            signature = self._stat(self._files)
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
        files = self._files_of(fresh)
        if files != self._files:
            # A map was added or dropped: watch the new set from how it stands now.
            self._files = files
            self._signature = self._stat(files)
        self.ruleset = fresh
        logger.info("reloaded %s: %d rules", self._path, len(fresh.rules))
