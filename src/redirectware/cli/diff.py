"""``redirectware diff OLD NEW [--log ACCESS_LOG...]``: the requests whose answer a change of
rules changes."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from redirectware._extras import missing_extra
from redirectware.errors import RuleError
from redirectware.ruleset import RuleSet
from redirectware.tools.accesslog import AUTO, HOST, LogFormatError, decompressed, nginx_format
from redirectware.tools.diff import Answer, Change, DiffReport, change_json, diff

from . import EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError


def _load(path: Path) -> RuleSet | str:
    """The document, or ``check``'s message for it when it is invalid."""
    try:
        return RuleSet.from_file(path)
    except RuleError as error:
        if missing_extra(error) is not None:
            raise  # not invalid: this installation cannot load it (cli.main says what to do)
        return str(error)


def _host(old: RuleSet, new: RuleSet, host: str | None, logs_name_host: bool) -> str | None:
    """The Host of log lines that name none: ``--host``, else the one exact name in the
    documents' ``allowed_hosts`` (the new one's first)."""
    if host is not None or logs_name_host:
        return host
    for ruleset in (new, old):
        exact = ruleset.settings.allowed_hosts.exact
        if len(exact) == 1:
            return next(iter(exact))
    raise UsageError(
        "the log lines name no host, and neither document's allowed_hosts names exactly one: "
        "pass --host example.com (or log $host and give --format)"
    )


@contextlib.contextmanager
def _opened(files: Sequence[Path]) -> Iterator[Iterator[tuple[str, BinaryIO]]]:
    """The logs, each opened (and decompressed) only while it is read."""
    stack = contextlib.ExitStack()

    def streams() -> Iterator[tuple[str, BinaryIO]]:
        for file in files:
            raw = stack.enter_context(file.open("rb"))
            yield str(file), stack.enter_context(decompressed(raw))
            stack.close()

    with stack:
        yield streams()


def run_diff(
    old_path: Path,
    new_path: Path,
    logs: Sequence[str],
    *,
    as_json: bool,
    host: str | None,
    log_format: str | None = None,
    scheme: str = "https",
) -> int:
    """Print what changes from ``old_path`` to ``new_path``; 0 nothing, 1 something, 2 an
    invalid document or a usage error."""
    loaded = [_load(old_path), _load(new_path)]
    for result in loaded:
        if isinstance(result, str):
            # An invalid document is a usage error here: there is no answer to compare.
            print(f"redirectware diff: invalid rule document: {result}", file=sys.stderr)
            return EXIT_USAGE
    old, new = loaded
    assert isinstance(old, RuleSet) and isinstance(new, RuleSet)
    try:
        compiled = AUTO if log_format is None else nginx_format(log_format)
    except LogFormatError as error:
        raise UsageError(str(error)) from None
    files = [Path(name) for name in logs]
    for file in files:
        if not file.is_file():
            raise UsageError(f"{file}: no such log file")
    log_host = _host(old, new, host, HOST in compiled.key_fields) if files else host
    with _opened(files) as streams:
        report = diff(old, new, streams, log_format=compiled, host=log_host, scheme=scheme)
    if as_json:
        print(json.dumps(report_json(report, bool(files)), indent=2))
    else:
        print(report_text(report, old.source, new.source, bool(files)))
    return EXIT_INVALID if report.changes else EXIT_OK


def summary(report: DiffReport) -> str:
    """``3 requests change answer, 1,204 logged hits``."""
    count = len(report.changes)
    noun = "request changes" if count == 1 else "requests change"
    return f"{count:,} {noun} answer, {report.hits:,} logged hits"


def report_json(report: DiffReport, with_logs: bool) -> dict[str, object]:
    """The report as one JSON document: ``changed`` and ``summary``."""
    return {
        "changed": [change_json(change) for change in report.changes],
        "summary": {
            "text": summary(report),
            "requests": len(report.changes),
            "hits": report.hits,
            "judged": report.requests,
            "rules": len(report.groups),
            **(
                {
                    "logged_lines": report.logged_lines,
                    "malformed_lines": report.malformed,
                    "dropped_hits": report.dropped,
                }
                if with_logs
                else {}
            ),
        },
    }


def _side(answered: Answer, source: str | None) -> str:
    if answered.rule is None:
        return answered.text
    place = f"{source or '(dict)'}" + (f":{answered.line}" if answered.line is not None else "")
    return f"{answered.text} [{answered.rule}, {place}]"


def _line(change: Change, old: str | None, new: str | None, with_logs: bool) -> str:
    noun = "hit" if change.hits == 1 else "hits"
    hits = f"  ({change.hits:,} {noun})" if with_logs else ""
    return f"  {change.request.line}: {_side(change.old, old)} -> {_side(change.new, new)}{hits}"


def report_text(report: DiffReport, old: str | None, new: str | None, with_logs: bool) -> str:
    """The report for a person: a heading per rule, a line per changed request, a summary."""
    lines: list[str] = []
    for rule, changes in report.groups:
        hits = sum(change.hits for change in changes)
        counted = f", {hits:,} logged hits" if with_logs else ""
        noun = "request" if len(changes) == 1 else "requests"
        lines.append(f"{rule}: {len(changes):,} {noun}{counted}")
        lines += [_line(change, old, new, with_logs) for change in changes]
        lines.append("")
    if with_logs and report.dropped:
        lines.append(
            f"approximate: past the table bound the lightest changed requests were dropped "
            f"({report.dropped:,} logged hits)"
        )
    if report.engine_errors:
        lines.append("the engine failed on (a bug: please report it):")
        lines += [f"  {error}" for error in report.engine_errors]
    lines.append(summary(report))
    return "\n".join(lines)
