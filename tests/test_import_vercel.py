"""``redirectware import vercel`` (fixture in tests/fixtures/import/vercel)."""

from __future__ import annotations

from pathlib import Path

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.expectations import expectations_of, run_expectations

FIXTURE = Path(__file__).parent / "fixtures" / "import" / "vercel" / "vercel.json"


def _answer(ruleset: RuleSet, url: str, method: str = "GET",
            headers: dict[str, str] | None = None) -> tuple[int | None, str | None]:  # fmt: skip
    scheme, _, rest = url.partition("://")
    host, _, target = rest.partition("/")
    path, _, query = ("/" + target).partition("?")
    decision = ruleset.resolve(method, scheme, host, path, query, headers)
    return (decision.status if decision.location else None), decision.location


def test_fixture(tmp_path: Path) -> None:
    out, report = tmp_path / "redirects.yaml", tmp_path / "losses.json"
    assert main(["import", "vercel", str(FIXTURE), "-o", str(out), "--report", str(report)]) == 1
    ruleset = RuleSet.from_file(out)
    assert not run_expectations(ruleset, expectations_of(ruleset))
    # Vercel sends 308 to GET for a permanent redirect: status 308, not permanent: true.
    assert _answer(ruleset, "https://example.com/me") == (308, "https://example.com/profile.html")
    assert _answer(ruleset, "https://example.com/user?x=1") == (
        307,
        "https://example.com/api/user?x=1",
    )
    # :path* is renamed (redirectware's {path} is the whole path) and may be empty.
    assert _answer(ruleset, "https://example.com/old-blog/a/b") == (
        308,
        "https://example.com/blog/a/b",
    )
    assert _answer(ruleset, "https://example.com/old-blog") == (308, "https://example.com/blog")
    assert _answer(ruleset, "https://example.com/beta") == (None, None)
    assert _answer(ruleset, "https://example.com/beta", headers={"cookie": "beta=x"}) == (
        307,
        "https://example.com/beta-home",
    )
    lost = report.read_text()
    assert '"line": 8' in lost and '"line": 9' in lost and '"line": 10' in lost


def test_netlify_path_capture_is_renamed_too(tmp_path: Path) -> None:
    source = tmp_path / "_redirects"
    source.write_text("/docs/:path /manual/:path 301!\n")
    out = tmp_path / "r.yaml"
    assert main(["import", "netlify", str(source), "-o", str(out)]) == 0
    ruleset = RuleSet.from_file(out)
    assert _answer(ruleset, "https://example.com/docs/intro") == (
        301,
        "https://example.com/manual/intro",
    )
