"""grids.selectors: point → cell (one and many), and what a cell answers to."""

import math
import random

import pytest
import shapely
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection

from governance.models import Department
from grids import selectors
from grids.models import Cell, CellAssignment, CrosswalkEntry, GridVersion, LayerPolygon
from tests.conftest import ON_POSTGIS
from tests.factories import UserFactory, community
from tests.grids.factories import ORIGIN, STEP, cell_centre, layer, square, square_grid_version

pytestmark = pytest.mark.django_db

# A dyadic grid: 2^-10 degrees (~100 m) from x = 121.5, y = 30.0. Every vertex,
# and every point on an edge below, is exact in binary, so "on the edge" means
# exactly on it for GEOS, PostGIS and SpatiaLite alike.
EXACT_STEP = 2.0**-10
EXACT_ORIGIN = (121.5, 30.0)  # west, north


def exact_grid_version(*, n: int = 3, status: str = GridVersion.Status.ACTIVE, communities: int = 1) -> GridVersion:
    """Communities side by side west→east, each n × n cells whose last row is cut along
    each square's SW→NE diagonal into two triangles.

    Codes run west→east, north→south within a community; a split square gives
    its north-west triangle the lower code: 1 2 3 / 4 5 6 / 7a 7b 8a 8b 9a 9b
    for n = 3.
    """
    version = GridVersion.objects.create(status=status, sliver_area_m2=50, input_digest="exact", cell_count=0)
    x_origin, north = EXACT_ORIGIN
    for index in range(communities):
        area = community(f"330211001{index + 1:03d}", f"社区{index + 1}")
        x0 = x_origin + index * n * EXACT_STEP
        xs = [x0 + i * EXACT_STEP for i in range(n + 1)]
        ys = [north - j * EXACT_STEP for j in range(n + 1)]
        area.boundary = square(x0, ys[n], n * EXACT_STEP)
        area.save(update_fields=["boundary"])
        shapes = []
        for row in range(n):
            for col in range(n):
                w, e, s, nn = xs[col], xs[col + 1], ys[row + 1], ys[row]
                if row < n - 1:
                    shapes.append(((w, s), (e, s), (e, nn), (w, nn), (w, s)))
                else:
                    shapes.append(((w, s), (e, nn), (w, nn), (w, s)))  # north-west half
                    shapes.append(((w, s), (e, s), (e, nn), (w, s)))  # south-east half
        for sequence, ring in enumerate(shapes, start=1):
            Cell.objects.create(
                version=version, code=f"{area.code}{sequence:03d}", community=area,
                geometry=MultiPolygon(Polygon(ring), srid=4326), area_m2=10_000.0,
            )  # fmt: skip
    version.cell_count = version.cells.count()
    version.save(update_fields=["cell_count"])
    return version


def exact_edge_points(n: int = 3, communities: int = 1) -> list[tuple[float, float]]:
    """Points exactly on every grid line, at every corner and on every diagonal of exact_grid_version()."""
    x0, north = EXACT_ORIGIN
    columns = n * communities
    points = []
    for i in range(columns + 1):
        for j in range(n + 1):
            points.append((x0 + i * EXACT_STEP, north - j * EXACT_STEP))  # corners
            for k in range(1, 8):  # along the lines, eighths of a cell
                if j < n:
                    points.append((x0 + i * EXACT_STEP, north - (j + k / 8) * EXACT_STEP))
                if i < columns:
                    points.append((x0 + (i + k / 8) * EXACT_STEP, north - j * EXACT_STEP))
    south = north - n * EXACT_STEP
    for col in range(columns):
        for k in range(1, 8):
            points.append((x0 + (col + k / 8) * EXACT_STEP, south + k / 8 * EXACT_STEP))  # diagonals
    return points


def shapely_truth(version: GridVersion, points) -> list[str | None]:
    """The rule, computed by GEOS in memory: the lowest code among the cells covering the point."""
    cells = [(cell.code, shapely.from_wkb(bytes(cell.geometry.wkb))) for cell in version.cells.order_by("code")]
    return [next((code for code, shape in cells if shape.covers(shapely.Point(p))), None) for p in points]


def code_at(lng, lat, version=None):
    cell = selectors.cell_lookup(lng=lng, lat=lat, version=version)
    return cell.code if cell else None


