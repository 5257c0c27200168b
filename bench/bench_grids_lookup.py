"""Point → cell lookup at 100,000 cells: our selectors against a raw indexed SQL floor.

    .venv/bin/python bench/bench_grids_lookup.py [--database-url URL] [--cells 100000]
        [--lookups 2000] [--batch 100000] [--keep]

Builds one active grid version of `--cells` square-ish cells (about 48 m × 50 m,
500 per community, real Region rows for the district, streets and communities)
with bulk_create, then, for uniformly random points inside its extent:
- cell_lookup: grids.selectors.cell_lookup(lng=, lat=) as the API calls it (the
  active version, a Cell back), one call at a time, p50/p99 latency;
- floor_sql: the cheapest indexed SQL answer on the same table in the same run,
  through the same connection: the code only, version id known. PostGIS:
  ST_Covers + ORDER BY code LIMIT 1; SpatiaLite: the same with the R*Tree
  joined through its SpatialIndex virtual table, since SpatiaLite never uses
  a spatial index by itself. Calls alternate with cell_lookup, point by point;
- geodjango_covering: plain `Cell.objects.filter(version=…).covering(point)`,
  which on SpatiaLite scans every cell (few samples, to show why cell_lookup
  does more there);
- batch: cells_lookup_batch() over `--batch` points with the version's
  in-memory index warm (its cold build is reported separately).
Every answer is checked: cell_lookup, the floor and the batch must agree on
all random points and on points exactly on shared edges and corners.

The database: --database-url, else DATABASE_URL when it is postgis://, else a
throw-away SpatiaLite file under var/bench/ (recreated each run). On PostGIS
the bench's rows are removed at the end unless --keep. Writes
bench/results/grids_lookup_spatialite.json or grids_lookup_postgis.json.
"""

import argparse
import math
import os
import random
import statistics
import sys
import time

from _common import PROJECT_DIR, best_time, setup_django, write_result

SEED = 20261123
DIGEST = "bench-grids-lookup"  # marks the bench's version, so a crashed run can be cleaned up
DISTRICT = "339901"  # not a real district code: keeps clear of demo and imported regions
ORIGIN = (121.40, 30.10)  # west, north
DX, DY = 0.0005, 0.00045  # degrees: ~48 m × 50 m at this latitude
BLOCK = (20, 25)  # cells per community: columns, rows (3-digit sequence, so at most 999)
COMMUNITIES_PER_ROW = 20


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="postgis://… or spatialite:///…; see the module docstring")
    parser.add_argument("--cells", type=int, default=100_000, help="a multiple of 500")
    parser.add_argument("--lookups", type=int, default=2_000, help="single lookups timed (after 200 warm-up)")
    parser.add_argument("--batch", type=int, default=100_000, help="points in the batch measurement")
    parser.add_argument("--keep", action="store_true", help="leave the bench's rows in a PostGIS database")
    options = parser.parse_args()
    per_community = BLOCK[0] * BLOCK[1]
    if options.cells <= 0 or options.cells % per_community:
        parser.error(f"--cells must be a positive multiple of {per_community}")
    return options


def database_url(options) -> str:
    if options.database_url:
        return options.database_url
    if os.environ.get("DATABASE_URL", "").startswith("postgis://"):
        return os.environ["DATABASE_URL"]
    path = PROJECT_DIR / "var" / "bench" / "grids_lookup.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(path.name + "*"):  # the file and its -journal/-wal
        stale.unlink()
    return f"spatialite:///{path}"


OPTIONS = parse_options()
os.environ["DATABASE_URL"] = database_url(OPTIONS)
setup_django()

from django.contrib.gis.geos import MultiPolygon, Point, Polygon  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from governance.models import Region  # noqa: E402
from grids import selectors  # noqa: E402
from grids.models import Cell, GridVersion  # noqa: E402


def backend() -> str:
    return "spatialite" if getattr(connection.ops, "spatialite", False) else "postgis"


def box(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon(Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))), srid=4326)


def remove_bench_rows() -> None:
    with transaction.atomic():
        Cell.objects.filter(version__input_digest=DIGEST).delete()
        GridVersion.objects.filter(input_digest=DIGEST).delete()
        for level in (Region.Level.COMMUNITY, Region.Level.STREET, Region.Level.DISTRICT):
            Region.objects.filter(code__startswith=DISTRICT, level=level).delete()


