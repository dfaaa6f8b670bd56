"""Settings of the example shop. The redirectware parts are marked; the rest is a minimal
Django project."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-do-not-deploy")
DEBUG = os.environ.get("DJANGO_DEBUG", "true").lower() == "true"
# Also the redirect rules' allowed_hosts, since redirects.yaml lists none.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "redirectware.django",  # redirectware: `manage.py check` validates redirects.yaml
]

MIDDLEWARE = [
    # redirectware: first, so that its 307/308 answer before the 301s of
    # SecurityMiddleware (SECURE_SSL_REDIRECT) and CommonMiddleware (APPEND_SLASH).
    "redirectware.django.RedirectMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

# redirectware: the rule document, and re-reading it on edits while developing.
REDIRECTWARE = BASE_DIR / "redirects.yaml"
REDIRECTWARE_RELOAD = DEBUG

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"
ASGI_APPLICATION = "shop.asgi.application"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # One line per redirect at DEBUG; load errors at ERROR.
    "loggers": {"redirectware": {"handlers": ["console"], "level": "DEBUG"}},
}
