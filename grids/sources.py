"""Raw features of a layer file as plain numbers, read without GEOS: the input of grids.importing.

GeoJSON is parsed here in Python, so GDAL never sees it. A Shapefile or a
GeoPackage must be read by GDAL, but only as far as OGR's own WKB export,
which is parsed here with numpy: no GEOS object exists until
grids.validation has passed every ring. Each feature's geometry is parsed
lazily, so the importer can name the feature when it is refused.
"""

import json
import re
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
from django.contrib.gis.gdal import DataSource, GDALException
from django.utils.translation import gettext as _

from governance.geocheck import ring_array
from grids.validation import (
    MAX_FEATURES,
    MAX_UNZIPPED_BYTES,
    MAX_VERTICES_PER_FEATURE,
    WGS84,
    GeometryError,
    check_counts,
    crs_from_geojson_name,
    usable_crs,
)

GEOJSON_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                 "GeometryCollection"}  # fmt: skip
WKB_TYPES = {1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon",
             7: "GeometryCollection"}  # fmt: skip
# (kind, polygons): kind None = no geometry; polygons None = not an area; each ring an (n, 2) float array.
Parsed = tuple[str | None, list[list[np.ndarray]] | None]


class SourceError(ValueError):
    """The file as a whole cannot be read; the message never holds a server path."""


@dataclass
class RawFeature:
    value: Callable[[str], object]  # attribute by field name, None if absent
    geometry: Callable[[], Parsed]  # raises GeometryError


@dataclass
class RawLayer:
    format: str
    crs: pyproj.CRS
    srs_name: str
    fields: list[str]
    features: Iterator[RawFeature]


# --- GeoJSON ------------------------------------------------------------------------------------


def read_geojson(path: Path) -> RawLayer:
    data = _load_json(path)
    crs, srs_name = _geojson_crs(data)
    if data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise SourceError(_("The FeatureCollection has no list of features."))
    elif data.get("type") == "Feature":
        features = [data]
    elif data.get("type") in GEOJSON_TYPES:
        features = [{"type": "Feature", "properties": {}, "geometry": data}]
    else:
        raise SourceError(_("The file is JSON but not GeoJSON (no FeatureCollection, Feature or geometry)."))
    if not features:
        raise SourceError(_("The file %(name)s holds no features.") % {"name": path.name})
    if len(features) > MAX_FEATURES:
        raise SourceError(_("The file holds %(n)s features; at most %(max)s are allowed.")
                          % {"n": len(features), "max": MAX_FEATURES})  # fmt: skip
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            raise SourceError(_("Feature #%(n)s is not a GeoJSON Feature object.") % {"n": index + 1})
    fields = list(dict.fromkeys(key for feature in features for key in (feature.get("properties") or {})))
    return RawLayer("GeoJSON", crs, srs_name, fields, (_geojson_feature(f) for f in features))


def _load_json(path: Path):
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceError(_("The file is not UTF-8 text.")) from error
    try:
        # NaN and Infinity stay numbers here, so the check that refuses them can name the feature.
        data = json.loads(text, parse_constant=float)
    except RecursionError as error:
        raise SourceError(_("The file's JSON is nested too deeply.")) from error
    except ValueError as error:
        raise SourceError(_("The file is not valid JSON: %(error)s") % {"error": error}) from error
    if not isinstance(data, dict):
        raise SourceError(_("The file is JSON but not GeoJSON (no FeatureCollection, Feature or geometry)."))
    return data


def _geojson_crs(data: dict) -> tuple[pyproj.CRS, str]:
    member = data.get("crs")
    if member is None:
        return WGS84, "EPSG:4326"  # RFC 7946: GeoJSON without "crs" is WGS84 lng/lat
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if not (isinstance(member, dict) and member.get("type") == "name" and isinstance(name, str)):
        raise SourceError(_("The file's \"crs\" member must name an EPSG code; links are not followed."))
    try:
        crs = crs_from_geojson_name(name)
    except GeometryError as error:
        raise SourceError(str(error)) from error
    return crs, _crs_name(crs, name)


