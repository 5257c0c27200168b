"""The Celery application and the one place where periodic work is declared."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

# DjangoTask adds delay_on_commit()/apply_async_on_commit(): a task queued
# inside a transaction is only sent once that transaction commits, so a
# worker never looks for a row that is not there yet (or never will be).
app = Celery("governance", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic task of the product, in one place. django-celery-beat's
# DatabaseScheduler copies these into its tables on start, where admins can
# see (and pause) them.
app.conf.beat_schedule = {
    "calendar-coverage-daily": {
        "task": "governance.tasks.check_calendar_coverage",
        "schedule": crontab(hour=6, minute=0),
    },
    "cases-sla-sweep": {
        "task": "cases.tasks.sla_sweep_task",
        "schedule": 60.0,
        # A run that waited longer than its interval is stale: the next one does its work.
        "options": {"expires": 55},
    },
    "grids-layer-import-sweep": {
        "task": "grids.tasks.layer_import_sweep",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
}
