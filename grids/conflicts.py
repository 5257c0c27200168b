"""Finding what is wrong with departmental layers: overlaps, gaps, land outside.

Each finder returns report items in the one shape the admin page, the map
and `conflicts.json` read:
{"kind", "department", "polygons", "area_m2", "community", "cell", "geometry"}.
The geometry is a shapely geometry while the engine works; `jsonable()` turns
it into GeoJSON for a layer's JSON report, and a grid version stores its items
as ConflictItem rows (a messy city reports tens of thousands).
"""

import numpy as np
import shapely

from grids.geometry import MetricFrame, polygonal, to_geojson

# Overlaps and gaps smaller than this are coordinate noise, not conflicts.
MIN_CONFLICT_AREA_M2 = 1.0
KINDS = ("self_overlap", "gap", "sliver_merged", "outside", "repaired")


def item(kind, *, department, polygons, area_m2, geometry, community=None, cell=None) -> dict:
    return {
        "kind": kind,
        "department": department,
        "polygons": list(polygons),
        "area_m2": round(float(area_m2), 2),
        "community": community,
        "cell": cell,
        "geometry": geometry,
    }


def jsonable(items: list[dict]) -> list[dict]:
    """Items with GeoJSON geometries, for JSON fields and files."""
    return [entry | {"geometry": _geojson(entry.get("geometry"))} for entry in items]


def _geojson(geometry):
    if geometry is None or isinstance(geometry, dict):
        return geometry
    return to_geojson(geometry)


def summarise(items: list[dict]) -> dict:
    summary = dict.fromkeys(KINDS, 0)
    for entry in items:
        summary[entry["kind"]] = summary.get(entry["kind"], 0) + 1
    return {"summary": summary, "items": items}


def self_overlaps(department: str, codes: list[str], geometries, frame: MetricFrame) -> list[dict]:
    """Pairs of one layer's polygons that overlap each other by more than noise."""
    geometries = np.asarray(geometries, dtype=object)
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    overlaps = shapely.intersection(geometries[left], geometries[right])
    areas = frame.areas(overlaps)
    items = []
    for i, j, overlap, area in zip(left, right, overlaps, areas, strict=True):
        shape = polygonal(overlap)
        if shape is not None and area >= MIN_CONFLICT_AREA_M2:
            items.append(item("self_overlap", department=department, polygons=[codes[i], codes[j]], area_m2=area,
                              geometry=shape))  # fmt: skip
    return items


def outside(department: str, codes: list[str], geometries, jurisdiction, frame: MetricFrame) -> list[dict]:
    """Polygons, or parts of them, that lie outside the jurisdiction."""
    geometries = np.asarray(geometries, dtype=object)
    shapely.prepare(jurisdiction)
    inside = shapely.covered_by(geometries, jurisdiction)
    candidates = np.flatnonzero(~inside)
    parts = shapely.difference(geometries[candidates], jurisdiction)
    areas = frame.areas(parts)
    items = []
    for index, part, area in zip(candidates, parts, areas, strict=True):
        shape = polygonal(part)
        if shape is not None and area >= MIN_CONFLICT_AREA_M2:
            items.append(item("outside", department=department, polygons=[codes[index]], area_m2=area, geometry=shape))
    return items


def gaps(department: str, geometries, communities, community_codes, frame: MetricFrame) -> list[dict]:
    """Land of the jurisdiction that none of the department's polygons covers, per community."""
    covered = shapely.union_all(np.asarray(geometries, dtype=object))
    holes = shapely.difference(np.asarray(communities, dtype=object), covered)
    items = []
    for code, hole in zip(community_codes, holes, strict=True):
        shape = polygonal(hole)
        if shape is None:
            continue
        parts = shapely.get_parts(shape)
        for part, area in zip(parts, frame.areas(parts), strict=True):
            if area >= MIN_CONFLICT_AREA_M2:
                items.append(item("gap", department=department, polygons=[], area_m2=area, geometry=part,
                                  community=code))  # fmt: skip
    return items
