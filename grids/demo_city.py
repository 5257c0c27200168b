"""A deterministic *messy* demo city: a clean jurisdiction and departmental grids that disagree.

The unification engine (多格合一) needs input that looks like what departments really
hand in: grids that follow the community boundaries only roughly (slivers), leave land
uncovered (gaps), overlap themselves, reach beyond the district, and hold the odd broken
polygon. This module draws such a city from a seed, in pure Python + shapely, and writes
it to the file formats departments use (GeoJSON, a zipped Shapefile in a projected CRS,
a GeoPackage in CGCS2000).

The default city is governance.demo's 4 × 4 communities; `blocks` grows it to a realistic
size for benchmarks (about 1 km² a community; see `recommended_blocks`).

Everything is built in a local metric frame (metres from the district centre) so that
"3 m of jitter" and "a 20 m buffer" mean what they say, and converted to WGS84 once, at
the end, rounded to 7 decimals (~1 cm).
"""

import json
import math
import random
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
import shapely.affinity
import shapely.geometry

from governance.demo_layout import BLOCK, DISTRICT, ORIGIN, STREETS

DEMO_BLOCKS = 4  # governance.demo's city: 4 × 4 blocks, the four STREETS above
# Street codes have three digits, so at most 999 streets of 2 × 2 blocks: 31 × 31 streets.
MAX_BLOCKS = 62
# What the unification engine handles comfortably per community (it allows 999 cells), and
# what real cities look like: a ~1 km² community holds a dozen grids of a few hectares each.
POLYGONS_PER_COMMUNITY = (10, 15)

DEFAULT_DEPARTMENTS = ("CG", "SZ", "ZZ", "SW", "HB", "SJ")
PROJECTED_SRID = 4549  # CGCS2000 / 3-degree Gauss-Kruger CM 120E, what surveyors deliver
GEOPACKAGE_SRID = 4490  # CGCS2000 geographic: equal to WGS84 within centimetres, but a different code
_FIXED_DATE = "2024-01-01"  # stamped into .dbf / .gpkg / .zip so the files are byte-reproducible

_LAYER_WORDS = {
    "CG": "城管", "SZ": "市政", "ZJ": "住建", "SW": "水务", "YL": "园林", "HB": "环保", "SJ": "市监",
    "JT": "交通", "YJ": "应急", "ZZ": "综治", "MZ": "民政", "WJ": "卫健", "RS": "人社", "JY": "教育",
    "JD": "街道",
}  # fmt: skip

_BLOCK_SEGMENTS = 5  # vertices per community edge: enough to make boundaries look hand-drawn
_SEGMENT_M = 40.0  # edges are densified to this so the smooth jitter bends them, not just moves them
_SNAP_M = 0.001  # noding grid: near-coincident edges from separate intersections become one edge


@dataclass(frozen=True)
class Feature:
    code: str
    name: str
    geometry: shapely.Polygon | shapely.MultiPolygon  # WGS84 lon/lat (EPSG:4326)


@dataclass(frozen=True)
class DemoCity:
    district_code: str
    communities: list[Feature]
    layers: dict[str, list[Feature]]
    layer_formats: dict[str, str]
    layer_srids: dict[str, int]


@dataclass(frozen=True)
class CityFiles:
    jurisdiction: Path
    layers: dict[str, Path]


class Ogr2OgrMissing(RuntimeError):
    """GDAL's ogr2ogr is needed to write Shapefiles and GeoPackages."""


