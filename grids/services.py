"""Writes of the grids app: importing layers and communities, activating versions."""

import re
from pathlib import Path

import numpy as np
import shapely
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Department, Region, Role
from governance.selectors import role_of
from grids import conflicts, selectors
from grids.geometry import MetricFrame, from_geos, to_geos
from grids.importing import LayerImportError, read_polygons
from grids.models import Cell, CellAssignment, GridVersion, Layer, LayerPolygon

COMMUNITY_CODE = re.compile(r"\d{12}")
# Communities may touch; overlapping by more than this is a broken jurisdiction.
MAX_COMMUNITY_OVERLAP_M2 = 1.0
# A layer whose box misses the communities' box widened by this much (~10 km) belongs elsewhere.
JURISDICTION_MARGIN_DEG = 0.1


class GridVersionError(ValueError):
    """A version cannot make the requested move (e.g. activating a published one)."""


class AssignmentError(ValueError):
    """The person cannot take that duty in that cell."""


def layer_import(
    *, department: Department, path: Path, code_field: str = "code", name_field: str = "name", user=None,
    source_name: str = "",
) -> Layer:
    """Import one department's polygons as that department's next layer version.

    Runs in a Celery task when the upload comes from the web (grids.import_jobs);
    the management command runs it in the operator's own process.
    """
    source = read_polygons(path, code_field=code_field, name_field=name_field)
    warnings = _refuse_far_away(source)
    codes = [f.code for f in source.features]
    geometries = [f.geometry for f in source.features]
    frame = MetricFrame.around(geometries)
    items = [_problem_item(department.code, p) for p in source.problems]
    items += conflicts.self_overlaps(department.code, codes, geometries, frame)
    report = conflicts.summarise(conflicts.jsonable(items))
    report |= {"features": len(source.features), "skipped": _skipped(source.problems), "warnings": warnings}
    with transaction.atomic():
        # Lock the department row so two imports cannot take the same version number.
        Department.objects.select_for_update().get(pk=department.pk)
        latest = department.grid_layers.aggregate(n=Max("version"))["n"] or 0
        layer = Layer.objects.create(
            department=department, version=latest + 1, source_name=source_name or Path(path).name,
            source_format=source.format, source_srs=source.srs, imported_by=user, report=report,
        )  # fmt: skip
        LayerPolygon.objects.bulk_create(
            [
                LayerPolygon(layer=layer, code=f.code, name=f.name, geometry=to_geos(f.geometry), repaired=f.repaired)
                for f in source.features
            ],
            batch_size=1000,
        )
    return layer


def _refuse_far_away(source) -> list[str]:
    """A layer of another city is a wrong file (or a wrong CRS): refused, or a warning before communities exist."""
    extent = selectors.jurisdiction_extent()
    bounds = ", ".join(f"{v:.4f}" for v in source.bounds)
    if extent is None:
        return [
            _("No jurisdiction is loaded yet, so the layer's position (%(bounds)s) could not be checked.")
            % {"bounds": bounds}
        ]
    minx, miny, maxx, maxy = source.bounds
    x0, y0, x1, y1 = extent
    margin = JURISDICTION_MARGIN_DEG
    if maxx < x0 - margin or minx > x1 + margin or maxy < y0 - margin or miny > y1 + margin:
        raise LayerImportError(
            _("The layer (%(bounds)s) lies far outside the jurisdiction (%(extent)s): is it the right file, "
              "in the right coordinate system?")
            % {"bounds": bounds, "extent": ", ".join(f"{v:.4f}" for v in extent)}
        )  # fmt: skip
    return []


def _problem_item(department: str, problem: dict) -> dict:
    return {
        "kind": problem["kind"],
        "department": department,
        "polygons": [problem["code"]],
        "area_m2": 0.0,
        "community": None,
        "cell": None,
        "geometry": problem.get("geometry"),
        "message": problem["message"],
    }


def _skipped(problems: list[dict]) -> int:
    return sum(1 for p in problems if p["kind"] in ("no_geometry", "not_polygon", "empty"))


def jurisdiction_import(
    *,
    path: Path,
    code_field: str = "code",
    name_field: str = "name",
    street_name_field: str = "street_name",
    district_name_field: str = "district_name",
) -> dict:
    """Create or update communities from polygons; streets and districts follow from the code prefixes.

    Region boundaries are updated in place: grid versions keep their own cell
    geometries, so history does not move when a boundary is corrected.
    """
    source = read_polygons(
        path, code_field=code_field, name_field=name_field, extra_fields=(street_name_field, district_name_field)
    )
    bad = [f.code for f in source.features if not COMMUNITY_CODE.fullmatch(f.code)]
    if bad:
        raise LayerImportError(
            _("Community codes must have 12 digits (district 6 + street 3 + community 3): %(codes)s")
            % {"codes": ", ".join(bad[:10])}
        )
    _refuse_overlapping_communities(source.features)
    with transaction.atomic():
        counts = _upsert_hierarchy(source.features, street_name_field, district_name_field)
    return counts | {"problems": source.problems, "srs": source.srs}


