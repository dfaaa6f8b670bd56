"""The site through the plain ASGI middleware, which counts the hits itself.

Run with ``ADMIN_SITE_PLAIN=1`` (Django's own middleware left out, see the settings) and
``ADMIN_SITE_STATS_FLUSH`` (seconds between two writes of a process's counts); ``stats``
is ``ADMIN_SITE_STATS_ALIAS`` when set (a database alias, ``default`` otherwise).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

from django.core.asgi import get_asgi_application

from redirectware.asgi import ASGIApp, RedirectMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.admin_site.settings")
# Django's stubs type the scope as a dict and the messages sent as a Mapping; redirectware
# types both as a MutableMapping: the same app at run time, two spellings for mypy.
django_app = cast(ASGIApp, get_asgi_application())
application = RedirectMiddleware(
    django_app,
    rules=Path(__file__).with_name("redirects.yaml"),
    stats=os.environ.get("ADMIN_SITE_STATS_ALIAS", "default"),
    stats_flush=float(os.environ["ADMIN_SITE_STATS_FLUSH"]),
)
