"""The rule index finds exactly the rule a scan of every rule in document order would find."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from redirectware.document.loading import compile_document
from redirectware.engine.hosts import parse_host
from redirectware.engine.matching import RequestView, RuleIndex, rule_matches
from redirectware.engine.model import Rule

SEGMENTS = ["a", "b", "{x}", "{n:int}", "{p:path}", "c{y}", "caf%c3%a9", ""]
HOSTS = [None, "example.com", "*.example.com", "{s}.example.com", "w{t}.example.com", "{u}.org"]
ACTIONS: list[dict[str, Any]] = [
    {"to": "/target"},
    {"https": True},
    {"trailing_slash": "add"},
    {"trailing_slash": "remove"},
]

REQUEST_SEGMENTS = ["a", "b", "1", "c2", "", "caf%C3%A9", "zz"]
REQUEST_HOSTS = ["example.com", "w.example.com", "a.b.example.com", "x.org", "other.net"]


@st.composite
def rule_nodes(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 5)) == 0:
        rows = draw(st.lists(st.lists(st.sampled_from(REQUEST_SEGMENTS), max_size=3), max_size=3))
        # A map row's from starts with a single "/": drop empty leading segments.
        paths = {"/" + "/".join(r).lstrip("/") for r in rows}
        return {"map": [{"from": p, "to": "/mapped"} for p in sorted(paths)]}
    node: dict[str, Any] = dict(draw(st.sampled_from(ACTIONS)))
    if draw(st.booleans()):
        segments = draw(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3))
        seen: set[str] = set()
        unique = []
        for segment in segments:  # a placeholder name may appear once per template
            name = segment[segment.find("{") :] if "{" in segment else None
            if name is None or name not in seen:
                unique.append(segment)
                seen.add(name or "")
        node["from"] = "/" + "/".join(unique)
    host = draw(st.sampled_from(HOSTS))
    if host is not None:
        node["host"] = host
    if draw(st.integers(0, 4)) == 0:
        node["scheme"] = draw(st.sampled_from(["http", "https"]))
    return node


def scan(rules: tuple[Rule, ...], request: RequestView) -> Rule | None:
    return next((rule for rule in rules if rule_matches(rule, request) is not None), None)


@settings(max_examples=400, deadline=None)
@given(
    nodes=st.lists(rule_nodes(), max_size=12),
    path=st.lists(st.sampled_from(REQUEST_SEGMENTS), max_size=4),
    host=st.sampled_from(REQUEST_HOSTS),
    scheme=st.sampled_from(["http", "https"]),
)
def test_index_agrees_with_a_scan(
    nodes: list[dict[str, Any]], path: list[str], host: str, scheme: str
) -> None:
    rules = compile_document({"version": 1, "rules": nodes}).rules
    index = RuleIndex(rules)

    def request() -> RequestView:
        return RequestView("GET", scheme, parse_host(host), "/" + "/".join(path), "", {}, None, 0)

    found = index.first_match(request())
    expected = scan(rules, request())
    assert (found[0] if found else None) is expected


def test_ruleset_candidates_lists_every_rule_that_may_match_in_document_order() -> None:
    from redirectware import RuleSet

    rules = RuleSet.from_dict(
        {
            "rules": [
                {"https": True},
                {"from": "/blog/{slug}", "to": "/posts/{slug}"},
                {"map": [{"from": "/old", "to": "/new"}, {"from": "/blog/x", "to": "/b/x"}]},
                {"host": "www.example.com", "to": "https://example.com{path}"},
                {"from": "/other", "to": "/elsewhere", "enabled": False},
            ]
        }
    )
    assert rules.candidates("http", "/blog/x", "example.com") == (0, 1, 2)
    assert rules.candidates("https", "/blog/x", "www.example.com") == (1, 2, 3)
    assert rules.candidates("https", "/old") == (2,)
    assert rules.candidates("https", "/other", "example.com") == ()
