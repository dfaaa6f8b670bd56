"""What an edge server must do to answer as the middleware does: an :class:`EdgePlan`.

The exporters (nginx, Caddy, Apache) share this plan and only differ in how they write it. Each
:class:`Entry` is one redirect the edge tries, in document order, the first match deciding:

* it is matched against the request target **as the client sent it** (nginx's
  ``$request_uri``, Caddy's ``{http.request.orig_uri}``), never against the server's decoded
  path: the middleware keeps ``%2F`` inside a segment and copies captures byte for byte, which
  a decoded path cannot do. So that ``/caf%c3%a9`` and ``/caf%C3%A9`` (and ``/%7Euser`` and
  ``/~user``) still hit one rule, as RFC 3986 section 6.2.2 says and the middleware does, each
  literal character of a template accepts every spelling of itself;
* the regular expressions use only what PCRE (nginx) and RE2 (Caddy) share, and no backslash,
  which both configuration languages would read as an escape of their own: a special
  character stands in a class (``[.]``, ``[?]``);
* GET/HEAD and the other methods are separate entries, because neither server lets a
  variable choose the status code, and a 301 to a POST is the bug redirectware exists for.

An entry is a redirect, a 400 for a Host not allowed, or a ``gone`` 410/451; it carries the
rule's ``Sunset``/``Deprecation``. ``case_sensitive: false`` and ``trailing_slash_match:
ignore`` are written as the spellings their normal form accepts; a ``from_regex`` is
translated (:mod:`.regex`); chains through ``https`` or a canonical host are composed into
one redirect (:meth:`_Builder.compose`).

What an edge cannot do the way the middleware does is a :class:`Problem` naming the file,
line, rule, key and why: header, cookie and query conditions, scheduled windows,
maintenance, ``when: not_found``, HSTS, report-only rules, ``keep_query`` lists, a pattern
that cannot be translated, and chains of path rules (the middleware answers ``/a -> /b ->
/c`` with one redirect to ``/c``; an edge would answer two).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

from redirectware.engine.answers import sunset_headers
from redirectware.engine.engine import Engine
from redirectware.engine.exhaustive import assert_never
from redirectware.engine.hosts import parse_host
from redirectware.engine.model import (
    GONE_CODES,
    GoneAction,
    HttpsAction,
    LanguageAction,
    Maintenance,
    MapAction,
    MapEntry,
    Rule,
    SlashAction,
    ToAction,
    map_targets,
)
from redirectware.engine.status import redirect_status
from redirectware.engine.templates import HostTemplate, PathTemplate, Target, compile_path
from redirectware.engine.urls import UNRESERVED, canonical_literal
from redirectware.tools.exporting.refusals import kind_refusal
from redirectware.tools.samples import sample_request

from .regex import Untranslatable, translate

SAFE_METHODS = ("GET", "HEAD")

#: Characters a path may hold that a regular expression reads as operators: put in a class.
_REGEX_SPECIAL = frozenset(".$()*+?|^[]{}")
#: The raw-request form of each converter (the request target, before "?").
_RAW_CONVERTERS = {"str": "[^/?]+", "int": "(?:[0-9]|%3[0-9])+", "path": "[^?]*"}
_DEFAULT_PORTS = {"http": "80", "https": "443"}
#: A run of percent-escapes in a canonical path.
_ESCAPE_RUNS = re.compile("((?:%[0-9A-Fa-f]{2})+)")


@dataclass(frozen=True)
class Problem:
    """A part of the document an edge cannot express, and why."""

    source: str | None
    line: int | None
    rule: str | None
    key: str | None
    why: str

    def __str__(self) -> str:
        parts = []
        if self.source is not None:
            parts.append(self.source if self.line is None else f"{self.source}:{self.line}")
        parts.extend(part for part in (self.rule, self.key) if part)
        parts.append(self.why)
        return ": ".join(parts)


class ExportError(Exception):
    """The document holds what the target cannot express; ``--partial`` leaves it out."""

    def __init__(self, target: str, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{target} cannot express {len(problems)} part(s) of the document:\n"
                         f"{lines}")  # fmt: skip


#: A piece of a Location: literal text (already URI-safe), a capture, or a request value.
#: ``netloc`` is the request's host with its port unless it is the scheme's default.
Part = tuple[Literal["text", "capture", "scheme", "host", "netloc"], str]


@dataclass(frozen=True)
class Variant:
    """One way an entry matches the rest of the target (path and query) and what it sends.

    ``uri`` is a regular expression for the request target from the path on, anchored at
    both ends; its named groups are the entry's captures. ``location`` joins to the Location.
    """

    uri: str
    location: tuple[Part, ...]


@dataclass(frozen=True)
class HostMatch:
    """The rule's ``host`` condition: a regex over the lower-case host name (no port)."""

    regex: str
    exact: str | None
    names: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One redirect (or 400) an edge tries, in order; see the module docstring."""

    rule: Rule
    #: What the comment above it says: the rule and, for a map row, the row.
    label: str
    #: ``None``: any method; else the exact methods (compared as sent, case-sensitive).
    methods: tuple[str, ...] | None
    #: True: every method but GET and HEAD (``methods`` is then None).
    other_methods: bool
    scheme: str | None
    host: HostMatch | None
    #: Hosts a Location may be built from (regex over the host); the entry applies only
    #: to them and a ``refuse`` entry before it answers 400 to the rest.
    excepts: tuple[str, ...]
    variants: tuple[Variant, ...]
    status: int
    cache_control: str
    #: ``redirect``: a Location; ``refuse``: 400 for a Host not allowed; ``gone``: 410 or
    #: 451 with no Location, the same for every method.
    kind: Literal["redirect", "refuse", "gone"] = "redirect"
    #: The allowed hosts (a regex over the lower-case host) for a redirect built from the
    #: request's host; the matching ``refuse`` entry is the negation.
    allowed: str | None = None
    #: Whether the redirect is permanent, and its explicit ``status``: what a chain
    #: through it is answered with (see :meth:`_Builder.compose`).
    permanent: bool = False
    explicit: int | None = None
    #: Headers sent besides Location and Cache-Control: ``Sunset`` and ``Deprecation``
    #: of the rule (or of the first rule of a composed chain) that has ``sunset``.
    headers: tuple[tuple[str, str], ...] = ()
    #: The origin hops (https, a canonical host) a composed entry is reached through: left
    #: out with any of them.
    through: tuple[Rule, ...] = ()


@dataclass
class EdgePlan:
    """The entries of a document in order, what was left out, and the settings to note."""

    source: str | None
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Exported:
    """An export's text, the parts ``--partial`` left out, and notes for stderr."""

    text: str
    left_out: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: How many redirects (entries, rows, lines) the text holds.
    written: int = 0