@dataclass(frozen=True)
class _Frame:
    """Local metric frame: metres east/north of the district centre (equirectangular)."""

    lon: float
    lat: float
    metres_per_lon: float
    metres_per_lat: float
    half_width: float
    half_height: float
    blocks: int

    def lonlat(self, xy: np.ndarray) -> np.ndarray:
        # Rounding each coordinate on its own (not snap-rounding) keeps shared vertices shared.
        lon = self.lon + xy[:, 0] / self.metres_per_lon
        lat = self.lat + xy[:, 1] / self.metres_per_lat
        return np.round(np.column_stack((lon, lat)), 7)

    def metres(self, lonlat: np.ndarray) -> np.ndarray:
        x = (lonlat[:, 0] - self.lon) * self.metres_per_lon
        y = (lonlat[:, 1] - self.lat) * self.metres_per_lat
        return np.column_stack((x, y))

    def to_wgs84(self, geometry):
        return shapely.transform(geometry, self.lonlat)

    @property
    def district(self) -> shapely.Polygon:
        return shapely.box(-self.half_width, -self.half_height, self.half_width, self.half_height)

    @property
    def slip_scale(self) -> float:
        """Corner gaps and strips outside are sized as in a 4-block district, whatever its size.

        A department's slip is a few hundred metres, not a share of the whole city: scaled with
        a 12 km district a "missed corner" would swallow several communities. Exactly 1.0 for
        the demo city, so its layers stay byte-identical.
        """
        return min(1.0, DEMO_BLOCKS / self.blocks)


@dataclass(frozen=True)
class _Plan:
    code: str
    follows_communities: bool
    corner_gap: bool
    sticks_out: bool
    bow_tie: bool


def generate_city(
    *,
    seed: int = 1,
    polygons_per_layer: int = 40,
    departments: tuple[str, ...] = DEFAULT_DEPARTMENTS,
    size_km: float | None = None,
    blocks: int = DEMO_BLOCKS,
) -> DemoCity:
    """A `blocks` × `blocks` lattice of communities, `size_km` across (default: about 1 km a block).

    Streets are 2 × 2 blocks, numbered row by row from the south-west; with the default 4 blocks
    this is governance.demo's district, byte for byte.
    """
    _check_arguments(polygons_per_layer=polygons_per_layer, departments=departments, size_km=size_km, blocks=blocks)
    if size_km is None:
        size_km = blocks * 1.0  # exactly 4.0 for the demo city, as before blocks existed
    frame = _frame(size_km=size_km, blocks=blocks)
    lattice = _lattice(rng=random.Random(f"demo-city:{seed}:communities"), frame=frame)
    communities = _communities(lattice=lattice, blocks=blocks)
    metric = [shapely.transform(c.geometry, frame.metres) for c in communities]
    layers = {}
    for plan in _plans(departments):
        # One generator per department, so adding a department never changes another's layer.
        rng = random.Random(f"demo-city:{seed}:{plan.code}")
        layers[plan.code] = _layer(plan=plan, rng=rng, frame=frame, communities=metric, count=polygons_per_layer)
    return DemoCity(
        district_code=DISTRICT[0],
        communities=communities,
        layers=layers,
        layer_formats={code: _format(index) for index, code in enumerate(departments)},
        layer_srids={code: _srid(index) for index, code in enumerate(departments)},
    )


def recommended_blocks(polygons_per_layer: int) -> int:
    """The even block count that gives each community about 10–15 polygons per layer (at least 4).

    Aims at the geometric middle of that range, so rounding to an even count can miss it by as
    little as possible either way; small layers keep the 4 × 4 demo city.
    """
    if polygons_per_layer < 1:
        raise ValueError("polygons_per_layer must be at least 1")
    target = math.sqrt(POLYGONS_PER_COMMUNITY[0] * POLYGONS_PER_COMMUNITY[1])
    blocks = 2 * round(math.sqrt(polygons_per_layer / target) / 2)
    return min(MAX_BLOCKS, max(DEMO_BLOCKS, blocks))


def _check_arguments(
    *, polygons_per_layer: int, departments: tuple[str, ...], size_km: float | None, blocks: int
) -> None:
    if polygons_per_layer < 1:
        raise ValueError("polygons_per_layer must be at least 1")
    if not departments or len(set(departments)) != len(departments):
        raise ValueError("departments must be a non-empty tuple of distinct codes")
    if size_km is not None and size_km <= 0:
        raise ValueError("size_km must be positive")
    # Streets are 2 × 2 blocks, so an odd lattice would leave a row of communities without a street.
    if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 2 or blocks % 2:
        raise ValueError("blocks must be an even integer, at least 2")
    if blocks > MAX_BLOCKS:
        raise ValueError(f"blocks must be at most {MAX_BLOCKS}: street codes have three digits")


def _format(index: int) -> str:
    return {0: "shapefile", 1: "gpkg"}.get(index, "geojson")


