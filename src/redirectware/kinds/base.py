"""What the registry says of one rule kind or matching option: a :class:`Kind`.

A kind is everything the document can ask a rule to do (``to``, ``https``, ``map``, ...) or
how it asks a rule to match (``case_sensitive``, ``from_regex``, ...). Its :class:`Kind`
holds the load-time half of it in one place: its parser, the reference a user reads, a
worked example with its own ``tests:``, and what every surface of the product does with it
(:class:`Surface`): answers as the middleware does (:class:`Works`), or refuses it with a
reason a user can act on (:class:`Refuses`), or, for an importer, has no way to say it in
the source format at all (:class:`Unsayable`).

The request-time half (the action's model and its engine step) stays in the engine, which
imports nothing above itself; every chain elsewhere that decides by kind ends in
:func:`redirectware.engine.exhaustive.assert_never`, so mypy names what a new kind misses.
``tests/test_matrix.py`` turns the registry into the kinds x surfaces matrix and runs every
cell for real.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redirectware.document.fields import Where
from redirectware.engine.model import Action, Rule
from redirectware.engine.regex import RegexPath
from redirectware.engine.templates import HostTemplate, PathTemplate


class Surface(str, enum.Enum):
    """Every place of the product that meets a rule kind."""

    ASGI = "asgi"
    WSGI = "wsgi"
    FLASK = "flask"
    DJANGO = "django"
    CHECK = "check"
    EXPLAIN = "explain"
    TESTS = "tests:"
    EXPORT_NGINX = "export nginx"
    EXPORT_CADDY = "export caddy"
    EXPORT_APACHE = "export apache"
    EXPORT_CLOUDFLARE = "export cloudflare"
    EXPORT_NETLIFY = "export netlify"
    IMPORT_NETLIFY = "import netlify"
    IMPORT_VERCEL = "import vercel"
    IMPORT_NGINX = "import nginx"
    IMPORT_APACHE = "import apache"
    IMPORT_CLOUDFLARE = "import cloudflare"
    IMPORT_DJANGO = "import django"
    IMPORT_WAGTAIL = "import wagtail"
    DJANGO_TABLE = "Django table"
    REPLAY = "replay"
    METRICS = "metrics"
    #: ``redirectware verify``: a live site, with the middleware, answers as the rules say.
    VERIFY = "verify"
    #: ``redirectware diff``: what a change of rules changes, request by request.
    DIFF = "diff"
    #: Hit counts and last hits per rule and managed row, flushed to the database.
    HIT_COUNTS = "hit counts"

    @property
    def is_export(self) -> bool:
        """An ``redirectware export`` target."""
        return self.value.startswith("export ")

    @property
    def is_import(self) -> bool:
        """An ``redirectware import`` source format."""
        return self.value.startswith("import ")


#: The exports that write a list, with one status for every method and no conditions.
LIST_EXPORTS = (Surface.EXPORT_CLOUDFLARE, Surface.EXPORT_NETLIFY)


@dataclass(frozen=True)
class Works:
    """The surface handles the kind and answers as the middleware does."""

    #: How, when it is worth a word in the reference (``composed into one redirect``).
    note: str = ""


@dataclass(frozen=True)
class Refuses:
    """The surface refuses the kind, naming file, line, rule and this reason."""

    reason: str


@dataclass(frozen=True)
class Unsayable:
    """The source format of an importer has no way to say the kind: nothing to translate."""

    reason: str


Support = Works | Refuses | Unsayable


@dataclass(frozen=True)
class Imported:
    """A line (or a few) of a source format that an importer translates into the kind."""

    source: str
    #: What the imported document must answer: ``(request line, status, location)`` when the
    #: app does not serve the URL (answers 404, as the sources that redirect only then
    #: assume); a status of None means the request passes through to the app.
    answers: tuple[tuple[str, int | None, str | None], ...]


@dataclass(frozen=True)
class Key:
    """One key of the reference: its type, its default and what it means."""

    name: str
    type: str
    default: str
    meaning: str


@dataclass(frozen=True)
class RuleContext:
    """What a kind's parser may need besides its own keys: the rule's ``from`` and ``host``,
    its status, and the folder that relative file names (CSV, flag file) start from."""

    path: PathTemplate | None
    host: HostTemplate | None
    permanent: bool
    status: int | None
    base: Path
    #: ``settings.map_cache``: a folder for compiled maps, None for the defaults, False for none.
    map_cache: str | bool | None = None
    #: False under ``case_sensitive: false``: a map's rows then match whatever the case.
    case_sensitive: bool = True
    #: ``trailing_slash_match: ignore``: a map's rows match with or without a slash.
    ignore_trailing_slash: bool = False
    #: ``from_regex``, whose named groups a ``to`` may use.
    regex: RegexPath | None = None


Parser = Callable[[Mapping[str, Any], Where, RuleContext], Action]


@dataclass(frozen=True)
class Kind:
    """One rule kind (an action) or matching option, and what every surface does with it."""

    #: The document key that asks for it: ``to``, ``gone``, ``case_sensitive``, ...
    key: str
    #: ``action`` (a rule has exactly one) or ``option`` (how a rule matches or answers).
    role: str
    title: str
    #: One paragraph for the reference.
    summary: str
    keys: tuple[Key, ...]
    #: A whole rule document using the kind, with ``tests:`` that prove what it answers: the
    #: reference shows it and the matrix sends its requests through every surface.
    example: str
    #: An invalid variant and the words its load error must contain.
    broken: tuple[str, str]
    #: What each surface does with the kind; every :class:`Surface` must be here.
    surfaces: Mapping[Surface, Support]
    #: For each importer that can say it: the source text and what it must answer.
    imports: Mapping[Surface, Imported] = field(default_factory=dict)
    #: The action's parser (``role == "action"``); options are read by the loader.
    parse: Parser | None = None
    #: The model class of the action (``role == "action"``).
    action: type | None = None
    #: Keys of other kinds that this kind reads as its own (``language`` takes ``to``): not a
    #: second action when they stand beside it.
    takes: tuple[str, ...] = ()
    #: Fields of the compiled rule that the action sets besides its own: the ``Vary`` names
    #: it reads, whether its answers are for one visitor only.
    rule_fields: Callable[[Action], Mapping[str, Any]] | None = None
    #: What ``redirectware explain`` says about one request to a rule of this kind (a
    #: negotiation, say), given the request's headers.
    explain_request: Callable[[Rule, Mapping[str, str]], list[str]] | None = None
    #: For an option: whether a compiled rule uses it (an action's rule is its model class).
    in_use: Callable[[Rule], bool] | None = None
    #: A document to prove the kind on a surface where :attr:`example` holds something else
    #: that surface cannot say (a list export has no ``except``, no ``{name:path}``, ...).
    surface_examples: Mapping[Surface, str] = field(default_factory=dict)
    #: The line ``redirectware explain`` adds for a rule using the kind, where the kind
    #: changes how the rule matched or answered; None when it says nothing more.
    explain: Callable[[Rule], str | None] | None = None

    def uses(self, rule: Rule) -> bool:
        """Whether ``rule`` is of this kind (an action) or uses it (an option)."""
        if self.action is not None:
            return isinstance(rule.action, self.action)
        return self.in_use is not None and self.in_use(rule)

    def example_for(self, surface: Surface) -> str:
        """The document that proves the kind on ``surface``."""
        return self.surface_examples.get(surface, self.example)

    def support(self, surface: Surface) -> Support:
        """What ``surface`` does with this kind."""
        return self.surfaces[surface]

    def refusal(self, surface: Surface) -> str | None:
        """The reason ``surface`` gives for refusing the kind, or None when it does not."""
        support = self.surfaces.get(surface)
        return support.reason if isinstance(support, Refuses) else None


def everywhere(**exceptions: Support) -> dict[Surface, Support]:
    """Every surface :class:`Works`, but those named (by member name, lower case)."""
    table: dict[Surface, Support] = {surface: Works() for surface in Surface}
    for name, support in exceptions.items():
        table[Surface[name.upper()]] = support
    return table
