"""System checks that stop a broken installation loudly, at start-up."""

import datetime
import sqlite3

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connections

from governance.holidays import covered_years


@register(Tags.compatibility)
def check_spatialite(app_configs=None, **kwargs):
    engine = settings.DATABASES["default"]["ENGINE"]
    if not engine.endswith("spatialite"):
        return []
    try:
        conn = sqlite3.connect(":memory:")
        conn.enable_load_extension(True)
        conn.load_extension(settings.SPATIALITE_LIBRARY_PATH)
        conn.close()
    except AttributeError:
        return [
            Error(
                "This Python's sqlite3 cannot load extensions, so SpatiaLite cannot be used.",
                hint="Build the virtual environment from Debian's /usr/bin/python3 (make venv).",
                id="governance.E001",
            )
        ]
    except sqlite3.OperationalError as exc:
        return [
            Error(
                f"SpatiaLite ({settings.SPATIALITE_LIBRARY_PATH}) cannot be loaded: {exc}",
                hint="Install it with 'apt-get install libsqlite3-mod-spatialite' or set SPATIALITE_LIBRARY_PATH.",
                id="governance.E001",
            )
        ]
    return []


@register(Tags.compatibility)
def check_gdal(app_configs=None, **kwargs):
    """GDAL must be present and able to reproject (which needs PROJ's data)."""
    try:
        from django.contrib.gis.gdal import CoordTransform, OGRGeometry, SpatialReference

        point = OGRGeometry("POINT (500000 3300000)", srs=SpatialReference(4547))
        point.transform(CoordTransform(SpatialReference(4547), SpatialReference(settings.STORAGE_SRID)))
    except Exception as exc:  # GDAL raises several unrelated types here
        return [
            Error(
                f"GDAL cannot reproject from EPSG:4547 to EPSG:{settings.STORAGE_SRID}: {exc}",
                hint="Install GDAL and PROJ with 'apt-get install gdal-bin' or set GDAL_LIBRARY_PATH.",
                id="governance.E002",
            )
        ]
    return []


@register(Tags.models)
def check_storage_srid(app_configs=None, **kwargs):
    """Every geometry field must be declared in the one storage SRID."""
    errors = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            srid = getattr(field, "srid", None)
            if srid is not None and srid != settings.STORAGE_SRID:
                errors.append(
                    Error(
                        f"{model._meta.label}.{field.name} is stored in EPSG:{srid}, "
                        f"not the storage SRID EPSG:{settings.STORAGE_SRID}.",
                        hint="Transform at the edge; store everything in STORAGE_SRID.",
                        obj=model,
                        id="governance.E003",
                    )
                )
    return errors


@register(Tags.database)
def check_database_srid(app_configs=None, databases=None, **kwargs):
    """The geometry columns of a migrated database must carry the storage SRID."""
    errors = []
    for alias in databases or []:
        connection = connections[alias]
        table_names = set(connection.introspection.table_names())
        if "geometry_columns" not in table_names and connection.vendor == "sqlite":
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT f_table_name, f_geometry_column, srid FROM geometry_columns")
            rows = cursor.fetchall()
        for table, column, srid in rows:
            if table.lower() in {t.lower() for t in table_names} and srid != settings.STORAGE_SRID:
                errors.append(
                    Error(
                        f"Column {table}.{column} in database '{alias}' has SRID {srid}, "
                        f"but the storage SRID is {settings.STORAGE_SRID}.",
                        hint="This database was built by another configuration; migrate a fresh one.",
                        id="governance.E004",
                    )
                )
    return errors


@register()
def check_calendar_coverage(app_configs=None, **kwargs):
    """Warn when the holiday data does not reach this year or the next."""
    this_year = datetime.date.today().year
    missing = [y for y in (this_year, this_year + 1) if y not in covered_years()]
    if not missing:
        return []
    return [
        Warning(
            "The chinese-calendar package has no holiday data for "
            + ", ".join(str(y) for y in missing)
            + "; those years fall back to Monday–Friday working days.",
            hint="Upgrade chinesecalendar once the State Council publishes the holidays, "
            "or enter that year's holidays and make-up days as calendar overrides in the admin.",
            id="governance.W001",
        )
    ]


@register(Tags.database)
def check_spatialite_indexes(app_configs=None, databases=None, **kwargs):
    """Every SpatiaLite geometry column needs its spatial index, or lookups scan whole tables."""
    warnings = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "sqlite" or "geometry_columns" not in connection.introspection.table_names():
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT f_table_name, f_geometry_column FROM geometry_columns WHERE spatial_index_enabled <> 1"
            )
            rows = [row for row in cursor.fetchall() if not row[0].startswith(("iso_", "sql_"))]
        for table, column in rows:
            warnings.append(
                Warning(
                    f"SpatiaLite's spatial index on {table}.{column} in database '{alias}' is off.",
                    hint=f"Run SELECT CreateSpatialIndex('{table}', '{column}'); SELECT RecoverSpatialIndex('{table}', "
                    f"'{column}'); a migration that rebuilt the table disabled it.",
                    id="governance.W002",
                )
            )
    return warnings
