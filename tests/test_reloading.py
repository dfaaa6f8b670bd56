"""reload=True: edits are picked up, invalid or deleted files keep the old rules serving."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from werkzeug.test import Client

from redirectware import WSGIRedirectMiddleware
from tests.conftest import echo_wsgi_app

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
