"""The measures (综合评价): every formula against hand-counted cases, periods, groupings, visibility.

The cases go through the real lifecycle services at fixed Beijing times, so
the measure columns are what production writes. The November week: Monday
23 November 2026, dispatch at 10:00; a 24-natural-hour handling limit makes
every handling deadline Tuesday 10:00 unless a step moves it; acceptance
(响应) is due two working hours after dispatch, at 12:00.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import measures, services
from cases.models import Case, Category, Status
from cases.selectors import cases_visible_to
from governance.calendar import Unit
from governance.models import Department, Role
from grids.models import Cell
from tests.factories import community, person, street
from tests.grids.factories import cell_centre, grid_square, square_grid_version

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = measures.parse_period("2026-11")


@pytest.fixture(autouse=True)
def rank_small_samples(settings):
    """These tests count a handful of cases; the minimum sample for ranking has its own tests
    (test_measures_trust.py), so here every unit with a value is ranked."""
    settings.MEASURES_MIN_CASES_FOR_RANKING = 1


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


MONDAY_10 = at(2026, 11, 23, 10, 0)


def on(when: datetime.datetime, action, **kwargs):
    with time_machine.travel(when, tick=False):
        return action(**kwargs)


@pytest.fixture
def people(db):
    return {
        "worker": person("w", Role.GRID_WORKER, full_name="王网格"),
        "worker2": person("w2", Role.GRID_WORKER),
        "hotline": person("agent", Role.HOTLINE_AGENT),
        "dispatcher": person("d", Role.DISPATCHER),
        "cg": person("cg_h", Role.DEPARTMENT_HANDLER, department_code="CG"),
        "sz": person("sz_h", Role.DEPARTMENT_HANDLER, department_code="SZ"),
    }


def category(code: str, department: str) -> Category:
    """Handling in 24 natural hours, so deadlines can sit on any minute, midnight included."""
    return Category.objects.create(
        kind="event", code=code, name=f"测试{code}", default_department=Department.objects.get(code=department),
        default_severity="normal", handling_amount=Decimal(24), handling_unit=Unit.HOURS,
    )  # fmt: skip


@pytest.fixture
def cg(db):
    return category("9901", "CG")


@pytest.fixture
def sz(db):
    return category("9902", "SZ")


def report(people, when, *, channel="grid_worker", reporter=None, **kwargs) -> Case:
    reporter = reporter or (people["hotline"] if channel == "hotline" else people["worker"])
    return on(when, services.case_report, channel=channel, description="路面破损", reporter=reporter, **kwargs)


def dispatched(people, cat, when=MONDAY_10, **kwargs) -> Case:
    case = report(people, when - datetime.timedelta(minutes=30), **kwargs)
    on(when - datetime.timedelta(minutes=15), services.case_register, case=case, actor=people["dispatcher"],
       category=cat)  # fmt: skip
    return on(when, services.case_dispatch, case=case, actor=people["dispatcher"])


def handle(people, case, when):
    return on(when, services.case_handle, case=case, actor=people["cg"])


def verify(people, case, when, *, passed=True, by="worker"):
    return on(when, services.case_verify, case=case, actor=people[by], passed=passed, reason="" if passed else "未整改")


def close(people, case, when):
    return on(when, services.case_close, case=case, actor=people["dispatcher"])


def callback(people, case, when, *, solved, satisfied):
    return on(when, services.case_callback, case=case, actor=people["hotline"], reached=True, solved=solved,
              satisfied=satisfied, note="" if solved else "问题仍在")  # fmt: skip


@pytest.fixture
def week(people, cg):
    """The hand-counted November week, all CG; the comment of each case says what it counts for."""
    cases = {}
    # A: handled Monday, verified, closed: due, closed on time.
    a = cases["A"] = dispatched(people, cg)
    handle(people, a, at(2026, 11, 23, 16, 0))
    verify(people, a, at(2026, 11, 23, 17, 0))
    close(people, a, at(2026, 11, 23, 17, 15))
    # B: handled an hour after its deadline, verified after its verification deadline (Wed 11:00): late twice.
    b = cases["B"] = dispatched(people, cg)
    handle(people, b, at(2026, 11, 24, 11, 0))
    verify(people, b, at(2026, 11, 26, 10, 0))
    close(people, b, at(2026, 11, 26, 10, 30))
    # C: sent back once (返工); the rework restarts the handling clock (due Tue 16:00), handled again in time.
    c = cases["C"] = dispatched(people, cg)
    handle(people, c, at(2026, 11, 23, 15, 0))
    verify(people, c, at(2026, 11, 23, 16, 0), passed=False)
    handle(people, c, at(2026, 11, 24, 9, 0))
    verify(people, c, at(2026, 11, 24, 10, 0))
    close(people, c, at(2026, 11, 24, 10, 30))
    # D: 24 hours more approved (延期), still open: due (Wed 10:00), not closed.
    d = cases["D"] = dispatched(people, cg)
    request = on(at(2026, 11, 23, 11, 0), services.case_request_extension, case=d, actor=people["cg"],
                 reason="等待配件", amount=24, unit=Unit.HOURS)  # fmt: skip
    on(at(2026, 11, 23, 11, 30), services.case_decide_request, request=request, actor=people["dispatcher"],
       approve=True)  # fmt: skip
    # E: 12345, accepted at 13:00 (due 12:00: late), closed by a callback: solved, not satisfied.
    e = cases["E"] = dispatched(people, cg, channel="hotline")
    on(at(2026, 11, 23, 13, 0), services.case_accept, case=e, actor=people["cg"])
    handle(people, e, at(2026, 11, 23, 15, 0))
    verify(people, e, at(2026, 11, 23, 15, 30), by="worker2")
    callback(people, e, at(2026, 11, 23, 16, 0), solved=True, satisfied=False)
    # F: 12345, accepted in time; the callback says not solved: back to the department, open.
    f = cases["F"] = dispatched(people, cg, channel="hotline")
    on(at(2026, 11, 23, 10, 30), services.case_accept, case=f, actor=people["cg"])
    handle(people, f, at(2026, 11, 23, 14, 0))
    verify(people, f, at(2026, 11, 23, 14, 30), by="worker2")
    callback(people, f, at(2026, 11, 23, 15, 0), solved=False, satisfied=False)
    # G: the same problem as D, merged into it: dispatched, but never due.
    g = cases["G"] = dispatched(people, cg)
    on(at(2026, 11, 23, 11, 0), services.case_merge, case=g, into=d, actor=people["dispatcher"], reason="同一问题")
    # R: rejected; S: never registered. Reports, not valid ones, and no department.
    cases["R"] = report(people, at(2026, 11, 23, 9, 0))
    on(at(2026, 11, 23, 9, 10), services.case_reject, case=cases["R"], actor=people["dispatcher"], reason="重复")
    cases["S"] = report(people, at(2026, 11, 23, 9, 0))
    return {key: Case.objects.get(pk=case.pk) for key, case in cases.items()}


def row_of(table: measures.MeasureTable, code: str) -> measures.MeasureRow:
    return next(row for row in table.rows if row.code == code)


# --- the formulas ---------------------------------------------------------------------


def test_the_week_as_the_services_left_it(week):
    """The columns the formulas read, checked once, so a failure below is the formula's."""
    assert week["B"].handled_at > week["B"].handling_due
    assert week["C"].rework_count == 1 and week["C"].handling_due == at(2026, 11, 24, 16, 0)
    assert week["D"].extension_count == 1 and week["D"].handling_due == at(2026, 11, 25, 10, 0)
    assert week["E"].response_due == at(2026, 11, 23, 12, 0)
    assert week["F"].status == Status.DISPATCHED and week["F"].callback_solved is False
    assert week["G"].merged_into == week["D"] and week["G"].status == Status.CLOSED
    assert week["B"].verified_at > week["B"].verification_due == at(2026, 11, 25, 11, 0)


