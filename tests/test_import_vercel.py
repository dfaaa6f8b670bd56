"""``redirectware import vercel`` (fixture in tests/fixtures/import/vercel)."""

from __future__ import annotations

import json
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
    # :path* is renamed (redirectware's {path} is the whole path) and may be empty: Vercel
    # writes the destination as /blog/$1 and fills an empty match with nothing.
    assert _answer(ruleset, "https://example.com/old-blog/a/b") == (
        308,
        "https://example.com/blog/a/b",
    )
    assert _answer(ruleset, "https://example.com/old-blog") == (308, "https://example.com/blog/")
    # Vercel's patterns are strict about a trailing slash.
    assert _answer(ruleset, "https://example.com/old-blog/a/b/") == (None, None)
    assert _answer(ruleset, "https://example.com/old-blog/") == (None, None)
    assert _answer(ruleset, "https://example.com/me/") == (None, None)
    assert _answer(ruleset, "https://example.com/beta") == (None, None)
    assert _answer(ruleset, "https://example.com/beta", headers={"cookie": "beta=x"}) == (
        307,
        "https://example.com/beta-home",
    )
    lost = json.loads(report.read_text())["not_translated"]
    assert [loss["line"] for loss in lost] == [8, 9]
    # A look-ahead: RE2 refuses it, and the report says so.
    assert "RE2 cannot compile" in lost[0]["why"] and "look-around" in lost[0]["why"]
    # :id+ (one segment or more) is a from_regex; the destination's :id+ names it.
    assert _answer(ruleset, "https://example.com/items/a/b?x=1") == (
        308,
        "https://example.com/i/a/b?x=1",
    )
    assert _answer(ruleset, "https://example.com/items") == (None, None)
    assert _answer(ruleset, "https://example.com/items/a", "POST") == (
        308,
        "https://example.com/i/a",
    )


def test_patterns_and_optional_parameters(tmp_path: Path) -> None:
    source = tmp_path / "vercel.json"
    entries = [
        {"source": "/post/:id(\\d{1,5})", "destination": "/p/:id"},
        {"source": "/:lang?/about", "destination": "/about-us/:lang"},
        {"source": "/x/:a(\\d+)/:rest*", "destination": "/y"},
        {"source": "/z/(.*)", "destination": "/w"},
    ]
    # One entry a line: lines 2 to 5.
    source.write_text('{"redirects": [\n' + ",\n".join(map(json.dumps, entries)) + "\n]}\n")
    out, report = tmp_path / "redirects.yaml", tmp_path / "losses.json"
    assert main(["import", "vercel", str(source), "-o", str(out), "--report", str(report)]) == 0
    lost = {loss["line"]: loss["why"] for loss in json.loads(report.read_text())["not_translated"]}
    assert not lost
    ruleset = RuleSet.from_file(out)
    assert not run_expectations(ruleset, expectations_of(ruleset))
    assert _answer(ruleset, "https://example.com/post/123") == (308, "https://example.com/p/123")
    assert _answer(ruleset, "https://example.com/post/123456") == (None, None)
    assert _answer(ruleset, "https://example.com/post/abc") == (None, None)
    assert _answer(ruleset, "https://example.com/fr/about") == (
        308,
        "https://example.com/about-us/fr",
    )
    assert _answer(ruleset, "https://example.com/about") == (308, "https://example.com/about-us/")
    # An optional parameter beside a pattern: a from_regex whose optional group takes the
    # "/" before it along, as path-to-regexp's does.
    assert _answer(ruleset, "https://example.com/x/12") == (308, "https://example.com/y")
    assert _answer(ruleset, "https://example.com/x/12/a/b") == (308, "https://example.com/y")
    assert _answer(ruleset, "https://example.com/x/12/") == (None, None)
    # An unnamed group is a parameter as path-to-regexp reads it.
    assert _answer(ruleset, "https://example.com/z/a/b") == (308, "https://example.com/w")
    assert _answer(ruleset, "https://example.com/z") == (None, None)


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


#: Lines: headers' and rewrites' "source" keys come first and must not be counted.
SLASH_SOURCE = """\
{
  "headers": [
    { "source": "/(.*)", "headers": [{ "key": "x-frame-options", "value": "DENY" }] }
  ],
  "rewrites": [{ "source": "/api/(.*)", "destination": "/api" }],
  "trailingSlash": false,
  "redirects": [
    { "source": "/11.x/:splat*", "destination": "/:splat*" },
    {
      "destination": "/guide",
      "source": "/reference"
    },
    { "source": "/a", "missing": [{ "type": "cookie", "key": "x" }], "destination": "/b" }
  ]
}
"""


def test_lines_trailing_slash_and_an_empty_splat(tmp_path: Path) -> None:
    source = tmp_path / "vercel.json"
    source.write_text(SLASH_SOURCE)
    out, report = tmp_path / "redirects.yaml", tmp_path / "losses.json"
    assert main(["import", "vercel", str(source), "-o", str(out), "--report", str(report)]) == 1
    lost = json.loads(report.read_text())["not_translated"]
    assert [loss["line"] for loss in lost] == [13]
    written = out.read_text()
    assert f"# {source}:6: " in written and f"# {source}:8: " in written
    assert f"# {source}:11: " in written
    ruleset = RuleSet.from_file(out)
    assert not run_expectations(ruleset, expectations_of(ruleset))
    # /:splat* with an empty splat is "/", as Vercel fills $1 with nothing.
    assert _answer(ruleset, "https://example.com/11.x") == (308, "https://example.com/")
    assert _answer(ruleset, "https://example.com/11.x/a/b?q=1") == (
        308,
        "https://example.com/a/b?q=1",
    )
    # trailingSlash: false comes first: /reference/ loses its slash, then the redirect
    # applies (one redirect for Vercel's two).
    assert _answer(ruleset, "https://example.com/reference/") == (308, "https://example.com/guide")
    assert _answer(ruleset, "https://example.com/other/") == (308, "https://example.com/other")
    assert _answer(ruleset, "https://example.com/") == (None, None)


def test_trailing_slash_true(tmp_path: Path) -> None:
    source = tmp_path / "vercel.json"
    source.write_text(
        '{"trailingSlash": true, "redirects": [{"source": "/a/", "destination": "/b/"}]}'
    )
    out = tmp_path / "redirects.yaml"
    assert main(["import", "vercel", str(source), "-o", str(out)]) == 0
    ruleset = RuleSet.from_file(out)
    assert _answer(ruleset, "https://example.com/a") == (308, "https://example.com/b/")
    assert _answer(ruleset, "https://example.com/c/d") == (308, "https://example.com/c/d/")
    assert _answer(ruleset, "https://example.com/file.html") == (None, None)
    assert _answer(ruleset, "https://example.com/file.html/") == (
        308,
        "https://example.com/file.html",
    )
    assert _answer(ruleset, "https://example.com/.well-known/x") == (None, None)
