"""``redirectware export``: what it refuses and why, ``--partial``, and the command line.

The answers themselves are proven against the real servers in test_export_edges.py; these
tests need no server.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from redirectware import RuleSet
from redirectware.cli import main
from redirectware.tools.exporting.export import export
from redirectware.tools.exporting.plan import ExportError

UNSUPPORTED = """\
version: 1
rules:
  - name: beta
    from: /beta
    to: /new-beta
    headers: {X-Beta: "1"}
  - name: moved
    from: /old
    to: /new
  - name: down
    maintenance: {enabled: true, retry_after: 60}
  - name: campaign
    from: /promo
    to: /sale
    keep_query: [utm_*]
"""


@pytest.fixture
def unsupported(tmp_path: Path) -> Path:
    path = tmp_path / "redirects.yaml"
    path.write_text(UNSUPPORTED)
    return path


@pytest.mark.parametrize("fmt", ["nginx", "caddy"])
def test_what_a_target_cannot_express_fails_naming_file_line_rule_and_why(
    unsupported: Path, fmt: str
) -> None:
    with pytest.raises(ExportError) as raised:
        export(RuleSet.from_file(unsupported), fmt)
    text = str(raised.value)
    assert (
        f"{unsupported}:6: rules[0] 'beta': headers: a header condition is not exported to {fmt}"
        in text
    )
    assert f"{unsupported}:11: rules[2] 'down': maintenance:" in text
    assert f"{unsupported}:15: rules[3] 'campaign': keep_query:" in text
    assert "'moved'" not in text
    assert len(raised.value.problems) == 3


@pytest.mark.parametrize("fmt", ["nginx", "caddy"])
def test_partial_leaves_out_each_rule_with_a_comment(unsupported: Path, fmt: str) -> None:
    text = export(RuleSet.from_file(unsupported), fmt, partial=True)
    left_out = [line for line in text.splitlines() if line.startswith("# Left out: ")]
    assert len(left_out) == 3
    assert "rules[1] 'moved'" in text
    for name in ("beta", "down", "campaign"):
        assert not any(
            f"'{name}'" in line for line in text.splitlines() if not line.startswith("# Left out")
        )


def test_a_chain_through_the_canonical_host_is_one_redirect() -> None:
    # Before: refused. The middleware follows a chain onto another host when allowed_hosts
    # lists it, and sends one redirect to the end: so does the export.
    settings = {"allowed_hosts": ["example.com", "www.example.com"]}
    ruleset = RuleSet.from_dict({"settings": settings, "rules": [
        {"name": "www", "host": "www.example.com", "to": "http://example.com{path}"},
        {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}"},
    ]})  # fmt: skip
    assert ruleset.resolve("GET", "http", "www.example.com", "/api/v1/x").location == (
        "http://example.com/api/v2/x"
    )
    text = export(ruleset, "nginx")
    assert 'return 302 "http://example.com/api/v2/${rw1_rest}${rw1q}";' in text
    # A chain of two path rules is still refused: the rule should point at the end.
    ruleset = RuleSet.from_dict({"settings": settings, "rules": [
        {"name": "a", "from": "/a", "to": "/b"},
        {"name": "b", "from": "/b", "to": "/c"},
    ]})  # fmt: skip
    with pytest.raises(ExportError, match=r"rules\[0\] 'a': chain https?://example.com/a -> "):
        export(ruleset, "nginx")


def test_nginx_never_sends_301_or_302_to_other_methods() -> None:
    ruleset = RuleSet.from_dict({"rules": [
        {"from": "/a", "to": "/b", "status": 301},
        {"from": "/c", "to": "/d"},
    ]})  # fmt: skip
    text = export(ruleset, "nginx")
    blocks = re.findall(r'if \(\$rw_request ~ "(.*?)"\) \{\n.*\n    return (\d+) ', text)
    assert blocks
    for regex, status in blocks:
        if status in ("301", "302"):
            assert regex.startswith("^(?:GET|HEAD) "), regex
        else:
            assert regex.startswith("^(?!(?:GET|HEAD) )"), regex
    # Case-sensitive regexes over the target as sent, never a case-insensitive map.
    assert "map " not in text and "~*" not in text


def test_caddy_captures_never_use_caddy_s_own_names() -> None:
    # Vercel's ":path*" invites a capture named path, which clashes with Caddy's {path}.
    # And {path} in a target is the whole request path even where from captures "path".
    ruleset = RuleSet.from_dict({"rules": [
        {"from": "/docs/{path:path}", "to": "/d{path}"},
        {"from": "/s/{q}", "to": "/search?term={q}"},
    ]})  # fmt: skip
    text = export(ruleset, "caddy")
    config = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert '"{http.request.scheme}://{http.request.hostport}/d{http.regexp.rw0.rw0path}' in text
    assert "{http.regexp.rw1.rw1_q}" in text and "{http.regexp.rw1.rw1q}" in text
    assert not any("{path}" in line for line in config)
    assert (
        RuleSet.from_dict({"rules": [{"from": "/docs/{path:path}", "to": "/d{path}"}]})
        .resolve("GET", "http", "example.com", "/docs/x")
        .location
        == "http://example.com/d/docs/x"
    )


def test_cli_export_writes_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "redirects.yaml"
    rules.write_text("rules:\n  - {from: /old, to: /new, permanent: true}\n")
    out = tmp_path / "redirects.conf"
    assert main(["export", "nginx", str(rules), "-o", str(out)]) == 0
    assert "return 301" in out.read_text()
    assert main(["export", "caddy", str(rules)]) == 0
    assert "redir " in capsys.readouterr().out


def test_cli_export_fails_without_partial(
    unsupported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.conf"
    assert main(["export", "nginx", str(unsupported), "-o", str(out)]) == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert f"{unsupported}:6: rules[0] 'beta'" in err and "--partial" in err
    assert main(["export", "nginx", str(unsupported), "--partial", "-o", str(out)]) == 0
    assert out.read_text().count("# Left out: ") == 3


def test_cli_export_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["export", "apache2", str(tmp_path / "x.yaml")])
    assert raised.value.code == 2
    assert main(["export", "nginx", str(tmp_path / "missing.yaml")]) == 2


def test_an_https_rule_composes_with_the_next_hop_only() -> None:
    two_hops = {"rules": [
        {"name": "tls", "https": True, "permanent": True},
        {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}"},
    ]}  # fmt: skip
    text = export(RuleSet.from_dict(two_hops), "nginx")
    # Temporary, since one hop is: 302/307, no-store, straight to https and /api/v2.
    assert 'return 302 "https://$host/api/v2/${rw1_rest}${rw1q}";' in text
    assert 'return 307 "https://$host/api/v2/${rw1_rest}${rw1q}";' in text
    three_hops = {"rules": [
        *two_hops["rules"],
        {"name": "v2", "from": "/api/v2/{rest:path}", "to": "/api/v3/{rest}"},
    ]}  # fmt: skip
    with pytest.raises(ExportError, match=r"rules\[0\] 'tls': chain http://"):
        export(RuleSet.from_dict(three_hops), "nginx")


def test_a_dollar_in_a_target_is_refused_by_nginx_only() -> None:
    document = {"rules": [{"name": "m", "map": [{"from": "/a", "to": "/price$5"}]}]}
    with pytest.raises(ExportError, match=r"rules\[0\] 'm': map: a '\$' in the target of row /a"):
        export(RuleSet.from_dict(document), "nginx")
    assert 'redir "{http.request.scheme}://{http.request.hostport}/price$5' in export(
        RuleSet.from_dict(document), "caddy"
    )


def test_apache_has_nine_backreferences_only() -> None:
    names = "abcdefghij"
    rule = {"name": "deep", "from": "".join(f"/{{{n}}}" for n in names), "to": "/x/{j}"}
    ruleset = RuleSet.from_dict({"rules": [rule]})
    assert "${rw0_j}" in export(ruleset, "nginx")
    with pytest.raises(ExportError, match=r"rules\[0\] 'deep': from: more than nine groups"):
        export(ruleset, "apache")


GONE = """\
version: 1
rules:
  - name: old
    from: /old
    gone: true
  - name: legal
    from: /blocked
    gone: 451
  - name: rows
    map:
      - {from: /row-gone, status: 410}
      - {from: /row-legal, status: 451}
