"""Redirects kept in the database: :class:`Redirect` rows, and the version every change bumps.

The rows join a rule document where it says ``map: {database: ALIAS}``; each process compiles
them with the document and answers from memory (no query on a request). Every change to the
table (a save, a delete, a queryset ``update``/``delete``/``bulk_create``/``bulk_update``)
bumps :class:`RedirectVersion` in the same transaction, so each process learns of it with one
indexed query per reload interval, and a change is either wholly in a compile or not at all.

``Model.save`` sends ``post_save`` after its own transaction ends, so a signal handler
would bump the version in a second transaction: a process looking in between would see new
rows under the old version and keep them for good. Hence the overrides here, not signals.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Final, Protocol

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured, ValidationError
from django.db import models, router, transaction
from django.db.models import F

from .verdicts import Said, Verdict

#: How :meth:`Redirect.clean` judges a row in a database: :func:`.validation.judge_row`, set
#: when the app is ready (:mod:`.apps`). The judgement reads this table through this module,
#: so this module cannot import it.
Judge = Callable[["Redirect", str], Verdict]
_judge: list[Judge] = []


def judge_rows_with(judge: Judge) -> None:
    """Make :meth:`Redirect.clean` judge rows with ``judge`` (the app does, when ready)."""
    _judge[:] = [judge]


#: The version row's primary key: there is one row per database.
VERSION_ROW: Final = 1
STATUS_FIELD: Final = "status"
#: The fields the hit counting adds to, which a save leaves alone.
COUNT_FIELDS: Final = ("hits", "last_hit")
STATUS_CHOICES: Final = [
    (301, "301 Moved Permanently (308 for other methods)"),
    (302, "302 Found (307 for other methods)"),
    (307, "307 Temporary Redirect"),
    (308, "308 Permanent Redirect"),
    (410, "410 Gone (leave “to” empty)"),
]
#: The status of a row that answers 410 Gone instead of redirecting (its ``to`` is empty).
GONE_STATUS: Final = 410
#: What an editor picks for ``permanent``, as :class:`~django.forms.NullBooleanSelect` posts it.
PERMANENT_CHOICES: Final = [
    ("unknown", "Rule's default"),
    ("true", "Yes, permanent"),
    ("false", "No, temporary"),
]
PERMANENT_HELP: Final = (
    "“Rule's default” takes what the site's rule file says for these redirects. “Yes” "
    "answers 301 to GET and HEAD and 308 to other methods; “No” answers 302, or 307. A "
    "status, when one is chosen, decides instead."
)


class PermanentSelect(forms.NullBooleanSelect):
    """Django's Unknown/Yes/No, in words that say what each does to a redirect."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = list(PERMANENT_CHOICES)


class PermanentField(models.BooleanField):  # type: ignore[type-arg]
    """A nullable boolean whose form widget says what an empty value means: the rule's own."""

    @property
    def flatchoices(self) -> list[tuple[bool | None, str]]:
        """The words of :data:`PERMANENT_CHOICES`: the admin's list filter and columns show
        them. Not ``choices``, which would make the form field a plain choice of strings."""
        return [(True, "Yes, permanent"), (False, "No, temporary"), (None, "Rule's default")]

    def formfield(self, **kwargs: Any) -> Any:
        """A :class:`~django.forms.NullBooleanField` with :class:`PermanentSelect`."""
        return super().formfield(
            **{"form_class": forms.NullBooleanField, "widget": PermanentSelect, **kwargs}
        )


def bump_version(using: str) -> None:
    """Count one change of the redirect table in database ``using`` (inside its transaction)."""
    updated = (
        RedirectVersion.objects.using(using).filter(pk=VERSION_ROW).update(version=F("version") + 1)
    )
    if not updated:
        # The data migration creates the row; a table emptied by hand gets it back.
        RedirectVersion.objects.using(using).get_or_create(pk=VERSION_ROW, defaults={"version": 1})


def current_version(using: str) -> int:
    """The table's change counter now: one query by primary key."""
    found = (
        RedirectVersion.objects.using(using)
        .filter(pk=VERSION_ROW)
        .values_list("version", flat=True)
        .first()
    )
    return 0 if found is None else int(found)