def test_centre_of_each_cell_finds_that_cell():
    version = square_grid_version(n=3)
    for sequence in range(1, 10):
        lng, lat = cell_centre(sequence)
        cell = selectors.cell_lookup(lng=lng, lat=lat)
        assert cell.code == f"330211001001{sequence:03d}"
        assert cell.version_id == version.pk and cell.community.code == "330211001001"


def test_geometry_is_loaded_on_use():
    square_grid_version(n=1)
    cell = selectors.cell_lookup(lng=cell_centre(1, n=1)[0], lat=cell_centre(1, n=1)[1])
    assert cell.geometry.covers(Point(*cell_centre(1, n=1), srid=4326))


E, X0, N = EXACT_STEP, EXACT_ORIGIN[0], EXACT_ORIGIN[1]


@pytest.mark.parametrize(
    ("where", "lng", "lat", "sequence"),
    [
        ("edge between 1 and 2", X0 + E, N - E / 2, 1),
        ("edge between 2 and 3", X0 + 2 * E, N - E / 4, 2),
        ("edge between 1 and 4", X0 + E / 2, N - E, 1),
        ("edge between 5 and 8a/8b", X0 + 1.5 * E, N - 2 * E, 5),
        ("corner of 1, 2, 4, 5", X0 + E, N - E, 1),
        ("corner of 5, 6, 8a, 8b, 9a", X0 + 2 * E, N - 2 * E, 5),
        ("diagonal of 7", X0 + E / 2, N - 2.5 * E, 7),
        ("diagonal of 9", X0 + 2.25 * E, N - 2.75 * E, 11),
        ("corner of 7b, 8a, 8b on the south boundary", X0 + E, N - 3 * E, 8),
        ("west boundary of 1", X0, N - E / 2, 1),
        ("north-east corner of the grid", X0 + 3 * E, N, 3),
        ("inside 8b", X0 + 1.75 * E, N - 2.75 * E, 10),
    ],
)
def test_points_on_edges_and_corners_resolve_to_the_lowest_code(where, lng, lat, sequence):
    exact_grid_version(n=3)
    assert code_at(lng, lat) == f"330211001001{sequence:03d}", where


@pytest.mark.parametrize(
    ("lng", "lat"),
    [(X0 - 1e-9, N - E / 2), (X0 + E, N + 1e-12), (X0 + 3 * E + 1e-9, N - E), (0.0, 0.0), (-180.0, -90.0)],
)
def test_point_outside_every_cell_is_none(lng, lat):
    exact_grid_version(n=3)
    assert selectors.cell_lookup(lng=lng, lat=lat) is None
    assert selectors.cells_lookup_batch(points=[(lng, lat)]) == [None]


def test_every_edge_point_agrees_with_the_covering_queryset_and_geos():
    version = exact_grid_version(n=3)
    points = exact_edge_points(3)
    expected = shapely_truth(version, points)
    assert [code_at(*p) for p in points] == expected
    sample = points[::7]
    assert [getattr(version.cells.covering(Point(*p, srid=4326)).first(), "code", None) for p in sample] == [
        code_at(*p) for p in sample
    ]


def test_drafts_are_not_used_by_default():
    active = square_grid_version(n=2)
    draft = square_grid_version(n=3, status=GridVersion.Status.DRAFT, area=community("330211001002", "望湖社区"))
    lng, lat = cell_centre(1, n=2)
    assert code_at(lng, lat) == "330211001001001"
    assert code_at(lng, lat, version=draft) == "330211001002001"
    assert code_at(lng, lat, version=active) == "330211001001001"
    assert selectors.cells_lookup_batch(points=[(lng, lat)]) == ["330211001001001"]
    assert selectors.cells_lookup_batch(points=[(lng, lat)], version=draft) == ["330211001002001"]
    assert selectors.active_version() == active


def test_retired_versions_are_not_used_and_no_active_version_finds_nothing():
    square_grid_version(n=2, status=GridVersion.Status.RETIRED)
    lng, lat = cell_centre(1, n=2)
    assert selectors.active_version() is None
    assert selectors.cell_lookup(lng=lng, lat=lat) is None
    assert selectors.cells_lookup_batch(points=[(lng, lat), (lng, lat)]) == [None, None]


