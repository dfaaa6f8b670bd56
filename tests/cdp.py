"""Headless Chromium driven over the DevTools protocol: load pages, fill forms, read the page.

``--dump-dom`` (tests/test_browser.py) shows one page; an admin session needs several, with
cookies kept between them. Chromium is started with ``--remote-debugging-port=0`` on
127.0.0.1; it writes the port it chose to ``DevToolsActivePort`` in its profile folder.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from tests.test_browser import CHROMIUM, FLAGS

START_TIMEOUT = 60.0
LOAD_TIMEOUT = 30.0


class Page:
    """One browser tab; each step waits for the page's load event, never for a time."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._events: list[str] = []
        #: Every event received, with its parameters (console messages, exceptions).
        self.received: list[dict[str, Any]] = []

    def _receive(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"Chromium did not answer within {LOAD_TIMEOUT}s")
        message: dict[str, Any] = json.loads(self._socket.recv(timeout=remaining))
        if "method" in message:
            self._events.append(message["method"])
            self.received.append(message)
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command; its result (events on the way are kept for :meth:`_loaded`)."""
        number = next(self._ids)
        self._socket.send(json.dumps({"id": number, "method": method, "params": params}))
        deadline = time.monotonic() + LOAD_TIMEOUT
        while True:
            message = self._receive(deadline)
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def js(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page; its value."""
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def _loaded(self) -> None:
        deadline = time.monotonic() + LOAD_TIMEOUT
        while "Page.loadEventFired" not in self._events:
            self._receive(deadline)

    def go(self, url: str) -> None:
        """Load ``url``; return once it has loaded (after any redirects)."""
        self._events.clear()
        self.call("Page.navigate", url=url)
        self._loaded()

    def fill(self, fields: dict[str, str]) -> None:
        """Type values into the form fields with these ids."""
        for field, value in fields.items():
            self.js(f"document.getElementById({json.dumps(field)}).value = {json.dumps(value)}")

    def click(self, selector: str) -> None:
        """Click the element (a submit button) and wait for the page it loads."""
        self._events.clear()
        self.js(f"document.querySelector({json.dumps(selector)}).click()")
        self._loaded()

    def url(self) -> str:
        """Where the tab is now."""
        return str(self.js("location.href"))

    def text(self) -> str:
        """The page's visible text."""
        return str(self.js("document.body ? document.body.innerText : ''"))


@contextmanager
def chromium() -> Iterator[Page]:
    """A fresh headless Chromium with one tab."""
    # Chromium's helper processes (zygote, renderer) may still write to the profile as the
    # browser exits: they are stopped as a group below, and a late file is no failure.
    with tempfile.TemporaryDirectory(
        prefix="redirectware-chromium-", ignore_cleanup_errors=True
    ) as profile:
        process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--remote-debugging-address=127.0.0.1", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + START_TIMEOUT
            while not port_file.exists() or not port_file.read_text().strip():
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("Chromium did not open its DevTools port")
                with suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.05)  # returns at once should Chromium die
            port = int(port_file.read_text().split()[0])
            tabs = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=LOAD_TIMEOUT).json()
            url = next(tab["webSocketDebuggerUrl"] for tab in tabs if tab["type"] == "page")
            with connect(url, max_size=None) as socket:
                page = Page(socket)
                page.call("Page.enable")
                yield page
        finally:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
