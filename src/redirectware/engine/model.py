"""The compiled, immutable form of a rule document.

The loader builds these from a document once; the engine only reads them. Nothing here parses
text or answers requests.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator, KeysView, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .hosts import AllowedHosts
from .language import Negotiator
from .proxies import TrustedProxies
from .regex import RegexPath
from .templates import HostTemplate, PathTemplate, Target

DEFAULT_PERMANENT_MAX_AGE = 86400


@dataclass(frozen=True)
class Settings:
    """The document's ``settings`` section, with defaults filled in."""

    allowed_hosts: AllowedHosts = field(default_factory=lambda: AllowedHosts.parse(None))
    #: Whether the document listed ``allowed_hosts`` (the Django adapter falls back otherwise).
    allowed_hosts_given: bool = False
    #: Where ``allowed_hosts`` came from, for the message of a 400 that it caused.
    allowed_hosts_from: str = "settings.allowed_hosts"
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    strict_codes: bool = False
    permanent_max_age: int = DEFAULT_PERMANENT_MAX_AGE
    report_only: bool = False
    #: ``map_cache``: the folder for compiled CSV maps; None for the defaults, False for none.
    map_cache: str | bool | None = None
    #: The default of every rule's ``case_sensitive``.
    case_sensitive: bool = True
    #: The default of every rule's ``trailing_slash_match``: True for ``ignore``.
    ignore_trailing_slash: bool = False


@dataclass(frozen=True)
class Hsts:
    """A ``Strict-Transport-Security`` policy."""

    max_age: int
    include_subdomains: bool = False
    preload: bool = False

    @property
    def header_value(self) -> str:
        """The header's value, e.g. ``max-age=31536000; includeSubDomains``."""
        value = f"max-age={self.max_age}"
        if self.include_subdomains:
            value += "; includeSubDomains"
        if self.preload:
            value += "; preload"
        return value


@dataclass(frozen=True)
class KeepQuery:
    """Which request query parameters a target keeps: all, none, or those named."""

    keep_all: bool = True
    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def keeps(self, name: str) -> bool:
        """Whether a parameter called ``name`` is kept."""
        return self.keep_all or name in self.names or name.startswith(self.prefixes)


class FlagFile:
    """A file whose existence switches maintenance on.

    The answer is cached for :attr:`ttl` seconds so that a busy site stats the file at most
    once a second per process, not once per request.
    """

    ttl = 1.0

    def __init__(self, path: str) -> None:
        self.path = path
        self._checked_at = -self.ttl
        self._exists = False

    def exists(self, now: float | None = None) -> bool:
        """Whether the file exists, as of at most :attr:`ttl` seconds ago."""
        moment = time.monotonic() if now is None else now
        if moment - self._checked_at >= self.ttl or moment < self._checked_at:
            return self.look(moment)
        return self._exists

    def look(self, now: float) -> bool:
        """Stat the file now, whatever the cache holds, and remember the answer."""
        self._exists = os.path.exists(self.path)
        self._checked_at = now
        return self._exists

    @property
    def last_seen(self) -> bool:
        """What the last look found, without looking again."""
        return self._exists

    def __repr__(self) -> str:
        return f"FlagFile({self.path!r})"


# --- actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToAction:
    """``to``: redirect to a target built from the captures."""

    target: Target


@dataclass(frozen=True)
class HttpsAction:
    """``https: true``: the same URL over https."""

    port: int | None = None
    deny_websockets: bool = False


@dataclass(frozen=True)
class SlashAction:
    """``trailing_slash: add | remove``."""

    add: bool


@dataclass(frozen=True)
class Maintenance:
    """``maintenance``: redirect to a page, or answer 503, while switched on."""

    enabled: bool
    target: Target | None = None
    #: The canonical path of a relative target: never itself redirected by this rule.
    target_path: str | None = None
    retry_after: int | None = None
    allow_ips: TrustedProxies = field(default_factory=TrustedProxies)
    flag_file: FlagFile | None = None

    def is_on(self) -> bool:
        """Switched on by ``enabled`` or by the flag file's existence."""
        return self.enabled or (self.flag_file is not None and self.flag_file.exists())


