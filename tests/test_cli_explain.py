"""``redirectware explain`` run as the installed console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.console import run_cli, write

DOC = """\
version: 1
settings:
  allowed_hosts: [example.com]
  trusted_proxies: [10.0.0.0/8]
rules:
  - name: force-https
    https: true
    permanent: true
  - name: api-v1-moved
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
  - name: beta
    from: /app
    headers: {X-Beta: "1"}
    to: /beta/app
  - name: trial
    from: /trial
    to: /new-trial
    report_only: true
"""


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    """The rule document above, as a file."""
    return write(tmp_path, "redirects.yaml", DOC)


def _headers(out: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line[:40])


def test_get_and_post_on_the_same_url_get_302_and_307(doc: Path) -> None:
    url = "https://example.com/api/v1/orders?x=1"
    got = run_cli("explain", doc, "GET", url)
    posted = run_cli("explain", doc, "POST", url)
    assert (got.code, posted.code) == (0, 0), (got, posted)
    for run, method, status in (
        (got, "GET", "302 Found"),
        (posted, "POST", "307 Temporary Redirect"),
    ):
        lines = run.out.splitlines()
        assert lines[:4] == [
            f"{method} {url}",
            f"rule: rules[1] 'api-v1-moved' ({doc}:9)",
            "",
            f"HTTP/1.1 {status}",
        ]
        headers = _headers(run.out)
        assert headers["Location"] == "https://example.com/api/v2/orders?x=1"
        assert headers["Cache-Control"] == "no-store"
        assert int(headers["Content-Length"]) > 0


def test_a_collapsed_chain_shows_its_hops(doc: Path) -> None:
    run = run_cli("explain", doc, "POST", "http://example.com/api/v1/orders?x=1")
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines[:8] == [
        "POST http://example.com/api/v1/orders?x=1",
        f"rule: rules[0] 'force-https' ({doc}:6)",
        "hops (collapsed into one redirect):",
        "  1. http://example.com/api/v1/orders?x=1",
        f"     -> https://example.com/api/v1/orders?x=1  by rules[0] 'force-https' ({doc}:6), "
        "permanent",
        "  2. https://example.com/api/v1/orders?x=1",
        f"     -> https://example.com/api/v2/orders?x=1  by rules[1] 'api-v1-moved' ({doc}:9), "
        "temporary",
        "",
    ]
    # Temporary as a whole (one step was), and a POST: 307, never 302.
    assert lines[8] == "HTTP/1.1 307 Temporary Redirect"


def test_no_rule_matches(doc: Path) -> None:
    run = run_cli("explain", doc, "GET", "https://example.com/elsewhere")
    assert run.code == 0, run
    assert run.out == (
        "GET https://example.com/elsewhere\n"
        "no rule matches: the request passes through to the app.\n"
    )


def test_headers_and_client_are_part_of_the_request(doc: Path) -> None:
    without = run_cli("explain", doc, "GET", "https://example.com/app")
    assert "no rule matches" in without.out
    with_header = run_cli("explain", doc, "GET", "https://example.com/app", "-H", "X-Beta: 1")
    assert f"rule: rules[2] 'beta' ({doc}:12)" in with_header.out
    assert _headers(with_header.out)["Vary"] == "X-Beta"
    # From a trusted proxy, X-Forwarded-Proto says the client already used https.
    forwarded = ["-H", "X-Forwarded-Proto: https"]
    proxied = run_cli(
        "explain", doc, "GET", "http://example.com/", *forwarded, "--client", "10.1.2.3"
    )
    assert "no rule matches" in proxied.out
    untrusted = run_cli(
        "explain", doc, "GET", "http://example.com/", *forwarded, "--client", "192.0.2.9"
    )
    assert "HTTP/1.1 301 Moved Permanently" in untrusted.out


def test_report_only_says_what_would_have_been_sent(doc: Path) -> None:
    run = run_cli("explain", doc, "GET", "https://example.com/trial")
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines[1] == f"rule: rules[3] 'trial' ({doc}:16)"
    assert lines[2] == "report-only: nothing is sent; the request passes through to the app."
    assert "  HTTP/1.1 302 Found" in lines
    assert "  Location: https://example.com/new-trial" in lines


def test_json(doc: Path) -> None:
    run = run_cli(
        "explain", "--json", doc, "POST", "http://example.com/api/v1/o", "-H", "Accept: */*"
    )
    assert run.code == 0, run
    answer = json.loads(run.out)
    assert answer["outcome"] == "redirect"
    assert answer["status"] == 307
    assert answer["location"] == "https://example.com/api/v2/o"
    assert ["Location", "https://example.com/api/v2/o"] in answer["headers"]
    assert answer["rule"] == {"index": 0, "name": "force-https", "file": str(doc), "line": 6}
    assert [(hop["rule"]["name"], hop["permanent"]) for hop in answer["hops"]] == [
        ("force-https", True),
        ("api-v1-moved", False),
    ]
    assert answer["request"] == {
        "method": "POST",
        "url": "http://example.com/api/v1/o",
        "headers": {"accept": "*/*"},
        "client": None,
    }
    assert answer["report_only"] is False
    trial = json.loads(run_cli("explain", "--json", doc, "GET", "https://example.com/trial").out)
    assert (trial["outcome"], trial["report_only"]) == ("pass", True)
    assert trial["would"]["status"] == 302
    assert trial["would"]["location"] == "https://example.com/new-trial"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["GET", "/api/v1/x"],
            "'/api/v1/x' is not an absolute http(s) URL: write the scheme and host too, e.g. https://example.com/api/v1/x",
            id="no-scheme",
        ),
        pytest.param(
            ["GET", "ftp://example.com/x"],
            "'ftp://example.com/x' is not an absolute http(s) URL",
            id="not-http",
        ),
        pytest.param(
            ["GET", "https://example.com/", "-H", "X-Beta"],
            "header 'X-Beta' is not 'Name: value'",
            id="bad-header",
        ),
        pytest.param(
            ["GE T", "https://example.com/"], "'GE T' is not an HTTP method", id="bad-method"
        ),
        pytest.param(
            ["GET", "https://example.com/", "--client", "me"],
            "client 'me' is not an IP address",
            id="bad-client",
        ),
    ],
)
def test_bad_requests_are_usage_errors(doc: Path, args: list[str], message: str) -> None:
    run = run_cli("explain", doc, *args)
    assert run.code == 2, run
    assert run.err.startswith(f"redirectware explain: error: {message}"), run.err


def test_an_invalid_document_exits_1_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "redirects.yaml", "rules:\n  - from: /a\n    to: /b\n    status: 303\n")
    run = run_cli("explain", path, "GET", "https://example.com/a")
    assert run.code == 1, run
    assert run.err == (
        f"redirectware explain: invalid rule document: {path}:4: rules[0]: status: "
        "must be one of 301, 302, 307, 308; got 303\n"
    )


def test_a_400_for_the_host_says_which_host_and_which_setting(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "redirects.yaml",
        "version: 1\nsettings:\n  allowed_hosts: [example.com]\nrules:\n"
        "  - name: api\n    from: /api/v1/{rest:path}\n    to: /api/v2/{rest}\n",
    )
    reason = (
        "Host '127.0.0.1' is not in settings.allowed_hosts [example.com]: add '127.0.0.1' "
        "there, or send the request with an allowed Host"
    )
    run = run_cli("explain", path, "POST", "http://127.0.0.1:8000/api/v1/orders")
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines[:3] == [
        "POST http://127.0.0.1:8000/api/v1/orders",
        f"rule: rules[0] 'api' ({path}:5)",
        f"refused: {reason}",
    ]
    assert "HTTP/1.1 400 Bad Request" in lines
    answer = json.loads(
        run_cli("explain", "--json", path, "POST", "http://127.0.0.1:8000/api/v1/orders").out
    )
    assert answer["error"] == reason
