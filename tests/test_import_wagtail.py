"""``redirectware import wagtail``: the redirects of ``wagtail.contrib.redirects`` as its
report exports them (CSV, XLSX) and as its import reads them (fixtures in
tests/fixtures/import/wagtail, see the README there)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.expectations import expectations_of, run_expectations
from redirectware.tools.importing.formats import import_file
from redirectware.tools.importing.result import ImportResult
from redirectware.tools.importing.writing import render

FIXTURES = Path(__file__).parent / "fixtures" / "import" / "wagtail"


def _ruleset(result: ImportResult, folder: Path) -> RuleSet:
    path = folder / "imported.yaml"
    path.write_text(render(result).document)
    ruleset = RuleSet.from_file(path)
    expectations = expectations_of(ruleset)
    assert expectations and all(e.app_not_found for e in expectations)
    assert not run_expectations(ruleset, expectations)
    return ruleset


def _answer(
    ruleset: RuleSet, method: str, url: str, app_serves: bool = False
) -> tuple[int, str | None]:
    """What a client gets: Wagtail's redirects apply once the app has answered 404 (404 here:
    the app's own 404 stands; 200: the app served it)."""
    scheme, _, rest = url.partition("://")
    host, _, target = rest.partition("/")
    path, _, query = ("/" + target).partition("?")
    before = ruleset.resolve(method, scheme, host, path, query)
    assert before.passes, "a Wagtail redirect never answers before the app"
    if app_serves:
        return 200, None
    after = ruleset.resolve_not_found(method, scheme, host, path, query)
    return (404, None) if after.passes else (after.status or 0, after.location)


EXPORT_LOSSES = {
    8: "no To (a redirect to a page since deleted): Wagtail lets the 404 stand",
    9: "site 'Intranet' is a site's name, not its hostname",
    10: "a redirect of the default site, which also answers every host no other site claims "
    "(Intranet, shop.example.com are named here): a host condition cannot say that",
}


def _check_export(result: ImportResult, folder: Path) -> None:
    assert {loss.line: loss.why for loss in result.losses} == EXPORT_LOSSES
    # Rows of one site first, as Wagtail prefers a site's own redirect.
    assert [item.line for item in result.items] == [6, 2, 3, 4, 5, 7]
    ruleset = _ruleset(result, folder)
    for method, url, answer in [
        ("GET", "https://example.com/about-us", (301, "https://example.com/about/")),
        # With or without the trailing slash; the request's query is not added.
        ("GET", "https://example.com/about-us/?utm=x", (301, "https://example.com/about/")),
        ("HEAD", "https://example.com/about-us", (301, "https://example.com/about/")),
        ("GET", "https://example.com/Blog/Old-Post", (302, "https://example.com/blog/new-post/")),
        # Wagtail keeps the case: /blog/old-post is another path.
        ("GET", "https://example.com/blog/old-post", (404, None)),
        # A From with a query: its parameters in any order; another query is not it.
        ("GET", "https://example.com/search?page=2&q=wagtail",
         (301, "https://example.com/search/wagtail/")),
        ("GET", "https://example.com/search?q=wagtail&page=2",
         (301, "https://example.com/search/wagtail/")),
        ("GET", "https://example.com/search?q=wagtail", (404, None)),
        ("GET", "https://example.com/events", (301, "https://events.example.org/")),
        ("GET", "https://shop.example.com/shop/sale", (301, "https://shop.example.com/shop/offers/")),
        ("GET", "https://example.com/shop/sale", (404, None)),  # another site's
        ("GET", "https://example.com/caf%C3%A9/", (301, "https://example.com/cafe/")),
        ("GET", "https://example.com/deleted-page", (404, None)),
        # A POST after the app's 404: 308, the client sends its body again to the new URL.
        ("POST", "https://example.com/about-us", (308, "https://example.com/about/")),
    ]:  # fmt: skip
        assert _answer(ruleset, method, url) == answer, url
    # The app serves the URL: the redirect never applies.
    assert _answer(ruleset, "GET", "https://example.com/about-us", app_serves=True) == (200, None)


