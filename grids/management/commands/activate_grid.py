"""Make a draft grid version the one lookups answer from; the active one retires.

manage.py activate_grid VERSION
"""

from django.core.management.base import BaseCommand, CommandError

from grids.models import GridVersion
from grids.services import GridVersionError, grid_version_activate


class Command(BaseCommand):
    help = "Activate a draft grid version (atomic; the current active version is retired)."

    def add_arguments(self, parser):
        parser.add_argument("version", type=int)

    def handle(self, *args, version, **options):
        found = GridVersion.objects.filter(pk=version).first()
        if found is None:
            raise CommandError(f"No grid version {version}.")
        try:
            activated = grid_version_activate(version=found)
        except GridVersionError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Grid version {activated.pk} is active ({activated.cell_count} cells).")
