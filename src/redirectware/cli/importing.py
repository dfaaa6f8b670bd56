"""``redirectware import FORMAT SOURCE``: another tool's redirects as a rule document.

The document is written even when some source lines could not be translated (exit 1); the
loss report on stderr (and ``--report FILE`` as JSON) names each with file:line and why. The
written document is then loaded and its ``tests:`` run, so a translation that does not
answer as the source tool did never passes unnoticed.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from redirectware.errors import RuleError
from redirectware.ruleset import RuleSet
from redirectware.tools.expectations import expectations_of, run_expectations
from redirectware.tools.importing.formats import FORMATS as ALL_FORMATS
from redirectware.tools.importing.formats import import_file
from redirectware.tools.importing.result import ImportResult
from redirectware.tools.importing.writing import render

FORMATS = ALL_FORMATS

IMPORT_HELP = """\
Translate another tool's redirects into a rule document that answers as that tool did:
each rule with a comment naming its source line, a tests: entry per source rule pinning the
source tool's answer, long runs of exact moves as a CSV map beside the document. Lines that
cannot be translated faithfully are never dropped silently: each is reported on stderr
(and with --report as JSON) with FILE:LINE and why.

exit status: 0 everything translated, 1 something was not (the document is still
written), 2 usage error.

example:
  redirectware import netlify _redirects -o redirects.yaml
  redirectware import netlify netlify.toml --report losses.json
  redirectware import wagtail redirects.xlsx -o redirects.yaml   (needs redirectware[wagtail])
  redirectware import django dump.json --site-id 1 --append-slash on
"""


def write(result: ImportResult, output: str | None) -> Path | None:
    """Write the document (and its CSV maps) to ``output``, or print it; the path written."""
    if output is None or output == "-":
        sys.stdout.write(render(result).document)
        return None
    target = Path(output)
    written = render(result, map_stem=target.stem)
    target.write_text(written.document, encoding="utf-8")
    for name, text in written.maps:
        (target.parent / name).write_text(text, encoding="utf-8")
    return target


def verify(path: Path) -> list[str]:
    """Load the written document and run its tests: what failed (nothing, normally)."""
    try:
        ruleset = RuleSet.from_file(path)
    except RuleError as error:
        return [f"the translated document does not load: {error}"]
    return [str(failure) for failure in run_expectations(ruleset, expectations_of(ruleset))]


def report(result: ImportResult, report_file: str | None) -> None:
    """The loss report: stderr, and ``report_file`` as JSON."""
    for loss in result.losses:
        print(str(loss), file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    translated = len(result.items)
    print(f"redirectware import: {translated} rule(s) translated, {len(result.losses)} "
          f"line(s) not translated", file=sys.stderr)  # fmt: skip
    if report_file is not None:
        data = {"format": result.fmt, "source": result.source, "translated": translated,
                "not_translated": [loss.as_json() for loss in result.losses],
                "notes": result.notes}  # fmt: skip
        Path(report_file).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def run_import(
    fmt: str,
    source: Path,
    output: str | None,
    report_file: str | None,
    site_id: int | None = None,
    append_slash: bool = True,
) -> int:
    """Import ``source``; print or write the document; return the exit status.
    ``site_id`` and ``append_slash``: a Django project's settings (``django`` only)."""
    result = import_file(fmt, source, site_id=site_id, append_slash=append_slash)
    written = write(result, output)
    if written is None:
        with tempfile.TemporaryDirectory() as folder:
            failures = verify(write(result, str(Path(folder) / "imported.yaml")) or Path())
    else:
        failures = verify(written)
    report(result, report_file)
    for failure in failures:
        print(f"redirectware import: translation error: {failure}", file=sys.stderr)
    return 1 if result.losses or failures else 0


def translated_copy(fmt: str, source: Path, folder: Path) -> tuple[ImportResult, Path]:
    """For ``check --format``: the translated document, written in ``folder``."""
    result = import_file(fmt, source)
    path = write(result, str(folder / f"{source.name}.imported.yaml"))
    assert path is not None
    return result, path
