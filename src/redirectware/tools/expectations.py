"""Running a document's own ``tests:`` against the compiled rules.

:func:`run_expectations` asks the engine each request (parsed at load time by
:mod:`redirectware.document.expectations`) and returns what came back instead of what was
expected. ``redirectware check`` and :func:`redirectware.testing.check_expectations` both use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redirectware.document.expectations import Expectation, parse_expectations
from redirectware.engine.decision import Decision
from redirectware.engine.engine import Engine

__all__ = ["Expectation", "Failure", "check_one", "expectations_of", "run_expectations"]


@dataclass(frozen=True)
class Failure:
    """An expectation the engine did not meet, and what it answered instead."""

    expectation: Expectation
    got: str

    @property
    def line(self) -> int | None:
        """The line of the failed entry."""
        return self.expectation.line

    def __str__(self) -> str:
        exp = self.expectation
        return f"{exp.where}: {exp.probe.line}: expected {exp.describe()}, got {self.got}"


def _answer(decision: Decision) -> str:
    """What a request got, in words, naming the rule that decided."""
    rule = f" from {decision.rule.label}" if decision.rule is not None else ""
    if decision.passes:
        text = "pass through"
        if decision.would is not None:
            would = decision.would
            where = f" {would.location}" if would.location else ""
            text += f" (report-only: would get {would.status}{where}{rule})"
        elif decision.error is not None:
            text += f" ({decision.error})"
        return text
    where = f" {decision.location}" if decision.location else ""
    return f"{decision.status}{where}{rule}"


def check_one(expectation: Expectation, ruleset: Engine, now: float | None = None) -> str | None:
    """None when the engine answers as expected, else what it answered instead."""
    decision = expectation.probe.resolve(ruleset, now)
    if expectation.passes:
        return None if decision.passes else _answer(decision)
    if decision.passes:
        return _answer(decision)
    if expectation.status is not None and decision.status != expectation.status:
        return _answer(decision)
    if expectation.location is not None and decision.location != expectation.location:
        return _answer(decision)
    sent = {name.lower(): value for name, value in decision.headers}
    for name, value in expectation.headers:
        if sent.get(name.lower()) != value:
            got = sent.get(name.lower())
            return f"{_answer(decision)} with {name}: {got if got is not None else '(absent)'}"
    return None


def run_expectations(
    ruleset: Engine,
    expectations: Sequence[Expectation] | None = None,
    now: float | None = None,
) -> list[Failure]:
    """Every expectation of the document (or those given) that the engine does not meet."""
    if expectations is None:
        expectations = parse_expectations(list(ruleset.document.tests), ruleset.source)
    failures: list[Failure] = []
    for expectation in expectations:
        got = check_one(expectation, ruleset, now)
        if got is not None:
            failures.append(Failure(expectation, got))
    return failures


def expectations_of(ruleset: Engine) -> list[Expectation]:
    """The parsed ``tests:`` of a rule set's document."""
    return parse_expectations(list(ruleset.document.tests), ruleset.source)
