"""Import community polygons; streets and the district follow from the codes.

    manage.py import_jurisdiction --file communities.geojson

Each feature needs a 12-digit `code` (district 6 + street 3 + community 3) and
a `name`; optional `street_name` and `district_name` fields name the parents.
Communities that overlap each other are refused.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grids.importing import LayerImportError
from grids.services import jurisdiction_import


class Command(BaseCommand):
    help = "Import community boundaries (GeoJSON, zipped Shapefile or GeoPackage; any CRS)."

    def add_arguments(self, parser):
        parser.add_argument("--file", required=True, type=Path)
        parser.add_argument("--code-field", default="code")
        parser.add_argument("--name-field", default="name")
        parser.add_argument("--street-name-field", default="street_name")
        parser.add_argument("--district-name-field", default="district_name")

    def handle(self, *args, file, code_field, name_field, street_name_field, district_name_field, **options):
        try:
            counts = jurisdiction_import(
                path=file, code_field=code_field, name_field=name_field,
                street_name_field=street_name_field, district_name_field=district_name_field,
            )  # fmt: skip
        except LayerImportError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{counts['communities']} communities in {counts['streets']} streets of {counts['districts']} "
            f"district(s) imported from {file.name} ({counts['srs']})."
        )
        for problem in counts["problems"]:
            self.stdout.write(f"  {problem['kind']:<14} {problem['code']}: {problem['message']}")
