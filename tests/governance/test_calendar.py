"""The working calendar: domain rules, real 2026 holidays, fallback years and properties.

Most tests build a WorkingCalendar directly (no database); the few at the end
go through get_calendar() to show that CalendarOverride rows win.
"""

import datetime
import logging
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from governance.calendar import (
    MAX_IDLE_DAYS,
    CalendarError,
    DaySource,
    Unit,
    WorkingCalendar,
    calendar_from_settings,
    get_calendar,
)
from governance.models import CalendarOverride

TZ = ZoneInfo("Asia/Shanghai")
T = datetime.time
STANDARD = [(T(9), T(12)), (T(13, 30), T(17, 30))]
HOUR = datetime.timedelta(hours=1)


def at(year, month, day, hour=0, minute=0, tz=TZ) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=tz)


def make_calendar(overrides=None, **weekday_periods) -> WorkingCalendar:
    """Standard Mon–Fri office hours; keyword `fri=[...]` etc. replaces one weekday."""
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    by_weekday = {day: STANDARD for day in range(5)}
    for name, periods in weekday_periods.items():
        by_weekday[names.index(name)] = periods
    return WorkingCalendar(periods_by_weekday=by_weekday, overrides=overrides, tz=TZ, default_periods=STANDARD)


@pytest.fixture
def cal() -> WorkingCalendar:
    return make_calendar()


# A week in March 2026 without any holiday: Mon 2 … Fri 6, Sat 7, Sun 8, Mon 9, Tue 10.
MON, SAT, SUN = (2026, 3, 2), (2026, 3, 7), (2026, 3, 8)


# --- the domain's own examples -----------------------------------------------
def test_a_working_day_is_the_office_day_length(cal):
    assert cal.working_day == datetime.timedelta(hours=7)


def test_two_working_days_from_monday_10_end_wednesday_10(cal):
    assert cal.add(at(*MON, 10), 2, Unit.WORKING_DAYS) == at(2026, 3, 4, 10)


def test_two_working_days_from_saturday_end_tuesday_at_closing(cal):
    assert cal.add(at(*SAT, 10), 2, Unit.WORKING_DAYS) == at(2026, 3, 10, 17, 30)


def test_units_accept_strings_and_decimals(cal):
    # Half a working day is 3.5 working hours: 09:00–12:00, then 13:30–14:00.
    assert cal.add(at(*MON, 9), Decimal("0.5"), "working_days") == at(*MON, 14)
    assert cal.add(at(*MON, 9), "1.5", "working_hours") == at(*MON, 10, 30)
    assert cal.add(at(*MON, 9), 0.25, Unit.WORKING_HOURS) == at(*MON, 9, 15)


def test_result_is_local_time_whatever_the_start_offset(cal):
    start = datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.UTC)  # Monday 10:00 in Shanghai
    deadline = cal.add(start, 2, Unit.WORKING_DAYS)
    assert deadline == at(2026, 3, 4, 10)
    assert deadline.isoformat() == "2026-03-04T10:00:00+08:00"


# --- a clock that starts outside office hours --------------------------------
@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(at(*MON, 7, 30), at(*MON, 10), id="before-09:00"),
        pytest.param(at(*MON, 12, 15), at(*MON, 14, 30), id="lunch"),
        pytest.param(at(*MON, 12), at(*MON, 14, 30), id="exactly-12:00"),
        pytest.param(at(*MON, 17, 30), at(2026, 3, 3, 10), id="exactly-17:30"),
        pytest.param(at(*MON, 18), at(2026, 3, 3, 10), id="after-17:30"),
        pytest.param(at(*SAT, 10), at(2026, 3, 9, 10), id="saturday"),
        pytest.param(at(*SUN, 23, 59), at(2026, 3, 9, 10), id="sunday-night"),
        pytest.param(at(2026, 10, 3, 10), at(2026, 10, 8, 10), id="national-day-holiday"),
    ],
)
def test_clock_starting_outside_office_hours_starts_at_next_opening(cal, start, expected):
    assert cal.add(start, 1, Unit.WORKING_HOURS) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(*MON, 7), at(*MON, 9)),
        (at(*MON, 10, 5), at(*MON, 10, 5)),
        (at(*MON, 12), at(*MON, 13, 30)),
        (at(*MON, 17, 30), at(2026, 3, 3, 9)),
        (at(*SAT, 12), at(2026, 3, 9, 9)),
    ],
)
def test_next_opening(cal, moment, expected):
    assert cal.next_opening(moment) == expected


