"""Stage time limits: the shipped defaults and how a case's limit is chosen.

Defaults are domain.md §6, except registration, which the table leaves open:
10 minutes for critical, 30 for urgent, 2 working hours for normal and one
working day for minor reports. Admins edit every row; these are only seeded.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import models

from cases.models import Category, Severity, SlaPolicy, Stage
from governance.calendar import Unit, WorkingCalendar, get_calendar

M, H, WH, WD = Unit.MINUTES, Unit.HOURS, Unit.WORKING_HOURS, Unit.WORKING_DAYS

# stage → severity → (amount, unit); severities in the order critical, urgent, normal, minor.
DEFAULT_LIMITS = {
    "registration": {"critical": (10, M), "urgent": (30, M), "normal": (2, WH), "minor": (1, WD)},
    "dispatch": {"critical": (15, M), "urgent": (1, H), "normal": (2, WH), "minor": (1, WD)},
    # Normal handling follows the category; 3 working days when a case has none yet.
    "handling": {"critical": (2, H), "urgent": (24, H), "normal": (3, WD), "minor": (15, WD)},
    "verification": {"critical": (1, H), "urgent": (4, H), "normal": (1, WD), "minor": (2, WD)},
    "callback": {"critical": (1, WD), "urgent": (1, WD), "normal": (2, WD), "minor": (2, WD)},
}


def seed_default_policies(apps=None) -> int:
    """Create the any-category rows of DEFAULT_LIMITS that are missing; never overwrite an admin's edit."""
    # From a migration, the historical model; otherwise today's.
    policy_model = apps.get_model("cases", "SlaPolicy") if apps is not None else SlaPolicy
    created = 0
    for stage, by_severity in DEFAULT_LIMITS.items():
        for severity, (amount, unit) in by_severity.items():
            _, made = policy_model.objects.get_or_create(
                stage=stage, category=None, severity=severity, defaults={"amount": amount, "unit": unit.value}
            )
            created += made
    return created


@dataclass(frozen=True)
class TimeLimit:
    amount: Decimal
    unit: Unit
    source: str  # which rule gave it, shown to dispatchers: "policy", "category", "default"

    def deadline(self, start: datetime.datetime, calendar: WorkingCalendar | None = None) -> datetime.datetime:
        return (calendar or get_calendar()).add(start, self.amount, self.unit)


def time_limit(*, stage: str, category: Category | None, severity: str) -> TimeLimit:
    """The limit of one stage for a category and severity; the most specific rule wins.

    (category, severity) → (category, any) → for normal handling, the
    category's own limit → (any, severity) → (any, any) → the shipped default.
    """
    stage, severity = Stage(stage), Severity(severity)
    category_id = category.pk if category is not None else None
    scope = (
        models.Q(category__isnull=True) | models.Q(category_id=category_id)
        if category_id
        else models.Q(category__isnull=True)
    )
    rows = {(row.category_id, row.severity): row for row in SlaPolicy.objects.filter(scope, stage=stage)}
    specific = [(category_id, severity), (category_id, "")] if category_id else []
    for key in specific:
        if key in rows:
            return TimeLimit(rows[key].amount, Unit(rows[key].unit), "policy")
    if stage == Stage.HANDLING and category is not None and severity == Severity.NORMAL:
        return TimeLimit(category.handling_amount, Unit(category.handling_unit), "category")
    for key in [(None, severity), (None, "")]:
        if key in rows:
            return TimeLimit(rows[key].amount, Unit(rows[key].unit), "policy")
    amount, unit = DEFAULT_LIMITS[stage][severity]
    return TimeLimit(Decimal(amount), unit, "default")
