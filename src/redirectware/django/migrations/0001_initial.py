"""The redirect table, and its version row (created here, so that bumping it is an update)."""

from typing import Any

from django.db import migrations, models


def create_version_row(apps: Any, schema_editor: Any) -> None:
    """The one version row, at 0."""
    version = apps.get_model("redirectware", "RedirectVersion")
    version.objects.using(schema_editor.connection.alias).get_or_create(pk=1)


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="RedirectVersion",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="Redirect",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "from_path",
                    models.CharField(
                        help_text="A path starting with '/', maybe with a ?query.",
                        max_length=2000,
                        verbose_name="from",
                    ),
                ),
                ("to", models.CharField(help_text="A path, or an http(s) URL.", max_length=2000)),
                (
                    "permanent",
                    models.BooleanField(
                        blank=True,
                        help_text="Empty: the map rule's own permanent/status.",
                        null=True,
                    ),
                ),
                (
                    "status",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        choices=[
                            (301, "301 Moved Permanently (308 for other methods)"),
                            (302, "302 Found (307 for other methods)"),
                            (307, "307 Temporary Redirect"),
                            (308, "308 Permanent Redirect"),
                        ],
                        null=True,
                    ),
                ),
                (
                    "host",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="Empty: every site. Else the host of a map rule written with host: HOST.",
                        max_length=253,
                    ),
                ),
                ("enabled", models.BooleanField(default=True)),
                ("note", models.TextField(blank=True, default="")),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("updated", models.DateTimeField(auto_now=True)),
                ("changed_by", models.CharField(blank=True, default="", max_length=150)),
            ],
            options={
                "ordering": ("host", "from_path"),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("host", "from_path"), name="redirectware_unique_from"
                    )
                ],
            },
        ),
        migrations.RunPython(create_version_row, migrations.RunPython.noop),
    ]
