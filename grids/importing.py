"""Read polygons from GeoJSON, a zipped Shapefile or a GeoPackage, in any CRS.

GDAL (through GeoDjango) reads the file; each geometry is transformed once to
the storage SRID, then repaired. Nothing is dropped without a line in the
report: features without a geometry or with a non-polygon geometry are
reported and skipped, invalid ones are repaired and reported, duplicate or
missing codes are made unique and reported.
"""

from dataclasses import dataclass, field
from pathlib import Path

import shapely
from django.conf import settings
from django.contrib.gis.gdal import CoordTransform, DataSource, GDALException, SpatialReference
from django.utils.translation import gettext as _

from grids.geometry import repair, to_geojson

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


def read_polygons(path: Path, *, code_field: str = "code", name_field: str = "name", extra_fields=()) -> SourceData:
    datasource = _open(path)
    layer = _polygon_layer(datasource, path)
    fields = list(layer.fields)
    for wanted in (code_field,):
        if wanted not in fields:
            raise LayerImportError(
                _("The file has no field %(field)s; its fields are: %(fields)s.")
                % {"field": wanted, "fields": ", ".join(fields) or "—"}
            )
    transform, srs_name = _transform_for(layer)
    features, problems, seen = [], [], {}
    for index, feature in enumerate(layer):
        code = _text(feature, code_field, fields)
        label = code or f"#{index + 1}"
        geometry = _geometry(feature, transform)
        if geometry is None:
            problems.append({"kind": "no_geometry", "code": label, "message": _("The feature has no geometry.")})
            continue
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(
                {
                    "kind": "not_polygon",
                    "code": label,
                    "message": _("A %(type)s is not an area; skipped.") % {"type": geometry.geom_type},
                }
            )
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
        extra = {name: _text(feature, name, fields) for name in extra_fields}
        features.append(
            SourceFeature(code, _text(feature, name_field, fields), fixed.geometry, not fixed.was_valid, extra)
        )
    if not features:
        raise LayerImportError(_("The file holds no polygon that could be imported."))
    return SourceData(features, datasource.driver.name, srs_name, problems)


def _open(path: Path) -> DataSource:
    path = Path(path)
    if not path.is_file():
        raise LayerImportError(_("No such file: %(path)s") % {"path": path})
    if path.suffix.lower() not in FORMATS:
        raise LayerImportError(
            _("Unsupported file type %(suffix)s: use GeoJSON, a Shapefile in a .zip, or a GeoPackage.")
            % {"suffix": path.suffix or "?"}
        )
    # GDAL reads a zipped Shapefile in place through its virtual file system.
    name = f"/vsizip/{path.resolve()}" if path.suffix.lower() == ".zip" else str(path)
    try:
        return DataSource(name)
    except GDALException as error:
        raise LayerImportError(_("GDAL cannot read the file: %(error)s") % {"error": error}) from error


def _polygon_layer(datasource: DataSource, path: Path):
    layers = [layer for layer in datasource if layer.num_feat]
    if not layers:
        raise LayerImportError(_("The file %(name)s holds no features.") % {"name": Path(path).name})
    if len(layers) > 1:
        names = ", ".join(layer.name for layer in layers)
        raise LayerImportError(
            _("The file holds several layers (%(names)s); export the one to import on its own.") % {"names": names}
        )
    return layers[0]


def _transform_for(layer):
    target = SpatialReference(settings.STORAGE_SRID)
    source = layer.srs
    if source is None:
        # GeoJSON without a "crs" member is WGS84 by definition (RFC 7946).
        return None, "EPSG:4326 (assumed)"
    source = SpatialReference(source.wkt)
    name = f"EPSG:{source.srid}" if source.srid else (source.name or "unknown")
    if source.srid == settings.STORAGE_SRID or (source.geographic and source.name in ("WGS 84", "WGS84")):
        return None, name
    try:
        return CoordTransform(source, target), name
    except GDALException as error:
        raise LayerImportError(
            _("Cannot transform from %(srs)s to WGS84: %(error)s") % {"srs": name, "error": error}
        ) from error


def _geometry(feature, transform):
    try:
        ogr = feature.geom
    except GDALException:
        return None  # GeoDjango raises on a feature whose geometry is null
    if ogr is None:
        return None
    if transform is not None:
        ogr.transform(transform)
    geometry = shapely.from_wkb(bytes(ogr.wkb))
    return None if geometry.is_empty else shapely.force_2d(geometry)


def _text(feature, name: str, fields: list[str]) -> str:
    if name not in fields:
        return ""
    value = feature.get(name)
    return "" if value is None else str(value).strip()


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
