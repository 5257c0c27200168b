"""The measures of the closed loop (综合评价, domain.md §7): counts and rates per group and period.

Every count is a conditional COUNT(…) FILTER (WHERE …) over the measure columns
that the lifecycle services keep on the case (dispatched_at, handled_at,
callback_at, …), so a month of a million cases is one GROUP BY and no Python
walks the rows. Rates are derived from the counts of each group: None when the
denominator is 0 (shown as "—"), never a division error. The totals row is the
sum of the groups, so it always adds up to what the table shows.

The exports (CSV, XLSX, JSON) live here too: the page and the `kpi` command
write the same files from the same table.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, F, IntegerField, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Channel, Status
from governance.models import Department, Region
from grids.models import Cell

# Statistical periods are Beijing time whatever the server's TIME_ZONE: a month starts at local midnight.
SHANGHAI = ZoneInfo("Asia/Shanghai")
EMPTY = "—"


class PeriodError(ValueError):
    """The period is not a month, a quarter, a year or a date range."""


class ReversedRangeError(PeriodError):
    """A date range whose last day is before its first: a slip of the hand, said as such, never swapped."""


# --- definitions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    key: str
    zh: str  # the domain's own label, shown as-is in every language
    name: str  # English msgid (lazy)
    text: str  # what is counted, or the formula (lazy)

    @property
    def header(self) -> str:
        """The export's column header: Chinese label and English key."""
        return f"{self.zh} {self.key}"

    @property
    def gloss(self) -> str:
        """The name in the reader's language, or "" where it only repeats the Chinese label."""
        return "" if str(self.name) == self.zh else str(self.name)

    @property
    def label(self) -> str:
        """ "结案率 closure rate" in English, "结案率" where the translation is the label itself."""
        return f"{self.zh} {self.gloss}".strip()


@dataclass(frozen=True)
class Rate(Definition):
    numerator: str = ""
    denominator: str = ""

    @property
    def header(self) -> str:
        return f"{self.zh}(%) {self.key}"


COUNTS = [
    Definition("due", "应结案数", _("cases due"),
               _("dispatched cases, not merged, whose handling deadline falls in the period")),
    Definition("closed", "结案数", _("cases closed"),
               _("due cases that are closed")),
    Definition("closed_on_time", "按期结案数", _("cases closed on time"),
               _("due cases that are closed and were handled by their handling deadline")),
    Definition("handled", "处置数", _("cases handled"),
               _("cases whose (last) handling was reported in the period")),
    Definition("reworked", "返工数", _("cases sent back for rework"),
               _("cases handled in the period that verification sent back at least once")),
    Definition("dispatched", "派遣数", _("cases dispatched"),
               _("cases dispatched in the period")),
    Definition("extended", "延期数", _("cases extended"),
               _("cases dispatched in the period with an approved extension")),
    Definition("hotline_dispatched", "12345派遣数", _("12345 cases dispatched"),
               _("12345 hotline cases dispatched in the period")),
    Definition("responded", "按时响应数", _("12345 cases accepted in time"),
               _("12345 cases dispatched in the period that the department accepted by the acceptance deadline")),
    Definition("callbacks", "回访数", _("callbacks"),
               _("callbacks in the period that reached the citizen")),
    Definition("solved", "已解决数", _("callbacks: solved"),
               _("callbacks in the period: the citizen says the problem is solved")),
    Definition("satisfied", "满意数", _("callbacks: satisfied"),
               _("callbacks in the period: the citizen is satisfied")),
    Definition("reports", "上报数", _("reports"),
               _("grid workers' reports filed in the period")),
    Definition("valid_reports", "有效上报数", _("valid reports"),
               _("reports filed in the period that were registered (not rejected, not waiting) and not merged")),
    Definition("verifications", "核查数", _("verifications"),
               _("on-site verifications done in the period")),
    Definition("verified_on_time", "按期核查数", _("verifications on time"),
               _("verifications done in the period by their verification deadline")),
]  # fmt: skip
RATES = [
    Rate("closure_rate", "结案率", _("closure rate"),
         _("cases closed / cases due"), "closed", "due"),
    Rate("on_time_closure_rate", "按期结案率", _("on-time closure rate"),
         _("cases closed on time / cases due"), "closed_on_time", "due"),
    Rate("rework_rate", "返工率", _("rework rate"),
         _("cases sent back for rework / cases handled"), "reworked", "handled"),
    Rate("extension_rate", "延期率", _("extension rate"),
         _("cases extended / cases dispatched"), "extended", "dispatched"),
    Rate("response_rate", "响应率", _("response rate"),
         _("12345 cases accepted in time / 12345 cases dispatched"), "responded", "hotline_dispatched"),
    Rate("solved_rate", "解决率", _("solved rate"),
         _("callbacks: solved / callbacks"), "solved", "callbacks"),
    Rate("satisfaction_rate", "满意率", _("satisfaction rate"),
         _("callbacks: satisfied / callbacks"), "satisfied", "callbacks"),
]  # fmt: skip
COUNT_KEYS = [count.key for count in COUNTS]
RATE_OF = {rate.key: rate for rate in RATES}
DEFINITION_OF = {definition.key: definition for definition in [*COUNTS, *RATES]}
# Counts the worker grouping takes from the verifier rather than the reporter.
VERIFIER_COUNTS = ["verifications", "verified_on_time"]
# Each period condition reads one of these columns; the WHERE clause is their OR.
PERIOD_COLUMNS = ["handling_due", "dispatched_at", "handled_at", "callback_at", "created_at", "verified_at"]