def _geojson_feature(feature: dict) -> RawFeature:
    properties = feature.get("properties") or {}
    return RawFeature(properties.get, lambda: _geojson_geometry(feature.get("geometry")))


def _geojson_geometry(geometry) -> Parsed:
    if geometry is None:
        return None, None
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in GEOJSON_TYPES:
        raise GeometryError(_("its geometry is not a GeoJSON geometry object."))
    if kind not in ("Polygon", "MultiPolygon"):
        return kind, None
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not all(
        isinstance(rings, list) and all(isinstance(ring, list) for ring in rings) for rings in polygons
    ):
        raise GeometryError(_("its coordinates are not lists of rings of points."))
    polygons = [rings for rings in polygons if rings]
    check_counts(rings=sum(map(len, polygons)), vertices=sum(len(ring) for rings in polygons for ring in rings))
    number = iter(range(1, MAX_VERTICES_PER_FEATURE))
    return kind, [[ring_array(ring, number=next(number)) for ring in rings] for rings in polygons]


# --- Shapefile and GeoPackage, through OGR --------------------------------------------------------


def read_ogr(path: Path, driver: str) -> RawLayer:
    if driver == "ESRI Shapefile":
        _check_zip(path)
    # GDAL reads a zipped Shapefile in place through its virtual file system.
    name = f"/vsizip/{path.resolve()}" if driver == "ESRI Shapefile" else str(path)
    try:
        datasource = DataSource(name)
    except GDALException as error:
        raise SourceError(_("GDAL cannot read the file: %(error)s") % {"error": without_paths(error, path)}) from error
    layer = _single_layer(datasource, path)
    if layer.num_feat > MAX_FEATURES:
        raise SourceError(_("The file holds %(n)s features; at most %(max)s are allowed.")
                          % {"n": layer.num_feat, "max": MAX_FEATURES})  # fmt: skip
    crs, srs_name = _ogr_crs(layer)
    fields = list(layer.fields)
    return RawLayer(datasource.driver.name, crs, srs_name, fields, _ogr_features(datasource, layer, fields))


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise SourceError(_("The .zip file cannot be opened.")) from error
    if sum(member.file_size for member in members) > MAX_UNZIPPED_BYTES:
        raise SourceError(_("The .zip file unpacks to more than %(mb)s MB.") % {"mb": MAX_UNZIPPED_BYTES >> 20})
    if not any(member.filename.lower().endswith(".shp") for member in members):
        raise SourceError(_("The .zip file holds no Shapefile (.shp)."))


def _single_layer(datasource, path: Path):
    layers = [layer for layer in datasource if layer.num_feat]
    if not layers:
        raise SourceError(_("The file %(name)s holds no features.") % {"name": path.name})
    if len(layers) > 1:
        names = ", ".join(layer.name for layer in layers)
        raise SourceError(
            _("The file holds several layers (%(names)s); export the one to import on its own.") % {"names": names}
        )
    return layers[0]


def _ogr_crs(layer) -> tuple[pyproj.CRS, str]:
    srs = layer.srs
    # GDAL names the placeholder of a GeoPackage without a coordinate system "Undefined …".
    if srs is None or not srs.wkt or (srs.name or "").lower().startswith("undefined"):
        raise SourceError(
            _("The file does not say its coordinate system (a Shapefile needs its .prj); export it with one.")
        )
    name = f"EPSG:{srs.srid}" if srs.srid else (srs.name or "?")
    try:
        crs = usable_crs(lambda: pyproj.CRS.from_wkt(srs.wkt), name=name)
    except GeometryError as error:
        raise SourceError(str(error)) from error
    return crs, name


