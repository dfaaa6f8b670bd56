"""``trailing_slash_match: ignore``: load errors, the index, chains, ``explain``.

The answers themselves run through every adapter in the shared table (``tests/cases.py``,
the ``slash-ignore-*`` cases).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from redirectware import RuleError, RuleSet
from tests.console import run_cli, write


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param(
            "rules:\n  - from: /x\n    to: /y\n    trailing_slash_match: loose\n",
            4,
            "rules[0]: trailing_slash_match: must be 'strict' or 'ignore', got 'loose'",
            id="bad-rule-value",
        ),
        pytest.param(
            "settings:\n  trailing_slash_match: true\nrules: []\n",
            2,
            "settings.trailing_slash_match: must be 'strict' or 'ignore', got True",
            id="bad-setting-value",
        ),
        pytest.param(
            "rules:\n  - trailing_slash: add\n    trailing_slash_match: ignore\n",
            3,
            "rules[0]: trailing_slash_match: does not apply to a trailing_slash rule",
            id="on-a-slash-rule",
        ),
        pytest.param(
            "rules:\n  - name: legacy\n    trailing_slash_match: ignore\n    map:\n"
            "      - {from: /a/, to: /b}\n      - {from: /a, to: /c}\n",
            6,
            "rules[0] 'legacy': map: row '/a': from '/a' and '/a/' (line 5) are one path under "
            "trailing_slash_match: ignore; keep one of them",
            id="rows-equal-but-for-slash",
        ),
    ],
)
def test_bad_slash_keys_name_file_line_rule_and_key(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, "redirects.yaml", text)
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    assert str(caught.value) == f"{path}:{line}: {message}"


def test_the_setting_leaves_slash_rules_alone() -> None:
    rules = RuleSet.from_dict(
        {"settings": {"trailing_slash_match": "ignore"}, "rules": [{"trailing_slash": "add"}]}
    )
    assert rules.resolve("GET", "http", "example.com", "/a").location == "http://example.com/a/"
    assert rules.resolve("GET", "http", "example.com", "/a/").passes


def test_ignoring_rules_are_filed_by_the_path_without_its_slash() -> None:
    rules = RuleSet.from_dict(
        {
            "rules": [
                {"from": "/a", "to": "/b"},
                {"from": "/about/", "to": "/x", "trailing_slash_match": "ignore"},
                {"map": [{"from": "/m", "to": "/n"}], "trailing_slash_match": "ignore"},
                {
                    "from": "/About",
                    "to": "/y",
                    "trailing_slash_match": "ignore",
                    "case_sensitive": False,
                },
            ]
        }
    )
    assert rules.candidates("http", "/about") == (1, 3)
    assert rules.candidates("http", "/about/") == (1, 3)
    assert rules.candidates("http", "/ABOUT/") == (3,)
    assert rules.candidates("http", "/m/") == (2,)
    assert rules.candidates("http", "/a/") == ()


def test_a_move_and_a_slash_change_are_one_redirect_in_either_order() -> None:
    slash = {"trailing_slash": "add", "permanent": True}
    move = {"from": "/old", "to": "/new", "trailing_slash_match": "ignore", "permanent": True}
    for rules in ([slash, move], [move, slash]):
        engine = RuleSet.from_dict({"rules": rules})
        for path in ("/old", "/old/"):
            decision = engine.resolve("GET", "http", "example.com", path)
            assert (decision.status, decision.location) == (301, "http://example.com/new/")


def test_explain_says_the_rule_ignores_the_slash(tmp_path: Path) -> None:
    doc = write(
        tmp_path,
        "r.yaml",
        "rules:\n  - {name: about, from: /about, to: /about-us, trailing_slash_match: ignore}\n",
    )
    run = run_cli("explain", doc, "GET", "http://example.com/about/")
    assert run.code == 0, run
    assert (
        "matching: with or without a trailing slash (trailing_slash_match: ignore)"
        in run.out.splitlines()
    )
