"""Read polygons from GeoJSON, a zipped Shapefile or a GeoPackage, in any CRS.

grids.sources reads each feature's rings as plain numbers (GeoJSON in Python,
the others through OGR's WKB, never through GEOS); grids.validation checks
them in the file's own CRS; only then are they transformed once to the
storage SRID (with pyproj), checked again, and handed to GEOS to be repaired.
A file that fails a check is refused as a whole, naming the feature. Nothing
is dropped without a line in the report: features without a geometry or with
a non-polygon geometry are reported and skipped, invalid ones are repaired
and reported, duplicate or missing codes are made unique and reported.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyproj
import shapely
from django.conf import settings
from django.utils.translation import gettext as _

from grids import validation
from grids.geometry import repair, to_geojson
from grids.sources import RawFeature, RawLayer, SourceError, read_geojson, read_ogr
from grids.validation import GeometryError, check_counts, check_rings, crs_bounds

FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".zip": "ESRI Shapefile", ".gpkg": "GPKG"}


class LayerImportError(ValueError):
    """The file cannot be imported; the message says why, for the person who sent it."""


@dataclass
class SourceFeature:
    code: str
    name: str
    geometry: object  # shapely Polygon or MultiPolygon, WGS84
    repaired: bool = False
    extra: dict = field(default_factory=dict)


@dataclass
class SourceData:
    features: list[SourceFeature]
    format: str
    srs: str
    problems: list[dict]  # report items (kind, code, message, geometry?)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(shapely.total_bounds(np.asarray([f.geometry for f in self.features], dtype=object)).tolist())


def read_polygons(path: Path, *, code_field: str = "code", name_field: str = "name", extra_fields=()) -> SourceData:
    layer = _open(Path(path))
    if code_field not in layer.fields:
        raise LayerImportError(
            _("The file has no field %(field)s; its fields are: %(fields)s.")
            % {"field": code_field, "fields": ", ".join(layer.fields) or "—"}
        )
    reader = _Reader(layer)
    features, problems, seen = [], [], {}
    for index, raw in enumerate(layer.features):
        code = _text(raw, code_field)
        label = code or f"#{index + 1}"
        try:
            geometry = reader.geometry(raw)
        except GeometryError as error:
            raise LayerImportError(
                _("Feature %(feature)s (#%(n)s): %(error)s") % {"feature": label, "n": index + 1, "error": error}
            ) from error
        if isinstance(geometry, dict):
            problems.append({"code": label} | geometry)
            continue
        fixed = repair(geometry)
        if fixed.geometry is None:
            problems.append({"kind": "empty", "code": label, "message": _("The polygon has no area; skipped.")})
            continue
        if not fixed.was_valid:
            problems.append(
                {
                    "kind": "repaired",
                    "code": label,
                    "message": _("Invalid geometry repaired: %(reason)s") % {"reason": fixed.reason},
                    "geometry": to_geojson(geometry),
                }
            )
        code = _unique_code(code, index, seen, problems)
        extra = {name: _text(raw, name) for name in extra_fields}
        features.append(SourceFeature(code, _text(raw, name_field), fixed.geometry, not fixed.was_valid, extra))
    if not features:
        raise LayerImportError(_("The file holds no polygon that could be imported."))
    return SourceData(features, layer.format, layer.srs_name, problems)


def _open(path: Path) -> RawLayer:
    if not path.is_file():
        raise LayerImportError(_("No such file: %(name)s") % {"name": path.name})
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise LayerImportError(
            _("Unsupported file type %(suffix)s: use GeoJSON, a Shapefile in a .zip, or a GeoPackage.")
            % {"suffix": suffix or "?"}
        )
    if path.stat().st_size > validation.MAX_FILE_BYTES:
        raise LayerImportError(
            _("The file is larger than %(mb)d MB.") % {"mb": validation.MAX_FILE_BYTES // (1024 * 1024)}
        )
    try:
        return read_geojson(path) if FORMATS[suffix] == "GeoJSON" else read_ogr(path, FORMATS[suffix])
    except SourceError as error:
        raise LayerImportError(str(error)) from error


class _Reader:
    """Turns a raw feature into a checked WGS84 shapely geometry, or a report item saying why not."""

    def __init__(self, layer: RawLayer):
        self.bounds = crs_bounds(layer.crs)
        target = pyproj.CRS.from_epsg(settings.STORAGE_SRID)
        same = layer.crs == target
        self.transformer = None if same else pyproj.Transformer.from_crs(layer.crs, target, always_xy=True)
        self.vertices = 0

    def geometry(self, raw: RawFeature):
        kind, polygons = raw.geometry()
        if kind is None:
            return {"kind": "no_geometry", "message": _("The feature has no geometry.")}
        if polygons is None:
            return {"kind": "not_polygon", "message": _("A %(type)s is not an area; skipped.") % {"type": kind}}
        if not polygons:
            return {"kind": "empty", "message": _("The polygon has no area; skipped.")}
        count = check_rings(polygons, bounds=self.bounds)
        check_counts(rings=0, vertices=count)
        self.vertices += count
        if self.vertices > validation.MAX_VERTICES_PER_FILE:
            raise GeometryError(
                _("the file holds more than %(max)s vertices in all.") % {"max": validation.MAX_VERTICES_PER_FILE}
            )
        if self.transformer is not None:
            # A valid projected coordinate can still land on inf/NaN: checked again after the transform.
            polygons = [[self._transform(ring) for ring in rings] for rings in polygons]
            check_rings(polygons, bounds=validation.WGS84_BOUNDS)
        shapes = [shapely.Polygon(rings[0], rings[1:]) for rings in polygons]
        return shapes[0] if len(shapes) == 1 else shapely.MultiPolygon(shapes)

    def _transform(self, ring: np.ndarray) -> np.ndarray:
        x, y = self.transformer.transform(ring[:, 0], ring[:, 1], errcheck=False)
        ring = np.column_stack([x, y])
        ring[-1] = ring[0]  # the same point transforms to the same numbers; keep the ring closed exactly
        return ring


def _text(raw: RawFeature, name: str) -> str:
    value = raw.value(name)
    # A list or object where a code belongs is no code (and its repr could recurse as deep as the JSON).
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def _unique_code(code: str, index: int, seen: dict, problems: list) -> str:
    if not code:
        code = f"#{index + 1}"
        problems.append({"kind": "missing_code", "code": code, "message": _("No code; numbered by position.")})
    if code in seen:
        seen[code] += 1
        new = f"{code}~{seen[code]}"
        problems.append(
            {"kind": "duplicate_code", "code": new, "message": _("Duplicate code %(code)s renamed.") % {"code": code}}
        )
        return new
    seen[code] = 1
    return code
