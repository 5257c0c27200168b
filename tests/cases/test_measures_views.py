"""The ranking page (/measures/) and its downloads: who may read what, the picker, the table, the files."""

import csv
import datetime
import io
import json
import re

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.urls import reverse
from openpyxl import load_workbook

from governance.models import Department
from tests.cases.test_measures import SHANGHAI, at, category, close, dispatched, handle, verify

pytestmark = pytest.mark.django_db
URLS = ["measures:ranking", "measures:export-csv", "measures:export-xlsx"]
READERS = {"dispatcher", "cg_admin", "cg_handler", "sz_admin", "leader", "sysadmin", "sysop"}
NOVEMBER = {"period": "2026-11"}


@pytest.fixture(autouse=True)
def rank_small_samples(settings):
    """These tests count a handful of cases; the minimum sample for ranking has its own tests
    (test_measures_trust.py), so here every unit with a value is ranked."""
    settings.MEASURES_MIN_CASES_FOR_RANKING = 1


@pytest.fixture
def november(personas):
    """CG: one case closed on time; SZ: one case due and still open."""
    people = {"worker": personas["gridworker"], "hotline": personas["hotline"],
              "dispatcher": personas["dispatcher"], "cg": personas["cg_handler"]}  # fmt: skip
    done = dispatched(people, category("9901", "CG"))
    handle(people, done, at(2026, 11, 23, 15, 0))
    verify(people, done, at(2026, 11, 23, 16, 0))
    close(people, done, at(2026, 11, 23, 16, 30))
    dispatched(people, category("9902", "SZ"))
    return personas


def get(client, user, name="measures:ranking", **params):
    if user is not None:
        client.force_login(user)
    return client.get(reverse(name), params, HTTP_ACCEPT_LANGUAGE="en")


def table_rows(response) -> list[str]:
    """The codes of the ranking's rows, in order."""
    body = response.content.decode()
    tbody = body[body.index("<tbody>") : body.index("</tbody>")]
    return re.findall(r'<span class="muted code">([^<]*)</span>', tbody)


def name_of(code: str) -> str:
    return Department.objects.get(code=code).name


# --- who may read -----------------------------------------------------------------------


@pytest.mark.parametrize("name", URLS)
def test_each_role_is_let_in_or_refused(client, november, name):
    for persona, user in november.items():
        response = get(client, user, name, **NOVEMBER)
        expected = 200 if persona in READERS else 403
        assert response.status_code == expected, (persona, name, response.status_code)


@pytest.mark.parametrize("name", URLS)
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name), NOVEMBER)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_outsider_gets_nothing_of_the_figures(client, november):
    for name in URLS:
        response = get(client, november["outsider"], name, **NOVEMBER)
        # (Not b"CG": the page's CSRF token may contain those two letters by chance.)
        body = response.content.decode()
        assert response.status_code == 403 and "城市管理综合执法局" not in body and "<table" not in body


def test_leaders_see_every_department_ranked_by_on_time_closure(client, november):
    response = get(client, november["leader"], **NOVEMBER)
    assert table_rows(response) == ["CG", "SZ"]
    assert b"Only the cases of your department" not in response.content


def test_department_staff_see_their_department_only(client, november):
    for persona, code in [("cg_admin", "CG"), ("cg_handler", "CG"), ("sz_admin", "SZ")]:
        response = get(client, november[persona], **NOVEMBER)
        assert table_rows(response) == [code], persona
        assert "Only the cases of your department" in response.content.decode()


def test_department_staff_downloads_hold_their_department_only(client, november):
    rows = list(csv.reader(io.StringIO(get(client, november["sz_admin"], "measures:export-csv", **NOVEMBER)
                                       .content.decode("utf-8-sig"))))  # fmt: skip
    assert [row[1] for row in rows[1:3]] == ["SZ", ""], "SZ, then the totals"
    book = load_workbook(io.BytesIO(get(client, november["cg_admin"], "measures:export-xlsx", **NOVEMBER).content))
    assert [row[1] for row in book.active.iter_rows(min_row=2, values_only=True)] == ["CG", None]


# --- the page --------------------------------------------------------------------------


def test_the_page_shows_rates_definitions_downloads_and_chart_data(client, november):
    response = get(client, november["leader"], **NOVEMBER)
    body = response.content.decode()
    assert response.status_code == 200 and "private" in response["Cache-Control"]
    assert "结案率" in body and "按期结案率" in body and "cases closed on time / cases due" in body
    assert 'id="measure-on_time_closure_rate"' in body, "each measure's definition has an anchor"
    assert "100.00%" in body and "0.00%" in body and "1/1" in body and "0/1" in body
    assert f'href="{reverse("measures:export-csv")}?period=2026-11&amp;by=department"' in body
    assert f'href="{reverse("measures:export-xlsx")}?period=2026-11&amp;by=department"' in body
    charts = json.loads(re.search(r'<script id="measures-charts" type="application/json">(.*?)</script>', body)[1])
    assert [chart["percent"] for chart in charts] == [True, True]
    closure = charts[0]
    assert closure["labels"] == [name_of("CG"), name_of("SZ")]
    assert closure["series"][0]["label"].startswith("按期结案率") and closure["series"][0]["data"] == [100.0, 0.0]
    assert charts[1]["series"][0]["data"] == [None, None], "no 12345 case: nothing to draw, not 0 %"


