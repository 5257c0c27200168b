"""Unification of 6 departmental layers × 2,000 polygons: seconds and peak memory.

    .venv/bin/python bench/bench_grids_unify.py [--polygons 2000] [--database-url URL ...]

1. The demo-city generator writes 6 messy layers (GeoJSON, a zipped Shapefile
   in EPSG:4549, a GeoPackage) and 16 communities.
2. engine: the files are read and repaired (as import does), then the engine
   runs in a fresh child process, so its peak resident memory is its own:
   `unify()` on in-memory geometries, no database.
3. floor: the bare GEOS overlay of the same input in the same child: node all
   boundaries of the jurisdiction at once and polygonize. No dissolve, no
   slivers, no numbering, no crosswalk: the least any overlay must do.
4. end to end per database (each --database-url; default the SpatiaLite file
   var/bench/unify.sqlite3): import the files through the services, then
   `grid_unify(commit=True)`, which adds saving cells and crosswalk.
Writes bench/results/grids_unify.json.
"""

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PROJECT_DIR, reset_database, setup_django, write_result

CHILD = r"""
import pickle, resource, sys, time, json
sys.path.insert(0, sys.argv[2])
import django
django.setup()
import numpy as np, shapely
from grids.unify import unify
with open(sys.argv[1], "rb") as f:
    inputs = pickle.load(f)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
result = unify(inputs, sliver_area_m2=50.0, sliver_width_m=5.0)
engine = time.perf_counter() - began
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
lines = [shapely.boundary(shapely.union_all(inputs.communities))]
lines += list(shapely.intersection(shapely.boundary(inputs.polygons), shapely.union_all(inputs.communities)))
lines += list(shapely.boundary(inputs.communities))
faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(np.asarray(lines, dtype=object)))))
floor = time.perf_counter() - began
print(json.dumps({"engine_s": engine, "floor_s": floor, "cells": len(result.cells), "floor_faces": len(faces),
                  "rss_before_kib": before, "rss_peak_kib": peak, "summary": result.report["summary"]}))
"""


def read_inputs(files):
    """Engine inputs from the written files, read and repaired exactly as the importers do."""
    setup_django()
    import numpy as np

    from grids.importing import read_polygons
    from grids.unify import inputs_from_geometries

    communities = {f.code: f.geometry for f in read_polygons(files.jurisdiction).features}
    layers = {code: [f.geometry for f in read_polygons(path).features] for code, path in files.layers.items()}
    inputs = inputs_from_geometries(communities, layers)
    inputs.polygons = np.asarray(inputs.polygons, dtype=object)
    return inputs


def run_engine(inputs) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as handle:
        pickle.dump(inputs, handle)
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, handle.name, str(PROJECT_DIR)], capture_output=True, text=True,
            env=os.environ | {"DJANGO_SETTINGS_MODULE": "governance.settings"},
        )  # fmt: skip
        if out.returncode:
            raise SystemExit(f"the engine run failed:\n{out.stderr[-3000:]}")
    finally:
        os.unlink(handle.name)
    return json.loads(out.stdout.strip().splitlines()[-1])


def end_to_end(database_url: str, files) -> dict:
    script = r"""
import sys, time, json, os
sys.path.insert(0, sys.argv[1])
import django; django.setup()
from django.core.management import call_command
from governance.models import Department
from grids import services
from grids.unify import grid_unify
call_command("migrate", verbosity=0)
from grids.models import GridVersion, Layer
paths = json.loads(sys.argv[2])
began = time.perf_counter()
services.jurisdiction_import(path=paths["jurisdiction"])
for code, path in sorted(paths["layers"].items()):
    services.layer_import(department=Department.objects.get(code=code), path=path)
imported = time.perf_counter() - began
began = time.perf_counter()
result = grid_unify(sliver_area_m2=50.0, sliver_width_m=5.0, commit=True)
unified = time.perf_counter() - began
print(json.dumps({"import_s": imported, "unify_commit_s": unified, "cells": result.version.cell_count}))
"""
    paths = {"jurisdiction": str(files.jurisdiction), "layers": {k: str(v) for k, v in files.layers.items()}}
    env = os.environ | {"DATABASE_URL": database_url, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "governance.settings"}
    reset_database(database_url)
    out = subprocess.run([sys.executable, "-c", script, str(PROJECT_DIR), json.dumps(paths)], capture_output=True,
                         text=True, env=env, check=False)  # fmt: skip
    if out.returncode:
        raise SystemExit(f"end-to-end run on {database_url} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polygons", type=int, default=2000, help="polygons per departmental layer")
    parser.add_argument("--database-url", action="append", default=[])
    args = parser.parse_args()
    databases = args.database_url or [f"spatialite:///{PROJECT_DIR / 'var' / 'bench' / 'unify.sqlite3'}"]
    (PROJECT_DIR / "var" / "bench").mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(PROJECT_DIR))
    from grids.demo_city import generate_city, recommended_blocks, write_city

    began = time.perf_counter()
    # About a dozen polygons a layer per community, as in a real city (144 communities at 2,000).
    blocks = recommended_blocks(args.polygons)
    city = generate_city(seed=1, polygons_per_layer=args.polygons, blocks=blocks)
    generated = time.perf_counter() - began
    with tempfile.TemporaryDirectory(prefix="bench-city-") as scratch:
        files = write_city(city, Path(scratch))
        began = time.perf_counter()
        inputs = read_inputs(files)
        read = time.perf_counter() - began
        engine = run_engine(inputs)
        per_database = {url.split(":", 1)[0]: end_to_end(url, files) for url in databases}
    result = {
        "layers": len(city.layers),
        "polygons_per_layer": args.polygons,
        "polygons": len(inputs.polygon_codes),
        "communities": len(inputs.community_codes),
        "blocks": blocks,
        "generate_city_s": round(generated, 2),
        "read_and_repair_files_s": round(read, 2),
        "engine_s": round(engine["engine_s"], 2),
        "floor_bare_overlay_s": round(engine["floor_s"], 2),
        "ratio_engine_to_floor": round(engine["engine_s"] / engine["floor_s"], 2),
        "cells": engine["cells"],
        "floor_faces": engine["floor_faces"],
        "peak_rss_mib": round(engine["rss_peak_kib"] / 1024, 1),
        "rss_before_engine_mib": round(engine["rss_before_kib"] / 1024, 1),
        "engine_added_rss_mib": round((engine["rss_peak_kib"] - engine["rss_before_kib"]) / 1024, 1),
        "conflicts": engine["summary"],
        "end_to_end": {
            db: {k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for db, r in per_database.items()
        },  # fmt: skip
    }
    path = write_result("grids_unify", result)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"→ {path}")


if __name__ == "__main__":
    main()