# --- the earliest moment --------------------------------------------------------
def test_deadline_is_the_lunch_break_start_not_the_afternoon_opening(cal):
    assert cal.add(at(*MON, 9), 3, Unit.WORKING_HOURS) == at(*MON, 12)


def test_deadline_is_closing_time_not_next_morning(cal):
    assert cal.add(at(*MON, 13, 30), 4, Unit.WORKING_HOURS) == at(*MON, 17, 30)
    assert cal.add(at(*MON, 9), 1, Unit.WORKING_DAYS) == at(*MON, 17, 30)
    # From a weekend, the whole of Monday is one working day: Monday 17:30.
    assert cal.add(at(*SAT, 9), 1, Unit.WORKING_DAYS) == at(2026, 3, 9, 17, 30)


def test_deadline_at_closing_does_not_look_at_the_next_day():
    # Ending at 17:30 on 31 December 2026 must not consult 2027 (no data: fallback).
    cal = make_calendar()
    assert cal.add(at(2026, 12, 31, 16), Decimal("1.5"), Unit.WORKING_HOURS) == at(2026, 12, 31, 17, 30)
    assert cal.fallback_years == set()


# --- amounts -------------------------------------------------------------------
@pytest.mark.parametrize("unit", list(Unit))
@pytest.mark.parametrize("start", [at(*MON, 10), at(*SAT, 10), at(*MON, 12, 30)], ids=["open", "weekend", "lunch"])
def test_zero_amount_is_the_start_itself(cal, unit, start):
    # The earliest moment at which no time has elapsed is the start, even outside office hours.
    assert cal.add(start, 0, unit) == start


@pytest.mark.parametrize("unit", list(Unit))
@pytest.mark.parametrize("amount", [-1, Decimal("-0.001"), "-2"])
def test_negative_amount_raises(cal, unit, amount):
    with pytest.raises(CalendarError, match="negative"):
        cal.add(at(*MON, 10), amount, unit)


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity", float("inf"), float("nan")])
def test_amount_that_is_not_a_finite_number_raises(cal, amount):
    with pytest.raises(CalendarError):
        cal.add(at(*MON, 10), amount, Unit.WORKING_DAYS)


def test_unknown_unit_raises_value_error(cal):
    with pytest.raises(ValueError):
        cal.add(at(*MON, 10), 1, "fortnights")


def test_naive_datetimes_raise(cal):
    naive = datetime.datetime(2026, 3, 2, 10)
    for call in [
        lambda: cal.add(naive, 1, Unit.WORKING_DAYS),
        lambda: cal.add(naive, 1, Unit.MINUTES),
        lambda: cal.add_working(naive, HOUR),
        lambda: cal.working_between(naive, at(*MON, 12)),
        lambda: cal.working_between(at(*MON, 9), naive),
        lambda: cal.next_opening(naive),
    ]:
        with pytest.raises(CalendarError, match="aware"):
            call()


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        (at(*SAT, 23, 50), 20, Unit.MINUTES, at(*SUN, 0, 10)),
        (at(*MON, 11, 50), 30, Unit.MINUTES, at(*MON, 12, 20)),
        (at(2026, 10, 1, 8), 48, Unit.HOURS, at(2026, 10, 3, 8)),
        (at(*MON, 17), Decimal("1.5"), Unit.HOURS, at(*MON, 18, 30)),
    ],
)
def test_natural_units_ignore_the_calendar(start, amount, unit, expected):
    # Even a calendar with every day off: natural time never looks at it.
    all_off = {datetime.date(2026, 1, 1) + datetime.timedelta(days=i): (False, "off") for i in range(366)}
    assert make_calendar(overrides=all_off).add(start, amount, unit) == expected


