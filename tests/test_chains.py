"""Chains that never end are loops: refused at run time, and a load error where a sample shows it.

A rule that re-matches its own output and makes it longer (``/shop/{p:path}`` to
``/shop/{p}/``) would send ``/shop/a`` to ``/shop/a/``, then ``/shop/a//`` and so on, each URL
new: no "seen before" check catches it. The engine refuses such a chain, and one that is still
going at the hop limit, with a structured :class:`~redirectware.engine.decision.Refusal`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from redirectware import RedirectMiddleware, RuleError, RuleSet
from redirectware.document.loading import load_source
from redirectware.engine.engine import MAX_HOPS, Engine
from tests.cases import DOCS_MOVES
from tests.conftest import echo_asgi_app
from tests.console import run_cli, write

GROWING = {"version": 1, "rules": [{"name": "shop", "from": "/shop/{p:path}", "to": "/shop/{p}/"}]}
#: MAX_HOPS + 2 literal rules, each to the next: no cycle, no growth, just too long.
LONG_RULES = [{"from": f"/h{n}", "to": f"/h{n + 1}"} for n in range(MAX_HOPS + 2)]
LONG = {"version": 1, "rules": LONG_RULES}


def unchecked(document: dict[str, Any]) -> RuleSet:
    """A RuleSet built without the load-time loop check: what the run-time guard sees when a
    loop needs something no sample request has (a header, a time window)."""
    ruleset = RuleSet.__new__(RuleSet)
    Engine.__init__(ruleset, load_source(document))
    return ruleset


def test_a_growing_chain_is_refused_at_run_time() -> None:
    decision = unchecked(GROWING).resolve("GET", "http", "example.com", "/shop/a")
    assert decision.passes
    assert decision.refused is not None
    assert decision.refused.kind == "loop"
    assert decision.refused.how == "grows the URL"
    assert decision.refused.urls[:3] == (
        "http://example.com/shop/a",
        "http://example.com/shop/a/",
        "http://example.com/shop/a//",
    )
    assert decision.error == f"rules[0] 'shop': {decision.refused.message}"


def test_a_chain_still_going_at_the_hop_limit_is_refused() -> None:
    decision = unchecked(LONG).resolve("POST", "http", "example.com", "/h0")
    assert decision.passes
    assert decision.refused is not None
    assert (decision.refused.kind, decision.refused.how) == ("loop", "never ends")
    assert len(decision.refused.urls) == MAX_HOPS + 1


def test_a_chain_just_under_the_limit_is_one_redirect() -> None:
    rules = {"version": 1, "rules": LONG_RULES[: MAX_HOPS - 1]}
    decision = RuleSet.from_dict(rules).resolve("GET", "http", "example.com", "/h0")
    assert (decision.status, decision.location) == (302, f"http://example.com/h{MAX_HOPS - 1}")
    assert len(decision.hops) == MAX_HOPS - 1


@pytest.mark.parametrize("document", [GROWING, LONG], ids=["growing", "long"])
def test_such_a_document_does_not_load(document: dict[str, Any]) -> None:
    with pytest.raises(RuleError, match="refused a redirect loop"):
        RuleSet.from_dict(document)


def test_the_middleware_passes_it_through_and_logs_one_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = RedirectMiddleware(echo_asgi_app, rules=unchecked(GROWING))

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get("http://example.com/shop/a")

    with caplog.at_level(logging.ERROR, logger="redirectware"):
        response = asyncio.run(go())
    assert response.status_code == 200
    assert "location" not in response.headers
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "refused a redirect loop that grows the URL" in errors[0].getMessage()


def test_rows_of_one_map_that_grow_the_url_are_a_chain_not_a_loop() -> None:
    ruleset = RuleSet.from_dict({"version": 1, "rules": [{"name": "docs", "map": DOCS_MOVES}]})
    decision = ruleset.resolve("GET", "http", "example.com", "/docs/a.md")
    assert decision.refused is None
    assert (decision.status, decision.location) == (302, "http://example.com/docs/setup/a/")
    assert [hop.location for hop in decision.hops] == [
        "http://example.com/docs/a/",
        "http://example.com/docs/setup/a/",
    ]


def test_one_map_row_that_applies_again_and_grows_the_url_is_a_loop() -> None:
    # /x adds y=1 to the query it keeps: /x?q -> /x?y=1&q -> /x?y=1&y=1&q, each URL new.
    document = {"version": 1, "rules": [{"name": "x", "map": [{"from": "/x", "to": "/x?y=1"}]}]}
    decision = unchecked(document).resolve("GET", "http", "example.com", "/x", "q=1")
    assert decision.refused is not None
    assert (decision.refused.kind, decision.refused.how) == ("loop", "grows the URL")
    assert decision.refused.urls[1:3] == (
        "http://example.com/x?y=1&q=1",
        "http://example.com/x?y=1&y=1&q=1",
    )


def test_check_and_the_engine_agree_on_such_a_map(tmp_path: Path) -> None:
    rows = "".join(f"      - {{from: {row['from']}, to: {row['to']}}}\n" for row in DOCS_MOVES)
    document = write(
        tmp_path,
        "docs.yaml",
        "version: 1\nrules:\n  - name: docs\n    permanent: true\n    map:\n" + rows + "tests:\n"
        "  - request: GET http://example.com/docs/a.md\n"
        "    expect: {status: 301, location: /docs/setup/a/}\n"
        "  - request: POST http://example.com/docs/b.md\n"
        "    expect: {status: 308, location: /docs/setup/b/}\n",
    )
    run = run_cli("check", document)
    assert run.code == 0, run.out + run.err
