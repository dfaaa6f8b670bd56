"""The Django app ``redirectware.django``: install it for the system checks."""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class RedirectwareConfig(AppConfig):
    """Registers redirectware's system checks (see :mod:`redirectware.django.checks`)."""

    name = "redirectware.django"
    label = "redirectware"
    verbose_name = "redirectware"

    def ready(self) -> None:
        """Register the checks; Django calls this once the app registry is ready."""
        from .checks import check_middleware, check_rules

        checks.register(check_rules)
        checks.register(check_middleware)
