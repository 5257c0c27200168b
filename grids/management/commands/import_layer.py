"""Import one department's grid polygons as its next layer version.

    manage.py import_layer --department CG --file cg.zip [--code-field code] [--name-field name]

GeoJSON, a Shapefile in a .zip or a GeoPackage, in any coordinate system;
transformed once to WGS84. Coordinates are checked before GEOS or GDAL sees
them (docs/grids-import.md); a bad file is refused naming the feature. Runs in
this process, through the same service the admin's worker task uses. Invalid
polygons are repaired and listed; nothing is overwritten: each import is a new
version.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.models import Department
from grids.importing import LayerImportError
from grids.services import layer_import


class Command(BaseCommand):
    help = "Import a department's grid layer (GeoJSON, zipped Shapefile or GeoPackage; any CRS) as a new version."

    def add_arguments(self, parser):
        parser.add_argument("--department", required=True, help="Department code, e.g. CG.")
        parser.add_argument("--file", required=True, type=Path)
        parser.add_argument("--code-field", default="code")
        parser.add_argument("--name-field", default="name")

    def handle(self, *args, department, file, code_field, name_field, **options):
        owner = Department.objects.filter(code=department.upper()).first()
        if owner is None:
            raise CommandError(f"No department with code {department!r}.")
        try:
            layer = layer_import(department=owner, path=file, code_field=code_field, name_field=name_field)
        except LayerImportError as error:
            raise CommandError(str(error)) from error
        report = layer.report
        self.stdout.write(
            f"{owner.code} layer version {layer.version}: {report['features']} polygons from {layer.source_name} "
            f"({layer.source_format}, {layer.source_srs}), {report['skipped']} skipped."
        )
        for warning in report.get("warnings") or []:
            self.stderr.write(f"  warning: {warning}")
        for item in report["items"]:
            detail = item.get("message") or f"{item['area_m2']} m²"
            self.stdout.write(f"  {item['kind']:<14} {' / '.join(item['polygons'])}: {detail}")
        self.stdout.write(str(layer.pk))
