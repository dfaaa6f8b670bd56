"""``map: {database: ALIAS}``: Redirect rows served by the Django middleware, the version every
change bumps, validation with the engine's checks, and the watch that reloads on a change.

Runs against the test site's SQLite file (tests/django_site); PostgreSQL and several gunicorn
workers are in tests/test_django_admin_servers.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.django_site import configure

configure()

from django.apps import apps  # noqa: E402
from django.core.checks import run_checks  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.autodetector import MigrationAutodetector  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402
from django.db.migrations.state import ProjectState  # noqa: E402
from django.forms import ModelForm  # noqa: E402
from django.test import AsyncClient, Client, RequestFactory, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from redirectware.django.conf import rule_holder  # noqa: E402
from redirectware.django.csvimport import (  # noqa: E402
    apply_import,
    export_csv,
    plan_import,
    read_csv,
)
from redirectware.django.explaining import Origin, explain_row, forget_ruleset  # noqa: E402
from redirectware.django.models import Redirect, current_version  # noqa: E402
from redirectware.django.rows import Pending  # noqa: E402
from redirectware.django.validation import judge  # noqa: E402
from redirectware.document import mapsources  # noqa: E402
from redirectware.errors import RuleError  # noqa: E402
from redirectware.ruleset import RuleSet  # noqa: E402

DB_MAP: dict[str, Any] = {"name": "editors", "map": {"database": "default"}, "permanent": True}


def doc(*rules: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """A rule document."""
    return {"version": 1, "settings": settings, "rules": list(rules)}


@pytest.fixture(autouse=True)
def table() -> Iterator[None]:
    """The redirect table, migrated once and emptied around each test."""
    call_command("migrate", "redirectware", verbosity=0)
    Redirect.objects.all().delete()
    yield
    Redirect.objects.all().delete()


def get(path: str, host: str = "example.com", method: str = "GET") -> Any:
    """One request through Django's test client."""
    return Client().generic(method, path, HTTP_HOST=host)


def test_rows_are_served_with_the_map_rules_status() -> None:
    Redirect.objects.create(from_path="/old", to="/new")
    Redirect.objects.create(from_path="/temp", to="/else", permanent=False)
    Redirect.objects.create(from_path="/off", to="/gone", enabled=False)
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        assert (get("/old").status_code, get("/old")["Location"]) == (301, "http://example.com/new")
        assert get("/old", method="POST").status_code == 308
        assert get("/temp").status_code == 302
        assert "Location" not in get("/off")  # a disabled row: the app answers


def test_document_order_decides_against_the_files_rules() -> None:
    Redirect.objects.create(from_path="/old", to="/from-table")
    first = {"name": "file", "from": "/old", "to": "/from-file"}
    with override_settings(REDIRECTWARE=doc(first, DB_MAP)):
        assert get("/old")["Location"] == "http://example.com/from-file"
    with override_settings(REDIRECTWARE=doc(DB_MAP, first)):
        assert get("/old")["Location"] == "http://example.com/from-table"


def test_rows_with_a_host_belong_to_the_map_rule_with_that_host() -> None:
    Redirect.objects.create(from_path="/a", to="/b-site", host="b.example.com")
    Redirect.objects.create(from_path="/a", to="/anywhere")
    rules = doc({**DB_MAP, "name": "b", "host": "b.example.com"}, DB_MAP)
    with override_settings(REDIRECTWARE=rules):
        assert get("/a", host="b.example.com")["Location"] == "http://b.example.com/b-site"
        assert get("/a", host="c.example.com")["Location"] == "http://c.example.com/anywhere"


def test_every_change_bumps_the_version() -> None:
    seen = [current_version("default")]
    row = Redirect.objects.create(from_path="/a", to="/b")
    seen.append(current_version("default"))
    row.to = "/c"
    row.save()
    seen.append(current_version("default"))
    Redirect.objects.filter(pk=row.pk).update(to="/d")
    seen.append(current_version("default"))
    Redirect.objects.bulk_create([Redirect(from_path="/x", to="/y")])
    seen.append(current_version("default"))
    Redirect.objects.bulk_update([row], ["to"])
    seen.append(current_version("default"))
    row.delete()
    seen.append(current_version("default"))
    Redirect.objects.all().delete()
    seen.append(current_version("default"))
    assert seen == sorted(set(seen)), seen


