"""``redirectware import django`` (a dumpdata of django.contrib.redirects), and the rules
every importer writes commented out: they load and pass their tests once enabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from redirectware import RuleSet
from redirectware.tools.expectations import expectations_of, run_expectations
from redirectware.tools.importing.formats import import_file
from redirectware.tools.importing.writing import render

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def test_django_rows_wait_for_not_found() -> None:
    result = import_file("django", FIXTURES / "django" / "redirects.json")
    assert not result.items
    assert [(loss.line, loss.why.split(" (")[0]) for loss in result.losses] == [
        (2, "Django applies it only when the app answers 404"),
        (4, "Django applies it only when the app answers 404"),
        (5, "an empty new_path answers 410"),
        (6, "Django applies it only when the app answers 404"),
    ]
    hosts = [item.rules[0].get("host") for item in result.disabled]
    assert hosts == ["shop.example.com", "shop.example.com", None]  # site 2 is not in the dump
    assert any("no host condition" in note for note in result.notes)


@pytest.mark.parametrize(
    ("fmt", "source"),
    [
        ("django", FIXTURES / "django" / "redirects.json"),
        ("netlify", FIXTURES / "netlify" / "multiple_lines"),
        ("netlify", FIXTURES / "netlify" / "to_anchor"),
    ],
)
def test_commented_out_rules_work_once_enabled(fmt: str, source: Path, tmp_path: Path) -> None:
    result = import_file(fmt, source)
    assert result.disabled
    result.items, result.disabled = result.items + result.disabled, []
    path = tmp_path / "enabled.yaml"
    path.write_text(render(result).document)
    ruleset = RuleSet.from_file(path)
    expectations = expectations_of(ruleset)
    assert expectations
    assert not run_expectations(ruleset, expectations)
