"""What a rule change does to requests: the same requests asked of two documents, and every
one whose answer differs (``redirectware diff``).

The requests judged:

* both documents' ``tests:`` entries, as written (headers, client and app 404 included);
* each rule's sample request, built as ``check`` builds it (:mod:`.samples`), and one per
  row of a map rule;
* with logs, every distinct logged request (scheme, host, path, query, and whether the app
  answered 404), streamed through :class:`~redirectware.tools.replay.Replay`'s counting
  stage, so memory stays bounded however long the logs are.

Each request is asked as written, and also as ``GET`` and as ``POST``: a change that keeps a
``GET`` on 301 may still move a ``POST`` from 308 to 307, or the reverse, and a browser sends
a form's body again only after a 307 or 308. A logged request stands for its hits under the
method it was logged with: ``GET``/``HEAD`` under ``GET``, any other under ``POST``.

Two answers differ when their kind (pass, redirect, respond), status or Location differ; the
rule that gives the same answer may change without the request being reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from redirectware.engine.decision import Decision
from redirectware.engine.engine import Engine
from redirectware.engine.model import MapAction, map_targets
from redirectware.tools.expectations import expectations_of

from .accesslog import AUTO, HOST, SCHEME, STATUS, LogFormat
from .replay import DEFAULT_MAX_GROUPS, DEFAULT_MAX_KEYS, Replay, _prune, _request
from .samples import sample_request

#: The method a request is judged with besides its own: one without a body, one with.
SAFE_METHOD = "GET"
BODY_METHOD = "POST"
_SAFE = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Request:
    """One request asked of both documents."""

    method: str
    scheme: str
    host: str | None
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    client: str | None = None
    #: The app answered 404 (a ``tests:`` entry's ``app: 404``, a logged 404): then a
    #: ``when: not_found`` rule answers, as it does live.
    app_not_found: bool = False

    @property
    def url(self) -> str:
        """``https://example.com/a?b=1``."""
        return f"{self.scheme}://{self.host or ''}{self.path}" + (
            f"?{self.query}" if self.query else ""
        )

    @property
    def line(self) -> str:
        """``POST https://example.com/a``, with what else the request carries."""
        extra = [f"{name}: {value}" for name, value in self.headers]
        if self.client is not None:
            extra.append(f"client {self.client}")
        if self.app_not_found:
            extra.append("app answers 404")
        return f"{self.method} {self.url}" + (f" ({'; '.join(extra)})" if extra else "")

    def as_method(self, method: str) -> Request:
        """The same request sent with ``method``."""
        return Request(method, self.scheme, self.host, self.path, self.query, self.headers,
                       self.client, self.app_not_found)  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """What one document answers a request: ``status`` None when it passes to the app."""

    status: int | None
    location: str | None
    rule: str | None
    line: int | None

    @property
    def same_as(self) -> tuple[int | None, str | None]:
        """What a client sees; the rule that gave it is not part of it."""
        return self.status, self.location

    @property
    def text(self) -> str:
        """``301 https://example.com/b`` or ``pass through``."""
        if self.status is None:
            return "pass through"
        return f"{self.status}" + (f" {self.location}" if self.location else "")


@dataclass
class Change:
    """A request whose answer differs, and how many logged requests it stands for."""

    request: Request
    old: Answer
    new: Answer
    hits: int = 0

    @property
    def rule(self) -> str:
        """The rule the change is filed under: the new document's, else the old one's."""
        if self.new.rule is not None:
            return self.new.rule
        return self.old.rule or "(no rule)"


@dataclass
class DiffReport:
    """Every changed request, grouped by rule, heaviest group first."""

    groups: list[tuple[str, list[Change]]]
    requests: int
    logged_lines: int = 0
    dropped: int = 0
    malformed: int = 0
    engine_errors: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        """Every change, in report order."""
        return [change for _, changes in self.groups for change in changes]

    @property
    def hits(self) -> int:
        """The logged requests the changes stand for."""
        return sum(change.hits for change in self.changes)


