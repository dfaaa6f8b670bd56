"""The reference of the rule kinds and the kinds x surfaces table, written from the registry.

``python -m redirectware.kinds.reference > docs/kinds.md`` regenerates the page; a test
fails when the committed page differs from what the registry says, so the page cannot go
stale.
"""

from __future__ import annotations

from redirectware.kinds import ACTIONS, ENTRIES, OPTIONS, Kind, Refuses, Surface, Unsayable

#: The column headings of the table: short, so that the table fits a page.
_HEADINGS = {
    Surface.ASGI: "ASGI",
    Surface.WSGI: "WSGI",
    Surface.FLASK: "Flask",
    Surface.DJANGO: "Django",
    Surface.CHECK: "check",
    Surface.EXPLAIN: "explain",
    Surface.TESTS: "tests:",
    Surface.EXPORT_NGINX: "nginx",
    Surface.EXPORT_CADDY: "Caddy",
    Surface.EXPORT_APACHE: "Apache",
    Surface.EXPORT_CLOUDFLARE: "Cloudflare",
    Surface.EXPORT_NETLIFY: "Netlify",
    Surface.IMPORT_NETLIFY: "Netlify",
    Surface.IMPORT_VERCEL: "Vercel",
    Surface.IMPORT_NGINX: "nginx",
    Surface.IMPORT_APACHE: "Apache",
    Surface.IMPORT_CLOUDFLARE: "Cloudflare",
    Surface.IMPORT_DJANGO: "Django",
    Surface.IMPORT_WAGTAIL: "Wagtail",
    Surface.DJANGO_TABLE: "Django table",
    Surface.REPLAY: "replay",
    Surface.METRICS: "metrics",
    Surface.VERIFY: "verify",
    Surface.DIFF: "diff",
    Surface.HIT_COUNTS: "hit counts",
}


def _mark(kind: Kind, surface: Surface) -> str:
    support = kind.support(surface)
    if isinstance(support, Refuses):
        return "refused"
    if isinstance(support, Unsayable):
        return "-"
    return "yes"


def _table() -> list[str]:
    surfaces = list(Surface)
    groups = [
        ("", [s for s in surfaces if not (s.is_export or s.is_import)]),
        ("export ", [s for s in surfaces if s.is_export]),
        ("import ", [s for s in surfaces if s.is_import]),
    ]
    order = [surface for _, members in groups for surface in members]
    head = ["kind", *(prefix + _HEADINGS[s] for prefix, members in groups for s in members)]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for kind in ENTRIES:
        cells = [f"[`{kind.key}`](#{_anchor(kind)})", *(_mark(kind, s) for s in order)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _anchor(kind: Kind) -> str:
    """The anchor of the kind's heading, as Markdown renderers make it."""
    keep = "".join(c for c in kind.title.lower() if c.isalnum() or c in " -_")
    return keep.strip().replace(" ", "-")


def _section(kind: Kind) -> list[str]:
    lines = [f"### {kind.title}", "", kind.summary, ""]
    lines += ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    lines += [f"| `{k.name}` | {k.type} | {k.default} | {k.meaning} |" for k in kind.keys]
    lines += ["", "```yaml", kind.example.rstrip("\n"), "```", ""]
    refused = [(s, r) for s in Surface if (r := kind.refusal(s)) is not None]
    if refused:
        lines.append("Refused, with the rule's file, line and this reason:")
        lines += [f"- {s.value}: {reason}." for s, reason in refused]
        lines.append("")
    unsayable = [(s, kind.support(s)) for s in Surface if isinstance(kind.support(s), Unsayable)]
    if unsayable:
        lines.append("Not in the source format of:")
        lines += [f"- {s.value}: {getattr(u, 'reason', '')}." for s, u in unsayable]
        lines.append("")
    return lines


def render() -> str:
    """The whole page, as Markdown."""
    lines = [
        "# Rule kinds and where each one works",
        "",
        "Written by `python -m redirectware.kinds.reference` from the registry of rule kinds",
        "(`src/redirectware/kinds/`); `tests/test_matrix.py` runs every cell of this table,",
        "and a test fails when this page differs from what the registry says.",
        "",
        "A rule has exactly one **action** and any number of **options**. In the table,",
        "`yes` means the surface answers as the middleware does (for an export: Debian's",
        "nginx, Caddy and Apache were started with the export and gave the middleware's",
        "answers; for Cloudflare and Netlify, the exported file imported back answers the",
        "same), `refused` that the surface stops with the rule's file, line and a reason",
        "(below each kind), and `-` that the other tool's format has no way to say it.",
        "",
        *_table(),
        "",
        "## Actions",
        "",
    ]
    for kind in ACTIONS:
        lines += _section(kind)
    lines += ["## Options", ""]
    for kind in OPTIONS:
        lines += _section(kind)
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(render(), end="")
