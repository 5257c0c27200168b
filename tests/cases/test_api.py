"""The case API under /api/cases/: every persona on every endpoint, then what each endpoint answers.

Refusals: anonymous 401/403, a login without a role 403, a case one may not
see 404, a step that is not one's own 403, bad input 400, the wrong state 409;
all in the {"error": {code, message, details}} shape.
"""

import pytest
from django.conf import settings
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from cases import photos, services
from cases.models import Case, CaseEvent, CasePhoto, CaseRequest, Status
from tests.cases.test_photos import GPS_NE, exif_block, image_bytes, jpeg, upload
from tests.cases.test_visibility import ROLES, build_world
from tests.grids.factories import cell_centre

pytestmark = pytest.mark.django_db
OUTSIDER = "outsider"

# endpoint → (status the case must be in, valid body, who succeeds, who may not see the case: 404).
# Everyone else with a role sees the case but may not take the step: 403.
DISPATCHER_ONLY = {"dispatcher"}
BEFORE_DISPATCH_HIDDEN = {"cg_admin", "cg_handler", "sz_admin"}  # not their department's yet
STEPS = {
    "register": (Status.REPORTED, {"category_kind": "event", "category_code": "9901"}, DISPATCHER_ONLY,
                 BEFORE_DISPATCH_HIDDEN),
    "reject": (Status.REPORTED, {"reason": "重复上报"}, DISPATCHER_ONLY, BEFORE_DISPATCH_HIDDEN),
    "dispatch": (Status.REGISTERED, {}, DISPATCHER_ONLY, BEFORE_DISPATCH_HIDDEN),
    "handle": (Status.DISPATCHED, {"note": "已清运"}, {"cg_admin", "cg_handler"}, {"sz_admin"}),
    "verify": (Status.HANDLED, {"passed": True}, {"gridworker", "gridleader", "dispatcher"}, {"sz_admin"}),
    "close": (Status.VERIFIED, {}, DISPATCHER_ONLY, {"sz_admin"}),
}  # fmt: skip
AFTER = {"register": Status.REGISTERED, "reject": Status.REJECTED, "dispatch": Status.DISPATCHED,
         "handle": Status.HANDLED, "verify": Status.VERIFIED, "close": Status.CLOSED}  # fmt: skip


@pytest.fixture
def world(personas):
    return build_world(personas)


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return body["error"]


def create_body() -> dict:
    lng, lat = cell_centre(5)
    return {"description": "井盖缺失", "lng": lng, "lat": lat, "address": "湖滨路 1 号"}


# --- The matrix: persona × endpoint ------------------------------------------------------------


def expected_read(who: str, hidden: set) -> int:
    return 404 if who in hidden else 200


@pytest.mark.parametrize("who", [*ROLES, OUTSIDER])
def test_list(client, world, who):
    world.case()
    client.force_login(world.personas[who])
    response = client.get(reverse("api-cases"))
    if who == OUTSIDER:
        assert_error(response, 403, "permission_denied")
    else:
        assert response.status_code == 200
        assert response.json()["count"] == (0 if who == "sz_admin" else 1)


@pytest.mark.parametrize("who", [*ROLES, OUTSIDER])
def test_detail(client, world, who):
    case = world.case()
    client.force_login(world.personas[who])
    response = client.get(reverse("api-case", args=[case.pk]))
    if who == OUTSIDER:
        assert_error(response, 403, "permission_denied")
    elif who == "sz_admin":
        assert_error(response, 404, "not_found")
    else:
        assert response.status_code == 200 and response.json()["number"] == case.number


@pytest.mark.parametrize("who", [*ROLES, OUTSIDER])
def test_create(client, world, who):
    client.force_login(world.personas[who])
    response = post(client, reverse("api-case-create"), create_body())
    if who in (OUTSIDER, "leader"):
        assert_error(response, 403, "permission_denied")
        assert not Case.objects.exists()
    else:
        assert response.status_code == 201, response.content
        assert response.json()["reporter"] == world.personas[who].username