# --- regular expressions --------------------------------------------------------------------


def _escape(char: str) -> str:
    return f"[{char}]" if char in _REGEX_SPECIAL else char


def _hex(digit: str) -> str:
    # Hex digits compare without case: %c3 and %C3 are one byte.
    return digit if digit.isdigit() else f"[{digit.upper()}{digit.lower()}]"


def literal_regex(text: str, fold: bool = False) -> str:
    """Every raw spelling of a canonical path literal (``~`` as ``~`` or ``%7E``/``%7e``).

    ``fold``: ``text`` is in folded form (``case_sensitive: false``, see
    ``engine/folding.py``) and every spelling of every character that folds to it matches
    too: ``/about`` as ``/ABOUT``, ``/caf%C3%A9`` as ``/CAF%C3%89``.
    """
    out: list[str] = []
    tokens = _tokens(text)
    index = 0
    while index < len(tokens):
        kind, value = tokens[index]
        if kind == "bytes":
            # Escapes that are not UTF-8 text: bytes, which have no case.
            out.append("".join("%" + _hex(value[i + 1]) + _hex(value[i + 2])
                               for i in range(0, len(value), 3)))  # fmt: skip
        elif not fold:
            out.append(_spelled(value, kind == "escaped"))
        else:
            # A character whose capital folds to two (the capital I with a dot folds to "i"
            # and a combining dot): both spellings of those two.
            pair = "".join(v for _, v in tokens[index : index + 2])
            capitals = _capitals().get(pair, ()) if len(pair) == 2 else ()
            if capitals and all(k != "bytes" for k, _ in tokens[index : index + 2]):
                both = "".join(_folded_char(k, v) for k, v in tokens[index : index + 2])
                alternatives = [both, *(_spelled(c, True) for c in capitals)]
                out.append("(?:" + "|".join(alternatives) + ")")
                index += 2
                continue
            out.append(_folded_char(kind, value))
        index += 1
    return "".join(out)


def _tokens(text: str) -> list[tuple[str, str]]:
    """A canonical path literal as characters: ``("plain", c)`` as written in the path,
    ``("escaped", c)`` for a character written as UTF-8 escapes, ``("bytes", "%XX..")`` for
    escapes that are not UTF-8."""
    tokens: list[tuple[str, str]] = []
    for index, piece in enumerate(_ESCAPE_RUNS.split(text)):
        if index % 2 == 0:
            tokens += [("plain", char) for char in piece]
            continue
        try:
            decoded = bytes.fromhex(piece.replace("%", "")).decode("utf-8")
        except UnicodeDecodeError:
            tokens.append(("bytes", piece))
            continue
        tokens += [("escaped", char) for char in decoded]
    return tokens


def _spelled(char: str, escaped: bool) -> str:
    """The raw spellings of one canonical character: an unreserved one as itself or its
    escape, any other as written (``:`` and ``%3A`` are two canonical paths)."""
    if char in UNRESERVED:
        code = f"{ord(char):02X}"
        return f"(?:{_escape(char)}|%{_hex(code[0])}{_hex(code[1])})"
    if not escaped:
        return _escape(char)
    return "".join("%" + _hex(f"{byte:02X}"[0]) + _hex(f"{byte:02X}"[1])
                   for byte in char.encode("utf-8"))  # fmt: skip


def _folded_char(kind: str, char: str) -> str:
    """Every spelling of every character that folds to ``char``."""
    capitals = _capitals().get(char, ())
    if not capitals:
        return _spelled(char, kind == "escaped")
    options = [_spelled(char, kind == "escaped"), *(_spelled(c, c not in UNRESERVED)
                                                      for c in capitals)]  # fmt: skip
    return "(?:" + "|".join(options) + ")"


@lru_cache(maxsize=1)
def _capitals() -> dict[str, tuple[str, ...]]:
    """Each lower-case text to the characters that ``str.lower`` turns into it (``k`` to
    ``K`` and the Kelvin sign), as the middleware's folding does; made once, when needed."""
    table: dict[str, list[str]] = {}
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        lower = char.lower()
        if lower != char:
            table.setdefault(lower, []).append(char)
    return {lower: tuple(chars) for lower, chars in table.items()}


