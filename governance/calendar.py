"""The working calendar: the clock every stage deadline runs on.

Arithmetic happens in local time (settings.TIME_ZONE). A working day is the
standard office day's length of working time (7 h with 09:00–12:00,
13:30–17:30), so "2 working days" from Monday 10:00 ends Wednesday 10:00.
A clock that starts outside office hours starts at the next opening, and a
deadline is the *earliest* moment at which the allowed working time has
elapsed (17:30, not the next morning's 09:00).

Which days are working days, in order of precedence:
1. an admin's CalendarOverride for that date;
2. the chinese-calendar package (holidays and make-up working days, 调休);
3. for a year the package does not know: Monday–Friday, with a logged
   warning and a system check warning (governance.W001).
"""

import datetime
import enum
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from governance import holidays
from governance.models import CalendarOverride

logger = logging.getLogger(__name__)

# How many consecutive days without any working time we accept before
# concluding that the calendar is broken (e.g. every day overridden off).
MAX_IDLE_DAYS = 400

Periods = list[tuple[datetime.time, datetime.time]]


class CalendarError(ValueError):
    """The calendar cannot answer: bad input or no working time at all."""


class Unit(enum.StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"


class DaySource(enum.StrEnum):
    OVERRIDE = "override"
    PACKAGE = "package"
    FALLBACK = "fallback"


@dataclass(frozen=True)
class DayInfo:
    date: datetime.date
    is_working: bool
    source: DaySource
    note: str


def _length(periods: Periods) -> datetime.timedelta:
    day = datetime.date(2000, 1, 3)
    return sum(
        (datetime.datetime.combine(day, end) - datetime.datetime.combine(day, start) for start, end in periods),
        datetime.timedelta(),
    )


class WorkingCalendar:
    """Pure working-time arithmetic over a fixed set of rules.

    Build one with get_calendar() in application code; tests build their own
    with whatever periods and overrides they need.
    """

    def __init__(
        self,
        *,
        periods_by_weekday: dict[int, Periods],
        overrides: dict[datetime.date, tuple[bool, str]] | None = None,
        tz: datetime.tzinfo | None = None,
        default_periods: Periods | None = None,
    ):
        self.periods_by_weekday = {day: list(periods_by_weekday.get(day, [])) for day in range(7)}
        # Make-up working days (调休) fall on weekends; when the weekend has no
        # periods of its own they follow the ordinary weekday schedule.
        self.default_periods = list(default_periods or self.periods_by_weekday[0])
        if not self.default_periods:
            raise CalendarError("The calendar needs office periods for an ordinary working day.")
        # An empty or inverted period would make a working day of no (or
        # negative) length, and add_working would then never finish.
        for periods in [self.default_periods, *self.periods_by_weekday.values()]:
            for start, end in periods:
                if end <= start:
                    raise CalendarError(f"Office period {start}-{end} is empty or ends before it starts.")
        self.overrides = dict(overrides or {})
        self.tz = tz or ZoneInfo(settings.TIME_ZONE)
        self.working_day = _length(self.default_periods)
        self.fallback_years: set[int] = set()
        self.day_info = lru_cache(maxsize=4096)(self._day_info)
        self._bounds = lru_cache(maxsize=4096)(self._period_bounds)

    # --- which days work ---------------------------------------------------
    def _day_info(self, day: datetime.date) -> DayInfo:
        if day in self.overrides:
            is_working, note = self.overrides[day]
            return DayInfo(day, is_working, DaySource.OVERRIDE, note)
        if holidays.is_covered(day):
            return DayInfo(day, holidays.package_is_workday(day), DaySource.PACKAGE, holidays.holiday_name(day) or "")
        if day.year not in self.fallback_years:
            self.fallback_years.add(day.year)
            logger.warning(
                "No holiday data for %s: counting Monday–Friday as working days. "
                "Upgrade chinesecalendar or add calendar overrides for that year.",
                day.year,
            )
        return DayInfo(day, day.weekday() < 5, DaySource.FALLBACK, "")

    def is_working_day(self, day: datetime.date) -> bool:
        return self.day_info(day).is_working

    def periods(self, day: datetime.date) -> Periods:
        if not self.is_working_day(day):
            return []
        return self.periods_by_weekday[day.weekday()] or self.default_periods

    def _period_bounds(self, day: datetime.date) -> tuple[tuple[datetime.datetime, datetime.datetime], ...]:
        return tuple(
            (
                datetime.datetime.combine(day, start, tzinfo=self.tz),
                datetime.datetime.combine(day, end, tzinfo=self.tz),
            )
            for start, end in self.periods(day)
        )

    # --- arithmetic -------------------------------------------------------
    def _local(self, moment: datetime.datetime) -> datetime.datetime:
        if moment.tzinfo is None:
            raise CalendarError("Calendar arithmetic needs an aware datetime (with a UTC offset).")
        return moment.astimezone(self.tz)

    def add(self, start: datetime.datetime, amount, unit: Unit | str) -> datetime.datetime:
        """The deadline `amount` units after `start`."""
        try:
            return self._add(start, amount, Unit(unit))
        except OverflowError:  # past year 9999, where datetime ends
            raise CalendarError(_("The deadline falls beyond the last date the calendar can count.")) from None

    def _add(self, start: datetime.datetime, amount, unit: Unit) -> datetime.datetime:
        try:
            amount = Decimal(str(amount))
        except InvalidOperation:
            raise CalendarError(f"A time limit must be a number, not {amount!r}.") from None
        # NaN would raise InvalidOperation below and infinity OverflowError later.
        if not amount.is_finite():
            raise CalendarError("A time limit must be a finite number.")
        if amount < 0:
            raise CalendarError("A time limit cannot be negative.")
        if unit is Unit.MINUTES:
            return self._local(start) + datetime.timedelta(minutes=float(amount))
        if unit is Unit.HOURS:
            return self._local(start) + datetime.timedelta(hours=float(amount))
        if unit is Unit.WORKING_HOURS:
            return self.add_working(start, datetime.timedelta(hours=float(amount)))
        return self.add_working(start, self.working_day * float(amount))

    def add_working(self, start: datetime.datetime, duration: datetime.timedelta) -> datetime.datetime:
        """The earliest moment at which `duration` of working time has elapsed."""
        cursor = self._local(start)
        if duration <= datetime.timedelta():
            return cursor
        remaining = duration
        day = cursor.date()
        idle = 0
        while True:
            before = remaining
            for opens, closes in self._bounds(day):
                if closes <= cursor:
                    continue
                begin = max(opens, cursor)
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            # Idle means no working time was found that day, whatever its periods.
            idle = 0 if remaining < before else idle + 1
            if idle > MAX_IDLE_DAYS:
                raise CalendarError(f"No working time for {MAX_IDLE_DAYS} days after {day}: check the calendar.")
            day += datetime.timedelta(days=1)

    def working_between(self, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
        """Working time inside [start, end]; negative when end is before start."""
        start, end = self._local(start), self._local(end)
        if end < start:
            return -self.working_between(end, start)
        total = datetime.timedelta()
        day = start.date()
        while day <= end.date():
            for opens, closes in self._bounds(day):
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
            day += datetime.timedelta(days=1)
        return total

    def next_opening(self, moment: datetime.datetime) -> datetime.datetime:
        """The moment itself if the office is open, else when it next opens."""
        cursor = self._local(moment)
        day = cursor.date()
        for _day in range(MAX_IDLE_DAYS + 1):
            for opens, closes in self._bounds(day):
                if cursor < closes:
                    return max(opens, cursor)
            day += datetime.timedelta(days=1)
        raise CalendarError(f"The office does not open within {MAX_IDLE_DAYS} days of {moment}.")


def calendar_from_settings(overrides=None) -> WorkingCalendar:
    return WorkingCalendar(
        periods_by_weekday=settings.OFFICE_HOURS_BY_WEEKDAY,
        overrides=overrides,
        default_periods=settings.OFFICE_HOURS,
    )


def get_calendar() -> WorkingCalendar:
    """The calendar as configured now: settings plus the admin's overrides.

    Built per call (one small query); callers doing many computations in a
    loop should build it once and reuse it.
    """
    overrides = {o.date: (o.is_working, o.note) for o in CalendarOverride.objects.all()}
    return calendar_from_settings(overrides)