# --- real 2026 holidays (the chinese-calendar package) ---------------------------
def test_spring_festival_2026_as_the_package_says(cal):
    assert cal.day_info(datetime.date(2026, 2, 14)).is_working  # make-up Saturday
    assert cal.day_info(datetime.date(2026, 2, 28)).is_working  # make-up Saturday
    for day in range(15, 24):
        info = cal.day_info(datetime.date(2026, 2, day))
        assert (info.is_working, info.source) == (False, DaySource.PACKAGE)
    assert cal.is_working_day(datetime.date(2026, 2, 24))
    assert not cal.is_working_day(datetime.date(2026, 3, 1))
    assert cal.day_info(datetime.date(2026, 2, 16)).note == "Spring Festival"


def test_spring_festival_deadline_counts_make_up_saturday_and_skips_the_holiday(cal):
    # Fri 13 Feb 16:00: 1.5 h Friday + 7 h Sat 14 (make-up) + 5.5 h Tue 24 → 16:00.
    assert cal.add(at(2026, 2, 13, 16), 2, Unit.WORKING_DAYS) == at(2026, 2, 24, 16)
    # Without the make-up day the same limit would end a full day later.
    no_make_up = make_calendar(overrides={datetime.date(2026, 2, 14): (False, "test")})
    assert no_make_up.add(at(2026, 2, 13, 16), 2, Unit.WORKING_DAYS) == at(2026, 2, 25, 16)


def test_make_up_saturday_28_february_is_a_working_day(cal):
    # Fri 27 Feb 16:00 + 1 working day: 1.5 h Friday, 5.5 h on Saturday 28 → Saturday 16:00.
    assert cal.add(at(2026, 2, 27, 16), 1, Unit.WORKING_DAYS) == at(2026, 2, 28, 16)


def test_make_up_day_uses_the_weekend_schedule_when_one_is_configured():
    mornings_only = make_calendar(sat=[(T(9), T(12))])
    # Saturday 28 Feb has 09:00–12:00 only, so 4 working hours end Monday (Mar 2) 10:00.
    assert mornings_only.add(at(2026, 2, 28, 8), 4, Unit.WORKING_HOURS) == at(2026, 3, 2, 10)


def test_national_day_2026_example(cal):
    assert cal.add(at(2026, 9, 30, 16), 8, Unit.WORKING_HOURS) == at(2026, 10, 8, 17)
    for day in range(1, 8):
        assert not cal.is_working_day(datetime.date(2026, 10, day))


def test_national_day_make_up_days_sunday_20_september_and_saturday_10_october(cal):
    assert cal.add(at(2026, 9, 19, 10), 1, Unit.WORKING_HOURS) == at(2026, 9, 20, 10)
    assert cal.add(at(2026, 10, 9, 17), 1, Unit.WORKING_HOURS) == at(2026, 10, 10, 9, 30)
    assert not cal.is_working_day(datetime.date(2026, 10, 11))


def test_mid_autumn_2026_is_friday_25_september_in_the_package(cal):
    # The package (chinesecalendar 1.11) keeps Mid-Autumn apart from National Day in 2026.
    assert cal.day_info(datetime.date(2026, 9, 25)).note == "Mid-autumn Festival"
    assert cal.add(at(2026, 9, 24, 17), 1, Unit.WORKING_HOURS) == at(2026, 9, 28, 9, 30)


def test_working_between_across_the_holidays(cal):
    # Fri 13 and Sat 14 Feb count, 15–23 Feb do not.
    assert cal.working_between(at(2026, 2, 13, 9), at(2026, 2, 24, 9)) == 14 * HOUR
    # Wed 30 Sep and Thu 8 Oct count, 1–7 Oct do not.
    assert cal.working_between(at(2026, 9, 30, 9), at(2026, 10, 9, 9)) == 14 * HOUR
    # The make-up Sunday is the only working day of that weekend.
    assert cal.working_between(at(2026, 9, 19), at(2026, 9, 21)) == 7 * HOUR
    assert cal.working_between(at(2026, 10, 1), at(2026, 10, 8)) == datetime.timedelta()