def path_regex(
    template: PathTemplate, prefix: str | None, fold: bool = False, ignore_slash: bool = False
) -> str:
    """The raw-target form of a path template; named groups ``prefix + name`` (or none).

    ``fold`` and ``ignore_slash`` are the rule's ``case_sensitive: false`` and
    ``trailing_slash_match: ignore``: ``template`` is then in the normal form the rule
    matches (its ``match_path``), and the regex takes every path of that normal form.
    """
    out: list[str] = []
    source = template.source
    position = 0
    for name in (*template.names, None):
        if name is None:
            out.append(literal_regex(canonical_literal(source[position:]), fold))
            break
        start = source.index("{" + name, position)
        end = source.index("}", start)
        out.append(literal_regex(canonical_literal(source[position:start]), fold))
        converter = source[start + 1 : end].partition(":")[2] or "str"
        body = _RAW_CONVERTERS[converter]
        if ignore_slash and converter == "path" and end + 1 == len(source):
            # Lazy, so that the trailing slash the middleware drops is not captured.
            body += "?"
        out.append(f"(?P<{prefix}{name}>{body})" if prefix is not None else f"(?:{body})")
        position = end + 1
    if ignore_slash:
        # The middleware drops one trailing slash before matching: "/docs" and "/docs/"
        # (and "/" and "//") are one path.
        out.append("/?")
    return "".join(out)


def rule_path_regex(rule: Rule, template: PathTemplate, prefix: str | None) -> str:
    """:func:`path_regex` with the rule's own matching options."""
    return path_regex(template, prefix, not rule.case_sensitive, rule.ignore_trailing_slash)


def host_regex(template: HostTemplate, prefix: str) -> HostMatch:
    """The host condition as a regex over the lower-case host name; groups ``prefix + name``."""
    if template.exact is not None:
        return HostMatch(literal_host(template.exact), template.exact, ())
    assert template.regex is not None
    text = template.source.strip().lower().rstrip(".")
    if text.startswith("*."):
        return HostMatch("[^/ ]+[.]" + literal_host(text[2:]), None, ())
    out: list[str] = []
    rest = text
    for name in template.names:
        before, _, rest = rest.partition("{" + name + "}")
        out.append(literal_host(before) + f"(?P<{prefix}{name}>[a-z0-9_-]+)")
    out.append(literal_host(rest))
    return HostMatch("".join(out), None, tuple(prefix + name for name in template.names))


def literal_host(text: str) -> str:
    """A host name as a regex (dots in classes)."""
    return "".join(_escape(char) for char in text)


def allowed_regex(engine: Engine) -> str | None:
    """The document's ``allowed_hosts`` as one regex over the host, or None for any."""
    allowed = engine.settings.allowed_hosts
    if allowed.everyone:
        return None
    options = [literal_host(host) for host in sorted(allowed.exact)]
    options += ["[^/ ]+" + literal_host(suffix) for suffix in allowed.suffixes]
    return "(?:" + "|".join(options) + ")"


# --- Locations ------------------------------------------------------------------------------


def _target_parts(target: Target, prefix: str) -> tuple[list[Part], list[Part], list[Part]]:
    """A target's path, query and fragment as parts (captures named ``prefix + name``)."""
    pieces: tuple[list[Part], list[Part], list[Part]] = ([], [], [])
    where = 0
    for literal, name in target.parts:
        text = literal
        while text:
            marks = [i for i in (text.find("?") if where == 0 else -1, text.find("#")) if i >= 0]
            if where == 2 or not marks:
                pieces[where].append(("text", text))
                break
            cut = min(marks)
            pieces[where].append(("text", text[:cut]))
            where, text = (2 if text[cut] == "#" else 1), text[cut + 1 :]
        if name in ("scheme", "host"):
            pieces[where].append((name, ""))  # type: ignore[arg-type]
        elif name == "path":
            # {path} is the whole request path, even where from captures a name "path".
            pieces[where].append(("capture", prefix.rstrip("_") + "path"))
        elif name is not None:
            pieces[where].append(("capture", prefix + name))
    return pieces


def _joined(parts: list[Part]) -> tuple[Part, ...]:
    joined: list[Part] = []
    for kind, value in parts:
        if kind == "text" and not value:
            continue
        if kind == "text" and joined and joined[-1][0] == "text":
            joined[-1] = ("text", joined[-1][1] + value)
        else:
            joined.append((kind, value))
    return tuple(joined)


def _static_origin(text: str) -> tuple[str, str]:
    """``scheme://netloc`` of an absolute target as the middleware writes it, and the rest."""
    scheme, _, rest = text.partition("://")
    scheme = scheme.lower()
    netloc, slash, path = rest.partition("/")
    host = parse_host(netloc)
    if host is not None:
        netloc = host.netloc if host.port != _DEFAULT_PORTS.get(scheme) else host.name
    return f"{scheme}://{netloc}", slash + path


def _base(target: Target, path: list[Part]) -> list[Part]:
    """The Location up to its query: origin and path."""
    if not target.absolute:
        return [("scheme", ""), ("text", "://"), ("netloc", ""), *path]
    if target.authority_names or not path or path[0][0] != "text":
        return list(path)
    origin, rest = _static_origin(path[0][1])
    if not rest and len(path) == 1:
        rest = "/"  # the middleware sends https://example.com as https://example.com/
    return [("text", origin + rest), *path[1:]]