def test_every_count_by_hand(week):
    cg = row_of(measures.measure_table(period=NOVEMBER, by="department"), "CG")
    assert cg.counts == {
        "due": 6,  # A B C D E F; not G, merged
        "closed": 4,  # A B C E
        "closed_on_time": 3,  # A C E; B was handled late
        "handled": 5,  # A B C E F
        "reworked": 1,  # C
        "dispatched": 7,  # A–G
        "extended": 1,  # D
        "hotline_dispatched": 2,  # E F
        "responded": 1,  # F; E was accepted after 12:00
        "callbacks": 2,  # E F
        "solved": 1,  # E
        "satisfied": 0,
        "reports": 5,  # A B C D G: the rest of the grid workers' reports have no department (below)
        "valid_reports": 4,  # A B C D
        "verifications": 5,  # A B C E F
        "verified_on_time": 4,  # not B
    }


def test_every_rate_by_hand(week):
    cg = row_of(measures.measure_table(period=NOVEMBER, by="department"), "CG")
    assert cg.rates == {
        "closure_rate": pytest.approx(4 / 6),
        "on_time_closure_rate": 0.5,
        "rework_rate": 0.2,
        "extension_rate": pytest.approx(1 / 7),
        "response_rate": 0.5,
        "solved_rate": 0.5,
        "satisfaction_rate": 0.0,  # nobody satisfied is 0 %, not "—"
    }
    assert [measures.percent(cg.rate(key)) for key in ("closure_rate", "extension_rate", "satisfaction_rate")] == [
        "66.67%",
        "14.29%",
        "0.00%",
    ]


