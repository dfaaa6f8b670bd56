"""``redirectware serve``: real uvicorn on 127.0.0.1, a real client, stopped with SIGINT."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.console import SCRIPT, run_cli, write
from tests.servers import STOP_TIMEOUT, Server, serve

# Starts real servers: left out of the quick loop (CONTRIBUTING.md, Development).
pytestmark = pytest.mark.servers

REBRAND = """\
version: 1
rules:
  - name: rebrand
    host: old.example
    from: /{rest:path}
    to: https://new.example/{rest}
    permanent: true
"""


def _stop_with_sigint(server: Server) -> int:
    server.process.send_signal(signal.SIGINT)
    return server.process.wait(timeout=STOP_TIMEOUT)


def _wait_until(server: Server, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail with the server's log after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"condition not met in {timeout}s:\n{server.log()}"
        # Waiting on the process returns at once if the server dies instead.
        try:
            server.process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"server exited:\n{server.log()}")


def test_serve_redirects_404s_logs_and_stops_on_sigint(tmp_path: Path) -> None:
    doc = write(tmp_path, "redirects.yaml", REBRAND)
    with serve([str(SCRIPT), "serve", str(doc), "--port", "{port}"]) as server:
        old = {"Host": "old.example"}
        posted = httpx.post(server.url + "/orders?x=1", headers=old, content=b"order")
        assert posted.status_code == 308  # a POST stays a POST
        assert posted.headers["location"] == "https://new.example/orders?x=1"
        got = httpx.get(server.url + "/about", headers=old)
        assert got.status_code == 301
        assert got.headers["location"] == "https://new.example/about"
        missed = httpx.get(server.url + "/about", headers={"Host": "elsewhere.example"})
        assert missed.status_code == 404
        assert missed.text == "404 Not Found: no redirect rule matches this URL\n"
        assert _stop_with_sigint(server) == 0
        log = server.log()
    assert "DEBUG:    redirectware: POST /orders -> 308 https://new.example/orders?x=1 " in log
    assert "(rules[0] 'rebrand')" in log
    # One line per redirect; the 404s (the readiness probe included) log nothing of ours.
    assert log.count("redirectware: GET") == 1, log
    assert "Shutting down" in log


def test_serve_reload_picks_up_an_edit_and_survives_a_bad_one(tmp_path: Path) -> None:
    doc = write(tmp_path, "redirects.yaml", REBRAND)
    with serve([str(SCRIPT), "serve", str(doc), "--port", "{port}", "--reload"]) as server:

        def location() -> str | None:
            answer = httpx.get(server.url + "/a", headers={"Host": "old.example"})
            location: str | None = answer.headers.get("location")
            return location

        assert location() == "https://new.example/a"
        doc.write_text(REBRAND.replace("new.example", "newer-brand.example"), encoding="utf-8")
        _wait_until(server, lambda: location() == "https://newer-brand.example/a")
        doc.write_text(REBRAND + "    stauts: 301\n", encoding="utf-8")
        # The file is looked at when a request comes: each poll is a request, still answered.
        _wait_until(
            server,
            lambda: (
                location() == "https://newer-brand.example/a"
                and "rule file not reloaded" in server.log()
            ),
        )
        assert _stop_with_sigint(server) == 0
        log = server.log()
    assert (
        "ERROR:    redirectware: rule file not reloaded, previous rules still serving: "
        f"{doc}:8: rules[0] 'rebrand': stauts: unknown key" in log
    ), log


def test_serve_refuses_an_invalid_document_before_listening(tmp_path: Path) -> None:
    doc = write(tmp_path, "redirects.yaml", "rules:\n  - from: /a\n")
    run = run_cli("serve", doc, "--port", "0")
    assert run.code == 1, run
    assert run.err.startswith(f"redirectware serve: invalid rule document: {doc}:2: rules[0]: ")
    assert "Uvicorn running" not in run.err


def test_serve_counts_disabled_rules_and_says_so(tmp_path: Path) -> None:
    text = REBRAND + "  - name: parked\n    enabled: false\n    from: /p\n    to: /q\n"
    doc = write(tmp_path, "redirects.yaml", text)
    with serve([str(SCRIPT), "serve", str(doc), "--port", "{port}"]) as server:
        assert _stop_with_sigint(server) == 0
        log = server.log()
    assert f"INFO:     redirectware: serving 2 rules (1 disabled) from {doc}; Ctrl-C to stop" in log
