"""The same shop with Django's own redirects instead of redirectware, for comparison.

``DJANGO_SETTINGS_MODULE=shop.native_settings``: ``/api/v1/...`` is a permanent
``RedirectView`` and ``/forms/contact`` relies on ``APPEND_SLASH``; both answer 301, after
which clients re-send a POST as a GET without its body. See the README's "What goes wrong
without it".
"""

from __future__ import annotations

from shop.settings import *  # noqa: F403

DEBUG = False  # under DEBUG, APPEND_SLASH refuses a POST with an error page instead
INSTALLED_APPS = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "shop.native_urls"
APPEND_SLASH = True
