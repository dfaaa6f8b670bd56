"""An nginx ``server``-level include that answers as the middleware does.

Written for the traps of doing it by hand:

* the rules are matched against ``$request_uri`` (the target as sent), not ``$uri``, which
  nginx decodes (``%2F`` becomes ``/``) and whose captures nginx would escape again;
* every entry is an ``if`` on one string, ``"$request_method $scheme $host $request_uri"``,
  because ``return`` takes its status as a literal: GET/HEAD and the other methods need
  separate entries, or nginx's 301 would let clients turn a POST into a GET;
* the regular expressions are case-sensitive (``~``), as the middleware's matching is, where a
  ``map`` of strings would compare without case;
* ``return`` drops the query, so the Location carries it explicitly, as the rule says.

``Cache-Control``, ``Sunset`` and ``Deprecation`` are server-level ``add_header`` lines of
variables that only an entry sets (``add_header`` is not allowed in an ``if`` at server
level): nginx adds no header whose value is empty. A ``gone`` entry is ``return 410;`` (or
451), the same for every method.
"""

from __future__ import annotations

from redirectware.engine.exhaustive import assert_never

from .plan import SAFE_METHODS, EdgePlan, Entry, Part, Variant, heading, labelled

_VARIABLES = {"scheme": "$scheme", "host": "$host", "netloc": "$rw_netloc"}

_PREAMBLE = """\
# The request's host and port as the middleware writes them in a Location: lower-case,
# without the scheme's default port.
set $rw_netloc $host;
set $rw_port "";
if ($http_host ~ ":(?P<rw_p>[0-9]+)$") {
    set $rw_port $rw_p;
    set $rw_netloc "$host:$rw_p";
}
set $rw_scheme_port "$scheme:$rw_port";
if ($rw_scheme_port ~ "^(?:http:80|https:443)$") {
    set $rw_netloc $host;
}
set $rw_request "$request_method $scheme $host $request_uri";
set $rw_cache_control "";
add_header Cache-Control $rw_cache_control always;
# Sunset and Deprecation of a rule with sunset: set only by its entries.
set $rw_sunset "";
set $rw_deprecation "";
add_header Sunset $rw_sunset always;
add_header Deprecation $rw_deprecation always;
"""


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _location(parts: tuple[Part, ...]) -> str:
    out: list[str] = []
    for kind, value in parts:
        match kind:
            case "text":
                out.append(value)
            case "capture":
                out.append("${" + value + "}")
            case "scheme" | "host" | "netloc":
                out.append(_VARIABLES[kind])
            case _:
                assert_never(kind)
    return "".join(out)


def _methods(entry: Entry) -> str:
    if entry.other_methods:
        return "(?!(?:" + "|".join(SAFE_METHODS) + ") )[^ ]+"
    if entry.methods is None:
        return "[^ ]+"
    return "(?:" + "|".join(entry.methods) + ")"


def _regex(entry: Entry, variant: Variant) -> str:
    host = entry.host.regex if entry.host is not None else "[^ ]*"
    if entry.kind == "refuse":
        host = f"(?!{entry.allowed} )" + host
    excepts = ""
    if entry.excepts:
        excepts = "(?!(?:" + "|".join(entry.excepts) + ")(?:[?]|$))"
    scheme = entry.scheme or "[a-z]+"
    return f"^{_methods(entry)} {scheme} {host} {excepts}{variant.uri}$"


def render(plan: EdgePlan, skipped: list[str]) -> str:
    """The include's text; ``skipped`` are comments for rules ``--partial`` left out."""
    where = [
        "# Include it inside a server { } block, before any location:",
        "#     include redirects.nginx.conf;",
        "# Every answer was proven against the middleware's; edit the rule document and",
        "# export again rather than this file.",
    ]
    lines = [*heading("nginx", plan, skipped, where), "", _PREAMBLE]
    for label, entry in labelled(plan):
        if label is not None:
            lines.append(f"# {label}")
        for variant in entry.variants:
            lines.append(f"if ($rw_request ~ {_quoted(_regex(entry, variant))}) {{")
            lines.append(f"    set $rw_cache_control {_quoted(entry.cache_control)};")
            for name, value in entry.headers:
                lines.append(f"    set $rw_{name.lower()} {_quoted(value)};")
            match entry.kind:
                case "refuse":
                    lines.append('    return 400 "Host header not allowed\\n";')
                case "gone":
                    lines.append(f"    return {entry.status};")
                case "redirect":
                    location = _quoted(_location(variant.location))
                    lines.append(f"    return {entry.status} {location};")
                case _:
                    assert_never(entry.kind)
            lines.append("}")
    return "\n".join(lines) + "\n"