def test_a_bad_row_is_a_load_error_naming_the_row() -> None:
    row = Redirect.objects.create(from_path="no-slash", to="/b")
    with pytest.raises(RuleError) as caught:
        RuleSet.from_dict(doc(DB_MAP))
    assert str(caught.value) == (
        f"rules[0] 'editors': map: database:default:{row.pk}: from must be a path starting "
        "with a single '/', got 'no-slash'"
    )


def test_an_unknown_alias_is_a_load_error() -> None:
    with pytest.raises(RuleError, match=r"no such alias in settings.DATABASES \(it has: default\)"):
        RuleSet.from_dict(doc({"map": {"database": "other"}}))


def test_outside_django_the_database_is_a_clear_load_error() -> None:
    code = (
        "from redirectware import RuleSet, RuleError\n"
        "try:\n"
        "    RuleSet.from_dict({'rules': [{'map': {'database': 'default'}}]})\n"
        "except RuleError as error:\n"
        "    print(error)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == (
        "rules[0]: map: {database: 'default'}: rows from a database are read only under "
        "Django, with 'redirectware.django' in INSTALLED_APPS (the name is a database alias "
        "of settings.DATABASES); nothing here can read them"
    )


def test_the_check_reads_the_rows_only_with_the_database() -> None:
    Redirect.objects.create(from_path="/a", to="/b")
    Redirect.objects.create(from_path="/b", to="/a")
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        assert [m.id for m in run_checks() if m.id == "redirectware.E001"] == []
        [message] = [m for m in run_checks(databases=["default"]) if m.id == "redirectware.E001"]
    assert "redirect loop: /a -> /b -> /a" in message.msg


def test_a_loop_with_the_files_rules_is_refused_in_plain_words_and_logged_in_checks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rules = doc({"name": "file", "from": "/b", "to": "/a"}, DB_MAP)
    with override_settings(REDIRECTWARE=rules), caplog.at_level("INFO", "redirectware"):
        verdict = judge(Pending("default", add=[("", ("/a", "/b", None, None, None))]))
    assert verdict.error is not None
    assert verdict.error.technical == "rules[1] 'editors': map: redirect loop: /a -> /b -> /a"
    assert verdict.error.field == "to"
    assert verdict.error.editor == (
        "The redirect from /a would send visitors round in a loop: /a → /b → /a, so the page "
        "would never load. Point “to” at a page that does not lead back here, or first change "
        "the other redirect in the loop."
    )
    # The log keeps check's words: the rule, the key, the loop.
    assert "rules[1] 'editors': map: redirect loop: /a -> /b -> /a" in caplog.text


def test_a_duplicate_from_is_refused() -> None:
    row = Redirect.objects.create(from_path="/a", to="/b")
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        verdict = judge(Pending("default", add=[("", ("/a", "/c", None, None, None))]))
        # Editing the row itself is no duplicate.
        edit = judge(Pending("default", {row.pk}, [("", ("/a", "/c", None, None, row.pk))]))
    assert verdict.error is not None
    assert "from '/a' is mapped twice, to '/b' and '/c'" in verdict.error.technical
    assert verdict.error.field == "from_path"
    assert verdict.error.editor == (
        "Another redirect already starts at /a (it goes to /b). Edit that one instead, or "
        "choose another “from”."
    )
    assert edit.ok and edit.warnings == []


def test_a_malformed_row_names_the_field_to_correct() -> None:
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        verdict = judge(Pending("default", add=[("", ("/a", "nope", None, None, None))]))
    assert verdict.error is not None
    assert verdict.error.field == "to"
    assert verdict.error.editor == (
        "The redirect from /a cannot be saved: “To” must be a path or an http(s) URL, got "
        "'nope'. Correct it and save again."
    )
    assert verdict.error.technical.startswith("rules[0] 'editors': map: row '/a': to must")