def test_report_export_csv(tmp_path: Path) -> None:
    _check_export(import_file("wagtail", FIXTURES / "redirects-export.csv"), tmp_path)


def test_report_export_xlsx_reads_as_the_csv(tmp_path: Path) -> None:
    from_xlsx = import_file("wagtail", FIXTURES / "redirects-export.xlsx")
    _check_export(from_xlsx, tmp_path)
    from_csv = import_file("wagtail", FIXTURES / "redirects-export.csv")
    assert [item.rules for item in from_xlsx.items] == [item.rules for item in from_csv.items]


def test_import_shape_first_two_columns_permanent(tmp_path: Path) -> None:
    result = import_file("wagtail", FIXTURES / "redirects-import.csv")
    assert not result.losses
    assert any("every row is permanent (301)" in note for note in result.notes)
    ruleset = _ruleset(result, tmp_path)
    assert _answer(ruleset, "GET", "https://example.com/hello/") == (
        301,
        "http://hello.example.com/random/",
    )
    # Stored as Wagtail normalises it: no trailing slash, a leading one added.
    assert _answer(ruleset, "GET", "https://example.com/goodbye") == (
        301,
        "https://example.com/see-you/",
    )
    assert _answer(ruleset, "GET", "https://example.com/welcome") == (
        301,
        "https://example.com/home/",
    )


def test_sites_and_queries(tmp_path: Path) -> None:
    source = tmp_path / "redirects.csv"
    source.write_text(
        "From,To,Type,Site\n"
        "/a,/b,permanent,www.example.com [default]\n"
        "/c,/d,permanent,\n"
        "/g?a=1&b=2&c=3&d=4,/h,permanent,\n"
        "/i,/j,sometimes,\n"
    )
    result = import_file("wagtail", source)
    assert {loss.line: loss.why.split(":")[0] for loss in result.losses} == {
        4: "a query of 4 parameters, which Wagtail matches in any order",
        5: "a Type that is neither permanent nor temporary",
    }
    ruleset = _ruleset(result, tmp_path)
    # The default site answers every host no other site claims, and the file names none:
    # no host condition.
    assert _answer(ruleset, "GET", "https://anything.example/a") == (
        301,
        "https://anything.example/b",
    )
    # A site on port 443 (Wagtail writes "host:443" for it) or on another port.
    source.write_text(
        "From,To,Type,Site\n/a,/b,temporary,shop.example.com:443\n/c,/d,permanent,x.example:8000\n"
    )
    result = import_file("wagtail", source)
    assert [(loss.line, loss.why) for loss in result.losses] == [
        (3, "site 'x.example:8000' has a port a host condition cannot say")
    ]
    assert result.items[0].rules[0]["host"] == "shop.example.com"


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, report = tmp_path / "redirects.yaml", tmp_path / "losses.json"
    source = FIXTURES / "redirects-export.csv"
    assert main(["import", "wagtail", str(source), "-o", str(out), "--report", str(report)]) == 1
    lost = json.loads(report.read_text())["not_translated"]
    assert [(loss["file"], loss["line"]) for loss in lost] == [
        (str(source), line) for line in EXPORT_LOSSES
    ]
    written = out.read_text()
    assert f"# {source}:6: /shop/sale,/shop/offers/,permanent,shop.example.com" in written
    assert f"# {source}:2-7: 5 exact moves, one map row per path" in written
    assert "translation error" not in capsys.readouterr().err
    # check --format gives the same losses, and fails on them.
    assert main(["check", "--format", "wagtail", str(source)]) == 1
    printed = capsys.readouterr().out
    assert f"{source}:8: error: not translated: no To" in printed


def test_xlsx_without_openpyxl_says_which_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl: ImportError
    source = FIXTURES / "redirects-export.xlsx"
    assert main(["import", "wagtail", str(source), "-o", str(tmp_path / "r.yaml")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "pip install 'redirectware[wagtail]'" in lines[0]
    assert "Traceback" not in captured.err and not (tmp_path / "r.yaml").exists()
