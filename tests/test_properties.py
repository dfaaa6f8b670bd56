"""Property-based and fuzz tests: loading never fails but with RuleError; answers keep the promises.

Hypothesis draws whole rule documents (valid ones built from the rule keys, and junk: random
nested values, mutated valid documents, random YAML/JSON text and bytes) and hostile requests
(paths, queries, hosts, headers, methods). Two properties:

* loading a document raises nothing but :class:`~redirectware.RuleError`;
* a document that loads never gives an answer that breaks :func:`tests.hostile.violations`,
  through the engine and through the ASGI and WSGI middleware.

Profiles: ``ci`` (the default: bounded, no deadline, so that a loaded 2-core machine finishes
in well under a minute) and ``full`` (``HYPOTHESIS_PROFILE=full``: ten times the examples).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from redirectware import RedirectMiddleware, RuleError, RuleSet, WSGIRedirectMiddleware
from tests.conftest import echo_asgi_app, echo_wsgi_app
from tests.hostile import TRUSTED, UNTRUSTED, Hostile, violations
from tests.test_hostile import asgi_scope, call_asgi, call_wsgi, wsgi_environ

#: Examples per property in CI. Chosen so the whole module runs in ~20 s on 2 cores.
CI_EXAMPLES = 200
settings.register_profile(
    "ci",
    max_examples=CI_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
    print_blob=True,
)
settings.register_profile(
    "full",
    max_examples=CI_EXAMPLES * 10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
# The edit-test loop (CONTRIBUTING.md, Development): a quarter of CI's examples, a few seconds.
settings.register_profile(
    "dev",
    max_examples=CI_EXAMPLES // 4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# --- request pieces ------------------------------------------------------------------------

#: Fragments an attacker strings together: separators, escapes of them, controls, non-ASCII.
_PATH_TOKENS = [
    "/", "//", "\\", "%2F", "%2f", "%5C", "%5c", "%0D%0A", "%0A", "%0D", "%00", "%09", "\r",
    "\n", "\t", "\x00", "\r\n", "%", "%G", "%FF", "%C0%AF", "%E2%80%AE", "@", ":", "?", "#",
    ".", "..", "evil.com", "http:", "https://evil.com", "javascript:", "~", " ", "%20", "+",
    "\xc3\xa9", "\xe9", "\xff", "\xef\xbd\x81", "{x}", "go", "out", "u", "api", "v1", "docs",
    "s", "self", "old", "beta", "mirror", "x", "healthz",
]  # fmt: skip
#: Raw request text is bytes read as latin-1: one character per byte, none above U+00FF.
_raw_text = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=4)
_token = st.one_of(st.sampled_from(_PATH_TOKENS), _raw_text)
#: Paths mostly start where the drawn rules look, so that many requests reach a redirect.
_PREFIXES = ["/", "/go/", "/out/", "/api/v1/", "/docs/", "/old/", "/x", "/café/", "/caf%C3%A9/"]
paths = st.builds(
    lambda prefix, parts: prefix + "".join(parts),
    st.sampled_from(_PREFIXES),
    st.lists(_token, max_size=10),
)
queries = st.lists(
    st.one_of(
        st.sampled_from(["=", "&", "a=1", "x=%0D%0A", "q=\r\n", "%00", "utm_source=a"]), _token
    ),
    max_size=6,
).map("".join)  # fmt: skip
_HOSTS = [
    "example.com", "www.example.com", "a.example.org", "example.org", "evil.com",
    "example.com:8080", "example.com:80", "[::1]", "[::1]:8443", "127.0.0.1", "user@example.com",
    "example.com@evil.com", "example.com/evil.com", "example.com\\evil.com", "", "evil.com:99999",
    "exa mple.com", "EXAMPLE.COM", "example.com.", "*.example.org", "[fe80::1%25lo]",
]  # fmt: skip
_GOOD_HOSTS = ["example.com", "www.example.com", "a.example.org", "example.com:8080", "[::1]"]
hosts = st.one_of(
    st.sampled_from(_GOOD_HOSTS),
    st.sampled_from(_GOOD_HOSTS),
    st.sampled_from(_GOOD_HOSTS),
    st.sampled_from(_GOOD_HOSTS),
    st.sampled_from(_HOSTS),
    st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=20),
)
methods = st.one_of(
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", "Post",
                     "BREW", "PROPFIND", "TRACE"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-", min_size=1,
            max_size=8),
)  # fmt: skip
_header_values = st.one_of(
    st.sampled_from(_HOSTS), st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=30)
)
extra_headers = st.lists(
    st.tuples(
        st.sampled_from(["X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port",
                         "X-Forwarded-For", "Forwarded", "Accept", "Cookie", "X-Beta"]),
        st.one_of(_header_values, st.sampled_from(["https", "http", "host=evil.com;proto=https",
                                                   'host="evil.com"', "application/json"])),
    ),
    max_size=4,
)  # fmt: skip


def _clean(text: str) -> str:
    # A header value that holds CR or LF cannot reach an app: servers reject it before.
    return text.replace("\r", "").replace("\n", "")


def _rule_paths(document: dict[str, Any] | None) -> list[str]:
    """The ``from`` templates and map rows of a document, to aim requests at its rules."""
    found: list[str] = []
    for rule in (document or {}).get("rules", []):
        if isinstance(rule.get("from"), str):
            found.append(rule["from"])
        for row in rule.get("map", []) if isinstance(rule.get("map"), list) else []:
            found.append(row["from"])
    return found


@st.composite
def aimed_paths(draw: st.DrawFn, document: dict[str, Any] | None) -> str:
    """Mostly a path one of the document's rules matches, its captures filled with attack
    text; otherwise a path from :data:`paths`."""
    templates = _rule_paths(document)
    if not templates or draw(st.integers(0, 2)) == 0:
        path: str = draw(paths)
        return path
    template = draw(st.sampled_from(templates))
    filling = "".join(draw(st.lists(_token, min_size=1, max_size=6)))
    for placeholder in ("{p}", "{p:path}"):
        template = template.replace(placeholder, filling)
    filled: str = template.replace("{p:int}", str(draw(st.integers(0, 10**6))))
    return filled


@st.composite
def requests(draw: st.DrawFn, document: dict[str, Any] | None = None) -> Hostile:
    """A hostile request: raw path and query, zero to two Host headers, forwarding headers."""
    path = draw(aimed_paths(document))
    query = draw(queries)
    host_count = draw(st.sampled_from([0, 1, 1, 1, 1, 1, 1, 2]))
    host_headers = [("Host", _clean(draw(hosts))) for _ in range(host_count)]
    headers = [(name, _clean(value)) for name, value in draw(extra_headers)]
    target = path + (f"?{query}" if query else "")
    return Hostile(
        id="drawn",
        target=target,
        headers=(*host_headers, *headers),
        method=draw(methods),
        client=draw(st.sampled_from([UNTRUSTED, TRUSTED, "127.0.0.1"])),
        scheme=draw(st.sampled_from(["http", "https"])),
    )


# --- valid documents ---------------------------------------------------------------------

_SEGMENTS = ["go", "out", "api", "v1", "docs", "old", "café", "a%2Fb", "x"]
_segment = st.sampled_from(_SEGMENTS)


@st.composite
def from_templates(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A ``from`` template and the names it captures."""
    parts = draw(st.lists(_segment, min_size=1, max_size=3))
    names: list[str] = []
    kind = draw(st.sampled_from(["none", "seg", "int", "path"]))
    if kind != "none":
        names.append("p")
        parts.append("{p}" if kind == "seg" else f"{{p:{kind}}}")
    return "/" + "/".join(parts), names


