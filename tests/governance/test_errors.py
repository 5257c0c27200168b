"""One error shape: every /api/ error is {"error": {code, message, details}} in Chinese; pages are Chinese too.

Covers what DRF never sees (no route, a body too large, an escaped exception, a
CSRF failure) and the bounds on bodies and text (governance.api, governance.text).
"""

import json

import pytest
from django.test import Client

from cases.models import Case

pytestmark = pytest.mark.django_db

CREATE = "/api/cases/create/"


def logged_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"]), "the message is Chinese"
    return body["error"]


def test_an_unknown_api_address_answers_json_404(personas):
    error = assert_error(logged_in(personas["dispatcher"]).get("/api/no-such-thing/"), 404, "not_found")
    assert error["details"] == {"path": "/api/no-such-thing/"}
    assert_error(Client().post("/api/cases/999999999/nonsense/"), 404, "not_found")


def test_an_unknown_page_answers_the_chinese_404_page(personas):
    response = logged_in(personas["dispatcher"]).get("/no-such-page/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


def test_a_json_body_over_the_limit_answers_413(personas, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = json.dumps({"description": "路灯不亮" * 2000})
    response = logged_in(personas["hotline"]).post(CREATE, body, content_type="application/json")
    assert_error(response, 413, "too_large")
    assert not Case.objects.exists()


def test_an_upload_over_the_limit_is_refused_from_its_length(personas, settings):
    settings.API_MAX_UPLOAD_BYTES = 1024
    client = logged_in(personas["dispatcher"])
    case = client.post(CREATE, {"description": "井盖缺失"}, content_type="application/json").json()
    response = client.post(f"/api/cases/{case['id']}/photos/", {"kind": "before", "image": b"x" * 4096})
    assert_error(response, 413, "too_large")
    assert not Case.objects.get().photos.exists()


def test_a_form_over_the_limit_on_a_page_answers_the_413_page(personas, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = Client().post("/login/", {"username": "x" * 4096, "password": "y"})
    assert response.status_code == 413 and "请求内容过大" in response.content.decode()


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,  # RecursionError in the parser
        '{"description": ' + "[" * 40 + "]" * 40 + "}",  # under the parser's limit, over ours
        '{"description": "x", "lng": NaN, "lat": 30}',
        '{"description": "x", "lng": Infinity, "lat": 30}',
        '{"description": "unterminated',
        b'{"description": "\xff\xfe"}',
    ],
    ids=["5000-deep", "40-deep", "NaN", "Infinity", "truncated", "not-utf8"],
)
def test_hostile_json_answers_400_not_500(personas, body):
    response = logged_in(personas["hotline"]).post(CREATE, body, content_type="application/json")
    assert_error(response, 400, "parse_error")
    assert not Case.objects.exists()


def test_wrong_method_and_wrong_media_type(personas):
    client = logged_in(personas["hotline"])
    assert_error(client.get(CREATE), 405, "method_not_allowed")
    response = client.post(CREATE, "description=x", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_strangers_outsiders_and_forged_posts(personas):
    assert_error(Client().get("/api/cases/"), 401, "not_authenticated")
    assert_error(logged_in(personas["outsider"]).get("/api/cases/"), 403, "permission_denied")
    forged = logged_in(personas["hotline"], enforce_csrf_checks=True)
    response = forged.post(CREATE, {"description": "x"}, content_type="application/json")
    assert_error(response, 403, "csrf_failed")  # DRF's own CSRF check, in the same shape as a page's
    assert not Case.objects.exists()


def test_an_exception_escaping_a_view_answers_json_500(personas, monkeypatch):
    from cases import selectors

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "case_list", broken)
    response = logged_in(personas["dispatcher"], raise_request_exception=False).get("/api/cases/")
    error = assert_error(response, 500, "server_error")
    assert "boom" not in json.dumps(error), "nothing of the exception reaches the client"


def test_an_exception_on_a_page_answers_the_chinese_500_page(personas, monkeypatch):
    from governance import views

    monkeypatch.setattr(views, "render", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    response = logged_in(personas["dispatcher"], raise_request_exception=False).get("/workspace/command/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "服务器错误" in page and "boom" not in page


def test_text_is_cleaned_and_bounded(personas):
    client = logged_in(personas["hotline"])
    typed = "井盖\u202e缺失\x00\x1b[31m，\u2066请尽快\u2069处理\r\n第二行"
    response = client.post(
        CREATE, {"description": typed, "address": "湖滨路\u200f1号"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.description == "井盖缺失[31m，请尽快处理\n第二行"
    assert case.address == "湖滨路1号"
    response = client.post(CREATE, {"description": "长" * 2001}, content_type="application/json")
    error = assert_error(response, 400, "invalid")
    assert list(error["details"]) == ["description"]
    assert Case.objects.count() == 1


def test_a_deadline_in_year_9999_is_a_clear_400(personas):
    client = logged_in(personas["dispatcher"])
    url = "/api/calendar/deadline/?start=9999-12-31T16:00:00%2B08:00&amount=5&unit=working_days"
    error = assert_error(client.get(url), 400, "invalid")
    assert list(error["details"]) == ["start"]


def test_text_saved_through_any_channel_is_stored_without_unsafe_characters():
    """The admin, imports, commands and services all save through the ORM: the floor under forms and the API."""
    from governance.models import Department

    department = Department.objects.get(code="CG")
    department.duties = "市容\u202e秩序\x07，违法\u2067建设"
    department.save()
    department.refresh_from_db()
    assert department.duties == "市容秩序，违法建设"


@pytest.mark.parametrize("debug", [False, True], ids=["production", "DEBUG"])
def test_errors_no_view_answered_keep_the_shape_even_with_debug_on(personas, settings, debug, monkeypatch):
    """make run serves with DEBUG on, where Django answers these with its technical pages."""
    from cases import selectors

    settings.DEBUG = debug
    client = logged_in(personas["dispatcher"], raise_request_exception=False)
    assert_error(client.get("/api/no-such-thing/"), 404, "not_found")
    body = json.dumps({"description": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    assert_error(client.post(CREATE, body, content_type="application/json"), 413, "too_large")
    assert not Case.objects.exists()
    monkeypatch.setattr(selectors, "case_list", lambda **kwargs: 1 / 0)
    assert "ZeroDivisionError" not in json.dumps(assert_error(client.get("/api/cases/"), 500, "server_error"))
