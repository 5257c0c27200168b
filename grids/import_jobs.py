"""Writes of layer import jobs: an upload is stored, then imported by a Celery worker, never by the web process.

A library crash on a hostile file then costs one task, not the site. The task
takes the job's id and is idempotent: claiming is a conditional update, so a
duplicate delivery finds the job no longer queued and does nothing. A worker
that dies mid-import leaves the message unacknowledged (acks_late), so it is
delivered again; `attempts` stops a file that kills every worker after
MAX_ATTEMPTS, and the sweep fails what no worker will ever finish.
"""

import datetime
import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError

from governance.celery import app
from governance.models import Department
from grids.importing import LayerImportError
from grids.models import LayerImportJob
from grids.services import layer_import

logger = logging.getLogger(__name__)
Status = LayerImportJob.Status

# By name, not by import: grids.tasks imports this module.
IMPORT_TASK = "grids.tasks.layer_import_task"
MAX_ATTEMPTS = 2
# Past this a running job's message is gone for good: redelivery (visibility timeout) plus a full run.
STALE_AFTER = datetime.timedelta(
    seconds=settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] + 2 * settings.CELERY_TASK_TIME_LIMIT
)
SWEEP_BATCH = 100


def layer_import_job_create(*, department: Department, upload, code_field: str, name_field: str, user=None
                            ) -> LayerImportJob:  # fmt: skip
    """Store the uploaded file and a queued job; the import is queued once the row is committed."""
    name = Path(upload.name).name
    job = LayerImportJob(department=department, source_name=name, code_field=code_field, name_field=name_field,
                         created_by=user)  # fmt: skip
    # The suffix tells GDAL the format: the stored name keeps it.
    job.upload.save(get_valid_filename(name) or "layer", upload, save=False)
    with transaction.atomic():
        job.save()
        transaction.on_commit(lambda: queue_import(job.pk))
    return job


def queue_import(job_id: int) -> bool:
    try:
        app.signature(IMPORT_TASK, args=(job_id,)).apply_async(ignore_result=True)
    except OperationalError as error:
        # The job row is committed and queued: the sweep sends it again when the broker is back.
        logger.warning("Layer import job %s not queued, the sweep will retry: %s", job_id, error)
        return False
    return True


def layer_import_job_run(*, job_id: int) -> LayerImportJob | None:
    """Claim the job and import its file; a job already finished (or claimed too often) is left as it is."""
    claimed = LayerImportJob.objects.filter(
        pk=job_id, status__in=[Status.QUEUED, Status.RUNNING], attempts__lt=MAX_ATTEMPTS
    ).update(status=Status.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now())
    if not claimed:
        _fail(LayerImportJob.objects.filter(pk=job_id, status=Status.RUNNING), _stopped_message())
        return LayerImportJob.objects.filter(pk=job_id).first()
    job = LayerImportJob.objects.select_related("department", "created_by").get(pk=job_id)
    try:
        layer = layer_import(
            department=job.department, path=Path(job.upload.path), code_field=job.code_field,
            name_field=job.name_field, user=job.created_by, source_name=job.source_name,
        )  # fmt: skip
    except LayerImportError as error:
        _fail(LayerImportJob.objects.filter(pk=job.pk), str(error))
    except Exception:
        # Whatever broke, the job must not stay "running": the person who uploaded waits for an answer.
        logger.exception("Layer import job %s failed unexpectedly", job.pk)
        _fail(LayerImportJob.objects.filter(pk=job.pk), _("The import failed because of an internal error."))
        raise
    else:
        LayerImportJob.objects.filter(pk=job.pk).update(status=Status.DONE, layer=layer, error="",
                                                        finished_at=timezone.now())  # fmt: skip
    job.refresh_from_db()
    return job


def layer_import_job_fail(*, job_id: int, message: str) -> None:
    """Mark a job that did not import failed with this message (e.g. it ran past its time limit)."""
    _fail(LayerImportJob.objects.filter(pk=job_id).exclude(status=Status.DONE), message)


def layer_import_jobs_sweep(*, now=None) -> dict:
    """Fail jobs whose worker was lost for good; queue again jobs whose message never reached a worker."""
    now = now or timezone.now()
    jobs, before = LayerImportJob.objects.order_by("pk"), now - STALE_AFTER
    running = list(jobs.filter(status=Status.RUNNING, started_at__lt=before).values_list("pk", flat=True)[:SWEEP_BATCH])
    # Conditional: a job that finished since the read above keeps its answer.
    failed = _fail(LayerImportJob.objects.filter(pk__in=running, status=Status.RUNNING), _stopped_message())
    queued = list(jobs.filter(status=Status.QUEUED, created_at__lt=before).values_list("pk", flat=True)[:SWEEP_BATCH])
    for job_id in queued:
        queue_import(job_id)
    return {"failed": failed, "requeued": len(queued)}


def _fail(jobs, message: str) -> int:
    return jobs.update(status=Status.FAILED, error=message, finished_at=timezone.now())


def _stopped_message() -> str:
    return _("The import stopped unexpectedly (its worker was lost), probably because of this file; "
             "check the file, then upload it again.")  # fmt: skip
