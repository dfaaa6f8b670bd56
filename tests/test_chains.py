"""Chains that never end are loops: refused at run time, and a load error where a sample shows it.

A rule that re-matches its own output and makes it longer (``/shop/{p:path}`` to
``/shop/{p}/``) would send ``/shop/a`` to ``/shop/a/``, then ``/shop/a//`` and so on, each URL
new: no "seen before" check catches it. The engine refuses such a chain, and one that is still
going at the hop limit, with a structured :class:`~redirectware.engine.decision.Refusal`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from redirectware import RedirectMiddleware, RuleError, RuleSet
from redirectware.document.loading import load_source
from redirectware.engine.engine import MAX_HOPS, Engine
from tests.conftest import echo_asgi_app

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
