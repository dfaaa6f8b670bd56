"""``manage.py redirectware_versions``: the versions of the redirect table, newest first."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count

from redirectware.django.versions import TableVersion, live


class Command(BaseCommand):
    """List each version: number, time, author, note, rows changed, live or draft."""

    help = "List the versions of the redirect table: number, time, author, note, rows changed."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--database``."""
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        """Print one line per version, the draft first."""
        alias: str = options["database"]
        versions = list(
            TableVersion.objects.using(alias)
            .annotate(rows=Count("changes"))
            # The draft (no number) first, then newest first.
            .order_by("-number")
        )
        if not versions:
            raise CommandError("no versions yet: the redirect table has not changed since "
                               "versions began")  # fmt: skip
        current = live(alias)
        drafts = [v for v in versions if v.number is None]
        for version in drafts + [v for v in versions if v.number is not None]:
            state = "draft" if version.number is None else ""
            if current is not None and version.pk == current.pk:
                state = "live"
            when = (version.published or version.created).strftime("%Y-%m-%d %H:%M:%S")
            number = "draft" if version.number is None else str(version.number)
            rows = getattr(version, "rows", 0)
            self.stdout.write(
                f"{number:>6}  {when}  {version.author or '-'}  {rows} row"
                f"{'' if rows == 1 else 's'} changed  {state or '-'}  {version.note}".rstrip()
            )
