"""``redirectware import cloudflare``: the Bulk Redirects CSV, as Cloudflare documents it
(fixture in tests/fixtures/import/cloudflare, written for these tests)."""

from __future__ import annotations

from pathlib import Path

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.expectations import expectations_of, run_expectations


def _import(source: Path, folder: Path) -> RuleSet:
    out = folder / "redirects.yaml"
    main(["import", "cloudflare", str(source), "-o", str(out)])
    ruleset = RuleSet.from_file(out)
    assert not run_expectations(ruleset, expectations_of(ruleset))
    return ruleset


def _answer(ruleset: RuleSet, url: str, method: str = "GET") -> tuple[int | None, str | None]:
    scheme, _, rest = url.partition("://")
    host, _, target = rest.partition("/")
    path, _, query = ("/" + target).partition("?")
    decision = ruleset.resolve(method, scheme, host, path, query)
    return (decision.status if decision.location else None), decision.location


def test_fixture(tmp_path: Path) -> None:
    source = Path(__file__).parent / "fixtures" / "import" / "cloudflare" / "bulk.csv"
    assert main(["import", "cloudflare", str(source), "-o", str(tmp_path / "r.yaml"),
                 "--report", str(tmp_path / "r.json")]) == 1  # fmt: skip
    ruleset = _import(source, tmp_path)
    # The most specific wins: /docs/old (exact, line 3) over /docs/ (subpath, line 2).
    assert _answer(ruleset, "http://example.com/docs/old") == (
        302,
        "https://docs.example.com/legacy",
    )
    # Subpath matching with the suffix and the query preserved.
    assert _answer(ruleset, "https://example.com/docs/a/b?x=1") == (
        301,
        "https://docs.example.com/a/b?x=1",
    )
    # Query dropped by default; no scheme in the source: http and https.
    assert _answer(ruleset, "http://example.com/about?x=1") == (301, "https://example.com/company")
    # A scheme in the source: that scheme only; subdomains; no path suffix.
    assert _answer(ruleset, "https://a.b.example.com/shop/x") == (308, "https://shop.example.com/")
    assert _answer(ruleset, "http://example.com/shop") == (None, None)
    assert _answer(ruleset, "https://example.com/shopping") == (None, None)
    assert '"line": 6' in (tmp_path / "r.json").read_text()


def test_a_long_exact_list_becomes_a_csv_map(tmp_path: Path) -> None:
    source = tmp_path / "list.csv"
    rows = [f"example.com/old/{n},https://example.com/new/{n},301,false,false,false,true"
            for n in range(80)]  # fmt: skip
    source.write_text("\n".join(rows) + "\n")
    ruleset = _import(source, tmp_path)
    assert (tmp_path / "redirects-1.csv").read_text().count("\n") == 81
    assert len(ruleset.rules) == 1 and ruleset.rules[0].host is not None
    assert _answer(ruleset, "https://example.com/old/79") == (301, "https://example.com/new/79")
    assert _answer(ruleset, "https://other.example/old/79") == (None, None)
