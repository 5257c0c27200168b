"""A geometry typed or drawn in the admin, parsed as plain text and checked before GEOS sees it.

Django's map widget hands the submitted text to GEOSGeometry, which trusts
it: ±1e300 aborted the process in GEOS's WKT writer, NaN and unclosed rings
raise deep inside GEOS. Here the text is read in Python instead, every ring
checked by governance.geocheck, transformed into the storage SRID and checked
again; only then is a GEOS geometry built, from the checked numbers.

The map (Django's OLMapWidget.js) sends a bare GeoJSON geometry in its own
EPSG:3857 metres. WKT or EWKT can be typed where the textarea is visible (the
widget's debug mode, or a hand-made request): plain WKT is in the map's
metres as in Django, `SRID=4326;` gives longitude/latitude. Hex WKB is
refused: nobody types it, and the map never sends it.
"""

import json
import re
from functools import cache
from itertools import count

import numpy as np
import pyproj
from django.conf import settings
from django.contrib.gis.geos import LinearRing, MultiPolygon, Polygon
from django.utils.translation import gettext as _

from governance.geocheck import (
    MAX_RINGS_PER_FEATURE,
    MAX_VERTICES_PER_FEATURE,
    WEB_MERCATOR_BOUNDS,
    WGS84_BOUNDS,
    GeometryError,
    check_counts,
    check_rings,
    ring_array,
    shorten,
)

# Where a coordinate of each SRID accepted here may lie.
SRID_BOUNDS = {4326: WGS84_BOUNDS, 3857: WEB_MERCATOR_BOUNDS}
# OpenLayers writes a vertex in EPSG:3857 at full precision in about 40 characters.
MAX_TEXT_CHARS = 48 * MAX_VERTICES_PER_FEATURE
# The field's type → the types it takes: a single polygon is a one-part MultiPolygon.
ACCEPTED = {"POLYGON": {"Polygon"}, "MULTIPOLYGON": {"Polygon", "MultiPolygon"}}
WKT_TYPES = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon", "MULTIPOINT": "MultiPoint",
             "MULTILINESTRING": "MultiLineString", "MULTIPOLYGON": "MultiPolygon",
             "GEOMETRYCOLLECTION": "GeometryCollection"}  # fmt: skip

_EWKT_SRID = re.compile(r"SRID=(\d{1,9})\s*;", re.I)
_HEX = re.compile(r"[0-9A-Fa-f]+")
# NaN and infinity are read as numbers, so the finite check can say what is wrong with them.
_WKT_TOKEN = re.compile(
    r"\s*(?:(?P<number>[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf(?:inity)?)(?![A-Za-z]))"
    r"|(?P<word>[A-Za-z]+)|(?P<mark>[(),]))",
    re.I,
)


def geometry_from_text(text, *, geom_type: str, map_srid: int) -> Polygon | MultiPolygon:
    """The checked geometry in the storage SRID, of the field's `geom_type`; GeometryError otherwise."""
    kinds = ACCEPTED.get(geom_type.upper())
    if kinds is None:
        raise GeometryError(_("A %(type)s field cannot be edited on the map here.") % {"type": geom_type})
    if not isinstance(text, str):
        raise GeometryError(_("The geometry is not text."))
    text = text.strip()
    if len(text) > MAX_TEXT_CHARS:
        raise GeometryError(_("The geometry is %(n)s characters long; at most %(max)s are accepted.")
                            % {"n": len(text), "max": MAX_TEXT_CHARS})  # fmt: skip
    reader = _read_geojson if text.startswith("{") else _read_wkt
    kind, srid, coordinates = reader(text, kinds=kinds, map_srid=map_srid)
    polygons = _polygons(kind, coordinates)
    check_rings(polygons, bounds=SRID_BOUNDS[srid])
    if srid == 3857 and all((np.abs(ring) <= 180).all() for rings in polygons for ring in rings):
        raise GeometryError(
            _("Every coordinate is within 180 metres of the map's origin: these look like longitude/latitude. "
              "Write them as SRID=4326;POLYGON((…)), or draw on the map.")
        )  # fmt: skip
    if srid != settings.STORAGE_SRID:
        # A coordinate valid in the map's CRS may still land outside the storage CRS: checked again.
        polygons = [[_transform(ring, srid) for ring in rings] for rings in polygons]
        check_rings(polygons, bounds=SRID_BOUNDS[settings.STORAGE_SRID])
    return _build(polygons, multi=geom_type.upper() == "MULTIPOLYGON")


# --- Reading --------------------------------------------------------------------------------------


def _read_geojson(text: str, *, kinds: set[str], map_srid: int) -> tuple[str, int, object]:
    # Every vertex, ring and polygon opens a bracket: a bound checked before json builds a list per vertex.
    if text.count("[") > MAX_VERTICES_PER_FEATURE + 2 * MAX_RINGS_PER_FEATURE + 1:
        raise GeometryError(_("The geometry is too large: at most %(max)s vertices are accepted.")
                            % {"max": MAX_VERTICES_PER_FEATURE})  # fmt: skip
    try:
        # NaN and Infinity stay numbers here, so the finite check can name them.
        data = json.loads(text, parse_constant=float)
    except RecursionError as error:
        raise GeometryError(_("The GeoJSON is nested too deeply.")) from error
    except ValueError as error:
        raise GeometryError(_("The geometry is neither GeoJSON nor WKT.")) from error
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise GeometryError(_("The GeoJSON is not a geometry object."))
    if "crs" in data:
        message = _("GeoJSON here is in the map's coordinates (EPSG:%(srid)s), without a crs member.")
        raise GeometryError(message % {"srid": map_srid})
    _check_kind(data["type"], kinds)
    return data["type"], map_srid, data.get("coordinates")