def _conditions(start: datetime.datetime, end: datetime.datetime) -> dict[str, Q]:
    """Each count's condition; a case is in a period when start ≤ column < end."""

    def within(column: str) -> Q:
        return Q(**{f"{column}__gte": start, f"{column}__lt": end})

    due = within("handling_due") & Q(dispatched_at__isnull=False, merged_into__isnull=True)
    closed = due & Q(status=Status.CLOSED)
    handled, dispatched, called_back = within("handled_at"), within("dispatched_at"), within("callback_at")
    hotline = dispatched & Q(channel=Channel.HOTLINE)
    reports = within("created_at") & Q(channel=Channel.GRID_WORKER)
    verifications = within("verified_at") & Q(verified_by__isnull=False)
    return {
        "due": due,
        "closed": closed,
        "closed_on_time": closed & Q(handled_at__lte=F("handling_due")),
        "handled": handled,
        "reworked": handled & Q(rework_count__gt=0),
        "dispatched": dispatched,
        "extended": dispatched & Q(extension_count__gt=0),
        "hotline_dispatched": hotline,
        "responded": hotline & Q(accepted_at__lte=F("response_due")),
        "callbacks": called_back,
        "solved": called_back & Q(callback_solved=True),
        "satisfied": called_back & Q(callback_satisfied=True),
        "reports": reports,
        "valid_reports": reports & Q(merged_into__isnull=True) & ~Q(status__in=[Status.REPORTED, Status.REJECTED]),
        "verifications": verifications,
        "verified_on_time": verifications & Q(verified_at__lte=F("verification_due")),
    }


# --- periods ----------------------------------------------------------------------------

_MONTH, _QUARTER, _YEAR = re.compile(r"(\d{4})-(\d{2})"), re.compile(r"(\d{4})[Qq]([1-4])"), re.compile(r"\d{4}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Period:
    """Whole local days, first to last inclusive; `start` ≤ t < `end` in Asia/Shanghai."""

    label: str
    first: datetime.date
    last: datetime.date

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.first, datetime.time(), tzinfo=SHANGHAI)

    @property
    def end(self) -> datetime.datetime:
        return datetime.datetime.combine(self.last + datetime.timedelta(days=1), datetime.time(), tzinfo=SHANGHAI)

    @property
    def slug(self) -> str:
        return self.label.replace("..", "_")


def parse_period(text: str) -> Period:
    """`2026-11` (month), `2026Q4` (quarter), `2026` (year), `2026-11-05` (day) or `2026-11-01..2026-11-15`."""
    text = (text or "").strip()
    try:
        period = _parse(text)
        period and period.end  # noqa: B018 - the day after the last must exist too (not after 9999-12-31)
    except (ValueError, OverflowError):
        period = None
    if period is not None and period.first > period.last:
        raise ReversedRangeError(
            gettext("The date range ends on %(last)s, before it starts on %(first)s: give the earlier day first.")
            % {"first": period.first, "last": period.last}
        )
    if period is None:
        raise PeriodError(
            gettext(
                "“%(text)s” is not a period: give a month (2026-11), a quarter (2026Q4), a year (2026) "
                "or a date range (2026-11-01..2026-11-15)."
            )
            % {"text": text}
        )
    return period


