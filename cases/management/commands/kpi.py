"""The measures (综合评价) of a period per group: `manage.py kpi --period 2026-11 --by department --format csv`.

Without --period: the last complete month in Beijing, as on the measures page.
Ranks follow the page's rule (MEASURES_MIN_CASES_FOR_RANKING): a unit with too
small a sample has an empty rank (null in JSON, with "too_few": true).

CSV and JSON go to standard output unless --out names a file; XLSX needs --out.
CSV rates are percentages (66.67), XLSX rates are fractions in % cells, JSON
rates are fractions; a rate with nothing to divide by is "—" (null in JSON).
Every case counts: the command is an operator's tool, not a user's view.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases import measures

FORMATS = ["csv", "xlsx", "json"]


class Command(BaseCommand):
    help = "Write the measures (综合评价) of a period per department, street, community, grid cell or grid worker."

    def add_arguments(self, parser):
        parser.add_argument(
            "--period",
            help="A month (2026-11), quarter (2026Q4), year (2026) or 2026-11-01..2026-11-15 "
            "(default: the last complete month, Beijing time).",
        )
        parser.add_argument("--by", default="department", help=f"Group by: {', '.join(measures.GROUPINGS)}.")
        parser.add_argument(
            "--format", dest="output_format", default="csv", help=f"{', '.join(FORMATS)} (default csv)."
        )
        parser.add_argument("--out", help="Write to this file (needed for xlsx) instead of standard output.")

    def handle(self, *args, period, by, output_format, out, **options):
        if output_format not in FORMATS:
            raise CommandError(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}.")
        if output_format == "xlsx" and not out:
            raise CommandError("--format xlsx writes a binary file: name it with --out FILE.")
        try:
            chosen = measures.default_period() if period is None else measures.parse_period(period)
            table = measures.measure_table(period=chosen, by=by)
        except ValueError as error:  # PeriodError (a reversed range too) or an unknown grouping: each says why
            raise CommandError(str(error)) from None
        if output_format == "xlsx":
            Path(out).write_bytes(measures.as_xlsx(table))
        else:
            text = measures.as_csv(table) if output_format == "csv" else self._json(table)
            if not out:
                self.stdout.write(text, ending="")
                return
            # A BOM, so that Excel opens the Chinese headers of a CSV file as UTF-8.
            Path(out).write_text(text, encoding="utf-8-sig" if output_format == "csv" else "utf-8", newline="")
        self.stdout.write(f"{len(table.rows)} row(s) and the totals of {table.period.label} by {by} written to {out}.")

    def _json(self, table) -> str:
        return json.dumps(measures.as_json(table), ensure_ascii=False, indent=2) + "\n"
