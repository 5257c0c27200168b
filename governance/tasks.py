"""Background tasks of the organisation app. Tasks take ids, never objects."""

import logging

from celery import shared_task

from governance.selectors import calendar_today

logger = logging.getLogger(__name__)


@shared_task(name="governance.tasks.ping", ignore_result=False)
def ping() -> str:
    """A no-op round trip: health checks and the Celery latency benchmark."""
    return "pong"


@shared_task(name="governance.tasks.check_calendar_coverage")
def check_calendar_coverage() -> list[int]:
    """Daily: say loudly when holiday data for this or next year is missing."""
    missing = calendar_today().missing_years
    for year in missing:
        logger.warning(
            "No holiday data for %s: Mon–Fri counted as working days until chinesecalendar is upgraded "
            "or the year's holidays are entered as calendar overrides.",
            year,
        )
    return missing
