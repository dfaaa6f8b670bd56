"""``gone: true`` (410) and ``gone: 451``, and map rows that answer 410 or 451.

The answers themselves run through every adapter in the shared table (``tests/cases.py``,
the ``gone-*`` cases); here: load errors, CSV rows, ``explain``, ``check`` and ``tests:``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redirectware import RuleError, RuleSet
from tests.console import run_cli, write

# (id, rules section, line of the error, message after "file:line: ")
BAD_GONE = [
    ("gone-false", "- from: /x\n  gone: false", 4, "rules[0]: gone: must be true (410 Gone) or 451, got False"),
    ("gone-404", "- from: /x\n  gone: 404", 4, "rules[0]: gone: must be true (410 Gone) or 451, got 404"),
    ("gone-word", "- from: /x\n  gone: forever", 4, "rules[0]: gone: must be true (410 Gone) or 451, got 'forever'"),
    ("gone-permanent", "- from: /x\n  gone: true\n  permanent: true", 5, "rules[0]: permanent: does not apply to gone"),
    ("gone-status", "- from: /x\n  gone: true\n  status: 301", 5, "rules[0]: status: does not apply to gone"),
    ("gone-and-to", "- from: /x\n  to: /y\n  gone: true", 5, "rules[0]: gone: two actions in one rule (to and gone); give exactly one"),
    ("gone-keep-query", "- from: /x\n  gone: true\n  keep_query: false", 5, "rules[0]: keep_query: does not apply to gone"),
    ("map-row-empty-to", "- name: legacy\n  map:\n    - {from: /a, to: ''}", 5, "rules[0] 'legacy': map: row '/a': to is empty; give a path or an http(s) URL, or status 410 (gone) or 451"),
    ("map-row-gone-with-to", "- name: legacy\n  map:\n    - {from: /a, to: /b, status: 410}", 5, "rules[0] 'legacy': map: row '/a': a status 410 row answers itself; leave its to empty"),
    ("map-row-missing-to", "- name: legacy\n  map:\n    - {from: /a}", 5, "rules[0] 'legacy': map: map[0] needs from and to, both strings"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rules", "line", "message"),
    [pytest.param(rules, line, message, id=case_id) for case_id, rules, line, message in BAD_GONE],
)
def test_bad_gone_names_file_line_rule_and_key(
    tmp_path: Path, rules: str, line: int, message: str
) -> None:
    path = write(tmp_path, "redirects.yaml", "version: 1\nrules:\n" + rules + "\n")
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    assert str(caught.value).startswith(f"{path}:{line}: {message}"), str(caught.value)


def test_csv_rows_with_an_empty_to_answer_410_and_451(tmp_path: Path) -> None:
    write(
        tmp_path,
        "legacy.csv",
        "from,to,status\n/old,/new,301\n/dead,,410\n/blocked,,451\n/page.php?id=3,,410\n",
    )
    path = write(tmp_path, "redirects.yaml", "rules:\n  - map: legacy.csv\n")
    rules = RuleSet.from_file(path)
    assert rules.resolve("GET", "http", "a.com", "/old").status == 301
    assert rules.resolve("POST", "http", "a.com", "/dead").status == 410
    assert rules.resolve("GET", "http", "a.com", "/blocked").status == 451
    assert rules.resolve("GET", "http", "a.com", "/page.php", "id=3").status == 410
    assert rules.resolve("GET", "http", "a.com", "/page.php", "id=4").passes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("from,to,status\n/a,/b,301\n/c,,\n", "legacy.csv:3: to is empty", id="empty-to"),
        pytest.param("from,to,status\n/a,/b,410\n", "legacy.csv:2: a status 410 row answers itself", id="410-with-to"),
        pytest.param("from,to\n/a,/b\n/c,\n", "legacy.csv:3: to is empty", id="bulk-empty-to"),
        pytest.param("from,to,status\n/a,,404\n", "legacy.csv:2: to is empty", id="empty-to-404"),
    ],
)  # fmt: skip
def test_bad_gone_csv_rows_name_their_line(tmp_path: Path, content: str, message: str) -> None:
    write(tmp_path, "legacy.csv", content)
    path = write(tmp_path, "redirects.yaml", "rules:\n  - name: legacy\n    map: legacy.csv\n")
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    assert str(caught.value).startswith(f"{path}:3: rules[0] 'legacy': map: ")
    assert message in str(caught.value)


def test_a_redirect_to_a_gone_url_is_not_a_loop_and_leads_there(tmp_path: Path) -> None:
    rules = RuleSet.from_dict(
        {
            "rules": [
                {"from": "/a", "to": "/dead"},
                {"map": [{"from": "/dead", "status": 410}, {"from": "/b", "to": "/dead"}]},
            ]
        }
    )
    decision = rules.resolve("GET", "http", "example.com", "/a")
    assert (decision.status, decision.location) == (302, "http://example.com/dead")
    assert rules.resolve("GET", "http", "example.com", "/dead").status == 410


DOC = """\
version: 1
settings:
  allowed_hosts: [example.com]
rules:
  - name: old-blog
    from: /blog/{rest:path}
    gone: true
  - name: legal
    map:
      - {from: /takedown, status: 451}
tests:
  - request: DELETE http://example.com/blog/2019/post
    expect: {status: 410, headers: {Cache-Control: max-age=86400}}
  - request: GET http://example.com/takedown
    expect: {status: 451}
"""


def test_explain_shows_the_410_and_its_rule(tmp_path: Path) -> None:
    doc = write(tmp_path, "redirects.yaml", DOC)
    run = run_cli("explain", doc, "GET", "http://example.com/blog/x")
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines[1] == f"rule: rules[0] 'old-blog' ({doc}:5)"
    assert "HTTP/1.1 410 Gone" in lines
    assert "Cache-Control: max-age=86400" in lines
    as_json = json.loads(
        run_cli("explain", doc, "HEAD", "http://example.com/takedown", "--json").out
    )
    assert as_json["status"] == 451


def test_check_runs_the_tests_entries_and_warns_about_nothing(tmp_path: Path) -> None:
    doc = write(tmp_path, "redirects.yaml", DOC)
    run = run_cli("check", doc)
    assert run.code == 0, run
    assert "2 of 2 tests passed, 0 warnings" in run.out, run.out
    failing = write(
        tmp_path, "failing.yaml", DOC.replace("expect: {status: 451}", "expect: {status: 410}")
    )
    assert run_cli("check", failing).code == 1
