"""Every kind of invalid document fails at load time, naming file, line, rule and key."""

from __future__ import annotations

import json
import pickle
import textwrap
from pathlib import Path

import pytest

from redirectware import RedirectMiddleware, RuleError, RuleSet, WSGIRedirectMiddleware
from tests.conftest import echo_asgi_app, echo_wsgi_app

# (id, rules section of a YAML document, expected line, expected message after "file:line: ")
# The document's first line is "version: 1", then "rules:", so the first rule starts on line 3.
BAD_RULES = [
    ("unknown-key", "- name: a\n  form: /x\n  to: /y", 4, "rules[0] 'a': form: unknown key (did you mean 'from'?)"),
    ("two-actions", "- name: a\n  from: /x\n  to: /y\n  https: true", 6, "rules[0] 'a': https: two actions in one rule (to and https); give exactly one"),
    ("no-action", "- name: a\n  from: /x", 3, "rules[0] 'a': no action: give exactly one of to, https, trailing_slash, maintenance, map, gone"),
    ("uncaptured", "- name: api\n  from: /api/v1/{rest:path}\n  to: /api/v2/{rets}", 5, "rules[0] 'api': to: placeholder {rets} is not captured by from '/api/v1/{rest:path}'"),
    ("uncaptured-no-from", "- to: /x/{id}", 3, "rules[0]: to: placeholder {id} is not captured (this rule has no from)"),
    ("bad-status", "- from: /x\n  to: /y\n  status: 303", 5, "rules[0]: status: must be one of 301, 302, 307, 308; got 303"),
    ("status-and-permanent", "- from: /x\n  to: /y\n  status: 301\n  permanent: true", 5, "rules[0]: status: give either status or permanent, not both"),
    ("bad-permanent", "- from: /x\n  to: /y\n  permanent: maybe", 5, "rules[0]: permanent: must be true or false, got 'maybe'"),
    ("bad-converter", "- from: /x/{id:uuid}\n  to: /y", 3, "rules[0]: from: unknown converter 'uuid' in '/x/{id:uuid}' (use str, int or path)"),
    ("from-no-slash", "- from: x\n  to: /y", 3, "rules[0]: from: a path template must start with '/', got 'x'"),
    ("protocol-relative-to", "- from: /x\n  to: //evil.com/", 4, "rules[0]: to: must be a path starting with a single '/' or an http(s) URL, got '//evil.com/'"),
    ("path-capture-in-host", "- from: /go/{dest}\n  to: https://{dest}/", 4, "rules[0]: to: placeholder {dest} comes from the path and cannot stand in the host of a target (that would be an open redirect)"),
    ("bad-host", "- host: 'exa mple.com'\n  to: /y", 3, "rules[0]: host: bad host 'exa mple.com'"),
    ("bad-scheme", "- scheme: ftp\n  from: /x\n  to: /y", 3, "rules[0]: scheme: must be 'http' or 'https', got 'ftp'"),
    ("bad-slash", "- trailing_slash: sometimes", 3, "rules[0]: trailing_slash: must be 'add' or 'remove', got 'sometimes'"),
    ("https-false", "- https: false", 3, "rules[0]: https: https: false does nothing; remove the rule or set enabled: false"),
    ("hsts-without-https", "- from: /x\n  to: /y\n  hsts: {max_age: 1}", 5, "rules[0]: hsts: only applies to an https rule"),
    ("hsts-no-max-age", "- https: true\n  hsts: {include_subdomains: true}", 4, "rules[0]: hsts: needs max_age (seconds), e.g. {max_age: 31536000}"),
    ("maintenance-unknown", "- maintenance:\n    retry: 60", 4, "rules[0]: maintenance.retry: unknown key (did you mean 'retry_after'?)"),
    ("maintenance-permanent", "- maintenance: {to: /m}\n  permanent: true", 4, "rules[0]: permanent: maintenance is temporary by nature; a permanent answer would be cached"),
    ("bad-allow-ip", "- maintenance:\n    allow_ips: [10.0.0.300/8]", 4, "rules[0]: maintenance.allow_ips: '10.0.0.300/8' does not appear to be an IPv4 or IPv6 network (write an IP address or a CIDR like 10.0.0.0/8)"),
    ("active-order", "- from: /x\n  to: /y\n  active:\n    from: 2026-02-01\n    until: 2026-01-01", 7, "rules[0]: active.until: must come after from"),
    ("active-bad-date", "- from: /x\n  to: /y\n  active: {from: 'next tuesday'}", 5, "rules[0]: active.from: must be an ISO 8601 date or date-time, got 'next tuesday'"),
    ("duplicate-name", "- name: a\n  from: /x\n  to: /y\n- name: a\n  from: /z\n  to: /y", 6, "rules[1] 'a': name: duplicate name: rules[0] is called 'a' too"),
    ("self-loop", "- name: me\n  from: /x\n  to: /x", 5, "rules[0] 'me': to: redirect loop: /x -> /x"),
    ("two-rule-loop", "- name: a\n  from: /a\n  to: /b\n- name: b\n  from: /b\n  to: /a", 5, "rules[0] 'a': to: redirect loop: /a -> /b -> /a"),
    ("template-loop", "- name: t\n  from: /{page}\n  to: /{page}", 5, "rules[0] 't': to: refused a redirect to the request's own URL"),
    ("slash-loop", "- name: add\n  trailing_slash: add\n- name: strip\n  from: /{p}/\n  to: /{p}", 7, "rules[1] 'strip': to: refused a redirect loop (https://example.com/sample/ -> https://example.com/sample -> https://example.com/sample/)"),
    ("growing-slash-loop", "- name: shop\n  from: /shop/{p:path}\n  to: /shop/{p}/", 5, "rules[0] 'shop': to: refused a redirect loop that grows the URL (https://example.com/shop/sample/path -> https://example.com/shop/sample/path/ -> https://example.com/shop/sample/path//)"),
    ("growing-prefix-loop", "- name: nest\n  from: /a/{p:path}\n  to: /a/a/{p}", 5, "rules[0] 'nest': to: refused a redirect loop that grows the URL (https://example.com/a/sample/path -> https://example.com/a/a/sample/path -> https://example.com/a/a/a/sample/path)"),
    ("map-loop", "- name: legacy\n  map:\n    - {from: /a, to: /b}\n    - {from: /b, to: /a}", 4, "rules[0] 'legacy': map: redirect loop: /a -> /b -> /a"),
    ("map-conflict", "- name: legacy\n  map:\n    - {from: /a, to: /b}\n    - {from: /a, to: /c}", 6, "rules[0] 'legacy': map: row '/a': from '/a' is mapped twice, to '/b' and '/c'"),
    ("map-row-bad-to", "- name: legacy\n  map:\n    - {from: /a, to: /b}\n    - from: /c\n      to: 'ftp://x'", 6, "rules[0] 'legacy': map: row '/c': to must be a path or an http(s) URL, got 'ftp://x'"),
    ("map-row-unknown-key", "- name: legacy\n  map:\n    - from: /a\n      to: /b\n      colour: red", 7, "rules[0] 'legacy': map: map[0]: unknown key 'colour'"),
    ("map-row-not-mapping", "- name: legacy\n  map:\n    - /a", 4, "rules[0] 'legacy': map: map[0] must be a mapping with from and to, got '/a'"),
    ("map-with-from", "- from: /x\n  map: [{from: /a, to: /b}]", 3, "rules[0]: from: a map rule matches the from of its rows; remove this from"),
    ("keep-query-https", "- https: true\n  keep_query: false", 4, "rules[0]: keep_query: does not apply to https: it keeps the whole URL"),
    ("env-unset", "- from: /x\n  to: /y\n  enabled: ${REDIRECTWARE_TEST_SURELY_UNSET}", 5, "rules[0]: enabled: environment variable REDIRECTWARE_TEST_SURELY_UNSET is not set and has no default (write ${REDIRECTWARE_TEST_SURELY_UNSET:-value} to give one)"),
    ("rule-not-mapping", "- just a string", None, "rules[0]: a rule must be a mapping, got 'just a string'"),
]  # fmt: skip