def _srid(index: int) -> int:
    return {0: PROJECTED_SRID, 1: GEOPACKAGE_SRID}.get(index, 4326)


def _plans(departments: tuple[str, ...]) -> list[_Plan]:
    count = len(departments)
    # The bow-tie goes to the first GeoJSON layer, so no converter can quietly repair it.
    bow_tie = 2 if count > 2 else count - 1
    return [
        _Plan(
            code=code,
            follows_communities=index % 3 != 1,
            corner_gap=index == 3 % count,
            sticks_out=index == 4 % count,
            bow_tie=index == bow_tie,
        )
        for index, code in enumerate(departments)
    ]


# --- the jurisdiction ---------------------------------------------------------------


def _frame(*, size_km: float, blocks: int) -> _Frame:
    # The nominal city has its south-west corner at ORIGIN; size_km shrinks or grows it about its centre.
    # (Integer `half` and the operand order keep the demo city's floats bit for bit.)
    half, scale = blocks // 2, size_km / blocks
    lon, lat = ORIGIN[0] + half * BLOCK[0], ORIGIN[1] + half * BLOCK[1]
    # Length of one degree on the WGS84 ellipsoid at this latitude; good to 0.1 % over 10 km.
    phi = math.radians(lat)
    per_lat = 111132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    per_lon = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi)
    half_width, half_height = half * BLOCK[0] * scale * per_lon, half * BLOCK[1] * scale * per_lat
    return _Frame(lon, lat, per_lon, per_lat, half_width, half_height, blocks)


def _lattice(*, rng: random.Random, frame: _Frame) -> np.ndarray:
    """WGS84 vertices of the community boundaries on a (blocks·k+1)² lattice, jittered.

    Block corners move most, edge vertices less, and only across their edge; the outer ring
    moves only along the district edge, so the district stays a rectangle (governance.demo's, at 4 blocks).
    The amplitudes (≤ half a segment) keep every boundary monotone, hence the polygons valid.
    """
    k, n = _BLOCK_SEGMENTS, frame.blocks * _BLOCK_SEGMENTS
    xs = np.linspace(-frame.half_width, frame.half_width, n + 1)
    ys = np.linspace(-frame.half_height, frame.half_height, n + 1)
    step_x, step_y = xs[1] - xs[0], ys[1] - ys[0]
    points = np.zeros((n + 1, n + 1, 2))
    for i in range(n + 1):
        for j in range(n + 1):
            ax = _amplitude(i, j, k=k, n=n) * step_x
            ay = _amplitude(j, i, k=k, n=n) * step_y
            points[i, j] = (xs[i] + rng.uniform(-ax, ax), ys[j] + rng.uniform(-ay, ay))
    return frame.lonlat(points.reshape(-1, 2)).reshape(points.shape)


def _amplitude(along: int, across: int, *, k: int, n: int) -> float:
    """Jitter, as a share of one segment, of lattice vertex (along, across) in the `along` axis."""
    if along in (0, n):
        return 0.0  # on the west/east edge of the district
    if along % k == 0:
        return 0.45 if across % k == 0 else 0.3  # a block corner, or a vertex of a north-south edge
    return 0.15  # a vertex of an east-west edge, moving along it