@pytest.mark.parametrize(
    ("lng", "lat", "message"),
    [
        (121.5, 91.0, "lat 91.0 is outside"),
        (121.5, -90.5, "lat -90.5 is outside"),
        (180.5, 30.0, "lng 180.5 is outside"),
        (math.nan, 30.0, "lng must be a finite number"),
        (121.5, math.inf, "lat must be a finite number"),
        ("121.5", 30.0, "lng must be a number"),
        (121.5, None, "lat must be a number"),
        (True, 30.0, "lng must be a number"),
    ],
)
@pytest.mark.usefixtures("english")  # the messages are translated; matched here in English
def test_bad_coordinates_are_refused_clearly(lng, lat, message):
    with pytest.raises(ValueError, match=message):
        selectors.cell_lookup(lng=lng, lat=lat)


@pytest.mark.parametrize(
    "points", [[(121.5, 30.0), (121.5, 95.0)], [(math.nan, 30.0)], [(1.0, 2.0, 3.0)], [("x", 1.0)], [(200.0, 0)]]
)
def test_batch_refuses_bad_points(points):
    square_grid_version(n=1)
    with pytest.raises(ValueError, match="point|points"):
        selectors.cells_lookup_batch(points=points)


def test_batch_of_nothing_is_empty():
    square_grid_version(n=1)
    assert selectors.cells_lookup_batch(points=[]) == []


def test_batch_equals_single_lookups_on_random_and_edge_points():
    version = exact_grid_version(n=4, communities=2)
    rng = random.Random(3)
    x0, north = EXACT_ORIGIN
    width, height = 8 * EXACT_STEP, 4 * EXACT_STEP
    points = [(rng.uniform(x0 - width / 8, x0 + width * 1.125), rng.uniform(north - height * 1.25, north + height / 4))
              for _ in range(400)]  # fmt: skip
    points += exact_edge_points(4, communities=2)
    single = [code_at(*p) for p in points]
    assert selectors.cells_lookup_batch(points=points) == single
    assert selectors.cells_lookup_batch(points=points, version=version) == single
    assert single == shapely_truth(version, points)
    assert None in single and {code[:12] for code in single if code} == {"330211001001", "330211001002"}


def test_batch_equals_single_where_neighbours_overlap_by_one_ulp():
    # The factory's squares are x0 + col*STEP wide from x0 + col*STEP, so some
    # neighbours overlap by one unit in the last place and others leave such a
    # gap: exactly where a lookup that is not the same rule would show.
    version = square_grid_version(n=4)
    x0, north = ORIGIN
    lines_x = sorted({x0 + i * STEP for i in range(5)} | {(x0 + i * STEP) + STEP for i in range(4)})
    lines_y = sorted({north - j * STEP for j in range(5)} | {(north - (j + 1) * STEP) + STEP for j in range(4)})
    rng = random.Random(4)
    points = [(x, y) for x in lines_x for y in lines_y]
    points += [(x, rng.uniform(north - 4 * STEP, north)) for x in lines_x for _ in range(5)]
    points += [(rng.uniform(x0, x0 + 4 * STEP), y) for y in lines_y for _ in range(5)]
    single = [code_at(*p) for p in points]
    assert selectors.cells_lookup_batch(points=points) == single
    assert single == shapely_truth(version, points)


def test_published_index_is_cached_and_a_draft_is_rebuilt():
    active = square_grid_version(n=2)
    assert selectors.cell_index(version=active) is selectors.cell_index(version=active)
    draft = square_grid_version(n=2, status=GridVersion.Status.DRAFT, area=community("330211001002", "望湖社区"))
    before = selectors.cells_lookup_batch(points=[cell_centre(1, n=2)], version=draft)
    draft.cells.filter(code="330211001002001").update(code="330211001002099")
    assert before == ["330211001002001"]
    assert selectors.cells_lookup_batch(points=[cell_centre(1, n=2)], version=draft) == ["330211001002099"]


