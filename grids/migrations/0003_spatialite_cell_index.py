"""Turn SpatiaLite's spatial index on grids_cell.geometry back on.

Django rebuilds a SQLite table to add the unique constraint on (version, code)
and leaves the geometry's spatial index disabled; see governance.spatialite.
"""

from django.db import migrations

from governance.spatialite import enable_spatial_indexes as enable

TABLES = [("grids_cell", "geometry"), ("grids_layerpolygon", "geometry"), ("governance_region", "boundary")]


def enable_spatial_indexes(apps, schema_editor):
    enable(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [("grids", "0002_sliver_width")]
    operations = [migrations.RunPython(enable_spatial_indexes, migrations.RunPython.noop, elidable=False)]
