"""The Django settings redirectware reads, validated in one place for the middleware and checks.

``REDIRECTWARE`` (required): a path (``str`` or ``pathlib.Path``), a document ``dict``, or a
:class:`~redirectware.RuleSet`. ``REDIRECTWARE_RELOAD`` (default ``False``): re-read the rule
file when it changes; ``True``/``False`` or a string ``true/false/1/0/yes/no`` in any case (as
``os.environ`` gives it), read by :func:`redirectware.settings_values.parse_bool`.
``REDIRECTWARE_DRAIN_LIMIT`` (default 1 MiB): bytes of a request body read and discarded
before the middleware's own answer, 0 for none. ``REDIRECTWARE_STATS`` (default ``False``;
true, or the database alias to write to) counts hits per rule and per row, written every
``REDIRECTWARE_STATS_FLUSH`` seconds
(default 60), and the paths of the app's 404s, the ``REDIRECTWARE_NOT_FOUND_KEEP`` most
hit (default 1000). ``REDIRECTWARE_RELOAD_INTERVAL`` (default 1):
seconds between two looks at the file and at the redirect table's version
(``map: {database: ALIAS}``). Problems are raised as :class:`SettingProblem` carrying the
system-check id under which ``manage.py check`` reports them, so the middleware and the
checks cannot disagree about what is wrong.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Callable, Mapping
from typing import Final

from django.apps import apps
from django.conf import settings

from redirectware.counting import (
    DEFAULT_FLUSH_SECONDS,
    DEFAULT_NOT_FOUND_KEEP,
    parse_metrics_setting,
)
from redirectware.draining import DEFAULT_DRAIN_LIMIT, check_limit
from redirectware.engine.hosts import AllowedHosts
from redirectware.errors import RuleError
from redirectware.reloading import RuleHolder, RulesArgument
from redirectware.ruleset import RuleSet
from redirectware.settings_values import (
    SettingValueError,
    parse_bool,
    parse_count,
    parse_seconds,
    parse_stats,
)

SETTING: Final = "REDIRECTWARE"
RELOAD_SETTING: Final = "REDIRECTWARE_RELOAD"
DRAIN_LIMIT_SETTING: Final = "REDIRECTWARE_DRAIN_LIMIT"
INTERVAL_SETTING: Final = "REDIRECTWARE_RELOAD_INTERVAL"
#: Seconds between two looks at the rule file and the redirect table's version.
DEFAULT_INTERVAL: Final = 1.0
METRICS_SETTING: Final = "REDIRECTWARE_METRICS"
STATS_SETTING: Final = "REDIRECTWARE_STATS"
STATS_FLUSH_SETTING: Final = "REDIRECTWARE_STATS_FLUSH"
NOT_FOUND_KEEP_SETTING: Final = "REDIRECTWARE_NOT_FOUND_KEEP"

#: What Django itself allows when ``DEBUG`` is on and ``ALLOWED_HOSTS`` is empty
#: (``django.http.request.HttpRequest.get_host``); the fallback must agree with it.
DEBUG_ALLOWED_HOSTS: Final = (".localhost", "127.0.0.1", "[::1]")

# System-check ids; the checks module and the middleware's ImproperlyConfigured use the same.
INVALID_DOCUMENT: Final = "redirectware.E001"
MISSING_SETTING: Final = "redirectware.E002"
BAD_SETTING_TYPE: Final = "redirectware.E003"
BAD_ALLOWED_HOSTS: Final = "redirectware.E004"
BAD_RELOAD: Final = "redirectware.E005"
BAD_DRAIN_LIMIT: Final = "redirectware.E006"
BAD_METRICS: Final = "redirectware.E007"
BAD_STATS: Final = "redirectware.E008"


class SettingProblem(Exception):
    """A Django setting redirectware cannot use, with the system-check id that reports it."""

    def __init__(self, check_id: str, message: str, hint: str | None = None) -> None:
        self.check_id = check_id
        self.message = message
        self.hint = hint
        super().__init__(f"{check_id}: {message}" + (f" HINT: {hint}" if hint else ""))


def rules_setting() -> RulesArgument:
    """``settings.REDIRECTWARE``, checked for presence and type."""
    if not hasattr(settings, SETTING):
        raise SettingProblem(
            MISSING_SETTING,
            f"settings.{SETTING} is not set.",
            f'Set {SETTING} = BASE_DIR / "redirects.yaml" (or a dict holding the document).',
        )
    rules: object = getattr(settings, SETTING)
    if isinstance(rules, RuleSet | str | os.PathLike | Mapping):
        return rules
    raise SettingProblem(
        BAD_SETTING_TYPE,
        f"settings.{SETTING} must be a path, a dict or a RuleSet, not {type(rules).__name__}.",
    )


def reload_setting(rules: RulesArgument) -> bool:
    """``settings.REDIRECTWARE_RELOAD``, which only makes sense for a rule file."""
    try:
        # Strictly, as Flask's: a value from os.environ is a string, and bool("False") is True.
        reload = parse_bool(f"settings.{RELOAD_SETTING}", getattr(settings, RELOAD_SETTING, False))
    except SettingValueError as error:
        raise SettingProblem(BAD_RELOAD, f"{error}.") from None
    if reload and not isinstance(rules, str | os.PathLike):
        raise SettingProblem(
            BAD_RELOAD,
            f"settings.{RELOAD_SETTING} is True but settings.{SETTING} is not a file path.",
            "Only a rule file can be re-read; drop the setting or point REDIRECTWARE at a file.",
        )
    return reload


def drain_limit_setting() -> int:
    """``settings.REDIRECTWARE_DRAIN_LIMIT``: a whole number of bytes, 0 or more."""
    value: object = getattr(settings, DRAIN_LIMIT_SETTING, DEFAULT_DRAIN_LIMIT)
    try:
        return check_limit(value, f"settings.{DRAIN_LIMIT_SETTING}")
    except (TypeError, ValueError) as error:
        raise SettingProblem(
            BAD_DRAIN_LIMIT,
            f"{error}.",
            "Bytes of a request body read before an early answer, e.g. 1048576; 0 reads none.",
        ) from None


def interval_setting() -> float:
    """``settings.REDIRECTWARE_RELOAD_INTERVAL``: seconds, a positive number (default 1)."""
    value: object = getattr(settings, INTERVAL_SETTING, DEFAULT_INTERVAL)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)  # as os.environ gives it
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise SettingProblem(
            BAD_RELOAD,
            f"settings.{INTERVAL_SETTING} must be a number of seconds above 0, got {value!r}.",
        )
    return float(value)


def metrics_setting() -> bool | str:
    """``settings.REDIRECTWARE_METRICS`` (default ``False``): true (or ``"prometheus"``) for
    Prometheus counters, ``"otel"`` for OpenTelemetry, read as strictly as
    ``REDIRECTWARE_RELOAD``. On without the library it needs is a problem too."""
    try:
        metrics = parse_metrics_setting(
            f"settings.{METRICS_SETTING}", getattr(settings, METRICS_SETTING, False)
        )
    except SettingValueError as error:
        raise SettingProblem(BAD_METRICS, f"{error}.") from None
    if metrics:
        module, extra = (
            ("opentelemetry", "otel")
            if metrics == "otel"
            else (
                "prometheus_client",
                "prometheus",
            )
        )
        try:
            importlib.import_module(module)
        except ImportError:
            raise SettingProblem(
                BAD_METRICS,
                f"settings.{METRICS_SETTING} is {metrics!r} but {module} is not installed.",
                f"pip install 'redirectware[{extra}]'",
            ) from None
    return metrics


def stats_setting() -> float | None:
    """``settings.REDIRECTWARE_STATS`` (default ``False``): when true or a database alias
    (see :func:`stats_alias_setting`), the seconds between two flushes of the hit counts,
    ``settings.REDIRECTWARE_STATS_FLUSH`` (default 60, a number above 0); else None."""
    alias = stats_alias_setting()
    try:
        seconds = parse_seconds(
            f"settings.{STATS_FLUSH_SETTING}",
            getattr(settings, STATS_FLUSH_SETTING, DEFAULT_FLUSH_SECONDS),
        )
    except SettingValueError as error:
        raise SettingProblem(BAD_STATS, f"{error}.") from None
    return None if alias is False else seconds


def stats_alias_setting() -> str | bool:
    """``settings.REDIRECTWARE_STATS``: ``False`` (no counting), ``True`` (counts go to the
    database the router picks for their tables) or a database alias of ``DATABASES``."""
    key = f"settings.{STATS_SETTING}"
    try:
        alias = parse_stats(key, getattr(settings, STATS_SETTING, False))
    except SettingValueError as error:
        raise SettingProblem(BAD_STATS, f"{error}.") from None
    if alias is not False and not apps.is_installed("redirectware.django"):
        raise SettingProblem(
            BAD_STATS,
            f"{key} is {alias!r} but the hit counts have no table to go to.",
            "Add 'redirectware.django' to INSTALLED_APPS and run manage.py migrate.",
        )
    if isinstance(alias, str) and alias not in settings.DATABASES:
        raise SettingProblem(
            BAD_STATS,
            f"{key} is {alias!r}, which is not a database of settings.DATABASES "
            f"({', '.join(map(repr, settings.DATABASES))}).",
        )
    return alias


def not_found_keep_setting() -> int:
    """``settings.REDIRECTWARE_NOT_FOUND_KEEP`` (default 1000): how many paths of the app's
    404s each process tallies and the table keeps, with ``REDIRECTWARE_STATS``; 0 for none."""
    try:
        return parse_count(
            f"settings.{NOT_FOUND_KEEP_SETTING}",
            getattr(settings, NOT_FOUND_KEEP_SETTING, DEFAULT_NOT_FOUND_KEEP),
        )
    except SettingValueError as error:
        raise SettingProblem(BAD_STATS, f"{error}.") from None


class AllowedHostsError(RuleError):
    """A document without ``allowed_hosts`` and an ``ALLOWED_HOSTS`` that cannot stand in.

    A :class:`~redirectware.RuleError`, so that a reload with this problem keeps the previous
    rules serving; ``manage.py check`` reports it as ``redirectware.E004``.
    """


def django_allowed_hosts() -> list[str] | None:
    """Django's ``ALLOWED_HOSTS`` as Django applies it; None when it is ``*`` (anyone).

    An empty list under ``DEBUG`` means what Django makes of it: the local names.
    """
    entries = [str(entry) for entry in settings.ALLOWED_HOSTS]
    if not entries and settings.DEBUG:
        entries = list(DEBUG_ALLOWED_HOSTS)
    # The same as a document without allowed_hosts: any well-formed Host.
    return None if "*" in entries else entries


def allowed_hosts_fallback() -> Callable[[RuleSet], RuleSet]:
    """A ``prepare`` step for :class:`RuleHolder`: ``ALLOWED_HOSTS`` when the document has none.

    Django's setting is read once, now; each (re)loaded document that lists no
    ``allowed_hosts`` of its own gets it. Django's ``.example.com`` (the domain and its
    subdomains) and ``*`` mean the same to the core, so entries are taken as they are.
    """
    entries = django_allowed_hosts()

    def prepare(ruleset: RuleSet) -> RuleSet:
        if entries is None or ruleset.settings.allowed_hosts_given:
            return ruleset
        try:
            hosts = AllowedHosts.parse(entries)
        except ValueError as error:
            raise AllowedHostsError(
                f"the document lists no allowed_hosts, and settings.ALLOWED_HOSTS cannot "
                f"stand in: {error}",
                source=ruleset.source,
            ) from None
        return ruleset.with_settings(
            allowed_hosts=hosts,
            allowed_hosts_given=True,
            allowed_hosts_from=(
                "Django's settings.ALLOWED_HOSTS (the document has no allowed_hosts)"
            ),
        )

    return prepare


def load_ruleset() -> RuleSet:
    """The rule set the middleware would serve, built as it builds it (for the checks).

    Raises :class:`SettingProblem` or :class:`~redirectware.RuleError` (of which
    :class:`AllowedHostsError` is one).
    """
    rules = rules_setting()
    reload_setting(rules)
    drain_limit_setting()
    interval_setting()
    metrics_setting()
    stats_setting()
    not_found_keep_setting()
    return allowed_hosts_fallback()(RuleSet.load(rules))


def rule_holder() -> RuleHolder:
    """The middleware's :class:`RuleHolder`, from settings.

    Raises :class:`SettingProblem` or :class:`~redirectware.RuleError` (of which
    :class:`AllowedHostsError` is one).
    """
    rules = rules_setting()
    reload = reload_setting(rules)
    interval = interval_setting()
    # A map of database rows is watched by the row source's own watch, which the app
    # registers when ready (see RuleHolder): REDIRECTWARE_RELOAD is about the rule file.
    return RuleHolder(
        rules,
        reload=reload,
        reload_interval=interval,
        prepare=allowed_hosts_fallback(),
    )