def _write(tmp_path: Path, text: str, name: str = "redirects.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rules", "line", "message"),
    [pytest.param(rules, line, message, id=case_id) for case_id, rules, line, message in BAD_RULES],
)
def test_bad_rule_names_file_line_rule_and_key(
    tmp_path: Path, rules: str, line: int | None, message: str
) -> None:
    path = _write(tmp_path, "version: 1\nrules:\n" + textwrap.indent(rules, ""))
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    where = f"{path}:{line}" if line is not None else str(path)
    assert str(caught.value).startswith(f"{where}: {message}"), str(caught.value)
    assert caught.value.source == str(path)
    assert caught.value.line == line


BAD_DOCUMENTS = [
    ("top-level-typo", "version: 1\nrule: []\n", 2, "rule: unknown key (did you mean 'rules'?)"),
    ("bad-version", "version: 2\nrules: []\n", 1, "version: unsupported version 2; this release reads version 1"),
    ("rules-not-list", "version: 1\nrules: {a: 1}\n", 2, "rules: must be a list of rules, and this is a mapping: each rule starts with '- '"),
    ("settings-typo", "version: 1\nsettings:\n  allowed_host: [a.com]\n", 3, "settings.allowed_host: unknown key (did you mean 'allowed_hosts'?)"),
    ("bad-cidr", "version: 1\nsettings:\n  trusted_proxies: [10.0.0.0/33]\n", 3, "settings.trusted_proxies: '10.0.0.0/33' does not appear to be an IPv4 or IPv6 network (write an IP address or a CIDR like 10.0.0.0/8)"),
    ("bad-allowed-host", "version: 1\nsettings:\n  allowed_hosts: ['exa mple.com']\n", 3, "settings.allowed_hosts: bad host 'exa mple.com' (a host name, without port)"),
    ("bad-get-codes", "version: 1\nsettings:\n  get_codes: modern\n", 3, "settings.get_codes: must be 'classic' or 'strict', got 'modern'"),
    ("bad-max-age", "version: 1\nsettings:\n  permanent_max_age: -1\n", 3, "settings.permanent_max_age: must be a whole number of at least 0, got -1"),
    ("not-yaml", "version: 1\nrules: [\n", 3, "not valid YAML"),
    ("duplicate-key", "version: 1\nrules: []\nrules: []\n", 3, "rules: duplicate key 'rules'"),
    ("not-a-mapping", "- a\n- b\n", None, "a rule document must be a mapping with version, settings and rules"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param(text, line, message, id=case_id)
        for case_id, text, line, message in BAD_DOCUMENTS
    ],
)
def test_bad_document(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    where = f"{path}:{line}" if line is not None else str(path)
    assert str(caught.value).startswith(f"{where}: {message}"), str(caught.value)


def test_json_document_and_its_errors(tmp_path: Path) -> None:
    good = _write(
        tmp_path, json.dumps({"version": 1, "rules": [{"from": "/a", "to": "/b"}]}), "r.json"
    )
    decision = RuleSet.from_file(good).resolve("GET", "http", "example.com", "/a")
    assert decision.location == "http://example.com/b"
    bad = _write(tmp_path, '{"version": 1, "rules": [{"from": "/a"', "bad.json")
    with pytest.raises(RuleError, match=r"bad\.json:1: not valid JSON"):
        RuleSet.from_file(bad)


def test_dict_errors_name_rule_and_key_without_file() -> None:
    with pytest.raises(RuleError) as caught:
        RuleSet.from_dict({"version": 1, "rules": [{"name": "x", "from": "/a", "too": "/b"}]})
    assert str(caught.value).startswith("rules[0] 'x': too: unknown key (did you mean 'to'?)")
    assert caught.value.source is None
    assert caught.value.rule_index == 0
    assert caught.value.key == "too"


def test_missing_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="no such file"):
        RuleSet.from_file(tmp_path / "absent.yaml")
    with pytest.raises(RuleError, match=r"unknown file type '\.txt': name the file \.yaml"):
        RuleSet.from_file(_write(tmp_path, "version: 1", "rules.txt"))


