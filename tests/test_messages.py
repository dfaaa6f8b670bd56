"""Error messages and counts say what the user did: tabs, unset variables, empty or
non-UTF-8 files, relative paths, and rules switched off with ``enabled: false``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from redirectware import RedirectMiddleware, RuleError, RuleSet
from tests.conftest import echo_asgi_app
from tests.console import run_cli, write


@pytest.fixture
def in_folder(tmp_path: Path) -> Iterator[Path]:
    """Run the test with ``tmp_path`` as the working directory."""
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def _error(path: Path) -> RuleError:
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    return caught.value


def test_a_tab_in_the_indentation_is_named_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "version: 1\nrules:\n  - name: a\n\tfrom: /x\n    to: /y\n")
    error = _error(path)
    assert error.line == 4
    assert str(error) == (
        f"{path}:4: a tab in the indentation: YAML indents with spaces only; "
        "replace the tab with spaces"
    )


def test_a_tab_on_a_line_of_its_own_is_named_too(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "version: 1\nrules:\n  - from: /x\n    to: /y\n\t\n")
    error = _error(path)
    assert (error.line, error.message.split(":")[0]) == (5, "a tab in the indentation")


def test_an_unset_variable_is_reported_at_the_key_that_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIRECTWARE_TEST_TARGET", raising=False)
    text = "version: 1\nrules:\n  - name: a\n    from: /x\n    to: ${REDIRECTWARE_TEST_TARGET}\n"
    error = _error(write(tmp_path, "r.yaml", text))
    assert (error.line, error.key, error.rule_index) == (5, "to", 0)
    assert "environment variable REDIRECTWARE_TEST_TARGET is not set" in error.message


def test_an_unset_variable_deeper_down_names_the_dotted_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIRECTWARE_TEST_MAINT", raising=False)
    text = (
        "version: 1\nrules:\n  - name: m\n    maintenance:\n"
        "      retry_after: 60\n      enabled: ${REDIRECTWARE_TEST_MAINT}\n"
    )
    error = _error(write(tmp_path, "r.yaml", text))
    assert (error.line, error.key) == (6, "maintenance.enabled")


def test_an_unset_variable_in_settings_names_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIRECTWARE_TEST_AGE", raising=False)
    text = (
        "version: 1\nsettings:\n  get_codes: classic\n"
        "  permanent_max_age: ${REDIRECTWARE_TEST_AGE}\nrules: []\n"
    )
    error = _error(write(tmp_path, "r.yaml", text))
    assert (error.line, error.key) == (4, "settings.permanent_max_age")


def test_an_unset_variable_in_a_dict_document_names_its_key() -> None:
    os.environ.pop("REDIRECTWARE_TEST_DICT", None)
    with pytest.raises(RuleError) as caught:
        RuleSet.from_dict({"rules": [{"from": "/x", "to": "${REDIRECTWARE_TEST_DICT}"}]})
    assert (caught.value.key, caught.value.line) == ("to", None)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n   \n"])
def test_an_empty_file_is_called_empty(tmp_path: Path, text: str) -> None:
    error = _error(write(tmp_path, "r.yaml", text))
    assert error.message.startswith("the file is empty"), error.message


def test_a_latin1_rule_file_names_the_line_and_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes("version: 1\nrules:\n  - from: /café\n    to: /y\n".encode("latin-1"))
    error = _error(path)
    assert error.line == 3
    assert error.message.startswith("not UTF-8 text (byte e9;"), error.message


def test_a_latin1_csv_map_names_the_csv_line(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_bytes("from,to\n/a,/b\n/c,/d\n/café,/e\n".encode("latin-1"))
    path = write(tmp_path, "r.yaml", "version: 1\nrules:\n  - name: legacy\n    map: old.csv\n")
    error = _error(path)
    assert f"{tmp_path / 'old.csv'}:4: not UTF-8 text (byte e9;" in error.message, error.message
    assert (error.line, error.key) == (4, "map")


def test_a_relative_path_that_is_missing_says_where_it_was_looked_for(in_folder: Path) -> None:
    with pytest.raises(RuleError) as caught:
        RedirectMiddleware(echo_asgi_app, rules="redirects.yaml")
    assert str(caught.value) == (
        f"redirects.yaml: no such file (a relative path is read from {in_folder})"
    )


def test_an_absolute_missing_path_needs_no_folder(tmp_path: Path) -> None:
    error = _error(tmp_path / "absent.yaml")
    assert str(error) == f"{tmp_path / 'absent.yaml'}: no such file"


FOUR_RULES = """\
version: 1
rules:
  - name: retired
    enabled: false
    from: /off
    to: /on
  - {from: /a, to: /b}
  - {from: /c, to: /d}
  - {from: /e, to: /f}
"""


def test_counts_include_disabled_rules_and_say_so(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", FOUR_RULES)
    ruleset = RuleSet.from_file(path)
    assert len(ruleset.rules) == 3
    assert ruleset.document.disabled == 1
    assert repr(ruleset) == f"<RuleSet {path}: 4 rules (1 disabled)>"
    run = run_cli("check", path)
    assert run.code == 0, run
    assert run.out.splitlines()[-1] == f"{path}: ok: 4 rules (1 disabled), no tests, 0 warnings"


def test_one_rule_is_singular(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "version: 1\nrules:\n  - {from: /a, to: /b}\n")
    assert repr(RuleSet.from_file(path)) == f"<RuleSet {path}: 1 rule>"
    assert (
        run_cli("check", path).out.splitlines()[-1] == f"{path}: ok: 1 rule, no tests, 0 warnings"
    )
