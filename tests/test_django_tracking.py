"""``track_url_changes(Model)``: a changed ``get_absolute_url()`` leaves a redirect row, points
older rows at the new URL, and never makes a loop."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.django_site import configure

configure()

from django.core.management import call_command  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.test import override_settings  # noqa: E402

from redirectware.django import track_url_changes  # noqa: E402
from redirectware.django.models import Redirect  # noqa: E402


class Page(models.Model):
    """A page whose URL is its slug."""

    slug: models.CharField[str, str] = models.CharField(max_length=100)

    class Meta:
        app_label = "redirectware"

    def get_absolute_url(self) -> str:
        """``/pages/SLUG/``."""
        return f"/pages/{self.slug}/"


DOC: dict[str, Any] = {
    "rules": [
        {"name": "file", "from": "/pages/fixed/", "to": "/pages/start/"},
        {"name": "editors", "map": {"database": "default"}},
    ]
}


@pytest.fixture(autouse=True)
def tables() -> Iterator[None]:
    """The redirect table and the pages' table, empty, with URL changes tracked."""
    call_command("migrate", "redirectware", verbosity=0)
    with connection.schema_editor() as editor:
        editor.create_model(Page)
    Redirect.objects.all().delete()
    track_url_changes(Page)
    with override_settings(REDIRECTWARE=DOC):
        yield
    with connection.schema_editor() as editor:
        editor.delete_model(Page)
    Redirect.objects.all().delete()


def rows() -> list[tuple[str, str, str]]:
    """(from, to, changed_by) of every row."""
    return list(Redirect.objects.order_by("from_path").values_list("from_path", "to", "changed_by"))


def test_a_new_url_leaves_a_redirect_and_no_chain() -> None:
    page = Page.objects.create(slug="one")
    assert rows() == []
    page.slug = "two"
    page.save()
    assert rows() == [("/pages/one/", "/pages/two/", "track_url_changes")]
    page.slug = "three"
    page.save()
    assert rows() == [
        ("/pages/one/", "/pages/three/", "track_url_changes"),
        ("/pages/two/", "/pages/three/", "track_url_changes"),
    ]


def test_taking_back_an_old_url_drops_its_row() -> None:
    page = Page.objects.create(slug="one")
    page.slug = "two"
    page.save()
    page.slug = "one"
    page.save()
    assert rows() == [("/pages/two/", "/pages/one/", "track_url_changes")]


def test_a_change_that_would_loop_is_not_recorded(caplog: pytest.LogCaptureFixture) -> None:
    page = Page.objects.create(slug="start")
    page.slug = "fixed"  # the file already sends /pages/fixed/ to /pages/start/
    with caplog.at_level(logging.WARNING, logger="redirectware"):
        page.save()
    assert rows() == []
    [record] = caplog.records
    assert record.getMessage() == (
        "no redirect from /pages/start/ to /pages/fixed/: rules[1] 'editors': map: "
        "redirect loop: /pages/start/ -> /pages/fixed/ -> /pages/start/"
    )


def test_a_model_without_urls_is_refused() -> None:
    with pytest.raises(TypeError, match="Redirect has no get_absolute_url"):
        track_url_changes(Redirect)
