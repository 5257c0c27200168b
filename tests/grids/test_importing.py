"""Reading layers: every format, a projected CRS, repair of a bow-tie, clear errors."""

import json
import shutil
import subprocess
import zipfile

import pytest
import shapely

from grids.geometry import MetricFrame, repair
from grids.importing import LayerImportError, read_polygons

pytestmark = pytest.mark.usefixtures("english")

SQUARE = shapely.box(121.50, 29.99, 121.51, 30.00)
BOW_TIE = shapely.Polygon([(121.52, 29.99), (121.53, 30.00), (121.53, 29.99), (121.52, 30.00), (121.52, 29.99)])
FRAME = MetricFrame(121.51, 29.995)


def feature_collection(features) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geometry))}
            for props, geometry in features
        ],
    }


def write_geojson(path, features):
    path.write_text(json.dumps(feature_collection(features), ensure_ascii=False), encoding="utf-8")
    return path


def ogr2ogr(*args):
    if shutil.which("ogr2ogr") is None:
        pytest.fail("ogr2ogr (Debian package gdal-bin) is required")
    subprocess.run(["ogr2ogr", *args], check=True, capture_output=True)


@pytest.fixture
def source(tmp_path):
    return write_geojson(
        tmp_path / "cg.geojson",
        [({"code": "CG-0001", "name": "城管网格一"}, SQUARE), ({"code": "CG-0002", "name": "二"}, BOW_TIE)],
    )


def test_geojson_reads_codes_names_and_repairs_the_bow_tie(source):
    data = read_polygons(source)
    assert [(f.code, f.name, f.repaired) for f in data.features] == [
        ("CG-0001", "城管网格一", False),
        ("CG-0002", "二", True),
    ]
    assert data.features[0].geometry.equals(SQUARE)
    repaired = data.features[1].geometry
    # The bow-tie becomes its two triangles: same outline, valid, nothing lost.
    assert repaired.geom_type == "MultiPolygon" and len(repaired.geoms) == 2 and repaired.is_valid
    assert repaired.area == pytest.approx(0.5 * 0.01 * 0.01)
    assert [p["kind"] for p in data.problems] == ["repaired"]
    assert "Self-intersection" in data.problems[0]["message"]


def test_repair_draws_the_two_triangles():
    # (0,0)→(2,2)→(2,0)→(0,2): the crossing at (1,1) splits it into a left and a right triangle.
    fixed = repair(shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]))
    assert not fixed.was_valid and fixed.reason.startswith("Self-intersection")
    left = shapely.Polygon([(0, 0), (1, 1), (0, 2)])
    right = shapely.Polygon([(2, 0), (1, 1), (2, 2)])
    assert fixed.geometry.equals(shapely.MultiPolygon([left, right]))


def test_zipped_shapefile_in_a_projected_crs_lands_where_it_should(source, tmp_path):
    shape_dir = tmp_path / "shp"
    shape_dir.mkdir()
    # EPSG:4547 is CGCS2000 / 3-degree Gauss-Kruger CM 114E, named in the issue.
    ogr2ogr("-f", "ESRI Shapefile", "-t_srs", "EPSG:4547", "-lco", "ENCODING=UTF-8", str(shape_dir / "cg.shp"),
            str(source))  # fmt: skip
    archive = tmp_path / "cg.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in shape_dir.iterdir():
            zipped.write(part, part.name)
    data = read_polygons(archive)
    assert data.format == "ESRI Shapefile" and data.srs == "EPSG:4547"
    assert [f.name for f in data.features] == ["城管网格一", "二"]
    # Back in WGS84 within a centimetre of the original corners.
    moved = shapely.hausdorff_distance(FRAME.project(data.features[0].geometry), FRAME.project(SQUARE))
    assert moved < 0.01


def test_geopackage_in_cgcs2000_geographic(source, tmp_path):
    target = tmp_path / "cg.gpkg"
    ogr2ogr("-f", "GPKG", "-t_srs", "EPSG:4490", str(target), str(source))
    data = read_polygons(target)
    assert data.format == "GPKG" and data.srs == "EPSG:4490"
    assert len(data.features) == 2
    # CGCS2000 and WGS84 differ by centimetres; the corner order must not be swapped (lat/lng).
    assert shapely.hausdorff_distance(FRAME.project(data.features[0].geometry), FRAME.project(SQUARE)) < 1


def test_other_code_and_name_fields(tmp_path):
    path = write_geojson(tmp_path / "x.geojson", [({"bm": "A1", "mc": "甲"}, SQUARE)])
    data = read_polygons(path, code_field="bm", name_field="mc")
    assert [(f.code, f.name) for f in data.features] == [("A1", "甲")]


def test_missing_code_field_is_a_clear_error(source):
    with pytest.raises(LayerImportError, match="bm"):
        read_polygons(source, code_field="bm")


def test_duplicate_missing_codes_and_non_polygons_are_reported_not_lost(tmp_path):
    path = tmp_path / "messy.geojson"
    collection = feature_collection(
        [({"code": "A"}, SQUARE), ({"code": "A"}, SQUARE), ({"code": ""}, SQUARE), ({"code": "P"}, shapely.Point(1, 1))]
    )
    collection["features"].append({"type": "Feature", "properties": {"code": "N"}, "geometry": None})
    path.write_text(json.dumps(collection))
    data = read_polygons(path)
    assert [f.code for f in data.features] == ["A", "A~2", "#3"]
    assert sorted(p["kind"] for p in data.problems) == ["duplicate_code", "missing_code", "no_geometry", "not_polygon"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.txt", "hello", "Unsupported file type"),
        ("x.geojson", "{not json", "not valid JSON"),
        ("x.geojson", json.dumps({"type": "FeatureCollection", "features": []}), "no features"),
    ],
)
def test_bad_files_are_refused_clearly(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(LayerImportError, match=message):
        read_polygons(path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(LayerImportError, match="No such file"):
        read_polygons(tmp_path / "nothing.geojson")
