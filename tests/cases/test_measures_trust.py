"""Measures a leader can trust: the last complete month by default, a minimum sample to be ranked, a reversed range.

Unlike the other measures tests, these keep the real minimum sample for ranking
(MEASURES_MIN_CASES_FOR_RANKING, 10 unless a test overrides it).
"""

import csv
import datetime
import io
import json

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from cases import measures
from tests.cases.test_measures import SHANGHAI, at, category, close, dispatched, handle, people, verify

pytestmark = pytest.mark.django_db
__all__ = ["people"]  # a fixture, used by name

REVERSED_ZH = "日期范围的结束日期（2026-11-01）早于开始日期（2026-11-30）"
REVERSED_EN = "The date range ends on 2026-11-01, before it starts on 2026-11-30"


@pytest.fixture
def small_and_big(people):
    """November 2026: SZ closed 3 of 3 due on time (100 %); CG closed 29 of 32 due on time (90.6 %)."""
    for department, code, on_time, open_ in [("SZ", "9902", 3, 0), ("CG", "9901", 29, 3)]:
        cat = category(code, department)
        for _n in range(on_time):
            case = dispatched(people, cat)
            handle(people, case, at(2026, 11, 23, 15, 0))
            verify(people, case, at(2026, 11, 23, 16, 0))
            close(people, case, at(2026, 11, 23, 16, 30))
        for _n in range(open_):
            dispatched(people, cat)
    return people


def kpi(*args: str) -> str:
    out = io.StringIO()
    call_command("kpi", *args, stdout=out)
    return out.getvalue()


