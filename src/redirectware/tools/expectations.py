"""Running a document's own ``tests:`` against the compiled rules.

:func:`run_expectations` asks the engine each request (parsed at load time by
:mod:`redirectware.document.expectations`) and returns what came back instead of what was
expected. ``redirectware check`` and :func:`redirectware.testing.check_expectations` both use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from redirectware.document.expectations import Expectation, parse_expectations
from redirectware.document.probes import Probe
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


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(scheme: str, netloc: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` with the scheme's default port spelled out."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return None
    return scheme.lower(), (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def same_location(expected: str, location: str | None, probe: Probe) -> bool:
    """Whether ``location`` is the place ``expected`` names.

    An absolute ``expected`` is compared exactly. One written as a path (``/api/v2?x=1``)
    means that path on the request's own scheme and host (its Host header when it has one),
    as a browser resolves it: ``http://example.com/api/v2?x=1`` for a request to
    ``http://example.com/...``, but not ``https://example.com/api/v2?x=1``.
    """
    if location is None:
        return False
    if not expected.startswith("/") or expected.startswith("//"):
        return location == expected
    got = urlsplit(location)
    own = _origin(probe.scheme, probe.headers.get("host", probe.host))
    if own is None or _origin(got.scheme, got.netloc) != own:
        return False
    rest = got.path + (f"?{got.query}" if got.query else "")
    rest += f"#{got.fragment}" if got.fragment else ""
    return rest == expected


def check_one(expectation: Expectation, ruleset: Engine, now: float | None = None) -> str | None:
    """None when the engine answers as expected, else what it answered instead."""
    decision = expectation.probe.resolve(ruleset, now)
    if expectation.app_not_found and decision.passes:
        decision = expectation.probe.resolve_not_found(ruleset)
    if expectation.passes:
        return None if decision.passes else _answer(decision)
    if decision.passes:
        return _answer(decision)
    if expectation.status is not None and decision.status != expectation.status:
        return _answer(decision)
    if expectation.location is not None and not same_location(
        expectation.location, decision.location, expectation.probe
    ):
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
