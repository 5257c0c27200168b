"""Stage time limits: shipped defaults, the fallback order, and deadlines across holidays."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from cases.models import Category, Severity, SlaPolicy, Stage
from cases.sla import DEFAULT_LIMITS, seed_default_policies, time_limit
from governance.calendar import Unit
from governance.models import Department

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def rubbish():
    return Category.objects.create(
        kind="event", code="9901", name="测试暴露垃圾", default_department=Department.objects.get(code="CG"),
        default_severity=Severity.NORMAL, handling_amount=Decimal(4), handling_unit=Unit.WORKING_HOURS,
    )  # fmt: skip


def test_a_fresh_database_has_every_default_row():
    rows = {(p.stage, p.severity): (p.amount, p.unit) for p in SlaPolicy.objects.filter(category__isnull=True)}
    assert len(rows) == len(Stage) * len(Severity) == 20
    assert rows[("dispatch", "critical")] == (Decimal(15), "minutes")
    assert rows[("handling", "urgent")] == (Decimal(24), "hours")
    assert rows[("verification", "normal")] == (Decimal(1), "working_days")
    assert rows[("callback", "minor")] == (Decimal(2), "working_days")
    assert seed_default_policies() == 0  # idempotent, and never overwrites an edit


def test_the_domain_table_is_what_ships():
    # domain.md §6, row by row.
    expected = {
        "dispatch": ["15 minutes", "1 hours", "2 working_hours", "1 working_days"],
        "handling": ["2 hours", "24 hours", "3 working_days", "15 working_days"],
        "verification": ["1 hours", "4 hours", "1 working_days", "2 working_days"],
        "callback": ["1 working_days", "1 working_days", "2 working_days", "2 working_days"],
    }
    for stage, limits in expected.items():
        got = [f"{DEFAULT_LIMITS[stage][s][0]} {DEFAULT_LIMITS[stage][s][1].value}" for s in Severity.values]
        assert got == limits, stage


def test_normal_handling_follows_the_category_other_severities_the_table(rubbish):
    limit = time_limit(stage="handling", category=rubbish, severity="normal")
    assert (limit.amount, limit.unit, limit.source) == (Decimal(4), Unit.WORKING_HOURS, "category")
    critical = time_limit(stage="handling", category=rubbish, severity="critical")
    assert (critical.amount, critical.unit, critical.source) == (Decimal(2), Unit.HOURS, "policy")
    no_category = time_limit(stage="handling", category=None, severity="normal")
    assert (no_category.amount, no_category.unit) == (Decimal(3), Unit.WORKING_DAYS)


def test_the_most_specific_policy_wins(rubbish):
    SlaPolicy.objects.create(stage="dispatch", category=rubbish, severity="", amount=30, unit="minutes")
    assert time_limit(stage="dispatch", category=rubbish, severity="normal").amount == 30
    SlaPolicy.objects.create(stage="dispatch", category=rubbish, severity="normal", amount=45, unit="minutes")
    assert time_limit(stage="dispatch", category=rubbish, severity="normal").amount == 45
    # A category policy beats the category's own handling limit too.
    SlaPolicy.objects.create(stage="handling", category=rubbish, severity="normal", amount=1, unit="working_days")
    assert time_limit(stage="handling", category=rubbish, severity="normal").source == "policy"
    # Other categories still get the table.
    assert time_limit(stage="dispatch", category=None, severity="normal").amount == 2


def test_an_edited_default_is_used_and_a_missing_one_falls_back_to_the_shipped_value():
    SlaPolicy.objects.filter(stage="verification", category=None, severity="urgent").update(amount=6)
    assert time_limit(stage="verification", category=None, severity="urgent").amount == 6
    SlaPolicy.objects.filter(stage="verification", category=None, severity="minor").delete()
    fallback = time_limit(stage="verification", category=None, severity="minor")
    assert (fallback.amount, fallback.unit, fallback.source) == (Decimal(2), Unit.WORKING_DAYS, "default")


def test_duplicate_rules_are_refused(rubbish):
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaPolicy.objects.create(stage="dispatch", category=None, severity="normal", amount=1, unit="hours")
    SlaPolicy.objects.create(stage="dispatch", category=rubbish, severity="urgent", amount=1, unit="hours")
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaPolicy.objects.create(stage="dispatch", category=rubbish, severity="urgent", amount=2, unit="hours")


def test_deadlines_across_national_day_2026(rubbish):
    # Reported Wednesday 30 September 16:00; 1–7 October is the holiday.
    start = at(2026, 9, 30, 16, 0)
    dispatch = time_limit(stage="dispatch", category=rubbish, severity="normal").deadline(start)
    assert dispatch == at(2026, 10, 8, 9, 30)  # 1.5 h on the 30th, 30 min on Thursday 8 October
    handling = time_limit(stage="handling", category=rubbish, severity="normal").deadline(start)
    assert handling == at(2026, 10, 8, 11, 30)  # 4 working hours
    urgent = time_limit(stage="handling", category=rubbish, severity="urgent").deadline(start)
    assert urgent == at(2026, 10, 1, 16, 0)  # natural hours ignore the holiday
    # Saturday 10 October is a make-up working day (调休): a day's verification ends there.
    verification = time_limit(stage="verification", category=rubbish, severity="normal").deadline(at(2026, 10, 9, 15))
    assert verification == at(2026, 10, 10, 15, 0)


def test_a_fresh_database_has_the_taxonomy():
    assert Category.objects.count() >= 60
    assert Category.objects.get(kind="event", code="0102").name == "暴露垃圾"
    assert set(Category.objects.values_list("default_department__code", flat=True)) == set(
        Department.objects.values_list("code", flat=True)
    )