def _communities(*, lattice: np.ndarray, blocks: int) -> list[Feature]:
    """Communities in governance.demo's layout (streets are 2 × 2 blocks), from shared vertices."""
    per_row = blocks // 2
    result = []
    for s_index, (s_code, _, names) in enumerate(_streets(per_row * per_row)):
        for c_index, name in enumerate(names):
            col = (s_index % per_row) * 2 + c_index % 2
            row = (s_index // per_row) * 2 + c_index // 2
            ring = shapely.orient_polygons(_block_ring(lattice, col=col, row=row))
            result.append(Feature(f"{DISTRICT[0]}{s_code}{c_index + 1:03d}", name, ring))
    return result


def _streets(count: int) -> list[tuple[str, str, list[str]]]:
    """Codes and names of `count` streets: the demo's four, then 第N街道 with 第N街道第M社区.

    A code always means the same street, so 330211001001 is 湖滨社区 in every city size.
    """
    streets = list(STREETS[:count])
    for number in range(len(streets) + 1, count + 1):
        name = f"第{number}街道"
        streets.append((f"{number:03d}", name, [f"{name}第{m}社区" for m in range(1, 5)]))
    return streets


def _block_ring(lattice: np.ndarray, *, col: int, row: int) -> shapely.Polygon:
    k = _BLOCK_SEGMENTS
    x0, y0, x1, y1 = col * k, row * k, (col + 1) * k, (row + 1) * k
    walk = (
        [(i, y0) for i in range(x0, x1)]
        + [(x1, j) for j in range(y0, y1)]
        + [(i, y1) for i in range(x1, x0, -1)]
        + [(x0, j) for j in range(y1, y0, -1)]
    )
    return shapely.Polygon([lattice[i, j] for i, j in walk])


# --- departmental layers ----------------------------------------------------------


def _layer(*, plan: _Plan, rng: random.Random, frame: _Frame, communities: list, count: int) -> list[Feature]:
    district = frame.district
    region = _region(plan=plan, rng=rng, frame=frame)
    # A layer cannot follow N communities with fewer than N polygons; it then ignores them.
    follows = plan.follows_communities and count >= len(communities)
    zones = [shapely.intersection(c, region) for c in communities] if follows else [region]
    if follows and plan.sticks_out:
        zones.append(shapely.difference(region, district))
    cells = _noded(_drafts(zones=zones, count=count, rng=rng))
    cells = shapely.transform(cells, _jitter(rng))
    cells = _mess_up(cells, rng=rng, count=count)
    if plan.sticks_out:
        cells = np.append(cells, _outside(frame=frame, rng=rng, count=count))
    geometries = [_polygonal(g) for g in frame.to_wgs84(cells)]
    features = _numbered(plan.code, [g for g in geometries if g is not None], frame=frame, count=count)
    return _with_bow_tie(features, rng=rng) if plan.bow_tie else features


def _region(*, plan: _Plan, rng: random.Random, frame: _Frame):
    """The land this department thinks it covers: the district, minus a corner, plus a strip outside."""
    region = frame.district
    if plan.corner_gap:
        region = shapely.difference(region, _corner(frame=frame, rng=rng))
    if plan.sticks_out:
        side = rng.choice(tuple(_SIDES))
        slip = frame.slip_scale
        depth = rng.uniform(0.05, 0.08) * 2 * frame.half_width * slip
        start = rng.uniform(-0.6, 0.0)
        span = (start * slip, (start + rng.uniform(0.4, 0.6)) * slip)
        strip = _beside(frame, side=side, depth=(-1.0, depth), span=span)
        region = shapely.union(region, strip)
    return region


def _corner(*, frame: _Frame, rng: random.Random) -> shapely.Polygon:
    sx, sy = rng.choice((-1, 1)), rng.choice((-1, 1))
    cx, cy = sx * frame.half_width, sy * frame.half_height
    a = rng.uniform(0.12, 0.22) * 2 * frame.half_width * frame.slip_scale
    b = rng.uniform(0.12, 0.22) * 2 * frame.half_height * frame.slip_scale
    u, v = rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)
    # Reaches 50 m beyond the district so no hairline of the corner survives the cut.
    out = 50.0
    return shapely.Polygon(
        [
            (cx + sx * out, cy + sy * out),
            (cx - sx * a, cy + sy * out),
            (cx - sx * a * u, cy - sy * b * v),
            (cx + sx * out, cy - sy * b),
        ]
    )


_SIDES = {"east": ((1, 0), (0, 1)), "west": ((-1, 0), (0, 1)), "north": ((0, 1), (1, 0)), "south": ((0, -1), (1, 0))}


def _side(frame: _Frame, side: str) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Outward normal, tangent, distance of the edge from the centre, and half the edge's length."""
    normal, tangent = np.array(_SIDES[side][0]), np.array(_SIDES[side][1])
    edge, reach = (frame.half_width, frame.half_height) if normal[0] else (frame.half_height, frame.half_width)
    return normal, tangent, edge, reach


