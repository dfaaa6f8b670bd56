"""``redirectware verify``: a live site set against the rules.

The server tests start real sites on 127.0.0.1: the examples under uvicorn and gunicorn
(everything passes), sites that answer wrongly on purpose (a 301 to a POST, a target that
404s, a target that redirects again), and Debian's nginx with an export edited by hand; each
failure must be named and the exit status 1. A site that takes no connection exits 2.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from pathlib import Path

import pytest

from redirectware import RuleSet
from redirectware.tools.verify import (
    Answer,
    Base,
    Options,
    Report,
    Request,
    _Pace,
    judge,
    plan,
    soft_404,
)
from tests.matrix_cells import run_cli
from tests.verify_sites import SRC, Routes, middleware_site, scripted_site

ROOT = Path(__file__).resolve().parent.parent

DOCUMENT = """\
version: 1
settings:
  allowed_hosts: [example.com]
rules:
  - name: old-page
    from: /old
    to: /new
    permanent: true
  - name: api
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
    permanent: true
tests:
  - request: POST http://example.com/api/v1/orders
    expect: {status: 308, location: http://example.com/api/v2/orders}
  - request: GET http://example.com/new
    expect: pass
  - request: GET https://example.com/old
    expect: {status: 301, location: https://example.com/new}
  - request: GET http://example.com/old
    client: 10.0.0.1
    expect: {status: 301, location: /new}
"""


def _rules(folder: Path, text: str = DOCUMENT) -> Path:
    path = folder / "redirects.yaml"
    path.write_text(text)
    return path


def _verify(path: Path, *argv: str) -> tuple[int, dict[str, object], str]:
    status, out, err = run_cli("verify", str(path), *argv, "--json")
    return status, (json.loads(out) if out.strip() else {}), err


def _checks(found: dict[str, object]) -> set[tuple[str, str]]:
    failures = found["failures"]
    assert isinstance(failures, list)
    return {(failure["check"], failure["request"]) for failure in failures}


# --- what is sent, and how an answer is judged (no server) -------------------------------------


def test_the_plan_sends_the_documents_requests_once_and_says_what_it_leaves_out(
    tmp_path: Path,
) -> None:
    ruleset = RuleSet.from_file(_rules(tmp_path))
    report = Report()
    requests = plan(ruleset, {"http": Base.parse("http://127.0.0.1:1")}, Options(), report)
    urls = [request.url for request in requests]
    assert "http://example.com/api/v1/orders" in urls  # a tests: entry
    assert "http://example.com/api/v1/sample/path" in urls  # the api rule's sample
    assert "http://example.com/old" in urls  # the old-page rule's sample
    assert len(urls) == len(set(urls))
    assert all(not url.startswith("https:") for url in urls)
    assert report.skipped == {
        "tests: entries that name a client address": 1,
        "https:// requests (no https:// base URL given)": 2,  # the test and the sample are one
    }
    # Only a URL the document names leads to a target that must be there.
    concrete = {request.url: request.concrete for request in requests}
    assert concrete["http://example.com/old"] is True
    assert concrete["http://example.com/api/v1/sample/path"] is False


def test_host_from_base_sends_the_bases_host(tmp_path: Path) -> None:
    ruleset = RuleSet.from_file(_rules(tmp_path))
    options = Options(host_from_base=True)
    requests = plan(ruleset, {"http": Base.parse("http://127.0.0.1:1")}, options, Report())
    assert {request.host for request in requests} == {"127.0.0.1:1"}


def test_a_301_to_a_post_is_named_as_such(tmp_path: Path) -> None:
    ruleset = RuleSet.from_file(_rules(tmp_path))
    request = Request("http", "example.com", "/old", "", (), "here")
    decision = ruleset.resolve("POST", "http", "example.com", "/old")
    answer = Answer(301, {"location": "http://example.com/new"})
    [failure] = judge(request, "POST", answer, decision, None)
    assert failure.check == "post-method" and "308" in failure.message
    right = Answer(308, {"location": "/new", "cache-control": decision_cache(decision)})
    assert judge(request, "POST", right, decision, None) == []


def decision_cache(decision: object) -> str:
    headers = dict(getattr(decision, "headers", ()))
    value = headers["Cache-Control"]
    assert isinstance(value, str)
    return value


def test_headers_are_compared_as_the_engine_sends_them(tmp_path: Path) -> None:
    ruleset = RuleSet.from_file(_rules(tmp_path))
    request = Request("http", "example.com", "/old", "", (), "here")
    decision = ruleset.resolve("GET", "http", "example.com", "/old")
    answer = Answer(301, {"location": "http://example.com/new", "cache-control": "no-cache"})
    [failure] = judge(request, "GET", answer, decision, None)
    assert failure.check == "header" and "Cache-Control is 'no-cache'" in failure.message
    missing = Answer(301, {"location": "http://example.com/new"})
    [failure] = judge(request, "GET", missing, decision, None)
    assert "Cache-Control is missing" in failure.message


def test_a_redirect_where_the_document_lets_the_request_through_fails() -> None:
    ruleset = RuleSet.from_dict({"version": 1, "rules": [{"from": "/a", "to": "/b"}]})
    request = Request("http", "example.com", "/c", "", (), "here")
    decision = ruleset.resolve("GET", "http", "example.com", "/c")
    answer = Answer(301, {"location": "/d"})
    [failure] = judge(request, "GET", answer, decision, None)
    assert failure.check == "status" and "lets it through" in failure.message
    assert judge(request, "GET", Answer(200, {}), decision, None) == []


@pytest.mark.parametrize(
    ("body", "soft"),
    [
        (b"<html><title>Page not found</title><p>Sorry</p></html>", True),
        (b"<html><title>404 | Example</title></html>", True),
        (b"<h1>Not Found</h1><p>The requested URL was not found.</p>", True),
        (b"<html><title>The widget</title><p>Not found what you need? Ask.</p></html>", False),
        (b"<html><title>Orders</title></html>", False),
        (b'{"orders": []}', False),
    ],
)
def test_soft_404(body: bytes, soft: bool) -> None:
    assert soft_404(body) is soft


def test_the_pace_spaces_requests_by_the_rate() -> None:
    async def twenty() -> float:
        pace = _Pace(100.0)
        start = time.monotonic()
        await asyncio.gather(*(pace.wait() for _ in range(21)))
        return time.monotonic() - start

    assert asyncio.run(twenty()) >= 0.19  # 20 intervals of 10 ms after the first


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["ftp://127.0.0.1"], "is not a base URL"),
        (["http://127.0.0.1:1/some/path"], "a base URL has no path"),
        (["http://127.0.0.1:1", "http://127.0.0.1:2"], "at most one per scheme"),
        (["http://127.0.0.1:1", "--rate", "0"], "must be more than 0"),
        (["http://127.0.0.1:1", "--concurrency", "0"], "must be at least 1"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, argv: list[str], words: str) -> None:
    status, out, err = run_cli("verify", str(_rules(tmp_path)), *argv)
    assert status == 2 and words in err, (out, err)


def test_an_unreachable_site_exits_2_naming_it(tmp_path: Path) -> None:
    # Port 1 on 127.0.0.1: nothing listens there, so the connection is refused at once.
    status, out, err = run_cli("verify", str(_rules(tmp_path)), "http://127.0.0.1:1")
    assert status == 2, (out, err)
    assert "http://127.0.0.1:1 is unreachable" in err
    assert "checked" not in out


# --- real sites -------------------------------------------------------------------------------


@pytest.mark.servers
@pytest.mark.parametrize("server", ["uvicorn", "gunicorn"])
def test_the_middleware_passes_its_own_rules(tmp_path: Path, server: str) -> None:
    path = _rules(tmp_path)
    with middleware_site(path, tmp_path, server) as site:
        status, out, err = run_cli("verify", str(path), site.url)
    assert status == 0, out + err
    summary = re.fullmatch(r"(\d+) checked, 0 failed, 3 requests not sent", out.splitlines()[-1])
    assert summary is not None, out
    assert int(summary[1]) >= 8
    assert "not sent: 1 tests: entries that name a client address" in out


@pytest.mark.servers
@pytest.mark.parametrize(
    ("example", "command"),
    [
        ("fastapi_app", ["uvicorn", "app:app", "--fd", "{fd}", "--lifespan", "on"]),
        ("flask_app", ["gunicorn", "--bind", "fd://{fd}", "--workers", "1", "app:app"]),
    ],
)
def test_the_examples_pass(tmp_path: Path, example: str, command: list[str]) -> None:
    import sys

    from tests.servers import serve

    folder = tmp_path / example
    shutil.copytree(ROOT / "examples" / example, folder)
    argv = [sys.executable, "-m", *command]
    env = {"PYTHONPATH": f"{SRC}:{folder}"}
    with serve(argv, cwd=folder, env=env, ready_path="/healthz") as site:
        status, found, err = _verify(folder / "redirects.yaml", site.url)
    assert status == 0, (found, err)
    assert found["failed"] == 0
    checked = found["checked"]
    assert isinstance(checked, int) and checked >= 12  # the map's rows, their targets, ...


def _as_the_document_says(path: Path) -> Routes:
    """Routes that answer the document's redirects exactly as the engine does."""
    ruleset = RuleSet.from_file(path)
    routes: Routes = {}
    for target in ("/old", "/api/v1/orders", "/api/v1/sample/path"):
        for method in ("GET", "POST"):
            decision = ruleset.resolve(method, "http", "example.com", target)
            routes[(method, target)] = (decision.status, list(decision.headers), "")
    return routes


@pytest.mark.servers
def test_a_301_to_a_post_fails(tmp_path: Path) -> None:
    path = _rules(tmp_path)
    routes = _as_the_document_says(path)
    for target in ("/old", "/api/v1/orders"):
        status, headers, body = routes[("POST", target)]
        assert status == 308
        routes[("POST", target)] = (301, headers, body)
    with scripted_site(routes, tmp_path, "a 301 to a POST") as site:
        status, found, err = _verify(path, site.url)
    assert status == 1, (found, err)
    assert _checks(found) == {
        ("post-method", "POST http://example.com/api/v1/orders"),
        ("post-method", "POST http://example.com/old"),
    }


@pytest.mark.servers
def test_a_target_that_redirects_again_fails(tmp_path: Path) -> None:
    path = _rules(tmp_path)
    routes = _as_the_document_says(path)
    # The site sends /new on to /newer: the document's one hop became two.
    routes[("*", "/new")] = (301, [("Location", "http://example.com/newer")], "")
    with scripted_site(routes, tmp_path, "a second hop") as site:
        status, found, err = _verify(path, site.url)
    assert status == 1, (found, err)
    assert _checks(found) == {
        # The document lets /new through to the app (a tests: entry)...
        ("status", "GET http://example.com/new"),
        ("status", "POST http://example.com/new"),
        # ... and the redirect to it is a chain of two hops.
        ("chain", "GET http://example.com/old -> http://example.com/new"),
    }


@pytest.mark.servers
def test_a_target_that_404s_fails(tmp_path: Path) -> None:
    path = _rules(tmp_path)
    served = tmp_path / "served.yaml"
    # The site's app does not serve /new: the redirect to it leads nowhere.
    missing = (
        "tests:\n  - request: GET http://example.com/new\n    app: not_found\n    expect: pass"
    )
    served.write_text(DOCUMENT.replace("tests:", missing))
    with middleware_site(served, tmp_path) as site:
        status, found, err = _verify(path, site.url)
    assert status == 1, (found, err)
    assert _checks(found) == {("target", "GET http://example.com/old -> http://example.com/new")}
    failures = found["failures"]
    assert isinstance(failures, list) and "404" in failures[0]["message"]


@pytest.mark.servers
def test_a_chain_the_document_says_goes_on_passes(tmp_path: Path) -> None:
    text = DOCUMENT.replace("rules:\n", "rules:\n  - from: /new\n    to: /newer\n")
    text = text.replace("  - request: GET http://example.com/new\n    expect: pass\n", "")
    path = _rules(tmp_path, text)
    with middleware_site(path, tmp_path) as site:
        status, found, err = _verify(path, site.url)
    # The engine collapses the chain (one 301 to /newer), and /newer is there.
    assert status == 0, (found, err)


@pytest.mark.servers
def test_an_nginx_export_edited_by_hand_fails(tmp_path: Path) -> None:
    from tests.edge_servers import nginx

    path = _rules(tmp_path)
    status, exported, err = run_cli("export", "nginx", str(path))
    assert status == 0, err
    # A hand edit: the POST branch of the old-page rule answers 301 instead of 308.
    edited = exported.replace('return 308 "$scheme://$rw_netloc/new${rw0q}";',
                              'return 301 "$scheme://$rw_netloc/new${rw0q}";')  # fmt: skip
    assert edited != exported
    (tmp_path / "as-exported").mkdir()
    (tmp_path / "edited").mkdir()
    with nginx(exported, tmp_path / "as-exported") as site:
        status, found, err = _verify(path, site.url)
    assert status == 0, (found, err)
    with nginx(edited, tmp_path / "edited") as site:
        status, found, err = _verify(path, site.url)
    assert status == 1, (found, err)
    assert _checks(found) == {("post-method", "POST http://example.com/old")}


@pytest.mark.servers
def test_the_text_output_names_each_failure_and_sums_up(tmp_path: Path) -> None:
    path = _rules(tmp_path)
    routes = {("POST", "/api/v1/orders"): (302, [("location", "/api/v2/orders")], "")}
    with scripted_site(routes, tmp_path, "a 302 to one POST") as site:
        status, out, err = run_cli("verify", str(path), site.url, "--rate", "50")
    assert status == 1, err
    lines = out.splitlines()
    named = "POST http://example.com/api/v1/orders: post-method: answered 302 /api/v2/orders"
    assert any(line.startswith(f"{path}:") and named in line for line in lines), out
    assert lines[-1].split(", ")[1].endswith("failed") and " 0 failed" not in lines[-1]


@pytest.mark.servers
def test_an_https_base_url(tmp_path: Path) -> None:
    from tests.verify_sites import self_signed

    path = _rules(tmp_path)
    tls = self_signed(tmp_path, "example.com")
    with middleware_site(path, tmp_path, tls=tls) as site:
        assert site.url.startswith("https://")
        # The certificate is checked by default: a self-signed one is refused, and named.
        status, out, err = run_cli("verify", str(path), site.url)
        assert status == 2 and f"{site.url} is unreachable" in err, (out, err)
        assert "certificate" in err.lower(), err
        status, found, err = _verify(path, site.url, "--insecure")
    assert status == 0, (found, err)
    # Only the https:// requests went to the https:// base: the old page's test among them.
    checked = found["checked"]
    assert isinstance(checked, int) and checked >= 5
    assert found["not_sent"] == {
        "tests: entries that name a client address": 1,
        "http:// requests (no http:// base URL given)": 4,
    }


@pytest.mark.servers
def test_a_target_that_says_not_found_with_a_200_fails(tmp_path: Path) -> None:
    path = _rules(tmp_path)
    routes = _as_the_document_says(path)
    page = "<html><head><title>Page not found</title></head><body>Sorry.</body></html>"
    routes[("*", "/new")] = (200, [("Content-Type", "text/html")], page)
    with scripted_site(routes, tmp_path, "a soft 404") as site:
        status, found, err = _verify(path, site.url)
    assert status == 1, (found, err)
    assert _checks(found) == {("soft-404", "GET http://example.com/old -> http://example.com/new")}


@pytest.mark.servers
def test_it_asks_only_for_the_documents_urls_and_no_more_at_once_than_allowed(
    tmp_path: Path,
) -> None:
    from tests.verify_sites import watched_site

    rows = "\n".join(f"      - {{from: /old-{n}, to: /new-{n}}}" for n in range(12))
    path = _rules(tmp_path, f"version: 1\nrules:\n  - map:\n{rows}\n")
    with watched_site(tmp_path) as (site, seen):
        status, found, err = _verify(path, site.url, "--concurrency", "2", "--rate", "1000")
        assert status == 1, (found, err)  # the site answers 200 where the rows redirect
        lines = seen.read_text().splitlines()
    requested = {tuple(line.split()[1:]) for line in lines}
    assert requested == {(m, f"/old-{n}") for n in range(12) for m in ("GET", "POST")}
    most = max(int(line.split()[0]) for line in lines)
    assert most == 2, lines  # requests did overlap, and never more than two


def test_a_header_a_tests_entry_expects_is_compared_too(tmp_path: Path) -> None:
    text = """\
version: 1
rules:
  - maintenance: {enabled: true, retry_after: 600}
tests:
  - request: GET http://example.com/checkout
    expect: {status: 503, headers: {Retry-After: "600", cache-control: no-store}}
"""
    ruleset = RuleSet.from_file(_rules(tmp_path, text))
    [request] = [r for r in plan(ruleset, {"http": Base.parse("http://127.0.0.1:1")}, Options(),
                                 Report()) if r.origin.endswith("tests[0]")]  # fmt: skip
    assert request.expect_headers == ("Retry-After", "cache-control")
    decision = ruleset.resolve("GET", "http", "example.com", "/checkout")
    answer = Answer(503, {"retry-after": "60", "cache-control": "no-store"})
    failures = judge(request, "GET", answer, decision, None, request.expect_headers)
    assert [(f.check, f.message) for f in failures] == [
        ("header", "Retry-After is '60'; the document sends '600'")
    ]


_CADDY_TLS = """\
{{
    admin off
    auto_https off
}}
https://:{{port}} {{
    tls {cert} {key}
    import {folder}/redirects.caddy
    respond "app" 200
}}
"""


@pytest.mark.servers
def test_a_site_that_speaks_http2_is_checked_over_http2(tmp_path: Path) -> None:
    """Caddy (Debian's) serving `redirectware export caddy` over TLS offers HTTP/2 by ALPN:
    verify asks in it, as browsers and CDNs do, and the answers pass."""
    import sys

    from tests.edge_servers import CADDY
    from tests.servers import serve
    from tests.verify_sites import self_signed

    path = _rules(tmp_path)
    status, snippet, err = run_cli("export", "caddy", str(path))
    assert status == 0, err
    (tmp_path / "redirects.caddy").write_text(snippet)
    key, cert = self_signed(tmp_path, "example.com")
    template = _CADDY_TLS.format(cert=cert, key=key, folder=tmp_path)
    caddyfile = tmp_path / "Caddyfile"
    script = tmp_path / "start-caddy.py"
    script.write_text(
        "import os, sys\n"
        f"open({str(caddyfile)!r}, 'w').write({template!r}.replace('{{port}}', sys.argv[1]))\n"
        f"os.environ.update(HOME={str(tmp_path)!r}, XDG_DATA_HOME={str(tmp_path)!r}, "
        f"XDG_CONFIG_HOME={str(tmp_path)!r})\n"
        f"os.execv({CADDY!r}, [{CADDY!r}, 'run', '--config', {str(caddyfile)!r}, "
        "'--adapter', 'caddyfile'])\n"
    )
    with serve([sys.executable, str(script), "{port}"], scheme="https") as site:
        status, found, err = _verify(path, site.url, "--insecure")
    assert status == 0, (found, err)
    protocols = found["protocols"]
    assert isinstance(protocols, dict) and set(protocols) == {"HTTP/2"}, protocols