def test_rule_error_is_a_value_error_and_pickles() -> None:
    error = RuleError("boom", source="f.yaml", line=3, rule_index=1, rule_name="n", key="to")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == "f.yaml:3: rules[1] 'n': to: boom"
    assert (copy.line, copy.rule_index, copy.key) == (3, 1, "to")


def test_middleware_fail_at_start_up_not_on_a_request(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: 1\nrules:\n  - from: /a\n")
    with pytest.raises(RuleError):
        RedirectMiddleware(echo_asgi_app, rules=str(path))
    with pytest.raises(RuleError):
        WSGIRedirectMiddleware(echo_wsgi_app, rules=path)
    with pytest.raises(TypeError, match="rules must be a path, a dict or a RuleSet"):
        RedirectMiddleware(echo_asgi_app, rules=42)  # type: ignore[arg-type]


def test_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        "version: 1\nrules:\n  - maintenance:\n      enabled: ${MAINTENANCE:-false}\n"
        "      to: ${MAINTENANCE_PAGE:-/maintenance}\n"
    )
    path = _write(tmp_path, text)
    monkeypatch.delenv("MAINTENANCE", raising=False)
    assert RuleSet.from_file(path).resolve("GET", "http", "example.com", "/x").passes
    monkeypatch.setenv("MAINTENANCE", "true")
    monkeypatch.setenv("MAINTENANCE_PAGE", "/down")
    decision = RuleSet.from_file(path).resolve("GET", "http", "example.com", "/x")
    assert decision.location == "http://example.com/down"
    monkeypatch.setenv("MAINTENANCE", "perhaps")
    with pytest.raises(RuleError, match=r":4: rules\[0\]: maintenance\.enabled: must be true or"):
        RuleSet.from_file(path)


