"""Remembered answers (redirectware.engine.memo): given again only where nothing else could differ.

Each test asks the same question more than once through one middleware, varying what a
remembered answer must not ignore (a header, the peer, Accept, a second Host header), and
checks every answer against what the engine says afresh.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from redirectware import RedirectMiddleware, RuleSet, WSGIRedirectMiddleware
from redirectware.asgi import Message, Scope
from redirectware.engine.decision import PASS
from redirectware.engine.memo import MAX_KEY_TEXT, AnswerMemo
from redirectware.engine.model import FlagFile
from tests.conftest import echo_asgi_app, echo_wsgi_app
from tests.waiting import wait_for

HTTPS = {"name": "https", "https": True, "permanent": True}


def _document(*rules: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {"version": 1, "settings": settings, "rules": list(rules)}


def _scope(
    path: str = "/page",
    *,
    scheme: str = "http",
    hosts: tuple[bytes, ...] = (b"example.com",),
    headers: tuple[tuple[bytes, bytes], ...] = (),
    method: str = "GET",
    client: str = "192.0.2.7",
    query: bytes = b"",
) -> Scope:
    """An http scope as uvicorn builds it, with fresh bytes objects as a server would."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": bytes(query),
        "root_path": "",
        "headers": [(b"host", bytes(host)) for host in hosts] + list(headers),
        "client": (client, 50000),
        "server": ("127.0.0.1", 8000),
    }


def _call(app: RedirectMiddleware, scope: Scope) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


def _resolves(app: RedirectMiddleware) -> list[str]:
    """Count the questions the engine is asked afresh (the rest were remembered)."""
    ruleset = app.rules.ruleset
    asked: list[str] = []
    resolve = ruleset.resolve

    def counting(*args: Any, **kwargs: Any) -> Any:
        asked.append(args[3])
        return resolve(*args, **kwargs)

    ruleset.resolve = counting  # type: ignore[method-assign]
    return asked


def test_a_repeated_request_is_answered_from_memory() -> None:
    app = RedirectMiddleware(echo_asgi_app, rules=_document(HTTPS))
    asked = _resolves(app)
    # Remembered on its second sighting: a URL asked for once is never stored.
    first, second, third = (_call(app, _scope()) for _ in range(3))
    assert first == second == third
    assert first[0] == 301 and first[1][b"location"] == b"https://example.com/page"
    assert asked == ["/page", "/page"]
    # A pass-through too: the https request is remembered as passing.
    assert [_call(app, _scope(scheme="https"))[0] for _ in range(3)] == [200, 200, 200]
    assert asked == ["/page"] * 4


def test_a_url_asked_for_once_is_not_stored() -> None:
    app = RedirectMiddleware(echo_asgi_app, rules=_document(HTTPS))
    for number in range(100):
        assert _call(app, _scope(f"/fresh/{number}", scheme="https"))[0] == 200
        assert _call(app, _scope(f"/moved/{number}"))[0] == 301
    assert len(app.rules.ruleset.answers) == 0
    assert len(app.rules.ruleset.answers.once) == 200


def test_every_part_of_the_request_line_is_part_of_the_key() -> None:
    app = RedirectMiddleware(echo_asgi_app, rules=_document(HTTPS, allowed_hosts=["example.com"]))
    for _ in range(2):  # each request twice: stored on its second sighting
        assert _call(app, _scope())[0] == 301
        assert _call(app, _scope(method="POST"))[0] == 308
        head = _call(app, _scope(method="HEAD"))
        assert head[0] == 301 and head[2] == b""
        assert _call(app, _scope(query=b"a=1"))[1][b"location"] == b"https://example.com/page?a=1"
        assert _call(app, _scope("/other"))[1][b"location"] == b"https://example.com/other"
        assert _call(app, _scope(hosts=(b"evil.test",)))[0] == 400
        assert _call(app, _scope(scheme="https"))[0] == 200
    assert len(app.rules.ruleset.answers) == 7


