"""Reads of cases: who sees which case, who may take which step, and the case list's filters.

Visibility is one queryset rule per role, not object permissions: who sees a
case follows from columns the case already has (department, cell, reporter,
status) and from grid assignments, so a per-(user, case) permission row would
only be a copy of those facts that every dispatch, reassignment and grid
version would have to keep in step.
"""

import django_filters
from django.db.models import Prefetch, Q, QuerySet

from cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CasePhoto,
    CaseRequest,
    Category,
    Channel,
    Severity,
    SlaLevel,
    Status,
)
from governance.models import DEPARTMENT_ROLES, FIELD_ROLES, Role
from governance.selectors import profile_of, role_of
from grids.models import CellAssignment

# Leaders read everything and change nothing; system admins keep the system, not the cases.
SEES_ALL = {Role.DISPATCHER, Role.LEADER, Role.SYSTEM_ADMIN}
# Before dispatch the department on a case is only the category's proposal, which the
# dispatcher may still change; a department's cases start when they are dispatched to it.
BEFORE_DISPATCH = [Status.REPORTED, Status.REGISTERED, Status.REJECTED]

# Who may take each step. The service then decides whether the case's state allows it:
# the wrong person gets 403, the right person at the wrong time 409.
ACTORS: dict[str, frozenset[Role]] = {
    "register": frozenset({Role.DISPATCHER}),
    "reject": frozenset({Role.DISPATCHER}),
    "dispatch": frozenset({Role.DISPATCHER}),
    "close": frozenset({Role.DISPATCHER}),
    "decide_request": frozenset({Role.DISPATCHER}),
    "handle": frozenset(DEPARTMENT_ROLES),
    "request_return": frozenset(DEPARTMENT_ROLES),
    "request_extension": frozenset(DEPARTMENT_ROLES),
    "request_suspension": frozenset(DEPARTMENT_ROLES),
    "verify": frozenset({*FIELD_ROLES, Role.DISPATCHER}),
    "accept": frozenset(DEPARTMENT_ROLES),
    # The suspension ends when the reason is gone: the department says so, or the command centre.
    "resume": frozenset({*DEPARTMENT_ROLES, Role.DISPATCHER}),
    "merge": frozenset({Role.DISPATCHER}),
    "reopen": frozenset({Role.DISPATCHER, Role.HOTLINE_AGENT}),
    "callback": frozenset({Role.HOTLINE_AGENT, Role.DISPATCHER}),
}
REPORT_CHANNEL = {Role.GRID_WORKER: Channel.GRID_WORKER, Role.GRID_LEADER: Channel.GRID_WORKER,
                  Role.HOTLINE_AGENT: Channel.HOTLINE}  # fmt: skip
# Callers' names and phone numbers: the hotline calls them back, the command centre may need them.
CONTACT_ROLES = {Role.HOTLINE_AGENT, Role.DISPATCHER}


