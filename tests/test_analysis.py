"""Static warnings: shadowing is claimed only when it is certain, and found where it is plain."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from redirectware import RuleError, RuleSet
from redirectware.engine.hosts import parse_host
from redirectware.engine.matching import RequestView, rule_matches
from redirectware.engine.model import MapAction
from redirectware.tools.analysis import CHAIN, NEVER_MATCHES, OFF_SITE, SHADOWED, analyse

NOW = 1_800_000_000.0  # 2027-01-15: after the 2026 windows below, before the 2028 ones
OUT = "https://t.example.net/x"  # an absolute target: no chains, no loops, no placeholders


def _kinds(rules: list[dict[str, Any]], **settings: Any) -> list[tuple[int, str]]:
    ruleset = RuleSet.from_dict({"settings": settings, "rules": rules})
    return [(f.rule.index, f.kind) for f in analyse(ruleset, now=NOW)]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param([{"from": "/{p:path}", "to": OUT}, {"from": "/a/{x}", "to": OUT}], [(1, SHADOWED)], id="catch-all"),
        pytest.param([{"from": "/a/{p:path}", "to": OUT}, {"from": "/a/b/{x:int}", "to": OUT}], [(1, SHADOWED)], id="prefix"),
        pytest.param([{"from": "/a/{p:path}", "to": OUT}, {"from": "/ab/{x}", "to": OUT}], [], id="prefix-is-not-a-segment"),
        pytest.param([{"from": "/a/{x}", "to": OUT}, {"from": "/a/b", "to": OUT}], [(1, SHADOWED)], id="template-covers-literal"),
        pytest.param([{"from": "/a/{x:int}", "to": OUT}, {"from": "/a/b", "to": OUT}], [], id="int-does-not-cover-letters"),
        pytest.param([{"from": "/a/{x}", "to": OUT}, {"from": "/a/{y:int}", "to": OUT}], [], id="unproven-template-pair"),
        pytest.param([{"https": True}, {"scheme": "http", "from": "/x", "to": OUT}], [(1, SHADOWED)], id="https-then-http-only"),
        pytest.param([{"https": True}, {"from": "/x", "to": OUT}], [], id="https-leaves-https-requests"),
        pytest.param([{"https": True, "except": ["/x"]}, {"scheme": "http", "from": "/x", "to": OUT}], [], id="except-lets-through"),
        pytest.param([{"from": "/x", "methods": ["GET"], "to": OUT}, {"from": "/x", "to": OUT}], [], id="fewer-methods"),
        pytest.param([{"from": "/x", "methods": ["GET", "POST"], "to": OUT}, {"from": "/x", "methods": ["POST"], "to": OUT}], [(1, SHADOWED)], id="more-methods"),
        pytest.param([{"from": "/x", "host": "*.example.com", "to": OUT}, {"from": "/x", "host": "www.example.com", "to": OUT}], [(1, SHADOWED)], id="wildcard-host"),
        pytest.param([{"from": "/x", "host": "www.example.com", "to": OUT}, {"from": "/x", "to": OUT}], [], id="host-narrower"),
        pytest.param([{"from": "/x", "query": {"a": "*"}, "to": OUT}, {"from": "/x", "query": {"a": "1"}, "to": OUT}], [(1, SHADOWED)], id="query-present-covers-value"),
        pytest.param([{"from": "/x", "query": {"a": "1"}, "to": OUT}, {"from": "/x", "query": {"a": "*"}, "to": OUT}], [], id="query-value-narrower"),
        pytest.param([{"from": "/x", "headers": {"X-A": "1"}, "to": OUT}, {"from": "/x", "to": OUT}], [], id="header-narrower"),
        pytest.param([{"from": "/x", "active": {"until": "2028-01-01"}, "to": OUT}, {"from": "/x", "to": OUT}], [], id="window-ends"),
        pytest.param([{"from": "/x", "maintenance": {"to": "/m"}}, {"from": "/x", "to": OUT}], [], id="maintenance-is-switched"),
        pytest.param([{"trailing_slash": "add"}, {"from": "/x", "to": OUT}], [(1, SHADOWED)], id="slash-add-covers-literal"),
        pytest.param([{"trailing_slash": "add"}, {"from": "/x/", "to": OUT}], [], id="slash-add-skips-slashed"),
        pytest.param([{"trailing_slash": "add"}, {"from": "/x/{y}", "to": OUT}], [], id="slash-add-vs-template"),
        pytest.param([{"map": [{"from": "/a", "to": OUT}]}, {"map": [{"from": "/a", "to": "/b"}, {"from": "/c", "to": "/d"}]}], [(1, SHADOWED)], id="map-row-repeated"),
        pytest.param([{"from": "/a", "to": "/b"}, {"from": "/b", "to": "/c"}], [(0, CHAIN)], id="chain"),
        pytest.param([{"https": True}, {"from": "/", "to": "/home"}], [], id="https-then-move-is-no-chain"),
        pytest.param([{"from": "/c", "to": OUT, "scheme": "https"}, {"trailing_slash": "remove", "scheme": "http"}, {"map": [{"from": "/c", "to": "/e/1/"}]}], [(2, CHAIN)], id="map-row-chains-at-http-only"),
        pytest.param([{"map": [{"from": "/c", "to": "/e"}, {"from": "/e", "to": "/f"}]}], [(0, CHAIN)], id="map-row-chains-to-a-row"),
        pytest.param([{"from": "/x", "active": {"until": "2026-01-01"}, "to": OUT}], [(0, NEVER_MATCHES)], id="expired"),
        pytest.param([{"from": "/x", "active": {"from": "2028-01-01"}, "to": OUT}], [], id="not-yet"),
        pytest.param([{"https": True, "scheme": "https"}], [(0, NEVER_MATCHES)], id="https-on-https"),
        pytest.param([{"from": "/x/", "trailing_slash": "add"}], [(0, NEVER_MATCHES)], id="nothing-to-add"),
        pytest.param([{"from": "/x/a", "except": ["/x/{y}"], "to": OUT}], [(0, NEVER_MATCHES)], id="except-covers-from"),
    ],
)  # fmt: skip
def test_warnings(rules: list[dict[str, Any]], expected: list[tuple[int, str]]) -> None:
    assert _kinds(rules) == expected


def test_off_site_targets_only_with_allowed_hosts() -> None:
    rules: list[dict[str, Any]] = [
        {"from": "/a", "to": "https://other.example.net/a"},
        {"from": "/b", "to": "https://example.com/z"},
        {"map": [{"from": "/c", "to": "https://x.example.org/"}, {"from": "/d", "to": "/e"}]},
    ]
    assert _kinds(rules, allowed_hosts=["example.com"]) == [(0, OFF_SITE), (2, OFF_SITE)]
    assert _kinds(rules) == []


# --- soundness: a "shadowed" claim must hold for every request ------------------------------

PATHS = [None, "/a", "/a/", "/a/b", "/a/{x}", "/a/{x:path}", "/{x:path}", "/{x}", "/b/{x:int}"]
HOSTS = [None, "example.com", "*.example.com", "{sub}.example.com", "www.example.com"]
ACTIONS: list[dict[str, Any]] = [
    {"to": OUT},
    {"https": True},
    {"trailing_slash": "add"},
    {"trailing_slash": "remove"},
    {"map": [{"from": "/a", "to": OUT}, {"from": "/a/b", "to": OUT}]},
]


def _draw_rule(pick: random.Random) -> dict[str, Any]:
    """A small rule drawn from conditions that overlap in interesting ways."""
    rule: dict[str, Any] = dict(pick.choice(ACTIONS))
    choices: list[tuple[str, list[Any]]] = [
        ("from", PATHS),
        ("host", HOSTS),
        ("scheme", [None, "http", "https"]),
        ("methods", [None, ["GET"], ["GET", "POST"], ["POST"]]),
        ("query", [None, {"q": "1"}, {"q": "*"}]),
        ("except", [None, ["/a/b"], ["/a/{x}"]]),
    ]
    for key, values in choices:
        value = pick.choice(values)
        if value is not None and not (key == "from" and "map" in rule):
            rule[key] = value
    return rule


REQUESTS = list(
    itertools.product(
        ["GET", "POST"],
        ["http", "https"],
        ["example.com", "www.example.com", "a.example.com", "other.org"],
        ["/", "/a", "/a/", "/a/b", "/a/b/", "/a/1", "/b/1", "/b/x", "/c", "/c/"],
        ["", "q=1", "q=2"],
    )
)


def _claim_holds(ruleset: RuleSet, row: str | None, *shown: object) -> None:
    """Every request the later rule (or its map row ``row``) matches, the earlier one does."""
    earlier, later = ruleset.rules
    for method, scheme, host, path, query in REQUESTS:
        if row is not None and path != row:
            continue
        view = RequestView(method, scheme, parse_host(host), path, query, {}, None, NOW)
        if rule_matches(later, view) is not None:
            again = RequestView(method, scheme, parse_host(host), path, query, {}, None, NOW)
            assert rule_matches(earlier, again) is not None, (shown, method, scheme, host, path)


def test_a_shadowed_claim_holds_for_every_request() -> None:
    # Seeded, so a failure reproduces; a later rule is often the earlier one narrowed, which is
    # where shadowing happens.
    pick = random.Random(20261123)
    claims = 0
    for _ in range(5000):
        first = _draw_rule(pick)
        second = {**first, **_draw_rule(pick)} if pick.random() < 0.5 else _draw_rule(pick)
        if "map" in second:
            second.pop("from", None)
        try:
            ruleset = RuleSet.from_dict({"rules": [first, second]})
        except RuleError:
            continue
        if len(ruleset.rules) != 2:
            continue
        for finding in analyse(ruleset, now=NOW):
            if finding.kind == SHADOWED:
                claims += 1
                _claim_holds(ruleset, finding.row, first, second)
    # The claims must actually have been put to the test.
    assert claims >= 50, claims


# --- shadowed map rows: found through the index, as trying every rule would find them --------

ROW_PATHS = ["/", "/a", "/a/", "/a/b", "/a/b/", "/a/1", "/b/1", "/b/x", "/c", "/c/", "/zz/q"]


def _shadowed_rows_by_trying_every_rule(ruleset: RuleSet) -> list[tuple[int, str, int]]:
    """The reference: each map row against every earlier rule, in document order."""
    from redirectware.tools.analysis import _row_shadowed_by

    found = []
    for position, b in enumerate(ruleset.rules):
        if not isinstance(b.action, MapAction):
            continue
        for key in b.action.entries:
            for a in ruleset.rules[:position]:
                if _row_shadowed_by(a, b, key):
                    found.append((b.index, key, a.index))
                    break
    return found


def _shadowed_rows_reported(ruleset: RuleSet) -> list[tuple[int, str, int]]:
    reported = []
    for finding in analyse(ruleset, now=NOW):
        if finding.kind == SHADOWED and finding.row is not None:
            by = int(finding.message.split("comes first")[0].split("rules[")[1].split("]")[0])
            reported.append((finding.rule.index, finding.row, by))
    return sorted(reported)


def test_shadowed_map_rows_are_the_ones_trying_every_rule_finds() -> None:
    pick = random.Random(20261123)
    compared = 0
    for _ in range(1500):
        rules = [_draw_rule(pick) for _ in range(pick.randint(1, 6))]
        rows = pick.sample(ROW_PATHS, pick.randint(1, len(ROW_PATHS)))
        rules.append({"map": [{"from": row, "to": OUT} for row in rows]})
        try:
            ruleset = RuleSet.from_dict({"rules": rules})
        except RuleError:
            continue
        expected = sorted(_shadowed_rows_by_trying_every_rule(ruleset))
        assert _shadowed_rows_reported(ruleset) == expected, rules
        compared += len(expected)
    assert compared >= 80, compared  # the comparison must have met real shadowed rows


def test_a_shadowed_row_names_the_first_rule_in_document_order() -> None:
    # A path-free rule (tried on every row) and a template (found through the index) both
    # cover /a/x; the report names whichever comes first.
    for first, second in [(0, 1), (1, 0)]:
        pair = [{"trailing_slash": "add"}, {"from": "/a/{x}", "to": OUT}]
        rules = [pair[first], pair[second], {"map": [{"from": "/a/x", "to": OUT}]}]
        ruleset = RuleSet.from_dict({"rules": rules})
        assert _shadowed_rows_reported(ruleset) == [(2, "/a/x", 0)]


# --- chained map rows: the index rules out one-hop rows as asking the engine would ----------

CHAIN_RULES: list[dict[str, Any]] = [
    {"https": True},
    {"trailing_slash": "add"},
    {"trailing_slash": "remove"},
    {"trailing_slash": "remove", "scheme": "http"},
    {"from": "/c", "to": "/d"},
    {"from": "/b/{x}", "to": "/e/{x}"},
    {"from": "/{x}/q", "to": "/q/{x}"},
    {"host": "www.example.com", "to": "https://example.com{path}"},
    {"from": "/a", "to": OUT, "scheme": "http"},
    {"from": "/c", "to": OUT, "scheme": "https"},
    {"from": "/d", "to": "/f", "enabled": False},
]
ROW_TARGETS = [*ROW_PATHS, "/d", "/e/1", "/e/1/", "/f", "/q/zz", OUT, "/x?y=1", "/r%20s"]


def _draw_map(pick: random.Random) -> dict[str, Any]:
    rows = pick.sample(ROW_PATHS, pick.randint(1, 6))
    rule: dict[str, Any] = {"map": [{"from": row, "to": pick.choice(ROW_TARGETS)} for row in rows]}
    choices: list[tuple[str, list[Any]]] = [
        ("scheme", [None, "http", "https"]),
        ("host", [None, "example.com", "www.example.com"]),
        ("except", [None, ["/c"]]),
        ("methods", [None, ["POST"]]),
    ]
    for key, values in choices:
        value = pick.choice(values)
        if value is not None:
            rule[key] = value
    return rule


def _chain_findings(ruleset: RuleSet) -> list[tuple[int, str | None, str]]:
    return [(f.rule.index, f.row, f.message) for f in analyse(ruleset, now=NOW) if f.kind == CHAIN]


def test_chained_map_rows_are_the_ones_asking_the_engine_about_every_row_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from redirectware.tools import analysis

    pick = random.Random(20261124)
    chains = skipped = 0
    for _ in range(600):
        rules = [pick.choice(CHAIN_RULES) for _ in range(pick.randint(0, 4))]
        rules.insert(pick.randint(0, len(rules)), _draw_map(pick))
        settings = pick.choice([{}, {"allowed_hosts": ["example.com"]}])
        try:
            ruleset = RuleSet.from_dict({"settings": settings, "rules": rules})
        except RuleError:
            continue
        found = _chain_findings(ruleset)
        for rule in ruleset.rules:
            if isinstance(rule.action, MapAction):
                test = analysis._one_hop_rows(ruleset, rule)
                if test is not None:
                    entries = rule.action.entries.items()
                    skipped += sum(test(key.partition("?")[0], e.target) for key, e in entries)
        with monkeypatch.context() as patched:
            patched.setattr(analysis, "_one_hop_rows", lambda ruleset, rule: None)
            assert found == _chain_findings(ruleset), rules
        chains += len(found)
    # Both sides must have been exercised: rows skipped by the index, and real chains found.
    assert skipped >= 200, skipped
    assert chains >= 50, chains
