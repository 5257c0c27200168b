"""Reads of the unified grid: which cell holds a point, and who answers for a cell.

Coordinates are WGS84 longitude/latitude everywhere (the storage SRID), so
nothing here transforms. A point on a shared edge or corner is covered by every
cell touching it; the lowest code wins, in SQL (`Cell.objects.covering`) and in
the in-memory index alike, so a single lookup and a batch never disagree.
"""

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import AsWKB
from django.contrib.gis.geos import Polygon
from django.db import connections, router
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from governance.models import DEPARTMENT_ROLES, Department, Region
from governance.selectors import profile_of, role_of
from grids.models import Cell, CellAssignment, ConflictItem, CrosswalkEntry, GridVersion, Layer, LayerPolygon
from grids.validation import check_point

logger = logging.getLogger(__name__)


def active_version() -> GridVersion | None:
    return GridVersion.objects.active().first()


def grid_versions() -> QuerySet[GridVersion]:
    return GridVersion.objects.prefetch_related("layers__department").order_by("-id")


def conflict_summary(version: GridVersion) -> dict[str, int]:
    """Counts per conflict kind, as the engine's report summarises them (empty for a clean run)."""
    summary = (version.conflicts or {}).get("summary") or {}
    return {str(kind): int(count) for kind, count in summary.items()}


def validate_point(*, lng: float, lat: float) -> tuple[float, float]:
    """(lng, lat) as finite WGS84 floats, or ValueError (GeometryError, with its field) saying what is wrong."""
    return check_point(lng=lng, lat=lat)


def cell_lookup(*, lng: float, lat: float, version: GridVersion | None = None) -> Cell | None:
    """The cell of `version` (default: the active one) whose closed area holds the point.

    The same answer as `Cell.objects.filter(version=…).covering(point).first()`,
    in hand-written SQL: building and compiling that queryset costs ~1 ms,
    five times the indexed query itself, and lookups sit on the intake path of
    every case. The geometry is not fetched (cell.geometry loads it on use).
    """
    lng, lat = validate_point(lng=lng, lat=lat)
    connection = connections[router.db_for_read(Cell)]
    spatialite = getattr(connection.ops, "spatialite", False)
    indexed = spatialite and _spatialite_index_enabled(connection)
    sql = _covering_sql(spatialite=spatialite, indexed=indexed, active=version is None)
    point = [lng, lat, settings.STORAGE_SRID]
    params = ([] if version is None else [version.pk]) + (point if indexed else []) + point
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return Cell.from_db(connection.alias, _LOOKUP_ATTNAMES, row) if row else None


_LOOKUP_FIELDS = [field for field in Cell._meta.concrete_fields if field.name != "geometry"]
_LOOKUP_ATTNAMES = [field.attname for field in _LOOKUP_FIELDS]


@functools.cache
def _covering_sql(*, spatialite: bool, indexed: bool, active: bool) -> str:
    """SELECT the lowest-coded cell covering the point %s, %s (srid %s), of one version or the active one."""
    cells, versions = Cell._meta.db_table, GridVersion._meta.db_table
    columns = ", ".join(f'c."{field.column}"' for field in _LOOKUP_FIELDS)
    if active:
        # A scalar subquery plans faster than a join on PostGIS (~20 µs). The status is a
        # literal, not a parameter: SQLite re-prepares a statement on every call when a
        # bound value is what makes the partial index one_active_grid_version usable
        # (+60 µs a lookup, half the query).
        active_id = f"SELECT id FROM \"{versions}\" WHERE status = '{GridVersion.Status.ACTIVE.value}'"
        where = [f"c.version_id = ({active_id})"]
    else:
        where = ["c.version_id = %s"]
    if indexed:
        where.append(f"c.ROWID IN ({_spatialite_index_sql('MakePoint(%s, %s, %s)')})")
    if spatialite:
        # Covers() answers -1 on error; GeoDjango's own lookup tests > 0 likewise.
        where.append("Covers(c.geometry, MakePoint(%s, %s, %s)) > 0")
    else:
        # ST_Covers carries the && bounding-box test that lets the planner use the GiST index.
        where.append("ST_Covers(c.geometry, ST_SetSRID(ST_MakePoint(%s, %s), %s))")
    return f'SELECT {columns} FROM "{cells}" c WHERE {" AND ".join(where)} ORDER BY c.code LIMIT 1'


def version_cells(
    *, version: GridVersion, community_code: str | None = None, bbox: tuple[float, float, float, float] | None = None
) -> QuerySet[Cell]:
    """The version's cells by code; with a bbox (minx, miny, maxx, maxy), those that intersect it."""
    cells = Cell.objects.filter(version=version).select_related("community").order_by("code")
    if community_code:
        cells = cells.filter(community__code=community_code)
    if bbox is not None:
        cells = _spatial_index_candidates(cells, frame_sql="BuildMbr(%s, %s, %s, %s, %s)", params=bbox)
        cells = cells.filter(geometry__intersects=Polygon.from_bbox(bbox))
    return cells