def _beside(frame: _Frame, *, side: str, depth: tuple[float, float], span: tuple[float, float]) -> shapely.Polygon:
    """A box against one side of the district: `depth` metres out from the edge, `span` as a share of the side."""
    normal, tangent, edge, reach = _side(frame, side)
    corners = [(depth[0], span[0]), (depth[1], span[0]), (depth[1], span[1]), (depth[0], span[1])]
    return shapely.Polygon([(edge + d) * normal + s * reach * tangent for d, s in corners])


def _drafts(*, zones: list, count: int, rng: random.Random) -> np.ndarray:
    """Voronoi cells of seeded points, clipped to each zone; `count` cells in all, shared by area."""
    areas = [shapely.area(zone) for zone in zones]
    drafts = []
    for zone, share in zip(zones, _allocate(areas, total=count), strict=True):
        drafts.extend(_voronoi(zone, count=share, rng=rng))
    return np.array([d for d in drafts if shapely.area(d) > 1.0], dtype=object)


def _allocate(areas: list[float], *, total: int) -> list[int]:
    """Largest-remainder split of `total` by area, at least one for every zone with land."""
    whole = sum(areas)
    exact = [total * a / whole for a in areas]
    shares = [max(1, math.floor(e)) if a > 1.0 else 0 for a, e in zip(areas, exact, strict=True)]
    by_remainder = sorted(range(len(areas)), key=lambda i: (exact[i] - math.floor(exact[i]), -i), reverse=True)
    for i in by_remainder[: max(0, total - sum(shares))]:
        if shares[i]:
            shares[i] += 1
    return shares


def _voronoi(zone, *, count: int, rng: random.Random) -> list:
    if count <= 1:
        return [zone] if count else []
    points = _points_in(zone, count=count, rng=rng)
    # Two Lloyd steps: departments draw cells of similar size, not the wild spread of raw Voronoi.
    for _ in range(2):
        points = shapely.multipoints(shapely.centroid(_clipped_voronoi(points, zone)))
    return list(_clipped_voronoi(points, zone))


def _clipped_voronoi(points: shapely.MultiPoint, zone) -> np.ndarray:
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=zone))
    cells = shapely.intersection(cells, zone)
    return cells[~shapely.is_empty(cells)]


def _points_in(zone, *, count: int, rng: random.Random) -> shapely.MultiPoint:
    xmin, ymin, xmax, ymax = zone.bounds
    xs, ys = [], []
    while len(xs) < count:
        batch = [(rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)) for _ in range(2 * count)]
        inside = shapely.contains_xy(zone, [p[0] for p in batch], [p[1] for p in batch])
        for (x, y), ok in zip(batch, inside, strict=True):
            if ok and len(xs) < count:
                xs.append(x)
                ys.append(y)
    return shapely.multipoints(np.column_stack((xs, ys)))


