"""``redirectware check FILE...``: errors, failed ``tests:`` and warnings, each with file:line."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from redirectware._extras import missing_extra
from redirectware.cli import EXAMPLES
from redirectware.engine.wording import plural
from redirectware.errors import RuleError
from redirectware.ruleset import RuleSet
from redirectware.tools.analysis import analyse
from redirectware.tools.expectations import expectations_of, run_expectations
from redirectware.tools.foreign_syntax import FOREIGN_SYNTAX, foreign_findings

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Report:
    """One line of ``check`` output; ``--json`` prints a list of these as objects."""

    severity: str
    #: ``invalid``, ``test-failed``, or a warning kind (``chain``, ``shadowed``, ...).
    kind: str
    file: str
    line: int | None
    #: The rule's index in ``rules:`` (``tests:`` index for a failed test), when there is one.
    rule: int | None
    name: str | None
    message: str
    #: The whole line as the text output prints it.
    text: str


@dataclass(frozen=True)
class FileResult:
    """What checking one document found."""

    file: str
    reports: list[Report]
    rules: int = 0
    tests: int = 0
    #: Rules written with ``enabled: false``, counted apart (not in ``rules``).
    disabled: int = 0
    #: Each rule's first line, by index: where a summed-up group of warnings points.
    rule_lines: dict[int, int | None] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """True when the document loaded and every ``tests:`` entry passed."""
        return not any(report.severity == ERROR for report in self.reports)


def check_file(path: Path) -> FileResult:
    """Load one document and collect every error, failed test and warning about it."""
    source = str(path)
    try:
        ruleset = RuleSet.from_file(path)
    except RuleError as error:
        if missing_extra(error) is not None:
            raise  # not an invalid document: the command cannot run here (cli.main says why)
        report = Report(
            ERROR,
            "invalid",
            error.source or source,
            error.line,
            error.rule_index,
            error.rule_name,
            error.message,
            str(error),
        )
        return FileResult(source, [report])
    reports: list[Report] = []
    expectations = expectations_of(ruleset)
    for failure in run_expectations(ruleset, expectations):
        exp = failure.expectation
        reports.append(
            Report(
                ERROR,
                "test-failed",
                source,
                exp.line,
                exp.index,
                None,
                f"{exp.probe.line}: expected {exp.describe()}, got {failure.got}",
                str(failure),
            )
        )
    for foreign in foreign_findings(ruleset.document):
        reports.append(
            Report(
                ERROR if foreign.error else WARNING,
                FOREIGN_SYNTAX,
                foreign.source or source,
                foreign.line,
                foreign.rule.index,
                foreign.rule.name,
                foreign.message,
                str(foreign),
            )
        )
    for finding in analyse(ruleset):
        reports.append(
            Report(
                WARNING,
                finding.kind,
                finding.source or source,
                finding.line,
                finding.rule.index,
                finding.rule.name,
                finding.message,
                str(finding),
            )
        )
    return FileResult(
        source,
        reports,
        len(ruleset.rules),
        len(expectations),
        ruleset.document.disabled,
        {rule.index: rule.line for rule in ruleset.rules},
    )


def _summary(result: FileResult) -> str:
    if not any(r.kind != "invalid" for r in result.reports) and not result.valid:
        return f"{result.file}: invalid"
    failed = sum(1 for r in result.reports if r.kind == "test-failed")
    warnings = sum(1 for r in result.reports if r.severity == WARNING)
    parts = [plural(result.rules + result.disabled, "rule")]
    if result.disabled:
        parts[0] += f" ({result.disabled} disabled)"
    if result.tests:
        parts.append(f"{result.tests - failed} of {plural(result.tests, 'test')} passed")
    else:
        parts.append("no tests")
    parts.append(plural(warnings, "warning"))
    verdict = "ok" if result.valid else "FAILED"
    return f"{result.file}: {verdict}: {', '.join(parts)}"


# A rule with more than EXAMPLES warnings of one kind gets one summary line and EXAMPLES
# examples: 5,000 map rows chaining into one template must not print 5,000 lines.


def warning_lines(result: FileResult, *, verbose: bool = False) -> list[str]:
    """The text of ``result``'s warnings, grouped per rule and kind.

    A group of at most ``EXAMPLES`` warnings is printed whole; a bigger one as a line at the
    rule's own line with the count, its first ``EXAMPLES`` warnings indented below it, and
    how to see the rest. ``verbose`` prints every warning, one per line, as ``--json`` keeps
    them.
    """
    warnings = [report for report in result.reports if report.severity == WARNING]
    if verbose:
        return [report.text for report in warnings]
    groups: dict[tuple[int | None, str], list[Report]] = {}
    for report in warnings:
        groups.setdefault((report.rule, report.kind), []).append(report)
    lines: list[str] = []
    for (index, kind), group in groups.items():
        if len(group) <= EXAMPLES:
            lines += [report.text for report in group]
            continue
        line = None if index is None else result.rule_lines.get(index)
        place = result.file if line is None else f"{result.file}:{line}"
        rule = "" if index is None else f"rules[{index}]"
        if group[0].name is not None:
            rule += f" {group[0].name!r}"
        lines.append(
            f"{place}: warning: {rule}: {kind}: {len(group)} warnings, the first {EXAMPLES}:"
        )
        lines += ["  " + report.text for report in group[:EXAMPLES]]
        lines.append(
            f"  ... and {len(group) - EXAMPLES} more (--verbose prints them all, --json too)"
        )
    return lines


def run_check(paths: Sequence[Path], *, as_json: bool, strict: bool, verbose: bool = False) -> int:
    """Check every document; print the findings; return the exit status."""
    return _print_results(
        [check_file(path) for path in paths], as_json=as_json, strict=strict, verbose=verbose
    )


def _print_results(
    results: Sequence[FileResult], *, as_json: bool, strict: bool, verbose: bool
) -> int:
    """Print what checking found (``--json``: one list of reports); the exit status."""
    reports = [report for result in results for report in result.reports]
    if as_json:
        print(json.dumps([asdict(report) for report in reports], indent=2))
    else:
        # Errors first, then warnings, as an operator reads them: what blocks the deploy first.
        for report in reports:
            if report.severity == ERROR:
                print(report.text)
        for result in results:
            for line in warning_lines(result, verbose=verbose):
                print(line)
        for result in results:
            print(_summary(result))
    failed = any(not result.valid for result in results)
    warned = any(report.severity == WARNING for report in reports)
    return 1 if failed or (strict and warned) else 0


#: The kind of a ``check --format`` error for a source line the translation loses.
NOT_TRANSLATED = "not-translated"


def run_check_imported(
    fmt: str, sources: Sequence[Path], *, as_json: bool, strict: bool, verbose: bool = False
) -> int:
    """``check --format FORMAT SOURCE...``: what is wrong with the redirects of another
    tool today. Each source is translated as ``redirectware import`` would (nothing is
    saved) and the translation checked like any document (its tests:, loops, chains,
    shadowing). A source line the translation loses is an error, named with its file:line
    and why: the check fails (exit 1) whenever ``import`` would report a loss, so that a CI
    gate built on it never passes over a redirect that would stop working."""
    from .importing import translated_copy

    results: list[FileResult] = []
    with tempfile.TemporaryDirectory(prefix="redirectware-check-") as folder:
        for source in sources:
            imported, path = translated_copy(fmt, source, Path(folder))
            if not as_json:
                for note in imported.notes:
                    print(f"note: {note}")
                print(f"{source}: checked as translated to {path.name} (not saved; "
                      f"'redirectware import {fmt}' writes it)")  # fmt: skip
            checked = check_file(path)
            losses = [
                Report(
                    ERROR,
                    NOT_TRANSLATED,
                    loss.source,
                    loss.line,
                    None,
                    None,
                    f"not translated: {loss.why}: {loss.text.strip()}",
                    f"{loss.source}:{loss.line}: error: not translated: {loss.why}: "
                    f"{loss.text.strip()}",
                )
                for loss in imported.losses
            ]
            results.append(dataclasses.replace(checked, reports=losses + checked.reports))
        return _print_results(results, as_json=as_json, strict=strict, verbose=verbose)
