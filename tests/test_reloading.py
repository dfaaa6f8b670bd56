"""reload=True: edits are picked up, invalid or deleted files keep the old rules serving."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from pathlib import Path

import httpx
import pytest
from werkzeug.test import Client

from redirectware import RedirectMiddleware, WSGIRedirectMiddleware
from redirectware.reloading import RuleHolder
from tests.conftest import echo_asgi_app, echo_wsgi_app
from tests.waiting import wait_for

V1 = "version: 1\nrules:\n  - name: move\n    from: /old\n    to: /v1\n"
V2 = "version: 1\nrules:\n  - name: move\n    from: /old\n    to: /version-two\n"
BROKEN = "version: 1\nrules:\n  - name: move\n    from: /old\n    to: /v1/{missing}\n"


TWO = "http://example.com/version-two"


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

    # A request notices the edit and a worker compiles it: ask until the new rules answer.
    _write(path, V2, 2_000)
    wait_for(lambda: _location(client) == "http://example.com/version-two")

    with caplog.at_level(logging.ERROR, logger="redirectware"):
        _write(path, BROKEN, 3_000)
        wait_for(lambda: _location(client) == TWO and bool(caplog.text))
        for _ in range(3):
            assert _location(client) == "http://example.com/version-two"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, "an invalid edit is logged once, not once per request"
    assert "previous rules still serving" in errors[0]
    assert "redirects.yaml:5: rules[0] 'move': to: placeholder {missing}" in errors[0]

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="redirectware"):
        path.unlink()
        wait_for(lambda: _location(client) == TWO and bool(caplog.text))
    assert any("is gone" in r.getMessage() for r in caplog.records)

    _write(path, V1, 4_000)
    wait_for(lambda: _location(client) == "http://example.com/v1")


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


# --- compiling off the request's thread -----------------------------------------------------

BIG_ROWS = 100_000  # about 0.3 s to compile: long enough to be seen running


def _big_map(path: Path, target: str, stamp: int) -> None:
    rows = [f"/legacy/{n},/new/{n}" for n in range(BIG_ROWS)]
    _write(path, "\n".join(["from,to", f"/old,{target}", *rows]) + "\n", stamp)


async def _asgi_location(client: httpx.AsyncClient) -> str:
    response = await client.get("/old")
    return response.headers["location"]


def test_an_asgi_request_during_a_big_reload_gets_the_old_rules_without_waiting(
    tmp_path: Path,
) -> None:
    rules = tmp_path / "redirects.yaml"
    _write(rules, MAPPED, 1_000)
    csv = tmp_path / "legacy.csv"
    _big_map(csv, "/one", 1_000)
    app = RedirectMiddleware(echo_asgi_app, rules=str(rules), reload=True, reload_interval=0)
    one, two = "https://example.com/one", "https://example.com/two"

    async def go() -> tuple[list[str], int]:
        ticks = 0
        running = True

        async def ticker() -> None:
            nonlocal ticks
            while running:
                # Not sleep(0): a loop that never waits takes the GIL back every time the
                # compile's LMDB writes release it (once a row), which slows a 100,000-row
                # compile a hundredfold; a real server's loop waits for its sockets.
                await asyncio.sleep(0.001)
                ticks += 1

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://example.com") as c:
            task = asyncio.create_task(ticker())
            _big_map(csv, "/two", 2_000)
            # The first request to see the edit waits for the file to hold still; the next
            # finds it unchanged and is answered at once, by the rules in hand, while the
            # new map compiles on a worker thread.
            assert await _asgi_location(c) == one
            assert not app.rules.reloading
            assert await _asgi_location(c) == one
            assert app.rules.reloading
            at_start = ticks
            answers = []
            deadline = time.monotonic() + 30
            while app.rules.reloading:
                assert time.monotonic() < deadline, "the reload never finished"
                answers.append(await _asgi_location(c))
                await asyncio.sleep(0.01)
            ticks_during_compile = ticks - at_start
            answers.append(await _asgi_location(c))
            running = False
            await task
        return answers, ticks_during_compile

    answers, ticks_during_compile = asyncio.run(go())
    # The event loop kept running other tasks while the map compiled.
    assert ticks_during_compile >= 10, ticks_during_compile
    assert answers[0] == one, "requests during the compile are answered by the old rules"
    assert answers[-1] == two
    # One swap, old to new, never back: no request saw a half-built or stale set after it.
    assert answers == sorted(answers), answers


def test_one_compile_at_a_time_and_an_edit_during_it_is_picked_up_after(tmp_path: Path) -> None:
    rules = tmp_path / "redirects.yaml"
    _write(rules, MAPPED, 1_000)
    csv = tmp_path / "legacy.csv"
    _big_map(csv, "/one", 1_000)
    holder = RuleHolder(str(rules), reload=True, reload_interval=0)

    def target() -> str | None:
        return holder.current().resolve("GET", "https", "example.com", "/old").location

    _big_map(csv, "/two", 2_000)
    assert target() == "https://example.com/one"  # sees the edit, lets it settle
    assert target() == "https://example.com/one"  # finds it still: compiles it
    assert holder.reloading
    _big_map(csv, "/three", 3_000)  # written while /two compiles
    most = 0

    def busy() -> None:
        nonlocal most
        for _ in range(200):
            holder.current()
            workers = [t for t in threading.enumerate() if t.name == "redirectware-reload"]
            most = max(most, len(workers))

    threads = [threading.Thread(target=busy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1, "two compiles ran at once"
    wait_for(lambda: target() == "https://example.com/three")
    assert holder.wait_idle(15)
