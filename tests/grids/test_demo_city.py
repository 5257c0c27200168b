"""grids.demo_city: a clean jurisdiction, departmental layers that are messy on purpose, reproducible files."""

import hashlib
import itertools
import json
import re

import numpy as np
import pyproj
import pytest
import shapely
from django.contrib.gis.gdal import DataSource

from grids import demo_city
from grids.demo_city import (
    BLOCK,
    DISTRICT,
    MAX_BLOCKS,
    ORIGIN,
    STREETS,
    generate_city,
    recommended_blocks,
    write_city,
)

N = 60  # polygons per layer for the small city most tests share
DISTRICT_BOX = shapely.box(121.53, 29.94, 121.5716, 29.976)  # governance.demo: ORIGIN + 4 × BLOCK
BIG_BLOCKS = 12  # recommended_blocks(2000): the city of the 6 × 2,000-polygon benchmark

# Taken from generate_city(seed=7, polygons_per_layer=N) before `blocks` existed, so growing the
# generator can never move the demo city by a bit. Communities are pure random + numpy arithmetic;
# the layers also go through GEOS (Voronoi, noding), whose output may change between versions.
PINNED_COMMUNITIES = "efcaed585f4595bfa4efd61670fbf40b4b8c8a2b791300a9f143f7def441e3f1"
PINNED_JURISDICTION_FILE = "e5246ec42231b45a104d465f1ffe183bdd515895b197a097f33dc640fb4a172b"
PINNED_LAYERS = "37ed015a88e319c832bd4d248a4c241fcee50154db879aefd2642c5984a38d2e"
PINNED_GEOS = (3, 14, 1)
_TO_METRES = pyproj.Transformer.from_crs(4326, 4549, always_xy=True)


def metric(geometry):
    """Metres in EPSG:4549, where areas and widths can be compared with thresholds."""
    return shapely.transform(geometry, lambda xy: np.column_stack(_TO_METRES.transform(xy[:, 0], xy[:, 1])))


@pytest.fixture(scope="module")
def city():
    return generate_city(seed=7, polygons_per_layer=N)


