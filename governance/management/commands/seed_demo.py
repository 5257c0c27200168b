import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cases.demo import seed_cases
from governance.demo import seed_demo
from grids.demo import seed_grid

DEFAULT_PASSWORD = "demo-pass-2026"


class Command(BaseCommand):
    help = "Load the demo city (regions, people, departmental layers, the unified grid, cases). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="Password given to every demo login.")

    def handle(self, *args, password, **options):
        # Known passwords must never reach a production database by accident.
        if not (settings.DEBUG or settings.DEMO_MODE):
            raise CommandError(
                "seed_demo runs only with DEBUG=1 or DEMO_MODE=1: it creates logins with known passwords."
            )
        logins = seed_demo(password=password)
        version = seed_grid()
        # After the grid: a case is located in the active grid's cells.
        cases = seed_cases()
        self.stdout.write(self.style.SUCCESS(_("Demo city loaded: district 330211 示范区, 4 streets, 16 communities.")))
        layers = ", ".join(str(layer) for layer in version.layers.order_by("department__code"))
        self.stdout.write(
            _("Unified grid version %(version)s active: %(cells)s cells from %(layers)s.")
            % {"version": version.pk, "cells": version.cell_count, "layers": layers}
        )
        self.stdout.write(_("Demo logins (password for all: %(password)s):") % {"password": password})
        for login in logins:
            self.stdout.write(f"  {login.username:<12} {_pad(str(login.role.label), 16)} {login.where}")
        self.stdout.write(_("  and a handler for every department: sz_handler, sw_handler, … (<code>_handler)"))
        if cases.created:
            message = _(
                "Demo cases: %(created)d over the last %(days)d days, %(overdue)d overdue now, %(photos)d photos."
            )
        else:
            message = _("Demo cases: %(existing)d already loaded, none added.")
        self.stdout.write(message % vars(cases))


def _pad(text: str, width: int) -> str:
    """Left-justify for a terminal, where a Chinese character takes two columns."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - columns)
