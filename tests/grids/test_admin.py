"""The grids admin: department scoping, immutable layers, activation, assignments, conflict report."""

import json

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance.models import Role
from grids.models import CellAssignment, GridVersion, Layer, LayerImportJob
from tests.factories import person
from tests.grids.factories import layer, square, square_grid_version, store_conflicts

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def geojson_upload(name="cg.geojson", *, codes=("CG-A", "CG-B"), overlap=False):
    """Two squares side by side (or overlapping) near the test community."""
    width = 0.0015 if overlap else 0.001
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": f"片区{i}"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [121.5 + i * 0.001, 29.997],
                        [121.5 + i * 0.001 + width, 29.997],
                        [121.5 + i * 0.001 + width, 29.998],
                        [121.5 + i * 0.001, 29.998],
                        [121.5 + i * 0.001, 29.997],
                    ]
                ],
            },
        }  # fmt: skip
        for i, code in enumerate(codes)
    ]
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    return SimpleUploadedFile(name, body, content_type="application/geo+json")


# --- Layers -------------------------------------------------------------------------------


def test_department_admin_sees_only_own_layers(client, personas):
    square_grid_version()  # CG v1
    sz = layer("SZ", source_name="sz-grid.geojson")
    client.force_login(personas["cg_admin"])
    response = client.get(reverse("admin:grids_layer_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == list(Layer.objects.filter(department__code="CG"))
    assert "sz-grid.geojson" not in response.content.decode()
    other = client.get(reverse("admin:grids_layer_change", args=[sz.pk]))
    assert other.status_code == 302 and other["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:grids_layer_report", args=[sz.pk])).status_code == 404


def test_department_staff_see_only_own_polygons(client, personas):
    square_grid_version()
    sz = layer("SZ")
    sz.polygons.create(code="SZ-1", geometry=square(121.5, 29.99, 0.001))
    client.force_login(personas["cg_handler"])
    response = client.get(reverse("admin:grids_layerpolygon_changelist"))
    assert response.status_code == 200
    codes = {p.code for p in response.context["cl"].queryset}
    assert "CG-0001" in codes and "SZ-1" not in codes
    cg = Layer.objects.get(department__code="CG")
    one_layer = client.get(reverse("admin:grids_layerpolygon_changelist"), {"layer__id__exact": cg.pk})
    assert one_layer.status_code == 200 and one_layer.context["cl"].result_count == 9
    asking_for_sz = client.get(reverse("admin:grids_layerpolygon_changelist"), {"layer__id__exact": sz.pk})
    assert "SZ-1" not in {p.code for p in asking_for_sz.context["cl"].queryset}


def test_layer_page_is_read_only_with_report_and_map(client, personas):
    version = square_grid_version()
    cg = version.layers.get()
    cg.report = {
        "summary": {"self_overlap": 1, "repaired": 1},
        "items": [
            {"kind": "self_overlap", "department": "CG", "polygons": ["CG-0001", "CG-0002"], "area_m2": 12.5,
             "community": None, "cell": None,
             "geometry": {"type": "Polygon", "coordinates": [[[121.5, 29.999], [121.501, 29.999], [121.501, 30.0],
                                                              [121.5, 29.999]]]}},
            {"kind": "repaired", "department": "CG", "polygons": ["CG-0003"], "area_m2": 0.0, "community": None,
             "cell": None, "geometry": None, "message": "Ring Self-intersection"},
        ],
        "features": 9,
        "skipped": 0,
    }  # fmt: skip
    cg.save()
    client.force_login(personas["cg_admin"])
    response = client.get(reverse("admin:grids_layer_change", args=[cg.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "CG-0001, CG-0002" in html and "Ring Self-intersection" in html
    assert 'class="grids-map"' in html and "/static/js/grids/feature-map.js" in html
    assert reverse("grids:map-layer", args=["CG"]) + "?version=1" in html
    assert 'name="_save"' not in html  # view only
    report = client.get(reverse("admin:grids_layer_report", args=[cg.pk]))
    assert report.json()["summary"] == {"self_overlap": 1, "repaired": 1}
    assert "attachment" in report["Content-Disposition"]


def test_nobody_changes_or_deletes_a_layer(client, personas):
    version = square_grid_version()
    cg = version.layers.get()
    polygon = cg.polygons.first()
    for name in ["cg_admin", "sysadmin"]:
        client.force_login(personas[name])
        change = client.post(reverse("admin:grids_layer_change", args=[cg.pk]), {"source_name": "x"})
        assert change.status_code == 403, name
        for url in [
            reverse("admin:grids_layer_delete", args=[cg.pk]),
            reverse("admin:grids_layerpolygon_delete", args=[polygon.pk]),
        ]:
            assert client.post(url, {"post": "yes"}).status_code == 403, (name, url)
        assert client.get(reverse("admin:grids_layerpolygon_add")).status_code == 403
    cg.refresh_from_db()
    assert cg.source_name == "CG.geojson" and cg.polygons.count() == 9


def upload(client, department, file, *, code_field="code", callbacks):
    """POST the import form; the task queued on commit runs in-process (eager_celery)."""
    with callbacks(execute=True):
        return client.post(
            reverse("admin:grids_layer_add"),
            {"department": department.pk, "file": file, "code_field": code_field, "name_field": "name"},
        )


@pytest.mark.usefixtures("eager_celery")
def test_department_admin_imports_for_own_department_only(client, personas, django_capture_on_commit_callbacks):
    client.force_login(personas["cg_admin"])
    form = client.get(reverse("admin:grids_layer_add"))
    assert form.status_code == 200
    assert 'accept=".geojson,.json,.zip,.gpkg"' in form.content.decode()
    sz = personas["sz_admin"].profile.department
    refused = upload(client, sz, geojson_upload(), callbacks=django_capture_on_commit_callbacks)
    assert refused.status_code == 200 and refused.context["form"].errors["department"]
    assert not Layer.objects.exists() and not LayerImportJob.objects.exists()

    cg = personas["cg_admin"].profile.department
    response = upload(client, cg, geojson_upload(overlap=True), callbacks=django_capture_on_commit_callbacks)
    job = LayerImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:grids_layerimportjob_change", args=[job.pk])
    assert any("cg.geojson" in n for n in messages_of(response))
    imported = Layer.objects.get()
    assert (job.status, job.layer, job.attempts, job.created_by) == ("done", imported, 1, personas["cg_admin"])
    assert (imported.department, imported.version, imported.imported_by) == (cg, 1, personas["cg_admin"])
    assert imported.source_name == "cg.geojson"
    assert sorted(imported.polygons.values_list("code", flat=True)) == ["CG-A", "CG-B"]
    page = client.get(response["Location"]).content.decode()
    assert reverse("admin:grids_layer_change", args=[imported.pk]) in page
    assert "grids-summary" in page  # the self-overlap is summarised on the job's page
    # Another department's admin does not see the job.
    client.force_login(personas["sz_admin"])
    assert client.get(response["Location"]).status_code == 302  # "does not exist" → back to the list


@pytest.mark.usefixtures("eager_celery")
def test_bad_upload_saves_nothing_and_says_why(client, personas, django_capture_on_commit_callbacks):
    client.force_login(personas["cg_admin"])
    cg = personas["cg_admin"].profile.department
    callbacks = django_capture_on_commit_callbacks
    wrong_field = upload(client, cg, geojson_upload(), code_field="bianhao", callbacks=callbacks)
    job = LayerImportJob.objects.get()
    assert job.status == "failed" and "bianhao" in job.error
    assert "bianhao" in client.get(wrong_field["Location"]).content.decode()
    wrong_type = client.post(
        reverse("admin:grids_layer_add"),
        {"department": cg.pk, "file": SimpleUploadedFile("grid.kml", b"<kml/>"), "code_field": "code"},
    )
    assert wrong_type.status_code == 200 and wrong_type.context["form"].errors["file"]
    assert not Layer.objects.exists() and LayerImportJob.objects.count() == 1


def test_handlers_and_field_roles_cannot_import(client, personas):
    client.force_login(personas["cg_handler"])
    assert client.get(reverse("admin:grids_layer_add")).status_code == 403
    client.force_login(personas["gridworker"])
    assert client.get(reverse("admin:grids_layer_add")).status_code == 302  # not an admin-site role


@pytest.mark.usefixtures("eager_celery")
def test_system_admin_imports_for_any_department(client, personas, django_capture_on_commit_callbacks):
    client.force_login(personas["sysadmin"])
    sz = personas["sz_admin"].profile.department
    response = upload(client, sz, geojson_upload("市政.geojson"), callbacks=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert Layer.objects.get().department == sz
    assert LayerImportJob.objects.get().source_name == "市政.geojson"


# --- Grid versions ------------------------------------------------------------------------


def test_system_admin_activates_a_draft_with_the_action(client, personas):
    active = square_grid_version()
    draft = square_grid_version(status=GridVersion.Status.DRAFT)
    client.force_login(personas["sysadmin"])
    response = client.post(
        reverse("admin:grids_gridversion_changelist"),
        {"action": "activate_selected", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert response.status_code == 200
    draft.refresh_from_db()
    active.refresh_from_db()
    assert draft.status == GridVersion.Status.ACTIVE and draft.activated_at
    assert active.status == GridVersion.Status.RETIRED


def test_system_admin_activates_from_the_version_page(client, personas):
    draft = square_grid_version(status=GridVersion.Status.DRAFT)
    client.force_login(personas["sysadmin"])
    page = client.get(reverse("admin:grids_gridversion_change", args=[draft.pk])).content.decode()
    activate_url = reverse("admin:grids_gridversion_activate", args=[draft.pk])
    assert activate_url in page
    assert client.get(activate_url).status_code == 200
    response = client.post(activate_url)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == GridVersion.Status.ACTIVE


def test_activating_a_published_version_is_an_admin_message(client, personas):
    active = square_grid_version()
    client.force_login(personas["sysadmin"])
    page = client.get(reverse("admin:grids_gridversion_change", args=[active.pk])).content.decode()
    assert reverse("admin:grids_gridversion_activate", args=[active.pk]) not in page
    response = client.post(reverse("admin:grids_gridversion_activate", args=[active.pk]))
    assert response.status_code == 302
    assert any("draft" in n.lower() or "草稿" in n for n in messages_of(response))
    action = client.post(
        reverse("admin:grids_gridversion_changelist"), {"action": "activate_selected", "_selected_action": [active.pk]}
    )
    assert action.status_code == 302
    active.refresh_from_db()
    assert active.status == GridVersion.Status.ACTIVE


def test_department_admin_cannot_activate(client, personas):
    draft = square_grid_version(status=GridVersion.Status.DRAFT)
    client.force_login(personas["cg_admin"])
    assert client.get(reverse("admin:grids_gridversion_change", args=[draft.pk])).status_code == 200
    assert client.post(reverse("admin:grids_gridversion_activate", args=[draft.pk])).status_code == 403
    client.post(
        reverse("admin:grids_gridversion_changelist"), {"action": "activate_selected", "_selected_action": [draft.pk]}
    )
    draft.refresh_from_db()
    assert draft.status == GridVersion.Status.DRAFT


def test_published_versions_are_read_only_and_never_deleted(client, personas):
    active = square_grid_version()
    retired = GridVersion.objects.create(status=GridVersion.Status.RETIRED, sliver_area_m2=50, input_digest="r")
    client.force_login(personas["sysadmin"])
    page = client.get(reverse("admin:grids_gridversion_change", args=[active.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    change = client.post(reverse("admin:grids_gridversion_change", args=[active.pk]), {"status": "draft"})
    assert change.status_code == 403
    for version in (active, retired):
        delete = client.post(reverse("admin:grids_gridversion_delete", args=[version.pk]), {"post": "yes"})
        assert delete.status_code == 403, version
    client.post(
        reverse("admin:grids_gridversion_changelist"),
        {"action": "delete_selected", "_selected_action": [active.pk, retired.pk], "post": "yes"},
    )
    assert GridVersion.objects.count() == 2
    assert client.get(reverse("admin:grids_gridversion_add")).status_code == 403


def test_a_draft_can_be_deleted_with_its_cells(client, personas):
    draft = square_grid_version(status=GridVersion.Status.DRAFT)
    client.force_login(personas["sysadmin"])
    response = client.post(reverse("admin:grids_gridversion_delete", args=[draft.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not GridVersion.objects.filter(pk=draft.pk).exists()


CONFLICTS = {
    "summary": {"self_overlap": 1, "gap": 1, "sliver_merged": 0, "outside": 1, "repaired": 0},
    "items": [
        {"kind": "self_overlap", "department": "CG", "polygons": ["CG-0001", "CG-0002"], "area_m2": 42.25,
         "community": "330211001001", "cell": "330211001001001",
         "geometry": {"type": "Polygon", "coordinates": [[[121.5, 29.999], [121.5005, 29.999], [121.5005, 29.9995],
                                                          [121.5, 29.999]]]}},
        {"kind": "gap", "department": None, "polygons": [], "area_m2": 310.0, "community": "330211001001",
         "cell": None, "geometry": {"type": "Polygon", "coordinates": [[[121.501, 29.998], [121.5015, 29.998],
                                                                       [121.5015, 29.9985], [121.501, 29.998]]]}},
        {"kind": "outside", "department": "SZ", "polygons": ["SZ-0009"], "area_m2": 77.0, "community": None,
         "cell": None, "geometry": None},
    ],
}  # fmt: skip


def test_conflict_report_page_lists_items_and_draws_them(client, personas):
    version = square_grid_version(status=GridVersion.Status.DRAFT)
    store_conflicts(version, CONFLICTS)
    client.force_login(personas["sysadmin"])
    response = client.get(reverse("admin:grids_gridversion_conflicts", args=[version.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "CG-0001, CG-0002" in html and "SZ-0009" in html and "湖滨社区" in html
    assert "42.3" in html  # one decimal
    assert [row["kind"] for row in response.context["rows"]] == ["self_overlap", "gap", "outside"]
    assert reverse("grids:map-cells") + f"?version={version.pk}" in html
    config = json.loads(html.split('id="conflict-map-config" type="application/json">')[1].split("</script>")[0])
    drawn = config["layers"][1]["data"]["features"]
    assert [f["properties"]["kind"] for f in drawn] == ["self_overlap", "gap"]  # the third has no geometry
    only_gaps = client.get(reverse("admin:grids_gridversion_conflicts", args=[version.pk]), {"kind": "gap"})
    assert [row["kind"] for row in only_gaps.context["rows"]] == ["gap"]
    download = client.get(reverse("admin:grids_gridversion_conflicts_json", args=[version.pk]))
    assert download.json()["summary"] == CONFLICTS["summary"] and len(download.json()["items"]) == 3
    assert "attachment" in download["Content-Disposition"]


def test_department_staff_see_their_own_conflicts(client, personas):
    version = square_grid_version()
    store_conflicts(version, CONFLICTS)
    client.force_login(personas["sz_admin"])
    response = client.get(reverse("admin:grids_gridversion_conflicts", args=[version.pk]))
    assert [row["kind"] for row in response.context["rows"]] == ["gap", "outside"]
    download = client.get(reverse("admin:grids_gridversion_conflicts_json", args=[version.pk]))
    assert [i["kind"] for i in download.json()["items"]] == ["gap", "outside"]


# --- Cells and assignments ------------------------------------------------------------------


def test_cells_are_read_only_with_crosswalk_and_assignments(client, personas):
    version = square_grid_version()
    cell = version.cells.get(code="330211001001004")
    CellAssignment.objects.create(cell=cell, user=personas["gridleader"], duty=CellAssignment.Duty.LEADER)
    client.force_login(personas["sysadmin"])
    found = client.get(reverse("admin:grids_cell_changelist"), {"q": "001004"})
    assert [c.code for c in found.context["cl"].queryset] == ["330211001001004"]
    page = client.get(reverse("admin:grids_cell_change", args=[cell.pk]))
    html = page.content.decode()
    assert "CG-0004" in html and "100.0 %" in html and "gridleader" in html
    assert 'name="_save"' not in html
    assert reverse("admin:grids_cellassignment_add") + f"?cell={cell.pk}" in html
    assert client.get(reverse("admin:grids_cell_add")).status_code == 403
    assert client.post(reverse("admin:grids_cell_delete", args=[cell.pk]), {"post": "yes"}).status_code == 403


def test_cell_filters_by_version_status_and_community(client, personas):
    square_grid_version()
    draft = square_grid_version(status=GridVersion.Status.DRAFT)
    client.force_login(personas["cg_admin"])
    response = client.get(reverse("admin:grids_cell_changelist"), {"version__status__exact": "draft"})
    assert response.status_code == 200
    assert {c.version_id for c in response.context["cl"].queryset} == {draft.pk}
    community = draft.cells.first().community
    response = client.get(reverse("admin:grids_cell_changelist"), {"community__id__exact": community.pk})
    assert response.context["cl"].result_count == 18


def assign(client, cell, user, duty):
    return client.post(reverse("admin:grids_cellassignment_add"), {"cell": cell.pk, "user": user.pk, "duty": duty})


def test_assignment_duty_must_match_the_role(client, personas):
    cell = square_grid_version().cells.first()
    client.force_login(personas["sysadmin"])
    response = assign(client, cell, personas["gridworker"], CellAssignment.Duty.LEADER)
    assert response.status_code == 200 and "user" in response.context["adminform"].form.errors
    response = assign(client, cell, personas["gridleader"], CellAssignment.Duty.WORKER)
    assert response.status_code == 200 and "user" in response.context["adminform"].form.errors
    # Only field staff are offered at all.
    response = assign(client, cell, personas["dispatcher"], CellAssignment.Duty.WORKER)
    assert response.status_code == 200 and "user" in response.context["adminform"].form.errors
    assert not CellAssignment.objects.exists()
    assert assign(client, cell, personas["gridleader"], CellAssignment.Duty.LEADER).status_code == 302
    assert assign(client, cell, personas["gridworker"], CellAssignment.Duty.WORKER).status_code == 302
    assert CellAssignment.objects.count() == 2


def test_one_leader_per_cell_is_a_form_error(client, personas):
    cell = square_grid_version().cells.first()
    CellAssignment.objects.create(cell=cell, user=personas["gridleader"], duty=CellAssignment.Duty.LEADER)
    second = person("leader2", Role.GRID_LEADER)
    client.force_login(personas["sysadmin"])
    response = assign(client, cell, second, CellAssignment.Duty.LEADER)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["cell"] and "gridleader" in errors["cell"][0]
    same_person_twice = assign(client, cell, personas["gridleader"], CellAssignment.Duty.LEADER)
    assert same_person_twice.status_code == 200
    assert CellAssignment.objects.count() == 1


def test_only_cells_of_live_versions_are_assignable(client, personas):
    retired = square_grid_version(status=GridVersion.Status.RETIRED)
    draft = square_grid_version(status=GridVersion.Status.DRAFT)
    client.force_login(personas["sysadmin"])
    response = assign(client, retired.cells.first(), personas["gridworker"], CellAssignment.Duty.WORKER)
    assert response.status_code == 200 and "cell" in response.context["adminform"].form.errors
    assert assign(client, draft.cells.first(), personas["gridworker"], CellAssignment.Duty.WORKER).status_code == 302
    picked = client.get(
        reverse("admin:grids_cellassignment_cell_autocomplete"),
        {"term": "001001001", "app_label": "grids", "model_name": "cellassignment", "field_name": "cell"},
    ).json()["results"]
    assert [r["id"] for r in picked] == [str(draft.cells.get(code="330211001001001").pk)]
    assert "v" in picked[0]["text"] and "330211001001001" in picked[0]["text"]


def test_assignments_of_retired_versions_are_history(client, personas):
    version = square_grid_version(status=GridVersion.Status.RETIRED)
    old = CellAssignment.objects.create(cell=version.cells.first(), user=personas["gridworker"], duty="grid_worker")
    client.force_login(personas["sysadmin"])
    assert client.post(reverse("admin:grids_cellassignment_delete", args=[old.pk]), {"post": "yes"}).status_code == 403
    assert CellAssignment.objects.filter(pk=old.pk).exists()


def test_department_staff_do_not_manage_assignments(client, personas):
    square_grid_version()
    client.force_login(personas["cg_admin"])
    assert client.get(reverse("admin:grids_cellassignment_changelist")).status_code == 403
    assert client.get(reverse("admin:grids_cellassignment_add")).status_code == 403


# --- Who is let in ------------------------------------------------------------------------------


def test_outsider_and_non_admin_roles_are_refused_everywhere(client, personas):
    version = square_grid_version()
    cg = version.layers.get()
    urls = [
        reverse("admin:grids_layer_changelist"),
        reverse("admin:grids_layer_add"),
        reverse("admin:grids_layer_change", args=[cg.pk]),
        reverse("admin:grids_gridversion_changelist"),
        reverse("admin:grids_gridversion_conflicts", args=[version.pk]),
        reverse("admin:grids_gridversion_conflicts_json", args=[version.pk]),
        reverse("admin:grids_gridversion_activate", args=[version.pk]),
        reverse("admin:grids_cell_changelist"),
        reverse("admin:grids_cellassignment_changelist"),
        reverse("admin:grids_cellassignment_cell_autocomplete"),
    ]
    for name in ["outsider", "gridworker", "dispatcher", "leader", None]:
        client.logout()
        if name:
            client.force_login(personas[name])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302 and "/admin/login/" in response["Location"], (name, url)
