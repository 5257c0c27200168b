"""Importing layers and communities, saving versions, activating them."""

import json

import pytest
import shapely
from django.db import IntegrityError, transaction

from governance.models import Department, Region, Role
from grids import services
from grids.geometry import from_geos
from grids.importing import LayerImportError
from grids.models import Cell, CellAssignment, CrosswalkEntry, GridVersion, Layer, LayerPolygon, PublishedVersionError
from grids.unify import UnificationError, grid_unify
from tests.factories import person
from tests.grids.partition import assert_partition

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
box = shapely.box
COMMUNITIES = [
    ("330211001001", "湖滨社区", box(121.50, 29.99, 121.51, 30.00)),
    ("330211001002", "桥头社区", box(121.51, 29.99, 121.52, 30.00)),
    ("330211002001", "新河社区", box(121.50, 29.98, 121.52, 29.99)),
]


def write(path, features, extra=None):
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"code": code, "name": name, **(extra or {})},
                     "geometry": json.loads(shapely.to_geojson(geometry))}
                    for code, name, geometry in features
                ],
            }
        )
    )  # fmt: skip
    return path


@pytest.fixture
def city(tmp_path):
    services.jurisdiction_import(path=write(tmp_path / "communities.geojson", COMMUNITIES))
    cg = [("CG-1", "", box(121.50, 29.98, 121.51, 30.00)), ("CG-2", "", box(121.51, 29.98, 121.52, 30.00))]
    services.layer_import(department=Department.objects.get(code="CG"), path=write(tmp_path / "cg.geojson", cg))
    return tmp_path


def test_jurisdiction_import_derives_streets_and_district(tmp_path):
    path = write(tmp_path / "c.geojson", COMMUNITIES, extra={"street_name": "东湖街道"})
    counts = services.jurisdiction_import(path=path)
    assert counts | {"problems": None, "srs": None} == {
        "districts": 1, "streets": 2, "communities": 3, "problems": None, "srs": None,
    }  # fmt: skip
    street = Region.objects.get(code="330211001")
    assert street.level == "street" and street.parent.code == "330211" and street.name == "东湖街道"
    assert from_geos(street.boundary).equals(box(121.50, 29.99, 121.52, 30.00))
    assert from_geos(Region.objects.get(code="330211").boundary).equals(box(121.50, 29.98, 121.52, 30.00))


def test_jurisdiction_refuses_bad_codes_and_overlaps(tmp_path):
    with pytest.raises(LayerImportError, match="12 digits"):
        services.jurisdiction_import(path=write(tmp_path / "a.geojson", [("33021100100", "x", box(0, 0, 1, 1))]))
    overlapping = [COMMUNITIES[0], ("330211001002", "x", box(121.505, 29.99, 121.52, 30.00))]
    with pytest.raises(LayerImportError, match="overlap"):
        services.jurisdiction_import(path=write(tmp_path / "b.geojson", overlapping))
    assert not Region.objects.filter(level="community").exists()


def test_reimport_makes_a_new_layer_version_and_keeps_the_old(city):
    cg = Department.objects.get(code="CG")
    again = services.layer_import(
        department=cg, path=write(city / "cg2.geojson", [("CG-9", "", box(121.50, 29.98, 121.52, 30.00))])
    )
    assert again.version == 2
    assert list(Layer.objects.filter(department=cg).values_list("version", flat=True)) == [2, 1]
    assert LayerPolygon.objects.filter(layer__version=1).count() == 2


def test_a_failed_import_saves_nothing(city):
    with pytest.raises(LayerImportError):
        services.layer_import(department=Department.objects.get(code="SZ"), path=city / "missing.geojson")
    assert not Layer.objects.filter(department__code="SZ").exists()


