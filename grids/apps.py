from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    """Departmental layers, unification into one grid, versions and lookup."""

    name = "grids"
    verbose_name = _("Grids")