def _spatial_index_candidates(cells: QuerySet[Cell], *, frame_sql: str, params: Sequence[float]) -> QuerySet[Cell]:
    """On SpatiaLite, narrow `cells` to the R*Tree candidates of a search frame (see _spatialite_index_sql)."""
    connection = connections[cells.db]
    if not getattr(connection.ops, "spatialite", False) or not _spatialite_index_enabled(connection):
        return cells
    return cells.filter(pk__in=RawSQL(_spatialite_index_sql(frame_sql), (*params, settings.STORAGE_SRID)))


def _spatialite_index_sql(frame_sql: str) -> str:
    """The ROWIDs of cells whose box meets the frame, from SpatiaLite's R*Tree.

    SpatiaLite never consults a spatial index on its own: a plain
    `geometry__covers` tests every cell of the version (~100 ms at 100,000
    cells). The index is reached through the SpatialIndex virtual table; the
    R*Tree keeps float32 boxes rounded outwards, so no cell touching the frame
    is missed, and the exact predicate still decides. PostGIS needs none of
    this: ST_Covers and ST_Intersects use its GiST index by themselves.
    """
    return (
        f"SELECT ROWID FROM SpatialIndex WHERE f_table_name = '{Cell._meta.db_table}' "
        f"AND f_geometry_column = 'geometry' AND search_frame = {frame_sql}"
    )


# (alias, database name) -> whether grids_cell.geometry has a live R*Tree. Read once
# per database: it changes only by migration, and a query per lookup would cost
# as much as the lookup.
_spatialite_index_state: dict[tuple[str, str], bool] = {}


def _spatialite_index_enabled(connection) -> bool:
    key = (connection.alias, str(connection.settings_dict["NAME"]))
    if key not in _spatialite_index_state:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT spatial_index_enabled FROM geometry_columns "
                "WHERE f_table_name = %s AND f_geometry_column = 'geometry'",
                [Cell._meta.db_table],
            )
            row = cursor.fetchone()
        # Querying SpatialIndex on a column whose index is disabled answers "no rows",
        # not an error: a lookup through it would find no cell anywhere. Django's
        # SpatiaLite backend loses the index when a migration rebuilds the table.
        _spatialite_index_state[key] = enabled = bool(row and row[0] == 1)
        if not enabled:
            logger.warning(
                "%s.geometry has no SpatiaLite spatial index: every lookup tests every cell of the version. "
                "Restore it with SELECT CreateSpatialIndex('%s', 'geometry').",
                Cell._meta.db_table,
                Cell._meta.db_table,
            )
    return _spatialite_index_state[key]


class CellIndex:
    """All cells of one version in memory, for lookups of many points at once.

    Cells are held in code order, so among the cells covering a point the
    lowest position is the lowest code: the rule of `Cell.objects.covering`.
    """

    def __init__(self, *, codes: Sequence[str], geometries: Sequence[shapely.Geometry]):
        self.codes = np.asarray(list(codes) + [None], dtype=object)  # the last slot answers "no cell"
        self.geometries = np.asarray(geometries, dtype=object)
        self.tree = shapely.STRtree(self.geometries)
        # Prepared once: each covers() test then walks an indexed ring, not every vertex.
        shapely.prepare(self.geometries)

    @classmethod
    def load(cls, version: GridVersion) -> "CellIndex":
        # WKB straight from the database: exact coordinates, and no GEOSGeometry per row.
        rows = Cell.objects.filter(version=version).order_by("code").annotate(wkb=AsWKB("geometry"))
        codes, blobs = [], []
        for code, wkb in rows.values_list("code", "wkb").iterator(chunk_size=10_000):
            codes.append(code)
            blobs.append(bytes(wkb))
        return cls(codes=codes, geometries=shapely.from_wkb(blobs) if blobs else [])

    def __len__(self) -> int:
        return len(self.geometries)

    def lookup(self, points: Sequence[tuple[float, float]]) -> list[str | None]:
        """The code covering each (lng, lat) point, or None; in the order given."""
        coordinates = _validated_coordinates(points)
        if not len(coordinates) or not len(self):
            return [None] * len(coordinates)
        queries = shapely.points(coordinates)
        # The tree narrows by bounding box; covers() on the prepared cells decides exactly.
        which, candidates = self.tree.query(queries)
        hit = shapely.covers(self.geometries[candidates], queries[which])
        which, candidates = which[hit], candidates[hit]
        best = np.full(len(coordinates), len(self), dtype=np.intp)
        np.minimum.at(best, which, candidates)
        return self.codes[best].tolist()


def _validated_coordinates(points: Sequence[tuple[float, float]]) -> np.ndarray:
    try:
        coordinates = np.asarray(points, dtype=float) if len(points) else np.empty((0, 2))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"points must be a sequence of (lng, lat) number pairs: {exc}") from None
    if coordinates.ndim != 2 or coordinates.shape[1] != 2:
        raise ValueError(f"points must be a sequence of (lng, lat) pairs, got an array of shape {coordinates.shape}.")
    bad = ~np.isfinite(coordinates).all(axis=1)
    bad |= (np.abs(coordinates[:, 0]) > 180) | (np.abs(coordinates[:, 1]) > 90)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"point {first} {tuple(coordinates[first])} is not a finite (lng, lat) "
            f"within -180..180, -90..90; {int(bad.sum())} such point(s) in all."
        )
    return coordinates