def test_a_target_outside_allowed_hosts_is_refused() -> None:
    with override_settings(REDIRECTWARE=doc(DB_MAP, allowed_hosts=["example.com"])):
        verdict = judge(
            Pending("default", add=[("", ("/a", "https://evil.test/", None, None, None))])
        )
    assert verdict.error is not None
    assert "target host 'evil.test' is outside allowed_hosts" in verdict.error.technical
    assert verdict.error.field == "to"
    assert verdict.error.editor.startswith(
        "The redirect from /a goes to evil.test, which is not one of this site's hosts"
    )


def test_a_chain_is_a_warning() -> None:
    Redirect.objects.create(from_path="/b", to="/c")
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        verdict = judge(Pending("default", add=[("", ("/a", "/b", None, None, None))]))
    assert verdict.ok
    [warning] = verdict.warnings
    assert "map row from '/a' starts a chain" in warning.technical
    assert warning.editor == (
        "The redirect from /a leads to another redirect, which sends visitors on to "
        "https://example.com/c. They still get one redirect, but pointing “to” at the final "
        "page keeps it so if the other redirect changes."
    )


def test_a_row_an_earlier_rule_shadows_is_a_warning_naming_that_rule() -> None:
    rules = doc({"name": "legacy", "from": "/a", "to": "/x"}, DB_MAP)
    with override_settings(REDIRECTWARE=rules):
        verdict = judge(Pending("default", add=[("", ("/a", "/b", None, None, None))]))
    [warning] = verdict.warnings
    assert "never applies" in warning.technical
    assert warning.editor == (
        "The redirect from /a never applies: the rule “legacy” of the site's rule file already "
        "answers /a. Remove this redirect, or ask a developer to change that rule."
    )


def test_a_row_no_rule_serves_is_a_warning() -> None:
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        verdict = judge(Pending("default", add=[("b.example.com", ("/a", "/b", None, None, None))]))
    assert [w.technical for w in verdict.warnings] == [
        "row '/a' is not served: no rule `map: {database: default}` with host: b.example.com "
        "in the rule document"
    ]
    assert [w.editor for w in verdict.warnings] == [
        "The redirect from /a is saved but not served: the site's rule file has no rule for "
        "redirects of b.example.com. Choose a host it serves, or ask a developer to add a rule "
        "for it."
    ]


def test_a_change_is_served_after_the_interval_without_a_query_per_request() -> None:
    Redirect.objects.create(from_path="/a", to="/one")
    with override_settings(REDIRECTWARE=doc(DB_MAP), REDIRECTWARE_RELOAD_INTERVAL=0.05):
        holder = rule_holder()
        assert (
            holder.current().resolve("GET", "http", "example.com", "/a").location
            == "http://example.com/one"
        )
        Redirect.objects.filter(from_path="/a").update(to="/two")
        deadline = time.monotonic() + 10
        location = None
        while location != "http://example.com/two" and time.monotonic() < deadline:
            holder.wait_idle(1)
            location = holder.current().resolve("GET", "http", "example.com", "/a").location
        assert location == "http://example.com/two"


def test_the_interval_setting_is_checked() -> None:
    with override_settings(REDIRECTWARE=doc(DB_MAP), REDIRECTWARE_RELOAD_INTERVAL=0):
        [message] = [m for m in run_checks() if m.id == "redirectware.E005"]
    assert "REDIRECTWARE_RELOAD_INTERVAL must be a number of seconds above 0, got 0" in message.msg


def test_requests_make_no_query() -> None:
    Redirect.objects.create(from_path="/old", to="/new")
    with override_settings(REDIRECTWARE=doc(DB_MAP), REDIRECTWARE_RELOAD_INTERVAL=0.01):
        client = Client()
        client.get("/old", HTTP_HOST="example.com")  # builds the middleware: reads the rows
        # Requests for ten reload intervals: the watch's queries run on its worker thread.
        deadline = time.monotonic() + 0.1
        with CaptureQueriesContext(connection) as queries:
            while time.monotonic() < deadline:
                assert client.get("/old", HTTP_HOST="example.com").status_code == 301
    assert queries.captured_queries == []


BAD_IMPORT = (
    "from,to,status\n"
    "/fine,/target,\n"  # line 2
    "no-slash,/x,\n"  # line 3
    "/s,/t,399\n"  # line 4
    "/fine,/other,\n"  # line 5: /fine again, elsewhere
    "/loop-a,/loop-b,\n"  # lines 6-7: a loop between two good-looking rows
    "/loop-b,/loop-a,\n"
)


