"""System checks: ``manage.py check`` reports what the middleware would fail on, and more.

Errors (the middleware would refuse to start):

* ``redirectware.E001``: the rule document is invalid (the :class:`~redirectware.RuleError`
  message: file, line, rule, key).
* ``redirectware.E002``: ``settings.REDIRECTWARE`` is missing.
* ``redirectware.E003``: ``settings.REDIRECTWARE`` is not a path, a dict or a RuleSet.
* ``redirectware.E004``: ``ALLOWED_HOSTS`` has an entry that cannot serve as ``allowed_hosts``.
* ``redirectware.E005``: ``REDIRECTWARE_RELOAD`` is not a bool, or is on without a rule file.
* ``redirectware.E006``: ``REDIRECTWARE_DRAIN_LIMIT`` is not a whole number of bytes, 0 or more.
* ``redirectware.E007``: ``REDIRECTWARE_METRICS`` is not a bool, ``"prometheus"`` or
  ``"otel"``, or is on without the library it needs.

Warnings (it starts, but probably not as meant):

* ``redirectware.W001``: Django trusts ``SECURE_PROXY_SSL_HEADER`` but the document lists no
  ``trusted_proxies``, so the two disagree about which requests are https.
* ``redirectware.W002``: ``SECURE_PROXY_SSL_HEADER`` names a header redirectware does not read.
* ``redirectware.W003``: the middleware is not in ``MIDDLEWARE``.
* ``redirectware.W004``: the middleware comes after ``SecurityMiddleware`` or
  ``CommonMiddleware``, whose 301s then answer first.
* ``redirectware.W005``: ``SECURE_SSL_REDIRECT`` is on: a 301 that turns a POST into a GET.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Final

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from redirectware.errors import RuleError
from redirectware.ruleset import RuleSet

from .conf import (
    BAD_ALLOWED_HOSTS,
    INVALID_DOCUMENT,
    SETTING,
    AllowedHostsError,
    SettingProblem,
    load_ruleset,
)
from .rows import table_exists, without_rows

MIDDLEWARE_PATH: Final = "redirectware.django.RedirectMiddleware"
#: Django middleware that answer with their own 301s, and the settings that make them do it.
REDIRECTING_MIDDLEWARE: Final = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
)
#: The only SECURE_PROXY_SSL_HEADER the engine can also read (it reads Forwarded as well).
FORWARDED_PROTO_META: Final = "HTTP_X_FORWARDED_PROTO"

PROXY_MISMATCH: Final = "redirectware.W001"
PROXY_HEADER_UNREAD: Final = "redirectware.W002"
MIDDLEWARE_MISSING: Final = "redirectware.W003"
MIDDLEWARE_LATE: Final = "redirectware.W004"
SSL_REDIRECT_ON: Final = "redirectware.W005"


def check_rules(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """Build the rule set exactly as the middleware will, and report why it cannot.

    The rows of ``map: {database: ALIAS}`` are read, and checked with the document, only
    when the check may use the databases (``manage.py check --database default``, which
    ``migrate`` passes too) and the table exists; otherwise the document alone is checked.
    """
    read_rows = bool(databases) and all(table_exists(alias) for alias in databases)
    try:
        with nullcontext() if read_rows else without_rows():
            ruleset = load_ruleset()
    except SettingProblem as problem:
        return [Error(problem.message, hint=problem.hint, id=problem.check_id)]
    except AllowedHostsError as error:
        return [
            Error(
                str(error),
                hint="Fix settings.ALLOWED_HOSTS, or list allowed_hosts in the document.",
                id=BAD_ALLOWED_HOSTS,
            )
        ]
    except RuleError as error:
        return [
            Error(
                str(error),
                hint=f"Fix the rule document named by settings.{SETTING}; "
                "`redirectware check FILE` reports every problem with its line.",
                id=INVALID_DOCUMENT,
            )
        ]
    return _proxy_messages(ruleset)


def _proxy_messages(ruleset: RuleSet) -> list[CheckMessage]:
    header: object = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if not header:
        return []
    messages: list[CheckMessage] = []
    if not ruleset.settings.trusted_proxies:
        messages.append(
            Warning(
                "Django believes SECURE_PROXY_SSL_HEADER from every client, but redirectware "
                "reads forwarded headers only from the document's trusted_proxies, and it "
                "lists none: behind a TLS-terminating proxy redirectware sees every request "
                "as http, so an https rule would redirect https requests to themselves.",
                hint="List your proxy's addresses in the document's settings.trusted_proxies "
                "(and make the proxy overwrite the header).",
                id=PROXY_MISMATCH,
            )
        )
    name, value = header if isinstance(header, tuple) and len(header) == 2 else (header, None)
    if name != FORWARDED_PROTO_META or value != "https":
        messages.append(
            Warning(
                f"SECURE_PROXY_SSL_HEADER is {header!r}; redirectware learns the scheme from a "
                "trusted proxy's X-Forwarded-Proto or Forwarded header only.",
                hint="Have the proxy send X-Forwarded-Proto: https, and set "
                "SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https').",
                id=PROXY_HEADER_UNREAD,
            )
        )
    return messages


def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The middleware is installed, ahead of the middleware that redirect with 301."""
    middleware = [str(path) for path in settings.MIDDLEWARE]
    messages: list[CheckMessage] = []
    if MIDDLEWARE_PATH not in middleware:
        messages.append(
            Warning(
                f"{MIDDLEWARE_PATH} is not in settings.MIDDLEWARE: no rule is applied.",
                hint="Add it at the top of MIDDLEWARE.",
                id=MIDDLEWARE_MISSING,
            )
        )
    else:
        ours = middleware.index(MIDDLEWARE_PATH)
        earlier = [path for path in REDIRECTING_MIDDLEWARE if path in middleware[:ours]]
        if earlier:
            messages.append(
                Warning(
                    f"{MIDDLEWARE_PATH} comes after {', '.join(earlier)}, whose 301 redirects "
                    "then answer first and turn a POST into a GET.",
                    hint="Move it above them, to the top of MIDDLEWARE.",
                    id=MIDDLEWARE_LATE,
                )
            )
    if getattr(settings, "SECURE_SSL_REDIRECT", False):
        messages.append(
            Warning(
                "SECURE_SSL_REDIRECT answers http requests with 301, after which clients "
                "re-send a POST as a GET without its body.",
                hint="Set SECURE_SSL_REDIRECT = False and use an `https: true` rule, which "
                "answers other methods with 308.",
                id=SSL_REDIRECT_ON,
            )
        )
    return messages
