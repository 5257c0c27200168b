"""SpatiaLite housekeeping shared by migrations.

Django rebuilds a SQLite table for some schema changes (a unique constraint, a
foreign key) and SpatiaLite's spatial index on a geometry column of that table
is left disabled and empty afterwards (geometry_columns.spatial_index_enabled
= 0): spatial lookups then scan the whole table. PostGIS keeps its GiST index
through such changes. System check governance.W002 catches a column left so.
"""


def enable_spatial_indexes(connection, columns) -> None:
    """Turn the spatial index on (and fill it) for each (table, column) where it is off; SQLite only."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for table, column in columns:
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
