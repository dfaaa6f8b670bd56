"""An Apache ``<VirtualHost>``-level include (mod_rewrite, mod_headers) that answers as the
middleware does.

Written for the traps of doing it by hand:

* every entry is one ``RewriteCond`` on ``"%{REQUEST_SCHEME} %{SERVER_NAME} %{THE_REQUEST}"``:
  the request line as sent (``%2F`` stays ``%2F``; ``AllowEncodedSlashes NoDecode`` keeps
  Apache from refusing it first), the host lower-cased, the method, all in one regex;
* ``RewriteRule ^ URL [R=code,L,NE,QSD]``: the status written per method (GET/HEAD and the
  rest are separate entries, since Apache's 301 would let a POST become a GET), ``NE`` so
  the captured bytes are not escaped again, ``QSD`` so that the query is only what the
  Location says: ``?%{QUERY_STRING}`` as a literal (a ``?`` coming from a backreference is
  refused by Apache 2.4.60 and later), dropped by Apache when the query is empty;
* ``%`` and ``$`` in the Location's own text are escaped (``\\%``): ``%1`` and ``$1`` are
  backreferences there. A regex with more than nine groups cannot be written (``%1``-``%9``);
* ``Cache-Control`` is a ``Header always set`` of an environment variable that only a
  redirect sets (``E=RW_CC:...``).
"""

from __future__ import annotations

import re

from redirectware.engine.exhaustive import assert_never

from .plan import SAFE_METHODS, EdgePlan, Entry, ExportError, Problem, Variant, heading, labelled

_VARIABLES = {"scheme": "%{REQUEST_SCHEME}", "host": "%{SERVER_NAME}", "netloc": "%{HTTP_HOST}"}

_PREAMBLE = """\
# Apache refuses a request with %2F in its path unless told otherwise: the middleware
# treats it as part of a segment.
AllowEncodedSlashes NoDecode
RewriteEngine On
Header always set Cache-Control "%{RW_CC}e" env=RW_CC
"""


def _quoted(text: str) -> str:
    # Apache's quoted arguments keep backslashes as written: "\\%" reaches mod_rewrite as
    # an escaped backslash and a backreference. The texts here hold no quote (URI-safe).
    return '"' + text + '"'


def _regex(entry: Entry, variant: Variant) -> str:
    host = entry.host.regex if entry.host is not None else "[^ ]*"
    if entry.kind == "refuse":
        host = f"(?!{entry.allowed} )" + host
    if entry.other_methods:
        methods = "(?!(?:" + "|".join(SAFE_METHODS) + ") )[^ ]+"
    elif entry.methods is None:
        methods = "[^ ]+"
    else:
        methods = "(?:" + "|".join(entry.methods) + ")"
    excepts = ""
    if entry.excepts:
        excepts = "(?!(?:" + "|".join(entry.excepts) + ")(?:[?]| ))"
    scheme = entry.scheme or "[a-z]+"
    return f"^{scheme} {host} {methods} {excepts}{variant.uri} HTTP/[0-9.]+$"


def _location(entry: Entry, variant: Variant, groups: dict[str, int]) -> str | None:
    query = f"rw{entry.rule.index}q"
    out: list[str] = []
    for kind, value in variant.location:
        match kind:
            case "text":
                out.append(value.replace("%", "\\%").replace("$", "\\$"))
            case "capture" if value == query:
                # The request's query, written as a literal "?" (see the module docstring).
                out.append("%{QUERY_STRING}" if out and out[-1].endswith("&") else
                           "?%{QUERY_STRING}")  # fmt: skip
            case "capture":
                if value not in groups or groups[value] > 9:
                    return None
                out.append(f"%{groups[value]}")
            case "scheme" | "host" | "netloc":
                out.append(_VARIABLES[kind])
            case _:
                assert_never(kind)
    return "".join(out)


def _split(entry: Entry) -> list[Variant]:
    """The entry's variants, an optional query before a fragment split in two: Apache would
    leave "?#top" where the query is empty (its lone "?" is dropped only at the end)."""
    query = f"rw{entry.rule.index}q"
    optional = f"(?:(?P<{query}>[?].+)|[?])?"
    out: list[Variant] = []
    for variant in entry.variants:
        kinds = [value for kind, value in variant.location if kind == "capture"]
        tail = variant.location[-1] if variant.location else ("text", "")
        if query in kinds and tail != ("capture", query) and variant.uri.endswith(optional):
            stem = variant.uri[: -len(optional)]
            without = tuple(part for part in variant.location if part != ("capture", query))
            out += [Variant(f"{stem}(?P<{query}>[?].+)", variant.location),
                    Variant(f"{stem}[?]?", without)]  # fmt: skip
        else:
            out.append(variant)
    return out


def _header_sets(plan: EdgePlan) -> dict[tuple[tuple[str, str], ...], str]:
    """Each distinct set of extra headers (Sunset, Deprecation) to the variable that an
    entry sets to have them sent: a flag's value cannot hold the comma of a date."""
    sets: dict[tuple[tuple[str, str], ...], str] = {}
    for entry in plan.entries:
        if entry.headers and entry.headers not in sets:
            sets[entry.headers] = f"RW_H{len(sets)}"
    return sets


def render(plan: EdgePlan, skipped: list[str]) -> str:
    """The include's text; ``skipped`` are comments for rules ``--partial`` left out."""
    where = [
        "# Include it inside a <VirtualHost> (mod_rewrite and mod_headers enabled), before",
        "# other RewriteRules. Edit the rule document and export again rather than this file.",
    ]
    sets = _header_sets(plan)
    lines = [*heading("apache", plan, skipped, where), "", _PREAMBLE]
    for headers, variable in sets.items():
        lines += [f"Header always set {name} {_quoted(value)} env={variable}"
                  for name, value in headers]  # fmt: skip
    if sets:
        lines.append("")
    for label, entry in labelled(plan):
        if label is not None:
            lines.append(f"# {label}")
        extra = f",E={sets[entry.headers]}:1" if entry.headers else ""
        for variant in _split(entry):
            regex = _regex(entry, variant)
            cond = '"%{REQUEST_SCHEME} %{SERVER_NAME} %{THE_REQUEST}" ' + _quoted(regex)
            match entry.kind:
                case "refuse":
                    lines += [f"RewriteCond {cond}",
                              "RewriteRule ^ - [R=400,L,E=RW_CC:no-store]"]  # fmt: skip
                case "gone":
                    # A status outside 3xx: mod_rewrite answers it with no substitution.
                    flags = f"R={entry.status},L,E=RW_CC:{entry.cache_control}{extra}"
                    lines += [f"RewriteCond {cond}", f"RewriteRule ^ - [{flags}]"]
                case "redirect":
                    groups = re.compile(regex).groupindex
                    location = _location(entry, variant, dict(groups))
                    if location is None:
                        rule = entry.rule
                        why = "more than nine groups in its regex: Apache has %1 to %9 only"
                        raise ExportError("apache", [Problem(plan.source, rule.line, rule.label,
                                                             "from", why)])  # fmt: skip
                    flags = f"R={entry.status},L,NE,QSD,E=RW_CC:{entry.cache_control}{extra}"
                    lines += [f"RewriteCond {cond}",
                              f"RewriteRule ^ {_quoted(location)} [{flags}]"]  # fmt: skip
                case _:
                    assert_never(entry.kind)
    return "\n".join(lines) + "\n"
