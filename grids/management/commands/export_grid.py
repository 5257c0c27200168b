"""Export a grid version as files: cells.geojson, crosswalk.csv, conflicts.json.

manage.py export_grid VERSION --out DIR
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grids.export import grid_version_export
from grids.models import GridVersion


class Command(BaseCommand):
    help = "Write a grid version's cells (GeoJSON, WGS84), crosswalk (CSV) and conflict report (JSON) to DIR."

    def add_arguments(self, parser):
        parser.add_argument("version", type=int)
        parser.add_argument("--out", required=True, type=Path, help="Directory to write into; created if missing.")

    def handle(self, *args, version, out, **options):
        found = GridVersion.objects.filter(pk=version).first()
        if found is None:
            raise CommandError(f"No grid version {version}.")
        try:
            result = grid_version_export(version=found, directory=out)
        except OSError as error:
            raise CommandError(f"Cannot write the export to {out}: {error.strerror or error}.") from error
        names = ", ".join(path.name for path in result.files)
        self.stdout.write(
            f"Grid version {found.pk}: {result.cells} cells, {result.crosswalk_rows} crosswalk rows → {out} ({names})."
        )
