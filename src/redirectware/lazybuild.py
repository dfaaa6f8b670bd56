"""A bad rule file met while Starlette builds its middleware stack lazily.

Starlette (and FastAPI) construct ``app.add_middleware(RedirectMiddleware, ...)`` only when
the first ASGI message arrives, and again on every message while construction keeps
failing. At lifespan start-up that is what we want: the ``RuleError`` stops the server.
But under uvicorn's default ``--lifespan auto`` a failing start-up is taken for "lifespan
unsupported" (logged at INFO, the error itself dropped), and then every request builds the
stack again, fails again, and gets a 500 with a traceback in the log.

So, inside Starlette's build only: the first failure of an app's rules logs one ERROR that
names the file, the line and what to change, and is raised as before (``--lifespan on``
still stops the server with it). A later build of the same app with the same rules does not
try again: it gets :class:`redirectware.asgi.RulesFailed`, which answers each request with
a plain 500 and no traceback, until the server is restarted with a fixed file.
"""

from __future__ import annotations

import logging
import os
import sys
import weakref
from collections.abc import Mapping
from types import FrameType
from typing import Any

from .errors import RuleError

logger = logging.getLogger("redirectware")

#: Frames looked through for Starlette's builder: it calls the middleware class directly,
#: so it is the caller of ``__new__``/``__init__`` or one further up.
_FRAMES = 6

#: Starlette apps whose build failed, with the rules (as :func:`_key` has them) that failed.
_FAILED: weakref.WeakKeyDictionary[Any, set[object]] = weakref.WeakKeyDictionary()


def _builder() -> Any:
    """The Starlette (or FastAPI) app whose ``build_middleware_stack`` is running, or None."""
    frame: FrameType | None = sys._getframe(2)
    for _ in range(_FRAMES):
        if frame is None:
            return None
        module = str(frame.f_globals.get("__name__", ""))
        if frame.f_code.co_name == "build_middleware_stack" and module.startswith(
            ("starlette.", "fastapi.")
        ):
            return frame.f_locals.get("self")
        frame = frame.f_back
    return None


def _key(rules: object) -> object:
    if isinstance(rules, str | os.PathLike):
        return os.fspath(rules)
    # A dict is kept by Starlette in the Middleware entry: the same object on every build.
    return id(rules) if isinstance(rules, Mapping) else rules


def failed_before(rules: object) -> bool:
    """Whether this is a repeated Starlette build of rules that already failed to load."""
    app = _builder()
    if app is None:
        return False
    try:
        return _key(rules) in _FAILED.get(app, set())
    except TypeError:  # an unhashable rules argument cannot have been recorded
        return False


def note_failure(rules: object, error: RuleError) -> None:
    """Log a failure met in Starlette's lazy build, once, with what to do about it."""
    app = _builder()
    if app is None:
        return
    try:
        _FAILED.setdefault(app, set()).add(_key(rules))
    except TypeError:
        return
    logger.error(
        "the redirect rules failed to load while Starlette built its middleware: %s. "
        "Fix the file and restart. Under uvicorn's default --lifespan auto the server keeps "
        "running and answers every request with 500; run it with --lifespan on (a bad rule "
        "file then stops it at start-up), or pass rules=RuleSet.from_file(...) to "
        "add_middleware (it then fails when the app is imported).",
        error,
    )
