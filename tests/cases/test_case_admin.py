"""Department staff work their cases in the admin: only their own, each step a page calling the services."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from cases import services
from cases.models import Case, CasePhoto, Category, Status
from tests.grids.factories import cell_centre, square_grid_version

pytestmark = pytest.mark.django_db


def jpeg(name="after.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 160, 90)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def dispatched(personas):
    square_grid_version()
    lng, lat = cell_centre(5)
    case = services.case_report(channel="grid_worker", description="人行道暴露垃圾", lng=lng, lat=lat,
                                reporter=personas["gridworker"])  # fmt: skip
    services.case_register(
        case=case, actor=personas["dispatcher"], category=Category.objects.get(code="0102", kind="event")
    )
    services.case_dispatch(case=case, actor=personas["dispatcher"])
    assert case.department.code == "CG"
    return case


def test_department_admin_lists_their_own_cases_only(client, personas, dispatched):
    client.force_login(personas["cg_admin"])
    page = client.get(reverse("admin:cases_case_changelist")).content.decode()
    assert dispatched.number in page and "case-deadline" in page  # the coloured deadline
    client.force_login(personas["sz_admin"])
    assert dispatched.number not in client.get(reverse("admin:cases_case_changelist")).content.decode()
    assert client.get(reverse("admin:cases_case_change", args=[dispatched.pk])).status_code == 302
    assert client.get(reverse("admin:cases_case_handle", args=[dispatched.pk])).status_code == 403


def test_the_case_page_shows_history_map_and_the_allowed_steps(client, personas, dispatched):
    client.force_login(personas["cg_handler"])
    html = client.get(reverse("admin:cases_case_change", args=[dispatched.pk])).content.decode()
    for step in ["accept", "handle", "extension", "return"]:
        assert reverse(f"admin:cases_case_{step}", args=[dispatched.pk]) in html
    assert "ol.js" in html and f"case-map-{dispatched.pk}" in html
    assert html.count("<tr") >= 4  # report, register, dispatch events
    client.force_login(personas["leader"])
    html = client.get(reverse("admin:cases_case_change", args=[dispatched.pk])).content.decode()
    assert reverse("admin:cases_case_handle", args=[dispatched.pk]) not in html


def test_accept_then_handle_with_an_after_photo(client, personas, dispatched):
    client.force_login(personas["cg_handler"])
    accept = reverse("admin:cases_case_accept", args=[dispatched.pk])
    assert client.post(accept, {"note": "已签收"}).status_code == 302
    again = client.post(accept, {"note": ""}, follow=True)
    assert again.status_code == 200 and dispatched.events.filter(action="accept").count() == 1
    handle = reverse("admin:cases_case_handle", args=[dispatched.pk])
    no_photo = client.post(handle, {"note": "已清运"})
    assert no_photo.status_code == 200 and Case.objects.get(pk=dispatched.pk).status == Status.DISPATCHED
    assert client.post(handle, {"note": "已清运", "after_photo": jpeg()}).status_code == 302
    dispatched.refresh_from_db()
    assert dispatched.status == Status.HANDLED
    assert dispatched.photos.get().kind == CasePhoto.Kind.AFTER
    assert [e.action for e in dispatched.events.order_by("pk")][-2:] == ["accept", "handle"]


def test_a_bad_photo_leaves_the_case_unhandled(client, personas, dispatched):
    client.force_login(personas["cg_handler"])
    fake = SimpleUploadedFile("after.jpg", b"not an image", content_type="image/jpeg")
    response = client.post(reverse("admin:cases_case_handle", args=[dispatched.pk]), {"note": "x", "after_photo": fake})
    assert response.status_code == 200
    dispatched.refresh_from_db()
    assert dispatched.status == Status.DISPATCHED and not dispatched.photos.exists()


def test_extension_and_return_requests_from_the_admin(client, personas, dispatched):
    client.force_login(personas["cg_admin"])
    url = reverse("admin:cases_case_extension", args=[dispatched.pk])
    assert client.post(url, {"reason": "需协调物业", "amount": "2", "unit": "working_days"}).status_code == 302
    assert dispatched.requests.get().kind == "extension"
    twice = client.post(url, {"reason": "再次", "amount": "1", "unit": "working_days"}, follow=True)
    assert twice.status_code == 200 and dispatched.requests.count() == 1  # the error is a message, not a 500
    assert (
        client.post(reverse("admin:cases_case_return", args=[dispatched.pk]), {"reason": "非本部门"}).status_code == 302
    )
    assert dispatched.requests.filter(kind="return").exists()


def test_wrong_state_is_a_message_not_a_500(client, personas, dispatched):
    services.case_handle(case=dispatched, actor=personas["cg_handler"])
    client.force_login(personas["cg_handler"])
    response = client.post(reverse("admin:cases_case_accept", args=[dispatched.pk]), {"note": ""}, follow=True)
    assert response.status_code == 200 and dispatched.number in response.content.decode()


def test_outsider_and_field_staff_are_refused(client, personas, dispatched):
    for name in ["outsider", "gridworker", "hotline"]:
        client.force_login(personas[name])
        response = client.get(reverse("admin:cases_case_changelist"))
        assert response.status_code == 302 and "/login/" in response["Location"], name
        assert client.get(reverse("admin:cases_case_handle", args=[dispatched.pk])).status_code == 302, name
