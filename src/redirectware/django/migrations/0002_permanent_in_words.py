"""``permanent``: its choices say what each does, and an empty one is the rule's default."""

from django.db import migrations

import redirectware.django.models


class Migration(migrations.Migration):
    dependencies = [
        ("redirectware", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="redirect",
            name="permanent",
            field=redirectware.django.models.PermanentField(
                blank=True,
                help_text="“Rule's default” takes what the site's rule file says for these redirects. “Yes” answers 301 to GET and HEAD and 308 to other methods; “No” answers 302, or 307. A status, when one is chosen, decides instead.",
                null=True,
            ),
        ),
    ]
