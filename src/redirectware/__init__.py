"""redirectware: HTTP redirect rules for ASGI, WSGI, Flask and Django.

A request whose method is not GET or HEAD is only ever redirected with 307 or 308, so a POST
stays a POST and its body is re-sent. The rule document is described in docs/reference/rules.md.
"""

from __future__ import annotations

from .asgi import RedirectMiddleware
from .engine.decision import Decision, Hop
from .errors import RuleError
from .ruleset import RuleSet
from .wsgi import WSGIRedirectMiddleware

__version__ = "0.1.0.dev0"

__all__ = [
    "Decision",
    "Hop",
    "RedirectMiddleware",
    "RuleError",
    "RuleSet",
    "WSGIRedirectMiddleware",
    "__version__",
]