def _noded(drafts: np.ndarray) -> np.ndarray:
    """Rebuild the drafts from one noded set of edges so neighbours share every vertex.

    Clipping each Voronoi cell separately leaves T-junctions and 1e-9 m hairlines; after the
    jitter those would become real overlaps inside the layer. Noding the union of all edges,
    then polygonising, gives one coverage; each face goes back to the draft it lies in.
    """
    edges = shapely.union_all(shapely.boundary(drafts), grid_size=_SNAP_M)
    edges = shapely.segmentize(edges, max_segment_length=_SEGMENT_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    face_index, draft_index = shapely.STRtree(drafts).query(shapely.point_on_surface(faces), predicate="within")
    # Where a point lies in two drafts (a hairline between them), the lower draft index wins.
    order = np.lexsort((draft_index, face_index))
    firsts = np.unique(face_index[order], return_index=True)[1]
    groups: dict[int, list] = {}
    for face, draft in zip(face_index[order][firsts], draft_index[order][firsts], strict=True):
        groups.setdefault(int(draft), []).append(faces[face])
    return np.array([shapely.coverage_union_all(groups[d]) for d in sorted(groups)], dtype=object)


def _jitter(rng: random.Random) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth displacement of 1.2–4.8 m whose direction wanders over a few hundred metres.

    Being a function of position, it moves a shared vertex identically in both neighbours
    (the layer stays clean inside) while differing from every other layer's (slivers appear
    between layers and against the community boundaries).
    """
    heading = rng.uniform(0, 2 * math.pi)
    turn, swell = _wave(rng), _wave(rng)

    def shift(xy: np.ndarray) -> np.ndarray:
        angle = heading + (math.pi / 2) * np.sin(xy @ turn[0] + turn[1])
        size = 3.0 + 1.8 * np.sin(xy @ swell[0] + swell[1])
        return xy + np.column_stack((size * np.cos(angle), size * np.sin(angle)))

    return shift


def _wave(rng: random.Random) -> tuple[np.ndarray, float]:
    direction, length = rng.uniform(0, 2 * math.pi), rng.uniform(300.0, 900.0)
    k = 2 * math.pi / length
    return np.array([k * math.cos(direction), k * math.sin(direction)]), rng.uniform(0, 2 * math.pi)


def _mess_up(cells: np.ndarray, *, rng: random.Random, count: int) -> np.ndarray:
    """Drop a few cells and shrink a few (gaps); swell a few by 10–30 m (overlaps inside the layer)."""
    few = max(1, round(count * rng.uniform(0.008, 0.015)))
    if len(cells) <= 3 * few:
        return cells  # a toy layer of a handful of cells: nothing to spare
    picked = rng.sample(range(len(cells)), 3 * few)
    dropped, shrunk, swollen = set(picked[:few]), picked[few : 2 * few], picked[2 * few :]
    cells = cells.copy()
    for i in shrunk:
        inset = min(rng.uniform(8.0, 25.0), 0.15 * math.sqrt(shapely.area(cells[i])))
        cells[i] = shapely.buffer(cells[i], -inset, join_style="mitre")
    for i in swollen:
        cells[i] = shapely.buffer(cells[i], rng.uniform(10.0, 30.0), join_style="mitre", mitre_limit=2.0)
    return np.array([cell for i, cell in enumerate(cells) if i not in dropped], dtype=object)


def _outside(*, frame: _Frame, rng: random.Random, count: int) -> shapely.Polygon:
    """A hexagon well clear of the district: a grid someone drew for the neighbouring district."""
    radius = max(60.0, 0.6 * math.sqrt(4 * frame.half_width * frame.half_height / count))
    normal, tangent, edge, reach = _side(frame, rng.choice(tuple(_SIDES)))
    # Beyond any strip that sticks out (≤ 8 % of a 4-block district's width) plus a clear 300 m.
    clear = edge + 0.08 * 2 * frame.half_width * frame.slip_scale + 300.0 + radius
    centre = clear * normal + rng.uniform(-0.5, 0.5) * reach * tangent
    angles = [math.pi / 3 * i for i in range(6)]
    return shapely.Polygon([centre + radius * np.array([math.cos(a), math.sin(a)]) for a in angles])


def _polygonal(geometry) -> shapely.Polygon | shapely.MultiPolygon | None:
    if not geometry.is_valid:
        # Only a near-collapsed spike can break under 1 cm rounding; repair that, keep the area.
        geometry = shapely.make_valid(geometry)
    parts = [p for p in shapely.get_parts(geometry) if isinstance(p, shapely.Polygon) and not p.is_empty]
    if not parts:
        return None
    polygon = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    return shapely.orient_polygons(polygon)  # RFC 7946: exterior rings counter-clockwise


def _numbered(code: str, geometries: list, *, frame: _Frame, count: int) -> list[Feature]:
    """Codes in reading order: rows of about one cell's height, north to south, west to east."""
    band = math.sqrt(4 * frame.half_width * frame.half_height / count) / frame.metres_per_lat
    anchors = shapely.point_on_surface(np.array(geometries, dtype=object))
    top = frame.lat + frame.half_height / frame.metres_per_lat

    def reading_order(i: int) -> tuple[int, float]:
        return math.floor((top - anchors[i].y) / band), anchors[i].x

    order = sorted(range(len(geometries)), key=reading_order)
    word = _LAYER_WORDS.get(code, code)
    return [Feature(f"{code}-{n:04d}", f"{word}网格{n:04d}", geometries[i]) for n, i in enumerate(order, start=1)]


