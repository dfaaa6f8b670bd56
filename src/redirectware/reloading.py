"""Holding the rules an adapter serves, and swapping in an edited rule file.

With ``reload=True`` every file the document was compiled from (the rule file and each CSV
its ``map`` rules name) is looked at (one ``stat`` each) at most once per ``reload_interval``
seconds, by the request that comes along when the interval is up. When one changed (and then
held still, see below), that request starts a worker thread to compile the new document and
goes on, like every request after it, with the rules in hand: compiling a 100,000-row map
takes a few tenths of a second, and under ASGI a compile on the request's own thread would
stall the event loop, and with it every request in flight, for that long. Under WSGI and
Django it would hold up the request that happened to notice. The worker replaces the rules in
a single reference assignment once the new set is complete: a request sees the old rule set
or the new one, never a mix.

A changed file is compiled only once it has held still (the same size and modification time)
from one look to the next, an interval later: a file rewritten in place (truncated, then
written, as editors and a shell's ``>`` do) is never compiled halfway through the write.

There is never more than one compile at a time; files that change while one runs are noticed
by the first look after it ends. An invalid edit, or a deleted file, keeps the old rules
serving and logs the error once per change. A failure that recurs at every look (a database
that is down) is logged in full once, then once a minute, then once when it is over.

Rules need not come from files only: a :class:`SourceWatch` (``watch=``) tells whether some
other source of the rules in hand changed (the Django integration's watches the version of
the redirect table). It is asked at most once per interval, on the worker thread, never on
a request's: a database query must not hold up a request, nor run in an event loop. Without
``watch=``, a holder whose rules read rows from a registered row source (a ``map:
{database: ALIAS}`` where Django is set up) asks that source's own watch
(:func:`~redirectware.document.mapsources.source_watches`): the ASGI and WSGI middleware
see an editor's change as the Django middleware does.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from .adapter import make_failures_visible
from .document.mapsources import source_watches
from .engine.wording import rule_count
from .errors import RuleError
from .failurelog import RepeatedFailure
from .ruleset import RuleSet

logger = logging.getLogger("redirectware")

RulesArgument = RuleSet | str | os.PathLike[str] | Mapping[str, Any]

#: What ``os.stat`` says of one watched file: (mtime in ns, size), or None when it is gone.
Stamp = tuple[int, int] | None


class SourceWatch(Protocol):
    """Tells a :class:`RuleHolder` whether a source besides files has changed."""

    def watches(self, ruleset: RuleSet) -> bool:
        """Whether ``ruleset`` holds anything this watch looks after (cheap, no I/O)."""
        ...

    def changed(self, ruleset: RuleSet) -> bool:
        """Whether the source ``ruleset`` was compiled from has changed since (on a worker)."""
        ...

    def release(self) -> None:
        """Give back what the worker thread holds (a database connection); it ends next."""
        ...


class RegisteredWatches:
    """The watches of the registered row sources, asked together (see the module docstring)."""

    def watches(self, ruleset: RuleSet) -> bool:
        """Whether some registered source gave rows to ``ruleset``."""
        return any(watch.watches(ruleset) for watch in source_watches())

    def changed(self, ruleset: RuleSet) -> bool:
        """Whether some registered source's rows changed since ``ruleset`` read them."""
        return any(watch.changed(ruleset) for watch in source_watches() if watch.watches(ruleset))

    def release(self) -> None:
        """Give back what each source's watch holds on this thread."""
        for watch in source_watches():
            watch.release()


