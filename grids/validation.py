"""Checks on every coordinate that enters, made on plain numbers before GEOS or GDAL builds anything.

GEOS trusts its input: a polygon at ±1e300 aborted the whole web process in
its WKT writer, NaN and unclosed rings raised deep inside it. So every edge
(layer and jurisdiction files, report coordinates, lookups) checks first:
finite numbers, inside the coordinate system's area, rings closed, vertex
counts bounded. The number checks themselves are governance.geocheck's; this
module adds the file limits and the coordinate systems a file may name.
docs/grids-import.md states the limits.
"""

import math
import re

import pyproj
from django.utils.translation import gettext as _
from pyproj.exceptions import CRSError

# The checks on plain numbers live in governance (the lowest app, whose admin map needs them
# too); grids and its callers keep importing them from here.
from governance.geocheck import (
    MAX_RINGS_PER_FEATURE,
    MAX_VERTICES_PER_FEATURE,
    WGS84_BOUNDS,
    GeometryError,
    check_counts,
    check_point,
    check_ring,
    check_rings,
    shorten,
)

__all__ = [
    "AREA_OF_USE_MARGIN",
    "MAX_FEATURES",
    "MAX_FILE_BYTES",
    "MAX_PROJECTED",
    "MAX_RINGS_PER_FEATURE",
    "MAX_UNZIPPED_BYTES",
    "MAX_VERTICES_PER_FEATURE",
    "MAX_VERTICES_PER_FILE",
    "WGS84",
    "WGS84_BOUNDS",
    "GeometryError",
    "check_counts",
    "check_point",
    "check_ring",
    "check_rings",
    "crs_bounds",
    "crs_from_geojson_name",
    "usable_crs",
]

# A district's departmental grid is a few MB; anything far larger is a wrong file.
MAX_FILE_BYTES = 50 * 1024 * 1024
# What a zipped Shapefile may unpack to: a zip bomb stops here, before GDAL reads it.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_VERTICES_PER_FILE = 2_000_000
MAX_FEATURES = 100_000
# Projected coordinates may stray this far (as a share of the CRS's own area) outside its area of use.
AREA_OF_USE_MARGIN = 0.5
# Without an area of use, no projected coordinate on Earth is farther than this from the origin.
MAX_PROJECTED = 1e8

WGS84 = pyproj.CRS.from_epsg(4326)

# Names of a coordinate system the GeoJSON "crs" member may carry: identifiers only, never a link.
_EPSG_NAME = re.compile(
    r"(?:EPSG:|urn:ogc:def:crs:EPSG:[0-9.]*:|https?://www\.opengis\.net/def/crs/EPSG/[0-9.]+/)(\d{4,6})", re.I
)
_CRS84_NAME = re.compile(r"(?:urn:ogc:def:crs:OGC:(?:1\.3)?:CRS84|https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84)",
                         re.I)  # fmt: skip


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
            % {"name": shorten(name)}
        )
    return usable_crs(lambda: pyproj.CRS.from_epsg(int(match.group(1))), name=f"EPSG:{match.group(1)}")


def usable_crs(make, *, name: str) -> pyproj.CRS:
    """A 2D geographic or projected CRS that PROJ knows, or GeometryError; never a guess."""
    try:
        crs = make()
    except (CRSError, ValueError, TypeError) as error:
        raise GeometryError(_("Unknown coordinate system %(name)s.") % {"name": shorten(name)}) from error
    if crs.is_compound and crs.sub_crs_list:
        crs = crs.sub_crs_list[0]
    if not (crs.is_geographic or crs.is_projected) or crs.is_geocentric:
        raise GeometryError(
            _("The coordinate system %(name)s is neither geographic nor projected.") % {"name": shorten(name)}
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