def test_reports_without_a_department_are_their_own_row_and_in_the_totals(week, english):
    table = measures.measure_table(period=NOVEMBER, by="department")
    unset = row_of(table, "")
    assert (unset.name, table.totals.name) == ("not set", "Total")
    assert (unset.counts["reports"], unset.counts["valid_reports"], unset.counts["due"]) == (2, 0, 0)  # R S
    assert unset.rate("on_time_closure_rate") is None and unset.rank is None
    assert table.totals.counts["reports"] == 7 and table.totals.counts["due"] == 6
    assert table.rows[-1] is unset, "a row with nothing to rank comes last"


def test_grid_workers_reports_for_the_reporter_verifications_for_the_verifier(week, people):
    table = measures.measure_table(period=NOVEMBER, by="worker")
    w, w2 = row_of(table, "w"), row_of(table, "w2")
    assert (w.name, w2.name) == ("王网格", "w2")
    assert {k: w.counts[k] for k in ("reports", "valid_reports", "verifications", "verified_on_time")} == {
        "reports": 7, "valid_reports": 4, "verifications": 3, "verified_on_time": 2,
    }  # fmt: skip
    assert {k: w2.counts[k] for k in ("reports", "valid_reports", "verifications", "verified_on_time")} == {
        "reports": 0, "valid_reports": 0, "verifications": 2, "verified_on_time": 2,
    }  # fmt: skip
    # The worker's own reports' loop: A B C D due, A C on time; no 12345 case is a grid worker's.
    assert (w.counts["due"], w.counts["closed_on_time"], w.rate("response_rate")) == (4, 2, None)
    assert "agent" not in {row.code for row in table.rows}, "12345 cases are not a grid worker's reports"
    assert [row.code for row in table.rows] == ["w", "w2"] and (w.rank, w2.rank) == (1, 2), "by valid reports"
    assert table.totals.counts["verifications"] == 5


def test_nothing_to_divide_by_gives_none_never_an_error(week):
    table = measures.measure_table(period=measures.parse_period("2027-01"), by="department")
    assert table.rows == []
    assert set(table.totals.counts.values()) == {0}
    assert set(table.totals.rates.values()) == {None}
    assert measures.percent(table.totals.rate("closure_rate")) == "—"


def test_a_group_with_due_cases_but_no_callbacks_has_no_callback_rates(people, sz):
    dispatched(people, sz)
    row = row_of(measures.measure_table(period=NOVEMBER, by="department"), "SZ")
    assert (row.rate("on_time_closure_rate"), row.rate("solved_rate"), row.rate("rework_rate")) == (0.0, None, None)


def test_one_aggregate_query_and_one_label_query(week):
    with CaptureQueriesContext(connection) as queries:
        measures.measure_table(period=NOVEMBER, by="department")
    assert len(queries) == 2
    assert "GROUP BY" in queries[0]["sql"].upper()
    with CaptureQueriesContext(connection) as queries:
        measures.measure_table(period=NOVEMBER, by="worker")
    assert len(queries) == 2 and "UNION ALL" in queries[0]["sql"].upper()


