"""``redirectware import nginx`` (fixtures in tests/fixtures/import/nginx, written for these
tests from nginx's documentation; see the README there)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.expectations import expectations_of, run_expectations
from redirectware.tools.importing.nginx import parse
from redirectware.tools.importing.result import absolute
from redirectware.tools.importing.settling import settle
from redirectware.tools.importing.writing import render
from tests import edge_servers

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
    return (None, None) if decision.passes else (decision.status, decision.location)


def test_site(tmp_path: Path) -> None:
    ruleset, losses = _translate(FIXTURES / "site.conf", tmp_path)
    assert sorted(losses) == [17, 23]
    assert "internal rewrite" in losses[17] and "if" in losses[23]
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
    # The map: its rows, the query dropped (return), 308 to a POST; nginx compares its
    # string keys without case.
    assert _answer(ruleset, "https://example.com/old-page?x") == (
        301,
        "https://example.com/new-page",
    )
    assert _answer(ruleset, "https://example.com/OLD-Page") == (
        301,
        "https://example.com/new-page",
    )
    assert _answer(ruleset, "https://example.com/old-page", "POST") == (
        308,
        "https://example.com/new-page",
    )
    # The map's regex key, after its strings.
    assert _answer(ruleset, "https://example.com/x/a/b") == (301, "https://example.com/y/a/b")
    # return 410: gone, to every method.
    for method in ("GET", "POST"):
        assert _answer(ruleset, "https://example.com/gone/x", method) == (410, None)


def test_maps(tmp_path: Path) -> None:
    ruleset, losses = _translate(FIXTURES / "maps.conf", tmp_path)
    assert {line: why.split(" (")[0] for line, why in losses.items()} == {
        10: "a value with a variable is not translated",
        11: "an include in a map is not followed",
    }
    for path in ("/Old/Page", "/old/page", "/OLD/PAGE"):
        assert _answer(ruleset, "http://shop.example.com" + path) == (
            308,
            "http://shop.example.com/new/page",
        )
    # "\include" is the key "include", escaped: it never matches a $uri (a note, no loss).
    assert _answer(ruleset, "http://shop.example.com/include") == (None, None)
    # ~ keys are regexes with the case written, ~* without case.
    assert _answer(ruleset, "http://shop.example.com/re/a/b") == (
        308,
        "http://shop.example.com/regex/a/b",
    )
    assert _answer(ruleset, "http://shop.example.com/RE/a") == (None, None)
    assert _answer(ruleset, "http://shop.example.com/CI") == (
        308,
        "http://shop.example.com/case-insensitive",
    )
    assert _answer(ruleset, "http://shop.example.com/ci/x") == (None, None)
    assert _answer(ruleset, "http://shop.example.com/legacy?a=1") == (
        301,
        "https://shop.example.com/modern?a=1",
    )


def test_regex_locations_as_nginx_chooses_them(tmp_path: Path) -> None:
    source = tmp_path / "regex.conf"
    source.write_text(
        "server {\n"
        "    server_name example.com;\n"
        "    location = /keep.php { proxy_pass http://app; }\n"
        "    location ^~ /static/ { root /srv; }\n"
        "    location ~* \\.php$ { return 301 https://legacy.example.com$uri; }\n"
        '    location ~ "^/blog/(\\d{4})/(?<slug>[^/]+)$" { return 301 /posts/$slug?y=$1; }\n'
        "    location ~ ^/(a)\\1$ { return 301 /b; }\n"
        "    location ~ ^/gone/ { return 410; }\n"
        "    location /old/ { return 301 /new/; }\n"
        "}\n"
    )
    ruleset, losses = _translate(source, tmp_path)
    assert list(losses) == [7, 9]
    assert "RE2 cannot compile" in losses[7] and "back-references" in losses[7]
    assert "line 7 is not translated" in losses[9]
    for url, method, answer in [
        ("https://example.com/index.PHP", "GET", (301, "https://legacy.example.com/index.PHP")),
        ("https://example.com/a/b.php?x=1", "POST", (308, "https://legacy.example.com/a/b.php")),
        ("https://example.com/keep.php", "GET", (None, None)),  # = location serves it
        ("https://example.com/static/a.php", "GET", (None, None)),  # ^~ beats the regex
        ("https://example.com/blog/2024/hello", "GET", (301, "https://example.com/posts/hello?y=2024")),
        ("https://example.com/blog/24/hello", "GET", (None, None)),
        ("https://example.com/aa", "GET", (None, None)),  # not translated: reported
        ("https://example.com/gone/x", "GET", (410, None)),
    ]:  # fmt: skip
        assert _answer(ruleset, url, method) == answer, url
    rules = {rule.name: rule for rule in ruleset.rules}
    assert rules["nginx-5"].regex is not None and not rules["nginx-5"].case_sensitive


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ("location ~ ^/(?=a) { return 301 /b; }", "RE2 cannot compile"),
        ("location /a { return 301 /b; }\nlocation ~ \\.php$ { }", "serves content"),
        ("return 301 $http_referer;", "the variable $http_referer"),
        ("rewrite ^/(a)\\1$ /b permanent;", "back-references"),
        ("return 303 /b;", "303"),
        ("location @fallback { return 301 /b; }", "named location"),
        ("location ~ ^/a { rewrite ^/a/(.*)$ /b/$1 permanent; }", "two regexes"),
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


def test_without_re2_a_regex_is_reported_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "re2", None)  # import re2: ImportError
    result = parse("location ~ ^/a/(.*)$ { return 301 /b/$1; }\n", "redirects.conf")
    assert [loss.line for loss in result.losses] == [1]
    assert "pip install 'redirectware[regex]'" in result.losses[0].why


#: A nested location, an if inside a location, a location that answers 404 itself: each
#: line numbered for the report.
NESTED = """\
location ^~ /.well-known {
    location = /.well-known/change-password { return 301 /account/password; }
    location /.well-known/old/ { return 301 /new/; }
}
location /shop/ {
    if ($http_x_beta) { return 302 /beta/; }
}
location ~ \\.php$ { return 404; }
location = /moved { return 301 /moved-here; }
return 404;
"""


def _from_path(url: str) -> str:
    """A URL from its path on: what two servers on different ports agree on."""
    return "/" + url.partition("://")[2].partition("/")[2]


def test_nested_locations_ifs_and_404s_against_the_real_nginx(tmp_path: Path) -> None:
    result = parse(NESTED, "redirects.conf")
    settle(result)
    losses = {loss.line: loss.why for loss in result.losses}
    assert sorted(losses) == [6, 8, 10]
    assert "inside an if ($http_x_beta) in location /shop/" in losses[6]
    assert losses[8].startswith("return 404 is not a redirect")
    assert losses[10].startswith("return 404 is not a redirect")
    out = tmp_path / "imported.yaml"
    out.write_text(render(result).document)
    ruleset = RuleSet.from_file(out)
    # The real nginx, with the file as a server-level include (a server-level return 404
    # would answer everything: left out of what nginx runs, as it is reported).
    served = NESTED.replace("return 404;\n", "")
    with edge_servers.nginx(served, tmp_path) as server:
        for path in [
            "/.well-known/change-password",
            "/.well-known/change-password/x",
            "/.well-known/old/a/b?q=1",
            "/.well-known/other",
            "/moved",
            "/moved?x=1",
            "/moved/",
            "/a.php",
            "/shop/x",
        ]:
            for method in ("GET", "POST"):
                source = edge_servers.answer(server, method, path, "example.com")
                ours = _answer(ruleset, "http://example.com" + path, method)
                if source.status in (301, 302):
                    # 307/308 to a POST: redirectware's one documented difference.
                    code = source.status if method == "GET" else {301: 308, 302: 307}[source.status]
                    # nginx writes its own port into the Location: compare from the path on.
                    where = _from_path(absolute(source.location or "", "http", "example.com"))
                    assert (ours[0], _from_path(ours[1] or "")) == (code, where), path
                else:
                    assert ours == (None, None), path
    assert _answer(ruleset, "http://example.com/.well-known/change-password") == (
        301,
        "http://example.com/account/password",
    )


def test_what_the_parser_cannot_read_is_reported_with_its_line() -> None:
    # An unquoted { in a regex: nginx refuses the file ("unexpected }"), and so does the
    # importer, instead of writing nothing and reporting nothing.
    source = "location = /a { return 301 /b; }\nlocation ~ ^/[0-9]{4}$ { return 301 /x; }\n"
    result = parse(source, "redirects.conf")
    lines = [loss.line for loss in result.losses]
    assert 2 in lines
    assert all("cannot read" in loss.why for loss in result.losses if loss.line == 2)
    assert any(
        loss.line == 2 and loss.text.startswith("location ~ ^/[0-9]{4}$") for loss in result.losses
    )
    # The return inside the misread block is reported too, not dropped.
    assert [loss for loss in result.losses if "return 301 /x" in loss.text]


def test_the_cli_exits_1_on_a_file_it_cannot_read(tmp_path: Path) -> None:
    source = tmp_path / "redirects.conf"
    source.write_text("location ~ ^/[0-9]{4}$ { return 301 /x; }\n")
    assert main(["import", "nginx", str(source), "-o", str(tmp_path / "r.yaml")]) == 1


def test_a_regex_location_nested_in_a_prefix_one_is_reported() -> None:
    source = "location /a/ {\n    location ~ \\.php$ {\n        return 301 /b;\n    }\n}\n"
    result = parse(source, "redirects.conf")
    assert [loss.line for loss in result.losses] == [3]
    assert "nested in location /a/" in result.losses[0].why
    assert not result.items