def build_version(cells: int) -> tuple[GridVersion, list[float], list[float]]:
    """The version, and the x and y grid lines (west→east, north→south) every cell edge lies on."""
    per_community = BLOCK[0] * BLOCK[1]
    communities = cells // per_community
    block_cols = min(COMMUNITIES_PER_ROW, communities)
    block_rows = math.ceil(communities / block_cols)
    # Each grid line computed once, so neighbours share their edge to the last bit.
    xs = [ORIGIN[0] + i * DX for i in range(block_cols * BLOCK[0] + 1)]
    ys = [ORIGIN[1] - j * DY for j in range(block_rows * BLOCK[1] + 1)]
    with transaction.atomic():
        district = Region.objects.create(code=DISTRICT, name="基准区", level=Region.Level.DISTRICT)
        version = GridVersion.objects.create(
            status=GridVersion.Status.ACTIVE, sliver_area_m2=50, input_digest=DIGEST, cell_count=cells
        )
        streets: dict[int, Region] = {}
        batch = []
        for c in range(communities):
            brow, bcol = divmod(c, block_cols)
            if brow not in streets:
                streets[brow] = Region.objects.create(
                    code=f"{DISTRICT}{brow + 1:03d}", name=f"基准街道{brow + 1}", level=Region.Level.STREET,
                    parent=district,
                )  # fmt: skip
            col0, row0 = bcol * BLOCK[0], brow * BLOCK[1]
            community = Region.objects.create(
                code=f"{streets[brow].code}{bcol + 1:03d}", name=f"基准社区{c + 1}", level=Region.Level.COMMUNITY,
                parent=streets[brow], boundary=box(xs[col0], ys[row0 + BLOCK[1]], xs[col0 + BLOCK[0]], ys[row0]),
            )  # fmt: skip
            sequence = 0
            for row in range(row0, row0 + BLOCK[1]):
                for col in range(col0, col0 + BLOCK[0]):
                    sequence += 1
                    batch.append(
                        Cell(version=version, code=f"{community.code}{sequence:03d}", community=community,
                             geometry=box(xs[col], ys[row + 1], xs[col + 1], ys[row]), area_m2=DX * DY * 1.07e10)
                    )  # fmt: skip
            if len(batch) >= 5_000:
                Cell.objects.bulk_create(batch, batch_size=1_000)
                batch = []
        Cell.objects.bulk_create(batch, batch_size=1_000)
    return version, xs, ys


def spatialite_index_state() -> tuple[int, int]:
    """(spatial_index_enabled, rows in the R*Tree) of grids_cell.geometry."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT spatial_index_enabled FROM geometry_columns WHERE f_table_name = 'grids_cell'")
        enabled = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM idx_grids_cell_geometry")
        return enabled, cursor.fetchone()[0]


def restore_spatialite_index() -> None:
    """What a migration has to do: Django's SpatiaLite backend leaves the index disabled (see the report)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CreateSpatialIndex('grids_cell', 'geometry')")
        cursor.execute("SELECT RecoverSpatialIndex('grids_cell', 'geometry')")
    selectors._spatialite_index_state.clear()


def floor_sql() -> str:
    if backend() == "postgis":
        return (
            "SELECT code FROM grids_cell WHERE version_id = %s "
            "AND ST_Covers(geometry, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1"
        )
    return (
        "SELECT code FROM grids_cell WHERE version_id = %s AND ROWID IN (SELECT ROWID FROM SpatialIndex "
        "WHERE f_table_name = 'grids_cell' AND search_frame = MakePoint(%s, %s, 4326)) "
        "AND ST_Covers(geometry, MakePoint(%s, %s, 4326)) ORDER BY code LIMIT 1"
    )


def floor_lookup(cursor, sql: str, version_id: int, lng: float, lat: float) -> str | None:
    params = (version_id, lng, lat) if backend() == "postgis" else (version_id, lng, lat, lng, lat)
    cursor.execute(sql, params)
    row = cursor.fetchone()
    return row[0] if row else None


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return {
        "n": len(samples),
        "p50_us": round(statistics.median(samples) * 1e6, 1),
        "p99_us": round(p99 * 1e6, 1),
        "mean_us": round(statistics.fmean(samples) * 1e6, 1),
        "min_us": round(ordered[0] * 1e6, 1),
    }


def time_singles(version: GridVersion, points: list[tuple[float, float]], warmup: int = 200) -> dict:
    """cell_lookup (active version, and version given) and the floor, taking turns point by point
    (the order rotating), so that drift and caches treat all three alike."""
    sql = floor_sql()
    with connection.cursor() as cursor:
        contenders = {
            "cell_lookup": lambda lng, lat: getattr(selectors.cell_lookup(lng=lng, lat=lat), "code", None),
            "cell_lookup_version_given": lambda lng, lat: getattr(
                selectors.cell_lookup(lng=lng, lat=lat, version=version), "code", None
            ),
            "floor_sql": lambda lng, lat: floor_lookup(cursor, sql, version.pk, lng, lat),
        }
        names = list(contenders)
        samples = {name: [] for name in names}
        answers = {name: [] for name in names}
        for i, (lng, lat) in enumerate(points[:warmup] + points):
            for name in names[i % 3 :] + names[: i % 3]:
                began = time.perf_counter()
                code = contenders[name](lng, lat)
                elapsed = time.perf_counter() - began
                if i >= warmup:
                    samples[name].append(elapsed)
                    answers[name].append(code)
    for name in names:
        wrong = sum(1 for a, b in zip(answers[name], answers["floor_sql"], strict=True) if a != b)
        if wrong:
            raise SystemExit(f"{name} and the floor SQL disagree on {wrong} of {len(points)} points.")
    return {name: summary(samples[name]) for name in names} | {"codes": answers["floor_sql"]}


