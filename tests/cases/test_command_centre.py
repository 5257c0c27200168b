"""The case page and the command centre: every path walked through the web forms, refusals, the clock.

The world of test_visibility: a 3 × 3 grid, the grid worker and leader on cell 5,
a CG and an SZ category. Pages speak Chinese by default; the tests match Chinese
where a user reads it, and check the database for what was done.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cases import services
from cases.models import Case, CaseEvent, CaseRequest, Status
from governance.models import Department
from tests.cases.test_photos import exif_block, jpeg, upload
from tests.cases.test_visibility import build_world

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(personas):
    return build_world(personas)


def at(*args):
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def step(client, who, case, name, data=None, files=None, **extra):
    client.force_login(who)
    payload = {f"{name}-{k}" if k != "next" else k: v for k, v in (data or {}).items()}
    payload |= {f"{name}-{k}": v for k, v in (files or {}).items()}
    return client.post(reverse("cases:step", args=[case.pk, name]), payload, **extra)


def actions(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("action", flat=True))


def after_photo():
    return upload(jpeg(exif_block()), name="after.jpg")


def test_the_main_loop_with_rework_and_an_extension_through_the_pages(client, world):
    p = world.personas
    case = world.case(Status.REPORTED)
    r = step(client, p["dispatcher"], case, "register", {"category": world.cg.pk, "severity": "urgent"})
    assert r.status_code == 302 and r["Location"] == reverse("cases:case", args=[case.pk])
    assert step(client, p["dispatcher"], case, "dispatch", {"department": ""}).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.department.code, case.severity) == (Status.DISPATCHED, "CG", "urgent")

    assert step(client, p["cg_handler"], case, "accept", {"note": "收到"}).status_code == 302
    r = step(
        client, p["cg_handler"], case, "extension", {"reason": "需要调机械", "amount": "1", "unit": "working_days"}
    )
    assert r.status_code == 302
    request = CaseRequest.objects.get(case=case)
    client.force_login(p["dispatcher"])
    page = client.get(reverse("command:approvals"))
    assert page.status_code == 200 and case.number in page.content.decode()
    before = Case.objects.get(pk=case.pk).handling_due
    r = step(client, p["dispatcher"], case, "decide", {"request": request.pk, "approve": "yes", "note": "",
                                                        "next": reverse("command:approvals")})  # fmt: skip
    assert r.status_code == 302 and r["Location"] == reverse("command:approvals")
    case.refresh_from_db()
    assert case.extension_count == 1 and case.handling_due > before

    assert (
        step(client, p["cg_handler"], case, "handle", {"note": "已清运"}, {"after_photo": after_photo()}).status_code
        == 302
    )
    r = step(client, p["gridworker"], case, "verify", {"passed": "no", "reason": "仍有垃圾"})
    assert r.status_code == 302
    assert (
        step(client, p["cg_handler"], case, "handle", {"note": "再次清运"}, {"after_photo": after_photo()}).status_code
        == 302
    )
    assert step(client, p["gridworker"], case, "verify", {"passed": "yes", "reason": ""}).status_code == 302
    assert step(client, p["dispatcher"], case, "close", {"reason": ""}).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.rework_count == 1 and case.photos.count() == 2
    assert actions(case) == ["report", "register", "dispatch", "accept", "request_extension", "extend", "handle",
                             "rework", "handle", "verify", "close"]  # fmt: skip


def test_a_return_is_approved_and_re_dispatched_from_the_approvals_page(client, world):
    p = world.personas
    case = world.case(Status.DISPATCHED)
    assert step(client, p["cg_admin"], case, "return", {"reason": "属市政设施"}).status_code == 302
    request = CaseRequest.objects.get(case=case, kind="return")
    sz = Department.objects.get(code="SZ")
    r = step(client, p["dispatcher"], case, "decide", {"request": request.pk, "approve": "yes", "department": sz.pk})
    assert r.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.department.code) == (Status.DISPATCHED, "SZ")
    assert actions(case)[-3:] == ["request_return", "return", "dispatch"]


def test_a_refusal_needs_a_note_and_nothing_is_decided_without_one(client, world):
    p = world.personas
    case = world.case(Status.DISPATCHED)
    services.case_request_suspension(case=case, actor=p["cg_admin"], reason="等待产权单位")
    request = CaseRequest.objects.get(case=case)
    r = step(client, p["dispatcher"], case, "decide", {"request": request.pk, "approve": "no", "note": ""})
    assert r.status_code == 400
    assert "说明拒绝的理由" in r.content.decode() or "理由" in r.content.decode()
    request.refresh_from_db()
    assert request.decision == CaseRequest.Decision.PENDING


def test_suspension_and_resume_credit_the_paused_working_time(client, world):
    p = world.personas
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        case = world.case(Status.DISPATCHED)
        due = case.handling_due
        services.case_request_suspension(case=case, actor=p["cg_admin"], reason="等待产权单位")
        request = CaseRequest.objects.get(case=case)
        step(client, p["dispatcher"], case, "decide", {"request": request.pk, "approve": "yes"})
    with time_machine.travel(at(2026, 11, 23, 11, 0), tick=False):
        assert step(client, p["cg_admin"], case, "resume", {}).status_code == 302
    case.refresh_from_db()
    assert case.suspended_at is None and case.handling_due == due + datetime.timedelta(hours=2)


def test_the_clock_across_national_day_on_the_case_page(client, world):
    """Dispatched on Wednesday 30 September 2026 at 16:00 with 4 working hours: 1.5 h that day, then
    1–7 October are holidays (the weekend among them too); the rest runs on Thursday 8 October: due 11:30."""
    p = world.personas
    with time_machine.travel(at(2026, 9, 30, 15, 0), tick=False):
        case = world.case(Status.REGISTERED)
    with time_machine.travel(at(2026, 9, 30, 16, 0), tick=False):
        step(client, p["dispatcher"], case, "dispatch", {})
    case.refresh_from_db()
    assert case.handling_due == at(2026, 10, 8, 11, 30)
    client.force_login(p["cg_admin"])
    assert "2026-10-08 11:30" in client.get(reverse("cases:case", args=[case.pk])).content.decode()


def test_merge_reopen_and_a_hotline_callback_through_the_pages(client, world):
    p = world.personas
    first, second = world.case(Status.REGISTERED), world.case(Status.REPORTED)
    assert (
        step(client, p["dispatcher"], second, "merge", {"into": first.number, "reason": "同一处垃圾"}).status_code
        == 302
    )
    second.refresh_from_db()
    assert second.status == Status.CLOSED and second.merged_into == first

    closed = world.case(Status.CLOSED)
    assert step(client, p["dispatcher"], closed, "reopen", {"reason": "群众反映复发"}).status_code == 302
    closed.refresh_from_db()
    assert closed.status == Status.DISPATCHED

    call = world.case(Status.VERIFIED, channel="hotline", reporter=p["hotline"])
    r = step(client, p["hotline"], call, "callback", {"reached": "no", "note": "无人接听"})
    assert r.status_code == 302 and Case.objects.get(pk=call.pk).status == Status.VERIFIED
    r = step(
        client,
        p["hotline"],
        call,
        "callback",
        {"reached": "yes", "solved": "no", "satisfied": "no", "note": "仍未解决"},
    )
    call.refresh_from_db()
    assert (call.status, call.callback_solved, call.callback_satisfied) == (Status.DISPATCHED, False, False)
    assert actions(call)[-2:] == ["callback_attempt", "callback"]


def test_a_step_the_state_no_longer_allows_is_a_409_with_the_reason(client, world):
    p = world.personas
    case = world.case(Status.DISPATCHED)
    r = step(client, p["dispatcher"], case, "register", {"category": world.cg.pk})
    assert r.status_code == 409
    assert "不能" in r.content.decode()
    assert actions(case) == ["report", "register", "dispatch"]


def test_a_bad_form_is_a_400_and_nothing_is_saved(client, world):
    p = world.personas
    case = world.case(Status.REPORTED)
    r = step(client, p["dispatcher"], case, "reject", {"reason": "  "})
    assert r.status_code == 400 and Case.objects.get(pk=case.pk).status == Status.REPORTED
    r = step(client, p["dispatcher"], case, "merge", {"into": "no-such", "reason": "重复"})
    assert r.status_code == 400 and "没有" in r.content.decode()


def test_a_handled_step_without_its_after_photo_saves_nothing(client, world):
    p = world.personas
    case = world.case(Status.DISPATCHED)
    r = step(client, p["cg_handler"], case, "handle", {"note": "已清运"}, {"after_photo": upload(b"not a jpeg")})
    assert r.status_code == 400
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.photos.count() == 0


# --- who may ------------------------------------------------------------------------

COMMAND_PAGES = ["command:queue", "command:approvals", "command:overdue", "command:map", "command:map-data"]


@pytest.mark.parametrize("name", COMMAND_PAGES)
@pytest.mark.parametrize(
    "who, expected",
    [("dispatcher", 200), ("leader", 200), ("gridworker", 403), ("gridleader", 403), ("hotline", 403),
     ("cg_admin", 403), ("cg_handler", 403), ("sysadmin", 403), ("outsider", 403)],
)  # fmt: skip
def test_only_the_command_centre_and_leaders_open_its_pages(client, world, name, who, expected):
    world.case(Status.REPORTED)
    client.force_login(world.personas[who])
    assert client.get(reverse(name)).status_code == expected


@pytest.mark.parametrize("name", COMMAND_PAGES)
def test_strangers_are_sent_to_the_login(client, name):
    r = client.get(reverse(name))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


def test_the_case_page_is_for_those_who_may_see_the_case(client, world):
    p = world.personas
    case = world.case(Status.DISPATCHED, cell=1)  # not the grid worker's cell
    url = reverse("cases:case", args=[case.pk])
    for who, expected in [("dispatcher", 200), ("leader", 200), ("cg_admin", 200), ("sz_admin", 404),
                          ("gridworker", 404), ("outsider", 404)]:  # fmt: skip
        client.force_login(p[who])
        assert client.get(url).status_code == expected, who
    client.logout()
    assert client.get(url).status_code == 302


def test_steps_are_offered_to_those_who_may_take_them_and_refused_to_others(client, world):
    p = world.personas
    case = world.case(Status.DISPATCHED)
    client.force_login(p["leader"])
    page = client.get(reverse("cases:case", args=[case.pk])).content.decode()
    assert 'action="/cases/' not in page, "leaders read, never act"
    for who in ("leader", "sz_admin", "outsider", "gridworker"):
        r = step(client, p[who], case, "handle", {"note": "x"}, {"after_photo": after_photo()})
        assert r.status_code in (403, 404), who
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED
    client.force_login(p["cg_handler"])
    page = client.get(reverse("cases:case", args=[case.pk])).content.decode()
    assert reverse("cases:step", args=[case.pk, "handle"]) in page
    assert reverse("cases:step", args=[case.pk, "dispatch"]) not in page


def test_an_unknown_step_is_a_404(client, world):
    case = world.case(Status.REPORTED)
    client.force_login(world.personas["dispatcher"])
    assert client.post(reverse("cases:step", args=[case.pk, "explode"])).status_code == 404
    assert client.get(reverse("cases:step", args=[case.pk, "register"])).status_code == 405


# --- what the pages show ------------------------------------------------------------


def test_the_queue_lists_what_waits_due_first_in_chinese(client, world):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        older = world.case(Status.REPORTED)
    newer = world.case(Status.REGISTERED)
    dispatched = world.case(Status.DISPATCHED)
    client.force_login(world.personas["dispatcher"])
    page = client.get(reverse("command:queue")).content.decode()
    assert "派遣队列" in page or "待" in page
    assert older.number in page and newer.number in page and dispatched.number not in page
    assert page.index(older.number) < page.index(newer.number)
    only = client.get(reverse("command:queue"), {"status": "registered"}).content.decode()
    assert newer.number in only and older.number not in only


def test_the_overdue_board_counts_red_and_yellow_by_department(client, world):
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        late = world.case(Status.DISPATCHED)
    Case.objects.filter(pk=late.pk).update(sla_level="red")
    client.force_login(world.personas["dispatcher"])
    page = client.get(reverse("command:overdue"))
    assert page.status_code == 200
    assert late.number in page.content.decode()
    rows = list(page.context["by_department"])
    assert rows == [{"department__code": "CG", "department__name": rows[0]["department__name"], "red": 1, "yellow": 0}]


def test_the_map_data_is_wgs84_geojson_of_open_cases(client, world):
    open_case, closed = world.case(Status.DISPATCHED), world.case(Status.CLOSED)
    client.force_login(world.personas["dispatcher"])
    data = client.get(reverse("command:map-data")).json()
    numbers = {f["properties"]["number"] for f in data["features"]}
    assert open_case.number in numbers and closed.number not in numbers
    lng, lat = data["features"][0]["geometry"]["coordinates"]
    assert 70 < lng < 140 and 10 < lat < 60
    assert data["truncated"] is False
