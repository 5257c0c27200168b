"""Checks on coordinates as plain numbers, made before GEOS or GDAL builds anything from them.

GEOS trusts its input: a polygon at ±1e300 aborted the whole web process in
its WKT writer, NaN and unclosed rings raised deep inside it. So every edge
where a geometry enters (layer and jurisdiction files through grids.validation,
report coordinates, lookups, the admin's map) checks here first: finite
numbers, inside the coordinate system's valid range, rings closed, vertex
counts bounded. Pure and model-free, so the lowest app can use it too;
docs/grids-import.md states the limits.
"""

import math
import numbers

import numpy as np
from django.utils.translation import gettext as _

# A 300-household cell drawn at 1 m has a few hundred vertices; 100,000 is a whole coastline.
MAX_VERTICES_PER_FEATURE = 100_000
MAX_RINGS_PER_FEATURE = 10_000

WGS84_BOUNDS = (-180.0, -90.0, 180.0, 90.0)
# EPSG:3857, the square web maps are drawn on (the admin's OpenLayers map sends these metres).
WEB_MERCATOR_BOUNDS = (-20037508.342789244, -20037508.342789244, 20037508.342789244, 20037508.342789244)


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
            _("%(field)s must be a number of WGS84 degrees, got %(value)s.") % {"field": name, "value": shorten(value)},
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


# --- Rings ----------------------------------------------------------------------------------------


def ring_array(positions: list, *, number: int) -> np.ndarray:
    """GeoJSON-style positions ([x, y(, z, m)] lists of numbers) as an (n, 2) float array, Z and M dropped."""
    values = []
    for position in positions:
        # type(), not isinstance(): JSON true/false are bools, and a bool is an int to Python.
        if (
            type(position) is not list
            or not 2 <= len(position) <= 4
            or not all(type(v) in (int, float) for v in position[:2])
        ):
            raise GeometryError(_("ring %(n)s has a point that is not a pair of numbers.") % {"n": number})
        values += position[:2]
    try:
        return np.array(values, dtype=float).reshape(-1, 2)
    except OverflowError:  # an integer beyond any float
        return np.full((len(positions), 2), np.inf)


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
            % {"n": number, "x": number_text(x), "y": number_text(y), "minx": number_text(minx),
               "maxx": number_text(maxx), "miny": number_text(miny), "maxy": number_text(maxy)}
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


# --- Messages -------------------------------------------------------------------------------------


def shorten(value) -> str:
    """A value as it may appear in a message: its repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def number_text(value: float) -> str:
    return f"{value:.10g}"
