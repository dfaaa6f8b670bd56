"""``redirectware check FILE...``: errors, failed ``tests:`` and warnings, each with file:line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from redirectware.errors import RuleError
from redirectware.ruleset import RuleSet
from redirectware.tools.analysis import analyse
from redirectware.tools.expectations import expectations_of, run_expectations

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
    return FileResult(source, reports, len(ruleset.rules), len(expectations))


def _summary(result: FileResult) -> str:
    if not any(r.kind != "invalid" for r in result.reports) and not result.valid:
        return f"{result.file}: invalid"
    failed = sum(1 for r in result.reports if r.kind == "test-failed")
    warnings = sum(1 for r in result.reports if r.severity == WARNING)
    parts = [f"{result.rules} rule{'s' if result.rules != 1 else ''}"]
    if result.tests:
        parts.append(f"{result.tests - failed} of {result.tests} tests passed")
    else:
        parts.append("no tests")
    parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    verdict = "ok" if result.valid else "FAILED"
    return f"{result.file}: {verdict}: {', '.join(parts)}"


def run_check(paths: Sequence[Path], *, as_json: bool, strict: bool) -> int:
    """Check every document; print the findings; return the exit status."""
    results = [check_file(path) for path in paths]
    reports = [report for result in results for report in result.reports]
    if as_json:
        print(json.dumps([asdict(report) for report in reports], indent=2))
    else:
        # Errors first, then warnings, as an operator reads them: what blocks the deploy first.
        for severity in (ERROR, WARNING):
            for report in reports:
                if report.severity == severity:
                    print(report.text)
        for result in results:
            print(_summary(result))
    failed = any(not result.valid for result in results)
    warned = any(report.severity == WARNING for report in reports)
    return 1 if failed or (strict and warned) else 0