def test_crosswalk_and_responsible_units_order_by_share():
    version = square_grid_version(n=1)
    cell = version.cells.get()
    cg, sz = Department.objects.get(code="CG"), Department.objects.get(code="SZ")
    sz_layer = layer("SZ")
    big, small = (
        LayerPolygon.objects.create(layer=sz_layer, code=code, name=name, geometry=cell.geometry)
        for code, name in (("SZ-B", "二片区"), ("SZ-A", "一片区"))
    )
    CrosswalkEntry.objects.create(cell=cell, department=sz, polygon=small, share=0.25)
    CrosswalkEntry.objects.create(cell=cell, department=sz, polygon=big, share=0.75)
    rows = [(e.department.code, e.polygon.code, e.polygon.name, e.share) for e in selectors.cell_crosswalk(cell)]
    assert rows == [("CG", "CG-0001", "1", 1.0), ("SZ", "SZ-B", "二片区", 0.75), ("SZ", "SZ-A", "一片区", 0.25)]
    assert [p.code for p in selectors.responsible_units(cell=cell, department=sz)] == ["SZ-B", "SZ-A"]
    assert [p.code for p in selectors.responsible_units(cell=cell, department=cg)] == ["CG-0001"]
    assert selectors.responsible_units(cell=cell, department=Department.objects.get(code="JT")) == []


def test_assignees_are_the_leader_and_the_workers():
    cell = square_grid_version(n=1).cells.get()
    assert selectors.cell_assignees(cell) == selectors.CellAssignees(leader=None, workers=[])
    lee, wu, wang = UserFactory(username="lee"), UserFactory(username="wu"), UserFactory(username="wang")
    CellAssignment.objects.create(cell=cell, user=lee, duty=CellAssignment.Duty.LEADER)
    CellAssignment.objects.create(cell=cell, user=wu, duty=CellAssignment.Duty.WORKER)
    CellAssignment.objects.create(cell=cell, user=wang, duty=CellAssignment.Duty.WORKER)
    assert selectors.cell_assignees(cell) == selectors.CellAssignees(leader=lee, workers=[wang, wu])


def test_versions_and_conflict_summary():
    old = square_grid_version(n=1, status=GridVersion.Status.RETIRED)
    new = square_grid_version(n=1)
    new.conflicts = {"summary": {"gap": 2, "self_overlap": 1}}
    new.save(update_fields=["conflicts"])
    assert list(selectors.grid_versions()) == [new, old]
    assert selectors.conflict_summary(new) == {"gap": 2, "self_overlap": 1}
    assert selectors.conflict_summary(old) == {}


def test_version_cells_filters_by_community_and_bbox():
    version = exact_grid_version(n=3)
    x0, north = EXACT_ORIGIN
    codes = [c.code[-3:] for c in selectors.version_cells(version=version)]
    assert codes == [f"{i:03d}" for i in range(1, 13)]
    # A box inside cell 5, and a small one around the corner shared by 1, 2, 4 and 5.
    inside_5 = (x0 + 1.25 * E, N - 1.75 * E, x0 + 1.75 * E, N - 1.25 * E)
    assert [c.code[-3:] for c in selectors.version_cells(version=version, bbox=inside_5)] == ["005"]
    tiny = E / 64
    corner = (x0 + E - tiny, N - E - tiny, x0 + E + tiny, N - E + tiny)
    assert [c.code[-3:] for c in selectors.version_cells(version=version, bbox=corner)] == ["001", "002", "004", "005"]
    assert not selectors.version_cells(version=version, community_code="330211001002").exists()
    assert selectors.version_cells(version=version, community_code="330211001001").count() == 12


@pytest.mark.skipif(ON_POSTGIS, reason="SpatiaLite's R*Tree path")
def test_spatialite_lookup_through_the_rtree_matches(monkeypatch):
    """Migrations leave grids_cell without a live R*Tree (see the module); once it is there, it is used."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CreateSpatialIndex('grids_cell', 'geometry')")  # rolled back with the test
    monkeypatch.setattr(selectors, "_spatialite_index_state", {})
    version = exact_grid_version(n=3)
    assert selectors._spatialite_index_enabled(connection)
    points = exact_edge_points(3)
    assert [code_at(*p) for p in points] == shapely_truth(version, points)
    inside_5 = (X0 + 1.25 * E, N - 1.75 * E, X0 + 1.75 * E, N - 1.25 * E)
    assert [c.code[-3:] for c in selectors.version_cells(version=version, bbox=inside_5)] == ["005"]
