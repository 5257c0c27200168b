"""Background tasks of the grids app. Tasks take ids, never objects, and call one service."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils.translation import gettext as _

from grids.import_jobs import layer_import_job_fail, layer_import_job_run, layer_import_jobs_sweep


@shared_task(name="grids.tasks.layer_import_task")
def layer_import_task(job_id: int) -> str | None:
    """Import one uploaded layer file (queued on commit by grids.import_jobs); idempotent."""
    try:
        job = layer_import_job_run(job_id=job_id)
    except SoftTimeLimitExceeded:
        layer_import_job_fail(job_id=job_id, message=_("The import took too long and was stopped."))
        return "failed"
    return job.status if job else None


@shared_task(name="grids.tasks.layer_import_sweep")
def layer_import_sweep() -> dict:
    """Every few minutes (governance/celery.py): no import job stays queued or running forever."""
    return layer_import_jobs_sweep()
