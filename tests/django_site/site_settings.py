"""Settings of the test site: redirectware first, then Django's redirecting middleware."""

from __future__ import annotations

import tempfile
from pathlib import Path

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
# "*": the shared table assumes any well-formed Host; the fallback tests narrow it.
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.django_site.urls"
INSTALLED_APPS = ["redirectware.django"]
MIDDLEWARE = [
    "redirectware.django.RedirectMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
# Every test overrides it; a valid empty document keeps stray clients working.
REDIRECTWARE: dict[str, object] = {"version": 1, "rules": []}
USE_TZ = True
# A file, not ":memory:": Django gives each thread its own in-memory database, and the
# redirect table is read by reload workers on threads of their own (tests/test_django_admin*).
DATABASES: dict[str, object] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(Path(tempfile.mkdtemp(prefix="redirectware-tests-")) / "db.sqlite3"),
    }
}
LOGGING_CONFIG = None
