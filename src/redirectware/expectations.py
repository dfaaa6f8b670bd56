"""A document's own ``tests:``: requests and the answers they must get.

::

    tests:
      - request: POST http://example.com/api/v1/orders?x=1
        headers: {Accept: application/json}     # optional
        client: 10.0.0.7                        # optional: the direct peer's address
        expect: {status: 308, location: https://example.com/api/v2/orders?x=1}
      - request: GET https://example.com/healthz
        expect: pass

:func:`parse_expectations` validates the list when the document loads (a malformed entry is a
:class:`RuleError` with its line); :func:`run_expectations` asks the engine each request and
returns what came back instead of what was expected. ``redirectware check`` and
:func:`redirectware.testing.check_expectations` both use these two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .decision import Decision
from .errors import RuleError
from .probes import Probe, ProbeError, make_probe, parse_header, parse_request_line
from .sources import LineDict

if TYPE_CHECKING:
    from .ruleset import RuleSet

TEST_KEYS = frozenset({"request", "headers", "client", "expect"})
EXPECT_KEYS = frozenset({"status", "location", "headers"})
PASS = "pass"


@dataclass(frozen=True)
class Expectation:
    """One entry of ``tests:``: a request and the answer it must get."""

    index: int
    line: int | None
    source: str | None
    probe: Probe
    #: True for ``expect: pass``: the request must reach the app.
    passes: bool
    status: int | None = None
    location: str | None = None
    #: Response headers that must be present with exactly these values.
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def where(self) -> str:
        """``redirects.yaml:31: tests[2]``: how messages name this entry."""
        place = self.source or "(dict)"
        if self.line is not None:
            place += f":{self.line}"
        return f"{place}: tests[{self.index}]"

    def describe(self) -> str:
        """What the entry expects, in words."""
        if self.passes:
            return "pass through"
        parts = [str(self.status)] if self.status is not None else []
        if self.location is not None:
            parts.append(self.location)
        parts.extend(f"{name}: {value}" for name, value in self.headers)
        return " ".join(parts)


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


def _fail(source: str | None, node: Any, index: int, key: str | None, message: str) -> RuleError:
    line = None
    if isinstance(node, LineDict):
        # "expect.status" stands on the line of "status" inside the expect mapping.
        line = node.line_of(key.rsplit(".", 1)[-1]) if key is not None else node.line
    where = f"tests[{index}]" + (f".{key}" if key else "")
    return RuleError(message, source=source, line=line, key=where)


def _expect(node: Any, source: str | None, entry: Any, index: int) -> dict[str, Any]:
    """The ``expect`` value as keyword arguments of :class:`Expectation`."""
    if node == PASS:
        return {"passes": True}
    if not isinstance(node, dict):
        raise _fail(
            source,
            entry,
            index,
            "expect",
            f"must be 'pass' or a mapping like {{status: 301, location: /new}}, got {node!r}",
        )
    at = node if isinstance(node, LineDict) else entry
    for key in node:
        if key not in EXPECT_KEYS:
            raise _fail(
                source,
                at,
                index,
                f"expect.{key}",
                f"unknown key; allowed: {', '.join(sorted(EXPECT_KEYS))}",
            )
    if "status" not in node and "location" not in node:
        raise _fail(source, entry, index, "expect", "give a status, a location, or both")
    status = node.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
    ):
        raise _fail(
            source, at, index, "expect.status", f"must be an HTTP status code, got {status!r}"
        )
    location = node.get("location")
    if location is not None and not isinstance(location, str):
        raise _fail(source, at, index, "expect.location", f"must be a URL, got {location!r}")
    headers = node.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in headers.values()
    ):
        raise _fail(
            source, at, index, "expect.headers", f"must map names to values, got {headers!r}"
        )
    return {
        "passes": False,
        "status": status,
        "location": location,
        "headers": tuple((str(n), str(v)) for n, v in headers.items()),
    }


def _entry(entry: Any, index: int, source: str | None) -> Expectation:
    if not isinstance(entry, dict):
        raise _fail(
            source,
            entry,
            index,
            None,
            f"must be a mapping with request and expect, got {entry!r}",
        )
    for key in entry:
        if key not in TEST_KEYS:
            raise _fail(
                source, entry, index, key, f"unknown key; allowed: {', '.join(sorted(TEST_KEYS))}"
            )
    for key in ("request", "expect"):
        if key not in entry:
            raise _fail(source, entry, index, None, f"needs {key}")
    request = entry["request"]
    if not isinstance(request, str):
        raise _fail(source, entry, index, "request", f"must be 'METHOD URL', got {request!r}")
    raw_headers = entry.get("headers", {})
    if not isinstance(raw_headers, dict):
        raise _fail(
            source, entry, index, "headers", f"must map names to values, got {raw_headers!r}"
        )
    client = entry.get("client")
    if client is not None and not isinstance(client, str):
        raise _fail(source, entry, index, "client", f"must be an IP address, got {client!r}")
    try:
        method, url = parse_request_line(request)
        headers = [parse_header(f"{name}: {value}") for name, value in raw_headers.items()]
        probe = make_probe(method, url, headers, client)
    except ProbeError as error:
        raise _fail(source, entry, index, error.part, str(error)) from None
    line = entry.line if isinstance(entry, LineDict) else None
    return Expectation(index, line, source, probe, **_expect(entry["expect"], source, entry, index))


def parse_expectations(tests: Any, source: str | None = None) -> list[Expectation]:
    """Validate a document's ``tests:`` list; :class:`RuleError` names the bad entry's line."""
    if tests is None:
        return []
    if not isinstance(tests, list):
        line = getattr(tests, "line", None)
        raise RuleError(
            f"must be a list of {{request, expect}} entries, got {tests!r}",
            source=source,
            line=line,
            key="tests",
        )
    return [_entry(entry, index, source) for index, entry in enumerate(tests)]


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


def check_one(expectation: Expectation, ruleset: RuleSet, now: float | None = None) -> str | None:
    """None when the engine answers as expected, else what it answered instead."""
    decision = expectation.probe.resolve(ruleset, now)
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
    ruleset: RuleSet,
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


def expectations_of(ruleset: RuleSet) -> list[Expectation]:
    """The parsed ``tests:`` of a rule set's document."""
    return parse_expectations(list(ruleset.document.tests), ruleset.source)