# --- periods --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, label, first, last",
    [
        ("2026-11", "2026-11", datetime.date(2026, 11, 1), datetime.date(2026, 11, 30)),
        ("2026-02", "2026-02", datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)),
        ("2028-02", "2028-02", datetime.date(2028, 2, 1), datetime.date(2028, 2, 29)),
        ("2026-12", "2026-12", datetime.date(2026, 12, 1), datetime.date(2026, 12, 31)),
        ("2026Q4", "2026Q4", datetime.date(2026, 10, 1), datetime.date(2026, 12, 31)),
        ("2026q1", "2026Q1", datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)),
        ("2026", "2026", datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)),
        (" 2026-11-05 ", "2026-11-05", datetime.date(2026, 11, 5), datetime.date(2026, 11, 5)),
        ("2026-11-01..2026-11-15", "2026-11-01..2026-11-15", datetime.date(2026, 11, 1), datetime.date(2026, 11, 15)),
        ("2026-12-20..2027-01-10", "2026-12-20..2027-01-10", datetime.date(2026, 12, 20), datetime.date(2027, 1, 10)),
    ],
)
def test_periods_parse(text, label, first, last):
    period = measures.parse_period(text)
    assert (period.label, period.first, period.last) == (label, first, last)


def test_a_period_runs_from_beijing_midnight_to_the_next():
    period = measures.parse_period("2026-11")
    assert period.start == at(2026, 11, 1) and period.end == at(2026, 12, 1)
    assert period.start.astimezone(datetime.UTC) == datetime.datetime(2026, 10, 31, 16, 0, tzinfo=datetime.UTC)
    assert measures.parse_period("2026Q4").end == at(2027, 1, 1)


@pytest.mark.parametrize(
    "text",
    ["", "2026-13", "2026-00", "2026Q5", "2026Q0", "26-11", "2026/11", "November", "2026-11-31",
     "2026-11-01..", "2026-11-01..2026-11-02..2026-11-03", "9999-12", "9999",
     "2026-11-01..2026-12"],
)  # fmt: skip
def test_bad_periods_say_what_a_period_is(text, english):
    with pytest.raises(measures.PeriodError, match="give a month \\(2026-11\\), a quarter \\(2026Q4\\)"):
        measures.parse_period(text)


def test_a_reversed_range_has_its_own_error(english):
    # Moved out of the list above: a range that ends before it starts is a period written backwards.
    with pytest.raises(measures.ReversedRangeError, match="ends on 2026-11-01, before it starts on 2026-11-15"):
        measures.parse_period("2026-11-15..2026-11-01")


def test_recent_periods_offer_months_quarters_and_years():
    offered = measures.recent_periods(datetime.date(2026, 1, 15))
    assert offered[:3] == ["2026-01", "2025-12", "2025-11"] and len([o for o in offered if "-" in o]) == 12
    assert [o for o in offered if "Q" in o] == ["2026Q1", "2025Q4", "2025Q3", "2025Q2", "2025Q1"]
    assert offered[-3:] == ["2026", "2025", "2024"]


def test_boundaries_are_beijing_midnight(people, cg):
    """Due exactly at 00:00 on 1 November is November's; due at 00:00 on 1 December is December's."""
    first = dispatched(people, cg, when=at(2026, 10, 31, 0, 0))
    last = dispatched(people, cg, when=at(2026, 11, 30, 0, 0))
    assert (first.handling_due, last.handling_due) == (at(2026, 11, 1), at(2026, 12, 1))
    # A report at 07:00 on 1 November in Beijing is still 31 October in UTC: November's.
    report(people, at(2026, 11, 1, 7, 0))
    report(people, at(2026, 10, 31, 23, 59, 59))

    def counts(text):
        totals = measures.measure_table(period=measures.parse_period(text), by="department").totals.counts
        return totals["due"], totals["dispatched"], totals["reports"]

    assert counts("2026-10") == (0, 1, 2)  # first dispatched 31 Oct; its report and the 23:59:59 one
    assert counts("2026-11") == (1, 1, 2)  # first due; last dispatched; last's report and the 07:00 one
    assert counts("2026-12") == (1, 0, 0)
    assert counts("2026Q4") == counts("2026") == (2, 2, 4)
    assert counts("2026-11-01") == (1, 0, 1)
    assert counts("2026-11-02..2026-11-30") == (0, 1, 1)


# --- groupings ------------------------------------------------------------------------