def test_unify_commit_saves_a_draft_that_is_a_partition(city):
    services.layer_import(
        department=Department.objects.get(code="SZ"),
        path=write(city / "sz.geojson", [("SZ-1", "", box(121.505, 29.985, 121.515, 29.995))]),
    )
    dry = grid_unify(sliver_area_m2=50)
    assert dry.version is None and not GridVersion.objects.exists()
    result = grid_unify(sliver_area_m2=50, commit=True)
    version = result.version
    assert version.status == GridVersion.Status.DRAFT and version.cell_count == Cell.objects.count()
    assert sorted(version.layers.values_list("department__code", flat=True)) == ["CG", "SZ"]
    cells = [(c.code, c.community.code, from_geos(c.geometry)) for c in version.cells.select_related("community")]
    assert_partition(cells, {code: geometry for code, _, geometry in COMMUNITIES})
    # Every cell lies in one CG polygon; only some in SZ's.
    assert CrosswalkEntry.objects.filter(department__code="CG").count() == version.cell_count
    assert 0 < CrosswalkEntry.objects.filter(department__code="SZ").count() < version.cell_count
    assert grid_unify(sliver_area_m2=50).same_as == version.pk
    # The report: counts on the version, one row per item, in the engine's order.
    assert set(version.conflicts) == {"summary"}
    assert version.conflict_items.count() == sum(version.conflicts["summary"].values()) > 0
    gaps = version.conflict_items.filter(kind="gap")
    assert gaps.exists() and all(g.department_code == "SZ" and g.geometry.area > 0 for g in gaps)
    assert list(version.conflict_items.values_list("number", flat=True)) == list(
        range(1, version.conflict_items.count() + 1)
    )


def test_uncovered_cells_fall_to_the_street_office(city):
    services.layer_import(
        department=Department.objects.get(code="CG"),
        path=write(city / "cg2.geojson", [("CG-1", "", box(121.50, 29.99, 121.51, 30.00))]),
    )
    version = grid_unify(commit=True).version
    fallback = version.cells.filter(fallback_owner__code="JD")
    assert set(fallback.values_list("community__code", flat=True)) == {"330211001002", "330211002001"}
    assert not version.cells.filter(fallback_owner__isnull=False, crosswalk__isnull=False).exists()


def test_activation_retires_the_active_version_atomically(city):
    first = grid_unify(commit=True).version
    services.grid_version_activate(version=first)
    second = grid_unify(commit=True).version
    services.grid_version_activate(version=second)
    first.refresh_from_db()
    assert (first.status, second.status) == ("retired", "active") and first.retired_at
    assert list(GridVersion.objects.active()) == [second]
    with pytest.raises(services.GridVersionError):
        services.grid_version_activate(version=first)
    with pytest.raises(services.GridVersionError):
        services.grid_version_activate(version=second)


def test_the_database_refuses_two_active_versions(city):
    one = grid_unify(commit=True).version
    two = grid_unify(commit=True).version
    services.grid_version_activate(version=one)
    two.status = GridVersion.Status.ACTIVE
    with pytest.raises(IntegrityError), transaction.atomic():
        two.save()


def test_unify_needs_communities_and_layers():
    with pytest.raises(UnificationError, match="jurisdiction"):
        grid_unify()
    with pytest.raises(UnificationError, match="sliver"):
        grid_unify(sliver_area_m2=-1)


def test_published_versions_cannot_be_changed_or_deleted(city):
    version = services.grid_version_activate(version=grid_unify(commit=True).version)
    cell = version.cells.first()
    cell.area_m2 = 1
    with pytest.raises(PublishedVersionError):
        cell.save()
    with pytest.raises(PublishedVersionError):
        version.delete()
    draft = grid_unify(commit=True).version
    draft.delete()  # a draft may go, with its cells
    assert not Cell.objects.filter(version_id=draft.pk).exists()


def test_people_follow_their_cells_into_the_next_version(city):
    leader = person("lee", Role.GRID_LEADER)
    worker = person("wang", Role.GRID_WORKER)
    first = services.grid_version_activate(version=grid_unify(commit=True).version)
    assigned = first.cells.get(code="330211001001001")
    services.cell_assign(cell=assigned, user=leader, duty="grid_leader")
    services.cell_assign(cell=assigned, user=worker, duty="grid_worker")
    # A new SZ polygon splits that cell in the next version.
    services.layer_import(
        department=Department.objects.get(code="SZ"),
        path=write(city / "sz.geojson", [("SZ-1", "", box(121.50, 29.99, 121.505, 30.00))]),
    )
    second = services.grid_version_activate(version=grid_unify(commit=True).version)
    inherited = CellAssignment.objects.filter(cell__version=second)
    parts = {a.cell for a in inherited}
    assert len(parts) == 2 and all(from_geos(assigned.geometry).covers(from_geos(c.geometry)) for c in parts)
    for part in parts:
        assert sorted(part.assignments.values_list("user__username", "duty")) == [
            ("lee", "grid_leader"), ("wang", "grid_worker"),
        ]  # fmt: skip
    # The retired version keeps its own rows: history does not move.
    assert assigned.assignments.count() == 2
