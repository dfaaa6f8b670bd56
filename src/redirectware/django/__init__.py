"""Django integration: a sync and async middleware, plus system checks.

::

    INSTALLED_APPS = [..., "redirectware.django"]          # system checks (optional)
    MIDDLEWARE = ["redirectware.django.RedirectMiddleware", ...]  # first, or nearly
    REDIRECTWARE = BASE_DIR / "redirects.yaml"             # a path, a dict or a RuleSet
    REDIRECTWARE_RELOAD = False                            # re-read the file when it changes

Without ``allowed_hosts`` in the document, Django's ``ALLOWED_HOSTS`` applies. See
``docs/django.md``.
"""

from __future__ import annotations

from redirectware._extras import require_extra

# Before anything imports Django: without it the user would read "No module named
# 'asgiref'", which names neither Django nor the extra that installs it.
require_extra("redirectware.django", "django", ("django", "asgiref"))

from .middleware import RedirectMiddleware  # noqa: E402

__all__ = ["RedirectMiddleware"]