def test_an_import_reports_every_bad_row_with_its_line_and_imports_nothing() -> None:
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        plan = plan_import(read_csv(BAD_IMPORT, "moves.csv"), "default", keep_good=False)
    assert plan.bad == [
        (3, "from must be a path starting with a single '/', got 'no-slash'"),
        (4, "status must be 301, 302, 307 or 308, got '399'"),
        (5, "from '/fine' is on line 2 too, to '/target'"),
    ]
    assert Redirect.objects.count() == 0


def test_import_the_good_rows_leaves_out_the_bad_and_the_loop() -> None:
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        plan = plan_import(read_csv(BAD_IMPORT, "moves.csv"), "default", keep_good=True)
        assert [line for line, _ in plan.bad] == [3, 4, 5, 6, 7]
        assert "would send visitors round in a loop: /loop-a → /loop-b → /loop-a" in plan.bad[-1][1]
        assert apply_import(plan.good, "default", "tester") == (1, 0)
    assert list(Redirect.objects.values_list("from_path", "to", "changed_by")) == [
        ("/fine", "/target", "tester")
    ]


def test_export_is_a_map_csv_that_loads_as_one(tmp_path: Path) -> None:
    Redirect.objects.create(from_path="/a", to="/b", permanent=False)
    Redirect.objects.create(from_path="/c", to="https://example.com/d", status=307)
    text = export_csv(Redirect.objects.all())
    assert text == "from,to,permanent,status\n/a,/b,false,\n/c,https://example.com/d,,307\n"
    (tmp_path / "rows.csv").write_text(text)
    (tmp_path / "rules.json").write_text('{"rules": [{"map": "rows.csv"}]}')
    ruleset = RuleSet.from_file(tmp_path / "rules.json")
    assert ruleset.resolve("GET", "http", "example.com", "/c").status == 307


def test_explain_says_what_each_row_gets() -> None:
    shadowed = Redirect.objects.create(from_path="/file", to="/ignored")
    served = Redirect.objects.create(from_path="/old", to="/new")
    rules = doc({"name": "file", "from": "/file", "to": "/x"}, DB_MAP)
    with override_settings(REDIRECTWARE=rules):
        forget_ruleset()
        assert explain_row(served) == (
            "GET https://example.com/old: 301 to https://example.com/new; "
            "POST: 308 to https://example.com/new; by rules[1] 'editors'"
        )
        assert explain_row(shadowed).endswith(
            "by rules[0] 'file' (this row never applies: rules[0] 'file' comes first)"
        )
        forget_ruleset()


def test_async_mode_serves_the_rows() -> None:
    Redirect.objects.create(from_path="/old", to="/new")

    async def ask() -> Any:
        # The AsyncClient builds the middleware inside the event loop: the rows must still load.
        return await AsyncClient().post("/old")

    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        answer = asyncio.run(ask())
    assert (answer.status_code, answer["Location"]) == (308, "http://testserver/new")


def test_the_check_reports_a_database_map_nothing_can_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As when the document is read where the app has not registered its row source.
    monkeypatch.delitem(mapsources._registry, "database")
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        [message] = [m for m in run_checks() if m.id == "redirectware.E001"]
    assert message.msg.startswith(
        "rules[0] 'editors': map: {database: 'default'}: rows from a database are read only "
        "under Django, with 'redirectware.django' in INSTALLED_APPS"
    )


def test_the_check_reports_an_unknown_alias() -> None:
    with override_settings(REDIRECTWARE=doc({"map": {"database": "replica"}})):
        [message] = [m for m in run_checks() if m.id == "redirectware.E001"]
    assert message.msg == (
        "rules[0]: map: {database: 'replica'}: no such alias in settings.DATABASES "
        "(it has: default)"
    )


