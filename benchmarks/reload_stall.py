"""How long does the event loop stall while an edited 100,000-row map is reloaded?

Run it from the repository root::

    .venv/bin/python benchmarks/reload_stall.py [ROWS]

An ASGI app with ``reload=True`` serves a rule file whose one rule is a ``map`` of ROWS rows
(default 100,000). A ticker task on the same event loop notes each time it gets to run. The
CSV is rewritten (and the rule file touched, so that a version that watches only the rule
file notices too), then requests are sent on the loop until one is answered by the new map.
Printed: how long the request that noticed the change took, the longest the ticker went
without running (the stall every request in flight suffers), and how long until the new map
answered. Nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from redirectware import RedirectMiddleware
from redirectware.asgi import Message, Receive, Scope, Send


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The app behind the rules: 200, empty."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def write_map(path: Path, rows: int, target: str, stamp: int) -> None:
    """A ``from,to`` CSV of ``rows`` rows; ``/old`` goes to ``target``."""
    lines = ["from,to", f"/old,{target}"]
    lines += [f"/legacy/{n},/new/{n}" for n in range(rows - 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))


async def location(app: Any) -> tuple[str, float]:
    """Send ``GET /old`` through ``app``; its Location and how long the call took."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/old",
        "raw_path": b"/old",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "client": ("192.0.2.1", 40000),
        "server": ("example.com", 443),
    }
    found: dict[bytes, bytes] = {}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            found.update(message["headers"])

    began = time.perf_counter()
    await app(scope, receive, send)
    return found.get(b"location", b"").decode(), time.perf_counter() - began


async def measure(rows: int) -> None:
    """Reload a map of ``rows`` rows under a ticking event loop and print what it cost."""
    with tempfile.TemporaryDirectory() as folder:
        rules = Path(folder) / "redirects.yaml"
        rules.write_text("version: 1\nrules:\n  - {name: legacy, map: legacy.csv}\n")
        csv = Path(folder) / "legacy.csv"
        write_map(csv, rows, "/one", 1_000 * 10**9)
        app = RedirectMiddleware(ok_app, rules=str(rules), reload=True, reload_interval=0)
        assert (await location(app))[0] == "https://example.com/one"

        longest = 0.0
        ticks = 0
        running = True

        async def ticker() -> None:
            nonlocal longest, ticks
            last = time.perf_counter()
            while running:
                await asyncio.sleep(0)
                now = time.perf_counter()
                longest = max(longest, now - last)
                ticks += 1
                last = now

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        longest = 0.0
        # Written from a thread: the benchmark's own file writing must not stall the loop.
        await asyncio.to_thread(write_map, csv, rows, "/two", 2_000 * 10**9)
        os.utime(rules, ns=(2_000 * 10**9, 2_000 * 10**9))
        began = time.perf_counter()
        answer, noticed = await location(app)
        while answer != "https://example.com/two":
            await asyncio.sleep(0.001)
            answer, _ = await location(app)
        done = time.perf_counter() - began
        running = False
        await task
    print(f"{rows:,} rows: the request that noticed the change took {noticed * 1000:.1f} ms")
    print(f"  longest event-loop stall: {longest * 1000:.1f} ms ({ticks:,} ticks)")
    print(f"  new map answering after:  {done * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
