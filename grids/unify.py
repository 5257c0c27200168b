"""The unification engine (多格合一): many departmental layers → one coded partition.

Per community, independently:
1. node the community's boundary with every departmental polygon boundary
   clipped to it, and polygonize: the faces tile the community exactly, and no
   face crosses any polygon edge, so each face lies wholly inside or outside
   every departmental polygon;
2. dissolve neighbouring faces that lie in the same set of polygons;
3. merge slivers into the neighbour of the same community sharing the longest
   edge, smallest first: pieces under the area threshold, and long thin strips
   whose mean width (2 × area / perimeter) is under the width threshold —
   departments that trace the same street a few metres apart leave strips
   far larger than any area threshold that would spare real cells;
4. number the cells in reading order (rows north→south, west→east in a row);
5. measure the crosswalk: each cell's share in each departmental polygon.

Working per community makes "every cell inside exactly one community" true by
construction and keeps each noding problem small. Coordinates are never
rounded after import, so shared edges stay shared; the same input in the same
order gives byte-identical output.
"""

import hashlib
import heapq
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from django.utils.translation import gettext as _

from governance.models import Department, Region
from grids import conflicts
from grids.geometry import MetricFrame, from_geos, to_geos
from grids.models import Cell, ConflictItem, CrosswalkEntry, GridVersion, Layer

# Crosswalk shares below this are edge noise (a polygon grazing a cell).
MIN_SHARE = 1e-4
MAX_CELLS_PER_COMMUNITY = 999  # the code has three digits for the sequence
STORAGE_SRID = settings.STORAGE_SRID
FALLBACK_DEPARTMENT = "JD"  # street office: owns land no department covers (属地兜底)


class UnificationError(ValueError):
    """The inputs cannot be unified; the message says what to fix."""


@dataclass
class Inputs:
    community_codes: list[str]
    community_ids: list[int]
    communities: np.ndarray  # shapely geometries
    layer_ids: list[int]
    departments: list[str]  # per polygon
    department_ids: dict[str, int]
    polygon_ids: list[int]
    polygon_codes: list[str]
    polygons: np.ndarray
    import_items: list[dict]
    digest: str = ""


@dataclass
class UnifiedCell:
    code: str
    community_code: str
    community_id: int
    geometry: object
    area_m2: float
    crosswalk: list[tuple[int, float]] = field(default_factory=list)  # (polygon index, share)


@dataclass
class Result:
    cells: list[UnifiedCell]
    report: dict
    digest: str
    inputs: Inputs
    version: GridVersion | None = None
    same_as: int | None = None  # an existing version built from identical inputs


# --- loading ---------------------------------------------------------------------


def current_layers() -> list[Layer]:
    """The newest layer of every active department that has one."""
    newest = {}
    for layer in Layer.objects.filter(department__is_active=True).select_related("department").order_by("-version"):
        newest.setdefault(layer.department.code, layer)
    return [newest[code] for code in sorted(newest)]


def load_inputs(*, sliver_area_m2: float, sliver_width_m: float = 0.0) -> Inputs:
    communities = list(Region.objects.filter(level=Region.Level.COMMUNITY, boundary__isnull=False).order_by("code"))
    if not communities:
        raise UnificationError(_("No community has a boundary: import the jurisdiction first."))
    layers = current_layers()
    if not layers:
        raise UnificationError(_("No department has imported a layer yet."))
    inputs = Inputs(
        community_codes=[c.code for c in communities],
        community_ids=[c.pk for c in communities],
        communities=np.asarray([from_geos(c.boundary) for c in communities], dtype=object),
        layer_ids=[layer.pk for layer in layers],
        departments=[], department_ids={layer.department.code: layer.department_id for layer in layers},
        polygon_ids=[], polygon_codes=[], polygons=np.asarray([], dtype=object), import_items=[],
    )  # fmt: skip
    digest = hashlib.sha256(f"sliver={sliver_area_m2!r},{sliver_width_m!r}".encode())
    for community in communities:
        digest.update(community.code.encode() + bytes(community.boundary.wkb))
    polygons = []
    for layer in layers:
        digest.update(f"|{layer.department.code}v{layer.version}".encode())
        for polygon in layer.polygons.order_by("code", "pk"):
            inputs.departments.append(layer.department.code)
            inputs.polygon_ids.append(polygon.pk)
            inputs.polygon_codes.append(polygon.code)
            polygons.append(from_geos(polygon.geometry))
            digest.update(polygon.code.encode() + bytes(polygon.geometry.wkb))
        # The engine finds overlaps itself; repairs and other import problems are carried over.
        inputs.import_items += [
            item | {"kind": item["kind"] if item["kind"] in conflicts.KINDS else "other"}
            for item in layer.report.get("items", [])
            if item["kind"] != "self_overlap"
        ]
    inputs.polygons = np.asarray(polygons, dtype=object)
    inputs.digest = digest.hexdigest()
    return inputs


