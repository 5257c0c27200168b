"""Chinese statutory holidays and make-up working days (调休).

A thin wrapper over the chinese-calendar package that says which years the
package knows, so the working calendar can fall back visibly (never crash)
for the others.
"""

import datetime
from functools import cache

import chinese_calendar
from chinese_calendar import constants


@cache
def covered_years() -> frozenset[int]:
    """The years for which the installed package has published data."""
    known = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
    return frozenset(range(min(known), max(known) + 1))


def is_covered(day: datetime.date) -> bool:
    return day.year in covered_years()


def package_is_workday(day: datetime.date) -> bool:
    """The package's answer; only call it for a covered year."""
    return chinese_calendar.is_workday(day)


def holiday_name(day: datetime.date) -> str | None:
    if not is_covered(day):
        return None
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    return name if on_holiday and name else None
