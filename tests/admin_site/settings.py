"""Settings of the admin test site (see the package docstring)."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.admin_site.urls"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # To move in from: tests/test_django_import_contrib.py.
    "django.contrib.sites",
    "django.contrib.redirects",
    "redirectware.django",
]
SITE_ID = 1
MIDDLEWARE = [
    "tests.admin_site.urls.worker_pid",
    "redirectware.django.RedirectMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
USE_TZ = True
REDIRECTWARE = HERE / "redirects.yaml"
REDIRECTWARE_RELOAD_INTERVAL = float(os.environ.get("ADMIN_SITE_INTERVAL", "1"))
# Hit counting, when a test asks for it: its flush interval in seconds.
REDIRECTWARE_STATS = bool(os.environ.get("ADMIN_SITE_STATS_FLUSH"))
REDIRECTWARE_STATS_FLUSH = float(os.environ.get("ADMIN_SITE_STATS_FLUSH") or "60")


def _database(spec: str) -> dict[str, object]:
    kind, _, rest = spec.partition(":")
    if kind == "postgres":
        host, port, name = rest.split(":")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": host,
            "PORT": port,
            "NAME": name,
            "USER": "postgres",
        }
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": rest, "OPTIONS": {"timeout": 30}}


DATABASES = {"default": _database(os.environ.get("ADMIN_SITE_DB", f"sqlite:{HERE}/db.sqlite3"))}
# Served through the plain ASGI or WSGI middleware (tests/admin_site/plain_asgi.py,
# plain_wsgi.py), which count the hits themselves: Django's middleware stays out, or every
# hit would be counted twice.
if os.environ.get("ADMIN_SITE_PLAIN") == "1":
    MIDDLEWARE.remove("redirectware.django.RedirectMiddleware")
    REDIRECTWARE_STATS = False
    # The check that the Django middleware is installed: here it is left out on purpose.
    SILENCED_SYSTEM_CHECKS = ["redirectware.W003"]
# Drafts under review (tests/test_django_versions_servers.py, the review page's browser test).
REDIRECTWARE_REVIEW = os.environ.get("ADMIN_SITE_REVIEW") == "1"
REDIRECTWARE_REVIEW_LOG = os.environ.get("ADMIN_SITE_REVIEW_LOG") or None
