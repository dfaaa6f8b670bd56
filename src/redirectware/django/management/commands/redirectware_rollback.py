"""``manage.py redirectware_rollback N``: publish the rows as they were at version N."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from redirectware.django.versions import NothingToDo, rollback


class Command(BaseCommand):
    """Roll back as a new version; history is never rewritten."""

    help = "Publish the redirect rows as they were at version N, as a new version."

    def add_arguments(self, parser: CommandParser) -> None:
        """``N``, ``--note``, ``--author``, ``--database``."""
        parser.add_argument("number", type=int, metavar="N", help="the version to go back to")
        parser.add_argument("--note", default="", help="why (default: 'roll back to version N')")
        parser.add_argument("--author", default=None, help="who rolls back (default: you)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        """Roll back and say which version went live."""
        author = options["author"] or getpass.getuser()
        try:
            version = rollback(options["database"], options["number"], author, options["note"])
        except NothingToDo as error:
            raise CommandError(str(error)) from None
        rows = version.changed_rows().count()
        self.stdout.write(f"published version {version.number} (the rows of version "
                          f"{options['number']}): {rows} row{'' if rows == 1 else 's'} "
                          "changed")  # fmt: skip
