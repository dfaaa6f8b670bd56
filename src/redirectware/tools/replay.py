"""Replaying access logs through the engine: which rules real traffic uses, which 404s no rule
covers, and where the log and the document disagree (``redirectware replay``).

The log streams through in two stages, so memory stays bounded however long it is:

1. **Counting.** Each line is matched as bytes and counted under its request key (the
   request line and status, plus host and scheme where the format logs them); nothing is
   decoded and the engine is not asked. Real logs repeat a small set of requests, so a
   million lines make some thousands of keys.
2. **Resolving.** Each distinct key is resolved once, its count carried into small tables:
   per rule, per uncovered 404 path, per disagreement. This runs at the end of the input,
   and also whenever ``max_keys`` distinct keys have piled up (then the counts start again
   empty).

The tables of 404 paths and disagreements are bounded too (``max_groups``): past the bound
a table keeps its heaviest half and adds the rest to :attr:`ReplayReport.dropped`. The
most frequent groups, the ones a report shows, survive exactly; a group that is rare for a
long stretch and common later may be under-counted, and the report says how many requests
were dropped that way.

What a log does not hold, the replay cannot see: request headers and cookies (rules that
test them match as if they were absent), and the client address (``allow_ips`` of a
maintenance rule does not apply). Report-only rules count as what they would answer.
"""

from __future__ import annotations

import heapq
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO, Literal, TypeVar

from redirectware.engine.engine import Engine
from redirectware.engine.model import Rule

from .accesslog import AUTO, HOST, MAX_LINE, REQUEST, SCHEME, STATUS, TARGET, LogFormat, unescape

#: Distinct request keys counted before they are resolved and the counts start again.
DEFAULT_MAX_KEYS = 200_000
#: Groups kept per table (404 paths, disagreements) before the lightest half is dropped.
DEFAULT_MAX_GROUPS = 100_000
#: Referrers kept per 404 path.
MAX_REFERERS = 20
#: Malformed lines shown with their line numbers; the rest are only counted.
SHOWN_MALFORMED = 5
#: How many lines go by between two looks at the table sizes and the progress callback.
CHECK_EVERY = 1 << 16

K = TypeVar("K")

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_METHOD = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

DisagreementKind = Literal["no-longer-redirected", "404-now-redirected", "now-answered", "changed"]

#: Called every :data:`CHECK_EVERY` lines: file name, bytes read, file size, lines so far.
Progress = Callable[[str, int, int | None, int], None]


@dataclass(frozen=True)
class Malformed:
    """A line no format could read: where, and what it held (shortened, as ``repr``)."""

    file: str
    line: int
    reason: str
    text: str


@dataclass(frozen=True)
class RuleUse:
    """How many logged requests a rule would answer now, by status (``"refused"`` for
    loops and self-redirects the engine would not send)."""

    rule: Rule
    requests: int
    statuses: dict[int | str, int]


@dataclass(frozen=True)
class NotFound:
    """A path the log shows answered 404 that no rule covers."""

    path: str
    requests: int
    referers: list[tuple[str, int]]


@dataclass(frozen=True)
class Disagreement:
    """Requests whose logged status differs from what the document answers now.

    ``now`` is the status the rules would answer, or None when the request would pass
    through to the app. ``kind``: ``no-longer-redirected`` (the log shows a redirect, the
    document passes), ``404-now-redirected``, ``now-answered`` (a page the app served would
    now be answered by a rule) or ``changed`` (another status).
    """

    kind: DisagreementKind
    method: str
    path: str
    logged: int
    now: int | None
    rule: str | None
    requests: int


@dataclass
class ReplayReport:
    """What a replay found; :func:`report_json` gives it as JSON."""

    files: list[str]
    lines: int
    requests: int
    unreadable: int
    malformed: int
    malformed_shown: list[Malformed]
    rules: list[RuleUse]
    unreached: list[Rule]
    not_found: list[NotFound]
    disagreements: list[Disagreement]
    dropped: dict[str, int]
    seconds: float
    engine_errors: list[str] = field(default_factory=list)


