"""``manage.py redirectware_import_contrib``: copy ``django.contrib.redirects`` rows into
redirectware's table, per site, and say what changed and what could not be taken.

``contrib.redirects`` answers every row with 301, whatever the method: a POST to an old URL
arrives at the new one as a GET without its body. Each row is copied with ``status: 301``,
which redirectware sends to GET and HEAD as before and turns into 308 for every other
method. Rows of ``settings.SITE_ID``'s site get no host (the ``map: {database: ...}`` rule
without ``host:`` serves them); rows of other sites get their site's domain as host. A row
with an empty ``new_path`` (contrib's 410 Gone) is not copied: the table holds redirects, and
a URL that is gone is answered by a ``gone`` rule of the rule document. A row the engine
refuses (a loop, a malformed path) is reported with the reason and left out.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from redirectware.django.csvimport import (
    ImportPlan,
    ImportRow,
    apply_import,
    plan_import,
    row_problem,
)

#: Who ``changed_by`` names for the rows this command writes.
COMMAND = "redirectware_import_contrib"


class Command(BaseCommand):
    """Copy django.contrib.redirects rows into redirectware's Redirect table."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """``--database`` and ``--dry-run``."""
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Read, judge, copy, report."""
        if not apps.is_installed("django.contrib.redirects"):
            raise CommandError(
                "django.contrib.redirects is not in INSTALLED_APPS: nothing to copy."
            )
        alias: str = options["database"]
        contrib = apps.get_model("redirects", "Redirect")
        home = getattr(settings, "SITE_ID", None)
        plan = ImportPlan()
        gone: list[str] = []
        rows = contrib.objects.using(alias).select_related("site").order_by("site_id", "pk")
        for row in rows:
            host = "" if row.site_id == home else str(row.site.domain).lower()
            if not row.new_path:
                gone.append(f"{row.site.domain}{row.old_path}")
                continue
            taken = ImportRow(row.pk, host, row.old_path, row.new_path, None, 301)
            problem = row_problem(taken, "django_redirect")
            if problem is None:
                plan.good.append(taken)
            else:
                plan.bad.append((row.pk, problem))
        plan = plan_import(plan, alias, keep_good=True)
        sites = Counter(row.host or "(no host: the SITE_ID site)" for row in plan.good)
        out = self.stdout
        out.write(f"{len(plan.good)} rows to copy from django.contrib.redirects:")
        for site, count in sorted(sites.items()):
            out.write(f"  {site}: {count}")
        out.write(
            "  each keeps its 301 for GET and HEAD; POST, PUT, PATCH and DELETE now get 308 "
            "(contrib.redirects answered them 301, which turns them into GETs)"
        )
        if gone:
            out.write(f"not taken, {len(gone)} rows with no new_path (410 Gone): the redirect "
                      "table holds redirects only; answer these URLs with a `gone` rule in the "
                      "rule document, or keep contrib.redirects for them:")  # fmt: skip
            for where in gone:
                out.write(f"  {where}")
        if plan.bad:
            out.write(f"not taken, {len(plan.bad)} rows the rule set refuses:")
            for line, message in plan.bad:
                out.write(f"  id {line}: {message}" if line else f"  {message}")
        if options["dry_run"]:
            out.write("dry run: nothing written")
            return
        added, replaced = apply_import(plan.good, alias, COMMAND)
        out.write(f"written: {added} added, {replaced} replaced")
