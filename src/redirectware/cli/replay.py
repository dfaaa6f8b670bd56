"""``redirectware replay FILE --log ACCESS_LOG...``: real traffic through the rules, summed up."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from redirectware.ruleset import RuleSet
from redirectware.tools.accesslog import (
    AUTO,
    HOST,
    LogFormat,
    LogFormatError,
    decompressed,
    nginx_format,
)
from redirectware.tools.replay import (
    DEFAULT_MAX_GROUPS,
    DEFAULT_MAX_KEYS,
    Replay,
    ReplayReport,
)

from . import UsageError


class ProgressBar:
    """One line on stderr, rewritten in place: file, share read, lines, lines per second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.perf_counter()

    def __call__(self, name: str, done: int, size: int | None, lines: int) -> None:
        rate = lines / max(time.perf_counter() - self.started, 1e-9)
        share = f"{100 * done / size:3.0f}% " if size else ""
        self.stream.write(f"\r{name}: {share}{lines:,} lines, {rate:,.0f} lines/s ")
        self.stream.flush()

    def close(self) -> None:
        """Clear the line, so that the report starts on a clean one."""
        self.stream.write("\r\033[K")
        self.stream.flush()


def _default_host(ruleset: RuleSet, log_format: LogFormat, host: str | None) -> str | None:
    if host is not None or HOST in log_format.key_fields:
        return host
    exact = ruleset.settings.allowed_hosts.exact
    if len(exact) == 1:
        return next(iter(exact))
    raise UsageError(
        "the log lines name no host, and the document's allowed_hosts does not name exactly "
        "one: pass --host example.com (or log $host and give --format)"
    )


def run_replay(
    path: Path,
    logs: Sequence[str],
    *,
    as_json: bool,
    log_format: str | None,
    host: str | None,
    scheme: str,
    top: int,
    max_keys: int = DEFAULT_MAX_KEYS,
    max_groups: int = DEFAULT_MAX_GROUPS,
) -> int:
    """Replay ``logs`` through the document at ``path``; print the report; return 0."""
    ruleset = RuleSet.from_file(path)
    try:
        compiled = AUTO if log_format is None else nginx_format(log_format)
    except LogFormatError as error:
        raise UsageError(str(error)) from None
    files = [Path(name) for name in logs]
    for file in files:
        if not file.is_file():
            raise UsageError(f"{file}: no such log file")
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    replay = Replay(
        ruleset,
        compiled,
        host=_default_host(ruleset, compiled, host),
        scheme=scheme,
        max_keys=max_keys,
        max_groups=max_groups,
        progress=bar,
    )
    for file in files:
        with file.open("rb") as raw, decompressed(raw) as stream:
            replay.feed(str(file), stream, raw.tell, file.stat().st_size)
    report = replay.report()
    if bar is not None:
        bar.close()
    if as_json:
        print(json.dumps(report_json(report, ruleset.source, top), indent=2))
    else:
        print(report_text(report, ruleset.source, top))
    return 0


def _place(source: str | None, line: int | None) -> str:
    return f"{source or '(dict)'}" + (f":{line}" if line is not None else "")


def report_json(report: ReplayReport, source: str | None, top: int) -> dict[str, Any]:
    """The report as a JSON-ready object; lists cut to ``top`` entries (0: all)."""
    cut = slice(None) if top <= 0 else slice(top)
    return {
        "files": report.files,
        "lines": report.lines,
        "requests": report.requests,
        "unreadable_requests": report.unreadable,
        "malformed_lines": report.malformed,
        "malformed_examples": [vars(bad) for bad in report.malformed_shown],
        "seconds": round(report.seconds, 3),
        "rules": [
            {
                "rule": use.rule.short_name,
                "index": use.rule.index,
                "line": use.rule.line,
                "requests": use.requests,
                "statuses": {str(status): n for status, n in use.statuses.items()},
            }
            for use in report.rules
        ],
        "unreached": [
            {"rule": rule.short_name, "index": rule.index, "place": _place(source, rule.line)}
            for rule in report.unreached
        ],
        "not_found": [
            {"path": item.path, "requests": item.requests, "referers": dict(item.referers)}
            for item in report.not_found[cut]
        ],
        "not_found_paths": len(report.not_found),
        "disagreements": [vars(item) for item in report.disagreements[cut]],
        "disagreement_groups": len(report.disagreements),
        "dropped": report.dropped,
        "engine_errors": report.engine_errors,
    }


def _statuses(statuses: dict[int | str, int]) -> str:
    ordered = sorted(statuses.items(), key=lambda item: -item[1])
    return ", ".join(f"{status}: {n:,}" for status, n in ordered)


def report_text(report: ReplayReport, source: str | None, top: int) -> str:
    """The report for a person; each list cut to ``top`` entries (0: all)."""
    cut = slice(None) if top <= 0 else slice(top)
    rate = report.lines / max(report.seconds, 1e-9)
    lines = [
        f"replayed {report.lines:,} lines from {len(report.files)} file(s) in "
        f"{report.seconds:.1f} s ({rate:,.0f} lines/s): {report.requests:,} requests, "
        f"{report.malformed:,} malformed lines, {report.unreadable:,} unreadable request lines",
        "",
        "rules (requests each would answer now, by status):",
    ]
    lines += [
        f"  {use.rule.short_name} ({_place(source, use.rule.line)}): {use.requests:,}"
        f"  [{_statuses(use.statuses)}]"
        for use in report.rules
    ] or ["  (none)"]
    lines += ["", "rules no logged request reaches (candidates for deletion):"]
    lines += [
        f"  {rule.short_name} ({_place(source, rule.line)})" for rule in report.unreached
    ] or ["  (none)"]
    lines += ["", f"404s no rule covers ({len(report.not_found):,} paths, most frequent first):"]
    for item in report.not_found[cut]:
        referers = ", ".join(f"{ref} ({n:,})" for ref, n in item.referers[:3])
        lines.append(f"  {item.requests:>9,}  {item.path}  referrers: {referers or '-'}")
    if not report.not_found:
        lines.append("  (none)")
    lines += ["", f"the log and the document disagree ({len(report.disagreements):,} groups):"]
    for d in report.disagreements[cut]:
        now = "passes to the app" if d.now is None else f"gets {d.now} from {d.rule or '-'}"
        lines.append(
            f"  {d.requests:>9,}  {d.kind}: {d.method} {d.path}  logged {d.logged}, now {now}"
        )
    if not report.disagreements:
        lines.append("  (none)")
    if any(report.dropped.values()):
        lines += [
            "",
            "approximate: past --max-groups the lightest groups were dropped "
            f"({report.dropped['not_found']:,} 404 requests, "
            f"{report.dropped['disagreements']:,} disagreeing requests)",
        ]
    if report.malformed_shown:
        lines += ["", f"malformed lines ({report.malformed:,}; the first shown):"]
        lines += [f"  {m.file}:{m.line}: {m.reason}: {m.text}" for m in report.malformed_shown]
    if report.engine_errors:
        lines += ["", "the engine failed on (a bug: please report it):"]
        lines += [f"  {error}" for error in report.engine_errors]
    return "\n".join(lines)
