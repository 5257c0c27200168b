"""Template tags that let other apps' pages show grid facts without importing grids code."""

from django import template

from grids.models import CellAssignment

register = template.Library()


@register.inclusion_tag("grids/_my_cells.html")
def my_cells(user):
    """The cells of the active grid a grid leader or worker answers for."""
    assignments = (
        CellAssignment.objects.filter(user=user, cell__version__status="active")
        .select_related("cell__community")
        .order_by("cell__code")
    )
    return {"assignments": list(assignments)}