def answer(engine: Engine, request: Request) -> Answer:
    """What ``engine`` answers ``request``, as a client sees it (a report-only rule's redirect
    is not sent, so it passes)."""
    # Logged requests carry no headers: no mapping to build for each of them.
    headers = dict(request.headers) if request.headers else None
    host = headers.get("host", request.host) if headers else request.host
    decision: Decision = engine.resolve(request.method, request.scheme, host, request.path,
                                        request.query, headers, request.client)  # fmt: skip
    after = getattr(engine, "resolve_not_found", None)  # a RuleSet's, as probes ask it
    if request.app_not_found and decision.passes and decision.would is None and after:
        decision = after(request.method, request.scheme, host, request.path, request.query,
                         headers, request.client)  # fmt: skip
    if decision.passes:
        return Answer(None, None, None, None)
    rule = decision.rule
    return Answer(
        decision.status,
        decision.location,
        None if rule is None else rule.short_name,
        None if rule is None else rule.line,
    )


def document_requests(engine: Engine) -> Iterator[Request]:
    """A document's ``tests:`` requests and each rule's (and map row's) sample requests."""
    for expectation in expectations_of(engine):
        probe = expectation.probe
        yield Request(probe.method, probe.scheme, probe.host, probe.path, probe.query,
                      tuple(sorted(probe.headers.items())), probe.client,
                      expectation.app_not_found)  # fmt: skip
    settings = engine.settings
    for rule in engine.rules:
        wanted: list[tuple[str | None, str]] = [(None, "")]
        if isinstance(rule.action, MapAction):
            wanted = [(key.partition("?")[0], key.partition("?")[2])
                      for key, _ in map_targets(rule.action.entries)]  # fmt: skip
        for path, query in wanted:
            sample = sample_request(rule, settings, path, query)
            for scheme in sample.schemes:
                yield Request(sample.method, scheme, sample.host, sample.path, sample.query,
                              tuple(sorted(sample.headers.items())), None,
                              rule.when_not_found)  # fmt: skip


def with_methods(request: Request) -> Iterator[Request]:
    """The request as written, then as ``GET`` and ``POST`` when those differ from it."""
    yield request
    for method in (SAFE_METHOD, BODY_METHOD):
        if method != request.method:
            yield request.as_method(method)


