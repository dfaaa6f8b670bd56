"""Django integration: a sync and async middleware, plus system checks.

::

    INSTALLED_APPS = [..., "redirectware.django"]          # system checks (optional)
    MIDDLEWARE = ["redirectware.django.RedirectMiddleware", ...]  # first, or nearly
    REDIRECTWARE = BASE_DIR / "redirects.yaml"             # a path, a dict or a RuleSet
    REDIRECTWARE_RELOAD = False                            # re-read the file when it changes

With the app installed and migrated, ``map: {database: default}`` in the document takes rows
that editors manage in the admin (:mod:`redirectware.django.models`), and
:func:`track_url_changes` records a row when an object's URL changes.

Without ``allowed_hosts`` in the document, Django's ``ALLOWED_HOSTS`` applies. See
``docs/django.md``.
"""

from __future__ import annotations

from redirectware._extras import require_extra

# Before anything imports Django: without it the user would read "No module named
# 'asgiref'", which names neither Django nor the extra that installs it.
require_extra("redirectware.django", "django", ("django", "asgiref"))

from typing import Any  # noqa: E402

from .middleware import RedirectMiddleware  # noqa: E402

__all__ = ["RedirectMiddleware", "metrics_view", "track_url_changes"]


def __getattr__(name: str) -> Any:
    # track_url_changes needs the models, which cannot load before Django's app registry
    # is ready; settings.py imports this package long before that.
    if name == "track_url_changes":
        from .tracking import track_url_changes

        return track_url_changes
    if name == "metrics_view":
        # Imported when asked for, so that prometheus_client is needed only by its users.
        from .metrics import metrics_view

        return metrics_view
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
