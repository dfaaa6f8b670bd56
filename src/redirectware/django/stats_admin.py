"""The admin of hit counts: the redirect rows' hits and last hit (columns, sorting, a filter
by last hit, an action that marks stale rows gone), and the 404s worth a redirect
(:class:`~.stats.NotFound`), each with the target ``redirectware suggest`` proposes for it.

Every row an action writes goes through :meth:`Redirect.full_clean
<redirectware.django.models.Redirect.clean>`, as an edit in the form does: what the engine
refuses (a loop, a ``from`` already mapped) is reported by row and not saved. And through
the same versions: saved (and recorded as a version) at once, or, under
``REDIRECTWARE_REVIEW``, put into the draft, live once it is published.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from .models import GONE_STATUS, Redirect
from .stats import NotFound
from .versions import fields_of, review_on, stage

if TYPE_CHECKING:
    _NotFoundAdmin = admin.ModelAdmin[NotFound]
else:
    _NotFoundAdmin = admin.ModelAdmin

#: The choices of the "last hit" filter: days without a hit.
STALE_DAYS = (30, 90, 365)


class LastHitFilter(admin.SimpleListFilter):
    """Rows by their last hit: never hit, or not hit in the last 30, 90 or 365 days."""

    title = "last hit"
    parameter_name = "stale"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """ "Never hit" and "not hit since" choices."""
        return [("never", "Never hit")] + [
            (str(days), f"Not hit in {days} days") for days in STALE_DAYS
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """The rows the chosen value means."""
        value = self.value()
        chosen: QuerySet[Any] = queryset
        if value == "never":
            chosen = queryset.filter(last_hit__isnull=True)
        elif value and value.isdigit():
            since = timezone.now() - timedelta(days=int(value))
            chosen = queryset.filter(Q(last_hit__isnull=True) | Q(last_hit__lt=since))
        return chosen


def _save_checked(request: HttpRequest, modeladmin: Any, row: Redirect) -> bool:
    """Judge ``row`` as the form would, save it if it passes; say why if it does not."""
    try:
        row.full_clean()
    except ValidationError as error:
        problems = "; ".join(str(m) for ms in error.message_dict.values() for m in ms)
        modeladmin.message_user(request, f"{row.from_path}: {problems}", messages.ERROR)
        return False
    user = getattr(request, "user", None)
    row.changed_by = user.get_username() if user is not None else ""
    if review_on():
        stage(router.db_for_write(Redirect) or "default", row.changed_by, row.pk, fields_of(row))
    else:
        row.save()
    return True


def _report(modeladmin: Any, request: HttpRequest, done: int, what: str) -> None:
    """Say what an action did to ``done`` rows: they ``what`` now ("answer 410 Gone"), or,
    under review, once the draft they went into is published."""
    if not done:
        return
    if review_on():
        text = f"{done} changes put into the draft: once it is published, they {what}."
    else:
        text = f"{done} rows now {what}."
    modeladmin.message_user(request, text, messages.SUCCESS)


@admin.action(description="Mark the selected rows gone (answer 410)")
def mark_rows_gone(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Redirect]) -> None:
    """Each selected row answers 410 Gone from now on, instead of redirecting."""
    done = 0
    for row in queryset:
        row.to, row.status, row.permanent = "", GONE_STATUS, None
        done += _save_checked(request, modeladmin, row)
    _report(modeladmin, request, done, "answer 410 Gone")


def site_paths() -> list[str]:
    """The site's live paths: its sitemaps' URLs, or else the URL patterns without a
    parameter (``about/`` of ``path("about/", ...)``), each as a path from the root."""
    from .sitemaps import sitemap_paths

    found = sitemap_paths()
    if found:
        return found
    paths: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = str(pattern.pattern)
            if "<" in route or any(c in route for c in "^$()[]*+?\\"):
                continue  # a parameter, or a regex: no one path to send anybody to
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + route)
            elif isinstance(pattern, URLPattern) and not (prefix + route).startswith("admin/"):
                paths.append("/" + prefix + route)

    walk(get_resolver().url_patterns, "")
    return paths


def suggested_targets(not_found: dict[str, int]) -> dict[str, str | None]:
    """What ``redirectware suggest`` proposes for each path against :func:`site_paths`
    (None for a path it finds nothing good for, or when ``rapidfuzz`` is missing)."""
    from redirectware._extras import MissingExtra
    from redirectware.tools.suggest import suggest

    try:
        found = suggest(not_found, site_paths())
    except MissingExtra:
        return dict.fromkeys(not_found)
    targets: dict[str, str | None] = dict.fromkeys(not_found)
    for suggestion in found.accepted:
        targets[suggestion.source] = suggestion.target
    for rule in found.templates:
        for path in rule.covers:
            targets[path] = rule.new_prefix + path[len(rule.old_prefix) :]
    return targets


@admin.register(NotFound)
class NotFoundAdmin(_NotFoundAdmin):
    """The paths the app answered 404 most often, with a proposed redirect for each."""

    list_display = ("path", "hits", "last_seen", "crawlers", "top_referrer", "suggested")
    ordering = ("-hits", "path")
    search_fields = ("path",)
    actions = ("create_suggested", "mark_gone")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Rows come from the counting, not from editors."""
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[NotFound]:
        """The rows, and (once per request) the suggestion for each."""
        queryset = super().get_queryset(request)
        if not hasattr(request, "_redirectware_suggested"):
            counts = dict(queryset.values_list("path", "hits"))
            request._redirectware_suggested = suggested_targets(counts)  # type: ignore[attr-defined]
        return queryset

    def _suggestion(self, request: HttpRequest | None, obj: NotFound) -> str | None:
        known: dict[str, str | None] = getattr(request, "_redirectware_suggested", {})
        return known.get(obj.path)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        """The list; the suggestion column reads what :meth:`get_queryset` worked out."""
        self._request = request
        return super().changelist_view(request, extra_context)

    @admin.display(description="suggested target")
    def suggested(self, obj: NotFound) -> str:
        """What ``redirectware suggest`` proposes, or a dash."""
        return self._suggestion(getattr(self, "_request", None), obj) or "-"

    @admin.display(description="from crawlers", ordering="bot_share")
    def crawlers(self, obj: NotFound) -> str:
        """The crawlers' share of the hits, in percent."""
        return f"{obj.bot_share:.0%}"

    @admin.display(description="top referrer")
    def top_referrer(self, obj: NotFound) -> str:
        """The referrer seen most, or a dash."""
        referrers = obj.referrers or []
        return str(referrers[0].get("referrer", "-")) if referrers else "-"

    @admin.action(description="Create the suggested redirect")
    def create_suggested(self, request: HttpRequest, queryset: QuerySet[NotFound]) -> None:
        """A redirect row from each path to its suggestion; the path leaves the list."""
        targets = suggested_targets(dict(queryset.values_list("path", "hits")))
        done = 0
        for item in queryset:
            target = targets.get(item.path)
            if target is None:
                self.message_user(request, f"{item.path}: no suggestion", messages.WARNING)
                continue
            if _save_checked(request, self, Redirect(from_path=item.path, to=target)):
                item.delete()
                done += 1
        _report(self, request, done, "redirect to their suggested target")

    @admin.action(description="Mark gone (answer 410)")
    def mark_gone(self, request: HttpRequest, queryset: QuerySet[NotFound]) -> None:
        """A row answering 410 Gone for each path; the path leaves the list."""
        done = 0
        for item in queryset:
            row = Redirect(from_path=item.path, to="", status=GONE_STATUS)
            if _save_checked(request, self, row):
                item.delete()
                done += 1
        _report(self, request, done, "answer 410 Gone")
