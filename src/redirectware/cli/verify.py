"""``redirectware verify FILE BASE_URL``: does the live site answer as the rules say?"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from redirectware.engine.wording import plural
from redirectware.ruleset import RuleSet
from redirectware.tools.verify import Base, Options, Report, Unreachable, verify

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREACHABLE = 2


def _summary(report: Report) -> str:
    line = f"{report.checked} checked, {len(report.failures)} failed"
    skipped = sum(report.skipped.values())
    if skipped:
        line += f", {plural(skipped, 'request')} not sent"
    return line


def run_verify(path: Path, base_urls: Sequence[str], *, as_json: bool, options: Options) -> int:
    """Verify the site at ``base_urls`` against the document at ``path``; the exit status."""
    bases = [Base.parse(text) for text in base_urls]  # ValueError: a usage error
    ruleset = RuleSet.from_file(path)
    try:
        report = verify(ruleset, bases, options)
    except Unreachable as error:
        print(f"redirectware verify: error: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE
    if as_json:
        print(json.dumps({
            "checked": report.checked,
            "failed": len(report.failures),
            "failures": [asdict(failure) for failure in report.failures],
            "not_sent": report.skipped,
            "protocols": report.protocols,
        }, indent=2))  # fmt: skip
    else:
        for failure in report.failures:
            print(failure)
        for why, count in report.skipped.items():
            print(f"not sent: {count} {why}")
        if report.protocols:
            seen = sorted(report.protocols.items(), key=lambda item: -item[1])
            print("answered over " + ", ".join(f"{version} ({n})" for version, n in seen))
        print(_summary(report))
    return EXIT_OK if report.passed else EXIT_FAILED