class Recorder(Protocol):
    """What records the table's versions (:mod:`.versions`, registered when the app is
    ready): snapshots of rows, and a version from two of them."""

    def snapshot(self, using: str, pks: Iterable[int | None]) -> dict[int, dict[str, Any]]:
        """The rows ``pks`` as the database holds them."""

    def record(
        self, using: str, before: Mapping[int, dict[str, Any]], after: Mapping[int, dict[str, Any]]
    ) -> None:
        """Record what changed between two snapshots."""


class _NoRecorder:
    """Before the app is ready (a migration's own models, say) nothing is recorded."""

    def snapshot(self, using: str, pks: Iterable[int | None]) -> dict[int, dict[str, Any]]:
        return {}

    def record(
        self, using: str, before: Mapping[int, dict[str, Any]], after: Mapping[int, dict[str, Any]]
    ) -> None:
        return None


_RECORDER: list[Recorder] = [_NoRecorder()]


def record_versions_with(recorder: Recorder) -> None:
    """Have every change of the table recorded by ``recorder`` (:mod:`.versions` registers
    itself so; it imports this module, so this module cannot import it)."""
    _RECORDER[0] = recorder


def _recorder() -> Recorder:
    return _RECORDER[0]


class RedirectQuerySet(models.QuerySet["Redirect"]):
    """Bulk changes that bump the version in the same transaction, like a single save."""

    def update(self, **kwargs: Any) -> int:
        """``QuerySet.update``, then the version, atomically."""
        with transaction.atomic(using=self.db):
            pks = list(self.values_list("pk", flat=True))
            before = _recorder().snapshot(self.db, pks)
            count = super().update(**kwargs)
            _recorder().record(self.db, before, _recorder().snapshot(self.db, pks))
            bump_version(self.db)
        return count

    def delete(self) -> tuple[int, dict[str, int]]:
        """``QuerySet.delete``, then the version, atomically."""
        with transaction.atomic(using=self.db):
            before = _recorder().snapshot(self.db, self.values_list("pk", flat=True))
            deleted = super().delete()
            _recorder().record(self.db, before, {})
            bump_version(self.db)
        return deleted

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Redirect]:
        """``QuerySet.bulk_create``, then the version, atomically."""
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            after = _recorder().snapshot(self.db, [obj.pk for obj in created])
            _recorder().record(self.db, {}, after)
            bump_version(self.db)
        return created

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        """``QuerySet.bulk_update``, then the version, atomically."""
        with transaction.atomic(using=self.db):
            objs = list(objs)
            before = _recorder().snapshot(self.db, [obj.pk for obj in objs])
            count = super().bulk_update(objs, fields, *args, **kwargs)
            _recorder().record(self.db, before, _recorder().snapshot(self.db, before))
            bump_version(self.db)
        return count


