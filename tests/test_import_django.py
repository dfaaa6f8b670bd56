"""``redirectware import django`` (a dumpdata of django.contrib.redirects): every row applies
only once the app has answered 404, as ``RedirectFallbackMiddleware`` does."""

from __future__ import annotations

from pathlib import Path

from redirectware import RuleSet
from redirectware.tools.expectations import expectations_of, run_expectations
from redirectware.tools.importing.formats import import_file
from redirectware.tools.importing.writing import render

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def test_django_rows_wait_for_not_found(tmp_path: Path) -> None:
    result = import_file("django", FIXTURES / "django" / "redirects.json")
    assert not result.losses
    assert [item.line for item in result.items] == [3, 4, 5, 6]
    hosts = [item.rules[0].get("host") for item in result.items]
    assert hosts == ["shop.example.com", "shop.example.com", "shop.example.com", None]
    assert all(item.rules[0]["when"] == "not_found" for item in result.items)
    assert any("no host condition" in note for note in result.notes)
    path = tmp_path / "imported.yaml"
    path.write_text(render(result).document)
    ruleset = RuleSet.from_file(path)
    expectations = expectations_of(ruleset)
    # One per row, and one per row's APPEND_SLASH second try (/old-page/ also answers
    # /old-page, as Django's default APPEND_SLASH = True does).
    assert len(expectations) == 7 and all(e.app_not_found for e in expectations)
    assert not run_expectations(ruleset, expectations)

    def answer(method: str, path: str, host: str = "shop.example.com") -> tuple[int, str | None]:
        if not ruleset.resolve(method, "https", host, path).passes:
            return (0, "answered before the app")
        after = ruleset.resolve_not_found(method, "https", host, path)
        return (after.status or 404, after.location)

    assert answer("GET", "/old-page/") == (301, "https://shop.example.com/new-page/")
    assert answer("GET", "/old-page") == (301, "https://shop.example.com/new-page/")
    assert answer("GET", "/discontinued") == (410, None)
    assert answer("GET", "/products.php") == (404, None)  # the row holds a query
    after = ruleset.resolve_not_found("GET", "https", "shop.example.com", "/products.php", "id=3")
    assert (after.status, after.location) == (301, "https://shop.example.com/widget")
    # An empty new_path: Django answers 410 Gone.
    assert answer("GET", "/discontinued/") == (410, None)
    assert answer("GET", "/discontinued/", "other.example.com") == (404, None)
    # A POST after the app's 404: 308 (contrib answers 301), the client sends its body again.
    assert answer("POST", "/old-page/") == (308, "https://shop.example.com/new-page/")
