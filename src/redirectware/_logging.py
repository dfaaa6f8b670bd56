"""The log lines every adapter writes about a decision, in one place."""

from __future__ import annotations

import logging
import sys
from typing import Any

from .decision import Decision

logger = logging.getLogger("redirectware")


def log_decision(decision: Decision, method: str, path: str) -> None:
    """Log a redirect (DEBUG), a refused self-redirect (ERROR), or a report-only answer."""
    if decision.error is not None and decision.kind == "pass":
        logger.error("%s %s: %s; the request passes through", method, path, decision.error)
    elif decision.would is not None:
        would = decision.would
        rule = would.rule.label if would.rule is not None else "?"
        logger.info(
            "report-only: %s %s would get %d from %s, Location %s",
            method,
            path,
            would.status,
            rule,
            would.location,
        )
    elif decision.kind == "respond" and decision.error is not None:
        # A 400 for a Host outside allowed_hosts: DEBUG, since any client can cause one, but
        # with the host and the setting for whoever is looking.
        logger.debug("%s %s -> %d: %s", method, path, decision.status, decision.error)
    elif decision.kind == "redirect" and logger.isEnabledFor(logging.DEBUG):
        rule = decision.rule.label if decision.rule is not None else "?"
        logger.debug("%s %s -> %d %s (%s)", method, path, decision.status, decision.location, rule)


#: The fallback's format: when, how bad, and who says so, which Python's last-resort
#: handler (the bare message) leaves out.
FALLBACK_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class FallbackHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes the ``redirectware`` logger's records to stderr while nobody else would.

    It checks at each record, not only when attached: if logging is configured later (a
    root handler from ``basicConfig``, a handler on ``redirectware``), the other handler
    takes over and this one keeps quiet, so no line is printed twice.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(FALLBACK_FORMAT))

    @property
    def stream(self) -> Any:
        """``sys.stderr`` as it is now: a test runner or a server may have replaced it."""
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        # StreamHandler.__init__ assigns the stream it was given; the property ignores it.
        pass

    def handle(self, record: logging.LogRecord) -> bool:
        if _someone_else_handles(self):
            return False
        return bool(super().handle(record))


def _someone_else_handles(fallback: logging.Handler) -> bool:
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler is not fallback for handler in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


def make_failures_visible() -> None:
    """Give the ``redirectware`` logger a stderr handler if logging is not configured at all.

    Called when a middleware is built. A library must not configure the root logger, and
    must leave alone what the application configured: so this acts only when neither the
    ``redirectware`` logger (no handler, no level, propagating) nor the root logger (no
    handler) has been set up, as under a plain ``uvicorn app:app``, gunicorn or a Django
    project without ``LOGGING`` for it. Then ERROR (a failed reload, a refused
    self-redirect) and INFO (a reload, report-only) lines reach stderr with time, level and
    logger name; DEBUG (one line per redirect) stays off until asked for.
    """
    if any(isinstance(handler, FallbackHandler) for handler in logger.handlers):
        return
    configured = logger.handlers or not logger.propagate or logger.level != logging.NOTSET
    if configured or logging.getLogger().handlers:
        return
    logger.addHandler(FallbackHandler())
    logger.setLevel(logging.INFO)
