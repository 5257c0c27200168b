"""Checks on every coordinate that enters, made on plain numbers before GEOS or GDAL builds anything.

GEOS trusts its input: a polygon at ±1e300 aborted the whole web process in
its WKT writer, NaN and unclosed rings raised deep inside it. So every edge
(layer and jurisdiction files, report coordinates, lookups) checks here first:
finite numbers, inside the coordinate system's area, rings closed, vertex
counts bounded. docs/grids-import.md states the limits.
"""

import math
import numbers
import re

import numpy as np
import pyproj
from django.utils.translation import gettext as _
from pyproj.exceptions import CRSError

# A district's departmental grid is a few MB; anything far larger is a wrong file.
MAX_FILE_BYTES = 50 * 1024 * 1024
# What a zipped Shapefile may unpack to: a zip bomb stops here, before GDAL reads it.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
# A 300-household cell drawn at 1 m has a few hundred vertices; 100,000 is a whole coastline.
MAX_VERTICES_PER_FEATURE = 100_000
MAX_VERTICES_PER_FILE = 2_000_000
MAX_RINGS_PER_FEATURE = 10_000
MAX_FEATURES = 100_000
# Projected coordinates may stray this far (as a share of the CRS's own area) outside its area of use.
AREA_OF_USE_MARGIN = 0.5
# Without an area of use, no projected coordinate on Earth is farther than this from the origin.
MAX_PROJECTED = 1e8

WGS84 = pyproj.CRS.from_epsg(4326)
WGS84_BOUNDS = (-180.0, -90.0, 180.0, 90.0)

# Names of a coordinate system the GeoJSON "crs" member may carry: identifiers only, never a link.
_EPSG_NAME = re.compile(
    r"(?:EPSG:|urn:ogc:def:crs:EPSG:[0-9.]*:|https?://www\.opengis\.net/def/crs/EPSG/[0-9.]+/)(\d{4,6})", re.I
)
_CRS84_NAME = re.compile(r"(?:urn:ogc:def:crs:OGC:(?:1\.3)?:CRS84|https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84)",
                         re.I)  # fmt: skip