@pytest.mark.parametrize("who", [*ROLES, OUTSIDER])
@pytest.mark.parametrize("step", list(STEPS))
def test_step(client, world, step, who):
    source, body, allowed, hidden = STEPS[step]
    case = world.case(source)
    events = CaseEvent.objects.filter(case=case).count()
    client.force_login(world.personas[who])
    response = post(client, reverse(f"api-case-{step}", args=[case.pk]), body)
    case.refresh_from_db()
    if who in allowed:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == case.status == AFTER[step]
        assert response.json()["events"][-1]["actor"] == world.personas[who].username
        return
    if who == OUTSIDER:
        assert_error(response, 403, "permission_denied")
    elif who in hidden:
        assert_error(response, 404, "not_found")
    else:
        assert_error(response, 403, "permission_denied")
    assert case.status == source and CaseEvent.objects.filter(case=case).count() == events


PHOTO_TAKERS = {"dispatcher", "cg_admin", "cg_handler", "gridworker", "gridleader"}


@pytest.mark.parametrize("who", [*ROLES, OUTSIDER])
def test_photo_upload(client, world, who):
    case = world.case()
    client.force_login(world.personas[who])
    url = reverse("api-case-photo-upload", args=[case.pk])
    response = client.post(url, {"kind": "evidence", "image": upload(jpeg())})
    if who in PHOTO_TAKERS:
        assert response.status_code == 201, response.content
    elif who == "sz_admin":
        assert_error(response, 404, "not_found")
    else:
        assert_error(response, 403, "permission_denied")
    assert CasePhoto.objects.count() == (1 if who in PHOTO_TAKERS else 0)


@pytest.mark.parametrize("who", [*ROLES, OUTSIDER])
def test_photo_view(client, world, who):
    case = world.case()
    photo = photos.case_photo_add(case=case, kind="before", upload=upload(jpeg()), user=world.personas["dispatcher"])
    client.force_login(world.personas[who])
    response = client.get(reverse("cases:photo", args=[photo.pk]))
    assert response.status_code == (404 if who in ("sz_admin", OUTSIDER) else 200)


def anonymous_urls(case) -> list[tuple[str, str]]:
    return [
        ("get", reverse("api-cases")),
        ("get", reverse("api-case", args=[case.pk])),
        ("post", reverse("api-case-create")),
        ("post", reverse("api-case-photo-upload", args=[case.pk])),
        *[("post", reverse(f"api-case-{step}", args=[case.pk])) for step in STEPS],
    ]


def test_anonymous_is_refused_everywhere(client, world):
    case = world.case()
    for method, url in anonymous_urls(case):
        response = getattr(client, method)(url)
        assert response.status_code in (401, 403), url
        assert response.json()["error"]["code"] == "not_authenticated", url
    photo = photos.case_photo_add(case=case, kind="before", upload=upload(jpeg()), user=world.personas["dispatcher"])
    assert client.get(reverse("cases:photo", args=[photo.pk])).status_code == 302


def test_the_leader_reads_everything_and_writes_nothing(client, world):
    client.force_login(world.personas["leader"])
    cases = {step: world.case(source) for step, (source, *_rest) in STEPS.items()}
    assert client.get(reverse("api-cases")).json()["count"] == len(cases)
    for step, case in cases.items():
        assert client.get(reverse("api-case", args=[case.pk])).status_code == 200
        response = post(client, reverse(f"api-case-{step}", args=[case.pk]), STEPS[step][1])
        assert_error(response, 403, "permission_denied")
        response = client.post(
            reverse("api-case-photo-upload", args=[case.pk]), {"kind": "before", "image": upload(jpeg())}
        )
        assert_error(response, 403, "permission_denied")
    assert_error(post(client, reverse("api-case-create"), create_body()), 403, "permission_denied")


def test_a_case_of_another_department_is_404_like_one_that_does_not_exist(client, world):
    case = world.case()
    client.force_login(world.personas["sz_admin"])
    hidden = client.get(reverse("api-case", args=[case.pk]))
    missing = client.get(reverse("api-case", args=[case.pk + 1000]))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


# --- What the endpoints answer -----------------------------------------------------------------


def test_create_takes_the_channel_from_the_role_and_finds_the_cell(client, world):
    for who, channel in [("gridworker", "grid_worker"), ("hotline", "hotline"), ("dispatcher", "api")]:
        client.force_login(world.personas[who])
        body = post(client, reverse("api-case-create"), create_body() | {"channel": "other"}).json()
        assert (body["channel"], body["cell"], body["status"]) == (channel, "330211001001005", "reported")
        assert body["location"] == pytest.approx(dict(zip(["lng", "lat"], cell_centre(5), strict=True)))
        assert [(e["action"], e["actor"]) for e in body["events"]] == [("report", world.personas[who].username)]