def _query_variants(
    path: str, base: list[Part], query: list[Part], fragment: list[Part], keep: bool, q: str
) -> list[Variant]:
    """The variants for a path regex: how the request's query joins the target's."""
    tail: list[Part] = [("text", "#"), *fragment] if fragment else []
    if not keep:
        location = [*base, *([("text", "?"), *query] if query else []), *tail]
        return [Variant(f"{path}(?:[?].*)?", _joined(location))]
    if not query:
        location = [*base, ("capture", q), *tail]
        return [Variant(f"{path}(?:(?P<{q}>[?].+)|[?])?", _joined(location))]
    # The target has its own query: the request's joins it after "&", when there is one.
    alone = [*base, ("text", "?"), *query, *tail]
    joined = [*base, ("text", "?"), *query, ("text", "&"), ("capture", q), *tail]
    return [
        Variant(f"{path}[?](?P<{q}>.+)", _joined(joined)),
        Variant(f"{path}[?]?", _joined(alone)),
    ]


# --- building the plan ----------------------------------------------------------------------

_UNSUPPORTED_KEYS = (
    ("query", "a query condition"),
    ("headers", "a header condition"),
    ("cookies", "a cookie condition"),
)


def _rule_problems(source: str | None, rule: Rule, target: str) -> list[Problem]:
    found: list[Problem] = []

    def add(key: str, why: str) -> None:
        found.append(Problem(source, rule.line_of(key), rule.label, key, why))

    refused = kind_refusal(rule, target)
    if refused is not None:
        add(*refused)
    for key, what in _UNSUPPORTED_KEYS:
        if getattr(rule, key):
            add(key, f"{what} is not exported to {target}")
    if rule.active_from is not None or rule.active_until is not None:
        add("active", f"a scheduled window is not exported to {target}")
    if rule.hsts is not None:
        add("hsts", f"set Strict-Transport-Security in {target} itself")
    if rule.report_only:
        add("report_only", "a report-only rule only logs: there is nothing to export")
    keep = rule.keep_query
    if not keep.keep_all and (keep.names or keep.prefixes):
        add("keep_query", f"{target} cannot keep some query parameters and drop others")
    action = rule.action
    match action:
        case Maintenance():
            pass  # refused by the registry, above
        case SlashAction():
            if rule.path is not None and ":path}" in rule.path.source:
                add("from", "trailing_slash with a {name:path} in from is not exported")
            if rule.ignore_trailing_slash:
                add("trailing_slash_match", "trailing_slash on a rule that ignores the "
                    "trailing slash is not exported")  # fmt: skip
        case ToAction():
            # nginx reads "$name" in a return URL as a variable, and has no escape for "$".
            if target == "nginx" and "$" in action.target.source:
                add("to", "a '$' in a target cannot be written in nginx")
        case MapAction():
            if target == "nginx":
                dollar = next((key for key, to in map_targets(action.entries) if "$" in to), None)
                if dollar is not None:
                    add("map", f"a '$' in the target of row {dollar} cannot be written in nginx")
        case HttpsAction() | GoneAction() | LanguageAction():
            pass  # a language rule: refused by the registry, above
        case _:
            assert_never(action)
    return found


def _uses_request_host(rule: Rule, target: Target) -> bool:
    """Whether a ``to`` Location is built from the request's Host (then 400 for one not
    allowed)."""
    host_names = set(rule.host.names) if rule.host is not None else set()
    return (not target.absolute) or bool(target.names & ({"host"} | host_names))


