"""``redirectware serve FILE``: a standalone redirect server on uvicorn.

For a domain whose only job is to redirect (an old domain after a rebrand): the rules answer
what they match and everything else gets 404. uvicorn is the ``serve`` extra and is imported
only when this command runs, so the rest of the package never needs it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from redirectware._extras import require_extra
from redirectware.asgi import Receive, RedirectMiddleware, Scope, Send
from redirectware.cli import EXIT_OK
from redirectware.engine.wording import rule_count
from redirectware.ruleset import RuleSet

_NOT_FOUND = b"404 Not Found: no redirect rule matches this URL\n"


async def not_found_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The app behind the rules: 404 for every HTTP request, nothing else."""
    if scope["type"] != "http":
        return  # lifespan: nothing to start or stop; websocket: refused by returning
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(_NOT_FOUND)).encode()),
            ],
        }
    )
    body = b"" if scope["method"] == "HEAD" else _NOT_FOUND
    await send({"type": "http.response.body", "body": body})


class _Formatter(logging.Formatter):
    """``DEBUG:    redirectware: ...``: lines that line up with uvicorn's own."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname + ':':<10}redirectware: {record.getMessage()}"


def _log_redirects() -> None:
    """Send the ``redirectware`` logger's lines (one DEBUG line per redirect) to stderr."""
    logger = logging.getLogger("redirectware")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


def run_serve(path: Path, host: str, port: int, reload: bool) -> int:
    """Serve ``path``'s rules until interrupted; return the exit status."""
    require_extra("the standalone server", "serve", ("uvicorn",))
    import uvicorn

    # Load once here so that an invalid document fails now, with its file:line, not in a worker.
    ruleset = RuleSet.from_file(path)
    app = RedirectMiddleware(not_found_app, rules=str(path) if reload else ruleset, reload=reload)
    _log_redirects()
    logging.getLogger("redirectware").info(
        "serving %s from %s%s; Ctrl-C to stop",
        rule_count(ruleset.document),
        path,
        " (reloaded when it changes)" if reload else "",
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        # One line per redirect comes from the rules' logger; a 404 per stray request does not.
        access_log=False,
        lifespan="off",
        log_level="info",
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the SIGINT it handled once it has shut down cleanly: that is a stop.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return EXIT_OK
