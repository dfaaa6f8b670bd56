"""``redirectware check`` run as the installed console script: exit codes, file:line, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.console import run_cli, write

# Line numbers matter below: each rule's first line is noted on the right.
WARNINGS_DOC = """\
version: 1
settings:
  allowed_hosts: [example.com]
rules:
  - name: force-https               # 5
    https: true
    permanent: true
  - name: old-blog                  # 8: chain via articles-moved
    from: /blog/{slug}
    to: /articles/{slug}
    permanent: true
  - name: articles-moved            # 12
    from: /articles/{rest:path}
    to: /news/{rest}
    permanent: true
  - name: one-post                  # 16: shadowed by articles-moved
    from: /articles/hello
    to: /news/hello-world
  - name: plain-http                # 19: shadowed by force-https
    scheme: http
    from: /x
    to: /y
  - name: summer                    # 23: window ended
    from: /sale
    to: /offers
    active: {from: 2020-06-01, until: 2020-09-01}
  - name: partners                  # 27: target off allowed_hosts
    from: /partners
    to: https://partners.example.net/
  - name: legacy                    # 30
    map:
      - {from: /a, to: /b}          # 32: chain to the next row
      - {from: /b, to: /c}
      - {from: /articles/x, to: /z} # 34: shadowed by articles-moved
"""

EXPECTED_WARNINGS = [
    (8, "chain", 1),
    (16, "shadowed", 3),
    (19, "shadowed", 4),
    (23, "never-matches", 5),
    (27, "off-site-target", 6),
    (32, "chain", 7),
    (34, "shadowed", 7),
]

CLEAN_DOC = """\
version: 1
settings:
  allowed_hosts: [example.com]
rules:
  - name: force-https
    https: true
    permanent: true
    except: [/healthz]
  - name: api-v1-moved
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
"""

TESTS_DOC = """\
version: 1
rules:
  - name: api
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
    permanent: true
