"""``redirectware import nginx`` (fixtures in tests/fixtures/import/nginx, written for these
tests from nginx's documentation; see the README there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.expectations import expectations_of, run_expectations
from redirectware.tools.importing.nginx import parse
from redirectware.tools.importing.settling import settle
from redirectware.tools.importing.writing import render

FIXTURES = Path(__file__).parent / "fixtures" / "import" / "nginx"


def _translate(path: Path, folder: Path) -> tuple[RuleSet, dict[int, str]]:
    result = parse(path.read_text(), str(path))
    settle(result)
    out = folder / "imported.yaml"
    out.write_text(render(result).document)
    ruleset = RuleSet.from_file(out)
    assert not run_expectations(ruleset, expectations_of(ruleset))
    return ruleset, {loss.line: loss.why for loss in result.losses}


def _answer(ruleset: RuleSet, url: str, method: str = "GET") -> tuple[int | None, str | None]:
    scheme, _, rest = url.partition("://")
    host, _, target = rest.partition("/")
    path, _, query = ("/" + target).partition("?")
    decision = ruleset.resolve(method, scheme, host, path, query)
    return (decision.status if decision.location else None), decision.location


def test_site(tmp_path: Path) -> None:
    ruleset, losses = _translate(FIXTURES / "site.conf", tmp_path)
    assert sorted(losses) == [1, 5, 17, 22, 23]
    assert "without case" in losses[1] and "from_regex" in losses[5]
    assert "internal rewrite" in losses[17] and "gone" in losses[22] and "if" in losses[23]
    # http -> https for the server_name, as the if ($scheme = http) said.
    assert _answer(ruleset, "http://example.com/x?y=1") == (301, "https://example.com/x?y=1")
    assert _answer(ruleset, "http://other.example/x") == (None, None)
    # return drops the query; location = is exact; ^~ is a prefix.
    assert _answer(ruleset, "https://example.com/contact?x=1") == (
        302,
        "https://example.com/contact-us",
    )
    assert _answer(ruleset, "https://example.com/contact/more") == (None, None)
    assert _answer(ruleset, "https://example.com/docs/a/b") == (301, "https://docs.example.com/")
    # $is_args$args keeps it; the longer location /old/keep/ serves content: excepted.
    assert _answer(ruleset, "https://example.com/old/x?q=1") == (
        301,
        "https://example.com/new/?q=1",
    )
    assert _answer(ruleset, "https://example.com/old/keep/x") == (None, None)
    # rewrite ... permanent keeps the query.
    assert _answer(ruleset, "https://example.com/blog/7/post?a=b") == (
        301,
        "https://example.com/posts/post?a=b",
    )
    # The map: its rows, the query dropped (return), 308 to a POST.
    assert _answer(ruleset, "https://example.com/old-page?x") == (
        301,
        "https://example.com/new-page",
    )
    assert _answer(ruleset, "https://example.com/old-page", "POST") == (
        308,
        "https://example.com/new-page",
    )


def test_maps(tmp_path: Path) -> None:
    ruleset, losses = _translate(FIXTURES / "maps.conf", tmp_path)
    assert {line: why.split(" (")[0] for line, why in losses.items()} == {
        4: "nginx compares map keys without case",
        8: "a regex key needs issue 15's from_regex",
        9: "a regex key needs issue 15's from_regex",
        10: "a value with a variable is not translated",
        11: "an include in a map is not followed",
    }
    assert _answer(ruleset, "http://shop.example.com/Old/Page") == (
        308,
        "http://shop.example.com/new/page",
    )
    # "\include" is the key "include", escaped: it never matches a $uri (a note, no loss).
    assert _answer(ruleset, "http://shop.example.com/include") == (None, None)
    # nginx would also take /old/page (keys without case): reported above, not matched here.
    assert _answer(ruleset, "http://shop.example.com/old/page") == (None, None)
    assert _answer(ruleset, "http://shop.example.com/legacy?a=1") == (
        301,
        "https://shop.example.com/modern?a=1",
    )


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ("location ~ ^/a { return 301 /b; }", "from_regex"),
        ("location /a { return 301 /b; }\nlocation ~ \\.php$ { }", "regex locations"),
        ("return 301 $http_referer;", "the variable $http_referer"),
        ("rewrite ^/a/(.+)$ /b/$1 permanent;", "from_regex"),
        ("return 303 /b;", "303"),
    ],
)
def test_what_is_not_translated_says_why(config: str, why: str) -> None:
    result = parse(config + "\n", "redirects.conf")
    assert [loss.line for loss in result.losses] == [1]
    assert why in result.losses[0].why


def test_cli(tmp_path: Path) -> None:
    source = tmp_path / "redirects.conf"
    source.write_text("location = /a { return 301 /b; }\n")
    assert main(["import", "nginx", str(source), "-o", str(tmp_path / "r.yaml")]) == 0
    assert "from: /a" in (tmp_path / "r.yaml").read_text()