def test_a_second_host_header_is_never_answered_from_memory() -> None:
    app = RedirectMiddleware(echo_asgi_app, rules=_document(HTTPS))
    assert _call(app, _scope(scheme="https"))[0] == 200
    assert _call(app, _scope(scheme="https", hosts=(b"example.com", b"example.com")))[0] == 400
    assert _call(app, _scope(scheme="https", hosts=(b"example.com", b"evil.test")))[0] == 400


def test_a_header_condition_is_asked_every_time() -> None:
    beta = {"from": "/page", "to": "/beta/page", "headers": {"X-Beta": "1"}}
    app = RedirectMiddleware(echo_asgi_app, rules=_document(beta))
    asked = _resolves(app)
    with_header = _scope(scheme="https", headers=((b"x-beta", b"1"),))
    for _ in range(2):
        assert _call(app, with_header)[0] == 302
        assert _call(app, _scope(scheme="https"))[0] == 200
    assert len(asked) == 4
    assert len(app.rules.ruleset.answers) == 0


def test_a_peer_that_is_a_trusted_proxy_is_never_answered_from_memory() -> None:
    app = RedirectMiddleware(echo_asgi_app, rules=_document(HTTPS, trusted_proxies=["10.0.0.1"]))
    # A direct client's answer is remembered: its forwarded headers count for nothing.
    spoofed = ((b"x-forwarded-proto", b"https"),)
    assert [_call(app, _scope(headers=spoofed))[0] for _ in range(2)] == [301, 301]
    assert len(app.rules.ruleset.answers) == 1
    # The same request line from the proxy: its X-Forwarded-Proto decides, not the memory.
    assert _call(app, _scope(headers=spoofed, client="10.0.0.1"))[0] == 200
    assert _call(app, _scope(client="10.0.0.1"))[0] == 301
    assert _call(app, _scope(headers=spoofed, client="10.0.0.1"))[0] == 200
    assert len(app.rules.ruleset.answers) == 1


@pytest.mark.parametrize("json_first", [True, False])
def test_a_client_preferring_json_gets_json_whatever_was_remembered(json_first: bool) -> None:
    app = RedirectMiddleware(echo_asgi_app, rules=_document(HTTPS))
    as_json = _scope(headers=((b"accept", b"application/json"),))
    as_html = _scope(headers=((b"accept", b"text/html"),))
    order = [as_json, as_html, as_json, as_html] if json_first else [as_html, as_json] * 2
    for scope in order:
        status, headers, body = _call(app, scope)
        assert status == 301
        wants_json = scope["headers"][1][1] == b"application/json"
        assert headers[b"content-type"].startswith(
            b"application/json" if wants_json else b"text/html"
        )
        assert body.startswith(b"{" if wants_json else b"<!doctype html>")


def test_a_remembered_report_only_answer_is_logged_every_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    document = _document({"from": "/old", "to": "/new", "report_only": True})
    app = RedirectMiddleware(echo_asgi_app, rules=document)
    with caplog.at_level(logging.INFO, logger="redirectware"):
        for _ in range(3):
            assert _call(app, _scope("/old", scheme="https"))[0] == 200
    assert sum("report-only" in record.getMessage() for record in caplog.records) == 3
    assert len(app.rules.ruleset.answers) == 1


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"from": "/a", "to": "/b", "headers": {"X-Beta": "1"}}, "/a"),
        ({"from": "/a", "to": "/b", "cookies": {"beta": "1"}}, "/a"),
        ({"from": "/a", "to": "/b", "active": {"from": "2000-01-01T00:00:00Z"}}, "/a"),
        ({"from": "/a", "to": "/b", "active": {"until": "2999-01-01T00:00:00Z"}}, "/a"),
        ({"maintenance": {"enabled": True, "allow_ips": ["192.0.2.7"]}}, "/a"),
    ],
)
def test_answers_that_may_change_are_not_remembered(rule: dict[str, Any], path: str) -> None:
    ruleset = RuleSet.from_dict(_document(rule))
    key = ("GET", path)
    for _ in range(3):
        ruleset.resolve("GET", "https", "example.com", path, "", {}, "192.0.2.7", remember_as=key)
    assert key not in ruleset.answers