def _parse(text: str) -> Period | None:
    if match := _MONTH.fullmatch(text):
        first = datetime.date(int(match[1]), int(match[2]), 1)
        return Period(f"{first:%Y-%m}", first, _next_month(first) - datetime.timedelta(days=1))
    if match := _QUARTER.fullmatch(text):
        first = datetime.date(int(match[1]), 3 * int(match[2]) - 2, 1)
        last = _next_month(_next_month(_next_month(first))) - datetime.timedelta(days=1)
        return Period(f"{first.year:04d}Q{match[2]}", first, last)
    if _YEAR.fullmatch(text):
        year = int(text)
        return Period(f"{year:04d}", datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    days = [part.strip() for part in text.split("..")] if ".." in text else [text]
    if len(days) <= 2 and all(_DAY.fullmatch(day) for day in days):
        first, last = datetime.date.fromisoformat(days[0]), datetime.date.fromisoformat(days[-1])
        return Period(f"{first}..{last}" if first != last else f"{first}", first, last)
    return None


def _next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_of(day: datetime.date) -> Period:
    return parse_period(f"{day:%Y-%m}")


def default_period(today: datetime.date | None = None) -> Period:
    """The last complete month in Beijing: on 1 December, November (the page and `kpi` both start here).

    The current month would show a figure of a day or two's cases, e.g. 14 %
    on the first, which a leader reads as a month's result.
    """
    today = today or timezone.localdate(timezone=SHANGHAI)
    return month_of(today.replace(day=1) - datetime.timedelta(days=1))


def recent_periods(today: datetime.date) -> list[str]:
    """What a period picker offers: the last 12 months, this and the last 4 quarters, this and the last 2 years."""
    months, day = [], today.replace(day=1)
    for _n in range(12):
        months.append(f"{day:%Y-%m}")
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    quarter = (today.month - 1) // 3 + 1
    quarters = []
    for back in range(5):
        year, index = divmod((today.year * 4 + quarter - 1) - back, 4)
        quarters.append(f"{year}Q{index + 1}")
    return months + quarters + [str(today.year - back) for back in range(3)]


# --- groupings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    key: str
    zh: str
    name: str
    column: str  # what GROUP BY reads, through the case's joins
    rank_by: str = "on_time_closure_rate"

    gloss = Definition.gloss
    label = Definition.label

    @property
    def sample(self) -> str | None:
        """The count a group needs enough of to be ranked: the ranked rate's denominator; None for a count."""
        rate = RATE_OF.get(self.rank_by)
        return rate.denominator if rate else None


GROUPINGS = {
    grouping.key: grouping
    for grouping in [
        Grouping("department", "部门", _("department"), "department_id"),
        Grouping("street", "街道", _("street"), "cell__community__parent_id"),
        Grouping("community", "社区", _("community"), "cell__community_id"),
        Grouping("grid", "网格", _("grid cell"), "cell__code"),
        # Grid workers: their own reports (grid_worker channel) by reporter, their verifications by verifier.
        Grouping("worker", "网格员", _("grid worker"), "reporter_id", rank_by="valid_reports"),
    ]
}


def grouping_of(key: str) -> Grouping:
    if key not in GROUPINGS:
        raise ValueError(
            gettext("“%(by)s” is not a grouping: choose one of %(choices)s.")
            % {"by": key, "choices": ", ".join(GROUPINGS)}
        )
    return GROUPINGS[key]


# --- the table ------------------------------------------------------------------------


@dataclass
class MeasureRow:
    code: str
    name: str
    counts: dict[str, int]
    rank: int | None = None
    too_few: bool = False  # has a value, but too small a sample to be ranked (rank_rows)

    def rate(self, key: str) -> float | None:
        rate = RATE_OF[key]
        denominator = self.counts[rate.denominator]
        return self.counts[rate.numerator] / denominator if denominator else None

    def value(self, key: str) -> float | int | None:
        return self.rate(key) if key in RATE_OF else self.counts[key]

    @property
    def rates(self) -> dict[str, float | None]:
        return {rate.key: self.rate(rate.key) for rate in RATES}


@dataclass
class MeasureTable:
    period: Period
    grouping: Grouping
    rows: list[MeasureRow]
    minimum: int  # the sample a group needs to be ranked (rank_rows)
    totals: MeasureRow = field(init=False)

    def __post_init__(self):
        counts = {key: sum(row.counts[key] for row in self.rows) for key in COUNT_KEYS}
        self.totals = MeasureRow(code="", name=gettext("Total"), counts=counts)


def measure_table(
    *, period: Period, by: str, cases: QuerySet[Case] | None = None, minimum: int | None = None
) -> MeasureTable:
    """The measures of `period` per group `by`, over `cases` (default: all; pass what the reader may see).

    Rows come ranked by rank_rows; `minimum` defaults to the setting
    MEASURES_MIN_CASES_FOR_RANKING, read on each call so an override holds.
    """
    grouping = grouping_of(by)
    minimum = settings.MEASURES_MIN_CASES_FOR_RANKING if minimum is None else minimum
    cases = Case.objects.all() if cases is None else cases
    counts = _grouped_counts(cases, grouping, period)
    labels = _labels(grouping, [key for key in counts if key is not None])
    not_set = gettext("not set")
    rows = [MeasureRow(*labels.get(key, ("", not_set)), counts=row) for key, row in counts.items()]
    ranked = rank_rows(rows, grouping=grouping, minimum=minimum)
    return MeasureTable(period=period, grouping=grouping, rows=ranked, minimum=minimum)


def _grouped_counts(cases: QuerySet[Case], grouping: Grouping, period: Period) -> dict:
    conditions = _conditions(period.start, period.end)
    in_period = reduce(or_, (Q(**{f"{c}__gte": period.start, f"{c}__lt": period.end}) for c in PERIOD_COLUMNS))
    if grouping.key != "worker":
        counts = {key: Count("pk", filter=condition) for key, condition in conditions.items()}
        query = cases.filter(in_period).order_by().values(group=F(grouping.column)).annotate(**counts)
        return {row.pop("group"): row for row in query}
    return _worker_counts(cases, conditions, in_period)


def _worker_counts(cases: QuerySet[Case], conditions: dict[str, Q], in_period: Q) -> dict:
    """Reports count for their reporter, verifications for their verifier: a case can be in two groups.

    Still one statement: two GROUP BYs joined by UNION ALL, each reading only
    its own cases; the (few) rows per worker are added up here.
    """
    zero = Value(0, output_field=IntegerField())

    def side(verifier: bool) -> dict:
        return {key: Count("pk", filter=q) if (key in VERIFIER_COUNTS) == verifier else zero
                for key, q in conditions.items()}  # fmt: skip

    reporters = cases.filter(in_period, channel=Channel.GRID_WORKER, reporter__isnull=False)
    verifiers = cases.filter(conditions["verifications"])
    query = (
        reporters.order_by().values(group=F("reporter_id")).annotate(**side(False))
        .union(verifiers.order_by().values(group=F("verified_by_id")).annotate(**side(True)), all=True)
    )  # fmt: skip
    merged: dict = {}
    for row in query:
        group = row.pop("group")
        merged[group] = {key: merged.get(group, {}).get(key, 0) + row[key] for key in COUNT_KEYS}
    return merged


def _labels(grouping: Grouping, keys: list) -> dict:
    """(code, name) of each group key, in one small query."""
    if grouping.key == "department":
        rows = Department.objects.filter(pk__in=keys).values_list("pk", "code", "name")
    elif grouping.key in ("street", "community"):
        rows = Region.objects.filter(pk__in=keys).values_list("pk", "code", "name")
    elif grouping.key == "grid":
        # One code names the same place in every grid version (it embeds the community's code).
        cells = Cell.objects.filter(code__in=keys).values_list("code", "community__name").distinct()
        return {code: (code, name) for code, name in cells}
    else:
        users = get_user_model().objects.filter(pk__in=keys).values_list("pk", "username", "first_name", "last_name")
        return {pk: (username, f"{first} {last}".strip() or username) for pk, username, first, last in users}
    return {key: (code, name) for key, code, name in rows}


def rank_rows(rows: list[MeasureRow], *, grouping: Grouping, minimum: int) -> list[MeasureRow]:
    """The one ranking rule, for the page, the downloads and `kpi` alike.

    A group is ranked by the grouping's measure once the measure's sample (the
    rate's denominator, cases due for the on-time closure rate) is at least
    `minimum`: three cases at 100 % must not outrank thirty-two at 90 %. Best
    first; equal values share a rank (1, 2, 2, 4). Then the groups with too
    small a sample (no rank, `too_few`), then those with no value at all.
    """
    key, sample = grouping.rank_by, grouping.sample
    for row in rows:
        row.too_few = row.value(key) is not None and sample is not None and row.counts[sample] < minimum
    ranked = [row.value(key) for row in rows if row.value(key) is not None and not row.too_few]
    for row in rows:
        value = row.value(key)
        row.rank = None if value is None or row.too_few else 1 + sum(1 for other in ranked if other > value)
    # Ties: more cases due first, then real groups before the "not set" one, then by code.
    rows.sort(key=lambda row: (row.rank is None, row.value(key) is None, -(row.value(key) or 0),
                               -row.counts["due"], not row.code, row.code))  # fmt: skip
    return rows


# --- exports --------------------------------------------------------------------------


def percent(rate: float | None) -> str:
    return EMPTY if rate is None else f"{rate * 100:.2f}%"


def export_headers() -> list[str]:
    return ["排名 rank", "编码 code", "名称 name", *(d.header for d in COUNTS), *(r.header for r in RATES)]


def export_values(row: MeasureRow, *, rates_as: str = "percent") -> list:
    """One row of the CSV ("percent": "66.67") or the XLSX ("fraction": 0.6667 in a % cell); "—" for no rate."""

    def shown(rate: float | None):
        if rate is None:
            return EMPTY
        return f"{rate * 100:.2f}" if rates_as == "percent" else rate

    rank = "" if row.rank is None else row.rank
    return [rank, row.code, row.name, *(row.counts[key] for key in COUNT_KEYS), *(shown(r) for r in row.rates.values())]


def export_notes(table: MeasureTable) -> list[list[str]]:
    """The rows under the table: period, grouping and every definition."""
    period = table.period
    notes = [
        ["统计周期 period", period.label, f"{period.first} – {period.last} (Asia/Shanghai)"],
        ["分组 by", table.grouping.key, table.grouping.label],
        ["排名 rank", table.grouping.rank_by, _ranking_note(table)],
        ["指标 measure", "key", "定义 definition"],
    ]
    return notes + [[d.label, d.key, str(d.text)] for d in [*COUNTS, *RATES]]


def _ranking_note(table: MeasureTable) -> str:
    measure = DEFINITION_OF[table.grouping.rank_by]
    if table.grouping.sample is None:
        return f"{measure.zh} 由高到低 best first"
    sample = DEFINITION_OF[table.grouping.sample]
    return (
        f"{measure.zh} 由高到低；{sample.zh}不足 {table.minimum} 件的样本不足，不排名（排名为空）"
        f" / best first; fewer than {table.minimum} {sample.key}: unranked (rank empty)"
    )


def as_csv(table: MeasureTable) -> str:
    """The table, its totals, a blank line, then the notes (period and definitions)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(export_headers())
    writer.writerows(export_values(row) for row in [*table.rows, table.totals])
    writer.writerow([])
    writer.writerows(export_notes(table))
    return out.getvalue()


def as_xlsx(table: MeasureTable) -> bytes:
    """A workbook: the ranking (rates as % cells) and a sheet of definitions."""
    # Imported here: openpyxl is a large import that only this export needs.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "综合评价"
    sheet.append(export_headers())
    for row in [*table.rows, table.totals]:
        sheet.append(export_values(row, rates_as="fraction"))
    first_rate = 4 + len(COUNTS)
    for cells in sheet.iter_rows(min_row=2, min_col=first_rate, max_col=first_rate + len(RATES) - 1):
        for cell in cells:
            cell.number_format = "0.00%"
    for cell in [*sheet[1], *sheet[sheet.max_row]]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "D2"
    sheet.column_dimensions["C"].width = 24
    notes = book.create_sheet("指标定义")
    for line in export_notes(table):
        notes.append(line)
    notes.column_dimensions["A"].width = 36
    notes.column_dimensions["C"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_json(table: MeasureTable) -> dict:
    def row(item: MeasureRow) -> dict:
        return {"rank": item.rank, "too_few": item.too_few, "code": item.code, "name": item.name,
                "counts": item.counts, "rates": item.rates}  # fmt: skip

    return {
        "period": {"label": table.period.label, "start": table.period.start.isoformat(),
                   "end": table.period.end.isoformat()},
        "by": table.grouping.key,
        "rank_by": table.grouping.rank_by,
        # Groups with less of this count are listed with "rank": null and "too_few": true.
        "ranking_sample": table.grouping.sample,
        "min_cases_for_ranking": table.minimum,
        "definitions": {
            "counts": [{"key": d.key, "zh": d.zh, "name": str(d.name), "definition": str(d.text)} for d in COUNTS],
            "rates": [{"key": r.key, "zh": r.zh, "name": str(r.name), "formula": str(r.text),
                       "numerator": r.numerator, "denominator": r.denominator} for r in RATES],
        },
        "rows": [row(item) for item in table.rows],
        "totals": row(table.totals),
    }  # fmt: skip