def time_plain_covering(version: GridVersion, points: list[tuple[float, float]]) -> dict:
    samples = []
    for lng, lat in points:
        began = time.perf_counter()
        Cell.objects.filter(version=version).covering(Point(lng, lat, srid=4326)).values_list("code").first()
        samples.append(time.perf_counter() - began)
    return summary(samples)


def edge_points(xs: list[float], ys: list[float], rng: random.Random, count: int) -> list[tuple[float, float]]:
    """Points exactly on grid lines (shared edges) and at their crossings (shared corners)."""
    points = []
    for i in range(count):
        x, y = rng.choice(xs), rng.choice(ys)
        kind = i % 3
        if kind == 0:  # on a vertical edge
            y = rng.uniform(ys[-1], ys[0])
        elif kind == 1:  # on a horizontal edge
            x = rng.uniform(xs[0], xs[-1])
        points.append((x, y))
    return points


def plans(version: GridVersion, point: tuple[float, float]) -> dict:
    lng, lat = point
    with connection.cursor() as cursor:
        if backend() == "postgis":
            cursor.execute("EXPLAIN " + floor_sql(), (version.pk, lng, lat))
            floor_plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'grids_cell' AND indexdef ILIKE '%USING gist%'"
            )
            gist = [row[0] for row in cursor.fetchall()]
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + floor_sql(), (version.pk, lng, lat, lng, lat))
            floor_plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            gist = ["SpatialIndex", "idx_grids_cell_geometry"]
    point_geom = Point(lng, lat, srid=4326)
    spatialite = backend() == "spatialite"
    indexed = spatialite and selectors._spatialite_index_enabled(connection)
    ours_sql = selectors._covering_sql(spatialite=spatialite, indexed=indexed, active=True)
    with connection.cursor() as cursor:
        cursor.execute(("EXPLAIN " if not spatialite else "EXPLAIN QUERY PLAN ") + ours_sql,
                       [lng, lat, 4326] * (2 if indexed else 1))  # fmt: skip
        ours_plan = "\n".join(str(row[0] if not spatialite else row[-1]) for row in cursor.fetchall())
    plain_plan = Cell.objects.filter(version=version).covering(point_geom).values_list("code")[:1].explain()

    def uses_index(plan: str) -> bool:
        return any(name in plan for name in gist)

    return {
        "spatial_indexes": gist,
        "floor_sql": {"uses_spatial_index": uses_index(floor_plan), "plan": floor_plan},
        "cell_lookup": {"uses_spatial_index": uses_index(ours_plan), "plan": ours_plan},
        "geodjango_covering": {"uses_spatial_index": uses_index(plain_plan), "plan": plain_plan},
    }