class Replay:
    """Feed it log streams with :meth:`feed`, then ask for :meth:`report`.

    :param engine: the compiled rules (a :class:`~redirectware.RuleSet`).
    :param log_format: how lines are read (:data:`~redirectware.tools.accesslog.AUTO`, or an
        nginx ``log_format`` compiled by :func:`~redirectware.tools.accesslog.nginx_format`).
    :param host: the Host of requests whose log line does not name one.
    :param scheme: the scheme of requests whose log line does not name one.
    """

    def __init__(
        self,
        engine: Engine,
        log_format: LogFormat = AUTO,
        *,
        host: str | None = None,
        scheme: str = "https",
        max_keys: int = DEFAULT_MAX_KEYS,
        max_groups: int = DEFAULT_MAX_GROUPS,
        progress: Progress | None = None,
    ) -> None:
        self.engine = engine
        self.format = log_format
        self.host = host
        self.scheme = scheme
        self.max_keys = max_keys
        self.max_groups = max_groups
        self.progress = progress
        self._counts: dict[tuple[bytes, ...], int] = {}
        self._referers: dict[tuple[tuple[bytes, ...], bytes], int] = {}
        self._files: list[str] = []
        self._lines = 0
        self._requests = 0
        self._unreadable = 0
        self._malformed = 0
        self._malformed_shown: list[Malformed] = []
        self._rule_statuses: dict[int, dict[int | str, int]] = {}
        self._reached: set[int] = set()
        self._not_found: dict[str, int] = {}
        self._not_found_referers: dict[str, dict[str, int]] = {}
        self._disagreements: dict[tuple[DisagreementKind, str, str, int, int | None, str], int] = {}
        self._dropped = {"not_found": 0, "disagreements": 0}
        self._engine_errors: list[str] = []
        self._started = time.perf_counter()

    # --- stage 1: counting ----------------------------------------------------------------

    def feed(
        self,
        name: str,
        stream: BinaryIO,
        position: Callable[[], int] | None = None,
        size: int | None = None,
    ) -> None:
        """Count every line of ``stream`` (named ``name`` in messages).

        ``position`` tells how many bytes of the file are read (for a compressed file, of
        the compressed bytes), for the progress callback, against ``size``.
        """
        self._files.append(name)
        fmt = self.format
        match = fmt.pattern.match
        groups = fmt.key_groups
        referer_group = fmt.referer_group
        status_at = fmt.status_position
        counts = self._counts
        referers = self._referers
        readline = stream.readline
        number = 0
        # The loop every line of a 10-million-line log goes round: one regex match, one
        # tuple of slices, one dict update. Everything else waits for a distinct key.
        while True:
            line = readline(MAX_LINE)
            if not line:
                break
            number += 1
            if len(line) == MAX_LINE and line[-1:] != b"\n":
                self._skip_rest(readline)
                self._note_malformed(name, number, f"longer than {MAX_LINE} bytes", line)
                continue
            found = match(line)
            if found is None:
                key = self._fallback(line, name, number)
                if key is not None:
                    counts[key] = counts.get(key, 0) + 1
            else:
                key = found.group(*groups)
                counts[key] = counts.get(key, 0) + 1
                if key[status_at] == b"404" and referer_group is not None:
                    pair = (key, found.group(referer_group) or b"-")
                    referers[pair] = referers.get(pair, 0) + 1
            if not number % CHECK_EVERY:
                if len(counts) > self.max_keys or len(referers) > self.max_keys:
                    self._resolve_counts()
                if self.progress is not None:
                    done = position() if position is not None else 0
                    self.progress(name, done, size, self._lines + number)
        self._lines += number

    @staticmethod
    def _skip_rest(readline: Callable[[int], bytes]) -> None:
        while True:
            rest = readline(MAX_LINE)
            if not rest or rest.endswith(b"\n"):
                return

    def _fallback(self, line: bytes, name: str, number: int) -> tuple[bytes, ...] | None:
        """The key of a line the main pattern missed: by a fallback format, or None."""
        stripped = line.rstrip(b"\r\n")
        if not stripped.strip():
            return None  # a blank line is no request and no error
        for other in self.format.fallbacks:
            found = other.pattern.match(stripped)
            if found is not None:
                # Fallbacks give the same fields as the main format (request and status).
                key: tuple[bytes, ...] = found.group(*other.key_groups)
                return key
        self._note_malformed(name, number, f"not a {self.format.name} log line", stripped)
        return None

    def _note_malformed(self, name: str, number: int, reason: str, line: bytes) -> None:
        self._malformed += 1
        if len(self._malformed_shown) < SHOWN_MALFORMED:
            shown = repr(line[:120])  # escapes make binary junk up to four times longer
            text = shown[:120] + (" ..." if len(shown) > 120 or len(line) > 120 else "")
            self._malformed_shown.append(Malformed(name, number, reason, text))

    # --- stage 2: resolving ---------------------------------------------------------------

    def _resolve_counts(self) -> None:
        uncovered: dict[tuple[bytes, ...], str] = {}
        for key, count in self._counts.items():
            path = self._account(key, count)
            if path is not None:
                uncovered[key] = path
        for (key, referer), count in self._referers.items():
            path = uncovered.get(key)
            if path is not None:
                table = self._not_found_referers.setdefault(path, {})
                text = unescape(referer).decode("utf-8", "replace")
                table[text] = table.get(text, 0) + count
                if len(table) > 5 * MAX_REFERERS:
                    _prune(table, MAX_REFERERS)
        self._counts.clear()
        self._referers.clear()
        if len(self._not_found) > self.max_groups:
            dropped = _prune(self._not_found, self.max_groups // 2)
            self._dropped["not_found"] += dropped
            for path in set(self._not_found_referers) - set(self._not_found):
                del self._not_found_referers[path]
        if len(self._disagreements) > self.max_groups:
            self._dropped["disagreements"] += _prune(self._disagreements, self.max_groups // 2)

    def _fields(self, key: tuple[bytes, ...]) -> dict[str, bytes]:
        return dict(zip(self.format.key_fields, key, strict=True))

    def _account(self, key: tuple[bytes, ...], count: int) -> str | None:
        """Resolve one distinct request and add its ``count`` to the tables; return its path
        when it is a 404 no rule covers (for the referrers)."""
        fields = self._fields(key)
        logged = int(fields[STATUS])
        request = _request(fields)
        if request is None:
            self._unreadable += count
            return None
        self._requests += count
        method, path, query = request
        host_field = fields.get(HOST)
        host = self.host if host_field in (None, b"", b"-") else host_field.decode("latin-1")
        scheme_field = fields.get(SCHEME)
        scheme = scheme_field.decode("latin-1") if scheme_field else self.scheme
        try:
            decision = self.engine.resolve(method, scheme, host, path, query)
        except Exception as error:  # a bug in the engine must not end a long replay
            if len(self._engine_errors) < SHOWN_MALFORMED:
                self._engine_errors.append(f"{method} {path}: {error!r}")
            return None
        if decision.passes and decision.would is None and logged == 404:
            # The app answered 404: a when: not_found rule would answer then, as it does live.
            after = getattr(self.engine, "resolve_not_found", None)
            if after is not None:
                decision = after(method, scheme, host, path, query)
        answer = decision.would if decision.would is not None else decision
        now: int | None = None
        rule: Rule | None = None
        if decision.refused is not None and decision.rule is not None:
            self._count_rule(decision.rule, "refused", count)
        elif answer.kind != "pass" and answer.rule is not None:
            now, rule = answer.status, answer.rule
            self._count_rule(rule, now, count)
            self._reached.update(hop.rule.index for hop in answer.hops)
        elif answer.kind != "pass":
            now = answer.status  # a 400 for a malformed Host: no rule made it
        if now is None:
            if logged == 404:
                self._not_found[path] = self._not_found.get(path, 0) + count
                return path
            if logged in _REDIRECT_STATUSES:
                self._disagree("no-longer-redirected", method, path, logged, None, None, count)
            return None
        if now != logged:
            kind: DisagreementKind = "changed"
            if logged == 404:
                kind = "404-now-redirected"
            elif 200 <= logged < 300:
                kind = "now-answered"
            self._disagree(kind, method, path, logged, now, rule, count)
        return None

    def _count_rule(self, rule: Rule, status: int | str, count: int) -> None:
        self._reached.add(rule.index)
        statuses = self._rule_statuses.setdefault(rule.index, {})
        statuses[status] = statuses.get(status, 0) + count

    def _disagree(
        self,
        kind: DisagreementKind,
        method: str,
        path: str,
        logged: int,
        now: int | None,
        rule: Rule | None,
        count: int,
    ) -> None:
        group = (kind, method, path, logged, now, "" if rule is None else rule.short_name)
        self._disagreements[group] = self._disagreements.get(group, 0) + count

    # --- the report -----------------------------------------------------------------------

    def report(self) -> ReplayReport:
        """Resolve what is still counted and sum everything up, most frequent first."""
        self._resolve_counts()
        rules = self.engine.rules
        uses = [
            RuleUse(rules[index], sum(statuses.values()), dict(statuses))
            for index, statuses in sorted(self._rule_statuses.items())
        ]
        uses.sort(key=lambda use: -use.requests)
        unreached = [rule for rule in rules if rule.index not in self._reached]
        not_found = [
            NotFound(path, count, _top(self._not_found_referers.get(path, {}), MAX_REFERERS))
            for path, count in _top(self._not_found, len(self._not_found))
        ]
        disagreements = [
            Disagreement(kind, method, path, logged, now, rule or None, count)
            for (kind, method, path, logged, now, rule), count in _top(
                self._disagreements, len(self._disagreements)
            )
        ]
        return ReplayReport(
            files=list(self._files),
            lines=self._lines,
            requests=self._requests,
            unreadable=self._unreadable,
            malformed=self._malformed,
            malformed_shown=list(self._malformed_shown),
            rules=uses,
            unreached=unreached,
            not_found=not_found,
            disagreements=disagreements,
            dropped=dict(self._dropped),
            seconds=time.perf_counter() - self._started,
            engine_errors=list(self._engine_errors),
        )


def _request(fields: dict[str, bytes]) -> tuple[str, str, str] | None:
    """Method, path and query of a logged request; None when its request line is not one
    (TLS handshakes sent to a plain port, scanners' junk)."""
    if REQUEST in fields:
        parts = fields[REQUEST].split(b" ")
        if len(parts) not in (2, 3):
            return None
        method, target = parts[0], parts[1]
    else:
        method, target = fields["method"], fields[TARGET]
    if not _METHOD.fullmatch(method):
        return None
    # The bytes as sent, as latin-1 text: what the engine reads (ASGI raw_path, RAW_URI).
    text = unescape(target).decode("latin-1")
    path, _, query = text.partition("?")
    if not path.startswith("/"):
        scheme, separator, rest = path.partition("://")
        if not separator or not scheme:
            return None  # "*" of OPTIONS *, or junk: nothing a rule answers
        path = "/" + rest.partition("/")[2]
    return method.decode("latin-1"), path, query


def _top(table: dict[K, int], count: int) -> list[tuple[K, int]]:
    return heapq.nlargest(count, table.items(), key=lambda item: item[1])


def _prune(table: dict[K, int], keep: int) -> int:
    """Keep the ``keep`` heaviest entries of ``table``; return the count of the rest."""
    kept = dict(_top(table, keep))
    dropped = sum(table.values()) - sum(kept.values())
    table.clear()
    table.update(kept)
    return dropped