"""


@pytest.mark.parametrize("fmt", ["nginx", "caddy", "apache"])
def test_gone_rules_and_rows_are_exported_with_one_status_for_every_method(
    fmt: str, tmp_path: Path
) -> None:
    # Before: gone rules were left out of the file, and a 410/451 map row raised KeyError.
    path = tmp_path / "redirects.yaml"
    path.write_text(GONE)
    text = export(RuleSet.from_file(path), fmt)
    answers = {"nginx": ("return 410;", "return 451;"), "caddy": ("respond 410", "respond 451"),
               "apache": ("[R=410,", "[R=451,")}[fmt]  # fmt: skip
    for answer in answers:
        assert text.count(answer) == 2, text  # the rule and the map row, once each
    assert "GET|HEAD" not in text  # one entry for every method


def test_sunset_headers_are_exported() -> None:
    ruleset = RuleSet.from_dict({"rules": [
        {"name": "v1", "from": "/v1/{rest:path}", "to": "/v2/{rest}",
         "sunset": "2030-01-01T00:00:00Z"},
    ]})  # fmt: skip
    assert 'set $rw_sunset "Tue, 01 Jan 2030 00:00:00 GMT";' in export(ruleset, "nginx")
    assert 'header Deprecation "@1893456000"' in export(ruleset, "caddy")
    assert 'Header always set Sunset "Tue, 01 Jan 2030 00:00:00 GMT" env=RW_H0' in export(
        ruleset, "apache"
    )


def test_case_and_slash_options_are_exported_not_ignored() -> None:
    ruleset = RuleSet.from_dict({"rules": [
        {"from": "/About-Us", "to": "/about", "case_sensitive": False},
        {"from": "/docs/intro", "to": "/d", "trailing_slash_match": "ignore"},
    ]})  # fmt: skip
    text = export(ruleset, "nginx")
    assert "(?:(?:a|%61)|(?:A|%41))" in text  # /ABOUT-US matches
    assert "(?:o|%6[Ff])/?(?:(?P<rw1q>" in text  # /docs/intro/ matches


def test_from_regex_is_translated_or_refused_with_file_line_rule_and_key(
    tmp_path: Path,
) -> None:
    # Before: a from_regex was exported as a rule matching every path.
    path = tmp_path / "redirects.yaml"
    path.write_text("rules:\n  - name: rx\n    from_regex: /p/(?P<id>[0-9]+)\n    to: /q/{id}\n")
    text = export(RuleSet.from_file(path), "caddy")
    assert "[/](?:[p]|%70)[/](?P<rw0_id>(?:(?:[0123456789]|%30|" in text
    # One character that may be "%": the request may spell it as three.
    path.write_text("rules:\n  - name: rx\n    from_regex: /p/(?P<c>.)\n    to: /q/{c}\n")
    with pytest.raises(ExportError, match=rf"{re.escape(str(path))}:3: rules\[0\] 'rx': "
                       "from_regex: a single character that may be '%'"):  # fmt: skip
        export(RuleSet.from_file(path), "caddy")


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("/a/(?P<x>.*)b", "must be unbounded"),
        ("/a%41", "not a percent-escape"),
        ("(?i)/a", "inline flags"),
        ("/b(?i:a)", "inline flags"),
        ("/a\\b", "anchor or \\b"),
    ],
)
def test_what_a_regex_translation_refuses(pattern: str, why: str) -> None:
    from redirectware.tools.exporting.regex import Untranslatable, translate

    with pytest.raises(Untranslatable, match=re.escape(why)):
        translate(pattern, "p_", False, False)
    # Under trailing_slash_match: ignore, a pattern that may end with "/" is refused.
    with pytest.raises(Untranslatable, match="may match a path ending with '/'"):
        translate("/a/(?P<x>.*)", "p_", False, True)
    assert translate("/a/(?P<x>[^/]+)", "p_", False, True).endswith("[^/?]+)/?")


def test_partial_lists_every_rule_left_out_on_stderr(
    unsupported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.conf"
    assert main(["export", "caddy", str(unsupported), "--partial", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    left = [line for line in err.splitlines() if "left out: " in line]
    assert len(left) == 3
    assert f"left out: {unsupported}:6: rules[0] 'beta': headers: " in err
    header = [line for line in out.read_text().splitlines() if line.startswith("# Left out: ")]
    assert len(header) == 3


@pytest.mark.parametrize("fmt", ["nginx", "caddy", "apache", "cloudflare", "netlify"])
def test_partial_that_leaves_out_everything_fails(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "redirects.yaml"
    rules.write_text("rules:\n  - {from: /a, to: /b, headers: {X-A: '1'}}\n")
    out = tmp_path / "out"
    assert main(["export", fmt, str(rules), "--partial", "-o", str(out)]) == 1
    assert not out.exists()
    assert "nothing written" in capsys.readouterr().err
