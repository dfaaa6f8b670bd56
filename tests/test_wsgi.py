"""WSGI-specific promises: raw paths, bodies that survive, HSTS on the app's responses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from redirectware import RuleSet
from redirectware.engine.model import FlagFile
from redirectware.wsgi import request_path

DOC: dict[str, Any] = {
    "version": 1,
    "rules": [
        {"name": "https", "https": True, "except": ["/api/v2/{rest:path}"],
         "hsts": {"max_age": 60, "preload": True}},
        {"name": "api", "from": "/api/v1/{rest:path}", "to": "/api/v2/{rest}", "permanent": True},
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("environ", "path"),
    [
        pytest.param({"RAW_URI": "/a%2Fb?x=1", "PATH_INFO": "/a/b"}, "/a%2Fb", id="raw-uri"),
        pytest.param({"REQUEST_URI": "/a%2Fb", "PATH_INFO": "/a/b"}, "/a%2Fb", id="request-uri"),
        pytest.param(
            {"PATH_INFO": "/caf\xc3\xa9", "SCRIPT_NAME": "/app"}, "/app/caf%C3%A9", id="decoded"
        ),
        pytest.param(
            {"RAW_URI": "http://example.com/x?y", "PATH_INFO": "/x"}, "/x", id="absolute-form"
        ),
        pytest.param({"PATH_INFO": ""}, "/", id="empty"),
    ],
)  # fmt: skip
def test_request_path(environ: dict[str, str], path: str) -> None:
    assert request_path(environ) == path


def test_flag_file_switches_maintenance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flag = tmp_path / "maintenance.flag"
    rules = RuleSet.from_dict(
        {"version": 1, "rules": [{"maintenance": {"flag_file": str(flag), "retry_after": 30}}]}
    )
    # Look at the file on every request here; in production at most once a second.
    monkeypatch.setattr(FlagFile, "ttl", 0.0)
    assert rules.resolve("GET", "http", "example.com", "/").passes
    flag.touch()
    down = rules.resolve("GET", "http", "example.com", "/")
    assert down.status == 503
    assert ("Retry-After", "30") in down.headers
    flag.unlink()
    assert rules.resolve("GET", "http", "example.com", "/").passes