@pytest.mark.parametrize(
    ("rule", "scheme", "host", "path", "kind"),
    [
        (HTTPS, "http", "example.com", "/a", "redirect"),
        ({"from": "/a/{slug}", "to": "/b/{slug}"}, "https", "example.com", "/a/x", "redirect"),
        ({"map": [{"from": "/a", "to": "/b"}]}, "https", "example.com", "/a", "redirect"),
        ({"trailing_slash": "add"}, "https", "example.com", "/a", "redirect"),
        ({"host": "old.test", "to": "https://example.com/"}, "https", "old.test", "/", "redirect"),
        ({"from": "/a", "to": "/b"}, "https", "example.com", "/elsewhere", "pass"),
        ({"from": "/a", "to": "/b"}, "https", "bad host", "/a", "respond"),
        ({"https": True, "hsts": {"max_age": 60}}, "https", "example.com", "/a", "pass"),
        ({"maintenance": {"enabled": True}}, "https", "example.com", "/a", "respond"),
        ({"maintenance": {"flag_file": "/nonexistent/flag"}}, "https", "example.com", "/a", "pass"),
    ],
)  # fmt: skip
def test_answers_that_cannot_change_are_remembered(
    rule: dict[str, Any], scheme: str, host: str, path: str, kind: str
) -> None:
    ruleset = RuleSet.from_dict(_document(rule))
    key = (scheme, host, path)
    ruleset.resolve("GET", scheme, host, path, "", {}, "192.0.2.7", remember_as=key)
    assert key not in ruleset.answers  # once: only noted
    decision = ruleset.resolve("GET", scheme, host, path, "", {}, "192.0.2.7", remember_as=key)
    assert decision.kind == kind
    assert ruleset.answers.get(key) is decision
    assert ruleset.recall(key, {}) is decision


def test_a_later_hop_that_may_change_keeps_the_chain_from_being_remembered() -> None:
    ruleset = RuleSet.from_dict(
        _document(HTTPS, {"from": "/a", "to": "/b", "headers": {"X-Beta": "1"}})
    )
    key = "k"
    for _ in range(2):
        answer = ruleset.resolve(
            "GET", "http", "example.com", "/a", "", {"x-beta": "1"}, None, remember_as=key
        )
    assert answer.location == "https://example.com/b"
    assert key not in ruleset.answers


def test_long_requests_and_explicit_times_are_not_remembered() -> None:
    ruleset = RuleSet.from_dict(_document(HTTPS))
    long_path = "/" + "a" * MAX_KEY_TEXT
    for _ in range(2):
        ruleset.resolve("GET", "http", "example.com", long_path, remember_as="long")
        ruleset.resolve("GET", "http", "example.com", "/a", now=0.0, remember_as="now")
    assert "long" not in ruleset.answers and "now" not in ruleset.answers


def test_the_memory_is_bounded() -> None:
    memo = AnswerMemo(limit=3)
    for number in range(10):
        memo.store(number, PASS)
        assert len(memo) <= 3
        assert memo.get(number) is PASS
    app = RedirectMiddleware(echo_asgi_app, rules=_document(HTTPS))
    for number in range(5000):
        for _ in range(2):
            _call(app, _scope(f"/p{number}", scheme="https"))
    assert 0 < len(app.rules.ruleset.answers) <= 4096
    # The keys noted once are bounded too: a client sending endless URLs costs no more.
    for number in range(10000):
        _call(app, _scope(f"/q{number}", scheme="https"))
    assert 0 < len(app.rules.ruleset.answers.once) <= 4096


