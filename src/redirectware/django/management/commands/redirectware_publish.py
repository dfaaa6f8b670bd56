"""``manage.py redirectware_publish``: make the draft of ``REDIRECTWARE_REVIEW`` live."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from redirectware.django.versions import NothingToDo, publish


class Command(BaseCommand):
    """Publish the draft in one transaction; exits non-zero when there is none."""

    help = "Make the draft of the redirect table live, in one transaction, as a new version."

    def add_arguments(self, parser: CommandParser) -> None:
        """``--note``, ``--author``, ``--database``."""
        parser.add_argument("--note", default="", help="what the version is for")
        parser.add_argument("--author", default=None, help="who publishes (default: you)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        """Publish and say which version went live."""
        author = options["author"] or getpass.getuser()
        try:
            version = publish(options["database"], author, options["note"])
        except NothingToDo as error:
            raise CommandError(str(error)) from None
        rows = version.changed_rows().count()
        self.stdout.write(f"published version {version.number}: {rows} row"
                          f"{'' if rows == 1 else 's'} changed")  # fmt: skip
