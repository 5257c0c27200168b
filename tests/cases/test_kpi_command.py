"""manage.py kpi: the measures of a period as CSV, XLSX or JSON, and clear refusals of bad input."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import load_workbook

from cases import measures
from tests.cases.test_measures import at, category, close, dispatched, handle, verify

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rank_small_samples(settings):
    """These tests count a handful of cases; the minimum sample for ranking has its own tests
    (test_measures_trust.py), so here every unit with a value is ranked."""
    settings.MEASURES_MIN_CASES_FOR_RANKING = 1


@pytest.fixture
def november(personas):
    """CG: one case closed on time, one handled late and closed; SZ: one case due and open; one 12345 case."""
    people = {"worker": personas["gridworker"], "hotline": personas["hotline"],
              "dispatcher": personas["dispatcher"], "cg": personas["cg_handler"]}  # fmt: skip
    cg = category("9901", "CG")
    for handled_at in (at(2026, 11, 23, 15, 0), at(2026, 11, 24, 11, 0)):
        case = dispatched(people, cg)
        handle(people, case, handled_at)
        verify(people, case, handled_at.replace(minute=30))
        close(people, case, handled_at.replace(minute=45))
    dispatched(people, category("9902", "SZ"))
    dispatched(people, cg, channel="hotline")
    return personas


def kpi(*args: str) -> str:
    out = io.StringIO()
    call_command("kpi", *args, stdout=out)
    return out.getvalue()


def test_csv_on_standard_output(november, english):
    rows = list(csv.reader(io.StringIO(kpi("--period", "2026-11", "--by", "department", "--format", "csv"))))
    header = rows[0]
    assert header == measures.export_headers()
    assert header[3:6] == ["应结案数 due", "结案数 closed", "按期结案数 closed_on_time"]
    assert header[-7:] == [
        "结案率(%) closure_rate", "按期结案率(%) on_time_closure_rate", "返工率(%) rework_rate",
        "延期率(%) extension_rate", "响应率(%) response_rate", "解决率(%) solved_rate", "满意率(%) satisfaction_rate",
    ]  # fmt: skip
    table = [dict(zip(header, row, strict=True)) for row in rows[1:4]]
    assert [(row["编码 code"], row["应结案数 due"], row["按期结案率(%) on_time_closure_rate"]) for row in table] == [
        ("CG", "3", "33.33"),  # one on time of three due (the 12345 case is still open)
        ("SZ", "1", "0.00"),
        ("", "4", "25.00"),  # the totals
    ]
    assert table[0]["响应率(%) response_rate"] == "0.00" and table[1]["响应率(%) response_rate"] == "—"
    assert table[2]["名称 name"] == "Total"
    notes = rows[5:]
    assert notes[0] == ["统计周期 period", "2026-11", "2026-11-01 – 2026-11-30 (Asia/Shanghai)"]
    assert ["按期结案率 on-time closure rate", "on_time_closure_rate", "cases closed on time / cases due"] in notes
    assert notes[2][:2] == ["排名 rank", "on_time_closure_rate"] and "不足 1 件" in notes[2][2]
    assert len(notes) == 4 + len(measures.COUNTS) + len(measures.RATES)


def test_csv_to_a_file_has_a_bom_for_excel(november, tmp_path, english):
    target = tmp_path / "kpi.csv"
    said = kpi("--period", "2026Q4", "--by", "street", "--out", str(target))
    assert said == f"1 row(s) and the totals of 2026Q4 by street written to {target}.\n"
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[1][1:4] == ["", "not set", "4"], "these cases have no location: one row, no street"


def test_json(november):
    data = json.loads(kpi("--period", "2026-11-01..2026-11-30", "--by", "department", "--format", "json"))
    assert data["period"]["label"] == "2026-11-01..2026-11-30" and data["by"] == "department"
    cg = data["rows"][0]
    assert (cg["rank"], cg["code"]) == (1, "CG")
    assert cg["counts"]["due"] == 3 and cg["counts"]["hotline_dispatched"] == 1
    assert cg["rates"]["on_time_closure_rate"] == pytest.approx(1 / 3)
    assert cg["rates"]["solved_rate"] is None, "no callback: null, not 0"
    assert data["totals"]["counts"]["due"] == 4 and data["totals"]["rank"] is None
    assert {d["key"] for d in data["definitions"]["counts"]} == set(measures.COUNT_KEYS)
    assert data["definitions"]["rates"][1]["zh"] == "按期结案率"


def test_xlsx_read_back(november, tmp_path):
    target = tmp_path / "kpi.xlsx"
    # In Chinese whatever an earlier test's request left active (the notes' labels depend on it).
    with translation.override("zh-hans"):
        kpi("--period", "2026-11", "--by", "worker", "--format", "xlsx", "--out", str(target))
    book = load_workbook(target)
    sheet = book["综合评价"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(measures.export_headers())
    worker = dict(zip(rows[0], rows[1], strict=True))
    assert (worker["排名 rank"], worker["编码 code"], worker["上报数 reports"], worker["有效上报数 valid_reports"]) == (
        1, "gridworker", 3, 3,
    )  # fmt: skip
    assert (worker["核查数 verifications"], worker["按期核查数 verified_on_time"]) == (2, 2)
    assert worker["按期结案率(%) on_time_closure_rate"] == pytest.approx(1 / 3)
    assert worker["满意率(%) satisfaction_rate"] == "—"
    totals = dict(zip(rows[0], rows[-1], strict=True))
    assert totals["核查数 verifications"] == 2 and totals["排名 rank"] is None
    rate_column = rows[0].index("结案率(%) closure_rate") + 1
    assert sheet.cell(row=2, column=rate_column).number_format == "0.00%"
    definitions = list(book["指标定义"].iter_rows(values_only=True))
    assert definitions[0][:2] == ("统计周期 period", "2026-11")
    assert ("有效上报数", "valid_reports") in {row[:2] for row in definitions}, "the Chinese label, not repeated"


def test_an_empty_period_still_has_headers_and_totals(db):
    rows = list(csv.reader(io.StringIO(kpi("--period", "2031"))))
    assert rows[0] == measures.export_headers()
    assert rows[1][3:7] == ["0", "0", "0", "0"] and rows[1][-1] == "—"
    assert rows[2] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--period", "2026-13"], "“2026-13” is not a period: give a month (2026-11), a quarter (2026Q4)"),
        (["--period", "last month"], "is not a period"),
        (["--period", "2026-11", "--by", "cell"], "“cell” is not a grouping: choose one of department, street, "
                                                   "community, grid, worker."),
        (["--period", "2026-11", "--format", "pdf"], "--format must be one of csv, xlsx, json, not 'pdf'."),
        (["--period", "2026-11", "--format", "xlsx"], "--format xlsx writes a binary file: name it with --out FILE."),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_command_error(db, english, args, message):
    with pytest.raises(CommandError) as raised:
        kpi(*args)
    assert message in str(raised.value)