def test_working_between_partial_days_and_reversed_order(cal):
    assert cal.working_between(at(*MON, 11), at(*MON, 14)) == 1.5 * HOUR
    assert cal.working_between(at(*MON, 14), at(*MON, 11)) == -1.5 * HOUR
    assert cal.working_between(at(*MON, 12), at(*MON, 13, 30)) == datetime.timedelta()


# --- a year without package data (2027) ----------------------------------------
def test_year_without_data_falls_back_to_monday_to_friday_with_a_warning(caplog):
    cal = make_calendar()
    with caplog.at_level(logging.WARNING, logger="governance.calendar"):
        # Fri 5 Mar 2027 16:00 + 1 working day: weekend skipped → Mon 8 Mar 16:00.
        assert cal.add(at(2027, 3, 5, 16), 1, Unit.WORKING_DAYS) == at(2027, 3, 8, 16)
        assert cal.add(at(2027, 3, 9, 9), 1, Unit.WORKING_DAYS) == at(2027, 3, 9, 17, 30)
    assert cal.fallback_years == {2027}
    assert cal.day_info(datetime.date(2027, 3, 6)).source == DaySource.FALLBACK
    assert not cal.is_working_day(datetime.date(2027, 3, 6))
    assert cal.is_working_day(datetime.date(2027, 3, 8))
    warnings = [r for r in caplog.records if r.name == "governance.calendar" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, "one warning per year and calendar, not one per day"
    assert "2027" in warnings[0].getMessage()


def test_year_without_data_counts_new_years_day_unless_overridden():
    # The fallback cannot know 1 Jan 2027 (a Friday) is a holiday…
    plain = make_calendar()
    assert plain.add(at(2026, 12, 31, 16), 1, Unit.WORKING_DAYS) == at(2027, 1, 1, 16)
    # …an admin's override says so, and wins.
    overridden = make_calendar(overrides={datetime.date(2027, 1, 1): (False, "元旦")})
    assert overridden.add(at(2026, 12, 31, 16), 1, Unit.WORKING_DAYS) == at(2027, 1, 4, 16)
    info = overridden.day_info(datetime.date(2027, 1, 1))
    assert (info.is_working, info.source, info.note) == (False, DaySource.OVERRIDE, "元旦")


# --- overrides and schedules -------------------------------------------------
def test_override_makes_a_weekday_off_and_a_weekend_day_on():
    cal = make_calendar(
        overrides={datetime.date(2026, 3, 4): (False, "停电检修"), datetime.date(2026, 3, 7): (True, "防汛值班")}
    )
    assert cal.add(at(*MON, 10), 2, Unit.WORKING_DAYS) == at(2026, 3, 5, 10)  # Wednesday skipped
    assert cal.add(at(2026, 3, 6, 16), 1, Unit.WORKING_DAYS) == at(*SAT, 16)  # Saturday works
    assert cal.day_info(datetime.date(2026, 3, 7)).source == DaySource.OVERRIDE


def test_override_wins_over_the_package():
    cal = make_calendar(
        overrides={datetime.date(2026, 2, 16): (True, "应急值班"), datetime.date(2026, 2, 14): (False, "调整")}
    )
    assert cal.is_working_day(datetime.date(2026, 2, 16))
    assert not cal.is_working_day(datetime.date(2026, 2, 14))
    # Fri 13 Feb 16:00 + 2 working days: 1.5 h Friday, 7 h Mon 16 Feb, 5.5 h Tue 24 Feb.
    assert cal.add(at(2026, 2, 13, 16), 2, Unit.WORKING_DAYS) == at(2026, 2, 24, 16)


def test_per_weekday_periods_friday_ends_at_16():
    cal = make_calendar(fri=[(T(9), T(12)), (T(13, 30), T(16))])
    assert cal.working_day == 7 * HOUR, "a working day stays the ordinary day's length"
    assert cal.add(at(2026, 3, 6, 13, 30), Decimal("2.5"), Unit.WORKING_HOURS) == at(2026, 3, 6, 16)
    assert cal.add(at(2026, 3, 6, 15), 2, Unit.WORKING_HOURS) == at(2026, 3, 9, 10)
    # Friday offers 5.5 h, the remaining 1.5 h are on Monday.
    assert cal.add(at(2026, 3, 6, 9), 1, Unit.WORKING_DAYS) == at(2026, 3, 9, 10, 30)
    assert cal.working_between(at(2026, 3, 6), at(*SAT)) == 5.5 * HOUR


def test_calendar_settings_follow_django_settings(settings):
    settings.OFFICE_HOURS = STANDARD
    settings.OFFICE_HOURS_BY_WEEKDAY = {
        day: ([(T(9), T(12)), (T(13, 30), T(16))] if day == 4 else STANDARD if day < 5 else []) for day in range(7)
    }
    cal = calendar_from_settings({})
    assert cal.add(at(2026, 3, 6, 15), 2, Unit.WORKING_HOURS) == at(2026, 3, 9, 10)


# --- calendars with no working time -------------------------------------------
def test_every_day_off_raises_instead_of_looping_forever():
    start = datetime.date(2026, 3, 1)
    all_off = {start + datetime.timedelta(days=i): (False, "closed") for i in range(MAX_IDLE_DAYS + 100)}
    cal = make_calendar(overrides=all_off)
    with pytest.raises(CalendarError, match="No working time"):
        cal.add(at(2026, 3, 2, 10), 1, Unit.WORKING_HOURS)
    with pytest.raises(CalendarError):
        cal.next_opening(at(2026, 3, 2, 10))
    assert cal.working_between(at(2026, 3, 1), at(2026, 6, 1)) == datetime.timedelta()


@pytest.mark.parametrize(
    "periods",
    [[(T(9), T(9))], [(T(17, 30), T(13, 30))], [(T(9), T(12)), (T(14), T(14))]],
    ids=["zero-length", "inverted", "one-empty"],
)
def test_periods_without_working_time_are_refused(periods):
    with pytest.raises(CalendarError, match="empty or ends before"):
        WorkingCalendar(periods_by_weekday={day: periods for day in range(5)}, tz=TZ)


def test_calendar_without_ordinary_periods_is_refused():
    with pytest.raises(CalendarError):
        WorkingCalendar(periods_by_weekday={}, tz=TZ)


# --- get_calendar(): CalendarOverride rows win (database) ---------------------
@pytest.fixture
def standard_settings(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.OFFICE_HOURS = STANDARD
    settings.OFFICE_HOURS_BY_WEEKDAY = {day: STANDARD if day < 5 else [] for day in range(7)}


@pytest.mark.django_db
@pytest.mark.usefixtures("standard_settings")
def test_get_calendar_without_overrides_uses_the_package():
    assert get_calendar().add(at(2026, 9, 30, 16), 8, Unit.WORKING_HOURS) == at(2026, 10, 8, 17)


@pytest.mark.django_db
@pytest.mark.usefixtures("standard_settings")
def test_get_calendar_override_rows_win_over_the_package():
    CalendarOverride.objects.create(date=datetime.date(2026, 10, 8), is_working=False, note="延长假期")
    CalendarOverride.objects.create(date=datetime.date(2026, 10, 5), is_working=True, note="应急值班")
    cal = get_calendar()
    info = cal.day_info(datetime.date(2026, 10, 8))
    assert (info.is_working, info.source, info.note) == (False, DaySource.OVERRIDE, "延长假期")
    # Sep 30: 1.5 h; Oct 5 (override on): 6.5 h → 17:00 on Monday 5 October.
    assert cal.add(at(2026, 9, 30, 16), 8, Unit.WORKING_HOURS) == at(2026, 10, 5, 17)


@pytest.mark.django_db
@pytest.mark.usefixtures("standard_settings")
def test_get_calendar_override_in_a_year_without_data(caplog):
    CalendarOverride.objects.create(date=datetime.date(2027, 1, 1), is_working=False, note="元旦")
    cal = get_calendar()
    with caplog.at_level(logging.WARNING, logger="governance.calendar"):
        assert cal.add(at(2026, 12, 31, 16), 1, Unit.WORKING_DAYS) == at(2027, 1, 4, 16)
    assert cal.day_info(datetime.date(2027, 1, 1)).source == DaySource.OVERRIDE
    assert cal.fallback_years == {2027}
    assert "2027" in caplog.text


@pytest.mark.django_db
@pytest.mark.usefixtures("standard_settings")
def test_get_calendar_sees_new_rows_on_every_call():
    before = get_calendar()
    CalendarOverride.objects.create(date=datetime.date(2026, 3, 4), is_working=False, note="停电检修")
    assert before.is_working_day(datetime.date(2026, 3, 4))
    assert not get_calendar().is_working_day(datetime.date(2026, 3, 4))


# --- properties -------------------------------------------------------------------
# One calendar for all examples, as in production: its day cache makes them cheap.
PROPERTY_CALENDAR = make_calendar()
PROPERTIES = hypothesis_settings(max_examples=200, deadline=None)

starts = st.datetimes(
    min_value=datetime.datetime(2025, 1, 1),
    max_value=datetime.datetime(2027, 12, 31, 23, 59),
    timezones=st.sampled_from([TZ, datetime.UTC, datetime.timezone(datetime.timedelta(hours=-5))]),
).map(lambda moment: moment.replace(second=0, microsecond=0))
working_durations = st.integers(min_value=0, max_value=40 * 60).map(lambda minutes: datetime.timedelta(minutes=minutes))
natural_gaps = st.integers(min_value=0, max_value=14 * 24 * 60).map(lambda minutes: datetime.timedelta(minutes=minutes))


@PROPERTIES
@given(start=starts, duration=working_durations)
def test_property_working_between_inverts_add_working(start, duration):
    cal = PROPERTY_CALENDAR
    assert cal.working_between(start, cal.add_working(start, duration)) == duration


@PROPERTIES
@given(start=starts, shorter=working_durations, extra=working_durations)
def test_property_add_working_is_monotone(start, shorter, extra):
    cal = PROPERTY_CALENDAR
    assert cal.add_working(start, shorter) <= cal.add_working(start, shorter + extra)


@PROPERTIES
@given(start=starts, first=working_durations, second=working_durations)
def test_property_add_working_is_additive(start, first, second):
    cal = PROPERTY_CALENDAR
    assert cal.add_working(cal.add_working(start, first), second) == cal.add_working(start, first + second)


@PROPERTIES
@given(start=starts, gap=natural_gaps)
def test_property_add_working_of_working_between_is_the_earliest_moment(start, gap):
    cal = PROPERTY_CALENDAR
    end = start + gap
    reached = cal.add_working(start, cal.working_between(start, end))
    assert reached <= end
    assert cal.working_between(reached, end) == datetime.timedelta()


@PROPERTIES
@given(start=starts, duration=working_durations.filter(bool))
def test_property_positive_deadline_lies_inside_office_hours(start, duration):
    cal = PROPERTY_CALENDAR
    deadline = cal.add_working(start, duration)
    assert deadline.tzinfo is TZ
    assert cal.is_working_day(deadline.date())
    # (opens, closes]: some working time has elapsed in that period, and closing itself counts.
    assert any(opens < deadline.time() <= closes for opens, closes in cal.periods(deadline.date()))
    assert cal.add_working(cal.next_opening(start), duration) == deadline


@PROPERTIES
@given(start=starts, first=natural_gaps, second=natural_gaps)
def test_property_working_between_is_additive(start, first, second):
    cal = PROPERTY_CALENDAR
    middle, end = start + first, start + first + second
    assert cal.working_between(start, middle) + cal.working_between(middle, end) == cal.working_between(start, end)
