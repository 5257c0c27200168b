"""Print the deadline of a time limit on the working calendar (admin overrides included).

Example: `manage.py sla_deadline --start 2026-09-30T16:00:00+08:00 --amount 8 --unit working_hours`
prints `2026-10-08T17:00:00+08:00`. Only the deadline goes to stdout, so scripts can capture it.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from governance.calendar import CalendarError, Unit, get_calendar


class Command(BaseCommand):
    help = "Print the deadline `amount` units after `start` (ISO 8601 with its UTC offset)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--start",
            required=True,
            help="ISO 8601 moment, e.g. 2026-09-30T16:00:00+08:00; without an offset it is read in TIME_ZONE.",
        )
        # Parsed in handle() rather than by argparse so that bad values become a
        # CommandError with our wording, whether called from a shell or call_command.
        parser.add_argument("--amount", required=True, help="How many units; decimals allowed, e.g. 1.5.")
        parser.add_argument("--unit", required=True, choices=[unit.value for unit in Unit])

    def handle(self, *args, start, amount, unit, **options):
        start = self._parse_start(start)
        amount = self._parse_amount(amount)
        calendar = get_calendar()
        try:
            deadline = calendar.add(start, amount, unit)
        except (CalendarError, OverflowError) as exc:
            raise CommandError(f"Cannot compute the deadline: {exc}") from exc
        self.stdout.write(deadline.isoformat())
        if calendar.fallback_years:
            years = ", ".join(str(year) for year in sorted(calendar.fallback_years))
            self.stderr.write(
                f"Warning: no holiday data for {years}; Monday-Friday were counted as working days there. "
                "Add calendar overrides for that year or upgrade chinesecalendar."
            )

    @staticmethod
    def _parse_start(value: str) -> datetime.datetime:
        try:
            start = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            raise CommandError(
                f"--start {value!r} is not an ISO 8601 date-time, e.g. 2026-09-30T16:00:00+08:00."
            ) from None
        if timezone.is_naive(start):
            start = timezone.make_aware(start, timezone.get_default_timezone())
        return start

    @staticmethod
    def _parse_amount(value: str) -> Decimal:
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise CommandError(f"--amount {value!r} is not a number, e.g. 8 or 1.5.") from None
        if not amount.is_finite():
            raise CommandError(f"--amount {value!r} must be a finite number.")
        if amount < 0:
            raise CommandError(f"--amount {value!r} is negative; a time limit cannot be negative.")
        return amount