@dataclass(frozen=True)
class GoneAction:
    """``gone: true`` (410 Gone) or ``gone: 451`` (Unavailable For Legal Reasons): an answer,
    not a redirect, for URLs that are gone for good."""

    status: int = 410


@dataclass(frozen=True)
class LanguageAction:
    """``language``: a temporary redirect to the visitor's language, chosen from the
    ``Accept-Language`` header (or a cookie the site set) among the languages available."""

    target: Target
    negotiator: Negotiator
    #: A cookie holding the visitor's own choice, which wins over the header.
    cookie: str | None = None
    #: The language for a request that names none acceptable; None: the rule does not apply.
    default: str | None = None

    def choose(self, accept: str | None, cookies: Mapping[str, str] | None) -> str | None:
        """The ``available`` entry for this request, or None when the rule does not apply."""
        if self.cookie is not None and cookies:
            chosen = cookies.get(self.cookie)
            offered = None if chosen is None else self.negotiator.offered(chosen)
            if offered is not None:
                return offered
        return self.negotiator.choose(accept).tag or self.default


#: The statuses of ``gone`` and of a map row with an empty ``to``.
GONE_CODES = frozenset({410, 451})


class MapEntry(NamedTuple):
    """One row of a ``map``: where one exact path goes, and how.

    A NamedTuple, not a frozen dataclass: as immutable, and a 100,000-row map builds
    100,000 of them at start-up, several times faster this way.
    """

    target: str
    permanent: bool
    status: int | None
    line: int | None = None


class PlainRows(Mapping[str, MapEntry]):
    """The rows of a plain two-column CSV map, as a read-only mapping of :class:`MapEntry`.

    Every row shares the map's own ``permanent``/``status``, so only ``(target, line)`` is
    kept per row and a :class:`MapEntry` is made when a row is looked up: a 100,000-row map
    then loads without 100,000 Python-level constructor calls.
    """

    __slots__ = ("_permanent", "_rows", "_status", "canonical_targets")

    def __init__(
        self,
        rows: dict[str, tuple[str, int]],
        permanent: bool,
        status: int | None,
        canonical_targets: bool = False,
    ) -> None:
        self._rows = rows
        self._permanent = permanent
        self._status = status
        #: Every target is an absolute URL or a path already in canonical form.
        self.canonical_targets = canonical_targets

    def __getitem__(self, key: str) -> MapEntry:
        target, line = self._rows[key]
        return MapEntry(target, self._permanent, self._status, line)

    def get(self, key: str, default: Any = None) -> Any:
        found = self._rows.get(key)
        if found is None:
            return default
        return MapEntry(found[0], self._permanent, self._status, found[1])

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def target_items(self) -> Iterator[tuple[str, str]]:
        """``(from, to)`` of every row, without making entries."""
        return ((key, row[0]) for key, row in self._rows.items())

    def target_set(self) -> set[str]:
        """Every distinct target."""
        return {row[0] for row in self._rows.values()}

    def key_view(self) -> KeysView[str]:
        """The ``from`` keys as a dict view: set operations on it run in C."""
        return self._rows.keys()


def map_targets(entries: Mapping[str, MapEntry]) -> Iterator[tuple[str, str]]:
    """``(from, to)`` of every row of a map's entries."""
    if isinstance(entries, PlainRows):
        return entries.target_items()
    return ((key, entry.target) for key, entry in entries.items())


class RowSource(NamedTuple):
    """Where a ``map``'s rows came from when a registered source gave them."""

    kind: str
    name: str
    #: The source's version as read before its rows (a database table's change counter):
    #: a watcher compares it with the version now to tell whether to compile again.
    version: object = None


