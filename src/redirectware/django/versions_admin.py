"""The admin of versions: the history per version and per row, drafts under review with what
they would change, publish, and "roll back to version N".

:func:`register` is called from :mod:`.admin`: it registers :class:`TableVersionAdmin` and
puts :class:`ReviewedRedirectAdmin` (the row admin, with history and drafts) in place of the
plain one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db import router
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from .models import Redirect
from .review import TOP_LOGGED, review, staged_rows
from .versions import (
    NothingToDo,
    RowChange,
    TableVersion,
    describe,
    draft,
    fields_of,
    live,
    publish,
    review_on,
    rollback,
    stage,
)

if TYPE_CHECKING:
    _VersionAdmin = admin.ModelAdmin[TableVersion]
    _RedirectAdmin = admin.ModelAdmin[Redirect]
else:
    _VersionAdmin = admin.ModelAdmin
    _RedirectAdmin = admin.ModelAdmin


def _alias() -> str:
    return router.db_for_write(Redirect) or "default"


def _user(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    return str(user.get_username()) if user is not None else ""


def _may(request: HttpRequest, action: str) -> bool:
    """Whether the user may ``action`` (view, change) redirect rows."""
    user: Any = request.user
    return bool(user.has_perm(f"redirectware.{action}_redirect"))


def _changes_table(changes: QuerySet[RowChange]) -> str:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((item.row or "new", describe(item.before), describe(item.after)) for item in changes),
    )
    return format_html(
        '<table class="redirectware-changes"><thead><tr><th>row</th><th>before</th>'
        "<th>after</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


class TableVersionAdmin(_VersionAdmin):
    """Read-only history; the draft can be reviewed and published, any version rolled back to."""

    list_display = ("label", "when", "author", "note", "rows_changed", "state")
    readonly_fields = ("label", "when", "author", "note", "state", "rows", "actions_links")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[TableVersion]:
        """Versions with their count of changed rows, the draft first, then newest first."""
        versions: QuerySet[TableVersion] = super().get_queryset(request)
        counted: QuerySet[TableVersion] = versions.annotate(changed=Count("changes"))
        return counted

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        """Allow ``?changes__row=ID``: one row's history, linked from the row's page."""
        return lookup == "changes__row" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Versions are made by changing rows, never by hand."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TableVersion | None = None) -> bool:
        """History is never rewritten."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: TableVersion | None = None) -> bool:
        """Read-only: publish and roll back have their own pages."""
        return False

    def has_view_permission(self, request: HttpRequest, obj: TableVersion | None = None) -> bool:
        """Whoever may see the redirects may see their history."""
        return _may(request, "view") or super().has_view_permission(request, obj)

    @admin.display(description="version")
    def label(self, obj: TableVersion) -> str:
        """``version 3`` or ``draft``."""
        return str(obj)

    @admin.display(description="time")
    def when(self, obj: TableVersion) -> Any:
        """When it went live (a draft: when it was started)."""
        return obj.published or obj.created

    @admin.display(description="rows changed")
    def rows_changed(self, obj: TableVersion) -> int:
        """How many rows it changed."""
        return int(getattr(obj, "changed", 0))

    @admin.display(description="live or draft")
    def state(self, obj: TableVersion) -> str:
        """``live``, ``draft`` or empty."""
        if obj.is_draft:
            return "draft"
        current = live(obj._state.db or _alias())
        return "live" if current is not None and current.pk == obj.pk else ""

    @admin.display(description="rows")
    def rows(self, obj: TableVersion) -> str:
        """Each row it changed: before and after."""
        return _changes_table(obj.changed_rows())

    @admin.display(description="")
    def actions_links(self, obj: TableVersion) -> str:
        """Review and publish the draft, or roll back to this version."""
        if obj.is_draft:
            return format_html(
                '<a class="button" id="review-draft" href="{}">Review and publish the draft</a>',
                reverse("admin:redirectware_tableversion_review"),
            )
        return format_html(
            '<a class="button" id="roll-back" href="{}">Roll back to version {}</a>',
            reverse("admin:redirectware_tableversion_rollback", args=[obj.number]),
            obj.number,
        )

    def get_urls(self) -> list[URLPattern]:
        """The review, publish and rollback pages, before the admin's own."""
        view = self.admin_site.admin_view
        return [
            path("review/", view(self.review_view), name="redirectware_tableversion_review"),
            path(
                "rollback/<int:number>/",
                view(self.rollback_view),
                name="redirectware_tableversion_rollback",
            ),
            *super().get_urls(),
        ]

    def _may_publish(self, request: HttpRequest) -> bool:
        return _may(request, "change")

    def review_view(self, request: HttpRequest) -> HttpResponse:
        """What the draft changes; POST publishes it."""
        if not self._may_publish(request):
            return HttpResponse(status=403)
        alias = _alias()
        if request.method == "POST":
            try:
                version = publish(alias, _user(request), request.POST.get("note", ""))
            except NothingToDo as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(
                    request, f"Published {version}: the site serves it within the reload "
                    "interval.", messages.SUCCESS,
                )  # fmt: skip
            return HttpResponseRedirect(reverse("admin:redirectware_tableversion_changelist"))
        report = review(alias) if draft(alias) is not None else None
        changes = [] if report is None else report.changes
        documented = [c for c in changes if not c.hits]
        logged = sorted((c for c in changes if c.hits), key=lambda c: -c.hits)[:TOP_LOGGED]
        context = {
            **self.admin_site.each_context(request),
            "title": "Review the draft",
            "opts": self.model._meta,
            "staged": [(describe(b), describe(a)) for b, a in staged_rows(alias)],
            "changes": logged + documented,  # the most logged first: they matter most
            "has_draft": report is not None,
            "summary": f"{len(changes)} requests change answer, "
            f"{sum(c.hits for c in changes)} logged hits",
        }
        return TemplateResponse(request, "admin/redirectware/tableversion/review.html", context)

    def rollback_view(self, request: HttpRequest, number: int) -> HttpResponse:
        """Confirm, then publish the rows of version ``number`` as a new version."""
        if not self._may_publish(request):
            return HttpResponse(status=403)
        alias = _alias()
        target = get_object_or_404(TableVersion.objects.using(alias), number=number)
        if request.method == "POST":
            try:
                version = rollback(alias, number, _user(request), request.POST.get("note", ""))
            except NothingToDo as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, f"Published {version}: the rows of version {number}.",
                                  messages.SUCCESS)  # fmt: skip
            return HttpResponseRedirect(reverse("admin:redirectware_tableversion_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Roll back to version {number}",
            "opts": self.model._meta,
            "target": target,
        }
        return TemplateResponse(request, "admin/redirectware/tableversion/rollback.html", context)


class ReviewedRedirectAdmin(_RedirectAdmin):
    """The row admin with each row's history and, under ``REDIRECTWARE_REVIEW``, edits that
    go into the draft instead of the table. Built on the row admin by :func:`register`."""

    _staged = "_redirectware_staged"

    @admin.display(description="versions")
    def version_history(self, obj: Redirect) -> str:
        """The versions that changed this row, newest first, and a link to them."""
        if obj.pk is None:
            return "(once saved)"
        changes = RowChange.objects.using(obj._state.db).filter(row=obj.pk)
        link = reverse("admin:redirectware_tableversion_changelist") + f"?changes__row={obj.pk}"
        lines = format_html_join(
            "",
            "<li>{}: {} &rarr; {}</li>",
            (
                (str(item.version), describe(item.before), describe(item.after))
                for item in changes.select_related("version").order_by("-id")[:10]
            ),
        )
        return format_html('<ul class="row-history">{}</ul><a href="{}">every version</a>',
                           lines, link)  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Redirect | None = None) -> Any:
        """The row admin's, and the history."""
        return (*super().get_readonly_fields(request, obj), "version_history")

    def get_fieldsets(self, request: HttpRequest, obj: Redirect | None = None) -> Any:
        """The row admin's, and the history of a saved row."""
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append(("Versions", {"fields": ("version_history",)}))
        return fieldsets

    def save_model(self, request: HttpRequest, obj: Redirect, form: Any, change: bool) -> None:
        """Under review, put the edit into the draft; else save it."""
        if not review_on():
            super().save_model(request, obj, form, change)
            return
        stage(_alias(), _user(request), obj.pk, fields_of(obj))
        setattr(request, self._staged, True)

    def delete_model(self, request: HttpRequest, obj: Redirect) -> None:
        """Under review, put the deletion into the draft; else delete."""
        if not review_on():
            super().delete_model(request, obj)
            return
        stage(_alias(), _user(request), obj.pk, None)
        setattr(request, self._staged, True)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Redirect]) -> None:
        """Under review, put each deletion into the draft; else delete."""
        if not review_on():
            super().delete_queryset(request, queryset)
            return
        for row in queryset:
            stage(_alias(), _user(request), row.pk, None)
        setattr(request, self._staged, True)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        """A row added to the draft has no id to log yet."""
        if obj.pk is None:
            return None
        return super().log_addition(request, obj, message)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any) -> HttpResponse:
        """As :meth:`response_add`."""
        if getattr(request, self._staged, False):
            return self._to_draft(request)
        return super().response_delete(request, obj_display, obj_id)

    def _to_draft(self, request: HttpRequest) -> HttpResponse:
        self.message_user(
            request, "Saved into the draft: the site does not serve it until the draft is "
            "published (Versions → draft → Review and publish).", messages.WARNING,
        )  # fmt: skip
        return HttpResponseRedirect(reverse("admin:redirectware_redirect_changelist"))

    def response_add(self, request: HttpRequest, obj: Redirect, *args: Any) -> HttpResponse:
        """Back to the list, saying where the edit went, when it went into the draft."""
        if getattr(request, self._staged, False):
            return self._to_draft(request)
        return super().response_add(request, obj, *args)

    def response_change(self, request: HttpRequest, obj: Redirect) -> HttpResponse:
        """As :meth:`response_add`."""
        if getattr(request, self._staged, False):
            return self._to_draft(request)
        return super().response_change(request, obj)


def register(site: admin.AdminSite, row_admin: type[Any]) -> None:
    """Register the versions' admin, and the row admin with history and drafts."""
    # The row admin comes after these methods in the MRO: they reach it through super().
    reviewed = type("RedirectAdmin", (ReviewedRedirectAdmin, row_admin), {})
    site.unregister(Redirect)
    site.register(Redirect, reviewed)
    site.register(TableVersion, TableVersionAdmin)
