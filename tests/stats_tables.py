"""The hit-count tables of the Django test site, migrated and emptied around each test that
imports :func:`tables` (an autouse fixture: importing it into a test module is using it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command

from redirectware.counting import flush_all_hits
from redirectware.django.models import Redirect
from redirectware.django.stats import NotFound, RuleHits


@pytest.fixture(autouse=True)
def tables() -> Iterator[None]:
    """The tables, migrated once and emptied around each test."""
    call_command("migrate", "redirectware", verbosity=0)

    def empty() -> None:
        flush_all_hits()  # what earlier middlewares counted goes before the test starts
        Redirect.objects.all().delete()
        RuleHits.objects.all().delete()
        NotFound.objects.all().delete()

    empty()
    yield
    empty()
