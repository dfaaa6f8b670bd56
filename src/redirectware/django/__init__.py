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

from .middleware import RedirectMiddleware

__all__ = ["RedirectMiddleware"]