@pytest.fixture(scope="module")
def files(city, tmp_path_factory):
    return write_city(city, tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def district_m(city):
    return metric(shapely.union_all([c.geometry for c in city.communities]))


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """The benchmark's city, generated and written once."""
    city = generate_city(seed=3, polygons_per_layer=2000, blocks=BIG_BLOCKS)
    files = write_city(city, tmp_path_factory.mktemp("big"))
    return city, files


def lattice_box(blocks: int):
    """The nominal district of a `blocks` × `blocks` city: ORIGIN + blocks × BLOCK, at 1 cm."""
    east, north = (round(o + blocks * b, 7) for o, b in zip(ORIGIN, BLOCK, strict=True))
    return shapely.box(ORIGIN[0], ORIGIN[1], east, north)


def digest(features) -> str:
    h = hashlib.sha256()
    for feature in features:
        h.update(f"{feature.code}|{feature.name}|".encode())
        h.update(feature.geometry.wkb)
    return h.hexdigest()


def all_features(city):
    return [*city.communities, *itertools.chain.from_iterable(city.layers.values())]


def layer_m(city, code):
    """The layer's valid polygons in metres (overlay operations refuse the deliberate bow-tie)."""
    return np.array([metric(f.geometry) for f in city.layers[code] if f.geometry.is_valid], dtype=object)


# --- the jurisdiction ----------------------------------------------------------------


def test_communities_are_an_exact_partition_of_the_district(city):
    polygons = [c.geometry for c in city.communities]
    assert len(polygons) == 16
    assert all(p.is_valid and p.geom_type == "Polygon" for p in polygons)
    assert shapely.union_all(polygons).equals(DISTRICT_BOX)
    # Shared edges use identical coordinates, so neighbours overlap by exactly nothing.
    assert all(shapely.area(a.intersection(b)) == 0.0 for a, b in itertools.combinations(polygons, 2))
    assert sum(p.area for p in polygons) == pytest.approx(DISTRICT_BOX.area, rel=1e-12)


def test_communities_are_irregular(city):
    for community in city.communities:
        geometry = community.geometry
        assert len(geometry.exterior.coords) > 5
        assert geometry.area < 0.995 * geometry.envelope.area  # not a rectangle in disguise


def test_community_codes_and_names_follow_the_demo_streets(city):
    assert city.district_code == DISTRICT[0] == "330211"
    expected = {
        f"{DISTRICT[0]}{s_code}{i + 1:03d}": name for s_code, _, names in STREETS for i, name in enumerate(names)
    }
    assert {c.code: c.name for c in city.communities} == expected
    assert all(re.fullmatch(r"330211\d{6}", c.code) for c in city.communities)
    for s_code, _, _ in STREETS:
        street = [c.geometry for c in city.communities if c.code.startswith(DISTRICT[0] + s_code)]
        assert len(street) == 4
        assert shapely.union_all(street).geom_type == "Polygon"  # a street is one contiguous block


def test_demo_city_communities_are_pinned_byte_for_byte(city, files):
    assert digest(city.communities) == PINNED_COMMUNITIES
    assert hashlib.sha256(files.jurisdiction.read_bytes()).hexdigest() == PINNED_JURISDICTION_FILE


def test_demo_city_layers_are_pinned_byte_for_byte(city):
    if shapely.geos_version != PINNED_GEOS:
        pytest.skip(f"layer digest pinned under GEOS {PINNED_GEOS}, running {shapely.geos_version}")
    assert digest(itertools.chain.from_iterable(city.layers.values())) == PINNED_LAYERS


def test_four_blocks_and_four_kilometres_are_the_defaults():
    default = generate_city(seed=5, polygons_per_layer=30)
    explicit = generate_city(seed=5, polygons_per_layer=30, blocks=4, size_km=4.0)
    assert digest(all_features(default)) == digest(all_features(explicit))


# --- layers --------------------------------------------------------------------------


def test_six_departments_with_about_the_requested_number_of_polygons(city):
    assert list(city.layers) == ["CG", "SZ", "ZZ", "SW", "HB", "SJ"]
    for code, features in city.layers.items():
        assert 0.9 * N <= len(features) <= N + 2, code
        assert [f.code for f in features] == [f"{code}-{n:04d}" for n in range(1, len(features) + 1)]
        assert all(f.geometry.geom_type in ("Polygon", "MultiPolygon") for f in features)
    assert city.layers["CG"][0].name == "城管网格0001"
    assert city.layers["ZZ"][11].name == "综治网格0012"


def test_formats_and_crs(city):
    assert city.layer_formats == {
        "CG": "shapefile", "SZ": "gpkg", "ZZ": "geojson", "SW": "geojson", "HB": "geojson", "SJ": "geojson",
    }  # fmt: skip
    assert city.layer_srids == {"CG": 4549, "SZ": 4490, "ZZ": 4326, "SW": 4326, "HB": 4326, "SJ": 4326}


def test_two_thousand_polygons_a_layer_on_the_demo_lattice():
    # Speed is measured in bench/bench_grids_unify.py, never asserted here.
    big = generate_city(seed=3, polygons_per_layer=2000)
    assert all(1900 <= len(features) <= 2002 for features in big.layers.values())


def test_generation_is_deterministic():
    one, two = generate_city(seed=5, polygons_per_layer=30), generate_city(seed=5, polygons_per_layer=30)
    for a, b in zip(all_features(one), all_features(two), strict=True):
        assert (a.code, a.name, a.geometry.wkb) == (b.code, b.name, b.geometry.wkb)
    other = generate_city(seed=6, polygons_per_layer=30)
    assert other.layers["CG"][0].geometry.wkb != one.layers["CG"][0].geometry.wkb
    assert other.communities[0].geometry.wkb != one.communities[0].geometry.wkb


def test_coordinates_are_rounded_to_seven_decimals(city):
    for feature in [*city.communities, *city.layers["SW"]]:
        coords = shapely.get_coordinates(feature.geometry)
        assert np.array_equal(coords, np.round(coords, 7))


# --- the mess ------------------------------------------------------------------------


def test_some_layer_overlaps_itself(city):
    overlapping = []
    for code in city.layers:
        polygons = layer_m(city, code)
        left, right = shapely.STRtree(polygons).query(polygons, predicate="intersects")
        pairs = left < right
        areas = shapely.area(shapely.intersection(polygons[left[pairs]], polygons[right[pairs]]))
        if (areas > 50).any():
            overlapping.append(code)
    assert len(overlapping) >= 3, overlapping


def test_layers_leave_land_uncovered(city, district_m):
    uncovered = {
        code: shapely.area(shapely.difference(district_m, shapely.union_all(layer_m(city, code))))
        for code in city.layers
    }
    assert max(uncovered.values()) > 10_000, uncovered  # at least a hectare somewhere


def test_one_layer_leaves_a_whole_corner_uncovered(city, district_m):
    xmin, ymin, xmax, ymax = district_m.bounds
    corners = [shapely.Point(x, y).buffer(150) for x in (xmin, xmax) for y in (ymin, ymax)]
    bare = [
        (code, i)
        for code in city.layers
        for i, corner in enumerate(corners)
        if not shapely.intersects(layer_m(city, code), corner).any()
    ]
    assert bare, "no layer leaves a corner of the district uncovered"


def test_polygons_stick_out_of_the_district_and_one_lies_wholly_outside(city, district_m):
    polygons = np.concatenate([layer_m(city, code) for code in city.layers])
    outside = shapely.area(shapely.difference(polygons, district_m))
    inside = shapely.area(shapely.intersection(polygons, district_m))
    assert ((outside > 1_000) & (inside > 1_000)).any()  # straddles the boundary
    assert (shapely.distance(polygons, district_m) > 100).any()  # wholly outside, well clear


def test_exactly_one_invalid_geometry_a_bow_tie_in_a_geojson_layer(city):
    invalid = [f for f in all_features(city) if not f.geometry.is_valid]
    assert len(invalid) == 1
    feature = invalid[0]
    code = feature.code.split("-")[0]
    assert feature in city.layers[code] and city.layer_formats[code] == "geojson"
    assert "Self-intersection" in shapely.is_valid_reason(feature.geometry)
    assert len(feature.geometry.exterior.coords) == 5  # a quadrilateral with two corners swapped


def test_overlaying_two_layers_gives_slivers_along_community_edges(city):
    # What an overlay engine does: node both layers' edges and polygonise.
    edges = shapely.union_all(shapely.boundary(np.concatenate([layer_m(city, "CG"), layer_m(city, "ZZ")])))
    pieces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    pieces = pieces[shapely.area(pieces) > 10]
    thickness = 2 * shapely.length(shapely.maximum_inscribed_circle(pieces))
    slivers = pieces[thickness < 5]
    assert len(slivers) >= 20
    community_edges = metric(shapely.union_all([shapely.boundary(c.geometry) for c in city.communities]))
    near_edges = shapely.distance(shapely.point_on_surface(slivers), community_edges) < 6
    assert near_edges.sum() >= 10


# --- bigger cities -------------------------------------------------------------------


def test_benchmark_city_is_generated_and_written(big):
    city, files = big
    assert all(1900 <= len(features) <= 2002 for features in city.layers.values())
    assert set(files.layers) == set(city.layers) and all(path.stat().st_size for path in files.layers.values())


def test_big_city_communities_are_an_exact_partition_of_the_district(big):
    city = big[0]
    polygons = np.array([c.geometry for c in city.communities], dtype=object)
    assert len(polygons) == BIG_BLOCKS**2 == 144
    assert all(p.is_valid and p.geom_type == "Polygon" for p in polygons)
    box = lattice_box(BIG_BLOCKS)
    assert shapely.union_all(polygons).equals(box)
    left, right = shapely.STRtree(polygons).query(polygons, predicate="intersects")
    pairs = left < right
    assert pairs.sum() >= 2 * BIG_BLOCKS * (BIG_BLOCKS - 1)  # every block touches its lattice neighbours
    assert (shapely.area(shapely.intersection(polygons[left[pairs]], polygons[right[pairs]])) == 0.0).all()
    assert shapely.area(polygons).sum() == pytest.approx(box.area, rel=1e-12)


def test_big_city_streets_are_numbered_row_by_row_from_the_south_west(big):
    communities = big[0].communities
    codes = [c.code for c in communities]
    assert len(set(codes)) == len(codes) and all(re.fullmatch(r"330211\d{6}", code) for code in codes)
    # The demo's four streets keep their names; the rest are numbered, in Chinese.
    names = {c.code: c.name for c in communities}
    assert [names[f"330211{s}{i + 1:03d}"] for s, _, _ in STREETS for i in range(4)] == [
        n for _, _, ns in STREETS for n in ns
    ]
    assert (names["330211005001"], names["330211036004"]) == ("第5街道第1社区", "第36街道第4社区")
    streets = {}
    for community in communities:
        streets.setdefault(community.code[6:9], []).append(community.geometry)
    assert list(streets) == [f"{n:03d}" for n in range(1, 37)] and {len(s) for s in streets.values()} == {4}
    assert all(shapely.union_all(s).geom_type == "Polygon" for s in streets.values())
    centre = {code: shapely.union_all(s).centroid for code, s in streets.items()}
    per_row, street_width = BIG_BLOCKS // 2, 2 * BLOCK[0]
    # 002 is one street east of 001, 007 (the next row) one street north; 036 sits in the north-east.
    assert centre["002"].x - centre["001"].x == pytest.approx(street_width, rel=0.2)
    assert centre[f"{per_row + 1:03d}"].y - centre["001"].y == pytest.approx(2 * BLOCK[1], rel=0.2)
    assert centre["036"].x > centre["031"].x and centre["036"].y > centre["006"].y
    # Within a street, today's order: south-west, south-east, north-west, north-east.
    sw, se, nw, ne = (g.centroid for g in streets["017"])
    assert sw.x < se.x and nw.x < ne.x and sw.y < nw.y and se.y < ne.y


def test_big_city_layers_give_each_community_about_a_dozen_polygons(big):
    city = big[0]
    communities = shapely.STRtree([c.geometry for c in city.communities])
    for code in ("CG", "ZZ", "SW"):  # the layers that follow the communities
        anchors = shapely.point_on_surface([f.geometry for f in city.layers[code] if f.geometry.is_valid])
        counts = np.bincount(communities.query(anchors, predicate="within")[1], minlength=BIG_BLOCKS**2)
        assert 10 <= np.median(counts) <= 15, code
        assert counts.max() <= 20, code  # far below the engine's 999 cells a community


def test_big_city_keeps_its_mess_local(big):
    city = big[0]
    district = metric(lattice_box(BIG_BLOCKS))
    polygons = np.concatenate([layer_m(city, code) for code in city.layers])
    # Strips and the stray hexagon stay within a kilometre, as in the 4 km city, not 8 % of 12 km out.
    assert 300 < shapely.distance(polygons, district).max() < 1_100
    assert shapely.area(shapely.difference(polygons, district)).sum() < 0.02 * district.area
    holes = []
    for code in city.layers:
        bare = shapely.get_parts(shapely.difference(district, shapely.union_all(layer_m(city, code))))
        holes.append(shapely.area(bare).max())
    # One department still misses a corner, but a few dozen hectares of it, not square kilometres.
    assert 100_000 < max(holes) < 1_000_000


def test_size_km_defaults_to_about_a_kilometre_a_block():
    six = generate_city(polygons_per_layer=40, departments=("CG",), blocks=6)
    assert len(six.communities) == 36 and six.communities[-1].code == "330211009004"
    assert shapely.union_all([c.geometry for c in six.communities]).equals(lattice_box(6))
    # An explicit size still wins, shrinking the lattice about the same centre.
    half = generate_city(polygons_per_layer=40, departments=("CG",), blocks=6, size_km=3.0)
    district = shapely.union_all([c.geometry for c in half.communities])
    assert district.area == pytest.approx(lattice_box(6).area / 4, rel=1e-6)
    assert district.centroid.distance(lattice_box(6).centroid) < 1e-7


def test_smallest_and_largest_lattices():
    one_street = generate_city(polygons_per_layer=8, departments=("CG",), blocks=2)
    assert [c.name for c in one_street.communities] == STREETS[0][2]
    largest = generate_city(polygons_per_layer=8, departments=("CG",), blocks=MAX_BLOCKS)
    assert len(largest.communities) == MAX_BLOCKS**2
    assert largest.communities[-1].code == "330211961004"  # 961 streets: three digits suffice


@pytest.mark.parametrize("blocks", [0, 1, 3, 5, -2, MAX_BLOCKS + 2, 4.0, True])
def test_blocks_must_be_an_even_integer_that_fits_the_street_codes(blocks):
    with pytest.raises(ValueError, match="blocks"):
        generate_city(blocks=blocks)


def test_recommended_blocks_gives_a_dozen_or_so_polygons_a_community():
    assert recommended_blocks(2000) == BIG_BLOCKS
    assert [recommended_blocks(n) for n in (1, 40, 200, 500, 1000, 5000)] == [4, 4, 4, 6, 10, 20]
    for n in range(1, MAX_BLOCKS**2 * 15, 37):  # beyond that the street codes cap the lattice
        blocks = recommended_blocks(n)
        assert blocks % 2 == 0 and 4 <= blocks <= MAX_BLOCKS
        if n >= 1_500:  # from 12 blocks on, one even step never jumps over the 10–15 range
            assert 10 <= n / blocks**2 <= 15, n
    assert recommended_blocks(10**8) == MAX_BLOCKS
    with pytest.raises(ValueError):
        recommended_blocks(0)


# --- files ---------------------------------------------------------------------------


def test_jurisdiction_file_holds_the_communities_exactly(city, files):
    collection = json.loads(files.jurisdiction.read_text(encoding="utf-8"))
    features = collection["features"]
    assert [f["properties"] for f in features] == [{"code": c.code, "name": c.name} for c in city.communities]
    for written, community in zip(features, city.communities, strict=True):
        assert shapely.geometry.shape(written["geometry"]).wkb == community.geometry.wkb


def test_geojson_layers_round_trip_and_keep_the_bow_tie_invalid(city, files):
    for code in ("ZZ", "SW", "HB", "SJ"):
        features = json.loads(files.layers[code].read_text(encoding="utf-8"))["features"]
        assert [f["properties"]["code"] for f in features] == [f.code for f in city.layers[code]]
        geometries = [shapely.geometry.shape(f["geometry"]) for f in features]
        assert [g.wkb for g in geometries] == [f.geometry.wkb for f in city.layers[code]]
    bow_ties = [g for g in map(shapely.geometry.shape, _features(files, "ZZ")) if not g.is_valid]
    assert len(bow_ties) == 1


def _features(files, code):
    return [f["geometry"] for f in json.loads(files.layers[code].read_text(encoding="utf-8"))["features"]]


def test_files_open_in_gdal_with_the_right_count_and_crs(city, files):
    expected = {"CG": (".zip", 4549), "SZ": (".gpkg", 4490), "ZZ": (".geojson", 4326), "HB": (".geojson", 4326)}
    for code, (suffix, srid) in expected.items():
        path = files.layers[code]
        assert path.suffix == suffix
        layer = DataSource(f"/vsizip/{path}" if suffix == ".zip" else str(path))[0]
        assert len(layer) == len(city.layers[code])
        assert layer.srs.srid == srid
        assert sorted(layer.fields) == ["code", "name"]
        assert [f.get("code") for f in layer][:3] == [f.code for f in city.layers[code][:3]]


def test_projected_shapefile_lands_within_a_metre_of_the_generated_geometry(city, files):
    layer = DataSource(f"/vsizip/{files.layers['CG']}")[0]
    first = next(iter(layer))
    assert (first.get("code"), first.get("name")) == ("CG-0001", "城管网格0001")  # UTF-8 survives the .dbf
    geometry = first.geom
    geometry.transform(4326)
    back = shapely.from_wkb(bytes(geometry.wkb))
    assert shapely.hausdorff_distance(metric(back), metric(city.layers["CG"][0].geometry)) < 1.0


def test_geopackage_keeps_coordinates(city, files):
    layer = DataSource(str(files.layers["SZ"]))[0]
    first = shapely.from_wkb(bytes(next(iter(layer)).geom.wkb))
    assert first.geom_type == "MultiPolygon"  # promoted so the GeoPackage has one geometry type
    assert shapely.hausdorff_distance(first, city.layers["SZ"][0].geometry) < 1e-7


def test_writing_twice_gives_identical_bytes(city, files, tmp_path):
    again = write_city(city, tmp_path)
    assert again.jurisdiction.read_bytes() == files.jurisdiction.read_bytes()
    for code, path in files.layers.items():
        # Dates inside .dbf, .gpkg and .zip are pinned, so even GDAL's output is reproducible.
        assert again.layers[code].read_bytes() == path.read_bytes(), code


def test_missing_ogr2ogr_is_a_clear_error(city, tmp_path, monkeypatch):
    monkeypatch.setattr(demo_city.shutil, "which", lambda name: None)
    with pytest.raises(demo_city.Ogr2OgrMissing, match="ogr2ogr"):
        write_city(city, tmp_path)


def test_small_and_odd_cities(tmp_path):
    tiny = generate_city(seed=2, polygons_per_layer=3, departments=("CG",), size_km=1.0)
    assert list(tiny.layers) == ["CG"] and tiny.layer_formats == {"CG": "shapefile"}
    # With one department every role lands on it, the bow-tie included; ogr2ogr passes it through.
    assert sum(not f.geometry.is_valid for f in tiny.layers["CG"]) == 1
    written = write_city(tiny, tmp_path)
    layer = DataSource(f"/vsizip/{written.layers['CG']}")[0]
    assert sum(not shapely.from_wkb(bytes(f.geom.wkb)).is_valid for f in layer) == 1
    assert shapely.union_all([c.geometry for c in tiny.communities]).area == pytest.approx(DISTRICT_BOX.area / 16)
    with pytest.raises(ValueError):
        generate_city(polygons_per_layer=0)
    with pytest.raises(ValueError):
        generate_city(departments=("CG", "CG"))