def test_create_with_a_category_sets_its_department_and_severity(client, world):
    client.force_login(world.personas["hotline"])
    body = create_body() | {"category_kind": "event", "category_code": "9902", "severity": "urgent",
                            "citizen_name": "张三", "citizen_phone": "13800000000"}  # fmt: skip
    data = post(client, reverse("api-case-create"), body).json()
    assert data["category"] == {"kind": "event", "code": "9902", "name": "测试9902"}
    assert (data["department"], data["severity"]) == ("SZ", "urgent")
    assert data["citizen"] == {"name": "张三", "phone": "13800000000"}


def test_the_callers_contact_is_for_those_who_work_on_the_case(client, world):
    client.force_login(world.personas["hotline"])
    body = create_body() | {"citizen_name": "张三", "citizen_phone": "13800000000"}
    pk = post(client, reverse("api-case-create"), body).json()["id"]
    for who, sees in [("dispatcher", True), ("gridworker", True), ("leader", False), ("sysadmin", False)]:
        client.force_login(world.personas[who])
        assert (client.get(reverse("api-case", args=[pk])).json()["citizen"] is not None) == sees, who


@pytest.mark.parametrize(
    "body, field",
    [
        ({"description": "  "}, "description"),
        ({"lat": None}, "location"),  # lng without lat
        ({"lat": 91, "lng": 121.5}, "lat"),
        ({"category_code": "9901"}, "category_code"),
        ({"category_kind": "event", "category_code": "0000"}, "category_code"),
        ({"category_kind": "event", "category_code": "12"}, "category_code"),
        ({"severity": "apocalyptic"}, "severity"),
    ],
)
def test_bad_input_is_400_with_the_field_named(client, world, body, field):
    client.force_login(world.personas["gridworker"])
    body = {key: value for key, value in (create_body() | body).items() if value is not None}
    error = assert_error(post(client, reverse("api-case-create"), body), 400, "invalid")
    assert field in error["details"], error
    assert not Case.objects.exists()


def test_a_description_of_spaces_is_refused_by_the_service_too(client, world):
    client.force_login(world.personas["gridworker"])
    error = assert_error(post(client, reverse("api-case-create"), {"description": "\u3000"}), 400, "invalid")
    assert list(error["details"]) == ["description"]


@pytest.mark.parametrize(
    "step, source, body, field",
    [
        ("reject", Status.REPORTED, {"reason": " "}, "reason"),  # the service's own rule
        ("verify", Status.HANDLED, {"passed": False}, "reason"),  # rework needs a reason
        ("verify", Status.HANDLED, {}, "passed"),
        ("register", Status.REPORTED, {"category_kind": "event"}, "category_code"),
        ("dispatch", Status.REGISTERED, {"department": "XX"}, "department"),
    ],
)
def test_bad_step_input_is_400_and_changes_nothing(client, world, step, source, body, field):
    case = world.case(source)
    client.force_login(world.personas["dispatcher"])
    error = assert_error(post(client, reverse(f"api-case-{step}", args=[case.pk]), body), 400, "invalid")
    assert field in error["details"], error
    case.refresh_from_db()
    assert case.status == source


@pytest.mark.parametrize("step", ["register", "reject", "dispatch", "close"])
def test_a_step_from_the_wrong_state_is_409(client, world, step, english):
    case = world.case(Status.DISPATCHED)
    client.force_login(world.personas["dispatcher"])
    error = assert_error(post(client, reverse(f"api-case-{step}", args=[case.pk]), STEPS[step][1]), 409, "conflict")
    assert case.number in error["message"]
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED


def test_the_409_message_speaks_the_callers_language(client, world):
    case = world.case(Status.CLOSED)
    client.force_login(world.personas["dispatcher"])
    response = client.post(reverse("api-case-close", args=[case.pk]), {}, content_type="application/json",
                           HTTP_ACCEPT_LANGUAGE="zh-hans")  # fmt: skip
    assert assert_error(response, 409, "conflict")["message"] == f"案件 {case.number} 当前状态为已结案，现在不能结案。"


def test_a_failed_verification_sends_the_case_back_for_rework(client, world):
    case = world.case(Status.HANDLED)
    client.force_login(world.personas["gridworker"])
    body = post(client, reverse("api-case-verify", args=[case.pk]), {"passed": False, "reason": "垃圾仍在"}).json()
    assert body["status"] == "dispatched"
    assert (body["events"][-1]["action"], body["events"][-1]["reason"]) == ("rework", "垃圾仍在")


