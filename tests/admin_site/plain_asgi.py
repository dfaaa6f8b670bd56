"""The site through the plain ASGI middleware, which counts the hits itself.

Run with ``ADMIN_SITE_PLAIN=1`` (Django's own middleware left out, see the settings) and
``ADMIN_SITE_STATS_FLUSH`` (seconds between two writes of a process's counts); ``stats``
is ``ADMIN_SITE_STATS_ALIAS`` when set (a database alias, ``default`` otherwise).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.asgi import get_asgi_application

from redirectware.asgi import RedirectMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.admin_site.settings")
application = RedirectMiddleware(
    get_asgi_application(),
    rules=Path(__file__).with_name("redirects.yaml"),
    stats=os.environ.get("ADMIN_SITE_STATS_ALIAS", "default"),
    stats_flush=float(os.environ["ADMIN_SITE_STATS_FLUSH"]),
)
