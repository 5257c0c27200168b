"""Roles are Django groups; this module is the one list of what each may do.

Permissions of models that later apps add are named here as those apps land.
A group's permissions are set, not added to, on every migrate, so removing a
line here removes the permission.
"""

from django.contrib.auth.models import Group, Permission

from governance.models import Role

_READ_ORGANISATION = ["governance.view_department", "governance.view_region"]
# Everyone with a role may read the unified grid (cells, versions, crosswalk).
_READ_GRID = ["grids.view_gridversion", "grids.view_cell", "grids.view_crosswalkentry"]
_READ_LAYERS = ["grids.view_layer", "grids.view_layerpolygon"]
# The taxonomy and time limits are read by everyone who files, dispatches or handles cases.
_READ_TAXONOMY = ["cases.view_category", "cases.view_slapolicy"]
# Reading cases in the admin; which cases is cases.selectors.cases_visible_to's business.
_READ_CASES = ["cases.view_case", "cases.view_caseevent", "cases.view_casephoto", "cases.view_caserequest"]
_ALL_GRIDS = [
    "grids.add_layer", "grids.view_layer", "grids.view_layerpolygon",
    "grids.add_gridversion", "grids.change_gridversion", "grids.view_gridversion",
    "grids.view_cell", "grids.view_crosswalkentry",
    "grids.add_cellassignment", "grids.change_cellassignment", "grids.delete_cellassignment",
    "grids.view_cellassignment",
]  # fmt: skip

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.GRID_WORKER: [*_READ_ORGANISATION, *_READ_GRID, *_READ_TAXONOMY],
    Role.GRID_LEADER: [
        *_READ_ORGANISATION,
        *_READ_GRID,
        *_READ_TAXONOMY,
        "governance.view_staffprofile",
        "grids.view_cellassignment",
    ],
    Role.HOTLINE_AGENT: [*_READ_ORGANISATION, *_READ_GRID, *_READ_TAXONOMY],
    Role.DISPATCHER: [
        *_READ_ORGANISATION,
        *_READ_GRID,
        *_READ_TAXONOMY,
        *_READ_LAYERS,
        *_READ_CASES,
        "grids.view_cellassignment",
        "governance.view_staffprofile",
        "governance.view_calendaroverride",
    ],
    # Department staff see their own department's layers only (scoped in the admin).
    Role.DEPARTMENT_ADMIN: [
        *_READ_ORGANISATION,
        *_READ_GRID,
        *_READ_TAXONOMY,
        *_READ_LAYERS,
        *_READ_CASES,
        "grids.add_layer",
        "governance.view_staffprofile",
    ],  # fmt: skip
    Role.DEPARTMENT_HANDLER: [*_READ_ORGANISATION, *_READ_GRID, *_READ_TAXONOMY, *_READ_LAYERS, *_READ_CASES],
    Role.LEADER: [
        *_READ_ORGANISATION,
        *_READ_GRID,
        *_READ_TAXONOMY,
        *_READ_LAYERS,
        *_READ_CASES,
        "grids.view_cellassignment",
        "governance.view_staffprofile",
        "governance.view_calendaroverride",
    ],
    Role.SYSTEM_ADMIN: [
        "governance.add_department",
        "governance.change_department",
        "governance.view_department",
        "governance.add_region",
        "governance.change_region",
        "governance.view_region",
        "governance.add_staffprofile",
        "governance.change_staffprofile",
        "governance.delete_staffprofile",
        "governance.view_staffprofile",
        "governance.add_calendaroverride",
        "governance.change_calendaroverride",
        "governance.delete_calendaroverride",
        "governance.view_calendaroverride",
        # Logins, through the admin's StaffUserAdmin: superuser status, groups,
        # permissions and others' passwords stay with superusers whatever is here.
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        # Sign-in failures and lockouts; deleting an attempt unlocks (docs/security.md).
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accessfailurelog",
        "axes.view_accesslog",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        *_ALL_GRIDS,
        *_READ_CASES,
        "cases.add_category",
        "cases.change_category",
        "cases.view_category",
        "cases.add_slapolicy",
        "cases.change_slapolicy",
        "cases.delete_slapolicy",
        "cases.view_slapolicy",
    ],
}

# Roles that work in Django admin (department staff, system admins).
ADMIN_SITE_ROLES = {Role.DEPARTMENT_ADMIN, Role.DEPARTMENT_HANDLER, Role.SYSTEM_ADMIN}


def _permissions(names):
    for name in names:
        app_label, codename = name.split(".", 1)
        yield from Permission.objects.filter(content_type__app_label=app_label, codename=codename)


def sync_role_groups() -> dict[str, Group]:
    """Create one group per role and set exactly its permissions."""
    groups = {}
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(list(_permissions(ROLE_PERMISSIONS[role])))
        groups[role.value] = group
    return groups


def sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs):
    # Permissions are created by auth's own post_migrate handler, app by app;
    # syncing after each of our apps picks up every model that exists by then.
    if app_config is not None and app_config.name in {"governance", "grids", "cases", "axes"}:
        sync_role_groups()