def test_register_and_dispatch_to_another_department(client, world):
    case = world.case(Status.REPORTED)
    client.force_login(world.personas["dispatcher"])
    body = {"category_kind": "event", "category_code": "9901", "severity": "minor", "department": "SZ"}
    data = post(client, reverse("api-case-register", args=[case.pk]), body).json()
    assert (data["status"], data["severity"], data["department"]) == ("registered", "minor", "SZ")
    data = post(client, reverse("api-case-dispatch", args=[case.pk])).json()
    assert (data["status"], data["department"], data["current_stage"]) == ("dispatched", "SZ", "handling")


def test_detail_has_the_history_and_photo_urls(client, world):
    case = world.case(Status.HANDLED)
    photo = photos.case_photo_add(case=case, kind="after", upload=upload(jpeg(exif_block(gps=GPS_NE))),
                                  user=world.personas["cg_handler"])  # fmt: skip
    client.force_login(world.personas["gridworker"])
    data = client.get(reverse("api-case", args=[case.pk])).json()
    assert [(e["action"], e["from_status"], e["to_status"]) for e in data["events"]] == [
        ("report", "", "reported"), ("register", "reported", "registered"),
        ("dispatch", "registered", "dispatched"), ("handle", "dispatched", "handled"),
    ]  # fmt: skip
    assert data["events"][1]["data"] == {"category": "9901", "severity": "normal", "department": "CG"}
    [shown] = data["photos"]
    assert shown["url"] == f"http://testserver{reverse('cases:photo', args=[photo.pk])}"
    assert (shown["kind"], shown["uploaded_by"]) == ("after", "cg_handler")
    assert shown["taken_where"] == pytest.approx({"lng": 121.501, "lat": 30.0005})
    assert settings.MEDIA_URL not in str(data)  # no public file URL leaks out
    assert client.get(shown["url"]).status_code == 200


def test_photo_upload_answers_with_the_photo_and_refuses_bad_files(client, world, english):
    case = world.case()
    client.force_login(world.personas["gridworker"])
    url = reverse("api-case-photo-upload", args=[case.pk])
    data = client.post(url, {"kind": "before", "image": upload(jpeg(exif_block(gps=GPS_NE)))}).json()
    assert data["taken_at"] == "2026-03-14T09:26:53+08:00"
    assert data["url"].endswith(reverse("cases:photo", args=[data["id"]]))
    for image, message in [
        (upload(b"%PDF-1.4 not a photo", name="x.jpg"), "Upload a JPEG, PNG or WebP photo."),
        (upload(jpeg(size=(400, 300))[:-200]), "The photo is damaged or incomplete; take or export it again."),
        (upload(jpeg() + b"\0" * photos.MAX_BYTES), "The photo is larger than 10 MB."),
    ]:
        # The client asks for English: messages follow Accept-Language (Chinese by default).
        response = client.post(url, {"kind": "before", "image": image}, HTTP_ACCEPT_LANGUAGE="en")
        error = assert_error(response, 400, "invalid")
        assert error["details"] == {"image": [message]}
    assert_error(client.post(url, {"kind": "before"}), 400, "invalid")
    assert_error(client.post(url, {"kind": "selfie", "image": upload(image_bytes("PNG"))}), 400, "invalid")
    assert CasePhoto.objects.count() == 1


def test_the_hotline_adds_photos_to_its_own_reports_only(client, world):
    p = world.personas
    own = world.case(Status.REPORTED, cell=1, reporter=p["hotline"], channel="hotline")
    other = world.case(Status.REPORTED, cell=1)
    client.force_login(p["hotline"])
    for case, expected in [(own, 201), (other, 403)]:
        response = client.post(
            reverse("api-case-photo-upload", args=[case.pk]), {"kind": "evidence", "image": upload(jpeg())}
        )
        assert response.status_code == expected


# --- The list --------------------------------------------------------------------------------


@pytest.fixture
def listed(world):
    p = world.personas
    cases = {
        "cg_dispatched": world.case(Status.DISPATCHED),
        "sz_dispatched": world.case(Status.DISPATCHED, cell=1, category=world.sz),
        "reported": world.case(Status.REPORTED, cell=1, reporter=p["hotline"], channel="hotline"),
        "closed": world.case(Status.CLOSED),
    }
    Case.objects.filter(pk=cases["sz_dispatched"].pk).update(sla_level="red", severity="urgent")
    return cases