def _with_bow_tie(features: list[Feature], *, rng: random.Random) -> list[Feature]:
    """Replace one polygon by a bow-tie: its rotated bounding box with two corners swapped.

    The classic digitising slip (vertices clicked out of order); it stays invalid on purpose.
    """
    index = rng.randrange(len(features))
    victim = features[index]
    box = shapely.minimum_rotated_rectangle(victim.geometry)
    box = shapely.affinity.scale(box, 0.8, 0.8, origin=shapely.centroid(box))
    a, b, c, d = [tuple(np.round(xy, 7)) for xy in box.exterior.coords[:4]]
    bow_tie = shapely.Polygon([a, b, d, c, a])
    return [*features[:index], Feature(victim.code, victim.name, bow_tie), *features[index + 1 :]]


# --- files --------------------------------------------------------------------------


def write_city(city: DemoCity, out_dir: Path) -> CityFiles:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jurisdiction = out_dir / "jurisdiction.geojson"
    _write_geojson(city.communities, path=jurisdiction, name=city.district_code)
    layers = {}
    for code, features in city.layers.items():
        fmt, srid = city.layer_formats[code], city.layer_srids[code]
        layers[code] = _write_layer(features, code=code, fmt=fmt, srid=srid, out_dir=out_dir)
    return CityFiles(jurisdiction=jurisdiction, layers=layers)


def _write_geojson(features: list[Feature], *, path: Path, name: str) -> None:
    # One feature a line: diffable, and byte-stable because every float is already rounded.
    lines = [
        json.dumps(
            {
                "type": "Feature",
                "properties": {"code": f.code, "name": f.name},
                "geometry": shapely.geometry.mapping(f.geometry),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for f in features
    ]
    header = f'{{"type":"FeatureCollection","name":{json.dumps(name, ensure_ascii=False)},"features":[\n'
    path.write_text(header + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def _write_layer(features: list[Feature], *, code: str, fmt: str, srid: int, out_dir: Path) -> Path:
    if fmt == "geojson":
        path = out_dir / f"{code}.geojson"
        _write_geojson(features, path=path, name=code)
        return path
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / f"{code}.geojson"
        _write_geojson(features, path=source, name=code)
        if fmt == "gpkg":
            return _to_geopackage(source, code=code, srid=srid, out_dir=out_dir)
        if fmt == "shapefile":
            return _to_zipped_shapefile(source, code=code, srid=srid, out_dir=out_dir, scratch=Path(scratch))
    raise ValueError(f"unknown layer format {fmt!r} for {code}")


def _to_geopackage(source: Path, *, code: str, srid: int, out_dir: Path) -> Path:
    path = out_dir / f"{code}.gpkg"
    path.unlink(missing_ok=True)  # ogr2ogr would append to, not replace, an existing GeoPackage
    _ogr2ogr(
        ["-f", "GPKG", "-t_srs", f"EPSG:{srid}", "-nlt", "PROMOTE_TO_MULTI", "-nln", code, str(path), str(source)],
        config={"OGR_CURRENT_DATE": f"{_FIXED_DATE}T00:00:00Z"},
    )
    return path


def _to_zipped_shapefile(source: Path, *, code: str, srid: int, out_dir: Path, scratch: Path) -> Path:
    shp = scratch / f"{code}.shp"
    lcos = ["-lco", "ENCODING=UTF-8", "-lco", f"DBF_DATE_LAST_UPDATE={_FIXED_DATE}"]
    _ogr2ogr(["-f", "ESRI Shapefile", "-t_srs", f"EPSG:{srid}", *lcos, "-nln", code, str(shp), str(source)])
    path = out_dir / f"{code}.zip"
    stamp = tuple(int(part) for part in _FIXED_DATE.split("-")) + (0, 0, 0)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            part = shp.with_suffix(suffix)
            info = zipfile.ZipInfo(part.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, part.read_bytes())
    return path


def _ogr2ogr(arguments: list[str], *, config: dict[str, str] | None = None) -> None:
    program = shutil.which("ogr2ogr")
    if program is None:
        raise Ogr2OgrMissing("ogr2ogr (GDAL) is not on PATH; install gdal-bin to write Shapefile/GeoPackage layers")
    options = [item for key, value in (config or {}).items() for item in ("--config", key, value)]
    done = subprocess.run([program, *options, *arguments], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ogr2ogr failed ({done.returncode}): {done.stderr.strip()}")