def main() -> None:
    options = OPTIONS
    rng = random.Random(SEED)
    call_command("migrate", verbosity=0)
    remove_bench_rows()
    if GridVersion.objects.active().exists():
        raise SystemExit("This database already has an active grid version; run the bench on a database of its own.")

    began = time.perf_counter()
    version, xs, ys = build_version(options.cells)
    build_s = time.perf_counter() - began
    index_note = None
    plain = None
    random_points = [(rng.uniform(xs[0], xs[-1]), rng.uniform(ys[-1], ys[0])) for _ in range(options.lookups)]
    try:
        if backend() == "postgis":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE grids_cell")
        else:
            enabled, rows = spatialite_index_state()
            if enabled != 1:
                # Measured as migrated, so that the cost of the missing index is on record.
                plain = time_plain_covering(version, random_points[:20])
                restore_spatialite_index()
                index_note = (
                    f"grids_cell.geometry had spatial_index_enabled={enabled} after migrate (R*Tree rows: {rows}); "
                    "the bench restored it with CreateSpatialIndex + RecoverSpatialIndex before measuring"
                )
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        singles = time_singles(version, random_points)
        if plain is None:
            plain = time_plain_covering(version, random_points[: 200 if backend() == "postgis" else 20])

        # Batch: the cold build once, then the warm index, fastest of 3.
        began = time.perf_counter()
        selectors.cells_lookup_batch(points=random_points[:1])
        index_build_s = time.perf_counter() - began
        batch_points = [(rng.uniform(xs[0], xs[-1]), rng.uniform(ys[-1], ys[0])) for _ in range(options.batch)]
        batch_s = best_time(lambda: selectors.cells_lookup_batch(points=batch_points), repeat=3)

        # A fast wrong answer is worth nothing: every point inside the extent has a cell (an
        # empty R*Tree would make the floor and cell_lookup agree on None), and the batch
        # must match single lookups exactly.
        assert None not in singles["codes"], "a point inside the grid found no cell"
        assert selectors.cells_lookup_batch(points=random_points) == singles["codes"], "batch != cell_lookup"
        on_edges = edge_points(xs, ys, rng, 600)
        single_edges = [getattr(selectors.cell_lookup(lng=x, lat=y), "code", None) for x, y in on_edges]
        sql = floor_sql()
        with connection.cursor() as cursor:
            floor_edges = [floor_lookup(cursor, sql, version.pk, x, y) for x, y in on_edges]
        assert single_edges == floor_edges, "cell_lookup != floor on edges"
        assert selectors.cells_lookup_batch(points=on_edges) == single_edges, "batch != cell_lookup on edges"
        outside = selectors.cells_lookup_batch(points=[(xs[0] - DX, ys[0]), (xs[-1] + 1e-9, ys[-1])])
        assert outside == [None, None], outside

        query_plans = plans(version, random_points[0])
    finally:
        if backend() == "postgis" and not options.keep:
            remove_bench_rows()

    ours, given, floor = singles["cell_lookup"], singles["cell_lookup_version_given"], singles["floor_sql"]
    ratios = {
        "p50": round(ours["p50_us"] / floor["p50_us"], 2),
        "p99": round(ours["p99_us"] / floor["p99_us"], 2),
        "version_given_p50": round(given["p50_us"] / floor["p50_us"], 2),
        "version_given_p99": round(given["p99_us"] / floor["p99_us"], 2),
    }
    batch = {
        "points": options.batch,
        "seconds": round(batch_s, 4),
        "points_per_s": round(options.batch / batch_s),
        "cold_index_build_s": round(index_build_s, 3),
    }
    name = f"grids_lookup_{backend()}"
    path = write_result(
        name,
        {
            "database": backend(),
            "seed": SEED,
            "workload": {
                "cells": options.cells,
                "cell_size_deg": [DX, DY],
                "communities": options.cells // (BLOCK[0] * BLOCK[1]),
                "extent": [xs[0], ys[-1], xs[-1], ys[0]],
                "points": "uniform inside the extent; 600 more exactly on shared edges and corners for the checks",
                "single": f"{options.lookups} lookups after 200 warm-up; the three take turns point by point",
                "batch": "cells_lookup_batch with the index warm, fastest of 3",
            },
            "build_s": round(build_s, 1),
            "spatialite_index_note": index_note,
            "single": {
                "cell_lookup": ours,
                "cell_lookup_version_given": given,
                "floor_sql": floor,
                "geodjango_covering": plain,
            },
            "ratios_to_floor": ratios,
            "batch": batch,
            "goals": {
                "cell_lookup_p50_within_1_5x_floor": ratios["p50"] <= 1.5,
                "batch_at_least_20000_points_per_s": batch["points_per_s"] >= 20_000,
            },
            "checks": "cell_lookup == floor SQL == batch on all random points and 600 edge/corner points",
            "plans": query_plans,
        },
    )
    print(f"grid lookup on {backend()}, {options.cells:,} cells (built in {build_s:.1f} s)")
    if index_note:
        print(f"  note: {index_note}")
    print(f"  cell_lookup        p50 {ours['p50_us']:>9.1f} µs  p99 {ours['p99_us']:>9.1f} µs")
    print(f"  … version given    p50 {given['p50_us']:>9.1f} µs  p99 {given['p99_us']:>9.1f} µs")
    print(f"  floor SQL          p50 {floor['p50_us']:>9.1f} µs  p99 {floor['p99_us']:>9.1f} µs")
    print(f"  ratio to floor     p50 {ratios['p50']:>9.2f}×   p99 {ratios['p99']:>9.2f}×"
          f"  (version given: {ratios['version_given_p50']:.2f}×, {ratios['version_given_p99']:.2f}×)")  # fmt: skip
    print(f"  geodjango covering p50 {plain['p50_us']:>9.1f} µs  (n={plain['n']})")
    print(f"  batch              {batch['points_per_s']:>,} points/s (index built in {batch['cold_index_build_s']} s)")
    print(f"  spatial index used: floor {query_plans['floor_sql']['uses_spatial_index']}, "
          f"cell_lookup {query_plans['cell_lookup']['uses_spatial_index']}, "
          f"plain covering {query_plans['geodjango_covering']['uses_spatial_index']}")  # fmt: skip
    print(f"written to {path}")


if __name__ == "__main__":
    sys.exit(main())
