"""What every adapter does, in one place: ASGI, WSGI, Flask and Django share it.

* turning the request target a server hands over into the path the engine reads
  (:func:`target_path`, :func:`path_from_decoded`);
* merging the headers of a pass-through answer (HSTS) into the app's own response, where the
  app's own header of the same name wins (:func:`headers_to_add`);
* deciding what to log about a decision (:func:`log_decision`).

Each adapter only reads its framework's request and writes its framework's response.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote

from redirectware.engine.decision import PASS, Decision
from redirectware.engine.urls import PATH_SAFE

logger = logging.getLogger("redirectware")

Headers = tuple[tuple[str, str], ...]


def target_path(target: str) -> str:
    """The path of a request target as sent, without its query.

    RFC 9112 section 3.2: a target that starts with ``/`` is origin-form, and all of it is the
    path, ``://`` included (``/login/x://y/healthz`` is one path, not a URL to cut). Only a
    target that does not start with ``/`` can be absolute-form (``http://host/path``), whose
    path starts at the first ``/`` after the authority. Anything else (``*`` of
    ``OPTIONS *``) is returned as it is, and the engine lets it through.
    """
    path = target.split("?", 1)[0]
    if path.startswith("/"):
        return path
    scheme, separator, rest = path.partition("://")
    if not separator or not scheme:
        return path
    return "/" + rest.partition("/")[2]


def path_from_decoded(decoded: str, raw_encoding: str, keep_escapes: bool = False) -> str:
    """The path as sent, rebuilt from a path a server has already percent-decoded.

    ``raw_encoding`` names how the server turned the bytes into text (``"latin-1"`` under
    PEP 3333, ``"utf-8"`` for an ASGI ``path``); the bytes are percent-encoded again. An
    encoded slash (``%2F``) can no longer be told from ``/`` here: servers that keep the
    target as sent (``raw_path``, ``RAW_URI``) are read through :func:`target_path` instead.
    ``keep_escapes`` leaves ``%`` as it is, for Django's ``request.path``, which re-escapes
    bytes that are not UTF-8 as ``%XX`` itself.
    """
    safe = PATH_SAFE + "%" if keep_escapes else PATH_SAFE
    return quote(decoded.encode(raw_encoding, "replace"), safe=safe) or "/"


def headers_to_add(own_names: Iterable[str], extra: Headers) -> list[tuple[str, str]]:
    """The headers of ``extra`` whose name the app's response does not already carry.

    The app's own header wins: a view that sets its own ``Strict-Transport-Security`` knows
    better than a site-wide rule, and two values of one such header confuse browsers.
    ``own_names`` are the names the app sent, in any case.
    """
    present = {name.lower() for name in own_names}
    return [(name, value) for name, value in extra if name.lower() not in present]


def log_decision(decision: Decision, method: str, path: str) -> None:
    """Log a redirect (DEBUG), a refused self-redirect or loop (ERROR), or a report-only answer.

    A plain pass-through, the common case, is not logged and costs one identity test.
    """
    if decision is PASS:
        return
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
    elif decision.kind == "redirect" and logger.isEnabledFor(logging.DEBUG):
        rule = decision.rule.label if decision.rule is not None else "?"
        logger.debug("%s %s -> %d %s (%s)", method, path, decision.status, decision.location, rule)