def inputs_from_geometries(communities: dict[str, object], layers: dict[str, list]) -> Inputs:
    """Engine inputs from plain shapely geometries, without a database (tests, benchmarks)."""
    departments, codes, polygons = [], [], []
    for department in sorted(layers):
        for n, geometry in enumerate(layers[department], start=1):
            departments.append(department)
            codes.append(f"{department}-{n:04d}")
            polygons.append(geometry)
    return Inputs(
        community_codes=sorted(communities),
        community_ids=list(range(1, len(communities) + 1)),
        communities=np.asarray([communities[c] for c in sorted(communities)], dtype=object),
        layer_ids=list(range(1, len(layers) + 1)),
        departments=departments,
        department_ids={d: n for n, d in enumerate(sorted(layers), start=1)},
        polygon_ids=list(range(1, len(polygons) + 1)),
        polygon_codes=codes,
        polygons=np.asarray(polygons, dtype=object),
        import_items=[],
        digest="in-memory",
    )


# --- the engine ----------------------------------------------------------------


def unify(
    inputs: Inputs,
    *,
    sliver_area_m2: float,
    sliver_width_m: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    frame = MetricFrame.around(inputs.communities)
    tree = shapely.STRtree(inputs.polygons)
    shapely.prepare(inputs.polygons)
    cells, sliver_items = [], []
    total = len(inputs.community_codes)
    for index, community in enumerate(inputs.communities):
        code = inputs.community_codes[index]
        pieces, slivers = _community_cells(community, inputs, tree, frame, (sliver_area_m2, sliver_width_m))
        order = _number([piece.geometry for piece in pieces], code, frame)
        codes = {n: f"{code}{position:03d}" for position, n in enumerate(order, start=1)}
        for n in order:
            piece = pieces[n]
            cells.append(UnifiedCell(codes[n], code, inputs.community_ids[index], piece.geometry,
                                     round(piece.area, 2), piece.crosswalk()))  # fmt: skip
        sliver_items += [
            conflicts.item("sliver_merged", department=None, polygons=[], area_m2=area, geometry=geometry,
                           community=code, cell=codes[target])
            for geometry, area, target in slivers
        ]  # fmt: skip
        if progress:
            progress(index + 1, total)
    report = conflicts.summarise(_conflicts(inputs, frame) + sliver_items)
    return Result(cells=cells, report=report, digest=inputs.digest, inputs=inputs)


def _community_cells(community, inputs: Inputs, tree, frame: MetricFrame, thresholds: tuple[float, float]):
    candidates = tree.query(community, predicate="intersects")
    lines = [community.boundary, *shapely.intersection(shapely.boundary(inputs.polygons[candidates]), community)]
    noded = shapely.union_all(np.asarray([line for line in lines if not line.is_empty], dtype=object))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.covered_by(shapely.point_on_surface(faces), community)
    faces = faces[inside]
    local = _signatures(faces, inputs.polygons[candidates])
    pieces, signatures = _dissolve(faces, [tuple(int(candidates[i]) for i in s) for s in local])
    return _merge_slivers(pieces, signatures, frame, *thresholds)


def _signatures(faces, polygons) -> list[tuple[int, ...]]:
    """For each face, the (local) indices of the polygons it lies in."""
    points = shapely.point_on_surface(faces)
    found = shapely.STRtree(polygons).query(points, predicate="within") if len(polygons) else np.empty((2, 0), int)
    signatures: list[list[int]] = [[] for _ in range(len(faces))]
    for face, polygon in zip(*found, strict=True):
        signatures[face].append(int(polygon))
    return [tuple(sorted(s)) for s in signatures]


def _dissolve(faces, signatures) -> tuple[list, list[tuple[int, ...]]]:
    """Union neighbouring faces with the same signature; each connected part becomes one piece."""
    groups: dict[tuple, list] = {}
    for face, signature in zip(faces, signatures, strict=True):
        groups.setdefault(signature, []).append(face)
    pieces, piece_signatures = [], []
    for signature in sorted(groups):
        members = groups[signature]
        merged = members[0] if len(members) == 1 else shapely.union_all(np.asarray(members, dtype=object))
        parts = shapely.get_parts(merged)
        pieces.extend(parts)
        piece_signatures.extend([signature] * len(parts))
    return pieces, piece_signatures


@dataclass
class Piece:
    """A cell in the making: its geometry, metric area, and the area of it inside each polygon."""

    geometry: object
    area: float
    inside: dict[int, float]  # global polygon index → m² of this piece inside that polygon

    def crosswalk(self) -> list[tuple[int, float]]:
        # Exact without any intersection: every face lies wholly inside or outside each polygon.
        shares = [(p, round(min(a / self.area, 1.0), 6)) for p, a in sorted(self.inside.items()) if self.area]
        return [(p, share) for p, share in shares if share >= MIN_SHARE]


def _merge_slivers(pieces: list, signatures: list, frame: MetricFrame, min_area: float, min_width: float = 0.0):
    """Merge slivers into the neighbour sharing the longest edge, smallest first.

    Returns the merged Pieces and, per merged sliver, (geometry, area, index of
    the merged piece that took it).
    """
    pieces = np.asarray(pieces, dtype=object)
    areas = frame.areas(pieces).tolist() if len(pieces) else []
    inside = [dict.fromkeys(signature, area) for signature, area in zip(signatures, areas, strict=True)]
    perimeters = frame.lengths(shapely.boundary(pieces)).tolist() if len(pieces) else []
    neighbours = _shared_edges(pieces, frame)

    def is_sliver(i: int) -> bool:
        return areas[i] < min_area or (min_width > 0 and 2 * areas[i] < min_width * perimeters[i])

    members = {i: [i] for i in range(len(pieces))}
    parent = list(range(len(pieces)))
    heap = [(area, i) for i, area in enumerate(areas) if is_sliver(i)]
    heapq.heapify(heap)
    slivers = []
    while heap:
        area, i = heapq.heappop(heap)
        if i not in members or area != areas[i] or not neighbours[i]:
            continue  # merged away already, a stale entry, or an island with nowhere to go
        # Longest shared edge wins; on a tie the lower index, so runs are repeatable.
        target = max(neighbours[i], key=lambda j: (neighbours[i][j], -j))
        slivers.append((_union(pieces, members[i]), area, target))
        _absorb(target, i, members, areas, perimeters, neighbours)
        for polygon, area_inside in inside[i].items():
            inside[target][polygon] = inside[target].get(polygon, 0.0) + area_inside
        parent[i] = target
        if is_sliver(target):
            heapq.heappush(heap, (areas[target], target))
    roots = sorted(members)
    position = {root: n for n, root in enumerate(roots)}
    merged = [Piece(_union(pieces, members[root]), areas[root], inside[root]) for root in roots]
    return merged, [(geometry, area, position[_find(parent, target)]) for geometry, area, target in slivers]


def _shared_edges(pieces, frame: MetricFrame) -> list[dict[int, float]]:
    neighbours: list[dict[int, float]] = [{} for _ in range(len(pieces))]
    if len(pieces) < 2:
        return neighbours
    left, right = shapely.STRtree(pieces).query(pieces, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    lengths = frame.lengths(shapely.intersection(shapely.boundary(pieces[left]), shapely.boundary(pieces[right])))
    for i, j, length in zip(left.tolist(), right.tolist(), lengths.tolist(), strict=True):
        if length > 0:
            neighbours[i][j] = neighbours[j][i] = length
    return neighbours


def _absorb(target: int, source: int, members, areas, perimeters, neighbours) -> None:
    members[target].extend(members.pop(source))
    areas[target] += areas[source]
    # The shared edge is inside the union now: it leaves both perimeters.
    perimeters[target] += perimeters[source] - 2 * neighbours[source][target]
    for other, length in neighbours[source].items():
        if other == target:
            continue
        neighbours[target][other] = neighbours[target].get(other, 0.0) + length
        neighbours[other][target] = neighbours[other].get(target, 0.0) + length
        del neighbours[other][source]
    neighbours[target].pop(source, None)
    neighbours[source] = {}


def _find(parent: list[int], index: int) -> int:
    # A sliver's target may itself have been merged later: follow to the group that holds it.
    while parent[index] != index:
        parent[index] = parent[parent[index]]
        index = parent[index]
    return index


def _union(pieces, indices: list[int]):
    if len(indices) == 1:
        return pieces[indices[0]]
    return shapely.union_all(pieces[sorted(indices)])


def _number(pieces: list, community_code: str, frame: MetricFrame) -> list[int]:
    """Indices of the pieces in reading order: rows north→south, west→east within a row.

    Rows are half as tall as the median cell, so the representative points of
    two cells stacked north-south always fall in different rows, while cells
    side by side usually share one and read west to east like text.
    """
    if len(pieces) > MAX_CELLS_PER_COMMUNITY:
        raise UnificationError(
            _("Community %(code)s would get %(n)d cells; codes allow 999. Raise the sliver threshold.")
            % {"code": community_code, "n": len(pieces)}
        )
    projected = frame.project(np.asarray(pieces, dtype=object))
    points = shapely.point_on_surface(projected)
    xs, ys = shapely.get_x(points).tolist(), shapely.get_y(points).tolist()
    bounds = shapely.bounds(projected)
    band = max(1.0, float(np.median(bounds[:, 3] - bounds[:, 1])) / 2)
    # Walk north to south; a point more than a band south of its row's first
    # point starts the next row. Unlike fixed bands this never splits two
    # cells at the same latitude on a band boundary.
    rows, row_top = [], None
    for i in sorted(range(len(pieces)), key=lambda i: (-ys[i], xs[i])):
        if row_top is None or row_top - ys[i] > band:
            rows.append([])
            row_top = ys[i]
        rows[-1].append(i)
    return [i for row in rows for i in sorted(row, key=lambda i: (xs[i], -ys[i]))]


def _conflicts(inputs: Inputs, frame: MetricFrame) -> list[dict]:
    items = list(inputs.import_items)
    jurisdiction = shapely.union_all(inputs.communities)
    departments = np.asarray(inputs.departments)
    codes = np.asarray(inputs.polygon_codes, dtype=object)
    for department in sorted(set(inputs.departments)):
        mine = np.flatnonzero(departments == department)
        geometries, mine_codes = inputs.polygons[mine], codes[mine].tolist()
        items += conflicts.self_overlaps(department, mine_codes, geometries, frame)
        items += conflicts.gaps(department, geometries, inputs.communities, inputs.community_codes, frame)
        items += conflicts.outside(department, mine_codes, geometries, jurisdiction, frame)
    return items


# --- the service -----------------------------------------------------------------


def grid_unify(
    *,
    sliver_area_m2: float = 50.0,
    sliver_width_m: float = 5.0,
    commit: bool = False,
    user=None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Unify the current layers; with commit=True save the result as a new draft version."""
    if not (sliver_area_m2 >= 0 and math.isfinite(sliver_area_m2)):
        raise UnificationError(_("The sliver area must be a number of square metres, 0 or more."))
    if not (sliver_width_m >= 0 and math.isfinite(sliver_width_m)):
        raise UnificationError(_("The sliver width must be a number of metres, 0 or more."))
    inputs = load_inputs(sliver_area_m2=sliver_area_m2, sliver_width_m=sliver_width_m)
    result = unify(inputs, sliver_area_m2=sliver_area_m2, sliver_width_m=sliver_width_m, progress=progress)
    result.same_as = (
        GridVersion.objects.filter(input_digest=result.digest).order_by("pk").values_list("pk", flat=True).first()
    )
    if commit:
        result.version = _save(result, thresholds=(sliver_area_m2, sliver_width_m), user=user)
    return result


@transaction.atomic
def _save(result: Result, *, thresholds: tuple[float, float], user) -> GridVersion:
    inputs = result.inputs
    version = GridVersion.objects.create(
        sliver_area_m2=thresholds[0], sliver_width_m=thresholds[1], input_digest=result.digest,
        cell_count=len(result.cells), conflicts={"summary": result.report["summary"]}, created_by=user,
    )  # fmt: skip
    version.layers.set(inputs.layer_ids)
    fallback = Department.objects.filter(code=FALLBACK_DEPARTMENT).values_list("pk", flat=True).first()
    rows = Cell.objects.bulk_create(
        [
            Cell(version=version, code=cell.code, community_id=cell.community_id, geometry=to_geos(cell.geometry),
                 area_m2=cell.area_m2, fallback_owner_id=None if cell.crosswalk else fallback)
            for cell in result.cells
        ],
        batch_size=1000,
    )  # fmt: skip
    _insert_crosswalk(
        (row.pk, inputs.department_ids[inputs.departments[p]], inputs.polygon_ids[p], share)
        for row, cell in zip(rows, result.cells, strict=True)
        for p, share in cell.crosswalk
    )
    ConflictItem.objects.bulk_create(
        [
            ConflictItem(version=version, number=number, kind=item["kind"], department_code=item["department"] or "",
                         polygons=item["polygons"], area_m2=item["area_m2"], community_code=item["community"] or "",
                         cell_code=item["cell"] or "", message=item.get("message", ""),
                         geometry=_geometry(item.get("geometry")))
            for number, item in enumerate(result.report["items"], start=1)
        ],
        batch_size=2000,
    )  # fmt: skip
    return version


def _insert_crosswalk(rows, chunk: int = 5000) -> None:
    """Plain executemany: a big city has ~350,000 crosswalk rows, and building a model
    instance per row (bulk_create) took three quarters of the time spent saving."""
    table, quote = CrosswalkEntry._meta.db_table, connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("cell_id", "department_id", "polygon_id", "share"))
    sql = f"INSERT INTO {quote(table)} ({columns}) VALUES (%s, %s, %s, %s)"
    batch = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) == chunk:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _geometry(geometry):
    """A report item's geometry (shapely while the engine ran, GeoJSON when it came from a layer report)."""
    if geometry is None:
        return None
    if isinstance(geometry, dict):
        return GEOSGeometry(json.dumps(geometry), srid=STORAGE_SRID)
    return GEOSGeometry(memoryview(shapely.to_wkb(geometry)), srid=STORAGE_SRID)
