"""The shell of the UI: the home page sends each role to its workspace."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from cases import selectors as case_selectors
from governance import selectors
from governance.models import Role
from governance.roles import ADMIN_SITE_ROLES

WORKSPACE_OF_ROLE = {
    Role.GRID_WORKER: "workspace-grid",
    Role.GRID_LEADER: "workspace-grid",
    Role.HOTLINE_AGENT: "workspace-hotline",
    Role.DISPATCHER: "workspace-command",
    Role.LEADER: "workspace-dashboard",
}


def role_required(*roles):
    """Only these roles may open the view: others get 403, strangers the login."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            role = selectors.role_of(request.user)
            if role not in roles:
                raise PermissionDenied
            request.role = role
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


@login_required
def home(request):
    role = selectors.role_of(request.user)
    if role in ADMIN_SITE_ROLES:
        return redirect("admin:index")
    if role in WORKSPACE_OF_ROLE:
        return redirect(WORKSPACE_OF_ROLE[role])
    # A login without a role (e.g. a new account not yet set up) sees why.
    return render(request, "governance/no_role.html", status=403)


def _common(request):
    profile = selectors.profile_of(request.user)
    return {
        "profile": profile,
        "role": request.role,
        "calendar": selectors.calendar_today(),
        "regions": selectors.region_tree(profile.region if profile else None),
    }


@role_required(Role.GRID_WORKER, Role.GRID_LEADER)
def grid_workspace(request):
    return render(
        request,
        "governance/workspace_grid.html",
        _common(request)
        | {
            "departments": selectors.department_directory(),
            "to_verify": case_selectors.to_verify(request.user),
            "my_reports": case_selectors.reported_by(request.user),
        },
    )


@role_required(Role.HOTLINE_AGENT)
def hotline_workspace(request):
    return render(
        request,
        "governance/workspace_hotline.html",
        _common(request)
        | {
            "departments": selectors.department_directory(),
            "to_call_back": case_selectors.to_call_back(),
            "my_reports": case_selectors.reported_by(request.user),
        },
    )


@role_required(Role.DISPATCHER)
def command_workspace(request):
    return render(
        request,
        "governance/workspace_command.html",
        _common(request)
        | {
            "departments": selectors.department_directory(),
            "staff_counts": selectors.staff_counts_by_role(),
        },
    )


@role_required(Role.LEADER)
def leader_dashboard(request):
    return render(
        request,
        "governance/workspace_dashboard.html",
        _common(request)
        | {
            "departments": selectors.department_directory(),
            "staff_counts": selectors.staff_counts_by_role(),
            "region_counts": selectors.region_counts(),
        },
    )