def csv_rows(text: str) -> list[dict]:
    """The group rows of a measures CSV (not the totals, not the notes), by header."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    end = rows.index([]) - 1
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:end]]


def rank_and_code(rows: list[dict]) -> list[tuple[str, str]]:
    return [(row["排名 rank"], row["编码 code"]) for row in rows]


# --- the default period ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now, month",
    [
        (datetime.datetime(2026, 12, 1, 0, 5, tzinfo=SHANGHAI), "2026-11"),
        # Across the year; 07:00 in Beijing is still 31 December in UTC, where November would be the answer.
        (datetime.datetime(2027, 1, 1, 7, 0, tzinfo=SHANGHAI), "2026-12"),
        (datetime.datetime(2026, 11, 30, 23, 59, tzinfo=SHANGHAI), "2026-10"),
    ],
)
def test_the_default_is_the_last_complete_month_on_the_page_and_in_the_command(client, personas, now, month):
    with time_machine.travel(now, tick=False):
        assert measures.default_period().label == month
        client.force_login(personas["leader"])
        response = client.get(reverse("measures:ranking"), HTTP_ACCEPT_LANGUAGE="zh-hans")
        with translation.override("zh-hans"):
            out = kpi("--format", "json")
    assert response.status_code == 200 and response.context["table"].period.label == month
    body = response.content.decode()
    assert f"统计周期： <strong>{month}</strong>" in body and "显示上一个完整月份" in body
    assert f'name="period" value="{month}"' in body, "the picker shows the period too"
    assert json.loads(out)["period"]["label"] == month


def test_a_chosen_period_is_not_called_the_default(client, personas):
    client.force_login(personas["leader"])
    body = client.get(reverse("measures:ranking"), {"period": "2026-11"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "统计周期： <strong>2026-11</strong>" in body.content.decode()
    assert "显示上一个完整月份" not in body.content.decode()


# --- the minimum sample for ranking -------------------------------------------------------------------


def test_three_at_100_percent_do_not_outrank_thirty_two_at_90(client, small_and_big):
    table = measures.measure_table(period=measures.parse_period("2026-11"), by="department")
    assert [(row.code, row.rank, row.too_few, row.counts["due"]) for row in table.rows] == [
        ("CG", 1, False, 32),
        ("SZ", None, True, 3),
    ]

    client.force_login(small_and_big["dispatcher"])
    page = client.get(reverse("measures:ranking"), {"period": "2026-11"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = page.content.decode()
    tbody = body[body.index("<tbody>") : body.index("</tbody>")]
    assert tbody.index('<span class="muted code">CG</span>') < tbody.index('<span class="muted code">SZ</span>')
    assert tbody.count("样本不足（不足 10 件）") == 1 and '<td class="num">1</td>' in tbody
    assert "应结案数达到 10 件才参与排名" in body
    assert "100.00%" in tbody, "the small unit keeps its figures"

    download = client.get(reverse("measures:export-csv"), {"period": "2026-11"})
    assert rank_and_code(csv_rows(download.content.decode("utf-8"))) == [("1", "CG"), ("", "SZ")]

    assert rank_and_code(csv_rows(kpi("--period", "2026-11"))) == [("1", "CG"), ("", "SZ")]
    data = json.loads(kpi("--period", "2026-11", "--format", "json"))
    assert [(row["code"], row["rank"], row["too_few"]) for row in data["rows"]] == [
        ("CG", 1, False),
        ("SZ", None, True),
    ]
    assert (data["ranking_sample"], data["min_cases_for_ranking"]) == ("due", 10)


def test_the_minimum_is_a_setting(client, small_and_big, settings):
    settings.MEASURES_MIN_CASES_FOR_RANKING = 3
    assert rank_and_code(csv_rows(kpi("--period", "2026-11"))) == [("1", "SZ"), ("2", "CG")]
    settings.MEASURES_MIN_CASES_FOR_RANKING = 33
    assert rank_and_code(csv_rows(kpi("--period", "2026-11"))) == [("", "SZ"), ("", "CG")]
    client.force_login(small_and_big["dispatcher"])
    body = client.get(reverse("measures:ranking"), {"period": "2026-11"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert body.content.decode().count("样本不足（不足 33 件）") == 2


def test_grid_workers_are_ranked_by_a_count_whatever_their_sample(people):
    dispatched(people, category("9901", "CG"))
    table = measures.measure_table(period=measures.parse_period("2026-11"), by="worker")
    assert [(row.code, row.rank, row.too_few) for row in table.rows] == [("w", 1, False)]


def test_unranked_units_come_after_the_ranked_ones_and_before_those_with_no_value():
    grouping = measures.grouping_of("department")

    def row(code: str, due: int, on_time: int) -> measures.MeasureRow:
        counts = dict.fromkeys(measures.COUNT_KEYS, 0) | {"due": due, "closed": on_time, "closed_on_time": on_time}
        return measures.MeasureRow(code=code, name=code, counts=counts)

    rows = [row("none", 0, 0), row("small", 2, 2), row("tie-a", 10, 5), row("best", 10, 9), row("tie-b", 20, 10)]
    ranked = measures.rank_rows(rows, grouping=grouping, minimum=10)
    assert [(r.code, r.rank, r.too_few) for r in ranked] == [
        ("best", 1, False),
        ("tie-b", 2, False),  # equal rates share a rank; more cases due first
        ("tie-a", 2, False),
        ("small", None, True),
        ("none", None, False),
    ]


# --- a reversed date range ---------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{"start": "2026-11-30", "end": "2026-11-01"}, {"period": "2026-11-30..2026-11-01"}])
def test_a_reversed_range_is_a_400_that_says_so_in_chinese(client, personas, params):
    client.force_login(personas["leader"])
    response = client.get(reverse("measures:ranking"), params, HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()
    assert response.status_code == 400 and REVERSED_ZH in body
    assert "<tbody>" not in body, "no table, not an empty one"
    for name in ("measures:export-csv", "measures:export-xlsx"):
        download = client.get(reverse(name), params, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert download.status_code == 400


def test_a_reversed_range_on_the_page_is_the_last_days_error(client, personas):
    client.force_login(personas["leader"])
    params = {"start": "2026-11-30", "end": "2026-11-01"}
    response = client.get(reverse("measures:ranking"), params, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert list(response.context["query"].errors) == ["end"]


def test_a_reversed_range_is_a_command_error(db, english):
    with pytest.raises(CommandError, match=REVERSED_EN):
        kpi("--period", "2026-11-30..2026-11-01")
    with translation.override("zh-hans"), pytest.raises(CommandError, match=REVERSED_ZH):
        kpi("--period", "2026-11-30..2026-11-01")