class _Builder:
    """Turns each rule into entries (see :func:`build_plan`)."""

    def __init__(self, engine: Engine, target: str) -> None:
        self.engine = engine
        self.target = target
        self.plan = EdgePlan(engine.source)
        self.allowed = allowed_regex(engine)
        #: The rules of each chain written as one composed redirect, in order.
        self.composed: set[tuple[int, ...]] = set()

    def codes(self, permanent: bool, status: int | None) -> tuple[int, int, str]:
        settings = self.engine.settings
        cache = f"max-age={settings.permanent_max_age}" if permanent else "no-store"
        return (
            redirect_status("GET", permanent, status, settings.strict_codes),
            redirect_status("POST", permanent, status, settings.strict_codes),
            cache,
        )

    def base_entry(self, rule: Rule, label: str, variants: list[Variant]) -> Entry:
        """An entry of ``rule`` with its conditions; the caller sets what it answers."""
        prefix = f"rw{rule.index}_"
        return Entry(
            rule=rule,
            label=label,
            methods=None,
            other_methods=False,
            scheme="http" if _http_only(rule) else rule.scheme,
            host=host_regex(rule.host, prefix) if rule.host is not None else None,
            excepts=tuple(rule_path_regex(rule, t, None) for t in rule.excepts),
            variants=tuple(variants),
            status=0,
            cache_control="no-store",
            headers=sunset_headers(rule),
        )

    def add(
        self,
        rule: Rule,
        label: str,
        variants: list[Variant],
        permanent: bool,
        status: int | None,
        uses_host: bool,
    ) -> None:
        """The entries of one redirect: a 400 for hosts not allowed, GET/HEAD, the rest."""
        safe, other, cache = self.codes(permanent, status)
        wanted = rule.methods
        allowed = self.allowed if uses_host else None
        base = replace(
            self.base_entry(rule, label, variants),
            status=safe,
            cache_control=cache,
            allowed=allowed,
            permanent=permanent,
            explicit=status,
        )
        entries = self.plan.entries
        if allowed is not None:
            # The middleware answers 400 rather than build a Location from a Host it does not
            # serve: the edge does the same for the requests this rule would redirect.
            methods = None if wanted is None else tuple(sorted(wanted))
            entries.append(
                replace(base, methods=methods, status=400, cache_control="no-store",
                        kind="refuse", headers=())
            )  # fmt: skip
        safe_methods = (
            SAFE_METHODS if wanted is None else tuple(m for m in SAFE_METHODS if m in wanted)
        )
        if safe_methods:
            entries.append(replace(base, methods=safe_methods))
        others = None if wanted is None else tuple(sorted(wanted - set(SAFE_METHODS)))
        if others is None or others:
            entries.append(
                replace(base, methods=others, other_methods=others is None, status=other)
            )

    def add_gone(self, rule: Rule, label: str, variants: list[Variant], status: int) -> None:
        """The entry of a ``gone`` answer: one status for every method (it is no redirect,
        so nothing is re-sent), 410 cached like a permanent redirect, 451 never."""
        max_age = self.engine.settings.permanent_max_age
        self.plan.entries.append(replace(
            self.base_entry(rule, label, variants),
            methods=None if rule.methods is None else tuple(sorted(rule.methods)),
            status=status,
            cache_control=f"max-age={max_age}" if status == 410 else "no-store",
            kind="gone",
        ))  # fmt: skip

    def rule(self, rule: Rule) -> None:
        problems = _rule_problems(self.plan.source, rule, self.target)
        if problems:
            self.plan.problems.extend(problems)
            return
        action = rule.action
        prefix = f"rw{rule.index}_"
        # Group names of the entry's own: rwN_NAME is a capture, rwNq and rwNpath can
        # never be one (a capture named q or path is rwN_q, rwN_path).
        q, whole = f"rw{rule.index}q", f"rw{rule.index}path"
        where = rule.label + (f" ({self.plan.source}:{rule.line})" if self.plan.source else "")
        template = rule.match_path or rule.path
        path = rule_path_regex(rule, template, prefix) if template is not None else "/[^?]*"
        shown = rule.path.source if rule.path is not None else "*"
        if rule.regex is not None:
            shown = f"from_regex {rule.regex.source}"
            try:
                path = translate(rule.regex.source, prefix, not rule.case_sensitive,
                                 rule.ignore_trailing_slash)  # fmt: skip
            except Untranslatable as error:
                line = rule.line_of("from_regex")
                problem = Problem(self.plan.source, line, rule.label, "from_regex", str(error))
                self.plan.problems.append(problem)
                return
        match action:
            case MapAction():
                self.map_rows(rule, action, where)
            case GoneAction():
                # Named, for a chain through an origin hop that ends here (see compose).
                variants = [Variant(f"(?P<{whole}>{path})(?:(?P<{q}>[?].+)|[?])?", ())]
                self.add_gone(rule, f"{where}: {shown} gone ({action.status})", variants,
                              action.status)  # fmt: skip
            case ToAction():
                target = action.target
                if "path" in target.names:
                    path = f"(?P<{whole}>{path})"
                parts, query, fragment = _target_parts(target, prefix)
                variants = _query_variants(
                    path, _base(target, parts), query, fragment, rule.keep_query.keep_all, q
                )
                label = f"{where}: {shown} -> {target.source}"
                uses_host = _uses_request_host(rule, target)
                self.add(rule, label, variants, rule.permanent, rule.status, uses_host)
            case HttpsAction():
                port = f":{action.port}" if action.port else ""
                base: list[Part] = [("text", "https://"), ("host", ""), ("text", port)]
                location = _joined([*base, ("capture", whole), ("capture", q)])
                uri = f"(?P<{whole}>{path})(?:(?P<{q}>[?].+)|[?])?"
                self.add(rule, f"{where}: https", [Variant(uri, location)], rule.permanent,
                         rule.status, True)  # fmt: skip
            case SlashAction():
                self.slash(rule, action, where, template, path)
            case Maintenance() | LanguageAction():
                pass  # refused by _rule_problems
            case _:
                assert_never(action)

    def slash(
        self,
        rule: Rule,
        action: SlashAction,
        where: str,
        template: PathTemplate | None,
        path: str,
    ) -> None:
        """The entries of a ``trailing_slash`` rule."""
        prefix = f"rw{rule.index}_"
        q, p = f"rw{rule.index}q", f"rw{rule.index}path"
        origin: list[Part] = [("scheme", ""), ("text", "://"), ("netloc", "")]
        if action.add:
            if template is not None and template.source.endswith("/"):
                return  # never matches: the path already ends with "/"
            uri = f"(?P<{p}>{path})" if template else f"(?P<{p}>/[^?]*[^/?])"
            location = _joined([*origin, ("capture", p), ("text", "/"), ("capture", q)])
            variants = [Variant(f"{uri}(?:(?P<{q}>[?].+)|[?])?", location)]
        else:
            if template is not None and not template.source.endswith("/"):
                return  # never matches: the path never ends with "/"
            stem = f"(?P<{p}>/[^?]*?[^/?])/+"
            if template is not None:
                # The template ends with "/": what comes before it is the kept stem.
                stem = f"(?P<{p}>{rule_path_regex(rule, _without_slash(template), prefix)})/"
            strip = _joined([*origin, ("capture", p), ("capture", q)])
            root = _joined([*origin, ("text", "/"), ("capture", q)])
            variants = [Variant(f"{stem}(?:(?P<{q}>[?].+)|[?])?", strip)]
            if template is None:
                variants.append(Variant(f"//+(?:(?P<{q}>[?].+)|[?])?", root))
        label = f"{where}: trailing_slash {'add' if action.add else 'remove'}"
        self.add(rule, label, variants, rule.permanent, rule.status, True)

    def compose(self) -> None:
        """Write each chain the middleware collapses through origin hops as one redirect.

        An *origin hop* keeps the path and the query and changes the scheme or the host: an
        ``https`` rule, or a pathless ``to: https://example.com{path}``. The middleware
        answers ``http://www.example.com/api/v1/x`` with one redirect to
        ``https://example.com/api/v2/x`` where https, the canonical host and
        ``/api/v1 -> /api/v2`` chain; an edge that only knew each rule would answer three.
        So before an origin rule's own redirect come, in document order, the entries of
        every rule as they answer at the origin the hop leads to (scheme and host fixed,
        the same path): the rule's conditions and theirs, their Location from that origin,
        permanent only if every hop is, the explicit status of the first hop of the chain's
        nature, the Sunset of the first rule with one (``engine/answers.py``). A rule that
        answers 410/451 there ends the chain: the middleware redirects to where it stands.
        """
        entries = self.plan.entries
        left_out = {problem.rule for problem in self.plan.problems}
        for rule in self.engine.rules:
            hop = _origin_hop(rule)
            if hop is None or rule.label in left_out:
                continue
            own = [
                entry
                for entry in entries
                if entry.rule is rule and entry.kind == "redirect" and not entry.through
            ]
            if not own:
                continue
            composed = self._expand(hop, [rule], left_out)
            first = entries.index(own[0])
            entries[first:first] = composed

    def _serves(self, state: _State) -> bool:
        """Whether the middleware goes on with a chain at ``state`` (``engine._serves``)."""
        if state.host is None:
            return True
        settings = self.engine.settings
        return settings.allowed_hosts_given and state.host in settings.allowed_hosts

    def _expand(self, state: _State, through: list[Rule], left_out: set[str | None]) -> list[Entry]:
        """The entries of the chains that ``through`` (origin hops) start, at ``state``."""
        if not self._serves(state) or len(through) > len(self.engine.rules):
            return []
        out: list[Entry] = []
        for later in self.engine.rules:
            if later.label in left_out or not _applies_at(later, state):
                continue
            hop = _origin_hop(later)
            if hop is not None and later not in through:
                out += self._expand(hop.after(state), [*through, later], left_out)
            for entry in self.plan.entries:
                if entry.rule is later and not entry.through:
                    out += self._composed(entry, state, through)
        return out

    def _composed(self, entry: Entry, state: _State, through: list[Rule]) -> list[Entry]:
        """``entry`` reached through the origin hops ``through`` (GET/HEAD and the other
        methods apart, for a 410 that was one entry); none if it cannot be written so (the
        middleware's chain check then names it)."""
        first = through[0]
        # Every host condition met on the request's own host (before a hop to a fixed host)
        # applies to the request: at most one of them, or the same one, is written.
        conditions: list[HostMatch] = []
        at = _State("http", None)
        for rule in through:
            if at.host is None and rule.host is not None:
                conditions.append(host_regex(rule.host, f"rw{rule.index}_"))
            hop = _origin_hop(rule)
            assert hop is not None
            at = hop.after(at)
        if state.host is None and entry.host is not None:
            conditions.append(entry.host)
        elif state.host is not None and entry.rule.host is not None and entry.rule.host.names:
            return []  # host captures of a fixed host: not worth a case of its own
        if len({condition.regex for condition in conditions}) > 1:
            return []
        host = conditions[-1] if conditions else None
        excepts = tuple(rule_path_regex(r, t, None) for r in through for t in r.excepts)
        hops: list[tuple[Rule, bool, int | None]] = [(r, r.permanent, r.status) for r in through]
        match entry.kind:
            case "refuse":
                return []  # the host is allowed once an origin hop has been made
            case "gone":
                # The chain ends before the 410: a redirect to where the last hop leads.
                q, whole = f"rw{entry.rule.index}q", f"rw{entry.rule.index}path"
                location: list[Part] = [("text", f"{state.scheme}://"), *state.netloc_parts(),
                                        ("capture", whole), ("capture", q)]  # fmt: skip
                variants = tuple(Variant(v.uri, _joined(location)) for v in entry.variants)
            case "redirect":
                hops.append((entry.rule, entry.permanent, entry.explicit))
                variants = tuple(Variant(v.uri, state.located(v.location)) for v in entry.variants)
            case _:
                assert_never(entry.kind)
        permanent = all(hop[1] for hop in hops)
        # The status comes from the first hop whose nature is the chain's (answers.py).
        explicit = next(hop[2] for hop in hops if hop[1] == permanent)
        safe, other, cache = self.codes(permanent, explicit)
        sunset = next((hop[0] for hop in hops if sunset_headers(hop[0])), None)
        self.composed.add(tuple(hop[0].index for hop in hops))
        names = " -> ".join(r.label for r in through)
        made = replace(
            entry,
            label=f"{entry.label}, reached through {names}",
            scheme="http" if _http_only(first) else first.scheme,
            host=host,
            excepts=excepts + entry.excepts,
            variants=variants,
            kind="redirect",
            status=other,
            cache_control=cache,
            permanent=permanent,
            explicit=explicit,
            headers=sunset_headers(sunset),
            allowed=None,
            through=tuple(through),
        )
        if entry.other_methods:
            return [made]
        # GET/HEAD and the rest apart, as add() writes them.
        methods = SAFE_METHODS if entry.methods is None else entry.methods
        safe_methods = tuple(m for m in methods if m in SAFE_METHODS)
        others = None if entry.methods is None else tuple(m for m in methods
                                                             if m not in SAFE_METHODS)  # fmt: skip
        out = [replace(made, methods=safe_methods, status=safe)] if safe_methods else []
        if others is None or others:
            out.append(replace(made, methods=others, other_methods=others is None))
        return out

    def map_rows(self, rule: Rule, action: MapAction, where: str) -> None:
        """An entry per row: a redirect, or a 410/451 for a row that says the URL is gone.

        A map that ignores case or a trailing slash is matched by each row's key in normal
        form (``action.match_keys``), as the middleware looks rows up.
        """
        keys: list[tuple[str, str]] = (
            [(key, key) for key, _ in map_targets(action.entries)]
            if action.match_keys is None
            else list(action.match_keys.items())
        )
        # A row with a query is tried before the row of its path alone, as the middleware does.
        keys.sort(key=lambda row: "?" not in row[0])
        for matched, key in keys:
            entry: MapEntry = action.entries[key]
            path, mark, query = matched.partition("?")
            regex = literal_regex(path, action.fold_case) + ("/?" if action.ignore_slash else "")
            line = f" ({action.source}:{entry.line})" if action.source and entry.line else ""
            if entry.status in GONE_CODES:
                exact = "".join(_escape(char) for char in query)
                q, whole = f"rw{rule.index}q", f"rw{rule.index}path"
                uri = (f"(?P<{whole}>{regex})(?P<{q}>[?]{exact})" if mark
                       else f"(?P<{whole}>{regex})(?:(?P<{q}>[?].+)|[?])?")  # fmt: skip
                label = f"{where}: row {key} gone ({entry.status}){line}"
                self.add_gone(rule, label, [Variant(uri, ())], entry.status or 410)
                continue
            text, _, fragment_text = entry.target.partition("#")
            text, _, target_query = text.partition("?")
            if text.startswith("/"):
                base: list[Part] = [("scheme", ""), ("text", "://"), ("netloc", ""),
                                    ("text", text)]  # fmt: skip
            else:
                origin, rest = _static_origin(text)
                base = [("text", origin + (rest or "/"))]
            tq: list[Part] = [("text", target_query)] if target_query else []
            frag: list[Part] = [("text", fragment_text)] if fragment_text else []
            if mark:
                exact = "".join(_escape(char) for char in query)
                # A row with a query matches that exact query, which is not appended again.
                tail: list[Part] = [("text", "#"), *frag] if frag else []
                location = _joined([*base, *([("text", "?"), *tq] if tq else []), *tail])
                variants = [Variant(f"{regex}[?]{exact}", location)]
            else:
                q = f"rw{rule.index}q"
                variants = _query_variants(regex, base, tq, frag, True, q)
            label = f"{where}: row {key} -> {entry.target}{line}"
            self.add(rule, label, variants, entry.permanent, entry.status, text.startswith("/"))

    def chains(self) -> None:
        """A problem for each rule whose own sample request the middleware answers with a
        collapsed chain: the edge would send the first hop only."""
        engine = self.engine
        shared = _probe_paths(engine)
        for rule in engine.rules:
            if any(problem.rule == rule.label for problem in self.plan.problems):
                continue
            for path, query in _probes(rule, shared):
                sample = sample_request(rule, engine.settings, path=path, query=query)
                for scheme in sample.schemes:
                    decision = engine.resolve(
                        sample.method, scheme, sample.host, sample.path, sample.query,
                        sample.headers,
                    )  # fmt: skip
                    hops = decision.hops
                    if tuple(hop.rule.index for hop in hops) in self.composed:
                        continue  # written as one redirect by compose()
                    if len(hops) > 1 and hops[0].rule is rule:
                        urls = " -> ".join(
                            [f"{scheme}://{sample.host}{sample.path}"]
                            + [hop.location for hop in decision.hops]
                        )
                        self.plan.problems.append(Problem(
                            self.plan.source, rule.line, rule.label, None,
                            f"chain {urls}: the middleware answers with one redirect to the "
                            f"end, {self.target} would answer each hop; point the rule at the "
                            "end of the chain",
                        ))  # fmt: skip
                        break
                else:
                    continue
                break