def _ogr_features(datasource, layer, fields: list[str]) -> Iterator[RawFeature]:
    del datasource  # held until here: the layer's features die with their data source
    for feature in layer:
        yield RawFeature(lambda name, f=feature: f.get(name) if name in fields else None,
                         lambda f=feature: _ogr_geometry(f))  # fmt: skip


def _ogr_geometry(feature) -> Parsed:
    try:
        geometry = feature.geom
    except GDALException:
        return None, None  # GeoDjango raises on a feature whose geometry is null
    if geometry is None:
        return None, None
    # 16 bytes per 2D vertex: a bound on the vertices before the WKB is even exported.
    if geometry.wkb_size > 32 * MAX_VERTICES_PER_FEATURE + 4096:
        check_counts(rings=0, vertices=geometry.wkb_size // 32)
    return parse_wkb(bytes(geometry.wkb))


# --- WKB ------------------------------------------------------------------------------------------


def parse_wkb(data: bytes) -> Parsed:
    """The polygons of a WKB geometry as (n, 2) arrays (Z and M dropped), without GEOS."""
    try:
        kind, dims, offset, order = _wkb_header(data, 0)
        if kind == "Polygon":
            rings, offset = _wkb_rings(data, offset, dims, order)
            polygons = [rings]
        elif kind == "MultiPolygon":
            (count,), offset = _unpack(order + "I", data, offset), offset + 4
            polygons = []
            for _index in range(count):
                part, part_dims, offset, part_order = _wkb_header(data, offset)
                if part != "Polygon":
                    raise GeometryError(_("its geometry is corrupt."))
                rings, offset = _wkb_rings(data, offset, part_dims, part_order)
                polygons.append(rings)
        else:
            return kind, None
    except (struct.error, ValueError) as error:
        if isinstance(error, GeometryError):
            raise
        raise GeometryError(_("its geometry is corrupt.")) from error
    return kind, [rings for rings in polygons if rings]


def _wkb_header(data: bytes, offset: int) -> tuple[str, int, int, str]:
    order = "<" if data[offset] == 1 else ">"
    (code,) = _unpack(order + "I", data, offset + 1)
    z, m = bool(code & 0x80000000), bool(code & 0x40000000)  # old-style 2.5D flags
    code &= 0x0FFFFFFF
    z, m = z or code // 1000 in (1, 3), m or code // 1000 in (2, 3)  # ISO: 1000s Z, 2000s M, 3000s ZM
    return WKB_TYPES.get(code % 1000, f"WKB type {code}"), 2 + z + m, offset + 5, order


def _wkb_rings(data: bytes, offset: int, dims: int, order: str) -> tuple[list[np.ndarray], int]:
    (count,), offset = _unpack(order + "I", data, offset), offset + 4
    check_counts(rings=count, vertices=0)
    rings = []
    for _index in range(count):
        (points,), offset = _unpack(order + "I", data, offset), offset + 4
        if points > MAX_VERTICES_PER_FEATURE or offset + points * dims * 8 > len(data):
            check_counts(rings=0, vertices=points)
            raise GeometryError(_("its geometry is corrupt."))
        values = np.frombuffer(data, dtype=order + "f8", count=points * dims, offset=offset)
        rings.append(values.reshape(points, dims)[:, :2].astype(float))
        offset += points * dims * 8
    return rings, offset


def _unpack(fmt: str, data: bytes, offset: int) -> tuple:
    return struct.unpack_from(fmt, data, offset)


# --- Helpers --------------------------------------------------------------------------------------


def _crs_name(crs: pyproj.CRS, given: str) -> str:
    code = crs.to_epsg(min_confidence=90)
    return f"EPSG:{code}" if code else given


_PATH = re.compile(r"(?:/vsi\w+/)?(?:/[^\s'\"/:]+)+/?")


def without_paths(error, path: Path) -> str:
    """GDAL's message with every server path replaced by the file's own name."""
    return _PATH.sub(lambda match: Path(match.group(0)).name or path.name, str(error))
