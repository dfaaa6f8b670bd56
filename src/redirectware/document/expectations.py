"""Reading a document's own ``tests:``: requests and the answers they must get.

::

    tests:
      - request: POST http://example.com/api/v1/orders?x=1
        headers: {Accept: application/json}     # optional
        client: 10.0.0.7                        # optional: the direct peer's address
        expect: {status: 308, location: https://example.com/api/v2/orders?x=1}
      - request: GET https://example.com/healthz
        expect: pass

:func:`parse_expectations` validates the list when the document loads (a malformed entry is a
:class:`RuleError` with its line). Running them is a tool's job:
:mod:`redirectware.tools.expectations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redirectware.document.probes import (
    Probe,
    ProbeError,
    make_probe,
    parse_header,
    parse_request_line,
)
from redirectware.document.sources import LineDict
from redirectware.errors import RuleError

TEST_KEYS = frozenset({"request", "headers", "client", "expect", "app"})
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
    #: ``app: not_found``: the app answers the request 404, so ``when: not_found`` rules
    #: apply; without it the app is taken to serve the URL.
    app_not_found: bool = False

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
    app = entry.get("app", "serves")
    if app not in ("serves", "not_found"):
        raise _fail(source, entry, index, "app", f"must be 'serves' or 'not_found', got {app!r}")
    return Expectation(
        index,
        line,
        source,
        probe,
        **_expect(entry["expect"], source, entry, index),
        app_not_found=app == "not_found",
    )


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
