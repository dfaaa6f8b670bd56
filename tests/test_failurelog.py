"""A failure that recurs at every look is logged in full once, then once a minute, then once
when it is over (tests/test_database_down.py shows it under a real database)."""

from __future__ import annotations

import logging

import pytest

from redirectware.failurelog import RepeatedFailure


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _fail(log: RepeatedFailure, message: str) -> None:
    try:
        raise ConnectionError(message)
    except ConnectionError as error:
        log.failed(error)


def test_once_in_full_then_once_a_minute_then_once_recovered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    log = RepeatedFailure("rows not read", clock=clock)
    caplog.set_level(logging.INFO, logger="redirectware")
    for _ in range(300):  # five minutes of looks, one a second
        _fail(log, "refused")
        clock.now += 1.0
    records = [(r.levelno, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert records[0] == (logging.ERROR, "rows not read: refused", True)
    reminders = records[1:]
    assert len(reminders) == 4  # at 60, 120, 180 and 240 s
    assert all(level == logging.ERROR and not traced for level, _, traced in reminders)
    assert reminders[0][1] == (
        "rows not read: still failing for 60 s (61 failures; the first was logged with its "
        "traceback); last error: ConnectionError: refused"
    )
    assert log.failing
    caplog.clear()
    log.succeeded()
    log.succeeded()
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "rows not read: recovered after 300 s and 300 failures")
    ]
    assert not log.failing
    # A new outage is logged in full again.
    caplog.clear()
    _fail(log, "down again")
    assert [(r.getMessage(), r.exc_info is not None) for r in caplog.records] == [
        ("rows not read: down again", True)
    ]


def test_success_without_a_failure_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="redirectware")
    RepeatedFailure("rows not read").succeeded()
    assert caplog.records == []
