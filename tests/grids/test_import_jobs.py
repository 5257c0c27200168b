"""Layer import jobs: the worker imports, each job once; a lost or crashing worker never leaves a job running."""

import datetime
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from governance.models import Department
from grids import import_jobs, services
from grids.importing import LayerImportError
from grids.models import Layer, LayerImportJob
from tests.grids.test_services import COMMUNITIES, write

Status = LayerImportJob.Status
SQUARES = [[[121.501, 29.991], [121.502, 29.991], [121.502, 29.992], [121.501, 29.992], [121.501, 29.991]]]
CRASHER = [[[-1e300, -1e300], [1e300, -1e300], [1e300, 1e300], [-1e300, -1e300]]]  # the 236-byte file of issue 8


def geojson(coordinates, code="CG-1", name="cg.geojson") -> SimpleUploadedFile:
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code}, "geometry": {"type": "Polygon", "coordinates": coordinates}}
    ]}  # fmt: skip
    return SimpleUploadedFile(name, json.dumps(body).encode())


def new_job(coordinates=SQUARES, **kw) -> LayerImportJob:
    return import_jobs.layer_import_job_create(
        department=Department.objects.get(code="CG"), upload=geojson(coordinates), code_field="code",
        name_field="name", **kw,
    )  # fmt: skip


@pytest.fixture
def queued(monkeypatch):
    """Jobs whose task would be sent: recorded instead, so the test runs them by hand."""
    sent = []
    monkeypatch.setattr(import_jobs, "queue_import", sent.append)
    return sent


@pytest.mark.django_db
def test_a_job_imports_once_however_often_its_task_runs(queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = new_job()
    assert queued == [job.pk] and job.status == Status.QUEUED
    done = import_jobs.layer_import_job_run(job_id=job.pk)
    assert (done.status, done.attempts, done.layer.source_name) == (Status.DONE, 1, "cg.geojson")
    again = import_jobs.layer_import_job_run(job_id=job.pk)  # a duplicate delivery
    assert (again.status, again.attempts) == (Status.DONE, 1) and Layer.objects.count() == 1


@pytest.mark.django_db
def test_the_file_that_took_the_site_down_fails_its_job_with_a_chinese_message(queued):
    job = import_jobs.layer_import_job_run(job_id=new_job(CRASHER).pk)
    assert job.status == Status.FAILED and job.finished_at is not None
    assert job.error.startswith("要素 CG-1（第 1 个）：") and "超出坐标系的有效范围" in job.error
    assert not Layer.objects.exists()


@pytest.mark.django_db
def test_a_file_that_kills_its_worker_is_failed_not_redelivered_forever(queued):
    job = new_job()
    # Two workers claimed it and died (acks_late redelivered the message each time).
    LayerImportJob.objects.filter(pk=job.pk).update(status=Status.RUNNING, attempts=import_jobs.MAX_ATTEMPTS)
    job = import_jobs.layer_import_job_run(job_id=job.pk)
    assert job.status == Status.FAILED and "意外中止" in job.error and not Layer.objects.exists()


@pytest.mark.django_db
def test_the_sweep_fails_lost_jobs_and_requeues_lost_messages(queued):
    lost, waiting, fresh = new_job(), new_job(), new_job()
    long_ago = timezone.now() - import_jobs.STALE_AFTER - datetime.timedelta(minutes=1)
    LayerImportJob.objects.filter(pk=lost.pk).update(status=Status.RUNNING, attempts=1, started_at=long_ago,
                                                     created_at=long_ago)  # fmt: skip
    LayerImportJob.objects.filter(pk=waiting.pk).update(created_at=long_ago)
    queued.clear()
    assert import_jobs.layer_import_jobs_sweep() == {"failed": 1, "requeued": 1}
    assert queued == [waiting.pk]
    statuses = dict(LayerImportJob.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: Status.FAILED, waiting.pk: Status.QUEUED, fresh.pk: Status.QUEUED}
    assert import_jobs.layer_import_jobs_sweep() == {"failed": 0, "requeued": 1}  # nothing failed twice


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_a_layer_of_another_city_is_refused_and_without_communities_only_warned(tmp_path):
    cg = Department.objects.get(code="CG")
    beijing = tmp_path / "cg.geojson"
    beijing.write_text(json.dumps({"type": "Feature", "properties": {"code": "X"}, "geometry": {
        "type": "Polygon", "coordinates": [[[116.39, 39.90], [116.40, 39.90], [116.40, 39.91], [116.39, 39.90]]]}}))
    layer = services.layer_import(department=cg, path=beijing)
    assert "could not be checked" in layer.report["warnings"][0]
    services.jurisdiction_import(path=write(tmp_path / "communities.geojson", COMMUNITIES))
    with pytest.raises(LayerImportError, match="far outside the jurisdiction"):
        services.layer_import(department=cg, path=beijing)
    assert Layer.objects.count() == 1


# --- The real thing: an admin upload, a Celery worker on the test database ---------------------


def wait_for(job: LayerImportJob, timeout=60) -> LayerImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job.pk} still {job.status} after {timeout} s")


@pytest.mark.redis
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_admin_upload_is_imported_by_a_real_worker(client, personas, worker_on_test_database):
    client.force_login(personas["cg_admin"])
    cg = personas["cg_admin"].profile.department
    for upload in (geojson(CRASHER, name="crash.geojson"), geojson(SQUARES)):
        response = client.post(reverse("admin:grids_layer_add"),
                               {"department": cg.pk, "file": upload, "code_field": "code", "name_field": "name"})
        assert response.status_code == 302
    crashed, good = (wait_for(job) for job in LayerImportJob.objects.order_by("pk"))
    assert worker_on_test_database.process.poll() is None  # the worker survived the file too
    assert crashed.status == Status.FAILED and "超出坐标系的有效范围" in crashed.error
    assert good.status == Status.DONE and good.layer.polygons.count() == 1
    page = client.get(reverse("admin:grids_layerimportjob_change", args=[crashed.pk])).content.decode()
    assert "超出坐标系的有效范围" in page
