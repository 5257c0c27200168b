"""Unify the current departmental layers into a new draft grid version (多格合一).

    manage.py unify_grids [--sliver-area 50] [--sliver-width 5] [--commit]

A dry run unless --commit: prints what the version would hold. With --commit
the last line of output is the new version's id, for scripts.
"""

from django.core.management.base import BaseCommand, CommandError

from grids.unify import UnificationError, grid_unify


class Command(BaseCommand):
    help = "Overlay all departments' current layers with the communities into a draft unified grid version."

    def add_arguments(self, parser):
        parser.add_argument("--sliver-area", type=float, default=50.0, help="Merge cells smaller than this (m²).")
        parser.add_argument(
            "--sliver-width", type=float, default=5.0,
            help="Merge strips thinner than this on average (m; 2 × area / perimeter). 0 turns it off.",
        )  # fmt: skip
        parser.add_argument("--commit", action="store_true", help="Save the draft version (default: dry run).")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, sliver_area, sliver_width, commit, no_progress, **options):
        progress = None if no_progress else self._progress
        try:
            result = grid_unify(
                sliver_area_m2=sliver_area, sliver_width_m=sliver_width, commit=commit, progress=progress
            )
        except UnificationError as error:
            raise CommandError(str(error)) from error
        summary = result.report["summary"]
        uncovered = sum(1 for cell in result.cells if not cell.crosswalk)
        self.stdout.write(
            f"{len(result.cells)} cells in {len(result.inputs.community_codes)} communities from "
            f"{len(result.inputs.layer_ids)} layers ({len(result.inputs.polygon_ids)} polygons); "
            f"{uncovered} cells covered by no department (owner: street office)."
        )
        self.stdout.write("Conflicts: " + ", ".join(f"{kind} {count}" for kind, count in summary.items()))
        if result.same_as:
            self.stdout.write(f"Inputs identical to version {result.same_as}.")
        if not commit:
            self.stdout.write("Dry run: nothing saved. Run again with --commit to save a draft version.")
            return
        self.stdout.write(f"Draft version saved; review it, then: manage.py activate_grid {result.version.pk}")
        self.stdout.write(str(result.version.pk))

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        self.stderr.write(f"\r  communities [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        if done == total:
            self.stderr.write("")
        self.stderr.flush()
