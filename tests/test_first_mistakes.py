"""What a newcomer trips over first: each message names the fix, at the right place."""

from __future__ import annotations

from pathlib import Path

import pytest

from redirectware import RuleError, RuleSet
from tests.console import run_cli

# --- deprecated: without sunset: --------------------------------------------------------------

DEPRECATED_ONLY = {
    "version": 1,
    "rules": [
        {
            "name": "api-v1",
            "from": "/api/v1/{rest:path}",
            "to": "/api/v2/{rest}",
            "permanent": True,
            "deprecated": "2026-01-01",
        }
    ],
}


@pytest.mark.parametrize(("method", "status"), [("GET", 301), ("POST", 308)])
def test_deprecated_alone_sends_deprecation_without_sunset(method: str, status: int) -> None:
    # RFC 9745's Deprecation stands on its own: no sunset date is needed to announce it.
    decision = RuleSet.from_dict(DEPRECATED_ONLY).resolve(
        method, "http", "example.com", "/api/v1/orders"
    )
    assert decision.status == status
    headers = dict(decision.headers)
    assert headers["Deprecation"] == "@1767225600"  # 2026-01-01T00:00:00Z
    assert "Sunset" not in headers


def test_deprecated_alone_is_exported_with_its_header(tmp_path: Path) -> None:
    document = tmp_path / "redirects.yaml"
    document.write_text(
        "version: 1\nrules:\n  - name: api-v1\n    from: /api/v1/{rest:path}\n"
        "    to: /api/v2/{rest}\n    deprecated: 2026-01-01\n",
        encoding="utf-8",
    )
    run = run_cli("export", "nginx", document)
    assert run.code == 0, run
    assert "@1767225600" in run.out
    assert "Wed, " not in run.out  # no Sunset date was written


# --- the command line -------------------------------------------------------------------------


def test_a_mistyped_option_names_the_closest_and_the_commands_usage(tmp_path: Path) -> None:
    run = run_cli("check", "--strcit", "redirects.yaml", cwd=tmp_path)
    assert run.code == 2
    assert "usage: redirectware check" in run.err
    assert "unrecognized arguments: --strcit (did you mean --strict?)" in run.err


def test_a_mistyped_command_names_the_closest(tmp_path: Path) -> None:
    run = run_cli("chek", "redirects.yaml", cwd=tmp_path)
    assert run.code == 2
    assert "'chek' is not a command; did you mean 'check'?" in run.err


@pytest.mark.parametrize(
    ("name", "text", "format_"),
    [
        ("_redirects", "/old /new 301\n", "netlify"),
        ("netlify.toml", '[[redirects]]\nfrom = "/old"\nto = "/new"\n', "netlify"),
        ("vercel.json", '{"redirects": [{"source": "/old", "destination": "/new"}]}', "vercel"),
        (".htaccess", "Redirect 301 /old /new\n", "apache"),
        ("shop.conf", "server {\n  location = /old { return 301 /new; }\n}\n", "nginx"),
        ("redirects.conf", "RewriteEngine On\nRewriteRule ^old$ /new [R=301,L]\n", "apache"),
    ],
)
def test_another_tools_file_points_to_its_format(
    tmp_path: Path, name: str, text: str, format_: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    run = run_cli("check", name, cwd=tmp_path)
    assert run.code == 2
    assert f"redirectware check --format {format_} {name}" in run.err
    # And the suggestion works as given.
    suggested = run_cli("check", "--format", format_, name, cwd=tmp_path)
    assert "this looks like" not in suggested.err
    assert suggested.code in (0, 1), suggested


def test_a_rule_document_named_vercel_json_is_read_as_one(tmp_path: Path) -> None:
    (tmp_path / "vercel.json").write_text(
        '{"version": 1, "rules": [{"from": "/old", "to": "/new"}]}', encoding="utf-8"
    )
    run = run_cli("check", "vercel.json", cwd=tmp_path)
    assert run.code == 0, run


# --- the document -----------------------------------------------------------------------------


@pytest.mark.parametrize("quote", ['"', "'"])
def test_an_unclosed_quote_is_reported_where_it_opened(tmp_path: Path, quote: str) -> None:
    path = tmp_path / "redirects.yaml"
    path.write_text(
        "version: 1\nrules:\n  - name: a\n    from: /a\n"
        f"    to: {quote}/b\n  - name: c\n    from: /c\n    to: /d\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    assert caught.value.line == 5
    assert f"the quote {quote} opened on line 5 is never closed" in str(caught.value)


def test_rules_written_as_a_mapping_says_each_rule_starts_with_a_dash() -> None:
    with pytest.raises(RuleError) as caught:
        RuleSet.from_dict({"version": 1, "rules": {"name": "a", "from": "/a", "to": "/b"}})
    assert caught.value.key == "rules"
    assert "each rule starts with '- '" in str(caught.value)