def _read_wkt(text: str, *, kinds: set[str], map_srid: int) -> tuple[str, int, object]:
    if _HEX.fullmatch(text):
        raise GeometryError(_("Hexadecimal WKB is not accepted here: draw on the map, or give GeoJSON or WKT."))
    srid, match = map_srid, _EWKT_SRID.match(text)
    if match:
        srid, text = int(match.group(1)), text[match.end() :]
        if srid not in SRID_BOUNDS:
            raise GeometryError(_("SRID %(srid)s is not accepted here: give EPSG:4326 longitude/latitude "
                                  "(SRID=4326;…) or the map's EPSG:3857 metres.") % {"srid": srid})  # fmt: skip
    # n vertices, however grouped into rings and polygons, are n - 1 commas: counted before any token is made.
    check_counts(rings=0, vertices=text.count(",") + 1)
    tokens = _tokens(text)
    if not tokens or tokens[0][0] != "word" or tokens[0][1].upper() not in WKT_TYPES:
        raise GeometryError(_("The geometry is neither GeoJSON nor WKT."))
    kind = WKT_TYPES[tokens[0][1].upper()]
    _check_kind(kind, kinds)
    position = 2 if len(tokens) > 1 and tokens[1] in (("word", "Z"), ("word", "M"), ("word", "ZM")) else 1
    if tokens[position:] == [("word", "EMPTY")]:
        return kind, srid, []
    # A MultiPolygon nests three deep: the deepest geometry read here.
    coordinates, position = _wkt_list(tokens, position, depth=3)
    if position != len(tokens):
        raise GeometryError(_("The geometry is neither GeoJSON nor WKT."))
    return kind, srid, coordinates


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position, end = [], 0, len(text.rstrip())
    while position < end:
        match = _WKT_TOKEN.match(text, position)
        if match is None:
            raise GeometryError(_("The geometry is neither GeoJSON nor WKT."))
        tokens.append((match.lastgroup, match.group(match.lastgroup).upper()))
        position = match.end()
    return tokens


def _wkt_list(tokens: list, position: int, *, depth: int) -> tuple[list, int]:
    """'(' items ')' from `position`: an item is a nested list or a coordinate ([x, y(, z, m)])."""
    if depth < 0 or position >= len(tokens) or tokens[position] != ("mark", "("):
        raise GeometryError(_("The geometry is neither GeoJSON nor WKT."))
    items, position = [], position + 1
    while True:
        if position < len(tokens) and tokens[position] == ("mark", "("):
            item, position = _wkt_list(tokens, position, depth=depth - 1)
        else:
            end = position
            while end < len(tokens) and tokens[end][0] == "number":
                end += 1
            item, position = [float(value) for _kind, value in tokens[position:end]], end
        items.append(item)
        mark = tokens[position] if position < len(tokens) else None
        if mark == ("mark", ")"):
            return items, position + 1
        if mark != ("mark", ","):
            raise GeometryError(_("The geometry is neither GeoJSON nor WKT."))
        position += 1


def _check_kind(kind: str, kinds: set[str]) -> None:
    if kind not in kinds:
        raise GeometryError(_("This field takes %(expected)s, not %(kind)s.")
                            % {"expected": " / ".join(sorted(kinds)), "kind": shorten(kind)})  # fmt: skip


# --- Checking and building ------------------------------------------------------------------------


def _polygons(kind: str, coordinates) -> list[list[np.ndarray]]:
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not all(
        isinstance(rings, list) and all(isinstance(ring, list) for ring in rings) for rings in polygons
    ):
        raise GeometryError(_("its coordinates are not lists of rings of points."))
    if not polygons or not all(polygons):
        raise GeometryError(_("The geometry is empty; to remove it, delete all features on the map."))
    check_counts(rings=sum(map(len, polygons)), vertices=sum(len(ring) for rings in polygons for ring in rings))
    number = count(1)
    return [[ring_array(ring, number=next(number)) for ring in rings] for rings in polygons]


@cache
def _transformer(source: int, target: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def _transform(ring: np.ndarray, srid: int) -> np.ndarray:
    x, y = _transformer(srid, settings.STORAGE_SRID).transform(ring[:, 0], ring[:, 1])
    return np.column_stack([x, y])


def _build(polygons: list[list[np.ndarray]], *, multi: bool) -> Polygon | MultiPolygon:
    # A Polygon field only ever gets here with one polygon: _check_kind refused a MultiPolygon.
    built = [Polygon(*(LinearRing(ring) for ring in rings)) for rings in polygons]
    geometry = MultiPolygon(built) if multi else built[0]
    geometry.srid = settings.STORAGE_SRID
    if not geometry.valid:
        # Safe now: every number was checked. An invalid boundary would answer wrong to covers().
        raise GeometryError(_("The polygon is not valid (%(reason)s); redraw it.") % {"reason": geometry.valid_reason})
    return geometry
