"""The log lines every adapter writes about a decision, in one place."""

from __future__ import annotations

import logging

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
