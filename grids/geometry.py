"""Pure geometry helpers of the grids app (shapely; no database).

Everything here works on WGS84 longitude/latitude geometries, the storage
SRID. Areas and lengths are measured after projecting a copy into a Lambert
azimuthal equal-area projection centred on the data: exact areas, and lengths
good to well under 0.1 % across a city. Coordinates are never rounded on the
way through, so edges shared in the input stay shared in the output.
"""

import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from pyproj import Transformer
from shapely import MultiPolygon as ShapelyMultiPolygon
from shapely import Polygon as ShapelyPolygon

# Snap imported coordinates to this grid (degrees; ~1 cm): importers write
# coordinates with noise in the 15th digit, which would otherwise create
# micro-slivers between polygons meant to share an edge.
IMPORT_GRID = 1e-7


def polygonal(geometry) -> ShapelyPolygon | ShapelyMultiPolygon | None:
    """The polygon parts of any geometry (collections from make_valid included), or None."""
    if geometry is None or geometry.is_empty:
        return None
    parts = [part for part in shapely.get_parts(geometry) if part.geom_type in ("Polygon", "MultiPolygon")]
    polygons = [p for part in parts for p in shapely.get_parts(part) if not p.is_empty and p.area > 0]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else ShapelyMultiPolygon(polygons)


@dataclass(frozen=True)
class Repair:
    geometry: ShapelyPolygon | ShapelyMultiPolygon | None
    was_valid: bool
    reason: str  # GEOS's explanation of what was wrong, "" if valid


def repair(geometry) -> Repair:
    """Snap to the import grid and make valid without losing area: a bow-tie becomes its two triangles."""
    reason = "" if shapely.is_valid(geometry) else shapely.is_valid_reason(geometry)
    snapped = shapely.set_precision(geometry, IMPORT_GRID, mode="pointwise")
    if not shapely.is_valid(snapped):
        # Also reached when snapping itself folds a ring narrower than the grid.
        snapped = shapely.make_valid(snapped, method="structure", keep_collapsed=False)
    return Repair(polygonal(snapped), not reason, reason)


def as_multipolygon(geometry) -> ShapelyMultiPolygon:
    if geometry.geom_type == "MultiPolygon":
        return geometry
    return ShapelyMultiPolygon([geometry])


def to_geos(geometry, srid: int = 4326) -> MultiPolygon:
    """A shapely (multi)polygon as the GEOS MultiPolygon the models store."""
    return GEOSGeometry(memoryview(shapely.to_wkb(as_multipolygon(geometry))), srid=srid)


def from_geos(geometry: GEOSGeometry):
    return shapely.from_wkb(bytes(geometry.wkb))


def to_geojson(geometry, precision: int = 7) -> dict:
    """A GeoJSON geometry dict (WGS84) for reports and the map."""
    return json.loads(shapely.to_geojson(shapely.set_precision(geometry, 10**-precision, mode="pointwise")))


class MetricFrame:
    """Measure WGS84 geometries in metres, in an equal-area projection centred on (lng, lat)."""

    def __init__(self, lng: float, lat: float):
        self.centre = (lng, lat)
        self._forward = Transformer.from_crs(
            "EPSG:4326", f"+proj=laea +lat_0={lat} +lon_0={lng} +datum=WGS84 +units=m", always_xy=True
        )

    @classmethod
    def around(cls, geometries) -> "MetricFrame":
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geometries, dtype=object))
        return cls((minx + maxx) / 2, (miny + maxy) / 2)

    def project(self, geometries):
        """Copies of the geometries (a single one or an array) in metres."""

        def forward(coords):
            x, y = self._forward.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geometries, forward)

    def areas(self, geometries) -> np.ndarray:
        return shapely.area(self.project(np.asarray(geometries, dtype=object)))

    def lengths(self, geometries) -> np.ndarray:
        return shapely.length(self.project(np.asarray(geometries, dtype=object)))

    def area(self, geometry) -> float:
        return float(shapely.area(self.project(geometry)))

    @cached_property
    def metres_per_degree(self) -> tuple[float, float]:
        """Rough scale (east, north) at the centre, for choosing band heights and tolerances."""
        lng, lat = self.centre
        x0, y0 = self._forward.transform(lng, lat)
        x1, _ = self._forward.transform(lng + 0.01, lat)
        _, y1 = self._forward.transform(lng, lat + 0.01)
        return abs(x1 - x0) * 100, abs(y1 - y0) * 100