def test_full_clean_refuses_a_row_that_loops_with_another_row() -> None:
    Redirect.objects.create(from_path="/b", to="/a")
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        with pytest.raises(ValidationError) as caught:
            Redirect(from_path="/a", to="/b").full_clean()
        # Disabled, it is not served, so it breaks nothing.
        Redirect(from_path="/a", to="/b", enabled=False).full_clean()
    assert caught.value.message_dict == {
        "to": [
            "The redirect from /a would send visitors round in a loop: /a → /b → /a, so the "
            "page would never load. Point “to” at a page that does not lead back here, or "
            "first change the other redirect in the loop."
        ]
    }


# Generic in django-stubs, not at run time (without django_stubs_ext's patch).
if TYPE_CHECKING:
    _ModelForm = ModelForm[Redirect]
else:
    _ModelForm = ModelForm


class RowForm(_ModelForm):
    """A plain ModelForm, as a project's own page (or a serializer) would have."""

    class Meta:
        model = Redirect
        fields = ("from_path", "to", "permanent", "status", "host", "enabled")


class EnableForm(_ModelForm):
    """A form of ``enabled`` alone: an error about ``to`` cannot be shown by its field."""

    class Meta:
        model = Redirect
        fields = ("enabled",)


def test_a_plain_model_form_is_invalid_with_the_plain_message() -> None:
    Redirect.objects.create(from_path="/b", to="/a")
    data = {"from_path": "/a", "to": "/b", "permanent": "unknown", "enabled": "on"}
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        form = RowForm(data)
        assert not form.is_valid()
        assert form.errors["to"] == [
            "The redirect from /a would send visitors round in a loop: /a → /b → /a, so the "
            "page would never load. Point “to” at a page that does not lead back here, or "
            "first change the other redirect in the loop."
        ]
        assert Redirect.objects.count() == 1
        # Enabling a disabled row that loops, from a form without the field to blame.
        off = Redirect.objects.create(from_path="/a", to="/b", enabled=False)
        enabling = EnableForm({"enabled": "on"}, instance=off)
        assert not enabling.is_valid()
        assert "would send visitors round in a loop" in enabling.non_field_errors()[0]
        # A good row saves, and its warnings are kept for whoever asks.
        good = RowForm({**data, "from_path": "/c", "to": "/b", "host": " Example.COM "})
        assert good.is_valid(), good.errors
        assert good.instance.host == "example.com"


def test_permanent_offers_the_rules_default_in_words() -> None:
    html = str(RowForm()["permanent"])
    assert '<option value="unknown" selected>Rule&#x27;s default</option>' in html
    assert '<option value="true">Yes, permanent</option>' in html
    assert '<option value="false">No, temporary</option>' in html
    assert str(RowForm()["permanent"].help_text).startswith(
        "“Rule's default” takes what the site's rule file says for these redirects."
    )
    assert RowForm({"from_path": "/a", "to": "/b", "permanent": "unknown"}).is_valid()


def test_the_preview_is_asked_at_the_editors_server() -> None:
    Redirect.objects.create(from_path="/old-page", to="/new-page")
    with override_settings(REDIRECTWARE=doc(DB_MAP)):
        forget_ruleset()
        row = Redirect.objects.get()
        request = RequestFactory().get("/admin/", HTTP_HOST="127.0.0.1:8063")
        preview = explain_row(row, "default", Origin.of(request))
        answered = get("/old-page", host="127.0.0.1:8063")
        forget_ruleset()
    assert preview == (
        "GET http://127.0.0.1:8063/old-page: 301 to http://127.0.0.1:8063/new-page; "
        "POST: 308 to http://127.0.0.1:8063/new-page; by rules[0] 'editors'"
    )
    assert answered["Location"] == "http://127.0.0.1:8063/new-page"


def test_the_migrations_hold_every_change_of_the_models() -> None:
    # The autodetector, not `makemigrations --check`: other test modules add models of their
    # own to this app label (tests/test_django_tracking.py), which have no migration.
    loader = MigrationLoader(None, ignore_no_migrations=True)
    detector = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(apps))
    changes = detector.changes(graph=loader.graph)
    operations = [
        op for migration in changes.get("redirectware", []) for op in migration.operations
    ]
    ours = {"redirect", "redirectversion"}
    missing = [
        op
        for op in operations
        if str(getattr(op, "model_name", None) or getattr(op, "name", "")).lower() in ours
    ]
    assert missing == [], "run makemigrations redirectware"
