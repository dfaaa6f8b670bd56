"""``redirectware export FORMAT FILE``: the same rules for an edge server."""

from __future__ import annotations

import sys
from pathlib import Path

from redirectware.ruleset import RuleSet
from redirectware.tools.exporting import cloudflare
from redirectware.tools.exporting.export import FORMATS, export
from redirectware.tools.exporting.plan import ExportError

__all__ = ["EXPORT_HELP", "FORMATS", "run_export"]

EXPORT_HELP = """\
Write the rules of FILE for an edge server, answering as the middleware does: the same
status for each method, the same Location (query included) and the same Cache-Control.
What the target cannot express (header, cookie or query conditions, maintenance, chains
the middleware collapses, ...) fails the export with FILE:LINE, the rule and why;
--partial writes the rest with a comment per rule left out.

exit status: 0 written, 1 something cannot be expressed (nothing written without
--partial), 2 usage error.

example:
  redirectware export nginx redirects.yaml -o /etc/nginx/redirects.conf
  redirectware export caddy redirects.yaml --partial -o redirects.caddy
  redirectware export cloudflare redirects.yaml -o bulk-redirects.csv
"""


def run_export(fmt: str, path: Path, output: str | None, partial: bool) -> int:
    """Export ``path`` to ``fmt``; the text goes to ``output`` (or stdout)."""
    ruleset = RuleSet.from_file(path)
    try:
        if fmt == "cloudflare":
            text, notes = cloudflare.export_csv(ruleset, partial)
            for note in notes:
                print(f"redirectware export: {note}", file=sys.stderr)
        else:
            text = export(ruleset, fmt, partial=partial)
    except ExportError as error:
        print(f"redirectware export: {error}", file=sys.stderr)
        print("  (--partial writes the rest, with a comment for each rule left out)",
              file=sys.stderr)  # fmt: skip
        return 1
    if output is None or output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
    return 0