def cases_visible_to(user, queryset: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """The cases this user may read; none for a login without a role."""
    queryset = Case.objects.all() if queryset is None else queryset
    role = role_of(user)
    if role in SEES_ALL:
        return queryset
    if role in DEPARTMENT_ROLES:
        department_id = profile_of(user).department_id
        return queryset.filter(department_id=department_id).exclude(status__in=BEFORE_DISPATCH)
    if role in FIELD_ROLES:
        # A subquery, not a join: joining the cell's assignments would repeat a case once per assignee.
        return queryset.filter(Q(cell_id__in=_assigned_cells(user)) | Q(reporter=user))
    if role == Role.HOTLINE_AGENT:
        # Every open case, to find the duplicate of a caller's report; and their own, to call back.
        return queryset.filter(Q(status__in=OPEN_STATUSES) | Q(reporter=user))
    return queryset.none()


def can_act(user, case: Case, action: str) -> bool:
    """May this user take this step on this case (whatever the case's state)?"""
    if action not in ACTORS:
        raise ValueError(f"Unknown case action {action!r}.")
    role = role_of(user)
    if role not in ACTORS[action]:
        return False
    if role in DEPARTMENT_ROLES:
        return case.department_id is not None and case.department_id == profile_of(user).department_id
    if role in FIELD_ROLES:
        return case.cell_id is not None and _assigned_cells(user).filter(cell_id=case.cell_id).exists()
    if role == Role.HOTLINE_AGENT:
        return case.channel == Channel.HOTLINE  # the 12345 line calls back its own callers
    return True


def can_report(user) -> bool:
    """Everyone with a role files reports except leaders, who only read."""
    return role_of(user) not in (None, Role.LEADER)


def report_channel_of(user) -> Channel:
    return REPORT_CHANNEL.get(role_of(user), Channel.API)


def can_work_on(user, case: Case) -> bool:
    """The reporter and whoever may take any step: they add photos and see the caller's contact."""
    if role_of(user) in (None, Role.LEADER):
        return False
    return case.reporter_id == user.pk or any(can_act(user, case, action) for action in ACTORS if action not in _TALK)


# Steps taken on the phone, not on the case's ground: they do not make one its worker.
_TALK = {"callback", "reopen"}


def can_see_contact(user, case: Case) -> bool:
    return role_of(user) in CONTACT_ROLES or can_work_on(user, case)


def case_list(*, user) -> QuerySet[Case]:
    return cases_visible_to(user).select_related("category", "department", "cell").order_by("-created_at", "-pk")


def case_detail(*, user, pk: int) -> Case | None:
    """One visible case with its history and photos; None when it does not exist or is not the user's to see."""
    return _with_history(cases_visible_to(user)).filter(pk=pk).first()


def case_after_change(*, pk: int) -> Case:
    """The case as a step just left it, for the one who took the step (who may no longer see it)."""
    return _with_history(Case.objects.all()).get(pk=pk)


def photo_visible_to(user, *, pk: int) -> CasePhoto | None:
    return CasePhoto.objects.filter(pk=pk, case__in=cases_visible_to(user)).first()


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, help_text="Repeat for several.")
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    sla_level = django_filters.ChoiceFilter(choices=SlaLevel.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    category_kind = django_filters.ChoiceFilter(field_name="category__kind", choices=Category.Kind.choices)
    category_code = django_filters.CharFilter(field_name="category__code", help_text="4 digits, e.g. 0102.")
    department = django_filters.CharFilter(field_name="department__code", help_text="2 letters, e.g. CG.")
    cell = django_filters.CharFilter(field_name="cell__code", help_text="15-digit grid cell code.")

    class Meta:
        model = Case
        fields = []


def _assigned_cells(user) -> QuerySet[CellAssignment]:
    # Every version's cells: activating a grid version copies assignments forward and
    # keeps the old ones, so a case keeps the people of the cell it was filed in.
    return CellAssignment.objects.filter(user=user).values("cell_id")


def _with_history(queryset: QuerySet[Case]) -> QuerySet[Case]:
    return queryset.select_related("category", "department", "cell", "reporter", "merged_into").prefetch_related(
        Prefetch("events", CaseEvent.objects.select_related("actor").order_by("created_at", "pk")),
        Prefetch("photos", CasePhoto.objects.select_related("uploaded_by").order_by("created_at", "pk")),
        Prefetch("requests", CaseRequest.objects.select_related("requested_by", "decided_by").order_by("-pk")),
    )


def to_verify(user, limit: int = 20) -> QuerySet[Case]:
    """Handled cases in the grid staff's cells, waiting for them on site; the one due first on top."""
    cells = _assigned_cells(user)
    return (
        Case.objects.filter(status=Status.HANDLED, cell_id__in=cells)
        .select_related("category", "department", "cell")
        .order_by("verification_due", "pk")[:limit]
    )


def to_call_back(limit: int = 20) -> QuerySet[Case]:
    """Verified 12345 cases waiting for their callback (回访); the one due first on top."""
    return (
        Case.objects.filter(status=Status.VERIFIED, channel=Channel.HOTLINE)
        .select_related("category", "department")
        .order_by("callback_due", "pk")[:limit]
    )


def reported_by(user, limit: int = 20) -> QuerySet[Case]:
    return Case.objects.filter(reporter=user).select_related("category").order_by("-created_at", "-pk")[:limit]
