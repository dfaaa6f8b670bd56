"""Versions of the redirect table: every change recorded, drafts under review, publish and
rollback, and their management commands."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.admin_servers import manage, site_env
from tests.django_site import configure

configure()

from django.core.management import call_command  # noqa: E402
from django.core.management.base import CommandError  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

from redirectware.django.csvimport import apply_import, read_csv  # noqa: E402
from redirectware.django.models import Redirect  # noqa: E402
from redirectware.django.versions import (  # noqa: E402
    NothingToDo,
    RowChange,
    TableVersion,
    draft,
    live,
    rollback,
    rows_now,
    stage,
    state_at,
)

DOC: dict[str, Any] = {
    "settings": {"allowed_hosts": ["testserver"]},
    "rules": [{"name": "editors", "map": {"database": "default"}}],
}


@pytest.fixture(autouse=True)
def tables() -> Iterator[None]:
    """An empty redirect table with no history."""
    call_command("migrate", "redirectware", verbosity=0)
    Redirect.objects.all().delete()
    TableVersion.objects.all().delete()
    with override_settings(REDIRECTWARE=DOC):
        yield
    Redirect.objects.all().delete()
    TableVersion.objects.all().delete()


def _run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def _to(path: str) -> str | None:
    """Where the site sends a GET of ``path`` now (None: it passes)."""
    response = Client().get(path)
    if response.status_code not in (301, 302):
        return None
    return response.headers["Location"].removeprefix("http://testserver")


def test_each_change_is_a_version_with_before_and_after() -> None:
    row = Redirect.objects.create(from_path="/a", to="/b", changed_by="ann")
    row.to = "/c"
    row.changed_by = "bob"
    row.save()
    row.delete()
    versions = list(TableVersion.objects.order_by("number"))
    assert [(v.number, v.author) for v in versions] == [(1, "ann"), (2, "bob"), (3, "bob")]
    changes = [(c.before and c.before["to"], c.after and c.after["to"])
               for c in RowChange.objects.order_by("version__number")]  # fmt: skip
    assert changes == [(None, "/b"), ("/b", "/c"), ("/c", None)]


def test_a_write_that_changes_no_answer_field_records_nothing() -> None:
    row = Redirect.objects.create(from_path="/a", to="/b")
    row.changed_by = "someone"
    row.save()
    Redirect.objects.filter(pk=row.pk).update(changed_by="else")
    assert TableVersion.objects.count() == 1


def test_one_transaction_is_one_version(tmp_path: Any) -> None:
    plan = read_csv("from,to\n/x,/y\n/p,/q\n/r,/s\n", "up.csv")
    apply_import(plan.good, "default", "importer")
    with transaction.atomic():
        Redirect.objects.filter(from_path="/x").update(to="/z")
        Redirect.objects.filter(from_path="/p").delete()
    assert [
        (v.number, v.changed_rows().count()) for v in TableVersion.objects.order_by("number")
    ] == [
        (1, 3),
        (2, 2),
    ]
    assert TableVersion.objects.get(number=1).author == "importer"


def test_rollback_publishes_the_old_rows_as_a_new_version() -> None:
    Redirect.objects.create(from_path="/a", to="/one")
    Redirect.objects.create(from_path="/b", to="/two")  # version 2
    Redirect.objects.filter(from_path="/a").update(to="/changed")
    Redirect.objects.filter(from_path="/b").delete()
    Redirect.objects.create(from_path="/new", to="/x")  # version 5
    assert _to("/a") == "/changed" and _to("/b") is None
    out = _run("redirectware_rollback", "2", "--author", "ops", "--note", "bad edit")
    assert "published version 6" in out
    assert {(r["from_path"], r["to"]) for r in rows_now("default").values()} == {
        ("/a", "/one"),
        ("/b", "/two"),
    }
    assert rows_now("default") == state_at("default", 2) == state_at("default", 6)
    assert _to("/a") == "/one" and _to("/b") == "/two" and _to("/new") is None
    # history is kept: version 5 still says what it did
    assert TableVersion.objects.get(number=5).changed_rows().get().after["from_path"] == "/new"
    assert live("default").number == 6  # type: ignore[union-attr]


def test_rollback_refuses_what_does_nothing_or_does_not_exist() -> None:
    Redirect.objects.create(from_path="/a", to="/one")
    with pytest.raises(CommandError, match="already holds the rows of version 1"):
        call_command("redirectware_rollback", "1")
    with pytest.raises(CommandError, match="there is no version 7: versions go from 1 to 1"):
        call_command("redirectware_rollback", "7")
    with pytest.raises(NothingToDo):
        rollback("default", 9, "x")


def test_a_draft_is_not_served_until_published() -> None:
    live_row = Redirect.objects.create(from_path="/a", to="/one")
    stage("default", "ann", live_row.pk, {**_fields(live_row), "to": "/draft"})
    stage("default", "ann", None, {**_fields(live_row), "from_path": "/added", "to": "/t"})
    assert _to("/a") == "/one" and _to("/added") is None
    assert draft("default") is not None
    out = _run("redirectware_versions")
    assert out.splitlines()[0].split()[0] == "draft" and "draft" in out.splitlines()[0]
    assert "live" in out.splitlines()[1]
    _run("redirectware_publish", "--note", "spring", "--author", "lead")
    assert _to("/a") == "/draft" and _to("/added") == "/t"
    published = TableVersion.objects.get(number=2)
    assert published.note == "spring" and published.author == "ann, lead"
    assert published.changed_rows().count() == 2 and draft("default") is None
    with pytest.raises(CommandError, match="no draft to publish"):
        call_command("redirectware_publish")


def test_versions_without_history_says_so() -> None:
    with pytest.raises(CommandError, match="no versions yet"):
        call_command("redirectware_versions")


def _fields(row: Redirect) -> dict[str, Any]:
    from redirectware.django.versions import fields_of

    return fields_of(row)


def test_the_rows_there_before_versions_become_version_1() -> None:
    call_command("migrate", "redirectware", "0002", verbosity=0)
    try:
        # The model as migration 0002 left it: these rows are written as that release wrote
        # them (the current model has columns the table does not have yet).
        from django.db import connection
        from django.db.migrations.loader import MigrationLoader

        state = MigrationLoader(connection).project_state(
            ("redirectware", "0002_permanent_in_words")
        )
        old = state.apps.get_model("redirectware", "Redirect")
        old._base_manager.bulk_create(
            [old(from_path="/old", to="/one"), old(from_path="/older", to="/two")]
        )
    finally:
        call_command("migrate", "redirectware", verbosity=0)
    first = TableVersion.objects.get()
    assert first.number == 1 and first.note == "the table when versions began"
    assert sorted(c.after["from_path"] for c in first.changed_rows()) == ["/old", "/older"]
    Redirect.objects.filter(from_path="/old").update(to="/changed")
    rollback("default", 1, "ops")
    assert Redirect.objects.get(from_path="/old").to == "/one"


def test_an_admin_edit_under_review_is_staged_and_a_row_shows_its_history() -> None:
    from django.contrib.admin import AdminSite
    from django.test import RequestFactory

    from redirectware.django.versions_admin import ReviewedRedirectAdmin

    row = Redirect.objects.create(from_path="/a", to="/one", changed_by="ann")
    # On its own (this site has no django.contrib.admin): the methods under test are its.
    row_admin = ReviewedRedirectAdmin(Redirect, AdminSite())
    request = RequestFactory().post("/")
    request.user = type("Editor", (), {"get_username": lambda self: "eve"})()
    row.to = "/two"
    with override_settings(REDIRECTWARE_REVIEW=True):
        row_admin.save_model(request, row, None, True)
    assert Redirect.objects.get().to == "/one"  # not live
    staged = draft("default")
    assert staged is not None and staged.author == "eve"
    pairs = [(c.before, c.after) for c in staged.changed_rows()]
    assert [(b and b["to"], a and a["to"]) for b, a in pairs] == [("/one", "/two")]
    with override_settings(REDIRECTWARE_REVIEW=False):
        row_admin.save_model(request, row, None, True)
    assert Redirect.objects.get().to == "/two"
    with override_settings(ROOT_URLCONF="tests.test_django_versions"):
        history = row_admin.version_history(row)
    assert "<li>version 2: /a -&gt; /one &rarr; /a -&gt; /two</li>" in history, history
    assert "<li>version 1: (none) &rarr; /a -&gt; /one</li>" in history, history
    assert f"?changes__row={row.pk}" in history


def _history_list(request: Any) -> Any:
    raise AssertionError("only reversed, never visited")


#: The one admin URL a row's history links to (this site has no admin of its own).
urlpatterns = [
    path(
        "admin/",
        include(
            (
                [
                    path(
                        "redirectware/tableversion/",
                        _history_list,
                        name="redirectware_tableversion_changelist",
                    )
                ],
                "admin",
            )
        ),
    )
]


def test_the_hit_count_actions_go_into_the_draft_under_review(tmp_path: Path) -> None:
    """Marking stale rows gone and marking a 404 gone are edits like any other: under
    review they wait in the draft, and the live table keeps answering as before. Run in the
    admin test site (its admin registers on import, which needs Django's admin installed:
    not in this process, whose checks would then look for it in every other test)."""
    env = {**site_env(f"sqlite:{tmp_path / 'db.sqlite3'}"), "ADMIN_SITE_REVIEW": "1"}
    manage(env, "migrate", "--verbosity", "0")
    out = manage(env, "shell", "-c", "from tests.admin_site.stats_actions import main; main()")
    seen = json.loads(out.splitlines()[-1])
    # Nothing live changed under review: the row still redirects, no 410 row exists yet.
    assert seen["live_under_review"] == [["/stale", "/one", None]], seen
    assert seen["draft_author"] == "eve"
    assert seen["staged"] == [["/stale", "/stale", 410], ["None", "/lost", 410]], seen
    assert seen["said"] == [
        "1 changes put into the draft: once it is published, they answer 410 Gone.",
        "1 changes put into the draft: once it is published, they answer 410 Gone.",
    ], seen
    assert seen["published"] == [["/lost", 410], ["/stale", 410]], seen
    # Without review the same action is live at once, and recorded as a version.
    assert seen["without_review"] == {"status": 410, "said": "1 rows now answer 410 Gone."}
