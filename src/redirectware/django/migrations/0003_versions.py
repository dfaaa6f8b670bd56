"""Versions of the redirect table; the rows already there become version 1."""

from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

FIELDS = ("from_path", "to", "permanent", "status", "host", "enabled", "note")


def baseline(apps: Any, schema_editor: Any) -> None:
    """Version 1 holds the rows as they are, so that a rollback can go back to them."""
    alias = schema_editor.connection.alias
    redirect = apps.get_model("redirectware", "Redirect")
    rows = list(redirect.objects.using(alias).values("pk", *FIELDS))
    if not rows:
        return  # the history starts with the first change
    version_model = apps.get_model("redirectware", "TableVersion")
    change_model = apps.get_model("redirectware", "RowChange")
    now = django.utils.timezone.now()
    version = version_model.objects.using(alias).create(
        number=1, created=now, published=now, note="the table when versions began"
    )
    change_model.objects.using(alias).bulk_create(
        [change_model(version=version, row=row.pop("pk"), before=None, after=row) for row in rows],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("redirectware", "0002_permanent_in_words"),
    ]

    operations = [
        migrations.CreateModel(
            name="TableVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField(blank=True, null=True, unique=True)),
                ("created", models.DateTimeField(default=django.utils.timezone.now)),
                ("published", models.DateTimeField(blank=True, null=True)),
                ("author", models.CharField(blank=True, default="", max_length=150)),
                ("note", models.TextField(blank=True, default="")),
            ],
            options={"ordering": ("-number",), "verbose_name": "version"},
        ),
        migrations.CreateModel(
            name="RowChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row", models.BigIntegerField(blank=True, db_index=True, null=True)),
                ("before", models.JSONField(blank=True, null=True)),
                ("after", models.JSONField(blank=True, null=True)),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="changes",
                        to="redirectware.tableversion",
                    ),
                ),
            ],
            options={"ordering": ("version", "id")},
        ),
        migrations.RunPython(baseline, migrations.RunPython.noop),
    ]
