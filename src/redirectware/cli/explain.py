"""``redirectware explain FILE METHOD URL``: what one request gets, and which rule decided."""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

from redirectware.document.probes import Probe, make_probe, parse_header
from redirectware.engine.decision import Decision
from redirectware.engine.model import Rule
from redirectware.kinds import ENTRIES
from redirectware.ruleset import RuleSet


def _rule_place(rule: Rule, source: str | None) -> str:
    where = source or "(dict)"
    if rule.line is not None:
        where += f":{rule.line}"
    return f"{rule.label} ({where})"


def _status_line(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}".rstrip()


def _answer_lines(decision: Decision) -> list[str]:
    return [
        _status_line(decision.status),
        *(f"{name}: {value}" for name, value in decision.headers),
    ]


def _hop_lines(decision: Decision, start: str, source: str | None) -> list[str]:
    if len(decision.hops) < 2:
        return []
    lines = ["hops (collapsed into one redirect):"]
    previous = start
    for number, hop in enumerate(decision.hops, 1):
        kind = "permanent" if hop.permanent else "temporary"
        lines.append(f"  {number}. {previous}")
        lines.append(f"     -> {hop.location}  by {_rule_place(hop.rule, source)}, {kind}")
        previous = hop.location
    return lines


def _matching_notes(rule: Rule) -> list[str]:
    """What the rule's kind and options add (case, slashes, a regex, ...): each kind's own
    wording, from the registry."""
    notes = (kind.explain(rule) for kind in ENTRIES if kind.explain is not None)
    return [note for note in notes if note is not None]


def _request_notes(rule: Rule, probe: Probe) -> list[str]:
    """What the rule's kind worked out from this request (a language negotiation)."""
    return [
        line
        for kind in ENTRIES
        if kind.explain_request is not None and kind.uses(rule)
        for line in kind.explain_request(rule, probe.headers)
    ]


def explain_text(probe: Probe, decision: Decision, source: str | None) -> str:
    """The human-readable explanation of ``decision`` for ``probe``."""
    lines = [probe.line]
    if decision.kind == "pass":
        if decision.would is not None:
            would = decision.would
            if would.rule is not None:
                lines.append(f"rule: {_rule_place(would.rule, source)}")
                lines += _matching_notes(would.rule)
            lines += _hop_lines(would, probe.url, source)
            lines.append("report-only: nothing is sent; the request passes through to the app.")
            lines.append("It would have got (and this is logged at INFO):")
            lines += ["", *("  " + line for line in _answer_lines(would))]
        elif decision.error is not None:
            lines.append(f"refused: {decision.error}")
            lines.append("The request passes through to the app; the refusal is logged at ERROR.")
        else:
            lines.append("no rule matches: the request passes through to the app.")
        if decision.headers:
            lines.append("The app's response gets these headers added:")
            lines += ["  " + f"{name}: {value}" for name, value in decision.headers]
        return "\n".join(lines)
    if decision.rule is not None:
        lines.append(f"rule: {_rule_place(decision.rule, source)}")
        lines += _matching_notes(decision.rule)
        lines += _request_notes(decision.rule, probe)
        if decision.error is not None:
            # A 400 the rule could not answer otherwise: say why, not only the status line.
            lines.append(f"refused: {decision.error}")
    elif decision.error is not None:
        lines.append(f"refused before any rule: {decision.error}")
    lines += _hop_lines(decision, probe.url, source)
    lines += ["", *_answer_lines(decision)]
    return "\n".join(lines)


def _rule_json(rule: Rule | None, source: str | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {"index": rule.index, "name": rule.name, "file": source, "line": rule.line}


def _decision_json(decision: Decision, source: str | None) -> dict[str, Any]:
    return {
        "outcome": decision.kind,
        "status": decision.status or None,
        "headers": [list(pair) for pair in decision.headers],
        "location": decision.location,
        "rule": _rule_json(decision.rule, source),
        "hops": [
            {
                "location": hop.location,
                "permanent": hop.permanent,
                "rule": _rule_json(hop.rule, source),
            }
            for hop in decision.hops
        ],
        "error": decision.error,
    }


def explain_json(probe: Probe, decision: Decision, source: str | None) -> dict[str, Any]:
    """The explanation as a JSON-ready object."""
    answer = _decision_json(decision, source)
    answer["request"] = {
        "method": probe.method,
        "url": probe.url,
        "headers": dict(probe.headers),
        "client": probe.client,
    }
    answer["report_only"] = decision.would is not None
    answer["would"] = None if decision.would is None else _decision_json(decision.would, source)
    return answer


def run_explain(
    path: Path,
    method: str,
    url: str,
    headers: Sequence[str],
    client: str | None,
    as_json: bool,
) -> int:
    """Load ``path``, ask the engine about one request, print the answer; return 0."""
    probe = make_probe(method, url, [parse_header(h) for h in headers], client)
    ruleset = RuleSet.from_file(path)
    decision = probe.resolve(ruleset)
    # A rule with when: not_found waits for the app's 404: say what it would answer then.
    after = probe.resolve_not_found(ruleset) if decision.passes else None
    if after is not None and after.passes:
        after = None
    if as_json:
        answer = explain_json(probe, decision, ruleset.source)
        answer["after_not_found"] = None if after is None else _decision_json(after, ruleset.source)
        print(json.dumps(answer, indent=2))
    else:
        text = explain_text(probe, decision, ruleset.source)
        if after is not None:
            waiting = explain_text(probe, after, ruleset.source).splitlines()[1:]
            text += "\n\nIf the app answers 404, a rule with when: not_found applies:\n"
            text += "\n".join(waiting)
        print(text)
    return 0
