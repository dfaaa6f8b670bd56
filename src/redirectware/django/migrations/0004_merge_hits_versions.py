# The hit counts and the table's versions were added side by side; this joins them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("redirectware", "0003_hits"),
        ("redirectware", "0003_versions"),
    ]

    operations = []
