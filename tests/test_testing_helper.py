"""``redirectware.testing.check_expectations``: what a project's own pytest suite calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from redirectware import RuleError, RuleSet
from redirectware.testing import check_expectations
from tests.console import run_cli, write

RULES: list[dict[str, Any]] = [
    {"name": "force-https", "https": True, "permanent": True, "except": ["/healthz"]},
    {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}", "permanent": True},
    {"name": "down", "from": "/shop/{x:path}", "maintenance": {"retry_after": 60}},
]
PASSING: list[dict[str, Any]] = [
    {
        "request": "POST http://example.com/api/v1/orders?x=1",
        "expect": {"status": 308, "location": "https://example.com/api/v2/orders?x=1"},
    },
    {"request": "GET http://example.com/healthz", "expect": "pass"},
    {
        "request": "GET https://example.com/shop/cart",
        "expect": {"status": 503, "headers": {"Retry-After": "60"}},
    },
    {
        "request": "GET http://example.com/café",
        "expect": {"location": "https://example.com/caf%C3%A9"},
    },
    {
        # From a trusted proxy that terminated TLS: no https redirect.
        "request": "GET http://example.com/",
        "headers": {"X-Forwarded-Proto": "https"},
        "client": "10.0.0.1",
        "expect": "pass",
    },
]


def _document(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"settings": {"trusted_proxies": ["10.0.0.0/8"]}, "rules": RULES, "tests": tests}


def test_passing_tests_return_their_count() -> None:
    assert check_expectations(_document(PASSING)) == len(PASSING)
    assert check_expectations(RuleSet.from_dict(_document(PASSING))) == len(PASSING)


def test_every_failure_is_listed_with_what_came_back(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "redirects.yaml",
        """\
rules:
  - {name: api, from: "/api/v1/{rest:path}", to: "/api/v2/{rest}"}
tests:
  - request: POST http://example.com/api/v1/a
    expect: {status: 308}
  - request: GET http://example.com/ok
    expect: pass
  - request: GET http://example.com/api/v1/b
    expect: {location: http://example.com/api/v3/b}
  - request: GET http://example.com/api/v1/c
    headers: {Accept: application/json}
    expect: {status: 302, headers: {Content-Type: text/html; charset=utf-8}}
""",
    )
    with pytest.raises(AssertionError) as raised:
        check_expectations(path)
    assert str(raised.value).splitlines() == [
        "3 of 4 rule tests failed:",
        f"  {path}:4: tests[0]: POST http://example.com/api/v1/a: expected 308, "
        "got 307 http://example.com/api/v2/a from rules[0] 'api'",
        f"  {path}:8: tests[2]: GET http://example.com/api/v1/b: expected "
        "http://example.com/api/v3/b, got 302 http://example.com/api/v2/b from rules[0] 'api'",
        f"  {path}:10: tests[3]: GET http://example.com/api/v1/c: expected 302 "
        "Content-Type: text/html; charset=utf-8, got 302 http://example.com/api/v2/c from "
        "rules[0] 'api' with Content-Type: application/json",
    ]


def test_report_only_rules_pass_through_and_say_what_they_would_do() -> None:
    document = {
        "settings": {"report_only": True},
        "rules": [{"name": "old", "from": "/old", "to": "/new"}],
        "tests": [{"request": "GET http://example.com/old", "expect": {"status": 302}}],
    }
    with pytest.raises(AssertionError, match=r"got pass through \(report-only: would get 302 "):
        check_expectations(document)


def test_a_document_without_tests_is_a_failure_not_a_silent_pass() -> None:
    with pytest.raises(AssertionError, match="has no tests: add a tests: list"):
        check_expectations({"rules": RULES})


def test_a_malformed_entry_fails_the_load() -> None:
    entry = {"request": "GET http://a.b/", "expect": "pass"}
    with pytest.raises(RuleError, match=r"tests\[0\]\.client: must be an IP address"):
        RuleSet.from_dict({"rules": RULES, "tests": [{**entry, "client": 1}]})
    with pytest.raises(RuleError, match=r"tests\[0\]\.client: client 'me' is not an IP address"):
        RuleSet.from_dict({"rules": RULES, "tests": [{**entry, "client": "me"}]})
    with pytest.raises(RuleError, match=r"tests\[0\]\.headers: header 'X A: 1' is not"):
        RuleSet.from_dict({"rules": RULES, "tests": [{**entry, "headers": {"X A": "1"}}]})


PATH_LOCATIONS = """\
rules:
  - {name: api, from: "/api/v1/{rest:path}", to: "/api/v2/{rest}", permanent: true}
  - {name: secure, from: /login, https: true}
  - {name: elsewhere, from: /partners, to: "https://partners.example.net/"}
tests:
  - request: POST http://example.com/api/v1/orders?x=1
    expect: {status: 308, location: /api/v2/orders?x=1}
  - request: GET http://example.com:8000/api/v1/a
    expect: {location: /api/v2/a}
  - request: GET http://ignored.example/api/v1/a
    headers: {Host: "Example.com:80"}
    expect: {location: /api/v2/a}
  - request: GET https://example.com:443/api/v1/b
    expect: {location: "https://example.com/api/v2/b"}
"""


def test_a_location_written_as_a_path_is_on_the_requests_own_scheme_and_host(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "redirects.yaml", PATH_LOCATIONS)
    assert check_expectations(path) == 4


@pytest.mark.parametrize(
    ("request_line", "location", "got"),
    [
        # Another scheme: an https redirect is not "the same path here".
        ("GET http://example.com/login", "/login", "302 https://example.com/login"),
        # Another host.
        ("GET http://example.com/partners", "/", "302 https://partners.example.net/"),
        # The query is part of the place.
        ("GET http://example.com/api/v1/a?x=1", "/api/v2/a", "301 http://example.com/api/v2/a?x=1"),
        # Absolute expectations are compared exactly, as before.
        (
            "GET http://example.com/api/v1/a",
            "http://example.com:80/api/v2/a",
            "301 http://example.com/api/v2/a",
        ),
    ],
)
def test_a_path_location_still_fails_when_the_place_differs(
    tmp_path: Path, request_line: str, location: str, got: str
) -> None:
    rules = PATH_LOCATIONS.split("tests:")[0]
    text = f"{rules}tests:\n  - request: {request_line}\n    expect: {{location: {location!r}}}\n"
    path = write(tmp_path, "redirects.yaml", text)
    with pytest.raises(AssertionError) as caught:
        check_expectations(path)
    assert f"got {got} from rules[" in str(caught.value), str(caught.value)
    run = run_cli("check", path)
    assert run.code == 1
    assert f"got {got} from rules[" in run.out