@pytest.fixture
def two_streets(people, cg, sz):
    """Community A (street 001) with a 2 × 2 grid, community B (street 002) with one cell, and a case without one.

    c1 CG in A's cell 1, closed on time; c2 SZ in A's cell 2, open; c3 CG in B, handled late and closed;
    c4 CG with no location, open.
    """
    version = square_grid_version(n=2)
    street("330211002", "月湖街道")
    other = community("330211002001", "月湖社区")
    Cell.objects.create(version=version, code="330211002001001", community=other, area_m2=10_700.0,
                        geometry=grid_square(121.51, 30.0, 0, 0))  # fmt: skip
    where = {"a1": cell_centre(1, n=2), "a2": cell_centre(2, n=2), "b": (121.5105, 29.9995)}
    c1 = dispatched(people, cg, lng=where["a1"][0], lat=where["a1"][1])
    handle(people, c1, at(2026, 11, 23, 15, 0))
    verify(people, c1, at(2026, 11, 23, 16, 0))
    close(people, c1, at(2026, 11, 23, 16, 30))
    dispatched(people, sz, lng=where["a2"][0], lat=where["a2"][1])
    c3 = dispatched(people, cg, lng=where["b"][0], lat=where["b"][1])
    handle(people, c3, at(2026, 11, 25, 9, 0))
    verify(people, c3, at(2026, 11, 25, 10, 0))
    close(people, c3, at(2026, 11, 25, 10, 30))
    dispatched(people, cg)
    assert c3.cell.code == "330211002001001"


def ranking(by: str, cases=None) -> list[tuple]:
    table = measures.measure_table(period=NOVEMBER, by=by, cases=cases)
    return [(row.rank, row.code, row.counts["due"], row.rate("on_time_closure_rate")) for row in table.rows]


def test_by_department(two_streets):
    assert ranking("department") == [(1, "CG", 3, pytest.approx(1 / 3)), (2, "SZ", 1, 0.0)]


def test_by_street(two_streets):
    assert ranking("street") == [(1, "330211001", 2, 0.5), (2, "330211002", 1, 0.0), (2, "", 1, 0.0)]
    table = measures.measure_table(period=NOVEMBER, by="street")
    assert [row.name for row in table.rows[:2]] == ["东湖街道", "月湖街道"]


def test_by_community(two_streets):
    assert ranking("community") == [(1, "330211001001", 2, 0.5), (2, "330211002001", 1, 0.0), (2, "", 1, 0.0)]


def test_by_grid_cell(two_streets):
    assert ranking("grid") == [
        (1, "330211001001001", 1, 1.0),
        (2, "330211001001002", 1, 0.0),
        (2, "330211002001001", 1, 0.0),
        (2, "", 1, 0.0),
    ]
    table = measures.measure_table(period=NOVEMBER, by="grid")
    assert table.rows[0].name == "湖滨社区", "a cell is named by its community"


def test_by_worker(two_streets):
    assert ranking("worker") == [(1, "w", 4, pytest.approx(1 / 4))]


def test_an_unknown_grouping_is_refused(english):
    with pytest.raises(ValueError, match="“cell” is not a grouping: choose one of department, street, community"):
        measures.measure_table(period=NOVEMBER, by="cell")


def test_visibility_a_department_reads_its_own_cases_only(two_streets, people):
    handler = people["sz"]
    assert ranking("department", cases_visible_to(handler)) == [(1, "SZ", 1, 0.0)]
    assert ranking("street", cases_visible_to(handler)) == [(1, "330211001", 1, 0.0)]
    assert [row[1] for row in ranking("department", cases_visible_to(people["dispatcher"]))] == ["CG", "SZ"]


# --- exports --------------------------------------------------------------------------


def test_the_json_export_carries_definitions_counts_and_rates(week):
    data = measures.as_json(measures.measure_table(period=NOVEMBER, by="department"))
    assert data["period"] == {
        "label": "2026-11", "start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00",
    }  # fmt: skip
    assert [r["key"] for r in data["definitions"]["rates"]] == [r.key for r in measures.RATES]
    assert data["definitions"]["rates"][0] | {"name": "", "formula": ""} == {
        "key": "closure_rate", "zh": "结案率", "name": "", "formula": "", "numerator": "closed", "denominator": "due",
    }  # fmt: skip
    cg = next(row for row in data["rows"] if row["code"] == "CG")
    assert cg["rates"]["on_time_closure_rate"] == 0.5 and cg["counts"]["due"] == 6
    assert data["totals"]["rates"]["response_rate"] == 0.5
