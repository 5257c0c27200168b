"""The ranking page (综合评价排名) and its CSV/XLSX downloads, mounted at /measures/.

Leaders, dispatchers and system admins read every row; department staff read
what their department's cases give (cases_visible_to); everyone else gets 403,
strangers the login. The downloads take the page's query and write the table
the page shows.
"""

from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import measures
from cases.selectors import SEES_ALL, cases_visible_to
from governance.models import DEPARTMENT_ROLES
from governance.selectors import profile_of
from governance.views import role_required

READERS = (*SEES_ALL, *DEPARTMENT_ROLES)
# What the table shows besides the rates; the exports carry every count.
PAGE_COUNTS = ["due", "reports", "valid_reports", "verifications", "verified_on_time"]
# Bar charts per grouping: each a title and the measures drawn side by side, for the best CHART_ROWS groups.
CHARTS = {
    "default": [
        (gettext_lazy("Closure rates"), ["on_time_closure_rate", "closure_rate"]),
        (gettext_lazy("12345 hotline: response, solved and satisfaction rates"),
         ["response_rate", "solved_rate", "satisfaction_rate"]),
    ],
    "worker": [
        (gettext_lazy("Reports"), ["valid_reports", "reports"]),
        (gettext_lazy("Verifications"), ["verified_on_time", "verifications"]),
    ],
}  # fmt: skip
CHART_ROWS = 20


def _grouping_choices():
    return [(grouping.key, grouping.label) for grouping in measures.GROUPINGS.values()]


class MeasureQuery(forms.Form):
    """?period= (month, quarter, year or a..b) or ?start=&end= (a date range), and ?by=."""

    period = forms.CharField(label=gettext_lazy("Period"), required=False, max_length=40)
    start = forms.DateField(label=gettext_lazy("From"), required=False)
    end = forms.DateField(label=gettext_lazy("To"), required=False)
    by = forms.ChoiceField(label=gettext_lazy("Group by"), choices=_grouping_choices, required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        data["by"] = data.get("by") or "department"
        data["is_default"] = not (start or end or data.get("period") or self.errors)
        if start or end:
            if not (start and end):
                raise ValidationError(_("Give both the first and the last day of the date range."))
            text, field = f"{start}..{end}", "end"
        elif data["is_default"]:
            data["measure_period"] = measures.default_period()
            return data
        else:
            text, field = data.get("period") or "", "period"
        try:
            data["measure_period"] = measures.parse_period(text)
        except measures.ReversedRangeError as error:
            # On the field that is wrong, so the page shows it beside the day to change.
            self.add_error(field, str(error))
        except measures.PeriodError as error:
            raise ValidationError(str(error)) from None
        return data


@role_required(*READERS)
def ranking(request):
    query = MeasureQuery(request.GET)
    context = {"query": query, "choices": measures.recent_periods(timezone.localdate(timezone=measures.SHANGHAI)),
               "groupings": _grouping_choices(), "own_department": _own_department(request)}  # fmt: skip
    if not query.is_valid():
        typed = {f"{name}_value": request.GET.get(name, "") for name in ("period", "start", "end", "by")}
        return render(request, "cases/measures/ranking.html", context | typed, status=400)
    table = _table(request, query)
    params = urlencode({"period": table.period.label, "by": table.grouping.key})
    context |= {
        "table": table,
        "rows": [_display(row) for row in table.rows],
        "totals": _display(table.totals),
        "rates": measures.RATES,
        "counts": [measures.DEFINITION_OF[key] for key in PAGE_COUNTS],
        "definitions": measures.COUNTS,
        "rank_by": measures.DEFINITION_OF[table.grouping.rank_by],
        "sample": measures.DEFINITION_OF.get(table.grouping.sample or ""),
        "is_default": query.cleaned_data["is_default"],
        "colspan": 2 + len(measures.RATES) + len(PAGE_COUNTS),
        "by_value": table.grouping.key,
        "csv_url": f"{reverse('measures:export-csv')}?{params}",
        "xlsx_url": f"{reverse('measures:export-xlsx')}?{params}",
        "charts": _charts(table),
    } | _picker(table.period)
    return _private(render(request, "cases/measures/ranking.html", context))


@role_required(*READERS)
def export_csv(request):
    table = _table(request, _valid(request))
    # A BOM, so that Excel opens the Chinese headers as UTF-8.
    response = HttpResponse("\ufeff" + measures.as_csv(table), content_type="text/csv; charset=utf-8")
    return _attachment(response, table, "csv")


@role_required(*READERS)
def export_xlsx(request):
    table = _table(request, _valid(request))
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _attachment(HttpResponse(measures.as_xlsx(table), content_type=content_type), table, "xlsx")


def _valid(request) -> MeasureQuery:
    query = MeasureQuery(request.GET)
    if not query.is_valid():
        raise BadRequest(" ".join(message for messages in query.errors.values() for message in messages))
    return query


def _table(request, query: MeasureQuery) -> measures.MeasureTable:
    data = query.cleaned_data
    return measures.measure_table(period=data["measure_period"], by=data["by"], cases=cases_visible_to(request.user))


def _attachment(response: HttpResponse, table: measures.MeasureTable, extension: str) -> HttpResponse:
    name = f"measures-{table.grouping.key}-{table.period.slug}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)


def _private(response: HttpResponse) -> HttpResponse:
    # What a reader sees depends on who they are: no shared cache may keep it.
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _picker(period: measures.Period) -> dict:
    """What the period picker shows: the period's label, or the first and last day of a range."""
    if ".." in period.label:
        return {"period_value": "", "start_value": period.first.isoformat(), "end_value": period.last.isoformat()}
    return {"period_value": period.label, "start_value": "", "end_value": ""}


def _own_department(request):
    if request.role in DEPARTMENT_ROLES:
        return profile_of(request.user).department
    return None


def _display(row: measures.MeasureRow) -> dict:
    rates = []
    for rate in measures.RATES:
        value = row.rate(rate.key)
        rates.append({"text": measures.percent(value), "numerator": row.counts[rate.numerator],
                      "denominator": row.counts[rate.denominator], "empty": value is None})  # fmt: skip
    return {"rank": row.rank, "too_few": row.too_few, "code": row.code, "name": row.name, "rates": rates,
            "counts": [row.counts[key] for key in PAGE_COUNTS]}  # fmt: skip


def _charts(table: measures.MeasureTable) -> list[dict]:
    rows = table.rows[:CHART_ROWS]
    charts = []
    for index, (title, keys) in enumerate(CHARTS.get(table.grouping.key, CHARTS["default"]), start=1):
        percent = keys[0] in measures.RATE_OF
        series = [
            {"label": definition.label, "data": [_chart_value(row, key, percent) for row in rows]}
            for key, definition in ((key, measures.DEFINITION_OF[key]) for key in keys)
        ]
        charts.append({"id": f"measures-chart-{index}", "title": str(title), "percent": percent,
                       "labels": [row.name or row.code for row in rows], "series": series})  # fmt: skip
    return charts


def _chart_value(row: measures.MeasureRow, key: str, percent: bool):
    value = row.value(key)
    return None if value is None else (round(value * 100, 2) if percent else value)