class Differ:
    """Asks two documents the same requests; keeps those whose answer differs.

    Requests from the documents are kept however many; those from logs in a table of at
    most ``max_groups``, past which the lightest half is dropped (the report says how many
    logged requests that was), so that a change touching every URL of a huge log stays in
    bounded memory.
    """

    def __init__(self, old: Engine, new: Engine, *, max_groups: int = DEFAULT_MAX_GROUPS) -> None:
        self.old = old
        self.new = new
        self.max_groups = max_groups
        self.requests = 0
        self.dropped = 0
        self._documented: dict[Request, Change] = {}
        self._logged: dict[Request, Change] = {}
        self._judged: dict[Request, Change | None] = {}

    def compare(self, request: Request) -> Change | None:
        """The change in ``request``'s answer, or None when both documents answer alike."""
        self.requests += 1
        old, new = answer(self.old, request), answer(self.new, request)
        return None if old.same_as == new.same_as else Change(request, old, new)

    def add_documented(self, requests: Iterable[Request]) -> None:
        """Judge requests written in or built from the documents (no hits)."""
        for base in requests:
            for request in with_methods(base):
                if request in self._documented or request in self._judged:
                    continue
                change = self.compare(request)
                self._judged[request] = change
                if change is not None:
                    self._documented[request] = change

    def add_logged(self, request: Request, count: int) -> None:
        """Judge a logged request (as ``GET`` and as ``POST``) and count its hits under the
        method class it was logged with."""
        logged_safe = request.method in _SAFE
        for method in (SAFE_METHOD, BODY_METHOD):
            judged = request.as_method(method)
            if judged not in self._judged:
                self._judged[judged] = self.compare(judged)
            change = self._judged[judged]
            if change is None:
                continue
            hits = count if (method == SAFE_METHOD) == logged_safe else 0
            kept = self._logged.get(judged)
            if kept is None:
                self._logged[judged] = Change(judged, change.old, change.new, hits)
            else:
                kept.hits += hits
        if len(self._logged) > self.max_groups:
            weights = {key: change.hits for key, change in self._logged.items()}
            self.dropped += _prune(weights, self.max_groups // 2)
            self._logged = {key: self._logged[key] for key in weights}

    def forget_judged(self) -> None:
        """Drop the memo of answers (between batches of logged requests: bounded memory)."""
        self._judged = {}

    def report(self) -> DiffReport:
        """Every change, grouped by rule: most logged hits first, then most requests."""
        merged: dict[Request, Change] = {}
        for request, change in self._documented.items():
            merged[request] = Change(request, change.old, change.new, 0)
        for request, change in self._logged.items():
            if request in merged:
                merged[request].hits += change.hits
            else:
                merged[request] = change
        groups: dict[str, list[Change]] = {}
        for change in merged.values():
            groups.setdefault(change.rule, []).append(change)
        for changes in groups.values():
            changes.sort(key=lambda change: -change.hits)
        ordered = sorted(
            groups.items(),
            key=lambda item: (-sum(c.hits for c in item[1]), -len(item[1])),
        )
        return DiffReport(ordered, self.requests, dropped=self.dropped)


class LogFeed(Replay):
    """:class:`Replay`'s bounded counting of log lines, with each distinct request handed to
    a :class:`Differ` instead of the replay's tables."""

    def __init__(
        self,
        differ: Differ,
        log_format: LogFormat = AUTO,
        *,
        host: str | None = None,
        scheme: str = "https",
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        super().__init__(differ.new, log_format, host=host, scheme=scheme, max_keys=max_keys)
        self.differ = differ

    def _account(self, key: tuple[bytes, ...], count: int) -> str | None:
        fields = self._fields(key)
        parsed = _request(fields)
        if parsed is None:
            self._unreadable += count
            return None
        self._requests += count
        method, path, query = parsed
        host_field = fields.get(HOST)
        host = self.host if host_field in (None, b"", b"-") else host_field.decode("latin-1")
        scheme_field = fields.get(SCHEME)
        scheme = scheme_field.decode("latin-1") if scheme_field else self.scheme
        request = Request(method, scheme, host, path, query,
                          app_not_found=fields[STATUS] == b"404")  # fmt: skip
        try:
            self.differ.add_logged(request, count)
        except Exception as error:  # a bug in the engine must not end a long run
            if len(self._engine_errors) < 5:
                self._engine_errors.append(f"{method} {path}: {error!r}")
        return None

    def _resolve_counts(self) -> None:
        super()._resolve_counts()
        # Each batch of distinct keys asks the engines afresh: the memo would otherwise
        # grow with every distinct URL of the logs.
        self.differ.forget_judged()


def diff(
    old: Engine,
    new: Engine,
    logs: Iterable[tuple[str, BinaryIO]] = (),
    *,
    log_format: LogFormat = AUTO,
    host: str | None = None,
    scheme: str = "https",
    max_keys: int = DEFAULT_MAX_KEYS,
    max_groups: int = DEFAULT_MAX_GROUPS,
    progress: Callable[[str, int, int | None, int], None] | None = None,
) -> DiffReport:
    """Every request whose answer differs between ``old`` and ``new`` (see the module)."""
    differ = Differ(old, new, max_groups=max_groups)
    for engine in (old, new):
        differ.add_documented(document_requests(engine))
    feed = LogFeed(differ, log_format, host=host, scheme=scheme, max_keys=max_keys)
    feed.progress = progress
    fed = False
    for name, stream in logs:
        feed.feed(name, stream)
        fed = True
    lines = malformed = 0
    errors: list[str] = []
    if fed:
        replayed = feed.report()
        lines, malformed, errors = replayed.lines, replayed.malformed, replayed.engine_errors
    report = differ.report()
    report.logged_lines, report.malformed, report.engine_errors = lines, malformed, errors
    return report


def change_json(change: Change) -> dict[str, object]:
    """One changed request as ``diff --json`` prints it."""

    def side(answered: Answer) -> Mapping[str, object]:
        return {"status": answered.status, "location": answered.location, "rule": answered.rule}

    request = change.request
    return {
        "method": request.method,
        "url": request.url,
        **({"headers": dict(request.headers)} if request.headers else {}),
        **({"client": request.client} if request.client else {}),
        **({"app_not_found": True} if request.app_not_found else {}),
        "old": side(change.old),
        "new": side(change.new),
        "hits": change.hits,
    }
