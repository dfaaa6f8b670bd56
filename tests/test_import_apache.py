"""``redirectware import apache``: mod_alias and mod_rewrite, as Apache's documentation
describes them (fixtures in tests/fixtures/import/apache, written for these tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.expectations import expectations_of, run_expectations
from redirectware.tools.importing.apache import parse
from redirectware.tools.importing.settling import settle
from redirectware.tools.importing.writing import render
from tests import edge_servers
from tests.judges.servers import apache_htaccess

FIXTURES = Path(__file__).parent / "fixtures" / "import" / "apache"


def _translate(text: str, source: str, folder: Path) -> tuple[RuleSet, list[tuple[int, str]]]:
    result = parse(text, source)
    settle(result)
    path = folder / "imported.yaml"
    path.write_text(render(result).document)
    ruleset = RuleSet.from_file(path)
    assert not run_expectations(ruleset, expectations_of(ruleset))
    return ruleset, [(loss.line, loss.why) for loss in result.losses]


def _answer(ruleset: RuleSet, url: str, method: str = "GET") -> tuple[int | None, str | None]:
    scheme, _, rest = url.partition("://")
    host, _, target = rest.partition("/")
    path, _, query = ("/" + target).partition("?")
    decision = ruleset.resolve(method, scheme, host, path, query)
    return (None, None) if decision.passes else (decision.status, decision.location)


def test_htaccess(tmp_path: Path) -> None:
    source = FIXTURES / "htaccess"
    ruleset, losses = _translate(source.read_text(), str(tmp_path / ".htaccess"), tmp_path)
    assert [line for line, _ in losses] == [13]
    assert "internal rewrite" in losses[0][1]
    # RedirectMatch 410 and Redirect gone (a prefix: the paths below too) answer 410.
    for path in ("/gone", "/removed", "/removed/x"):
        assert _answer(ruleset, "https://example.com" + path) == (410, None)
    assert _answer(ruleset, "https://example.com/gone/x") == (None, None)
    # [NC]: case_sensitive: false, the capture as the request wrote it.
    assert _answer(ruleset, "https://example.com/SHOP/Hat") == (
        302,
        "https://example.com/store/Hat",
    )
    # mod_alias's Redirect: a prefix at segment boundaries, the rest appended, query kept.
    assert _answer(ruleset, "https://example.com/old/a?x=1") == (
        301,
        "https://example.com/new/a?x=1",
    )
    assert _answer(ruleset, "https://example.com/older") == (None, None)
    assert _answer(ruleset, "https://example.com/service") == (
        302,
        "http://foo2.example.com/service",
    )
    # A target ending in "?" drops the query, as Apache does.
    assert _answer(ruleset, "https://example.com/p.php?id=3") == (301, "https://example.com/page")
    # The host condition, and the https redirect built from %{HTTP_HOST}%{REQUEST_URI}.
    assert _answer(ruleset, "https://www.example.com/a/b") == (301, "https://example.com/a/b")
    assert _answer(ruleset, "http://example.com/x?y=1") == (301, "https://example.com/x?y=1")
    # Apache's 301 to a POST becomes 308.
    assert _answer(ruleset, "https://example.com/old", "POST") == (308, "https://example.com/new")


def test_server_context_orders_rewrite_before_alias(tmp_path: Path) -> None:
    source = FIXTURES / "site.conf"
    ruleset, losses = _translate(source.read_text(), str(source), tmp_path)
    assert losses == [(10, "inside <location>: its scope is not translated")]
    # RewriteRule (line 6) acts before Redirect (line 4) in server context.
    assert _answer(ruleset, "http://old.example.com/shop/sale") == (
        302,
        "https://shop.example.com/deals",
    )
    assert _answer(ruleset, "http://old.example.com/shop/x") == (301, "https://shop.example.com/x")
    assert _answer(ruleset, "http://other.example.com/shop/x") == (None, None)  # ServerName
    assert _answer(ruleset, "http://old.example.com/api/v1/a/b") == (
        308,
        "https://api.example.com/v2/a/b",
    )


def test_regexes_a_template_cannot_say_become_from_regex(tmp_path: Path) -> None:
    text = (
        "RedirectMatch 301 \\.pdf$ https://files.example.com/\n"
        "RedirectMatch 301 ^/(?<lang>en|fr)/old/(.+)$ /$lang/new/$2\n"
        "RewriteRule ^p/([a-z]+)\\.html$ /pages/$1 [R=301,L,NC]\n"
        "RewriteRule ^legacy/ - [G]\n"
        "RewriteRule ^(a)\\1$ /b [R,L]\n"
    )
    ruleset, losses = _translate(text, str(tmp_path / ".htaccess"), tmp_path)
    assert [line for line, _ in losses] == [5]
    assert "RE2 cannot compile" in losses[0][1] and "back-references" in losses[0][1]
    regex_rules = [rule for rule in ruleset.rules if rule.regex is not None]
    assert len(regex_rules) == 3  # ^legacy/ is a template: /legacy/{p1:path}
    for url, method, answer in [
        # RedirectMatch searches the path: no ^, anywhere in it.
        ("https://example.com/docs/a.pdf", "GET", (301, "https://files.example.com/")),
        ("https://example.com/docs/a.pdf", "POST", (308, "https://files.example.com/")),
        ("https://example.com/docs/a.pdfx", "GET", (None, None)),
        ("https://example.com/fr/old/a/b", "GET", (301, "https://example.com/fr/new/a/b")),
        ("https://example.com/de/old/a", "GET", (None, None)),
        # .htaccess: the pattern sees the path without its leading slash; [NC].
        ("https://example.com/P/Intro.HTML", "GET", (301, "https://example.com/pages/Intro")),
        ("https://example.com/p/intro.html/x", "GET", (None, None)),
        ("https://example.com/legacy/a", "POST", (410, None)),
        ("https://example.com/aa", "GET", (None, None)),
    ]:
        assert _answer(ruleset, url, method) == answer, url


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("RewriteRule ^old/(?!keep)(.*)$ /new/$1 [R=301,L]", "RE2 cannot compile"),
        ("RewriteRule ^a$ /b [R=303,L]", "[R=303] is not a redirect"),
        ("RewriteRule ^a$ /b/%1 [R,L]", "%N in the target"),
        ("RewriteRule ^a$ /b/$2 [R,L]", "$2 is not captured"),
        ("RewriteRule ^a(.)$ /b/$2 [R,L]", "$2 is not captured by the regex"),
        ("RedirectMatch ^/a/(.*)$", "expected RedirectMatch"),
        ("RewriteRule ^a$ /b [R,L,F]", "flag(s) F not translated"),
    ],
)
def test_what_is_not_translated_says_why(line: str, why: str, tmp_path: Path) -> None:
    result = parse(f"{line}\n", ".htaccess")
    assert [loss.line for loss in result.losses] == [1]
    assert why in result.losses[0].why


def test_cli(tmp_path: Path) -> None:
    source = tmp_path / ".htaccess"
    source.write_text("Redirect 301 /a https://example.com/b\n")
    out = tmp_path / "redirects.yaml"
    assert main(["import", "apache", str(source), "-o", str(out)]) == 0
    assert "# " + str(source) + ":1: Redirect 301 /a https://example.com/b" in out.read_text()


#: A path that a Redirect and a RewriteRule [R] both name, the Redirect first in the file.
BOTH = """\
Redirect 301 /both /from-alias
Redirect 302 /alias-only /alias-target
RewriteEngine On
RewriteRule ^both$ /from-rewrite [R=301,L]
RewriteRule ^rewrite-only/(.*)$ /rewrite-target/$1 [R=302,L]
"""


def _from_path(url: str) -> str:
    """A URL from its path on: what two servers on different ports agree on."""
    return "/" + url.partition("://")[2].partition("/")[2]


def test_htaccess_rewrite_acts_before_redirect_as_the_real_apache_does(tmp_path: Path) -> None:
    ruleset, losses = _translate(BOTH, str(tmp_path / ".htaccess"), tmp_path)
    assert not losses
    paths = ["/both", "/both/x", "/alias-only/a?q=1", "/rewrite-only/a/b", "/other"]
    with apache_htaccess(BOTH, tmp_path / "apache") as server:
        for path in paths:
            for method in ("GET", "POST"):
                source = edge_servers.answer(server, method, path, "example.com")
                ours = _answer(ruleset, "http://example.com" + path, method)
                if source.status in (301, 302):
                    # 307/308 to a POST: redirectware's one documented difference.
                    code = source.status if method == "GET" else {301: 308, 302: 307}[source.status]
                    assert (ours[0], _from_path(ours[1] or "")) == (
                        code,
                        _from_path(source.location or ""),
                    ), path
                else:
                    assert ours == (None, None), path
    assert _answer(ruleset, "http://example.com/both") == (301, "http://example.com/from-rewrite")


def test_a_fallback_for_a_server_without_a_module_is_reported() -> None:
    source = (
        "<IfModule mod_rewrite.c>\n"
        "    RewriteRule ^old$ /new [R=301,L]\n"
        "</IfModule>\n"
        "<IfModule !mod_rewrite.c>\n"
        "    RedirectMatch 307 ^/$ /index.php/\n"
        "</IfModule>\n"
        "Redirect 301 /a /b\n"
    )
    result = parse(source, ".htaccess")
    assert [(loss.line, loss.why.split(":")[0]) for loss in result.losses] == [
        (5, "inside <IfModule !mod_rewrite.c>")
    ]
    assert [item.line for item in result.items] == [2, 7]
