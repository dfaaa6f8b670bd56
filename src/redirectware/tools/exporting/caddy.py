"""A Caddyfile snippet (a ``route`` block) that answers as the middleware does.

Written for the traps of doing it by hand:

* Caddy's ``path`` matcher ignores case and matches the decoded path; the entries match
  ``{http.request.orig_uri}``, the target as the client sent it, with a case-sensitive
  ``vars_regexp``, and captures keep the request's own bytes, as the middleware's do;
* a capture named ``path`` would clash with Caddy's ``{path}``: every capture is read back as
  ``{http.regexp.rwN.rwN_name}``;
* ``redir`` takes its status as written, so GET/HEAD and the other methods are separate
  matchers: a 301 to a POST would let the client turn it into a GET.
"""

from __future__ import annotations

from redirectware.engine.exhaustive import assert_never

from .plan import SAFE_METHODS, EdgePlan, Entry, Part, Variant, heading, labelled

_VARIABLES = {
    "scheme": "{http.request.scheme}",
    "host": "{http.request.host}",
    "netloc": "{http.request.hostport}",
}


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _location(entry: Entry, parts: tuple[Part, ...]) -> str:
    name = f"rw{entry.rule.index}"
    host_names = entry.host.names if entry.host is not None else ()
    out: list[str] = []
    for kind, value in parts:
        match kind:
            case "text":
                out.append(value)
            case "capture":
                out.append(f"{{http.regexp.{name}{'h' if value in host_names else ''}.{value}}}")
            case "scheme" | "host" | "netloc":
                out.append(_VARIABLES[kind])
            case _:
                assert_never(kind)
    return "".join(out)


def _matcher(entry: Entry, variant: Variant, label: str) -> list[str]:
    name = f"rw{entry.rule.index}"
    lines = [f"\t@{label} {{"]
    if entry.other_methods:
        lines.append("\t\tnot method " + " ".join(SAFE_METHODS))
    elif entry.methods is not None:
        lines.append("\t\tmethod " + " ".join(entry.methods))
    if entry.scheme is not None:
        lines.append(f"\t\tprotocol {entry.scheme}")
    if entry.host is not None:
        # Hosts compare lower-cased, as the middleware's do. Not a vars_regexp: Caddy ORs
        # the lines of one vars_regexp, and the target is matched by one already.
        regex = _quoted(f"(?i)^{entry.host.regex}(?::[0-9]+)?$")
        lines.append(f"\t\theader_regexp {name}h Host {regex}")
    if entry.kind == "refuse":
        allowed = _quoted(f"(?i)^{entry.allowed}(?::[0-9]+)?$")
        lines.append(f"\t\tnot header_regexp Host {allowed}")
    if entry.excepts:
        excepts = "^(?:" + "|".join(entry.excepts) + ")(?:[?].*)?$"
        lines.append(f"\t\tnot vars_regexp {{http.request.orig_uri}} {_quoted(excepts)}")
    lines.append(f"\t\tvars_regexp {name} {{http.request.orig_uri}} {_quoted(f'^{variant.uri}$')}")
    lines.append("\t}")
    return lines


def render(plan: EdgePlan, skipped: list[str]) -> str:
    """The snippet's text; ``skipped`` are comments for rules ``--partial`` left out."""
    where = [
        "# Put it inside a site block (or 'import' it there), before what serves the site.",
        "# Every answer was proven against the middleware's; edit the rule document and",
        "# export again rather than this file.",
    ]
    lines = [*heading("caddy", plan, skipped, where), "route {"]
    for number, (label, entry) in enumerate(labelled(plan)):
        if label is not None:
            lines.append(f"\t# {label}")
        for count, variant in enumerate(entry.variants):
            label = f"rw{entry.rule.index}_{number}_{count}"
            lines += _matcher(entry, variant, label)
            lines.append(f"\troute @{label} {{")
            lines.append(f"\t\theader Cache-Control {_quoted(entry.cache_control)}")
            for name, value in entry.headers:
                lines.append(f"\t\theader {name} {_quoted(value)}")
            match entry.kind:
                case "refuse":
                    lines.append('\t\trespond "Host header not allowed" 400')
                case "gone":
                    lines.append(f"\t\trespond {entry.status}")
                case "redirect":
                    location = _quoted(_location(entry, variant.location))
                    lines.append(f"\t\tredir {location} {entry.status}")
                case _:
                    assert_never(entry.kind)
            lines.append("\t}")
    lines.append("}")
    return "\n".join(lines) + "\n"
