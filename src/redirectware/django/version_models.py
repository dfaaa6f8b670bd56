"""The models of the redirect table's history: a :class:`TableVersion` and the
:class:`RowChange`\\ s it made. Kept apart from the recording (:mod:`.versions`) so that
:mod:`.models` can import them, for Django to find, without importing what records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Final

from django.db import models
from django.utils import timezone

#: The fields of a row a version keeps, in this order.
FIELDS: Final = ("from_path", "to", "permanent", "status", "host", "enabled", "note")

Fields = dict[str, Any]


class TableVersion(models.Model):
    """One version of the redirect table: the rows it changed are its :class:`RowChange`\\ s.

    ``number`` is None while the version is a draft (``REDIRECTWARE_REVIEW``); it is given
    when the draft is published, so numbers follow the order in which versions went live.
    """

    number: models.PositiveIntegerField[int | None, int | None] = models.PositiveIntegerField(
        null=True, blank=True, unique=True
    )
    created: models.DateTimeField[datetime, datetime] = models.DateTimeField(default=timezone.now)
    published: models.DateTimeField[datetime | None, datetime | None] = models.DateTimeField(
        null=True, blank=True
    )
    author: models.CharField[str, str] = models.CharField(max_length=150, blank=True, default="")
    note: models.TextField[str, str] = models.TextField(blank=True, default="")

    objects: ClassVar[models.Manager[TableVersion]] = models.Manager()

    class Meta:
        ordering = ("-number",)
        verbose_name = "version"

    def __str__(self) -> str:
        return "draft" if self.number is None else f"version {self.number}"

    def changed_rows(self, using: str | None = None) -> models.QuerySet[RowChange]:
        """This version's :class:`RowChange` rows, in the order they were recorded."""
        rows: models.QuerySet[RowChange] = RowChange.objects.using(using or self._state.db)
        mine: models.QuerySet[RowChange] = rows.filter(version=self).order_by("id")
        return mine

    @property
    def is_draft(self) -> bool:
        """Not live yet: staged admin edits."""
        return self.number is None


class RowChange(models.Model):
    """What one version did to one row: its fields before and after (None: no such row)."""

    version: models.ForeignKey[TableVersion, TableVersion] = models.ForeignKey(
        TableVersion, on_delete=models.CASCADE, related_name="changes"
    )
    #: The row's id; None for a row a draft adds (it has none until published). Not a
    #: foreign key: the history outlives the row.
    row: models.BigIntegerField[int | None, int | None] = models.BigIntegerField(
        null=True, blank=True, db_index=True
    )
    before: models.JSONField[Fields | None, Fields | None] = models.JSONField(null=True, blank=True)
    after: models.JSONField[Fields | None, Fields | None] = models.JSONField(null=True, blank=True)

    objects: ClassVar[models.Manager[RowChange]] = models.Manager()

    class Meta:
        ordering = ("version", "id")

    def __str__(self) -> str:
        return f"{self.version}: {describe(self.before)} -> {describe(self.after)}"


def describe(fields: Fields | None) -> str:
    """``example.com/old -> /new`` or ``(none)``."""
    if fields is None:
        return "(none)"
    off = "" if fields.get("enabled", True) else " (disabled)"
    return f"{fields['host']}{fields['from_path']} -> {fields['to']}{off}"