def _refuse_overlapping_communities(features) -> None:
    geometries = [f.geometry for f in features]
    overlaps = conflicts.self_overlaps("", [f.code for f in features], geometries, MetricFrame.around(geometries))
    overlaps = [o for o in overlaps if o["area_m2"] > MAX_COMMUNITY_OVERLAP_M2]
    if overlaps:
        pairs = "; ".join(f"{o['polygons'][0]}/{o['polygons'][1]} ({o['area_m2']} m²)" for o in overlaps[:10])
        raise LayerImportError(_("Communities overlap each other: %(pairs)s") % {"pairs": pairs})


def _upsert_hierarchy(features, street_name_field: str, district_name_field: str) -> dict:
    by_street: dict[str, list] = {}
    for feature in features:
        by_street.setdefault(feature.code[:9], []).append(feature)
    districts: dict[str, list] = {}
    counts = {"districts": 0, "streets": 0, "communities": 0}
    for street_code, members in sorted(by_street.items()):
        district = _region(street_code[:6], members[0].extra.get(district_name_field), Region.Level.DISTRICT, None)
        street_shape = shapely.union_all(np.asarray([m.geometry for m in members], dtype=object))
        street = _region(street_code, members[0].extra.get(street_name_field), Region.Level.STREET, district,
                         street_shape)  # fmt: skip
        districts.setdefault(district.code, []).append(street_shape)
        for member in members:
            _region(member.code, member.name, Region.Level.COMMUNITY, street, member.geometry)
        counts["streets"] += 1
        counts["communities"] += len(members)
    for code, shapes in districts.items():
        Region.objects.filter(code=code).update(boundary=to_geos(shapely.union_all(np.asarray(shapes, dtype=object))))
        counts["districts"] += 1
    return counts


def _region(code: str, name: str | None, level: str, parent: Region | None, geometry=None) -> Region:
    region = Region.objects.filter(code=code).first() or Region(code=code, level=level, name=name or code)
    if name:
        region.name = name
    region.level, region.parent = level, parent
    if geometry is not None:
        region.boundary = to_geos(geometry)
    region.full_clean()
    region.save()
    return region


def grid_version_activate(*, version: GridVersion, user=None) -> GridVersion:
    """Make a draft the version lookups answer from; the active one retires. All or nothing."""
    with transaction.atomic():
        locked = GridVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status != GridVersion.Status.DRAFT:
            raise GridVersionError(
                _("Only a draft can be activated; version %(id)s is %(status)s.")
                % {"id": locked.pk, "status": locked.get_status_display()}
            )
        now = timezone.now()
        previous = GridVersion.objects.select_for_update().filter(status=GridVersion.Status.ACTIVE).first()
        # Retire first: the partial unique index allows one active row at any moment.
        GridVersion.objects.filter(status=GridVersion.Status.ACTIVE).update(
            status=GridVersion.Status.RETIRED, retired_at=now
        )
        locked.status, locked.activated_at = GridVersion.Status.ACTIVE, now
        locked.save(update_fields=["status", "activated_at"])
        if previous is not None:
            _carry_assignments(source=previous, target=locked)
    version.refresh_from_db()
    return version


def _carry_assignments(*, source: GridVersion, target: GridVersion) -> int:
    """Grid leaders and workers follow their ground into the new version.

    Each new cell takes the people of the old cell that covers its
    representative point: one old cell per new cell, so still one leader per
    cell, and a cell that was split keeps its people in every part. Cells the
    new version already staffed (assigned while it was a draft) are left alone.
    """
    old = list(
        Cell.objects.filter(version=source, assignments__isnull=False).distinct().prefetch_related("assignments")
    )
    if not old:
        return 0
    tree = shapely.STRtree(np.asarray([from_geos(cell.geometry) for cell in old], dtype=object))
    staffed = set(CellAssignment.objects.filter(cell__version=target).values_list("cell_id", flat=True))
    new = [cell for cell in target.cells.only("pk", "geometry") if cell.pk not in staffed]
    points = shapely.point_on_surface(np.asarray([from_geos(cell.geometry) for cell in new], dtype=object))
    new_index, old_index = tree.query(points, predicate="covered_by")
    taken, rows = set(), []
    for n, o in sorted(zip(new_index.tolist(), old_index.tolist(), strict=True)):
        if n in taken:
            continue  # a point on a shared old edge: the old cell with the lowest code wins
        taken.add(n)
        rows += [CellAssignment(cell=new[n], user_id=a.user_id, duty=a.duty) for a in old[o].assignments.all()]
    CellAssignment.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def cell_assign(*, cell: Cell, user, duty: str) -> CellAssignment:
    """Put a grid leader or worker in charge of a cell; a new leader replaces the old one."""
    wanted = {CellAssignment.Duty.LEADER: Role.GRID_LEADER, CellAssignment.Duty.WORKER: Role.GRID_WORKER}[duty]
    if role_of(user) != wanted:
        raise AssignmentError(_("%(user)s is not a %(role)s.") % {"user": user.get_username(), "role": wanted.label})
    if cell.version.status == GridVersion.Status.RETIRED:
        raise AssignmentError(_("Cell %(code)s belongs to a retired grid version.") % {"code": cell.code})
    with transaction.atomic():
        if duty == CellAssignment.Duty.LEADER:
            cell.assignments.filter(duty=duty).exclude(user=user).delete()
        assignment, _created = CellAssignment.objects.update_or_create(cell=cell, user=user, defaults={"duty": duty})
    return assignment
