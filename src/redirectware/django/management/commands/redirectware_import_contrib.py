"""``manage.py redirectware_import_contrib``: copy ``django.contrib.redirects`` rows into
redirectware's table, per site, and say what changed and what could not be taken.

``contrib.redirects`` answers every row with 301, whatever the method: a POST to an old URL
arrives at the new one as a GET without its body. Each row is copied with ``status: 301``,
which redirectware sends to GET and HEAD as before and turns into 308 for every other
method. Rows of ``settings.SITE_ID``'s site get no host (the ``map: {database: ...}`` rule
without ``host:`` serves them); rows of other sites get their site's domain as host. A row
with an empty ``new_path`` (contrib's 410 Gone) is not copied: the table holds redirects, and
the command prints a ``gone`` rule for the rule document that answers those URLs 410 after
the app's 404, as contrib did. With ``APPEND_SLASH`` on, contrib looks a path without its
trailing slash up again with one: each row ``/a/`` is copied a second time as ``/a`` (unless
a row names ``/a``), so that redirectware answers that request too. A row the engine
refuses (a loop, a malformed path) is reported with the reason and left out.
"""

from __future__ import annotations

import json
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


def _slash_added(old_path: str) -> str | None:
    """The path contrib's ``APPEND_SLASH`` second try finds at ``old_path``: ``/a?q`` for
    ``/a/?q``; None when no request without a trailing slash leads there."""
    path, mark, query = old_path.partition("?")
    if not path.endswith("/") or path == "/" or path.endswith("//"):
        return None
    return path[:-1] + mark + query


def gone_rule(rows: list[tuple[str, str]]) -> list[str]:
    """The rule-document lines (YAML, a list item per host) that answer ``rows`` (host, path)
    410 after the app's 404, as contrib's empty ``new_path`` did."""
    lines: list[str] = []
    for host in sorted({host for host, _ in rows}):
        lines.append("  - name: contrib-gone" + (f"-{host}" if host else ""))
        if host:
            lines.append(f"    host: {host}")
        lines += ["    when: not_found", "    map:"]
        lines += [f"      - {{from: {json.dumps(path)}, status: 410}}" for h, path in rows
                  if h == host]  # fmt: skip
    return lines


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
        rows = list(contrib.objects.using(alias).select_related("site").order_by("site_id", "pk"))
        named = {(row.site_id, row.old_path) for row in rows}
        gone_rows: list[tuple[str, str]] = []  # (host, path) of the gone rule's rows
        for row in rows:
            host = "" if row.site_id == home else str(row.site.domain).lower()
            paths = [row.old_path]
            second = _slash_added(row.old_path) if settings.APPEND_SLASH else None
            if second is not None and (row.site_id, second) not in named:
                paths.append(second)
            if not row.new_path:
                gone.append(f"{row.site.domain}{row.old_path}")
                gone_rows += [(host, path) for path in paths]
                continue
            for path in paths:
                taken = ImportRow(row.pk, host, path, row.new_path, None, 301)
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
        if settings.APPEND_SLASH:
            out.write("  APPEND_SLASH is on: each row /a/ is copied as /a too, the second try "
                      "contrib.redirects makes")  # fmt: skip
        if gone:
            out.write(f"not taken, {len(gone)} rows with no new_path (410 Gone): the redirect "
                      "table holds redirects only; answer these URLs with this gone rule in the "
                      "rule document, or keep contrib.redirects for them:")  # fmt: skip
            for where in gone:
                out.write(f"  {where}")
            for text in gone_rule(gone_rows):
                out.write(text)
        if plan.bad:
            out.write(f"not taken, {len(plan.bad)} rows the rule set refuses:")
            for line, message in plan.bad:
                out.write(f"  id {line}: {message}" if line else f"  {message}")
        if options["dry_run"]:
            out.write("dry run: nothing written")
            return
        added, replaced = apply_import(plan.good, alias, COMMAND)
        out.write(f"written: {added} added, {replaced} replaced")
