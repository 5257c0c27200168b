"""Checks of the unified grid's invariants, with shapely alone.

These are what a third party would check on an export: no overlaps, no gaps,
every cell inside exactly one community, codes well formed and unique.
"""

import numpy as np
import shapely

from grids.geometry import MetricFrame
from grids.unify import inputs_from_geometries as make_inputs  # noqa: F401  (re-exported for tests)

# Areas below this (m²) are floating-point dust from the overlay, not overlaps or gaps.
DUST_M2 = 1e-3


def assert_partition(cells: list[tuple[str, str, object]], communities: dict[str, object]) -> None:
    """cells: (code, community code, shapely geometry)."""
    frame = MetricFrame.around(list(communities.values()))
    codes = [code for code, _, _ in cells]
    assert len(set(codes)) == len(codes), "cell codes repeat"
    geometries = np.asarray([geometry for _, _, geometry in cells], dtype=object)
    assert shapely.is_valid(geometries).all(), "a cell is not a valid polygon"
    for code, community, geometry in cells:
        assert len(code) == 15 and code.isdigit() and code.startswith(community), code
        outside = frame.area(shapely.difference(geometry, communities[community]))
        assert outside < DUST_M2, f"cell {code} sticks out of community {community} by {outside} m²"
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    pairs = left < right
    if pairs.any():
        overlaps = frame.areas(shapely.intersection(geometries[left[pairs]], geometries[right[pairs]]))
        assert overlaps.max() < DUST_M2, f"cells overlap by {overlaps.max()} m²"
    for community, boundary in communities.items():
        mine = [geometry for _, owner, geometry in cells if owner == community]
        assert mine, f"community {community} has no cell"
        gap = frame.area(shapely.symmetric_difference(shapely.union_all(mine), boundary))
        assert gap < DUST_M2 * max(1, len(mine)), f"cells of {community} differ from it by {gap} m²"
