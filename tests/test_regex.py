"""``from_regex``: RE2 patterns, their load errors, and that Python's ``re`` never runs them.

The answers run through every adapter in the shared table (``tests/cases.py``, the
``regex-*`` cases).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from redirectware import RuleError, RuleSet
from tests.console import run_cli, write


@pytest.mark.parametrize(
    ("rule", "line", "message"),
    [
        pytest.param(
            "- from_regex: '/(?P<a>x)\\1'\n  to: /y",
            3,
            "rules[0]: from_regex: RE2 cannot compile '/(?P<a>x)\\\\1': invalid escape sequence: "
            "\\1 (RE2 has no back-references or look-around: it matches in linear time)",
            id="back-reference",
        ),
        pytest.param(
            "- from_regex: '/(?=x)'\n  to: /y",
            3,
            "rules[0]: from_regex: RE2 cannot compile '/(?=x)': invalid perl operator: (?=",
            id="look-ahead",
        ),
        pytest.param(
            "- from_regex: '/posts/(?P<year>\\d+)'\n  to: /blog/{year}/{slug}",
            4,
            "rules[0]: to: placeholder {slug} is not captured by from_regex "
            "'/posts/(?P<year>\\\\d+)'",
            id="group-missing",
        ),
        pytest.param(
            "- from_regex: '(/old)?'\n  to: /y",
            3,
            "rules[0]: from_regex: '(/old)?' matches an empty path; a path always starts with '/'",
            id="matches-empty",
        ),
        pytest.param(
            "- from: /x\n  from_regex: /y\n  to: /z",
            4,
            "rules[0]: from_regex: give either from or from_regex, not both",
            id="both",
        ),
        pytest.param(
            "- from_regex: [/x]\n  to: /z",
            3,
            "rules[0]: from_regex: must be a regular expression string, got ['/x']",
            id="not-a-string",
        ),
        pytest.param(
            "- from_regex: /x\n  map: [{from: /a, to: /b}]",
            3,
            "rules[0]: from_regex: a map rule matches the from of its rows; remove from_regex",
            id="with-map",
        ),
    ],
)
def test_load_errors_name_file_line_rule_and_key(
    tmp_path: Path, rule: str, line: int, message: str
) -> None:
    path = write(tmp_path, "r.yaml", "version: 1\nrules:\n" + rule + "\n")
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    assert str(caught.value).startswith(f"{path}:{line}: {message}"), str(caught.value)


def test_without_the_extra_the_document_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "re2", None)  # what "not installed" looks like to import
    with pytest.raises(RuleError) as caught:
        RuleSet.from_dict({"rules": [{"from_regex": "/x", "to": "/y"}]})
    assert "from_regex needs the 'regex' extra" in str(caught.value)
    assert "pip install 'redirectware[regex]'" in str(caught.value)
    # A document without from_regex does not need RE2.
    assert RuleSet.from_dict({"rules": [{"from": "/x", "to": "/y"}]}).rules


#: Patterns that take Python's backtracking ``re`` exponential time on a hostile path.
HOSTILE = [
    (r"/(?P<a>(x+)+)y", "/" + "x" * 5000, "/xxy"),
    (r"/(?P<a>(a|aa)+)b", "/" + "a" * 5000, "/aab"),
    (r"/(?P<a>.*)(?P<b>.*)(?P<c>.*)z", "/" + "q" * 20000, "/qqz"),
]


def _re_calls(pattern: str) -> tuple[list[str], Any]:
    """A profile hook recording each call of Python's ``re`` made for ``pattern``."""
    calls: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "c_call" and isinstance(getattr(arg, "__self__", None), re.Pattern):
            if arg.__self__.pattern == pattern:
                calls.append(f"re.Pattern.{arg.__name__}")
        elif (
            event == "call"
            and frame.f_globals.get("__name__") == "re"
            and frame.f_locals.get("pattern") == pattern
        ):
            calls.append(f"re.{frame.f_code.co_name}")

    return calls, profile


def test_the_probe_sees_pythons_re() -> None:
    """The hook below does see ``re`` at work when it is used: its silence means something."""
    calls, profile = _re_calls(r"/(?P<a>x+)y")
    sys.setprofile(profile)
    try:
        re.compile(r"/(?P<a>x+)y").fullmatch("/xy")
    finally:
        sys.setprofile(None)
    assert "re.compile" in calls and "re.Pattern.fullmatch" in calls


@pytest.mark.parametrize(("pattern", "path", "matching"), HOSTILE)
def test_pythons_re_never_runs_a_from_regex(pattern: str, path: str, matching: str) -> None:
    """Structural, not timed: while the engine loads and answers, no call of Python's ``re``
    (its compile, or a method of a compiled pattern) is made for the rule's pattern."""
    calls, profile = _re_calls(pattern)
    sys.setprofile(profile)
    try:
        rules = RuleSet.from_dict({"rules": [{"from_regex": pattern, "to": "/caught/{a}"}]})
        missed = rules.resolve("GET", "http", "example.com", path)
        matched = rules.resolve("GET", "http", "example.com", matching)
    finally:
        sys.setprofile(None)
    assert calls == []
    assert type(rules.rules[0].regex.compiled).__module__.startswith("re2")  # type: ignore[union-attr]
    assert missed.passes
    assert matched.status == 302
    assert matched.location is not None and matched.location.startswith(
        "http://example.com/caught/"
    )


def test_explain_and_tests_entries(tmp_path: Path) -> None:
    doc = write(
        tmp_path,
        "r.yaml",
        "rules:\n"
        "  - name: posts\n"
        "    from_regex: '/posts/(?P<year>\\d{4})/(?P<slug>[^/]+)\\.html'\n"
        "    to: /blog/{year}/{slug}\n"
        "    permanent: true\n"
        "tests:\n"
        "  - request: GET http://example.com/posts/2024/hi.html\n"
        "    expect: {status: 301, location: http://example.com/blog/2024/hi}\n"
        "  - request: GET http://example.com/posts/24/hi.html\n"
        "    expect: pass\n",
    )
    run = run_cli("explain", doc, "GET", "http://example.com/posts/2024/hi.html")
    assert run.code == 0, run
    assert (
        "matching: from_regex '/posts/(?P<year>\\\\d{4})/(?P<slug>[^/]+)\\\\.html', run on RE2"
        in run.out
    )
    checked = run_cli("check", doc)
    assert checked.code == 0, checked
    assert "2 of 2 tests passed, 0 warnings" in checked.out


@pytest.mark.servers  # a subprocess timing loops: left out of the quick loop
def test_the_benchmark_prints_a_row_per_count() -> None:
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "regex_rules.py"
    done = subprocess.run(
        [sys.executable, str(script), "--counts", "1", "3", "--repeat", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    counts = [line.split("|")[0].strip() for line in done.stdout.splitlines()[1:]]
    assert counts == ["1", "3"]
