"""reload=True: edits are picked up, invalid or deleted files keep the old rules serving."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from werkzeug.test import Client

from redirectware import WSGIRedirectMiddleware
from tests.conftest import echo_wsgi_app
from tests.waiting import wait_for

V1 = "version: 1\nrules:\n  - name: move\n    from: /old\n    to: /v1\n"
V2 = "version: 1\nrules:\n  - name: move\n    from: /old\n    to: /version-two\n"
BROKEN = "version: 1\nrules:\n  - name: move\n    from: /old\n    to: /v1/{missing}\n"


def _location(client: Client) -> str | None:
    response = client.get("/old", base_url="http://example.com")
    return response.headers.get("Location")


def _write(path: Path, text: str, stamp: int) -> None:
    path.write_text(text, encoding="utf-8")
    # Set a distinct mtime: two writes within one clock tick must still count as a change.
    os.utime(path, ns=(stamp * 10**9, stamp * 10**9))


def test_edits_are_picked_up_and_bad_ones_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "redirects.yaml"
    _write(path, V1, 1_000)
    client = Client(WSGIRedirectMiddleware(echo_wsgi_app, rules=path, reload=True,
                                           reload_interval=0))  # fmt: skip
    assert _location(client) == "http://example.com/v1"

    _write(path, V2, 2_000)
    assert _location(client) == "http://example.com/version-two"

    with caplog.at_level(logging.ERROR, logger="redirectware"):
        _write(path, BROKEN, 3_000)
        assert _location(client) == "http://example.com/version-two"
        assert _location(client) == "http://example.com/version-two"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, "an invalid edit is logged once, not once per request"
    assert "previous rules still serving" in errors[0]
    assert "redirects.yaml:5: rules[0] 'move': to: placeholder {missing}" in errors[0]

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="redirectware"):
        path.unlink()
        assert _location(client) == "http://example.com/version-two"
    assert any("is gone" in r.getMessage() for r in caplog.records)

    _write(path, V1, 4_000)
    assert _location(client) == "http://example.com/v1"


def test_without_reload_the_file_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "redirects.yaml"
    _write(path, V1, 1_000)
    client = Client(WSGIRedirectMiddleware(echo_wsgi_app, rules=path))
    _write(path, V2, 2_000)
    assert _location(client) == "http://example.com/v1"


def test_reload_needs_a_file() -> None:
    with pytest.raises(ValueError, match="reload=True needs rules given as a file path"):
        WSGIRedirectMiddleware(echo_wsgi_app, rules={"version": 1}, reload=True)


MAPPED = "version: 1\nrules:\n  - name: legacy\n    map: legacy.csv\n"


def _csv(path: Path, target: str, stamp: int) -> None:
    _write(path, f"from,to\n/old,{target}\n/older,/b\n", stamp)


def test_the_document_lists_every_file_it_read(tmp_path: Path) -> None:
    rules = tmp_path / "redirects.yaml"
    _write(rules, MAPPED + "  - name: again\n    map: legacy.csv\n    host: example.org\n", 1_000)
    _csv(tmp_path / "legacy.csv", "/one", 1_000)
    app = WSGIRedirectMiddleware(echo_wsgi_app, rules=rules)
    assert app.rules.ruleset.document.files == (str(rules), str(tmp_path / "legacy.csv"))


def test_an_edited_map_is_picked_up_without_touching_the_rule_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rules = tmp_path / "redirects.yaml"
    _write(rules, MAPPED, 1_000)
    csv = tmp_path / "legacy.csv"
    _csv(csv, "/one", 1_000)
    client = Client(WSGIRedirectMiddleware(echo_wsgi_app, rules=rules, reload=True,
                                           reload_interval=0))  # fmt: skip
    assert _location(client) == "http://example.com/one"

    _csv(csv, "/two", 2_000)
    wait_for(lambda: _location(client) == "http://example.com/two")

    # A deleted map keeps the rules in hand and says why, once.
    with caplog.at_level(logging.ERROR, logger="redirectware"):
        csv.unlink()
        # A reload happens on a request: ask until one has tried it.
        wait_for(lambda: _location(client) == "http://example.com/two" and "exist" in caplog.text)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, errors
    assert "previous rules still serving" in errors[0]
    assert f"map file {str(csv)!r} does not exist" in errors[0]

    _csv(csv, "/three", 3_000)
    wait_for(lambda: _location(client) == "http://example.com/three")


def test_a_map_added_by_an_edit_is_watched_too(tmp_path: Path) -> None:
    rules = tmp_path / "redirects.yaml"
    _write(rules, V1, 1_000)
    csv = tmp_path / "legacy.csv"
    client = Client(WSGIRedirectMiddleware(echo_wsgi_app, rules=rules, reload=True,
                                           reload_interval=0))  # fmt: skip
    _write(rules, MAPPED, 2_000)
    _csv(csv, "/one", 2_000)
    wait_for(lambda: _location(client) == "http://example.com/one")
    _csv(csv, "/two", 3_000)
    wait_for(lambda: _location(client) == "http://example.com/two")
