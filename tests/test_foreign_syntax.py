"""``check`` recognises syntax copied from Netlify, Express, Vercel, nginx and Apache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redirectware import RuleError, RuleSet
from redirectware.document.foreign import foreign_syntax
from tests.console import run_cli, write

# (value, is a to, [(text recognised, certain: an error rather than a warning, part of the advice)])
VALUES = [
    ("/blog/*", False, [("*", False, "{rest:path}")]),
    ("/news/*", True, [("*", False, "{rest}")]),
    ("/news/:splat", True, [(":splat", True, "{rest:path} in from and {rest} in to")]),
    ("/users/:id", False, [(":id", False, "{id}")]),
    ("/users/:id/posts/:post", False, [(":id", False, "{id}"), (":post", False, "{post}")]),
    ("/old/(.*)", False, [("(.*)", True, "{rest:path} for (.*)")]),
    ("/old/([^/]+)/x", False, [("([^/]+)", True, "{name} for ([^/]+)")]),
    ("^/old/(.*)$", False, [("^", True, "a path template"), ("(.*)", True, "{rest:path}")]),
    ("/old$", False, [("$", True, "a path template")]),
    ("/new/$1", True, [("$1", True, "{name}")]),
    ("/new [R=301]", True, [("[R=301]", True, "status: 301")]),
    ("/new [L,R=308]", True, [("[L,R=308]", True, "status: 308")]),
    ("/new [R]", True, [("[R]", True, "status: 302")]),
    ("/plain/path", False, []),
    ("/a:b/c", False, []),  # a colon inside a segment is an ordinary path character
    ("/price$", True, []),  # a to may end in "$": it is no anchor there
    ("/{name}/{rest:path}", False, []),
]  # fmt: skip


@pytest.mark.parametrize(("value", "target", "expected"), VALUES)
def test_recognised(value: str, target: bool, expected: list[tuple[str, bool, str]]) -> None:
    found = foreign_syntax(value, target)
    assert [(f.found, f.certain) for f in found] == [
        (text, certain) for text, certain, _ in expected
    ]
    for foreign, (_, _, advice) in zip(found, expected, strict=True):
        assert advice in foreign.message


DOC = """\
rules:
  - name: netlify
    from: /blog/*
    to: /news/:splat
  - name: express
    from: /users/:id
    to: /people
  - name: apache
    from: /old
    to: /new/$1 [R=301]
  - name: legacy
    map: legacy.csv
"""


def test_check_reports_errors_and_warnings_at_their_lines(tmp_path: Path) -> None:
    write(tmp_path, "legacy.csv", "from,to\n/a,/b\n/x/(.*),/y/$1\n")
    doc = write(tmp_path, "r.yaml", DOC)
    run = run_cli("check", doc)
    assert run.code == 1, run
    lines = run.out.splitlines()
    assert f"{doc}:4: error: rules[0] 'netlify': to: ':splat' looks like Netlify's splat" in run.out
    assert any(
        line.startswith(f"{doc}:10: error: rules[2] 'apache': to: '[R=301]' looks like an Apache")
        for line in lines
    )
    csv = tmp_path / "legacy.csv"
    assert f"{csv}:3: error: rules[3] 'legacy': map: row '/x/(.*)': '(.*)' looks like" in run.out
    assert f"{csv}:3: error: rules[3] 'legacy': map: row '/x/(.*)': '$1' looks like" in run.out
    assert any(
        line.startswith(f"{doc}:3: warning: rules[0] 'netlify': from: '*' looks like a wildcard")
        for line in lines
    )
    assert any(
        line.startswith(f"{doc}:6: warning: rules[1] 'express': from: ':id'") for line in lines
    )
    reports = json.loads(run_cli("check", "--json", doc).out)
    kinds = {(r["severity"], r["line"]) for r in reports if r["kind"] == "foreign-syntax"}
    assert ("error", 4) in kinds and ("warning", 3) in kinds


def test_warnings_alone_keep_check_passing(tmp_path: Path) -> None:
    doc = write(tmp_path, "r.yaml", "rules:\n  - {from: '/users/:id', to: /people}\n")
    run = run_cli("check", doc)
    assert run.code == 0, run
    assert "1 warning" in run.out
    assert run_cli("check", "--strict", doc).code == 1


def test_a_load_error_names_the_foreign_syntax_in_it(tmp_path: Path) -> None:
    doc = write(tmp_path, "r.yaml", "rules:\n  - from: ^/old/(.*)$\n    to: /new/$1\n")
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(doc)
    assert str(caught.value) == (
        f"{doc}:2: rules[0]: from: a path template must start with '/', got '^/old/(.*)$' "
        "('^' looks like a regular-expression anchor of nginx or Apache, which redirectware "
        "reads as literal text, so this never works as meant: write a path template: literal "
        "text, {name} for one segment, {rest:path} for the rest; or from_regex: with named "
        "groups (?P<name>...) for a regular expression)"
    )
