"""Hit counts: `hits` and `last_hit` of each row, a table of the rule file's rules, and the
404s worth a redirect; a row may answer 410 Gone (an empty `to`)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("redirectware", "0002_permanent_in_words"),
    ]

    operations = [
        migrations.CreateModel(
            name="NotFound",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("path", models.CharField(max_length=2000, unique=True)),
                ("hits", models.BigIntegerField(default=0)),
                ("last_seen", models.DateTimeField(blank=True, null=True)),
                ("referrers", models.JSONField(blank=True, default=list)),
                ("bot_share", models.FloatField(default=0.0)),
            ],
            options={
                "verbose_name": "not found path",
                "ordering": ("-hits", "path"),
            },
        ),
        migrations.CreateModel(
            name="RuleHits",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, unique=True)),
                ("hits", models.BigIntegerField(default=0)),
                ("last_hit", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name": "rule hits",
                "verbose_name_plural": "rule hits",
                "ordering": ("name",),
            },
        ),
        migrations.AddField(
            model_name="redirect",
            name="hits",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="redirect",
            name="last_hit",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="redirect",
            name="status",
            field=models.PositiveSmallIntegerField(
                blank=True,
                choices=[
                    (301, "301 Moved Permanently (308 for other methods)"),
                    (302, "302 Found (307 for other methods)"),
                    (307, "307 Temporary Redirect"),
                    (308, "308 Permanent Redirect"),
                    (410, "410 Gone (leave “to” empty)"),
                ],
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="redirect",
            name="to",
            field=models.CharField(
                blank=True,
                help_text="A path, or an http(s) URL; empty only for a row with status 410 Gone.",
                max_length=2000,
            ),
        ),
    ]
