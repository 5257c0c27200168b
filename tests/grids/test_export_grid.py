"""manage.py export_grid: the files are a clean partition that the lookups agree with.

The partition and the lookup truth are computed from the exported files with
shapely alone, as another system reading them would, not through Django.
"""

import csv
import json
import random
from io import StringIO
from pathlib import Path

import pytest
import shapely
from django.core.management import CommandError, call_command
from shapely.geometry import shape

from governance.models import Department
from grids import selectors, services
from grids.demo_city import generate_city, write_city
from grids.models import CrosswalkEntry, GridVersion, LayerPolygon
from grids.unify import grid_unify
from tests.grids.factories import layer, square_grid_version, store_conflicts
from tests.grids.test_selectors import EXACT_ORIGIN, EXACT_STEP, exact_edge_points, exact_grid_version

pytestmark = pytest.mark.django_db


def export(version: GridVersion, directory: Path) -> str:
    stdout = StringIO()
    call_command("export_grid", str(version.pk), "--out", str(directory), stdout=stdout)
    return stdout.getvalue()


# --- Reading the export: shapely and the standard library only -------------------------------


def read_cells(directory: Path) -> tuple[list[dict], list[shapely.Geometry]]:
    collection = json.loads((directory / "cells.geojson").read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection" and "crs" not in collection  # RFC 7946: WGS84
    properties = [feature["properties"] for feature in collection["features"]]
    return properties, [shape(feature["geometry"]) for feature in collection["features"]]


def overlapping_pairs(shapes: list[shapely.Geometry]) -> list[tuple[int, int, float]]:
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    pairs = [(i, j) for i, j in zip(left.tolist(), right.tolist(), strict=True) if i < j]
    return [(i, j, area) for i, j in pairs if (area := shapes[i].intersection(shapes[j]).area) > 0]


def lowest_covering(properties: list[dict], shapes, points) -> list[str | None]:
    order = sorted(range(len(shapes)), key=lambda i: properties[i]["code"])
    return [
        next((properties[i]["code"] for i in order if shapes[i].covers(shapely.Point(point))), None) for point in points
    ]


def community_box(index: int, n: int) -> shapely.Polygon:
    x0, north = EXACT_ORIGIN
    west = x0 + index * n * EXACT_STEP
    return shapely.box(west, north - n * EXACT_STEP, west + n * EXACT_STEP, north)


# --- Tests -------------------------------------------------------------------------------------


def test_export_is_a_clean_partition_of_the_communities(tmp_path):
    version = exact_grid_version(n=3, communities=2)
    export(version, tmp_path)
    properties, shapes = read_cells(tmp_path)
    assert len(shapes) == version.cell_count == 24
    assert all(s.is_valid and s.geom_type == "MultiPolygon" and s.area > 0 for s in shapes)
    for index, code in enumerate(["330211001001", "330211001002"]):
        mine = [s for p, s in zip(properties, shapes, strict=True) if p["community_code"] == code]
        union = shapely.union_all(mine)
        boundary = community_box(index, 3)
        assert union.symmetric_difference(boundary).area == 0 and union.equals(boundary), code
    assert overlapping_pairs(shapes) == []
    assert shapely.union_all(shapes).equals(shapely.union_all([community_box(0, 3), community_box(1, 3)]))


def test_lookups_agree_with_the_export_on_random_edge_and_corner_points(tmp_path):
    version = exact_grid_version(n=3, communities=2)
    export(version, tmp_path)
    properties, shapes = read_cells(tmp_path)
    rng = random.Random(7)
    x0, north = EXACT_ORIGIN
    width, height = 6 * EXACT_STEP, 3 * EXACT_STEP
    points = [(rng.uniform(x0 - width / 10, x0 + width * 1.1), rng.uniform(north - height * 1.2, north + height / 5))
              for _ in range(300)]  # fmt: skip
    points += exact_edge_points(3, communities=2)
    expected = lowest_covering(properties, shapes, points)
    assert None in expected and len(set(expected)) == 25  # every cell, and outside
    assert [getattr(selectors.cell_lookup(lng=x, lat=y), "code", None) for x, y in points] == expected
    assert selectors.cells_lookup_batch(points=points) == expected


def test_coordinates_properties_and_order_are_as_stored(tmp_path):
    # Coordinates must survive to the bit: JSON floats are written with repr() and parsed back exactly.
    version = square_grid_version(n=3)
    export(version, tmp_path)
    properties, _ = read_cells(tmp_path)
    collection = json.loads((tmp_path / "cells.geojson").read_text(encoding="utf-8"))
    cells = list(version.cells.order_by("code"))
    assert properties == [{"code": c.code, "community_code": "330211001001", "area_m2": 10_700.0} for c in cells]
    for feature, cell in zip(collection["features"], cells, strict=True):
        stored = json.loads(json.dumps(cell.geometry.coords))  # tuples to lists, floats untouched
        assert feature["geometry"] == {"type": "MultiPolygon", "coordinates": stored}


def test_crosswalk_is_sorted_by_cell_department_and_layer_code(tmp_path):
    version = square_grid_version(n=2)
    sz, sz_layer = Department.objects.get(code="SZ"), layer("SZ")
    first = version.cells.get(code="330211001001001")
    for code, share in (("SZ-9", 0.1), ("SZ-10", 0.6), ("SZ-2", 0.3)):
        polygon = LayerPolygon.objects.create(layer=sz_layer, code=code, geometry=first.geometry)
        CrosswalkEntry.objects.create(cell=first, department=sz, polygon=polygon, share=share)
    export(version, tmp_path)
    with open(tmp_path / "crosswalk.csv", newline="", encoding="utf-8") as source:
        rows = list(csv.reader(source))
    assert rows == [
        ["cell_code", "department", "layer_cell_code", "share"],
        ["330211001001001", "CG", "CG-0001", "1.0"],
        ["330211001001001", "SZ", "SZ-10", "0.6"],
        ["330211001001001", "SZ", "SZ-2", "0.3"],
        ["330211001001001", "SZ", "SZ-9", "0.1"],
        ["330211001001002", "CG", "CG-0002", "1.0"],
        ["330211001001003", "CG", "CG-0003", "1.0"],
        ["330211001001004", "CG", "CG-0004", "1.0"],
    ]


def test_conflicts_are_pretty_printed_utf8(tmp_path):
    version = square_grid_version(n=1)
    ring = [[121.5, 29.999], [121.5005, 29.999], [121.5005, 29.9995], [121.5, 29.999]]
    gap = {"type": "Polygon", "coordinates": [ring]}
    store_conflicts(version, {"summary": {"gap": 1}, "items": [
        {"kind": "gap", "department": "CG", "community": "330211001001", "area_m2": 12.5, "geometry": gap},
        {"kind": "sliver_merged", "cell": "330211001001001", "area_m2": 3.25},
    ]})  # fmt: skip
    export(version, tmp_path)
    text = (tmp_path / "conflicts.json").read_bytes().decode("utf-8")
    assert text.endswith("}\n") and '\n  "summary": {\n' in text  # indented, one key a line
    assert json.loads(text) == {
        "version": version.pk,
        "summary": {"gap": 1},
        "items": [
            {"kind": "gap", "department": "CG", "polygons": [], "area_m2": 12.5, "community": "330211001001",
             "cell": None, "geometry": gap},
            {"kind": "sliver_merged", "department": None, "polygons": [], "area_m2": 3.25, "community": None,
             "cell": "330211001001001", "geometry": None},
        ],
    }  # fmt: skip


def test_summary_files_and_a_second_export_replacing_the_first(tmp_path):
    version = square_grid_version(n=2)
    out = export(version, tmp_path / "new" / "dir")
    assert out == (
        f"Grid version {version.pk}: 4 cells, 4 crosswalk rows → {tmp_path / 'new' / 'dir'} "
        "(cells.geojson, crosswalk.csv, conflicts.json).\n"
    )
    version.cells.filter(code__endswith="004").delete()
    export(version, tmp_path / "new" / "dir")
    assert sorted(p.name for p in (tmp_path / "new" / "dir").iterdir()) == [
        "cells.geojson", "conflicts.json", "crosswalk.csv",
    ]  # fmt: skip
    assert len(read_cells(tmp_path / "new" / "dir")[1]) == 3


def test_a_version_without_cells_exports_empty_files(tmp_path):
    version = GridVersion.objects.create(sliver_area_m2=50, input_digest="empty")
    export(version, tmp_path)
    assert json.loads((tmp_path / "cells.geojson").read_text()) == {"type": "FeatureCollection", "features": []}
    assert (tmp_path / "crosswalk.csv").read_text() == "cell_code,department,layer_cell_code,share\n"
    assert json.loads((tmp_path / "conflicts.json").read_text()) == {"version": version.pk, "summary": {}, "items": []}


def test_unknown_version_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="No grid version 424242"):
        call_command("export_grid", "424242", "--out", str(tmp_path))