@st.composite
def targets(draw: st.DrawFn, names: list[str], host_names: list[str]) -> str:
    """A ``to`` that uses only what is captured; authorities only literal or from the Host."""
    placeholders = [f"{{{n}}}" for n in names] + ["{path}", ""]
    tail = draw(st.sampled_from(placeholders))
    path = "/" + draw(st.sampled_from(["new", "v2", "ü", "a b", "x%2Fy"])) + "/" + tail
    base = draw(
        st.sampled_from(
            ["", "https://example.org", "http://example.com:8080", "{scheme}://{host}"]
            + [f"https://{{{n}}}.example.org" for n in host_names]
        )
    )
    query = draw(st.sampled_from(["", "?src=old", "?a=%0D"]))
    return base + path + query


@st.composite
def rules(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """One valid-looking rule (a loop or a clash may still make the document invalid)."""
    rule: dict[str, Any] = {"name": f"r{index}"}
    kind = draw(
        st.sampled_from(["to", "to", "to", "https", "slash", "maintenance", "map", "gone", "regex"])
    )
    template, names = draw(from_templates())
    host_names: list[str] = []
    if draw(st.booleans()):
        host = draw(st.sampled_from(["www.example.com", "{sub}.example.org", "*.example.org"]))
        rule["host"] = host
        host_names = ["sub"] if host.startswith("{sub}") else []
    if kind == "to":
        rule["from"] = template
        rule["to"] = draw(targets(names, host_names))
        keep = draw(st.sampled_from([True, False, ["utm_*", "ref"]]))
        if keep is not True:
            rule["keep_query"] = keep
    elif kind == "https":
        rule["https"] = True
        if draw(st.booleans()):
            rule["https_port"] = draw(st.sampled_from([443, 8443]))
        if draw(st.booleans()):
            rule["hsts"] = {"max_age": 600}
    elif kind == "slash":
        rule["from"] = template
        rule["trailing_slash"] = draw(st.sampled_from(["add", "remove"]))
    elif kind == "maintenance":
        rule["maintenance"] = {"to": "/maintenance", "allow_ips": ["10.0.0.0/8"]}
        rule["except"] = ["/healthz"]
    elif kind == "gone":
        rule["from"] = template
        rule["gone"] = draw(st.sampled_from([True, 451]))
    elif kind == "regex":
        rule["from_regex"] = draw(st.sampled_from([r"/old/(?P<rest>.+)", r"/(?P<a>(x+)+)y",
                                                   r"/p/(?P<rest>[^/]*)/?"]))  # fmt: skip
        rule["to"] = "/new/{rest}" if "rest" in rule["from_regex"] else "/new/{a}"
    else:
        rule["map"] = [{"from": "/old/" + draw(_segment), "to": "/new"},
                       {"from": "/gone", "to": "https://example.org/"},
                       {"from": "/dead", "status": 410}]  # fmt: skip
    # The matching keys of issue 15, now and then.
    if kind != "slash" and draw(st.integers(0, 3)) == 0:
        rule["trailing_slash_match"] = "ignore"
    if draw(st.integers(0, 3)) == 0:
        rule["case_sensitive"] = False
    if kind in ("to", "map", "gone") and draw(st.integers(0, 4)) == 0:
        rule["when"] = "not_found"
    if kind not in ("maintenance", "gone") and draw(st.booleans()):
        if draw(st.booleans()):
            rule["status"] = draw(st.sampled_from([301, 302, 307, 308]))
        else:
            rule["permanent"] = draw(st.booleans())
    if draw(st.integers(0, 5)) == 0:
        rule["methods"] = draw(st.lists(st.sampled_from(["GET", "POST", "put"]), min_size=1))
    if draw(st.integers(0, 5)) == 0:
        rule["headers"] = {"X-Beta": "*"}
    if draw(st.integers(0, 8)) == 0:
        rule["report_only"] = True
    return rule


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A rule document built only from valid keys and values."""
    count = draw(st.integers(1, 5))
    settings_: dict[str, Any] = {}
    if draw(st.booleans()):
        settings_["allowed_hosts"] = draw(
            st.lists(st.sampled_from(["example.com", "www.example.com", "*.example.org",
                                      ".example.org", "[::1]", "127.0.0.1"]), min_size=1)
        )  # fmt: skip
    if draw(st.booleans()):
        settings_["trusted_proxies"] = draw(
            st.lists(st.sampled_from(["10.0.0.0/8", "127.0.0.1", "::1"]), min_size=1)
        )
    if draw(st.booleans()):
        settings_["get_codes"] = draw(st.sampled_from(["classic", "strict"]))
    return {"version": 1, "settings": settings_, "rules": [draw(rules(i)) for i in range(count)]}


def _load(document: Any) -> RuleSet | None:
    """The compiled document, or None when it is (correctly) refused with RuleError."""
    try:
        return RuleSet.from_dict(document)
    except RuleError:
        return None


# --- properties: loading -------------------------------------------------------------------


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
    st.sampled_from(["/x", "/{a}", "{x}", "*", "${HOME}", "${NOPE_UNSET_VAR}", "2027-06-30",
                     "https://example.org/{rest}", "10.0.0.0/33", "add", "deny", "strict"]),
    st.dates(), st.datetimes(),
)  # fmt: skip
_keys = st.one_of(
    st.sampled_from(["version", "settings", "rules", "tests", "name", "from", "to", "host",
                     "https", "map", "maintenance", "status", "permanent", "allowed_hosts",
                     "trusted_proxies", "flag_file", "keep_query", "active", "until", "hsts",
                     "max_age", "except", "headers", "cookies", "query", "enabled", "sunset",
                     "gone", "case_sensitive", "trailing_slash_match", "from_regex", "when"]),
    st.text(max_size=8), st.integers(),
)  # fmt: skip
junk = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=5)),
    max_leaves=25,
)


junk_documents = st.one_of(
    st.dictionaries(_keys, junk, max_size=5),
    st.builds(lambda rules: {"version": 1, "rules": rules}, st.lists(junk, max_size=4)),
    st.builds(
        lambda rules: {"version": 1, "rules": rules},
        st.lists(st.dictionaries(_keys, junk, max_size=6), max_size=4),
    ),
)


@given(junk_documents)
def test_junk_documents_raise_only_rule_error(document: dict[Any, Any]) -> None:
    event("loaded" if _load(document) is not None else "refused")


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document with one value somewhere replaced by junk."""
    document = draw(documents())
    node: Any = document
    for _ in range(draw(st.integers(1, 4))):
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node, key=str)))
            if draw(st.booleans()) or not isinstance(node[key], dict | list):
                node[key] = draw(junk)
                break
            node = node[key]
        elif isinstance(node, list) and node:
            position = draw(st.integers(0, len(node) - 1))
            if draw(st.booleans()) or not isinstance(node[position], dict | list):
                node[position] = draw(junk)
                break
            node = node[position]
    return document


