"""Turn SpatiaLite's spatial index on grids_cell.geometry back on.

Django rebuilds a SQLite table to add the unique constraint on (version, code)
and leaves the geometry's spatial index disabled and empty afterwards
(geometry_columns.spatial_index_enabled = 0): lookups then scan every cell.
PostGIS keeps its GiST index through such changes; nothing to do there.
System check governance.W002 catches any geometry column left like this.
"""

from django.db import migrations

TABLES = [("grids_cell", "geometry"), ("grids_layerpolygon", "geometry"), ("governance_region", "boundary")]


def enable_spatial_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, column in TABLES:
            cursor.execute(
                "SELECT spatial_index_enabled FROM geometry_columns WHERE f_table_name = %s AND f_geometry_column = %s",
                [table, column],
            )
            row = cursor.fetchone()
            if row and row[0] != 1:
                # The stale R*Tree table is still there; CreateSpatialIndex wants to make it.
                cursor.execute(f'DROP TABLE IF EXISTS "idx_{table}_{column}"')
                cursor.execute("SELECT CreateSpatialIndex(%s, %s)", [table, column])
                cursor.execute("SELECT RecoverSpatialIndex(%s, %s)", [table, column])


class Migration(migrations.Migration):
    dependencies = [("grids", "0002_sliver_width")]
    operations = [migrations.RunPython(enable_spatial_indexes, migrations.RunPython.noop, elidable=False)]
