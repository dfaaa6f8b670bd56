"""ASGI entry point: ``uvicorn --app-dir examples/django_project shop.asgi:application``.

Under ASGI the redirectware middleware runs as a coroutine, without a thread hop.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
application = get_asgi_application()