def test_unwritable_directory_is_a_clear_error_and_leaves_nothing(tmp_path):
    version = square_grid_version(n=1)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for target in (blocker, blocker / "below"):
        with pytest.raises(CommandError, match="Cannot write the export to"):
            export(version, target)
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]


def test_an_engine_built_version_of_the_messy_demo_city_exports_a_partition_lookups_agree_with(tmp_path):
    # The "done": any unified version, exported, is a clean partition checked with
    # shapely alone, and lookups agree with the files for every point, vertices included.
    city = generate_city(seed=5, polygons_per_layer=12)
    files = write_city(city, tmp_path / "city")
    services.jurisdiction_import(path=files.jurisdiction)
    for code, path in sorted(files.layers.items()):
        services.layer_import(department=Department.objects.get(code=code), path=path)
    version = services.grid_version_activate(version=grid_unify(commit=True).version)
    export(version, tmp_path / "out")
    properties, shapes = read_cells(tmp_path / "out")
    assert len(shapes) == version.cell_count > 100
    assert all(s.is_valid for s in shapes)
    assert max((area for _, _, area in overlapping_pairs(shapes)), default=0) < 1e-15  # degrees², i.e. < 1e-5 m²
    district = shapely.union_all([c.geometry for c in city.communities])
    assert shapely.union_all(shapes).symmetric_difference(district).area < 1e-14
    # Every vertex of every cell (shared corners and edge nodes), and random points in and around the city.
    vertices = {tuple(xy) for s in shapes for xy in shapely.get_coordinates(s).tolist()}
    rng = random.Random(11)
    minx, miny, maxx, maxy = district.bounds
    points = sorted(vertices)[::3] + [(rng.uniform(minx - 0.002, maxx + 0.002), rng.uniform(miny - 0.002, maxy + 0.002))
                                      for _ in range(500)]  # fmt: skip
    expected = lowest_covering(properties, shapes, points)
    assert None in expected
    assert selectors.cells_lookup_batch(points=points) == expected
    sample = points[:: max(1, len(points) // 400)]
    assert [getattr(selectors.cell_lookup(lng=x, lat=y), "code", None) for x, y in sample] == [
        expected[points.index(p)] for p in sample
    ]