@dataclass(frozen=True)
class _State:
    """Where an origin hop leads: a scheme, and a fixed host (with its netloc as the
    middleware writes it) or None for the request's own host with ``port``."""

    scheme: str
    host: str | None
    netloc: str = ""
    port: str = ""

    def after(self, state: _State) -> _State:
        """This hop's origin taken from ``state`` (the request's host kept, or not)."""
        if self.host is None and state.host is not None:
            return _State(self.scheme, state.host, state.host + self.port)
        return self

    def netloc_parts(self) -> list[Part]:
        """The netloc a Location built from this origin has."""
        if self.host is None:
            return [("host", ""), ("text", self.port)]
        return [("text", self.netloc)]

    def located(self, location: tuple[Part, ...]) -> tuple[Part, ...]:
        """A Location built from the request's origin, as built from this one."""
        out: list[Part] = []
        for kind, value in location:
            match kind:
                case "scheme":
                    out.append(("text", self.scheme))
                case "netloc":
                    out += self.netloc_parts()
                case "host":
                    out.append(("host", "") if self.host is None else ("text", self.host))
                case "text" | "capture":
                    out.append((kind, value))
                case _:
                    assert_never(kind)
        return _joined(out)


#: A pathless target that keeps the path: ``https://example.com{path}``.
_ORIGIN_TARGET = re.compile(r"(https?)://([^/{}?#@]+)\{path\}", re.IGNORECASE)