class RuleHolder:
    """The current :class:`RuleSet` of a middleware; reloads its files when asked to.

    ``prepare`` is applied to every rule set before it serves, the first and each reloaded
    one (the Django adapter fills in ``ALLOWED_HOSTS`` with it); a :class:`RuleError` it
    raises on a reload keeps the previous rules, like an invalid file. On a reload it runs
    in the worker thread.

    ``watch`` (a :class:`SourceWatch`) is asked once per ``reload_interval``, whatever
    ``reload`` says (that is about files), and the document is compiled again (a path, or a
    mapping) when it says its source changed.
    """

    def __init__(
        self,
        rules: RulesArgument,
        *,
        reload: bool = False,
        reload_interval: float = 1.0,
        prepare: Callable[[RuleSet], RuleSet] | None = None,
        watch: SourceWatch | None = None,
    ) -> None:
        # Built by every adapter, before anything here can log: a failed reload must reach
        # someone even where logging was never configured (see _logging).
        make_failures_visible()
        self._prepare = prepare
        self._rules = rules
        self.ruleset = self._prepared(RuleSet.load(rules))
        """The rules serving now; replaced whole by a reload."""
        if watch is None and not isinstance(rules, RuleSet):
            registered = RegisteredWatches()
            # A file reloaded later may bring such rows: watched then too.
            if reload or registered.watches(self.ruleset):
                watch = registered
        self._watch = watch
        path = rules if isinstance(rules, str | os.PathLike) else None
        if reload and path is None:
            raise ValueError("reload=True needs rules given as a file path")
        if watch is not None and isinstance(rules, RuleSet):
            raise ValueError("watch= needs rules given as a path or a mapping, to compile again")
        self._path = None if path is None else os.fspath(path)
        self.reload = reload
        """Whether edited files are reloaded (the ``reload`` argument)."""
        self._interval = reload_interval
        self._checked_at = time.monotonic()
        self._files = self._files_of(self.ruleset)
        self._signature = self._stat(self._files)
        #: What the files looked like at the last look, when they differed from what is
        #: serving: compiled when the next look finds them the same (see current()).
        self._settling: tuple[Stamp, ...] | None = None
        self._failures = RepeatedFailure(
            f"rules from {self._path or 'the rule document'} not reloaded, previous rules "
            "still serving"
        )
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    @property
    def watching(self) -> bool:
        """Whether :meth:`current` may ever hand out other rules than :attr:`ruleset` does
        now: files reloaded, or a source watched. An adapter whose holder is not watching
        keeps the rule set and never asks again."""
        return self.reload or self._watch is not None

    def _prepared(self, ruleset: RuleSet) -> RuleSet:
        return ruleset if self._prepare is None else self._prepare(ruleset)

    def _files_of(self, ruleset: RuleSet) -> tuple[str, ...]:
        if self._path is None:
            return ()
        return ruleset.document.files or (self._path,)

    @staticmethod
    def _stat(files: tuple[str, ...]) -> tuple[Stamp, ...]:
        signature: list[Stamp] = []
        for file in files:
            try:
                info = os.stat(file)
            except OSError:
                signature.append(None)  # gone: a change like any other
            else:
                signature.append((info.st_mtime_ns, info.st_size))
        return tuple(signature)

    @property
    def reloading(self) -> bool:
        """Whether a changed document is being compiled in the background right now."""
        worker = self._worker
        # is_alive(), not a flag the worker clears: in a process forked while a compile
        # ran (a preloading server), the worker does not exist and must not block reloads.
        return worker is not None and worker.is_alive()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no reload is under way (at most ``timeout`` seconds); True if none is.

        For tests and tools that must see a reload through; requests never wait.
        """
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return not self.reloading

    def current(self) -> RuleSet:
        """The rule set to answer this request with; never waits for a reload."""
        if not (self.reload or self._watch is not None) or (
            time.monotonic() - self._checked_at < self._interval
        ):
            return self.ruleset
        # One thread looks; the others keep answering with the rules in hand.
        if not self._lock.acquire(blocking=False):
            return self.ruleset
        try:
            if self.reloading:
                return self.ruleset
            self._checked_at = time.monotonic()
            signature = self._stat(self._files)
            files_changed = signature != self._signature
            if files_changed and signature != self._settling:
                # Changed since the last look: a writer may be halfway through (an editor
                # or `>` truncates, then writes; a CSV cut at a line break is valid, so a
                # half-written one would load). Compiled once it held still an interval.
                self._settling = signature
                return self.ruleset
            self._settling = None
            watched = self._watch is not None and self._watch.watches(self.ruleset)
            if files_changed or watched:
                # Recorded now, before compiling: an edit made during the compile then
                # differs from it and is compiled in turn, and a bad edit is tried once.
                self._signature = signature
                self._worker = threading.Thread(
                    target=self._reload_in_background,
                    args=(dict(zip(self._files, signature, strict=True)), files_changed),
                    name="redirectware-reload",
                    daemon=True,  # a compile must not keep a stopping server alive
                )
                self._worker.start()
        finally:
            self._lock.release()
        return self.ruleset

    def _reload_in_background(self, seen: dict[str, Stamp], files_changed: bool) -> None:
        watch = self._watch
        try:
            # The watch looks (a query) here, on the worker: never on a request's thread.
            if files_changed or (watch is not None and watch.changed(self.ruleset)):
                self._try_reload(seen)
        except Exception as error:
            # Not a RuleError but a bug or an OS failure (a database that is down): the
            # request that used to meet it no longer does, so it must be told here or
            # nowhere; once in full, then a line a minute while it lasts (it may recur at
            # every look).
            self._failures.failed(error)
        else:
            self._failures.succeeded()
        finally:
            if watch is not None:
                watch.release()

    def _try_reload(self, seen: dict[str, Stamp]) -> None:
        if self._path is not None and not os.path.exists(self._path):
            logger.error("rule file %s is gone; still serving the previous rules", self._path)
            return
        try:
            if self._path is not None:
                fresh = self._prepared(RuleSet.from_file(self._path))
            else:
                fresh = self._prepared(RuleSet.load(self._rules))
        except RuleError as error:
            what = "rule file" if self._path is not None else "rules"
            logger.error("%s not reloaded, previous rules still serving: %s", what, error)
            return
        files = self._files_of(fresh)
        if files != self._files:
            # A map was added or dropped. Files watched before keep the stamp seen before
            # the compile; a new one is stamped now (an edit to it during this compile, a
            # moment's window, would wait for its next change).
            self._signature = tuple(seen[f] if f in seen else self._stat((f,))[0] for f in files)
            self._files = files
        self.ruleset = fresh
        logger.info(
            "reloaded %s: %s", self._path or "the rule document", rule_count(fresh.document)
        )