def test_a_reload_forgets_what_the_old_rules_answered(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nrules:\n  - {from: /a, to: /b}\n")
    app = RedirectMiddleware(echo_asgi_app, rules=str(rules), reload=True, reload_interval=0)
    assert _call(app, _scope("/a", scheme="https"))[1][b"location"] == b"https://example.com/b"
    rules.write_text("version: 1\nrules:\n  - {from: /a, to: /c}\n")
    os.utime(rules, ns=(2_000 * 10**9, 2_000 * 10**9))  # same size: the mtime must differ
    # The request that notices the edit starts the compile; a later one meets the new rules.
    wait_for(lambda: _call(app, _scope("/a", scheme="https"))[1][b"location"].endswith(b"/c"))
    assert _call(app, _scope("/a", scheme="https"))[1][b"location"] == b"https://example.com/c"


def _wsgi_get(app: WSGIRedirectMiddleware, **headers: str) -> int:
    client = Client(app, use_cookies=False)
    return client.get("/page", base_url="https://example.com", headers=headers).status_code


def test_wsgi_asks_again_for_header_conditions_and_remembers_the_rest() -> None:
    twice = _wsgi_get
    beta = {"from": "/page", "to": "/beta/page", "headers": {"X-Beta": "1"}}
    app = WSGIRedirectMiddleware(echo_wsgi_app, rules=_document(beta))
    for _ in range(2):
        assert twice(app, **{"X-Beta": "1"}) == 302
        assert twice(app) == 200
    assert len(app.rules.ruleset.answers) == 0
    plain = WSGIRedirectMiddleware(echo_wsgi_app, rules=_document({"from": "/page", "to": "/p"}))
    assert [twice(plain) for _ in range(2)] == [302, 302]
    assert len(plain.rules.ruleset.answers) == 1


def test_a_flag_file_switches_remembered_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = tmp_path / "maintenance.flag"
    document = _document({"maintenance": {"flag_file": str(flag)}, "except": ["/healthz"]})
    app = RedirectMiddleware(echo_asgi_app, rules=document)
    # Look at the file on every request here; in production at most once a second.
    monkeypatch.setattr(FlagFile, "ttl", 0.0)
    asked = _resolves(app)
    assert [_call(app, _scope(scheme="https"))[0] for _ in range(3)] == [200, 200, 200]
    assert len(asked) == 2  # the third was remembered
    flag.touch()
    down = [_call(app, _scope(scheme="https")) for _ in range(3)]
    assert [status for status, _, _ in down] == [503, 503, 503]
    # The URL was sighted before the flag came: its new answer is remembered at once.
    assert down[0] == down[1] == down[2] and len(asked) == 3
    assert _call(app, _scope(scheme="https", headers=((b"accept", b"application/json"),)))[
        2
    ].startswith(b"{")
    flag.unlink()
    assert [_call(app, _scope(scheme="https"))[0] for _ in range(2)] == [200, 200]


def test_a_flag_change_seen_by_a_rule_empties_the_memory(tmp_path: Path) -> None:
    flag_path = tmp_path / "maintenance.flag"
    flag = FlagFile(str(flag_path))
    memo = AnswerMemo(flags=[flag])
    assert memo.get("before") is None  # the memory looks at the file: absent
    memo.store("before", PASS)
    flag_path.touch()
    flag.look(time.monotonic())  # as a maintenance rule does, at most once a second
    memo.store("after", PASS)
    assert "before" not in memo and memo.get("after") is PASS


def test_recall_never_answers_a_trusted_proxy() -> None:
    ruleset = RuleSet.from_dict(_document(HTTPS, trusted_proxies=["10.0.0.1"]))
    for _ in range(2):
        ruleset.resolve("GET", "http", "example.com", "/a", "", {}, "192.0.2.7", remember_as="k")
    assert ruleset.recall("k", {}, "192.0.2.7") is not None
    assert ruleset.recall("k", {}, "10.0.0.1") is None


def test_wsgi_gives_a_trusted_proxy_its_own_answer() -> None:
    app = WSGIRedirectMiddleware(
        echo_wsgi_app, rules=_document(HTTPS, trusted_proxies=["10.0.0.1"])
    )
    client = Client(app, use_cookies=False)

    def get(peer: str, **headers: str) -> int:
        environ = {"REMOTE_ADDR": peer}
        response = client.get("/page", base_url="http://example.com", headers=headers,
                              environ_overrides=environ)  # fmt: skip
        return response.status_code

    assert get("192.0.2.7", **{"X-Forwarded-Proto": "https"}) == 301  # remembered
    assert get("10.0.0.1", **{"X-Forwarded-Proto": "https"}) == 200
    assert get("10.0.0.1") == 301
