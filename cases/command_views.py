"""The command centre (指挥中心): dispatch queue, approvals, overdue board and the map of open cases.

Dispatchers work here; leaders may look (read-only: the case page offers them
no step). Every list is a bounded page ordered by what is due first, and rows
are reachable with the keyboard (j/k to move, Enter to open).
"""

import json

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Case as Switch
from django.db.models import Count, F, Q, When
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from cases import selectors
from cases.models import OPEN_STATUSES, CaseRequest, Severity, SlaLevel, Status
from cases.steps import STEPS
from governance.models import Department, Region, Role
from governance.views import role_required

PAGE_SIZE = 50
WATCHERS = (Role.DISPATCHER, Role.LEADER)
# The deadline column of the stage each open status runs, for ordering by what is due first.
DUE_OF_STATUS = {
    Status.REPORTED: "registration_due",
    Status.REGISTERED: "dispatch_due",
    Status.DISPATCHED: "handling_due",
    Status.HANDLED: "verification_due",
    Status.VERIFIED: "callback_due",
}


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _base(request):
    return selectors.case_list(user=request.user).select_related("cell__community")


@role_required(*WATCHERS)
def queue(request):
    """派遣: reports to register and registered cases to dispatch, the one due first on top."""
    status = request.GET.get("status", "")
    wanted = [status] if status in (Status.REPORTED, Status.REGISTERED) else [Status.REPORTED, Status.REGISTERED]
    cases = (
        _base(request)
        .filter(status__in=wanted)
        .annotate(due=_due_expression())
        .order_by(F("due").asc(nulls_last=True), "pk")
    )
    counts = dict(
        _base(request)
        .filter(status__in=[Status.REPORTED, Status.REGISTERED])
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return render(
        request,
        "cases/command/queue.html",
        {
            "page": _page(request, cases),
            "status": status,
            "counts": counts,
            "register": STEPS["register"],
            "section": "queue",
        },
    )


@role_required(*WATCHERS)
def approvals(request):
    """Returns, extensions and suspensions waiting for the command centre, oldest first."""
    kind = request.GET.get("kind", "")
    pending = CaseRequest.objects.filter(decision=CaseRequest.Decision.PENDING, case__in=_base(request))
    if kind in CaseRequest.Kind.values:
        pending = pending.filter(kind=kind)
    pending = pending.select_related("case__department", "case__category", "requested_by").order_by("created_at")
    counts = dict(
        CaseRequest.objects.filter(decision=CaseRequest.Decision.PENDING)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    page = _page(request, pending)
    forms = [(r, STEPS["decide"].form(prefix="decide", initial={"request": r.pk})) for r in page]
    return render(
        request,
        "cases/command/approvals.html",
        {
            "page": page,
            "forms": forms,
            "kind": kind,
            "kinds": CaseRequest.Kind.choices,
            "counts": counts,
            "can_decide": request.role == Role.DISPATCHER,
            "section": "approvals",
        },
    )


@role_required(*WATCHERS)
def overdue(request):
    """督办: open cases past their stage deadline (red), then those close to it (yellow), by department."""
    level = request.GET.get("level", SlaLevel.RED)
    level = level if level in (SlaLevel.RED, SlaLevel.YELLOW) else SlaLevel.RED
    department = request.GET.get("department", "")
    open_cases = _base(request).filter(status__in=OPEN_STATUSES)
    cases = open_cases.filter(sla_level=level).annotate(due=_due_expression())
    if department:
        cases = cases.filter(department__code=department)
    cases = cases.order_by(F("due").asc(nulls_last=True), "pk")
    by_department = (
        open_cases.filter(sla_level__in=[SlaLevel.RED, SlaLevel.YELLOW])
        .values("department__code", "department__name")
        .annotate(
            red=Count("pk", filter=Q(sla_level=SlaLevel.RED)), yellow=Count("pk", filter=Q(sla_level=SlaLevel.YELLOW))
        )
        .order_by("-red", "-yellow", "department__code")
    )
    return render(
        request,
        "cases/command/overdue.html",
        {
            "page": _page(request, cases),
            "level": level,
            "department": department,
            "by_department": by_department,
            "departments": Department.objects.filter(is_active=True).order_by("code"),
            "now": timezone.now(),
            "section": "overdue",
        },
    )


@role_required(*WATCHERS)
def case_map(request):
    """Open cases on the map, coloured by severity."""
    config = {
        "url": "cases.geojson",
        "communities": _community_outlines(),
        "center": list(settings.MAP_DEFAULT_CENTER),
        "zoom": settings.MAP_DEFAULT_ZOOM,
        "tileUrl": settings.MAP_TILE_URL,
        "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
    }
    counts = dict(
        _base(request).filter(status__in=OPEN_STATUSES).values_list("severity").annotate(n=Count("pk")).order_by()
    )
    legend = [(value, label, counts.get(value, 0)) for value, label in Severity.choices]
    return render(request, "cases/command/map.html", {"config": config, "legend": legend, "section": "map"})


def _community_outlines() -> dict:
    """The communities' boundaries, simplified: where the dots are, without any tile server."""
    features = []
    for region in Region.objects.filter(level=Region.Level.COMMUNITY, boundary__isnull=False).order_by("code"):
        shape = region.boundary.transform(4326, clone=True).simplify(0.00005, preserve_topology=True)
        features.append({"type": "Feature", "geometry": json.loads(shape.geojson),
                         "properties": {"name": region.name, "code": region.code}})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


# A map of the whole city's open cases is bounded; a city with more open cases filters by severity.
MAP_LIMIT = 5000


@role_required(*WATCHERS)
def case_map_data(request):
    """GeoJSON of open cases with a location (WGS84), the most severe and most overdue first."""
    cases = _base(request).filter(status__in=OPEN_STATUSES, location__isnull=False)
    severity = request.GET.get("severity", "")
    if severity in Severity.values:
        cases = cases.filter(severity=severity)
    order = {value: rank for rank, value in enumerate(Severity.values)}
    rows = cases.values_list("pk", "number", "status", "severity", "sla_level", "location", "address", "description")
    rows = list(rows[: MAP_LIMIT + 1])
    features = []
    for pk, number, status, severity_, level, point, address, description in rows[:MAP_LIMIT]:
        if point.srid != 4326:
            point = point.transform(4326, clone=True)
        features.append(
            {
                "type": "Feature",
                "id": pk,
                "geometry": json.loads(point.geojson),
                "properties": {
                    "number": number, "status": Status(status).label, "severity": severity_,
                    "severity_rank": order.get(severity_, 9), "sla_level": level, "address": address,
                    "description": description[:80], "url": reverse("cases:case", args=[pk]),
                },
            }
        )  # fmt: skip
    response = JsonResponse({"type": "FeatureCollection", "features": features, "truncated": len(rows) > MAP_LIMIT})
    response["Cache-Control"] = "private, no-store"
    return response


def _due_expression():
    return Switch(*[When(status=status, then=F(column)) for status, column in DUE_OF_STATUS.items()], default=None)
