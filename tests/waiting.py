"""Waiting on a condition with a deadline, never a fixed sleep."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Return once ``condition()`` holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    paced = threading.Event()  # never set: wait() paces the polling without time.sleep
    while not condition():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        paced.wait(0.01)