tests:
  - request: POST http://example.com/api/v1/orders?x=1
    expect: {status: 308, location: http://example.com/api/v2/orders?x=1}
  - request: GET http://example.com/healthz
    expect: pass
  - request: GET http://example.com/api/v1/a
    headers: {Accept: application/json}
    expect:
      status: 301
      location: http://example.com/api/v2/a
      headers: {Content-Type: application/json}
"""

FAILING_TESTS_DOC = """\
version: 1
rules:
  - name: api
    from: /api/v1/{rest:path}
    to: /api/v2/{rest}
tests:
  - request: POST http://example.com/api/v1/orders
    expect: {status: 308, location: http://example.com/api/v2/orders}
  - request: GET http://example.com/healthz
    expect: pass
  - request: GET http://example.com/api/v1/x
    expect: pass
"""


def test_a_clean_document_exits_0(tmp_path: Path) -> None:
    path = write(tmp_path, "redirects.yaml", CLEAN_DOC)
    run = run_cli("check", path)
    assert run.code == 0, run
    assert run.out == f"{path}: ok: 2 rules, no tests, 0 warnings\n"
    assert run.err == ""


def test_warnings_name_the_exact_line_and_do_not_fail(tmp_path: Path) -> None:
    path = write(tmp_path, "redirects.yaml", WARNINGS_DOC)
    run = run_cli("check", path)
    assert run.code == 0, run
    lines = run.out.splitlines()
    warned = [line for line in lines if ": warning: " in line]
    assert [int(line.split(":")[1]) for line in warned] == [w[0] for w in EXPECTED_WARNINGS]
    assert lines[-1] == f"{path}: ok: 8 rules, no tests, 7 warnings"
    by_line = {int(line.split(":")[1]): line for line in warned}
    # The chain shows its hops and the final URL.
    assert by_line[8] == (
        f"{path}:8: warning: rules[1] 'old-blog': chain: GET https://example.com/blog/sample"
        " -> https://example.com/articles/sample (rules[1] 'old-blog')"
        " -> https://example.com/news/sample (rules[2] 'articles-moved');"
        " the engine sends one 301 to https://example.com/news/sample;"
        " point this rule at the final URL"
    )
    assert "rules[2] 'articles-moved' (line 12) comes first" in by_line[16]
    assert "rules[0] 'force-https' (line 5) comes first" in by_line[19]
    assert "active window ended at 2020-09-01" in by_line[23]
    assert "partners.example.net" in by_line[27]
    assert "map row from '/a' starts a chain" in by_line[32]
    assert "-> https://example.com/c (rules[7] 'legacy')" in by_line[32]
    assert "map row from '/articles/x' never applies" in by_line[34]


def test_json_lists_the_same_findings(tmp_path: Path) -> None:
    path = write(tmp_path, "redirects.yaml", WARNINGS_DOC)
    run = run_cli("check", "--json", path)
    assert run.code == 0, run
    found = json.loads(run.out)
    assert [(f["line"], f["kind"], f["rule"]) for f in found] == EXPECTED_WARNINGS
    assert {f["severity"] for f in found} == {"warning"}
    assert {f["file"] for f in found} == {str(path)}
    assert found[0]["name"] == "old-blog"
    assert found[0]["text"].startswith(f"{path}:8: warning: rules[1] 'old-blog': chain: ")


def test_strict_makes_warnings_fail(tmp_path: Path) -> None:
    warned = write(tmp_path, "warned.yaml", WARNINGS_DOC)
    clean = write(tmp_path, "clean.yaml", CLEAN_DOC)
    assert run_cli("check", "--strict", warned).code == 1
    assert run_cli("check", "--strict", clean).code == 0


def test_an_error_names_file_line_rule_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "redirects.yaml",
        "version: 1\nrules:\n  - name: ok\n    from: /a\n    to: /b\n"
        "  - name: api\n    form: /api/{x}\n    to: /v2/{x}\n",
    )
    run = run_cli("check", path)
    assert run.code == 1, run
    first, summary = run.out.splitlines()
    assert first.startswith(f"{path}:7: rules[1] 'api': form: unknown key (did you mean 'from'?)")
    assert summary == f"{path}: invalid"


def test_an_error_as_json(tmp_path: Path) -> None:
    path = write(
        tmp_path, "redirects.yaml", "rules:\n  - name: api\n    from: /a\n    to: /b/{x}\n"
    )
    run = run_cli("check", "--json", path)
    assert run.code == 1, run
    [found] = json.loads(run.out)
    assert found == {
        "severity": "error",
        "kind": "invalid",
        "file": str(path),
        "line": 4,
        "rule": 0,
        "name": "api",
        "message": "placeholder {x} is not captured by from '/a'",
        "text": f"{path}:4: rules[0] 'api': to: placeholder {{x}} is not captured by from '/a'",
    }


def test_passing_tests_exit_0(tmp_path: Path) -> None:
    path = write(tmp_path, "redirects.yaml", TESTS_DOC)
    run = run_cli("check", path)
    assert run.code == 0, run
    assert run.out == f"{path}: ok: 1 rule, 3 of 3 tests passed, 0 warnings\n"


def test_failing_tests_are_reported_with_line_and_what_came_back(tmp_path: Path) -> None:
    path = write(tmp_path, "redirects.yaml", FAILING_TESTS_DOC)
    run = run_cli("check", path)
    assert run.code == 1, run
    assert run.out.splitlines() == [
        f"{path}:7: tests[0]: POST http://example.com/api/v1/orders: expected 308 "
        "http://example.com/api/v2/orders, got 307 http://example.com/api/v2/orders "
        "from rules[0] 'api'",
        f"{path}:11: tests[2]: GET http://example.com/api/v1/x: expected pass through, "
        "got 302 http://example.com/api/v2/x from rules[0] 'api'",
        f"{path}: FAILED: 1 rule, 1 of 3 tests passed, 0 warnings",
    ]
    found = json.loads(run_cli("check", "--json", path).out)
    assert [(f["kind"], f["line"], f["rule"]) for f in found] == [
        ("test-failed", 7, 0),
        ("test-failed", 11, 2),
    ]


@pytest.mark.parametrize(
    ("entry", "line", "expected"),
    [
        pytest.param(
            "  - request: GET http://example.com/a\n    expect:\n      status: 301\n"
            "      locaton: /b\n",
            7,
            "tests[0].expect.locaton: unknown key; allowed: headers, location, status",
            id="typo-in-expect",
        ),
        pytest.param(
            "  - request: GET /a\n    expect: pass\n",
            4,
            "tests[0].request: '/a' is not an absolute http(s) URL: write the scheme and "
            "host too, e.g. https://example.com/a",
            id="url-without-host",
        ),
        pytest.param(
            "  - request: http://example.com/a\n    expect: pass\n",
            4,
            "tests[0].request: 'http://example.com/a' is not 'METHOD URL'",
            id="no-method",
        ),
        pytest.param(
            "  - request: GET http://example.com/a\n    expect: passes\n",
            5,
            "tests[0].expect: must be 'pass' or a mapping",
            id="bad-expect",
        ),
        pytest.param(
            "  - request: GET http://example.com/a\n",
            4,
            "tests[0]: needs expect",
            id="no-expect",
        ),
        pytest.param(
            "  - GET http://example.com/a\n",
            None,
            "tests[0]: must be a mapping with request and expect",
            id="not-a-mapping",
        ),
    ],
)
def test_a_malformed_test_entry_is_an_error_with_its_line(
    tmp_path: Path, entry: str, line: int | None, expected: str
) -> None:
    text = "rules:\n  - {from: /a, to: /b}\ntests:\n" + entry
    path = write(tmp_path, "redirects.yaml", text)
    run = run_cli("check", path)
    assert run.code == 1, run
    where = f"{path}:{line}" if line is not None else str(path)
    assert run.out.splitlines()[0].startswith(f"{where}: {expected}"), run.out


def test_several_files_one_invalid_exits_1(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", CLEAN_DOC)
    bad = write(tmp_path, "bad.json", '{"rules": [{"from": "/a", "to": "/b", "permanant": true}]}')
    run = run_cli("check", good, bad)
    assert run.code == 1, run
    lines = run.out.splitlines()
    assert lines[0].startswith(f"{bad}: rules[0]: permanant: unknown key (did you mean")
    assert lines[1:] == [f"{good}: ok: 2 rules, no tests, 0 warnings", f"{bad}: invalid"]


def test_a_file_that_is_not_yaml_says_where(tmp_path: Path) -> None:
    path = write(tmp_path, "redirects.yaml", "rules:\n  - from: /a\n    to: [/b\n")
    run = run_cli("check", path)
    assert run.code == 1, run
    assert run.out.startswith(f"{path}:4: not valid YAML: ")
    json_path = write(tmp_path, "redirects.json", '{"rules": [\n  {"from": "/a",}\n]}')
    run = run_cli("check", json_path)
    assert run.code == 1, run
    assert run.out.startswith(f"{json_path}:2: not valid JSON: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["missing.yaml"], "missing.yaml: no such file (check the path", id="missing"),
        pytest.param(
            ["rules.txt"], "rules.txt: a rule file must be named .yaml, .yml or .json", id="suffix"
        ),
        pytest.param(["."], ".: a rule file must be named .yaml", id="directory"),
    ],
)
def test_usage_errors_exit_2_and_say_what_to_do(
    tmp_path: Path, args: list[str], message: str
) -> None:
    write(tmp_path, "rules.txt", CLEAN_DOC)
    run = run_cli("check", *args, cwd=tmp_path)
    assert run.code == 2, run
    assert run.out == ""
    assert run.err.startswith(f"redirectware check: error: {message}"), run.err


def test_no_files_is_a_usage_error() -> None:
    run = run_cli("check")
    assert run.code == 2
    assert "the following arguments are required: FILE" in run.err


def test_version_and_help_with_examples() -> None:
    from redirectware import __version__

    version = run_cli("--version")
    assert (version.code, version.out) == (0, f"redirectware {__version__}\n")
    top = run_cli("--help")
    assert top.code == 0
    assert "example:\n  redirectware check redirects.yaml" in top.out
    for command in ("check", "explain", "serve"):
        shown = run_cli(command, "--help")
        assert shown.code == 0, shown
        assert f"example:\n  redirectware {command} " in shown.out, shown.out


def test_a_map_from_repeated_with_another_target_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "redirects.yaml",
        "rules:\n  - name: legacy\n    map:\n"
        "      - {from: /a, to: /b}\n      - {from: /a, to: /c}\n",
    )
    run = run_cli("check", path)
    assert run.code == 1, run
    assert run.out.splitlines()[0] == (
        f"{path}:5: rules[0] 'legacy': map: row '/a': from '/a' is mapped twice, to '/b' and '/c'"
    )


def _flood(tmp_path: Path, rows: int) -> Path:
    """A map whose every row chains into one template: one chain warning per row."""
    lines = ["from,to", *(f"/old/{i},/tmpl/p{i}" for i in range(rows))]
    (tmp_path / "old.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return write(
        tmp_path,
        "flood.yaml",
        "version: 1\nrules:\n  - name: legacy\n    map: old.csv\n"
        "  - name: tmpl\n    from: /tmpl/{p}\n    to: /new/{p}\n",
    )


def test_many_warnings_of_one_kind_on_one_rule_are_summed_up(tmp_path: Path) -> None:
    path = _flood(tmp_path, 5000)
    run = run_cli("check", path)
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines[0] == f"{path}:3: warning: rules[0] 'legacy': chain: 5000 warnings, the first 3:"
    assert [line.split(": warning:")[0] for line in lines[1:4]] == [
        f"  {tmp_path / 'old.csv'}:{n}" for n in (2, 3, 4)
    ]
    assert lines[4] == "  ... and 4997 more (--verbose prints them all, --json too)"
    assert lines[5:] == [f"{path}: ok: 2 rules, no tests, 5000 warnings"]


def test_verbose_and_json_keep_every_warning(tmp_path: Path) -> None:
    path = _flood(tmp_path, 50)
    verbose = run_cli("check", "--verbose", path)
    assert (
        sum(
            ": chain: " not in line and "starts a chain" in line
            for line in verbose.out.splitlines()
        )
        == 50
    )
    found = json.loads(run_cli("check", "--json", path).out)
    assert [item["line"] for item in found] == list(range(2, 52))


def test_a_few_warnings_are_printed_whole(tmp_path: Path) -> None:
    path = _flood(tmp_path, 3)
    lines = run_cli("check", path).out.splitlines()
    assert len(lines) == 4
    assert all("starts a chain" in line for line in lines[:3])
