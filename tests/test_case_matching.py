"""``case_sensitive: false``: load errors, the index, ``explain``, and a property.

The answers themselves run through every adapter in the shared table (``tests/cases.py``,
the ``case-*`` cases).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redirectware import RuleError, RuleSet
from redirectware.engine.folding import fold, fold_kept
from redirectware.engine.urls import canonical_path
from tests.console import run_cli, write


@pytest.mark.parametrize(
    ("rules", "line", "message"),
    [
        pytest.param(
            "- from: /x\n  to: /y\n  case_sensitive: sometimes",
            5,
            "rules[0]: case_sensitive: must be true or false, got 'sometimes'",
            id="bad-rule-value",
        ),
        pytest.param(
            "- name: legacy\n  case_sensitive: false\n  map:\n    - {from: /About, to: /a}\n"
            "    - {from: /x, to: /b}\n    - {from: /ABOUT, to: /c}",
            8,
            "rules[0] 'legacy': map: row '/ABOUT': from '/ABOUT' and '/About' (line 6) are one "
            "path under case_sensitive: false; keep one of them",
            id="inline-rows-equal-but-for-case",
        ),
    ],
)
def test_bad_case_keys_name_file_line_rule_and_key(
    tmp_path: Path, rules: str, line: int, message: str
) -> None:
    path = write(tmp_path, "redirects.yaml", "version: 1\nrules:\n" + rules + "\n")
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    assert str(caught.value) == f"{path}:{line}: {message}"


def test_bad_setting_value(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "settings:\n  case_sensitive: nope\nrules: []\n")
    with pytest.raises(RuleError, match=r"r\.yaml:2: settings\.case_sensitive: must be true"):
        RuleSet.from_file(path)


def test_csv_rows_equal_but_for_case_name_both_lines(tmp_path: Path) -> None:
    write(tmp_path, "legacy.csv", "from,to\n/Old/Caf%C3%A9,/a\n/other,/b\n/old/CAF%c3%89,/c\n")
    path = write(
        tmp_path,
        "redirects.yaml",
        "settings:\n  case_sensitive: false\nrules:\n  - name: legacy\n    map: legacy.csv\n",
    )
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    text = str(caught.value)
    assert text.startswith(f"{path}:5: rules[0] 'legacy': map: {tmp_path / 'legacy.csv'}:4: ")
    assert "(line 2) are one path under case_sensitive: false" in text
    # The same rows are fine where case matters: they are two different URLs.
    write(tmp_path, "sensitive.yaml", "rules:\n  - map: legacy.csv\n")
    assert len(RuleSet.from_file(tmp_path / "sensitive.yaml").rules) == 1


def test_a_big_case_insensitive_map_is_filed_by_match_path(tmp_path: Path) -> None:
    """Constant time: a request's candidates come from a dict lookup of its folded path,
    never from trying the 100,000 rows (or the rules) one by one."""
    rows = "".join(f"/Old/Page-{n},/new/{n}\n" for n in range(100_000))
    write(tmp_path, "big.csv", "from,to\n" + rows)
    path = write(
        tmp_path,
        "r.yaml",
        "rules:\n  - {from: /A, to: /b}\n  - map: big.csv\n    case_sensitive: false\n"
        "  - {from: '/Blog/{slug}', to: '/posts/{slug}', case_sensitive: false}\n",
    )
    rules = RuleSet.from_file(path)
    assert rules.candidates("http", "/OLD/PAGE-99999") == (1,)
    assert rules.candidates("http", "/blog/x") == (2,)
    assert rules.candidates("http", "/old/page-x") == ()
    decision = rules.resolve("GET", "http", "example.com", "/oLD/pAGE-4242")
    assert decision.location == "http://example.com/new/4242"


def test_explain_says_the_rule_ignores_case(tmp_path: Path) -> None:
    doc = write(
        tmp_path,
        "r.yaml",
        "rules:\n  - {name: about, from: /About, to: /about-us, case_sensitive: false}\n",
    )
    run = run_cli("explain", doc, "GET", "http://example.com/ABOUT")
    assert run.code == 0, run
    assert "matching: case-insensitive (case_sensitive: false)" in run.out.splitlines()


@pytest.mark.parametrize(
    ("canonical", "folded"),
    [
        ("/About/X", "/about/x"),
        ("/CAF%C3%89/x", "/caf%C3%A9/x"),
        ("/a%2Fb/C", "/a%2Fb/c"),  # an escaped slash has no case; its hex stays canonical
        ("/%FF%FEA", "/%FF%FEa"),  # bytes that are not UTF-8 have no case either
        ("/%C4%B0x", "/i%CC%87x"),  # "İ" lower-cases to two characters
    ],
)
def test_fold(canonical: str, folded: str) -> None:
    assert fold(canonical) == folded
    assert fold(folded) == folded  # folding a folded path changes nothing


def test_fold_keeps_where_each_character_came_from() -> None:
    folded, offsets = fold_kept("/%C4%B0x/y")
    assert offsets is not None and len(offsets) == len(folded) + 1
    assert offsets[folded.index("x")] == "/%C4%B0x/y".index("x")


RULES = RuleSet.from_dict(
    {
        "settings": {"case_sensitive": False},
        "rules": [
            {"from": "/Shop/{cat}/{rest:path}", "to": "/store/{cat}/{rest}"},
            {"from": "/Ébc", "to": "/x"},
            {"map": [{"from": "/Über/a", "to": "/y"}, {"from": "/gone", "status": 410}]},
        ],
    }
)
_text = st.text(alphabet="abzéüßAZÉÜ-", max_size=8)


@given(
    prefix=st.sampled_from(["/shop/", "/ébc", "/über/a", "/gone", "/"]),
    middle=_text,
    tail=_text,
    flips=st.lists(st.booleans(), max_size=30),
    lower_hex=st.booleans(),
)
def test_any_case_gets_the_lower_case_answer_with_the_requests_own_bytes(
    prefix: str, middle: str, tail: str, flips: list[bool], lower_hex: bool
) -> None:
    text = prefix + middle + ("/" + tail if tail else "")
    cased = "".join(c.upper() if i < len(flips) and flips[i] else c for i, c in enumerate(text))

    def sent(path: str) -> str:
        encoded = quote(path.encode("utf-8"), safe="/-")
        return encoded.lower() if lower_hex else encoded

    asked = RULES.resolve("GET", "http", "example.com", sent(cased))
    lowered = RULES.resolve("GET", "http", "example.com", sent(cased.lower()))
    assert asked.status == lowered.status
    assert (asked.location is None) == (lowered.location is None)
    if asked.location is None or lowered.location is None:
        return
    got, want = urlsplit(asked.location).path, urlsplit(lowered.location).path
    assert fold(canonical_path(got)) == fold(canonical_path(want))
    if asked.location.startswith("http://example.com/store/"):
        # The captures are the request's own bytes, case and hex digits as sent.
        assert got.endswith(sent(cased).split("/", 3)[3])
