"""``redirectware export FORMAT FILE``: the same rules for an edge server."""

from __future__ import annotations

import sys
from pathlib import Path

from redirectware.ruleset import RuleSet
from redirectware.tools.exporting.export import FORMATS, export_all
from redirectware.tools.exporting.plan import ExportError

__all__ = ["EXPORT_HELP", "FORMATS", "run_export"]

EXPORT_HELP = """\
Write the rules of FILE for an edge server, answering as the middleware does: the same
status for each method, the same Location (query included), Cache-Control, Sunset and
Deprecation. What the target cannot express (header, cookie or query conditions,
maintenance, chains of path rules the middleware collapses, ...) fails the export with
FILE:LINE, the rule, the key and why;
--partial writes the rest, lists each rule left out on stderr and in the file's header
(FILE:LINE: rule: key: why), and fails if that leaves out every rule.

exit status: 0 written, 1 something cannot be expressed (nothing written without
--partial, or nothing left to write with it), 2 usage error.

example:
  redirectware export nginx redirects.yaml -o /etc/nginx/redirects.conf
  redirectware export caddy redirects.yaml --partial -o redirects.caddy
  redirectware export cloudflare redirects.yaml -o bulk-redirects.csv
  redirectware export netlify redirects.yaml -o public/_redirects
"""


def run_export(fmt: str, path: Path, output: str | None, partial: bool) -> int:
    """Export ``path`` to ``fmt``; the text goes to ``output`` (or stdout).

    With ``partial``, every rule left out is listed on stderr (and in the file's header
    where the format has comments); an export that would leave out every rule fails.
    """
    ruleset = RuleSet.from_file(path)
    try:
        exported = export_all(ruleset, fmt, partial=partial)
    except ExportError as error:
        print(f"redirectware export: {error}", file=sys.stderr)
        print("  (--partial writes the rest, with a comment for each rule left out)",
              file=sys.stderr)  # fmt: skip
        return 1
    for note in exported.notes:
        print(f"redirectware export: {note}", file=sys.stderr)
    for problem in exported.left_out:
        print(f"redirectware export: left out: {problem}", file=sys.stderr)
    if exported.left_out and not exported.written:
        print(f"redirectware export: {fmt} can express none of the rules of {path}: nothing "
              "written", file=sys.stderr)  # fmt: skip
        return 1
    if output is None or output == "-":
        sys.stdout.write(exported.text)
    else:
        Path(output).write_text(exported.text, encoding="utf-8")
    return 0