@pytest.mark.parametrize(
    "query, names",
    [
        ("", {"cg_dispatched", "sz_dispatched", "reported", "closed"}),
        ("status=dispatched", {"cg_dispatched", "sz_dispatched"}),
        ("status=reported&status=closed", {"reported", "closed"}),
        ("severity=urgent", {"sz_dispatched"}),
        ("sla_level=red", {"sz_dispatched"}),
        ("channel=hotline", {"reported"}),
        ("department=CG", {"cg_dispatched", "closed"}),
        ("category_kind=event&category_code=9902", {"sz_dispatched"}),
        ("category_code=9901", {"cg_dispatched", "closed"}),
        ("cell=330211001001001", {"sz_dispatched", "reported"}),
    ],
)
def test_list_filters(client, world, listed, query, names):
    client.force_login(world.personas["dispatcher"])
    data = client.get(f"{reverse('api-cases')}?{query}").json()
    assert {item["number"] for item in data["results"]} == {listed[name].number for name in names}


def test_list_filters_only_what_the_caller_may_see(client, world, listed):
    client.force_login(world.personas["cg_handler"])
    data = client.get(f"{reverse('api-cases')}?department=SZ").json()
    assert data["count"] == 0
    numbers = [item["number"] for item in client.get(reverse("api-cases")).json()["results"]]
    assert numbers == [listed["closed"].number, listed["cg_dispatched"].number]  # newest first


def test_list_is_paginated_and_a_bad_filter_is_400(client, world, listed):
    client.force_login(world.personas["dispatcher"])
    data = client.get(f"{reverse('api-cases')}?limit=2&offset=1").json()
    assert (data["count"], len(data["results"])) == (4, 2) and data["next"] and data["previous"]
    error = assert_error(client.get(f"{reverse('api-cases')}?status=lost"), 400, "invalid")
    assert "status" in error["details"]


def test_list_queries_do_not_grow_with_the_cases(client, world, listed, django_assert_max_num_queries):
    client.force_login(world.personas["gridworker"])
    with django_assert_max_num_queries(6):
        client.get(reverse("api-cases"))


# A step's own answers, and those every operation with a body can give (governance.schema).
STEP_RESPONSES = {"200", "400", "403", "404", "409", "401", "405", "413", "415", "429", "500"}


def test_every_endpoint_is_in_the_schema_with_its_refusals():
    """The whole schema is validated with --fail-on-warn by tests/grids/test_api.py; here, the cases part."""
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for step in STEPS:
        responses = paths[f"/api/cases/{{id}}/{step}/"]["post"]["responses"]
        assert set(responses) == STEP_RESPONSES, step
    assert {"/api/cases/", "/api/cases/create/", "/api/cases/{id}/", "/api/cases/{id}/photos/"} <= set(paths)
    upload_body = paths["/api/cases/{id}/photos/"]["post"]["requestBody"]["content"]
    assert list(upload_body) == ["multipart/form-data"]


# --- The side paths and the callback: persona × endpoint ------------------------------------


def _dispatched(world):
    return world.case(Status.DISPATCHED), {}


def _with_request(kind):
    def setup(world):
        case = world.case(Status.DISPATCHED)
        p = world.personas
        if kind == "return":
            request = services.case_request_return(case=case, actor=p["cg_admin"], reason="不属本部门")
        else:
            request = services.case_request_suspension(case=case, actor=p["cg_admin"], reason="等待产权单位")
        return case, {"request": request.pk, "approve": True}

    return setup


def _suspended(world):
    case, body = _with_request("suspension")(world)
    request = CaseRequest.objects.get(pk=body["request"])
    services.case_decide_request(request=request, actor=world.personas["dispatcher"], approve=True)
    return case, {}


def _merge(world):
    into = world.case(Status.REGISTERED)
    return world.case(Status.DISPATCHED), {"into": into.number, "reason": "同一处"}


def _closed(world):
    return world.case(Status.CLOSED), {"reason": "群众反映复发"}


def _called_back(world):
    case = world.case(Status.VERIFIED, channel="hotline")
    return case, {"reached": True, "solved": True, "satisfied": True}


