"""Factories of the grids app: layers, versions and a regular grid of cells.

`square_grid_version()` makes a tidy version without running the engine: a
community cut into n × n equal square cells, each with a crosswalk entry to
one polygon of a CG layer. Tests of lookup, export, API and admin use it; the
engine's own tests run the engine.
"""

import json

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon

from governance.models import Department, Region
from grids.models import Cell, ConflictItem, CrosswalkEntry, GridVersion, Layer, LayerPolygon
from tests.factories import community

ORIGIN = (121.50, 30.00)  # west, north corner of the test community
STEP = 0.001  # degrees; about 96 m east-west and 111 m north-south here


def square(x0: float, y0: float, size: float) -> MultiPolygon:
    ring = ((x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0))
    return MultiPolygon(Polygon(ring), srid=4326)


def grid_square(x0: float, north: float, col: int, row: int) -> MultiPolygon:
    """Square (col, row) of a grid whose lines are x0 + i·STEP and north − j·STEP exactly.

    Both neighbours of an edge compute it from the same grid line, so they
    share it to the last bit; `x0 + col·STEP + STEP` would not.
    """
    west, east = x0 + col * STEP, x0 + (col + 1) * STEP
    south, top = north - (row + 1) * STEP, north - row * STEP
    ring = ((west, south), (east, south), (east, top), (west, top), (west, south))
    return MultiPolygon(Polygon(ring), srid=4326)


def layer(department_code: str = "CG", version: int | None = None, **kw) -> Layer:
    department = Department.objects.get(code=department_code)
    if version is None:
        version = (department.grid_layers.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    defaults = {"source_name": f"{department_code}.geojson", "source_format": "GeoJSON", "source_srs": "EPSG:4326"}
    return Layer.objects.create(department=department, version=version, **(defaults | kw))


def square_grid_version(
    *, n: int = 3, status: str = GridVersion.Status.ACTIVE, area: Region | None = None, department_code: str = "CG"
) -> GridVersion:
    """An n × n grid of square cells over one community, numbered west→east, north→south."""
    area = area or community()
    x0, north = ORIGIN
    area.boundary = square(x0, north - n * STEP, n * STEP)
    area.save(update_fields=["boundary"])
    source = layer(department_code)
    version = GridVersion.objects.create(status=status, sliver_area_m2=50, input_digest="test", cell_count=n * n)
    version.layers.add(source)
    sequence = 0
    for row in range(n):
        for col in range(n):
            sequence += 1
            geometry = grid_square(x0, north, col, row)
            polygon = LayerPolygon.objects.create(
                layer=source, code=f"{department_code}-{sequence:04d}", name=f"{sequence}", geometry=geometry
            )
            cell = Cell.objects.create(
                version=version, code=f"{area.code}{sequence:03d}", community=area, geometry=geometry, area_m2=10_700.0
            )
            CrosswalkEntry.objects.create(cell=cell, department=source.department, polygon=polygon, share=1.0)
    return version


def cell_centre(code_sequence: int, n: int = 3) -> tuple[float, float]:
    """(lng, lat) of the middle of cell number `code_sequence` (1-based) of square_grid_version(n)."""
    row, col = divmod(code_sequence - 1, n)
    return ORIGIN[0] + (col + 0.5) * STEP, ORIGIN[1] - (row + 0.5) * STEP


def store_conflicts(version: GridVersion, report: dict) -> GridVersion:
    """Give a version a conflict report as the engine saves one: summary on the version, items as rows."""
    version.conflicts = {"summary": report.get("summary", {})}
    version.save(update_fields=["conflicts"])
    for number, item in enumerate(report.get("items", []), start=1):
        geometry = item.get("geometry")
        ConflictItem.objects.create(
            version=version, number=number, kind=item["kind"], department_code=item.get("department") or "",
            polygons=item.get("polygons", []), area_m2=item.get("area_m2", 0.0),
            community_code=item.get("community") or "", cell_code=item.get("cell") or "",
            geometry=GEOSGeometry(json.dumps(geometry), srid=4326) if geometry else None,
        )  # fmt: skip
    return version