@dataclass(frozen=True)
class MapAction:
    """``map``: exact ``from`` -> ``to`` rows. Keys are canonical paths, or ``path?query``."""

    entries: Mapping[str, MapEntry]
    source: str | None = None
    has_query_keys: bool = False
    #: Set when a registered row source gave the rows (``map: {database: default}``): not a
    #: file to watch; the adapter that registered the source watches it.
    provided_by: RowSource | None = None
    #: Under ``case_sensitive: false`` or ``trailing_slash_match: ignore``: each row's key in
    #: normal form (see ``engine/folding.py``) to its key in :attr:`entries`; else None.
    match_keys: Mapping[str, str] | None = None
    #: How :attr:`match_keys` were made: case folded, trailing slash dropped.
    fold_case: bool = False
    ignore_slash: bool = False


Action = (
    ToAction | HttpsAction | SlashAction | Maintenance | MapAction | GoneAction | LanguageAction
)


@dataclass(frozen=True)
class Rule:
    """One compiled rule: conditions, one action, and how to answer."""

    index: int
    name: str | None
    line: int | None
    action: Action
    path: PathTemplate | None = None
    host: HostTemplate | None = None
    scheme: str | None = None
    methods: frozenset[str] | None = None
    query: tuple[tuple[str, str | None], ...] = ()
    headers: tuple[tuple[str, str | None], ...] = ()
    cookies: tuple[tuple[str, str | None], ...] = ()
    excepts: tuple[PathTemplate, ...] = ()
    active_from: float | None = None
    active_until: float | None = None
    permanent: bool = False
    status: int | None = None
    keep_query: KeepQuery = field(default_factory=KeepQuery)
    sunset: dt.datetime | None = None
    deprecated: dt.datetime | None = None
    hsts: Hsts | None = None
    report_only: bool = False
    #: Header names (as sent in ``Vary``) that this rule's conditions read.
    vary: tuple[str, ...] = ()
    #: ``case_sensitive: false``: ``from``, ``except`` and map rows match the folded path.
    case_sensitive: bool = True
    #: ``trailing_slash_match: ignore``: they match with or without a trailing slash.
    ignore_trailing_slash: bool = False
    #: The ``from`` template in the normal form the two keys above make (literal text
    #: folded, trailing slash dropped), when either is set; matched against the request
    #: path in the same form. :attr:`excepts` are then in that form too.
    match_path: PathTemplate | None = None
    #: ``from_regex``, instead of ``from``: matched with RE2, tried one by one.
    regex: RegexPath | None = None
    #: The answer differs from one visitor to the next (a ``language`` rule's): shared
    #: caches must not keep it (``Cache-Control: private, no-store``).
    private: bool = False
    #: ``when: not_found``: the rule applies only once the app has answered 404 to a GET or
    #: HEAD request (see :meth:`redirectware.RuleSet.resolve_not_found`).
    when_not_found: bool = False
    #: The line of each key in the source YAML, for messages about this rule.
    key_lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def line_of(self, key: str | None) -> int | None:
        """The line ``key`` stands on in the source, else the rule's own line."""
        return self.key_lines.get(key, self.line) if key is not None else self.line

    @property
    def label(self) -> str:
        """``rules[3] 'api-v1'``: how messages name this rule."""
        return f"rules[{self.index}]" + (f" {self.name!r}" if self.name else "")

    @property
    def short_name(self) -> str:
        """The rule's name, or ``rules[3]`` without one: a label bounded by the document,
        for metrics and reports (never a path, whose values are unbounded)."""
        return self.name or f"rules[{self.index}]"


@dataclass(frozen=True)
class Document:
    """A validated document: settings, compiled rules, and its ``tests`` as written."""

    settings: Settings
    rules: tuple[Rule, ...]
    source: str | None = None
    tests: tuple[Any, ...] = ()
    #: Every file compiling it read: the rule file first, then each ``map`` CSV. Reloading
    #: watches them all, since an edited map changes the rules as much as an edited YAML.
    files: tuple[str, ...] = ()
    #: Rules written with ``enabled: false``: validated, then left out of ``rules``.
    disabled: int = 0
