"""Helpers for a project's own test suite: assert a rule document's ``tests:`` hold.

::

    from redirectware.testing import check_expectations

    def test_redirects() -> None:
        check_expectations("redirects.yaml")

The requests are answered by the same engine the middleware uses, so a passing test means
the deployed middleware answers the same (for the same document and settings).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .ruleset import RuleSet
from .tools.expectations import expectations_of, run_expectations

__all__ = ["check_expectations"]


def check_expectations(
    rules: RuleSet | str | os.PathLike[str] | Mapping[str, Any],
    *,
    now: float | None = None,
) -> int:
    """Run the document's ``tests:``; return how many passed.

    :param rules: what ``rules=`` accepts: a path, a document ``dict`` or a :class:`RuleSet`.
        An invalid document raises :class:`~redirectware.RuleError`.
    :param now: the time (seconds since the epoch) for ``active`` windows; default now.
    :raises AssertionError: listing every failed entry with its file:line and what came back
        instead, or when the document has no ``tests:`` at all (a check that checks nothing
        would pass silently forever).
    """
    ruleset = RuleSet.load(rules)
    expectations = expectations_of(ruleset)
    if not expectations:
        raise AssertionError(
            f"{ruleset.source or 'the rule document'} has no tests: add a tests: list of "
            "{request: 'GET https://example.com/old', expect: {status: 301, location: ...}}"
        )
    failures = run_expectations(ruleset, expectations, now)
    if failures:
        lines = [f"{len(failures)} of {len(expectations)} rule tests failed:"]
        lines += [f"  {failure}" for failure in failures]
        raise AssertionError("\n".join(lines))
    return len(expectations)