DEPARTMENT = {"cg_admin", "cg_handler"}
SIDE_STEPS = {
    # step: (setup, who succeeds, who may not see the case, the case afterwards)
    "accept": (_dispatched, DEPARTMENT, {"sz_admin"}, lambda c: c.accepted_at is not None),
    "request_return": (lambda w: (w.case(Status.DISPATCHED), {"reason": "不属本部门"}), DEPARTMENT, {"sz_admin"},
                       lambda c: c.requests.filter(kind="return", decision="pending").exists()),
    "request_extension": (lambda w: (w.case(Status.DISPATCHED), {"reason": "需调机械", "amount": "2",
                                                                  "unit": "working_days"}),
                          DEPARTMENT, {"sz_admin"}, lambda c: c.requests.filter(kind="extension").exists()),
    "request_suspension": (lambda w: (w.case(Status.DISPATCHED), {"reason": "等待产权单位"}), DEPARTMENT,
                           {"sz_admin"}, lambda c: c.requests.filter(kind="suspension").exists()),
    "decide_request": (_with_request("suspension"), DISPATCHER_ONLY, {"sz_admin"}, lambda c: c.suspended_at),
    "resume": (_suspended, {"dispatcher", *DEPARTMENT}, {"sz_admin"}, lambda c: c.suspended_at is None),
    "merge": (_merge, DISPATCHER_ONLY, {"sz_admin"}, lambda c: c.merged_into_id is not None),
    # A closed case that did not come through the hotline is not the hotline's to see.
    "reopen": (_closed, DISPATCHER_ONLY, {"sz_admin", "hotline"}, lambda c: c.status == Status.DISPATCHED),
    "callback": (_called_back, {"dispatcher", "hotline"}, {"sz_admin"}, lambda c: c.callback_solved is True),
}  # fmt: skip


@pytest.mark.parametrize("who", [*ROLES, OUTSIDER])
@pytest.mark.parametrize("step", list(SIDE_STEPS))
def test_side_step(client, world, step, who):
    setup, allowed, hidden, done = SIDE_STEPS[step]
    case, body = setup(world)
    events = CaseEvent.objects.filter(case=case).count()
    client.force_login(world.personas[who])
    response = post(client, reverse(f"api-case-{step}", args=[case.pk]), body)
    case.refresh_from_db()
    if who in allowed:
        assert response.status_code == 200, response.content
        assert done(case)
        return
    expected = (404, "not_found") if who in hidden else (403, "permission_denied")
    assert_error(response, *expected)
    assert CaseEvent.objects.filter(case=case).count() == events


def test_a_decision_names_a_request_of_this_case(client, world):
    _, body = _with_request("return")(world)
    other = world.case(Status.DISPATCHED)
    client.force_login(world.personas["dispatcher"])
    error = assert_error(post(client, reverse("api-case-decide_request", args=[other.pk]), body), 400, "invalid")
    assert "request" in error["details"]


def test_a_decided_request_cannot_be_decided_again(client, world):
    case, body = _with_request("return")(world)
    client.force_login(world.personas["dispatcher"])
    assert post(client, reverse("api-case-decide_request", args=[case.pk]), body).status_code == 200
    assert_error(post(client, reverse("api-case-decide_request", args=[case.pk]), body), 409, "conflict")


def test_a_callback_that_reached_the_citizen_needs_both_answers(client, world):
    case, _ = _called_back(world)
    client.force_login(world.personas["hotline"])
    error = assert_error(post(client, reverse("api-case-callback", args=[case.pk]), {"reached": True}), 400, "invalid")
    assert {"solved", "satisfied"} <= set(error["details"])
    assert Case.objects.get(pk=case.pk).status == Status.VERIFIED


def test_the_detail_shows_requests_and_measure_columns(client, world):
    case, _ = _with_request("return")(world)
    client.force_login(world.personas["dispatcher"])
    body = client.get(reverse("api-case", args=[case.pk])).json()
    assert [r["kind"] for r in body["requests"]] == ["return"] and body["requests"][0]["decision"] == "pending"
    assert body["dispatched_at"] and body["response_due"] and body["rework_count"] == 0


def test_the_side_steps_are_in_the_schema():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for step in SIDE_STEPS:
        responses = paths[f"/api/cases/{{id}}/{step}/"]["post"]["responses"]
        assert set(responses) == STEP_RESPONSES, step