def test_chart_js_is_served_from_our_static_files(client, november):
    body = get(client, november["leader"], **NOVEMBER).content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', body)
    assert any(src.endswith("vendor/chartjs/chart.min.js") for src in scripts)
    assert all(src.startswith("/static/") for src in scripts), "nothing from a CDN"
    assert finders.find("vendor/chartjs/chart.min.js") and finders.find("vendor/chartjs/LICENSE")
    assert "Chart.js v3.9.1" in open(finders.find("vendor/chartjs/chart.min.js"), encoding="utf-8").read(200)


def test_the_page_works_with_a_keyboard_and_scrolls_on_phones(client, november):
    body = get(client, november["leader"], **NOVEMBER).content.decode()
    scroll = '<div class="measures-scroll" role="region" aria-labelledby="measures-caption" tabindex="0">'
    assert scroll in body, "the scrolling table takes the keyboard's focus, so arrows scroll it"
    for control in ("measures-period", "measures-start", "measures-end", "measures-by"):
        assert f'<label for="{control}">' in body and f'id="{control}"' in body
    assert '<button type="submit"' in body
    assert finders.find("css/measures.css") and "overflow-x: auto" in open(finders.find("css/measures.css")).read()


def test_without_a_period_it_is_the_last_complete_month_in_beijing(client, november):
    # 1 January 2027 07:00 in Beijing is still 31 December in UTC, where November would be the answer.
    with time_machine.travel(datetime.datetime(2027, 1, 1, 7, 0, tzinfo=SHANGHAI), tick=False):
        response = get(client, november["leader"])
    assert response.status_code == 200 and response.context["table"].period.label == "2026-12"
    body = response.content.decode()
    assert 'value="2026-12"' in body and "the last complete month" in body


def test_a_date_range_from_the_picker(client, november):
    response = get(client, november["leader"], start="2026-11-24", end="2026-11-30", by="street")
    table = response.context["table"]
    assert (table.period.label, table.grouping.key) == ("2026-11-24..2026-11-30", "street")
    assert table.totals.counts["due"] == 2 and table.totals.counts["dispatched"] == 0
    body = response.content.decode()
    assert 'value="2026-11-24"' in body and 'value="2026-11-30"' in body
    assert "?period=2026-11-24..2026-11-30&amp;by=street" in body


@pytest.mark.parametrize("by", ["department", "street", "community", "grid", "worker"])
def test_every_grouping_renders(client, november, by):
    response = get(client, november["dispatcher"], period="2026Q4", by=by)
    assert response.status_code == 200 and response.context["table"].grouping.key == by


@pytest.mark.parametrize(
    "params, message",
    [
        ({"period": "2026-13"}, "is not a period"),
        ({"period": "2026-11-30..2026-11-01"}, "The date range ends on 2026-11-01, before it starts on 2026-11-30"),
        ({"start": "2026-11-01"}, "Give both the first and the last day"),
        ({"start": "2026-11-01", "end": "soon"}, "Enter a valid date"),
        ({"period": "2026-11", "by": "cell"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_a_400_that_says_why(client, november, params, message):
    response = get(client, november["leader"], **params)
    assert response.status_code == 400 and message in response.content.decode()
    assert "measures-charts" not in response.content.decode()
    for name in URLS[1:]:
        assert get(client, november["leader"], name, **params).status_code == 400


# --- the downloads ------------------------------------------------------------------------


def test_the_csv_download(client, november):
    response = get(client, november["leader"], "measures:export-csv", **NOVEMBER)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="measures-department-2026-11.csv"'
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:4] == ["排名 rank", "编码 code", "名称 name", "应结案数 due"]
    assert "按期结案率(%) on_time_closure_rate" in header
    cg, sz, totals = (dict(zip(header, row, strict=True)) for row in rows[1:4])
    assert (cg["排名 rank"], cg["编码 code"], cg["应结案数 due"], cg["按期结案率(%) on_time_closure_rate"]) == (
        "1", "CG", "1", "100.00",
    )  # fmt: skip
    assert (sz["排名 rank"], sz["按期结案率(%) on_time_closure_rate"]) == ("2", "0.00")
    assert sz["响应率(%) response_rate"] == "—"
    assert (totals["名称 name"], totals["应结案数 due"], totals["结案率(%) closure_rate"]) == ("Total", "2", "50.00")
    assert rows[4] == [] and rows[5][:2] == ["统计周期 period", "2026-11"]


def test_the_xlsx_download(client, november):
    response = get(client, november["leader"], "measures:export-xlsx", period="2026Q4", by="worker")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="measures-worker-2026Q4.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["综合评价", "指标定义"]
    rows = list(book["综合评价"].iter_rows(values_only=True))
    header, worker = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert (worker["编码 code"], worker["上报数 reports"], worker["有效上报数 valid_reports"]) == ("gridworker", 2, 2)
    assert worker["按期结案率(%) on_time_closure_rate"] == 0.5 and worker["满意率(%) satisfaction_rate"] == "—"
    column = header.index("按期结案率(%) on_time_closure_rate") + 1
    assert book["综合评价"].cell(row=2, column=column).number_format == "0.00%"
    assert ("结案率 closure rate", "closure_rate", "cases closed / cases due") in set(
        book["指标定义"].iter_rows(values_only=True)
    )
