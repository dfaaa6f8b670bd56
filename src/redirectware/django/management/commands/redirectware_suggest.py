"""``manage.py redirectware_suggest --not-found FILE``: ``redirectware suggest``, with the live
URLs read from the project's sitemaps (``django.contrib.sitemaps``).

The sitemaps are found where Django serves them: every URL pattern of ``ROOT_URLCONF`` whose
view is ``django.contrib.sitemaps.views.sitemap`` (or ``index``) names its ``sitemaps``
dict. Each sitemap's URLs are listed with :meth:`Sitemap.get_urls`, page by page, as the
sitemap view lists them. ``--urls FILE`` reads a file instead, as the plain command does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from redirectware._extras import MissingExtra
from redirectware.cli import UsageError
from redirectware.cli.suggest import read_live_urls, read_not_found, summary, write_files
from redirectware.django.sitemaps import sitemap_paths
from redirectware.tools.suggest import DEFAULT_THRESHOLD, MIN_TEMPLATE, suggest


class Command(BaseCommand):
    """Propose a redirect for each 404 against the project's own sitemaps."""

    help = (
        "Propose a redirect for each URL that now 404s, against the live URLs of the "
        "project's sitemaps (or --urls FILE). See `redirectware suggest --help`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--not-found", required=True, metavar="FILE")
        parser.add_argument("--urls", metavar="FILE", help="a sitemap.xml or URL list instead")
        parser.add_argument("--out", metavar="DIR")
        parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
        parser.add_argument("--min-template", type=int, default=MIN_TEMPLATE)
        parser.add_argument("--host", default="example.com")
        parser.add_argument("--temporary", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            not_found = read_not_found(Path(options["not_found"]))
            if options["urls"]:
                live = read_live_urls(Path(options["urls"]))
            else:
                live = sitemap_paths()
                if not live:
                    raise UsageError(
                        "the project serves no sitemap (django.contrib.sitemaps.views.sitemap "
                        "in ROOT_URLCONF) with any URL: pass --urls FILE"
                    )
        except UsageError as error:
            raise CommandError(str(error)) from None
        try:
            found = suggest(
                not_found,
                live,
                threshold=options["threshold"],
                min_template=options["min_template"],
            )
        except MissingExtra as error:
            # One line saying what to install, as `redirectware suggest` prints it.
            raise CommandError(str(error)) from None
        out = Path(options["out"]) if options["out"] else None
        if out is not None:
            write_files(found, out, host=options["host"], permanent=not options["temporary"])
        self.stdout.write(summary(found, out, options["threshold"]))
