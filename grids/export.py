"""A grid version as plain files, for GIS desktops and other systems.

- cells.geojson: a FeatureCollection in WGS84 (RFC 7946), properties code,
  community_code, area_m2, coordinates exactly as stored (Python writes the
  shortest decimal that reads back to the same double);
- crosswalk.csv: cell_code,department,layer_cell_code,share, sorted by cell
  code, department, layer polygon code;
- conflicts.json: the version's conflict report, pretty-printed UTF-8.

Each file is written under a temporary name and renamed into place, so a
failed or interrupted export never leaves a file that looks complete.
"""

import csv
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grids.models import Cell, CrosswalkEntry, GridVersion

CELLS, CROSSWALK, CONFLICTS = "cells.geojson", "crosswalk.csv", "conflicts.json"


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    cells: int
    crosswalk_rows: int

    @property
    def files(self) -> list[Path]:
        return [self.directory / name for name in (CELLS, CROSSWALK, CONFLICTS)]


def grid_version_export(*, version: GridVersion, directory: Path) -> ExportResult:
    """Write the three files of `version` into `directory` (created if missing). OSError if it cannot."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cells = _write_cells(version, directory / CELLS)
    rows = _write_crosswalk(version, directory / CROSSWALK)
    with _replacing(directory / CONFLICTS, newline="\n") as out:
        out.write(json.dumps(_conflicts(version), indent=2, ensure_ascii=False) + "\n")
    return ExportResult(directory=directory, cells=cells, crosswalk_rows=rows)


@contextmanager
def _replacing(path: Path, **open_kwargs):
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8", **open_kwargs) as out:
            yield out
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _write_cells(version: GridVersion, path: Path) -> int:
    rows = (
        Cell.objects.filter(version=version)
        .order_by("code")
        .values_list("code", "community__code", "area_m2", "geometry")
        .iterator(chunk_size=2_000)  # streamed: a 100,000-cell version never sits in memory at once
    )
    count = 0
    with _replacing(path, newline="\n") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for count, (code, community_code, area_m2, geometry) in enumerate(rows, start=1):
            feature = {
                "type": "Feature",
                "geometry": {"type": geometry.geom_type, "coordinates": geometry.coords},
                "properties": {"code": code, "community_code": community_code, "area_m2": area_m2},
            }
            out.write(("" if count == 1 else ",\n") + json.dumps(feature, ensure_ascii=False))
        out.write("\n]}\n")
    return count


def _write_crosswalk(version: GridVersion, path: Path) -> int:
    rows = (
        CrosswalkEntry.objects.filter(cell__version=version)
        .order_by("cell__code", "department__code", "polygon__code")
        .values_list("cell__code", "department__code", "polygon__code", "share")
        .iterator(chunk_size=5_000)
    )
    count = 0
    with _replacing(path, newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["cell_code", "department", "layer_cell_code", "share"])
        for count, row in enumerate(rows, start=1):  # noqa: B007 - the last count is the total
            writer.writerow(row)
    return count


def _conflicts(version: GridVersion) -> dict:
    """The conflict report as one document: the summary and every item, geometry as GeoJSON."""
    items = [row.as_item() for row in version.conflict_items.order_by("number").iterator(chunk_size=2000)]
    return {"version": version.pk, "summary": (version.conflicts or {}).get("summary", {}), "items": items}
