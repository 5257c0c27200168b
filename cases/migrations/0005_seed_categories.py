"""The shipped taxonomy: 104 categories covering all 15 departments (cases/taxonomy.py)."""

from django.db import migrations

from cases.taxonomy import seed_categories


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_event_log_append_only"), ("governance", "0002_departments")]
    operations = [migrations.RunPython(seed_categories, migrations.RunPython.noop)]