@given(mutated_documents())
def test_mutated_documents_raise_only_rule_error(document: dict[str, Any]) -> None:
    event("loaded" if _load(document) is not None else "refused")


_yaml_text = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(["version: 1\n", "rules:\n", "  - from: /a\n", "    to: /b\n",
                         "  - https: true\n", "settings: {allowed_hosts: [x]}\n", "- - -\n",
                         "  to: [\n", "key: &a [*a]\n", "!!python/object:os.system x\n",
                         "? complex\n", "\t", "%YAML 1.1\n---\n", "...\n", "rules: !!binary AA==\n",
                         "  - map: legacy.csv\n", "  - maintenance: {flag_file: /nonexistent}\n"]),
        max_size=10,
    ).map("".join),
)  # fmt: skip


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=_yaml_text, suffix=st.sampled_from([".yaml", ".yml", ".json", ".txt"]),
       raw=st.one_of(st.none(), st.binary(max_size=40)))  # fmt: skip
def test_rule_files_raise_only_rule_error(text: str, suffix: str, raw: bytes | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"redirects{suffix}"
        path.write_bytes(raw if raw is not None else text.encode("utf-8", "surrogatepass"))
        try:
            RuleSet.from_file(path)
        except RuleError as error:
            # The message names the file, so a user can find what is wrong.
            assert str(path) in str(error)
            event("refused")
        else:
            event("loaded")


# --- properties: answers ---------------------------------------------------------------------


def _forwarded(request: Hostile, document: dict[str, Any]) -> str | None:
    trusted = document.get("settings", {}).get("trusted_proxies", [])
    peer_trusted = (request.client == "127.0.0.1" and "127.0.0.1" in trusted) or (
        request.client == TRUSTED and "10.0.0.0/8" in trusted
    )
    return request.forwarded_host() if peer_trusted else None


@given(st.data())
def test_valid_documents_keep_the_invariants_in_the_engine(data: st.DataObject) -> None:
    document = data.draw(documents(), label="document")
    ruleset = _load(document)
    assume(ruleset is not None)
    assert ruleset is not None
    drawn = data.draw(st.lists(requests(document), min_size=1, max_size=5), label="requests")
    for request in drawn:
        path, _, query = request.target.partition("?")
        hosts = request.host_headers
        decision = ruleset.resolve(
            request.method,
            request.scheme,
            ",".join(hosts) if hosts else None,
            path,
            query,
            request.header_map(),
            request.client,
        )
        event(decision.kind)
        problems = violations(
            document,
            request.method,
            hosts,
            decision.status or 200,
            list(decision.headers),
            _forwarded(request, document),
        )
        assert not problems, (request, problems)


@given(st.data())
def test_valid_documents_keep_the_invariants_through_asgi_and_wsgi(data: st.DataObject) -> None:
    document = data.draw(documents(), label="document")
    ruleset = _load(document)
    assume(ruleset is not None)
    assert ruleset is not None
    request = data.draw(requests(document), label="request")
    forwarded = _forwarded(request, document)
    asgi_app = RedirectMiddleware(echo_asgi_app, rules=ruleset)
    status, headers, _ = asyncio.run(call_asgi(asgi_app, asgi_scope(request), b""))
    problems = violations(
        document, request.method, request.host_headers, status, headers, forwarded
    )
    assert not problems, ("asgi", request, problems)
    wsgi_app = WSGIRedirectMiddleware(echo_wsgi_app, rules=ruleset)
    status, headers, _ = call_wsgi(wsgi_app, wsgi_environ(request))
    problems = violations(
        document, request.method, request.host_headers, status, headers, forwarded
    )
    assert not problems, ("wsgi", request, problems)


@given(st.text(max_size=60), st.text(max_size=60))
def test_json_round_trip_of_a_valid_document_loads_the_same(name: str, target: str) -> None:
    """A document written to JSON and read back is the same rule set as the dict it came from."""
    document = {"version": 1, "rules": [{"name": name or "r", "from": "/a", "to": "/b" + target}]}
    try:
        from_dict = RuleSet.from_dict(document)
    except RuleError:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        from_file = RuleSet.from_file(path)
    a = from_dict.resolve("GET", "http", "example.com", "/a")
    b = from_file.resolve("GET", "http", "example.com", "/a")
    assert (a.status, a.location) == (b.status, b.location)
