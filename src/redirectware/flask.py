"""Flask extension: ``Redirectware(app)``, or ``ext = Redirectware()`` then ``ext.init_app(app)``.

It reads the rule document from ``app.config["REDIRECTWARE"]`` (a path, a document ``dict`` or
a :class:`~redirectware.RuleSet`) and wraps ``app.wsgi_app`` in
:class:`~redirectware.WSGIRedirectMiddleware`. Wrapping the WSGI callable rather than using
``before_request`` means a redirect is answered before Flask routes, opens a session or reads
a body (it only reads and discards a body, up to ``REDIRECTWARE_DRAIN_LIMIT``, before its
own answer).

A relative path is taken relative to ``app.root_path`` (the folder of the app's module), as
Flask does for templates and static files, so the app finds its rules whatever the working
directory of the server is.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._extras import require_extra

require_extra("redirectware.flask", "flask", ("flask",))

from flask import Flask, Response, current_app  # noqa: E402

from .counting import (  # noqa: E402
    DEFAULT_FLUSH_SECONDS,
    DEFAULT_NOT_FOUND_KEEP,
    parse_metrics_setting,
)
from .draining import DEFAULT_DRAIN_LIMIT, check_limit  # noqa: E402
from .reloading import RulesArgument  # noqa: E402
from .ruleset import RuleSet  # noqa: E402
from .settings_values import parse_bool, parse_count, parse_seconds, parse_stats  # noqa: E402
from .wsgi import WSGIRedirectMiddleware  # noqa: E402

#: The config key holding the rule document.
CONFIG_RULES = "REDIRECTWARE"
#: The config key switching reloading of an edited rule file on (default ``False``).
CONFIG_RELOAD = "REDIRECTWARE_RELOAD"
#: The config key bounding the body read before an early answer (default 1 MiB; 0: none).
CONFIG_DRAIN_LIMIT = "REDIRECTWARE_DRAIN_LIMIT"
#: The config key switching Prometheus counters on (default ``False``): see
#: :mod:`redirectware.metrics`.
CONFIG_METRICS = "REDIRECTWARE_METRICS"
#: The config key naming the route that serves the counters to Prometheus (default: none),
#: e.g. ``"/metrics"``: every worker's counts under gunicorn with ``PROMETHEUS_MULTIPROC_DIR``.
CONFIG_METRICS_PATH = "REDIRECTWARE_METRICS_PATH"
#: The config keys of hit counts and the 404 tally, as in Django's settings (default
#: ``False``, 60, 1000): see :class:`~redirectware.wsgi.WSGIRedirectMiddleware`'s ``stats``.
CONFIG_STATS = "REDIRECTWARE_STATS"
CONFIG_STATS_FLUSH = "REDIRECTWARE_STATS_FLUSH"
CONFIG_NOT_FOUND_KEEP = "REDIRECTWARE_NOT_FOUND_KEEP"
#: The key under ``app.extensions``.
EXTENSION_KEY = "redirectware"


def _key(name: str) -> str:
    return f"app.config[{name!r}]"


def _rules_for(app: Flask, rules: RulesArgument) -> RulesArgument:
    if isinstance(rules, str | os.PathLike):
        path = Path(rules)
        if not path.is_absolute():
            return Path(app.root_path) / path
    return rules


class Redirectware:
    """Apply a redirectware rule document to a Flask app.

    :param app: the app to set up now; or leave it out and call :meth:`init_app` later
        (the application-factory pattern).

    Config keys read by :meth:`init_app`:

    ``REDIRECTWARE`` (required)
        A path to a ``.yaml``/``.yml``/``.json`` file (relative paths from ``app.root_path``),
        a document ``dict``, or a :class:`~redirectware.RuleSet`.
    ``REDIRECTWARE_RELOAD`` (default ``False``)
        Re-read the rule file when it changes; an invalid edit keeps the old rules serving.
        ``True``/``False``, or a string ``true/false/1/0/yes/no`` in any case (as
        ``FLASK_REDIRECTWARE_RELOAD=false`` and ``app.config.from_prefixed_env()`` give it).
    ``REDIRECTWARE_DRAIN_LIMIT`` (default ``1048576``)
        Bytes of a request body read and discarded before redirectware's own answer;
        ``0`` never reads.
    ``REDIRECTWARE_METRICS`` (default ``False``)
        Count answers, pass-throughs and the app's 404s: true for Prometheus
        (``pip install 'redirectware[prometheus]'``, a boolean read as ``REDIRECTWARE_RELOAD``),
        or ``"otel"`` for OpenTelemetry (``redirectware[otel]``).
    ``REDIRECTWARE_STATS`` (default ``False``)
        Hit counts per rule and row, and the app's 404s by path, written to the tables of
        ``redirectware.django`` in a Django database (true, or its alias): for an app that
        sets Django up for its models. ``REDIRECTWARE_STATS_FLUSH`` (default 60) is the
        seconds between two writes, ``REDIRECTWARE_NOT_FOUND_KEEP`` (default 1000) the 404
        paths kept. See docs/howto/stale-rules.md.
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Compile the app's rule document and put the middleware in front of ``app.wsgi_app``.

        :raises RuntimeError: ``REDIRECTWARE`` is not set, or this app is already set up.
        :raises redirectware.settings_values.SettingValueError: ``REDIRECTWARE_RELOAD`` is
            not a boolean (a ``ValueError``).
        :raises redirectware.RuleError: the document is invalid (now, at start-up).
        :raises TypeError, ValueError: ``REDIRECTWARE_DRAIN_LIMIT`` is not a count of bytes,
            or a ``REDIRECTWARE_STATS`` key is not what it must be.
        """
        if EXTENSION_KEY in app.extensions:
            # A second wrap would run every rule twice and hide the first configuration.
            raise RuntimeError(f"redirectware is already set up on the Flask app {app.name!r}")
        rules = app.config.get(CONFIG_RULES)
        if rules is None:
            raise RuntimeError(
                f"redirectware needs app.config[{CONFIG_RULES!r}]: a path to a rule file "
                "(relative to app.root_path), a document dict, or a RuleSet"
            )
        # Strictly: from the environment "False" is a string, and bool("False") is True.
        reload = parse_bool(CONFIG_RELOAD, app.config.get(CONFIG_RELOAD, False))
        drain_limit = check_limit(
            app.config.get(CONFIG_DRAIN_LIMIT, DEFAULT_DRAIN_LIMIT),
            f"app.config[{CONFIG_DRAIN_LIMIT!r}]",
        )
        metrics = parse_metrics_setting(CONFIG_METRICS, app.config.get(CONFIG_METRICS, False))
        config = app.config
        middleware = WSGIRedirectMiddleware(
            app.wsgi_app,
            _rules_for(app, rules),
            reload=reload,
            drain_limit=drain_limit,
            metrics=metrics,
            stats=parse_stats(_key(CONFIG_STATS), config.get(CONFIG_STATS, False)),
            stats_flush=parse_seconds(
                _key(CONFIG_STATS_FLUSH), config.get(CONFIG_STATS_FLUSH, DEFAULT_FLUSH_SECONDS)
            ),
            not_found_keep=parse_count(
                _key(CONFIG_NOT_FOUND_KEEP),
                config.get(CONFIG_NOT_FOUND_KEEP, DEFAULT_NOT_FOUND_KEEP),
            ),
        )
        app.wsgi_app = middleware  # type: ignore[method-assign]
        app.extensions[EXTENSION_KEY] = middleware
        metrics_path = app.config.get(CONFIG_METRICS_PATH)
        if metrics_path is not None:
            if not isinstance(metrics_path, str) or not metrics_path.startswith("/"):
                raise ValueError(
                    f"app.config[{CONFIG_METRICS_PATH!r}] must be a path such as '/metrics', "
                    f"got {metrics_path!r}"
                )
            app.add_url_rule(metrics_path, "redirectware_metrics", metrics_view)

    @staticmethod
    def ruleset(app: Flask | None = None) -> RuleSet:
        """The rules ``app`` (default: the current app) serves now, reloads included."""
        target = current_app if app is None else app
        middleware: WSGIRedirectMiddleware = target.extensions[EXTENSION_KEY]
        return middleware.rules.current()


def metrics_view() -> Response:
    """The counters in Prometheus' text format, every worker's under a multi-process server.

    ``REDIRECTWARE_METRICS_PATH = "/metrics"`` registers it; or register it yourself:
    ``app.add_url_rule("/metrics", view_func=metrics_view)``. Needs the ``prometheus``
    extra.
    """
    from .metrics import CONTENT_TYPE, exposition

    return Response(exposition(), content_type=CONTENT_TYPE)
