"""``redirectware import netlify``: Netlify's own parser fixtures and GitLab Pages' matching
cases (tests/fixtures/import/netlify, sources in SOURCES.md there)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.expectations import expectations_of, run_expectations
from redirectware.tools.importing.netlify import parse, parse_redirects
from redirectware.tools.importing.settling import settle
from redirectware.tools.importing.writing import render
from tests.fixtures.import_netlify_cases import CASES, OURS

FIXTURES = Path(__file__).parent / "fixtures" / "import" / "netlify"

#: fixture -> (rules translated, {line: words of the reason it was not}), from what
#: Netlify's parser makes of each (tests/line-parser.test.ts in netlify/build).
EXPECTED: dict[str, tuple[int, dict[int, str]]] = {
    "status_force": (1, {}),
    "to_splat_force": (1, {}),
    "comment_inline": (1, {}),
    "to_anchor": (1, {}),
    "from_absolute_uri": (1, {}),
    "multiple_lines": (2, {}),
    "query": (2, {2: "uses the value of query parameter 'post'"}),
    "conditions_country": (0, {1: "Country condition"}),
    "proxy": (0, {1: "status 200 to another site is a proxy, not a redirect"}),
    "to_path_forward": (0, {1: "a rewrite, not a redirect", 2: "a rewrite, not a redirect"}),
}
if sys.version_info >= (3, 11):
    EXPECTED["complex.toml"] = (0, {1: "Country, Language, Role condition", 10: "signed"})


def _load(document: str, folder: Path) -> RuleSet:
    path = folder / "imported.yaml"
    path.write_text(document)
    return RuleSet.from_file(path)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_netlify_fixture(name: str, tmp_path: Path) -> None:
    source = FIXTURES / name
    result = parse(source.read_text(), str(source))
    settle(result)
    translated, lost = EXPECTED[name]
    assert len(result.items) == translated
    assert {loss.line: loss.why for loss in result.losses}.keys() == lost.keys()
    for loss in result.losses:
        assert lost[loss.line] in loss.why
        assert str(loss).startswith(f"{source}:{loss.line}: not translated: ")
    for item in result.items:
        # Netlify's "!" (force = true) applies whatever the site serves; a rule without it
        # only where the site has no file, i.e. where the app answers 404.
        forced = "!" in item.text.split("#")[0] or "force = true" in item.text
        assert all(("when" not in rule) == forced for rule in item.rules), item.text
    ruleset = _load(render(result).document, tmp_path)
    expectations = expectations_of(ruleset)
    assert len(expectations) >= translated
    assert not run_expectations(ruleset, expectations)


def test_the_translation_answers_as_netlify(tmp_path: Path) -> None:
    text = (
        "/test https://www.bitballoon.com/test=hello 301!\n"
        "/*  https://www.bitballoon.com/:splat 302!\n"
    )
    ruleset = _load(render(parse_redirects(text, "_redirects")).document, tmp_path)
    for path, status, location in [
        ("/test", 301, "https://www.bitballoon.com/test=hello"),
        ("/test/", 301, "https://www.bitballoon.com/test=hello"),
        ("/x/y", 302, "https://www.bitballoon.com/x/y"),
    ]:
        got = ruleset.resolve("GET", "https", "example.com", path)
        assert (got.status, got.location) == (status, location)
    # The point of redirectware: Netlify's 301 to a POST becomes 308.
    assert ruleset.resolve("POST", "https", "example.com", "/test").status == 308


@pytest.mark.parametrize(("name", "rule", "path", "gitlab"), CASES, ids=[c[0] for c in CASES])
def test_gitlab_pages_matching_case(
    name: str, rule: str, path: str, gitlab: str | None, tmp_path: Path
) -> None:
    result = parse_redirects(rule + " 301!\n", "_redirects")
    settle(result)
    expected, why = OURS.get(name, (gitlab, ""))
    if expected == "lost":
        assert [loss.line for loss in result.losses] == [1]
        assert why.split(" (")[0] in result.losses[0].why
        return
    assert not result.losses
    decision = _load(render(result).document, tmp_path).resolve("GET", "http", "example.com", path)
    if expected is None:
        assert decision.location is None, why
    else:
        assert decision.location == "http://example.com" + expected


def test_cli_import_exit_status_report_and_csv_map(tmp_path: Path) -> None:
    lines = [f"/old/{n} /new/{n} 301!" for n in range(60)] + ["/x /y 200", "/a /b"]
    source = tmp_path / "_redirects"
    source.write_text("\n".join(lines) + "\n")
    out, report = tmp_path / "redirects.yaml", tmp_path / "losses.json"
    assert main(["import", "netlify", str(source), "-o", str(out), "--report", str(report)]) == 1
    csv_file = tmp_path / "redirects-1.csv"
    assert csv_file.read_text().splitlines()[:2] == ["from,to,status", "/old/0,/new/0,301"]
    assert len(csv_file.read_text().splitlines()) == 1 + 60  # one row per line, not two
    ruleset = RuleSet.from_file(out)
    map_rule = ruleset.rules[0]
    assert map_rule.ignore_trailing_slash and not map_rule.when_not_found
    assert ruleset.resolve("GET", "http", "example.com", "/old/7/").location == (
        "http://example.com/new/7"
    )
    # Both spellings of each forced line, and of the unforced /a after the app's 404.
    assert len(expectations_of(ruleset)) == 120 + 2
    assert not run_expectations(ruleset, expectations_of(ruleset))
    losses = json.loads(report.read_text())["not_translated"]
    assert [(loss["line"], loss["source"]) for loss in losses] == [(61, "/x /y 200")]
    assert losses[0]["why"] == "status 200 is a rewrite, not a redirect"
    assert ruleset.resolve("GET", "http", "example.com", "/a").passes  # the app serves it
    assert ruleset.resolve_not_found("GET", "http", "example.com", "/a").location == (
        "http://example.com/b"
    )


def _answers(ruleset: RuleSet, method: str, path: str) -> tuple[int | None, str | None]:
    """What ``ruleset`` answers ``method path``: before the app is asked, else once the app
    has answered 404 (None: the request reaches the app, or its 404 stands)."""
    decision = ruleset.resolve(method, "https", "example.com", path)
    if decision.passes:
        decision = ruleset.resolve_not_found(method, "https", "example.com", path)
    return (None, None) if decision.passes else (decision.status, decision.location)


def test_unforced_lines_wait_for_not_found_and_forced_ones_always_apply(tmp_path: Path) -> None:
    text = (
        "/a /b\n"
        "/c /d 302!\n"
        "/gone 410\n"
        "/legal 451!\n"
        "/x /y 200\n"
        "/blog/* /news/:splat\n"
        "/missing /404.html 404\n"
    )
    result = parse_redirects(text, "_redirects")
    settle(result)
    assert [(loss.line, loss.why) for loss in result.losses] == [
        (5, "status 200 is a rewrite, not a redirect"),
        (7, "status 404 serves a custom not-found page (a rewrite), not a redirect"),
    ]
    ruleset = _load(render(result).document, tmp_path)
    assert not run_expectations(ruleset, expectations_of(ruleset))
    # Unforced: Netlify serves a file that exists there; redirectware lets the app answer,
    # and redirects only once it has answered 404.
    assert ruleset.resolve("GET", "https", "example.com", "/a").passes
    for method, path, answer in [
        ("GET", "/a", (301, "https://example.com/b")),
        ("HEAD", "/a/", (301, "https://example.com/b")),
        ("POST", "/a", (308, "https://example.com/b")),  # after the 404: the body sent again
        ("GET", "/c", (302, "https://example.com/d")),
        ("GET", "/c/", (302, "https://example.com/d")),
        ("POST", "/c", (307, "https://example.com/d")),  # never a POST turned into a GET
        ("GET", "/gone", (410, None)),
        ("GET", "/gone/", (410, None)),
        ("POST", "/legal", (451, None)),
        ("GET", "/blog", (301, "https://example.com/news/")),
        ("GET", "/blog/a/b/", (301, "https://example.com/news/a/b/")),
        ("GET", "/x", (None, None)),
    ]:
        assert _answers(ruleset, method, path) == answer, (method, path)
    assert not ruleset.resolve("GET", "https", "example.com", "/c").passes  # before the app


def test_one_rule_per_line_with_trailing_slash_ignore(tmp_path: Path) -> None:
    result = parse_redirects("/about /about-us 301!\n/team/ /people 301!\n", "_redirects")
    assert [len(item.rules) for item in result.items] == [1, 1]
    assert all(item.rules[0]["trailing_slash_match"] == "ignore" for item in result.items)
    ruleset = _load(render(result).document, tmp_path)
    for path, location in [("/about", "/about-us"), ("/about/", "/about-us"),
                           ("/team", "/people"), ("/team/", "/people")]:  # fmt: skip
        assert _answers(ruleset, "GET", path) == (301, "https://example.com" + location)
    assert _answers(ruleset, "GET", "/about/x") == (None, None)


def test_cli_import_all_translated_and_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "_redirects"
    source.write_text("/old /new 302!\n")
    assert main(["import", "netlify", str(source)]) == 0
    assert "to: /new" in capsys.readouterr().out
    assert main(["import", "netlify", str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit) as raised:
        main(["import", "wordpress", str(source)])
    assert raised.value.code == 2


def test_check_format_fails_on_what_import_would_lose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "_redirects"
    source.write_text("/a /b 301!\n/b /c 301!\n/x /y 200\n/p /q\n")
    out = tmp_path / "imported.yaml"
    assert main(["import", "netlify", str(source), "-o", str(out)]) == 1
    capsys.readouterr()
    out.unlink()
    # The same translation: the line import loses fails the check, named with file:line.
    assert main(["check", "--format", "netlify", str(source)]) == 1
    printed = capsys.readouterr().out
    assert f"{source}:3: error: not translated: status 200 is a rewrite, not a redirect" in printed
    assert f"{source}:4:" not in printed  # unforced, translated: no error
    assert "chain" in printed  # /a -> /b -> /c: the check's own warning, on the translation
    assert f"{source}:1: http://example.com/a -> http://example.com/b continues to" in printed
    assert list(tmp_path.iterdir()) == [source]
    assert main(["check", "--json", "--format", "netlify", str(source)]) == 1
    reports = json.loads(capsys.readouterr().out)
    lost = [r for r in reports if r["kind"] == "not-translated"]
    assert [(r["file"], r["line"], r["severity"]) for r in lost] == [(str(source), 3, "error")]
    # Nothing lost: the check passes, as import would.
    source.write_text("/a /b 301!\n/p /q\n")
    assert main(["check", "--format", "netlify", str(source)]) == 0


def test_a_later_forced_line_that_takes_an_unforced_one_is_reported(tmp_path: Path) -> None:
    # Netlify tries /a /b first where no file exists; redirectware would answer the forced
    # line before the app is asked: /a /b cannot answer as on Netlify.
    result = parse_redirects("/a /b\n/a /c 301!\n/d /e\n/d/x /f 301!\n", "_redirects")
    settle(result)
    assert [(loss.line, loss.why.split(",")[0]) for loss in result.losses] == [
        (1, "_redirects:2 applies whatever the app serves")
    ]
    assert [item.line for item in result.items] == [2, 3, 4]  # /d/x does not take /d
    ruleset = _load(render(result).document, tmp_path)
    assert not run_expectations(ruleset, expectations_of(ruleset))


@pytest.mark.skipif(sys.version_info < (3, 11), reason="netlify.toml needs tomllib")
def test_netlify_toml_force_and_gone(tmp_path: Path) -> None:
    text = (
        '[[redirects]]\n  from = "/old"\n  to = "/new"\n\n'
        '[[redirects]]\n  from = "/always"\n  to = "/here"\n  status = 302\n  force = true\n\n'
        '[[redirects]]\n  from = "/removed"\n  status = 410\n  force = true\n'
    )
    result = parse(text, "netlify.toml")
    settle(result)
    assert not result.losses
    assert [(item.line, item.rules[0].get("when")) for item in result.items] == [
        (1, "not_found"),
        (5, None),
        (11, None),
    ]
    ruleset = _load(render(result).document, tmp_path)
    assert not run_expectations(ruleset, expectations_of(ruleset))
    assert _answers(ruleset, "GET", "/old/") == (301, "https://example.com/new")
    assert _answers(ruleset, "POST", "/always") == (307, "https://example.com/here")
    assert _answers(ruleset, "GET", "/removed") == (410, None)


def test_a_star_that_ends_the_path_is_a_splat_and_a_target_query_replaces_the_request_one(
    tmp_path: Path,
) -> None:
    text = (
        "/inbox*  /mail/:splat  301!\n"  # 1: a splat, as Netlify's documentation reads it
        "/form    /f?usp=sharing  302!\n"  # 2: the target's query, not the request's
        "/news/*  /n/:splat?from=news\n"  # 3: the same, unforced, with a splat
        "/a*b     /c  301!\n"  # 4: a * inside the path: ambiguous, reported
    )
    result = parse_redirects(text, "_redirects")
    settle(result)
    assert [(loss.line, loss.why.split(":")[0]) for loss in result.losses] == [
        (4, "a '*' inside the path")
    ]
    assert any("_redirects:1: the '*' that ends /inbox*" in note for note in result.notes)
    ruleset = _load(render(result).document, tmp_path)
    for path, query, answer in [
        ("/inbox", "", (301, "https://example.com/mail/")),
        ("/inboxes", "", (301, "https://example.com/mail/es")),
        ("/inbox/a/b/", "x=1", (301, "https://example.com/mail//a/b/?x=1")),
        ("/inbo", "", (None, None)),
        ("/form", "utm=1", (302, "https://example.com/f?usp=sharing")),
        ("/form/", "", (302, "https://example.com/f?usp=sharing")),
    ]:
        got = ruleset.resolve("GET", "https", "example.com", path, query)
        assert ((got.status, got.location) if got.location else (None, None)) == answer, path
    # The unforced line answers after the app's 404, its target's query as written.
    decision = ruleset.resolve("GET", "https", "example.com", "/news/a", "utm=1")
    assert decision.passes
    assert not run_expectations(ruleset, expectations_of(ruleset))
    document = render(result).document
    assert "keep_query: false" in document
