"""The Django app ``redirectware.django``: install it for the system checks."""

from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class RedirectwareConfig(AppConfig):
    """Registers redirectware's system checks (see :mod:`redirectware.django.checks`), the
    ``database`` row source of ``map: {database: ALIAS}`` (see :mod:`redirectware.django.rows`)
    and how ``Redirect.clean()`` judges a row (see :mod:`redirectware.django.validation`)."""

    name = "redirectware.django"
    label = "redirectware"
    verbose_name = "redirectware"
    # Fixed here, not left to DEFAULT_AUTO_FIELD: the migrations must not depend on a project.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the checks and the row source; Django calls this once the registry is ready."""
        from redirectware.document.mapsources import register_map_source

        from .checks import check_middleware, check_rules
        from .models import judge_rows_with
        from .rows import KIND, DatabaseWatch, database_rows
        from .validation import judge_row

        checks.register(check_rules)
        checks.register(check_middleware)
        register_map_source(KIND, database_rows, needs="Django", watch=DatabaseWatch())
        judge_rows_with(judge_row)
