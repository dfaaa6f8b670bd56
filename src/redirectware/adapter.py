"""What every adapter does, in one place: ASGI, WSGI, Flask and Django share it.

* turning the request target a server hands over into the path the engine reads
  (:func:`target_path`, :func:`path_from_decoded`);
* merging the headers of a pass-through answer (HSTS) into the app's own response, where the
  app's own header of the same name wins (:func:`headers_to_add`);
* deciding what to log about a decision (:func:`log_decision`), and making failures visible
  where nobody configured logging (:func:`make_failures_visible`);
* reading the ``metrics`` option (:func:`metrics_for`) and the ``stats`` options
  (:func:`check_stats`, :func:`hit_counts_for`).

Each adapter only reads its framework's request and writes its framework's response.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from redirectware.engine.decision import PASS, Decision
from redirectware.engine.urls import PATH_SAFE

if TYPE_CHECKING:
    from .counting import Counting

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


def metrics_for(option: bool | str | Counting | None) -> Counting | None:
    """The counting an adapter does, or None.

    ``option`` is the adapter's ``metrics`` argument: false for none (then nothing of
    metrics is imported, and the request path is the one without them); ``True`` or
    ``"prometheus"`` for the counters in ``prometheus_client``'s default registry
    (:mod:`redirectware.metrics`); ``"otel"`` for OpenTelemetry (:mod:`redirectware.otel`);
    or a :class:`~redirectware.metrics.Metrics` or :class:`~redirectware.otel.OtelMetrics`
    of its own.
    """
    if option is False or option is None:
        return None
    if option is True or option == "prometheus":
        from .metrics import shared_metrics

        return shared_metrics()
    if option == "otel":
        from .otel import shared_otel

        return shared_otel()
    from .counting import Counting

    if isinstance(option, Counting):
        return option
    raise TypeError(
        f"metrics must be True, False, 'prometheus', 'otel' or a Metrics, not {option!r}"
    )


class StatsPlan(NamedTuple):
    """Where and how the plain middleware counts hits, checked before anything starts."""

    #: The database alias, or None for the one Django's router picks.
    alias: str | None
    flush_seconds: float
    not_found_keep: int


def check_stats(
    stats: bool | str | None, stats_flush: object, not_found_keep: object
) -> StatsPlan | None:
    """The ``stats`` options of the ASGI and WSGI middleware (and Flask's), checked: None
    when ``stats`` is false; else where the hit counts and the app's 404s go (the tables of
    ``redirectware.django`` in the Django database ``stats`` names, ``True`` for the one
    Django's router picks), written every ``stats_flush`` seconds, with the
    ``not_found_keep`` most hit paths kept (0: no tally). The same as the Django settings
    ``REDIRECTWARE_STATS``, ``REDIRECTWARE_STATS_FLUSH`` and ``REDIRECTWARE_NOT_FOUND_KEEP``,
    for a Django project served through the plain middleware
    (``RedirectMiddleware(get_asgi_application(), ...)``) or an app that sets Django up for
    its models.

    :raises SettingValueError: a value that is not what it must be, or ``stats`` where no
        Django project is set up with ``redirectware.django`` installed and that database.
    """
    from .settings_values import SettingValueError, parse_count, parse_seconds, parse_stats

    where = parse_stats("stats", False if stats is None else stats)
    seconds = parse_seconds("stats_flush", stats_flush)
    keep = parse_count("not_found_keep", not_found_keep)
    if where is False:
        return None
    needs = (
        f"stats={where!r} writes hit counts to a Django database: it needs Django set up "
        "(django.setup(), or the application get_asgi_application() or "
        "get_wsgi_application() gives) with 'redirectware.django' in INSTALLED_APPS"
    )
    try:
        from django.apps import apps
    except ImportError:
        raise SettingValueError(f"{needs}; Django is not installed") from None
    if not apps.ready:
        raise SettingValueError(f"{needs}; Django is not set up yet")
    if not apps.is_installed("redirectware.django"):
        raise SettingValueError(f"{needs}; it is not in INSTALLED_APPS")
    from django.conf import settings

    if isinstance(where, str) and where not in settings.DATABASES:
        known = ", ".join(map(repr, settings.DATABASES))
        raise SettingValueError(
            f"stats={where!r} is not a database of settings.DATABASES ({known})"
        )
    return StatsPlan(where if isinstance(where, str) else None, seconds, keep)


def hit_counts_for(plan: StatsPlan | None, inner: Counting | None) -> Counting | None:
    """The counting an adapter does with ``plan`` (from :func:`check_stats`) in front of its
    metrics (``inner``): ``inner`` itself without a plan. Starts the flush thread."""
    if plan is None:
        return inner
    from .django.stats import hit_counts

    return hit_counts(inner, plan.flush_seconds, plan.not_found_keep, plan.alias)