# Published versions never change, so their index can live as long as the
# process. The key carries created_at because SQLite reuses the id of a
# version whose insert was rolled back (tests do that all the time).
_INDEX_CACHE_SIZE = 4
_index_cache: OrderedDict[tuple, CellIndex] = OrderedDict()
_index_lock = threading.Lock()


def cell_index(*, version: GridVersion) -> CellIndex:
    """The in-memory index of a version; cached unless it is a draft, which may still change."""
    if not version.is_published:
        return CellIndex.load(version)
    key = (version.pk, version.created_at)
    with _index_lock:
        if key in _index_cache:
            _index_cache.move_to_end(key)
            return _index_cache[key]
    index = CellIndex.load(version)  # outside the lock: ~0.4 s at 100,000 cells
    with _index_lock:
        _index_cache[key] = index
        while len(_index_cache) > _INDEX_CACHE_SIZE:
            _index_cache.popitem(last=False)
    return index


def cells_lookup_batch(
    *, points: Sequence[tuple[float, float]], version: GridVersion | None = None
) -> list[str | None]:
    """The cell code for each (lng, lat) point, exactly as cell_lookup() answers it one by one."""
    version = version or active_version()
    if version is None:
        return [None] * len(_validated_coordinates(points))
    return cell_index(version=version).lookup(points)


def cell_crosswalk(cell: Cell) -> QuerySet[CrosswalkEntry]:
    """Which departmental polygon(s) the cell lies in, by department, largest share first."""
    return _crosswalk_entries().filter(cell=cell)


def _crosswalk_entries() -> QuerySet[CrosswalkEntry]:
    return CrosswalkEntry.objects.select_related("department", "polygon").order_by(
        "department__code", "-share", "polygon__code"
    )


def cell_detail(*, code: str, version: GridVersion) -> Cell | None:
    """One cell with its community, fallback owner, crosswalk (as cell_crosswalk) and assignments."""
    assignments = CellAssignment.objects.select_related("user").order_by("duty", "user__username")
    return (
        Cell.objects.filter(version=version, code=code)
        .select_related("community", "fallback_owner")
        .prefetch_related(Prefetch("crosswalk", queryset=_crosswalk_entries()), Prefetch("assignments", assignments))
        .first()
    )


def responsible_units(*, cell: Cell, department: Department) -> list[LayerPolygon]:
    """The department's unit(s) answering for the cell, the one holding most of it first."""
    entries = (
        CrosswalkEntry.objects.filter(cell=cell, department=department)
        .select_related("polygon")
        .order_by("-share", "polygon__code")
    )
    return [entry.polygon for entry in entries]


@dataclass(frozen=True)
class CellAssignees:
    leader: AbstractBaseUser | None
    workers: list[AbstractBaseUser]


def cell_assignees(cell: Cell) -> CellAssignees:
    assignments = CellAssignment.objects.filter(cell=cell).select_related("user").order_by("user__username")
    leader = next((a.user for a in assignments if a.duty == CellAssignment.Duty.LEADER), None)
    workers = [a.user for a in assignments if a.duty == CellAssignment.Duty.WORKER]
    return CellAssignees(leader=leader, workers=workers)


# --- Who sees which layers and conflicts ------------------------------------------


def layers_visible_to(user, queryset=None):
    """Department staff see their own department's layers; others with grids.view_layer see all."""
    queryset = Layer.objects.all() if queryset is None else queryset
    if not user.has_perm("grids.view_layer"):
        return queryset.none()
    if role_of(user) in DEPARTMENT_ROLES:
        profile = profile_of(user)
        return queryset.filter(department_id=profile.department_id if profile else None)
    return queryset


def current_layers_visible_to(user):
    """Each visible department's latest layer version."""
    latest = Layer.objects.filter(department=OuterRef("department")).order_by("-version").values("version")[:1]
    return layers_visible_to(user).filter(version=Subquery(latest)).select_related("department")


def jurisdiction_extent() -> tuple[float, float, float, float] | None:
    """The box (WGS84) around all community boundaries, or None before any are loaded."""
    communities = Region.objects.filter(level=Region.Level.COMMUNITY, boundary__isnull=False)
    return communities.aggregate(box=Extent("boundary"))["box"]


def layer_import_departments(user):
    """Departments the user may import a layer for: department staff their own, system admins any."""
    if not user.has_perm("grids.add_layer"):
        return Department.objects.none()
    if role_of(user) in DEPARTMENT_ROLES:
        profile = profile_of(user)
        return Department.objects.filter(pk=profile.department_id if profile else None)
    return Department.objects.filter(is_active=True)


def conflict_items_visible_to(user, version: GridVersion) -> QuerySet[ConflictItem]:
    """Department staff review their own department's items and those of no department (slivers)."""
    items = version.conflict_items.order_by("number")
    if role_of(user) in DEPARTMENT_ROLES:
        profile = profile_of(user)
        own = profile.department.code if profile and profile.department_id else ""
        items = items.filter(department_code__in=sorted({own, ""}))
    return items
