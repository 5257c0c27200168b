"""The demo city's grids: messy departmental layers, unified and activated.

Goes through the same files and services a city's GIS staff would: the
generator writes GeoJSON, a zipped Shapefile in EPSG:4549 and a GeoPackage;
the importers read them; the engine unifies; the version is activated; the
demo grid leader and worker are put in charge of their community's cells.
Idempotent: layers already imported and an active version are kept.
"""

import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model

from governance.models import Department
from grids import services
from grids.demo_city import generate_city, write_city
from grids.models import CellAssignment, GridVersion, Layer
from grids.unify import grid_unify

DEMO_SEED = 1
LEADER_CELLS, WORKER_CELLS = 24, 6


def seed_grid(*, polygons_per_layer: int = 40) -> GridVersion:
    active = GridVersion.objects.active().first()
    if active is None:
        city = generate_city(seed=DEMO_SEED, polygons_per_layer=polygons_per_layer)
        with tempfile.TemporaryDirectory(prefix="demo-city-") as scratch:
            files = write_city(city, Path(scratch))
            services.jurisdiction_import(path=files.jurisdiction)
            for code, path in sorted(files.layers.items()):
                if not Layer.objects.filter(department__code=code).exists():
                    services.layer_import(department=Department.objects.get(code=code), path=path)
        active = services.grid_version_activate(version=grid_unify(commit=True).version)
    _assign_demo_people(active)
    return active


def _assign_demo_people(version: GridVersion) -> None:
    users = get_user_model().objects.filter(username__in=["gridleader", "gridworker"]).in_bulk(field_name="username")
    if len(users) < 2:
        return
    # A leader answers for a block of cells and a worker patrols a few of them,
    # as in practice (one leader, 3–6 workers a cell; a worker's beat is small).
    cells = list(version.cells.filter(community__code="330211001001").order_by("code")[:LEADER_CELLS])
    for n, cell in enumerate(cells):
        services.cell_assign(cell=cell, user=users["gridleader"], duty=CellAssignment.Duty.LEADER)
        if n < WORKER_CELLS:
            services.cell_assign(cell=cell, user=users["gridworker"], duty=CellAssignment.Duty.WORKER)