class GeometryError(ValueError):
    """A coordinate or geometry that must not reach GEOS; `field` names the input it came from, if any."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- Points -------------------------------------------------------------------------------------


def check_point(*, lng, lat) -> tuple[float, float]:
    """(lng, lat) as finite WGS84 floats, or GeometryError naming the field that is wrong."""
    lng, lat = _finite_number("lng", lng), _finite_number("lat", lat)
    if not -90 <= lat <= 90:
        raise GeometryError(
            _("lat %(value)s is outside -90..90 degrees (were lat and lng swapped?).") % {"value": lat}, field="lat"
        )
    if not -180 <= lng <= 180:
        raise GeometryError(_("lng %(value)s is outside -180..180 degrees.") % {"value": lng}, field="lng")
    return lng, lat


def _finite_number(name: str, value) -> float:
    # bool is an int to Python, but True as a coordinate is always a bug upstream.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise GeometryError(
            _("%(field)s must be a number of WGS84 degrees, got %(value)s.") % {"field": name, "value": _short(value)},
            field=name,
        )
    try:
        value = float(value)
    except OverflowError:  # an int too large for a float
        value = math.inf
    if not math.isfinite(value):
        raise GeometryError(_("%(field)s must be a finite number, got %(value)s.") % {"field": name, "value": value},
                            field=name)  # fmt: skip
    return value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


# --- Coordinate systems -------------------------------------------------------------------------


def crs_from_geojson_name(name) -> pyproj.CRS:
    """The CRS a GeoJSON "crs" name stands for; anything but a known EPSG code or CRS84 is refused."""
    if not isinstance(name, str) or len(name) > 200:
        raise GeometryError(_("The coordinate system of the file is not a name."))
    if _CRS84_NAME.fullmatch(name.strip()):
        return WGS84
    match = _EPSG_NAME.fullmatch(name.strip())
    if match is None:
        raise GeometryError(
            _("Unknown coordinate system %(name)s: give an EPSG code (e.g. EPSG:4490), not a path or a link.")
            % {"name": _short(name)}
        )
    return usable_crs(lambda: pyproj.CRS.from_epsg(int(match.group(1))), name=f"EPSG:{match.group(1)}")


def usable_crs(make, *, name: str) -> pyproj.CRS:
    """A 2D geographic or projected CRS that PROJ knows, or GeometryError; never a guess."""
    try:
        crs = make()
    except (CRSError, ValueError, TypeError) as error:
        raise GeometryError(_("Unknown coordinate system %(name)s.") % {"name": _short(name)}) from error
    if crs.is_compound and crs.sub_crs_list:
        crs = crs.sub_crs_list[0]
    if not (crs.is_geographic or crs.is_projected) or crs.is_geocentric:
        raise GeometryError(
            _("The coordinate system %(name)s is neither geographic nor projected.") % {"name": _short(name)}
        )
    return crs


def crs_bounds(crs: pyproj.CRS) -> tuple[float, float, float, float]:
    """Where coordinates in `crs` may lie: the globe for lng/lat, the area of use (with a margin) otherwise."""
    if crs.is_geographic:
        return WGS84_BOUNDS
    area = crs.area_of_use
    if area is not None:
        try:
            to_crs = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
            minx, miny, maxx, maxy = to_crs.transform_bounds(area.west, area.south, area.east, area.north)
        except pyproj.exceptions.ProjError:
            minx = math.nan
        if all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) and minx < maxx and miny < maxy:
            dx, dy = (maxx - minx) * AREA_OF_USE_MARGIN, (maxy - miny) * AREA_OF_USE_MARGIN
            return minx - dx, miny - dy, maxx + dx, maxy + dy
    return -MAX_PROJECTED, -MAX_PROJECTED, MAX_PROJECTED, MAX_PROJECTED


# --- Rings ----------------------------------------------------------------------------------------


def check_ring(ring: np.ndarray, *, bounds, number: int) -> None:
    """One ring as an (n, 2) float array: finite, inside `bounds`, at least 4 points, closed."""
    if not np.isfinite(ring).all():
        raise GeometryError(_("ring %(n)s has a coordinate that is not a finite number (NaN or infinity).")
                            % {"n": number})  # fmt: skip
    minx, miny, maxx, maxy = bounds
    outside = (ring[:, 0] < minx) | (ring[:, 0] > maxx) | (ring[:, 1] < miny) | (ring[:, 1] > maxy)
    if outside.any():
        x, y = ring[int(np.argmax(outside))]
        raise GeometryError(
            _("ring %(n)s has the point (%(x)s, %(y)s), outside the coordinate system's valid range "
              "(%(minx)s..%(maxx)s, %(miny)s..%(maxy)s).")
            % {"n": number, "x": _g(x), "y": _g(y), "minx": _g(minx), "maxx": _g(maxx), "miny": _g(miny),
               "maxy": _g(maxy)}
        )  # fmt: skip
    if len(ring) < 4:
        raise GeometryError(_("ring %(n)s has %(count)s points; a ring needs at least 4.")
                            % {"n": number, "count": len(ring)})  # fmt: skip
    if not (ring[0] == ring[-1]).all():
        raise GeometryError(_("ring %(n)s is not closed: its first and last points differ.") % {"n": number})


def check_rings(polygons: list[list[np.ndarray]], *, bounds) -> int:
    """Every ring of a feature's polygons; the feature's vertex count."""
    count, number = 0, 0
    for rings in polygons:
        for ring in rings:
            number += 1
            check_ring(ring, bounds=bounds, number=number)
            count += len(ring)
    return count


def check_counts(*, rings: int, vertices: int) -> None:
    """Refuse a feature too large to handle before any array is built from it."""
    if rings > MAX_RINGS_PER_FEATURE:
        raise GeometryError(_("it has %(n)s rings; at most %(max)s are allowed per feature.")
                            % {"n": rings, "max": MAX_RINGS_PER_FEATURE})  # fmt: skip
    if vertices > MAX_VERTICES_PER_FEATURE:
        raise GeometryError(_("it has %(n)s vertices; at most %(max)s are allowed per feature.")
                            % {"n": vertices, "max": MAX_VERTICES_PER_FEATURE})  # fmt: skip


def _g(value: float) -> str:
    return f"{value:.10g}"
