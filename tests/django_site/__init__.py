"""A minimal Django site for the Django adapter's tests, configured once per test process.

Test modules call :func:`configure` at import. It configures Django from
:mod:`tests.django_site.site_settings` only when nothing configured it yet, so other test modules
(Flask, Starlette) are unaffected, and a second call is a no-op. Each test sets
``REDIRECTWARE`` with ``override_settings``; Django builds the middleware chain, and so reads
the setting, whenever a test client is created.
"""

from __future__ import annotations

import django
from django.conf import settings


def configure() -> None:
    """Configure Django with the test site's settings, once."""
    if settings.configured:
        return
    from tests.django_site import site_settings as site

    settings.configure(
        **{name: getattr(site, name) for name in dir(site) if name.isupper()},
    )
    django.setup()