class Redirect(models.Model):
    """One redirect an editor manages: an exact ``from`` (a path, maybe with a query) to ``to``.

    The columns are a ``map`` CSV's: ``from``, ``to``, ``permanent`` or ``status``; an empty
    ``permanent`` and ``status`` take the ``map`` rule's. ``host`` limits the row to the
    ``map`` rules written with that ``host:``; empty, it belongs to rules without one.
    """

    from_path: models.CharField[str, str] = models.CharField(
        "from", max_length=2000, help_text="A path starting with '/', maybe with a ?query."
    )
    to: models.CharField[str, str] = models.CharField(
        max_length=2000,
        blank=True,
        help_text="A path, or an http(s) URL; empty only for a row with status 410 Gone.",
    )
    permanent: models.BooleanField[bool | None, bool | None] = PermanentField(
        null=True, blank=True, help_text=PERMANENT_HELP
    )
    status: models.PositiveSmallIntegerField[int | None, int | None] = (
        models.PositiveSmallIntegerField(null=True, blank=True, choices=STATUS_CHOICES)
    )
    host: models.CharField[str, str] = models.CharField(
        max_length=253,
        blank=True,
        default="",
        help_text="Empty: every site. Else the host of a map rule written with host: HOST.",
    )
    enabled: models.BooleanField[bool, bool] = models.BooleanField(default=True)
    note: models.TextField[str, str] = models.TextField(blank=True, default="")
    created: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now_add=True)
    updated: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now=True)
    #: A user name, not a foreign key: the app needs no django.contrib.auth, and the name
    #: outlives the account (imports write the command's name).
    changed_by: models.CharField[str, str] = models.CharField(
        max_length=150, blank=True, default=""
    )
    #: Requests this row answered, and the last one's time: added to by each process's
    #: flush (:mod:`.stats`), never written by a save (see :meth:`save`).
    hits: models.BigIntegerField[int, int] = models.BigIntegerField(default=0, editable=False)
    last_hit: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True, editable=False
    )

    objects: ClassVar[RedirectQuerySet] = RedirectQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ("host", "from_path")
        constraints = (
            models.UniqueConstraint(fields=("host", "from_path"), name="redirectware_unique_from"),
        )

    #: What the engine warned of at the last :meth:`clean` (a chain, a row an earlier rule
    #: shadows, a row no rule serves): saved all the same; the admin asks to accept them.
    warnings: list[Said]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.warnings = []
        self._not_cleaned: Collection[str] = ()

    def __str__(self) -> str:
        return f"{self.host}{self.from_path} -> {self.to}"

    def full_clean(self, exclude: Iterable[str] | None = None, *args: Any, **kwargs: Any) -> None:
        """Django's ``full_clean``; :meth:`clean` learns which fields a form left out.

        A ``ModelForm`` without a field raises ``ValueError`` for an error keyed by it (say
        a form of ``enabled`` alone, enabling a row that loops): such errors go to the row.
        """
        self._not_cleaned = set(exclude or ())
        try:
            super().full_clean(exclude, *args, **kwargs)
        finally:
            self._not_cleaned = ()

    def clean(self) -> None:
        """Judge the row with the whole rule set, as ``redirectware check`` would.

        A row that would not compile, loop with another row or the file's rules, repeat a
        ``from``, or send visitors off the site raises :class:`ValidationError` in plain
        words, keyed by the field to correct; ``check``'s own words go to the log. Warnings
        are kept in :attr:`warnings`. A disabled row is not served, so it cannot break what is.
        """
        self.host = (self.host or "").strip().lower()
        self.warnings = []
        if self.permanent is not None and self.status is not None:
            self._refuse(
                STATUS_FIELD,
                "Choose either “Permanent” or a status, not both: set “Permanent” to "
                "“Rule's default”, or clear the status.",
            )
        if not self.to and self.status != GONE_STATUS:
            self._refuse("to", "Enter where the redirect goes, or choose “410 Gone” as the status.")
        if not self.enabled or not self.from_path:
            return  # an empty from is refused by its own field already
        if not _judge:
            raise ImproperlyConfigured(
                "Redirect rows are judged once the app is ready: add 'redirectware.django' to "
                "INSTALLED_APPS"
            )
        using = self._state.db or router.db_for_write(type(self), instance=self) or "default"
        verdict = _judge[0](self, using)
        if verdict.error is not None:
            self._refuse(verdict.error.field, verdict.error.editor)
        self.warnings = verdict.warnings

    def _refuse(self, field: str | None, message: str) -> None:
        if field is None or field in self._not_cleaned:
            raise ValidationError({NON_FIELD_ERRORS: [message]})
        raise ValidationError({field: [message]})

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save the row and bump the version, in one transaction."""
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        if not self._state.adding and not args and kwargs.get("update_fields") is None:
            # An edit writes every field but the counts: the flushes add to them meanwhile,
            # and the value this instance read may be minutes old.
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if f.name not in COUNT_FIELDS and not f.primary_key
            ]
        with transaction.atomic(using=using):
            before = _recorder().snapshot(using, [self.pk])
            super().save(*args, **kwargs)
            _recorder().record(using, before, _recorder().snapshot(using, [self.pk]))
            bump_version(using)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Delete the row and bump the version, in one transaction."""
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            before = _recorder().snapshot(using, [self.pk])
            deleted = super().delete(*args, **kwargs)
            _recorder().record(using, before, {})
            bump_version(using)
        return deleted


class RedirectVersion(models.Model):
    """The redirect table's change counter: one row, read by primary key once per interval."""

    id: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        primary_key=True, default=VERSION_ROW
    )
    version: models.BigIntegerField[int, int] = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"redirects version {self.version}"


# The version models and the counting's tables live in their own modules; imported here so
# that Django finds them. Every change above records itself through the recorder
# :mod:`.versions` registers.
from .stats import NotFound, RuleHits  # noqa: E402
from .version_models import RowChange, TableVersion  # noqa: E402

__all__ = ["NotFound", "Redirect", "RedirectVersion", "RowChange", "RuleHits", "TableVersion"]
