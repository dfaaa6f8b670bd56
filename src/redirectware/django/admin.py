"""The admin for :class:`~.models.Redirect` rows: list, search, filter, CSV in and out, and for
each row what ``redirectware explain`` would say of it.

A save is judged first with the engine's own checks (:mod:`.validation`): what would make the
rule set invalid is refused with ``redirectware check``'s message; a warning (a chain, a row
an earlier rule shadows) must be accepted with a tick before the row is saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.db import router
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import escape

from .csvimport import apply_import, export_csv, plan_import, read_csv
from .explaining import Origin, explain_row, rule_default
from .models import PERMANENT_HELP, Redirect
from .stats_admin import LastHitFilter, mark_rows_gone

ACCEPT_LABEL = "Save despite the warnings"

# Generic in django-stubs, not at run time (without django_stubs_ext's patch).
if TYPE_CHECKING:
    _ModelForm = forms.ModelForm[Redirect]
    _ModelAdmin = admin.ModelAdmin[Redirect]
else:
    _ModelForm = forms.ModelForm
    _ModelAdmin = admin.ModelAdmin


def _alias() -> str:
    return router.db_for_write(Redirect) or "default"


def _site_hosts() -> list[str]:
    """The domains of Django's sites framework, where it is installed."""
    if not apps.is_installed("django.contrib.sites"):
        return []
    site_model = apps.get_model("sites", "Site")
    return sorted(
        str(domain).lower() for domain in site_model.objects.values_list("domain", flat=True)
    )