def _origin_hop(rule: Rule) -> _State | None:
    """Where ``rule`` sends every request it matches when it only changes the scheme or the
    host (keeping path and query); None for another rule."""
    if rule.path is not None or rule.regex is not None or rule.methods or rule.when_not_found:
        return None
    action = rule.action
    match action:
        case HttpsAction():
            return _State("https", None, port=f":{action.port}" if action.port else "")
        case ToAction():
            found = _ORIGIN_TARGET.fullmatch(action.target.source)
            if found is None or not rule.keep_query.keep_all or action.target.names != {"path"}:
                return None
            origin, _ = _static_origin(f"{found.group(1)}://{found.group(2)}")
            scheme, _, netloc = origin.partition("://")
            host = parse_host(netloc)
            return None if host is None else _State(scheme, host.name, netloc)
        case SlashAction() | Maintenance() | MapAction() | GoneAction() | LanguageAction():
            return None
        case _:
            assert_never(action)


def _http_only(rule: Rule) -> bool:
    """Whether the rule's kind only ever matches plain http (an ``https`` rule)."""
    action = rule.action
    match action:
        case HttpsAction():
            return True
        case (
            ToAction()
            | SlashAction()
            | Maintenance()
            | MapAction()
            | GoneAction()
            | LanguageAction()
        ):
            return False
        case _:
            assert_never(action)


