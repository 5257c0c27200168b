"""The shipped stage time limits (domain.md §6), any category; admins edit them afterwards."""

from django.db import migrations

from cases.sla import seed_default_policies


def seed(apps, schema_editor):
    seed_default_policies(apps)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