class RedirectForm(_ModelForm):
    """A row, judged with the whole rule set by :meth:`Redirect.clean` before it is saved.

    What refuses the row shows by the field to correct; warnings (a chain, a row an earlier
    rule shadows) hold the save back until “Save despite the warnings” is ticked.
    """

    accept_warnings = forms.BooleanField(required=False, label=ACCEPT_LABEL)

    class Meta:
        model = Redirect
        fields = ("from_path", "to", "permanent", "status", "host", "enabled", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hosts = _site_hosts()
        if hosts:
            current = self.instance.host if self.instance.pk else ""
            choices = [("", "every site"), *((h, h) for h in hosts)]
            if current and current not in hosts:
                choices.append((current, current))
            self.fields["host"].widget = forms.Select(choices=choices)
        default = rule_default(_alias())
        if default:
            # The admin shows help text as HTML: the hosts come from the rule file.
            self.fields["permanent"].help_text = f"{PERMANENT_HELP} {escape(default)}"

    def full_clean(self) -> None:
        """Django's ``full_clean``, then the warnings the model's ``clean`` found.

        The model is cleaned last (after the form's own ``clean``): only then are they known.
        """
        super().full_clean()
        if not hasattr(self, "cleaned_data"):
            return  # an unbound form is not cleaned
        warnings = self.instance.warnings
        if warnings and not self.errors and not self.cleaned_data.get("accept_warnings"):
            self.add_error(
                "accept_warnings",
                [*(w.editor for w in warnings), f"Tick “{ACCEPT_LABEL}” to save the row anyway."],
            )


class ImportForm(forms.Form):
    """A CSV file in a map's columns, and what to do with bad rows and warnings."""

    file = forms.FileField(help_text="Columns from, to, and optionally permanent, status, host.")
    host = forms.CharField(required=False, help_text="For rows without a host column.")
    keep_good = forms.BooleanField(
        required=False, label="Import the good rows and leave the bad ones out"
    )
    accept_warnings = forms.BooleanField(required=False, label="Import despite the warnings")


@admin.register(Redirect)
class RedirectAdmin(_ModelAdmin):
    """Redirect rows, each with what ``explain`` says of it."""

    form = RedirectForm
    # hits and last_hit: REDIRECTWARE_STATS's counts (see stats_admin).
    list_display = ("from_path", "to", "host", "enabled", "hits", "last_hit", "updated",
                    "changed_by", "explanation")  # fmt: skip
    list_filter = ("enabled", "host", "permanent", "status", LastHitFilter)
    search_fields = ("from_path", "to", "note")
    readonly_fields = ("explanation", "created", "updated", "changed_by")
    fieldsets = (
        (None, {"fields": ("from_path", "to", "permanent", "status", "host", "enabled", "note")}),
        ("Warnings", {"fields": ("accept_warnings",)}),
        ("What explain says", {"fields": ("explanation", "created", "updated", "changed_by")}),
    )
    actions = ("export_selected", mark_rows_gone)
    change_list_template = "admin/redirectware/redirect/change_list.html"

    @admin.display(description="what explain says")
    def explanation(self, obj: Redirect) -> str:
        """The one line ``explain`` would give for a request to the row's ``from``.

        Without a request: the pages use :class:`Preview`, asked at the editor's server.
        """
        if obj.pk is None:
            return "(once saved)"
        return explain_row(obj, _alias())

    def get_list_display(self, request: HttpRequest) -> Any:
        """The columns, with the preview asked at the server the editor is using."""
        return _with_preview(super().get_list_display(request), request)

    def get_readonly_fields(self, request: HttpRequest, obj: Redirect | None = None) -> Any:
        """The read-only fields, with the preview asked at the editor's server."""
        return _with_preview(super().get_readonly_fields(request, obj), request)

    def get_fieldsets(self, request: HttpRequest, obj: Redirect | None = None) -> Any:
        """The fieldsets, with the preview asked at the editor's server."""
        return [
            (name, {**options, "fields": _with_preview(options["fields"], request)})
            for name, options in super().get_fieldsets(request, obj)
        ]

    def save_model(self, request: HttpRequest, obj: Redirect, form: Any, change: bool) -> None:
        """Record who changed the row."""
        user = getattr(request, "user", None)
        obj.changed_by = user.get_username() if user is not None else ""
        super().save_model(request, obj, form, change)

    @admin.action(description="Export the selected rows as CSV")
    def export_selected(self, request: HttpRequest, queryset: QuerySet[Redirect]) -> HttpResponse:
        """The selected rows as a map CSV."""
        return _csv_response(queryset)

    def get_urls(self) -> list[URLPattern]:
        """The import and export pages, before the admin's own."""
        info = (self.model._meta.app_label, self.model._meta.model_name)
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="{}_{}_import".format(*info),
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Every row as a map CSV."""
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        return _csv_response(Redirect.objects.using(_alias()).all())

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV; nothing is written until every row is good (or the good are chosen)."""
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            return HttpResponse(status=403)
        form = ImportForm(request.POST or None, request.FILES or None)
        bad: list[str] = []
        warnings: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            name = upload.name or "upload.csv"
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                form.add_error("file", "The file is not UTF-8 text.")
            else:
                keep_good = form.cleaned_data["keep_good"]
                plan = read_csv(text, name, form.cleaned_data["host"].strip().lower())
                plan = plan_import(plan, _alias(), keep_good=keep_good)
                bad = [f"{name}:{line}: {m}" if line else f"{name}: {m}" for line, m in plan.bad]
                warnings = plan.warnings
                ready = plan.good and (keep_good or not plan.bad)
                if ready and (not warnings or form.cleaned_data["accept_warnings"]):
                    user = getattr(request, "user", None)
                    added, replaced = apply_import(
                        plan.good, _alias(), user.get_username() if user is not None else ""
                    )
                    left = f"; {len(plan.bad)} bad rows left out" if plan.bad else ""
                    self.message_user(
                        request,
                        f"Imported {name}: {added} rows added, {replaced} replaced{left}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:redirectware_redirect_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import redirects from CSV",
            "opts": self.model._meta,
            "form": form,
            "bad": bad,
            "warnings": warnings,
        }
        return TemplateResponse(request, "admin/redirectware/redirect/import.html", context)


class Preview:
    """The “what explain says” column and field, asked at the server of one editor's request.

    The admin's display methods get the row but not the request, and the preview must be
    asked where the editor is (``http://127.0.0.1:8063``, not the rule's sample host): the
    admin takes a callable in place of a field name, so each request gets one of these.
    Equal when the origins are: the change form finds it among the read-only fields by
    comparing the one of the fieldsets with the one of ``get_readonly_fields``.
    """

    short_description = "what explain says"

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        #: The column's name (its CSS class, ``column-explanation``), as for the method.
        self.__name__ = "explanation"

    def __call__(self, obj: Redirect) -> str:
        """The preview line of ``obj``."""
        if obj.pk is None:
            return "(once saved)"
        return explain_row(obj, _alias(), self.origin)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Preview) and other.origin == self.origin

    def __hash__(self) -> int:
        return hash(self.origin)


def _with_preview(names: Sequence[Any], request: HttpRequest) -> tuple[Any, ...]:
    """``names`` with ``"explanation"`` replaced by a :class:`Preview` of ``request``."""
    preview = Preview(Origin.of(request))
    return tuple(preview if name == "explanation" else name for name in names)


def _csv_response(rows: QuerySet[Redirect]) -> HttpResponse:
    response = HttpResponse(export_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="redirects.csv"'
    return response


# Versions: the history, drafts under review, publish and rollback (see versions_admin.py).
from .versions_admin import register as _register_versions  # noqa: E402

_register_versions(admin.site, RedirectAdmin)