def _applies_at(rule: Rule, state: _State) -> bool:
    """Whether ``rule`` may match a request at ``state`` (its scheme and fixed host)."""
    if rule.when_not_found or (rule.scheme is not None and rule.scheme != state.scheme):
        return False
    if _http_only(rule) and state.scheme != "http":
        return False
    if state.host is not None and rule.host is not None:
        return rule.host.match(state.host) is not None
    return True


def _without_slash(template: PathTemplate) -> PathTemplate:
    return compile_path(template.source[:-1] or "/")


#: Map rows tried as probes of the other rules (a chain needs only one to show).
PROBE_ROWS = 1000


def _probe_paths(engine: Engine) -> list[tuple[str, str]]:
    """Paths to try every rule with: each rule's sample path and map rows. A chain from
    rule A to rule B shows when A is tried with B's path: www.example.com/api/v1/x."""
    paths: list[tuple[str, str]] = []
    for rule in engine.rules:
        action = rule.action
        match action:
            case MapAction():
                for key in list(action.entries)[:PROBE_ROWS]:
                    path, _, query = key.partition("?")
                    paths.append((path, query))
            case (
                ToAction()
                | HttpsAction()
                | SlashAction()
                | Maintenance()
                | GoneAction()
                | LanguageAction()
            ):
                paths.append((sample_request(rule, engine.settings).path, ""))
            case _:
                assert_never(action)
    return list(dict.fromkeys(paths))


def _probes(rule: Rule, shared: list[tuple[str, str]]) -> Iterator[tuple[str | None, str]]:
    """The paths to try a rule with: its own sample (or every row of its map), then the
    others' paths that its template matches."""
    action = rule.action
    match action:
        case MapAction():
            for key in action.entries:
                path, _, query = key.partition("?")
                yield path, query
            return
        case (
            ToAction()
            | HttpsAction()
            | SlashAction()
            | Maintenance()
            | GoneAction()
            | LanguageAction()
        ):
            pass
        case _:
            assert_never(action)
    yield None, ""
    for path, query in shared:
        if rule.path is None or rule.path.match(canonical_literal(path)) is not None:
            yield path, query


def build_plan(engine: Engine, target: str) -> EdgePlan:
    """The entries an edge needs to answer as ``engine`` does, and what it cannot express.

    ``target`` names the edge in messages (``"nginx"``).
    """
    builder = _Builder(engine, target)
    settings = engine.settings
    if settings.report_only:
        builder.plan.problems.append(Problem(
            engine.source, None, None, "settings.report_only",
            "a report-only document only logs: there is nothing to export",
        ))  # fmt: skip
    if settings.trusted_proxies:
        builder.plan.notes.append(
            "settings.trusted_proxies is not exported: the edge is where clients connect, so "
            "it reads the scheme and host of the connection itself"
        )
    for rule in engine.rules:
        builder.rule(rule)
    builder.compose()
    builder.chains()
    return builder.plan


def heading(target: str, plan: EdgePlan, skipped: list[str], where: list[str]) -> list[str]:
    """The comment lines every export starts with: what made it, ``where`` it goes (comment
    lines), the plan's notes, and the rules ``--partial`` left out."""
    lines = [f"# Generated by 'redirectware export {target}' from {plan.source or 'a document'}."]
    lines += where
    lines += [f"# Note: {note}" for note in plan.notes]
    lines += [f"# Left out: {line}" for line in skipped]
    return lines


def labelled(plan: EdgePlan) -> Iterator[tuple[str | None, Entry]]:
    """Each entry with its rule's label the first time that rule's entries come (else None),
    for the comment that heads each rule's part of an export."""
    last: str | None = None
    for entry in plan.entries:
        yield (entry.label if entry.label != last else None), entry
        last = entry.label
