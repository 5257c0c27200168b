"""Reads of the organisation: who someone is, what they may see."""

import datetime
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone

from governance.calendar import DayInfo, WorkingCalendar, get_calendar
from governance.holidays import covered_years
from governance.models import Department, Region, Role, StaffProfile


def role_of(user) -> Role | None:
    """The user's role; a superuser without a profile is a system admin."""
    if not user.is_authenticated:
        return None
    profile = getattr(user, "profile", None) if hasattr(user, "profile") else None
    if profile is not None:
        return Role(profile.role)
    return Role.SYSTEM_ADMIN if user.is_superuser else None


def profile_of(user) -> StaffProfile | None:
    try:
        return user.profile
    except StaffProfile.DoesNotExist:
        return None


def department_directory():
    return Department.objects.filter(is_active=True).select_related("head").order_by("code")


def region_tree(root: Region | None):
    """The region and its ancestors, from the district down."""
    chain = []
    while root is not None:
        chain.append(root)
        root = root.parent
    return list(reversed(chain))


def staff_counts_by_role() -> list[tuple[str, int]]:
    counts = dict(StaffProfile.objects.values_list("role").annotate(n=Count("id")))
    return [(role.label, counts.get(role.value, 0)) for role in Role]


@dataclass(frozen=True)
class CalendarToday:
    today: DayInfo
    next_working_day: datetime.date
    next_opening: datetime.datetime
    special_days: list[DayInfo]
    missing_years: list[int]


def calendar_today(calendar: WorkingCalendar | None = None, now: datetime.datetime | None = None) -> CalendarToday:
    calendar = calendar or get_calendar()
    now = timezone.localtime(now or timezone.now())
    day = now.date()
    upcoming = [calendar.day_info(day + datetime.timedelta(days=i)) for i in range(1, 31)]
    next_working = next((d.date for d in upcoming if d.is_working), day)
    # Days that differ from an ordinary week: weekday holidays, make-up
    # working weekends (调休) and whatever an admin overrode.
    special = [d for d in upcoming if d.is_working != (d.date.weekday() < 5) or d.source == "override"]
    return CalendarToday(
        today=calendar.day_info(day),
        next_working_day=next_working,
        next_opening=calendar.next_opening(now),
        special_days=special[:6],
        missing_years=[y for y in (day.year, day.year + 1) if y not in covered_years()],
    )


def region_counts() -> list[tuple[str, int]]:
    counts = dict(Region.objects.values_list("level").annotate(n=Count("id")))
    return [(level.label, counts.get(level.value, 0)) for level in Region.Level]


def users_manageable_by(user, queryset):
    """Logins this admin may see and change: below superuser, superusers are out of reach."""
    return queryset if user.is_superuser else queryset.filter(is_superuser=False)


def staff_visible_to(user, queryset=None):
    """Department admins see their department's staff; other admins see all but superusers' profiles."""
    queryset = StaffProfile.objects.all() if queryset is None else queryset
    if not user.is_superuser:
        queryset = queryset.filter(user__is_superuser=False)
    if role_of(user) == Role.DEPARTMENT_ADMIN:
        profile = profile_of(user)
        return queryset.filter(department_id=profile.department_id)
    return queryset