def test_csv_map(tmp_path: Path) -> None:
    (tmp_path / "legacy.csv").write_text(
        "from,to,permanent\n/old,/new,true\n/tmp,/elsewhere,false\n/café,/cafe,\n",
        encoding="utf-8",
    )
    path = _write(tmp_path, "version: 1\nrules:\n  - map: legacy.csv\n    permanent: true\n")
    rules = RuleSet.from_file(path)
    assert rules.resolve("GET", "http", "a.com", "/old").status == 301
    assert rules.resolve("GET", "http", "a.com", "/tmp").status == 302
    assert rules.resolve("GET", "http", "a.com", "/caf%C3%A9").status == 301  # row default
    assert rules.resolve("GET", "http", "a.com", "/nope").passes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("source,target\n/a,/b\n", "legacy.csv:1: the header row must name", id="header"),
        pytest.param("from,to\n/a,/b,/c\n", "legacy.csv:2: expected 2 columns, got 3", id="width"),
        pytest.param("from,to,status\n/a,/b,303\n", "legacy.csv:2: status must be 301, 302, 307", id="status"),
        pytest.param("from,to\na,/b\n", "legacy.csv:2: from must be a path", id="from"),
        pytest.param("from,to\n/a,javascript:alert(1)\n", "legacy.csv:2: to must be a path or an http(s) URL", id="to"),
        pytest.param("", "is empty: it needs a header row from,to", id="empty"),
    ],
)  # fmt: skip
def test_bad_csv_map(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "legacy.csv").write_text(content, encoding="utf-8")
    path = _write(tmp_path, "version: 1\nrules:\n  - name: legacy\n    map: legacy.csv\n")
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    assert str(caught.value).startswith(f"{path}:4: rules[0] 'legacy': map: ")
    assert message in str(caught.value)


def test_missing_csv_map(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: 1\nrules:\n  - map: nowhere.csv\n")
    with pytest.raises(RuleError, match=r":3: rules\[0\]: map: map file .*nowhere\.csv' does not"):
        RuleSet.from_file(path)


def test_ruleset_is_immutable() -> None:
    rules = RuleSet.from_dict({"version": 1, "rules": [{"from": "/a", "to": "/b"}]})
    with pytest.raises(AttributeError):
        rules.rules[0].name = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("from,to\n/a,/b\n/b,/a\n", "redirects.yaml:4: rules[0] 'legacy': map: redirect loop: /a -> /b -> /a", id="loop"),
        pytest.param("from,to\n/a,/b\n/c,/x\n/b,/caf%c3%a9\n/caf%C3%A9,/a\n", "redirect loop: /a -> /b -> /caf%C3%A9 -> /a", id="loop-through-escapes"),
        pytest.param("from,to\n/a,/b\n/a,/c\n", "legacy.csv:3: from '/a' is mapped twice, to '/b' and '/c'", id="conflict"),
        pytest.param("from,to\n/a,/b\nrelative,/c\n", "legacy.csv:3: from must be a path", id="bad-from"),
        pytest.param("from,to\n/a,/b\n/a b,/a%20b\n", "redirects.yaml:4: rules[0] 'legacy': map: redirect loop: /a%20b -> /a%20b", id="slow-path-loop"),
    ],
)  # fmt: skip
def test_bulk_csv_map_keeps_every_check(tmp_path: Path, content: str, message: str) -> None:
    """A plain from,to CSV is read in bulk; loops, conflicts and bad rows are still caught."""
    (tmp_path / "legacy.csv").write_text(content, encoding="utf-8")
    path = _write(tmp_path, "version: 1\nrules:\n  - name: legacy\n    map: legacy.csv\n")
    with pytest.raises(RuleError) as caught:
        RuleSet.from_file(path)
    assert message in str(caught.value)


def test_bulk_csv_map_answers_like_a_list(tmp_path: Path) -> None:
    rows = [(f"/old/{n}", f"/new/{n}") for n in range(500)] + [("/gone", "https://example.org/")]
    (tmp_path / "legacy.csv").write_text(
        "from,to\n" + "".join(f"{a},{b}\n" for a, b in rows) + "/old/7,/new/7\n", encoding="utf-8"
    )
    from_csv = RuleSet.from_file(_write(tmp_path, "version: 1\nrules:\n  - map: legacy.csv\n"))
    inline = RuleSet.from_dict(
        {"version": 1, "rules": [{"map": [{"from": a, "to": b} for a, b in rows]}]}
    )
    for path in ("/old/0", "/old/499", "/gone", "/old/500", "/old/7"):
        a = from_csv.resolve("POST", "http", "example.com", path, "q=1")
        b = inline.resolve("POST", "http", "example.com", path, "q=1")
        assert (a.status, a.location) == (b.status, b.location), path
    entry = from_csv.rules[0].action
    assert entry.entries["/old/3"].line == 5  # type: ignore[union-attr]
