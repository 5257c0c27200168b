"""Sign-in protection (issue 8, item 5): lockout per account and per address,
recorded for admins; no HTTP Basic on the API; sessions end after a working day idle.

Most tests here sign in through the login form on purpose: `client.force_login`
skips authentication, so it skips the lockout too.
"""

import json
from base64 import b64encode
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axes.models import AccessFailureLog
from django.conf import settings
from django.http import HttpRequest
from django.test import RequestFactory
from django.urls import Resolver404, resolve, reverse

from governance.lockout import client_ip, lockout_response
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HERE, THERE = "10.0.0.1", "10.0.0.2"
LOCKED_TEXT = "登录失败次数过多"


def sign_in(client, username, password, address=HERE, url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in_as(client):
    return client.get(reverse("api-me")).json().get("username")


def guess(client, username, times, address=HERE, url=None):
    for _ in range(times):
        sign_in(client, username, "not-the-password", address, url)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, personas, clock):
    guess(client, "hotline", 30)
    response = sign_in(client, "hotline", PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED_TEXT in html and "15 分钟" in html
    assert signed_in_as(client) is None
    # Recorded up to the lock; the attempts refused during it cost no database write.
    assert AccessFailureLog.objects.filter(username="hotline").count() == settings.AXES_FAILURE_LIMIT


def test_below_the_limit_the_right_password_still_works(client, personas, clock):
    guess(client, "hotline", settings.AXES_FAILURE_LIMIT - 1)
    assert sign_in(client, "hotline", PASSWORD).status_code == 302
    assert signed_in_as(client) == "hotline"


def test_the_account_is_locked_from_every_address(client, personas, clock):
    guess(client, "hotline", settings.AXES_FAILURE_LIMIT, address=HERE)
    assert sign_in(client, "hotline", PASSWORD, address=THERE).status_code == 429
    assert signed_in_as(client) is None


def test_the_address_is_locked_for_every_account(client, personas, clock):
    # Spraying one guess each at many accounts from one address.
    for n in range(settings.AXES_FAILURE_LIMIT):
        guess(client, f"someone{n}", 1, address=HERE)
    assert sign_in(client, "dispatcher", PASSWORD, address=HERE).status_code == 429
    assert signed_in_as(client) is None
    # The same account from elsewhere is not held responsible for that address.
    assert sign_in(client, "dispatcher", PASSWORD, address=THERE).status_code == 302


def test_after_the_cool_off_the_right_password_works(client, personas, clock):
    guess(client, "hotline", settings.AXES_FAILURE_LIMIT)
    # Attempts during the lock are refused without being counted: they neither
    # write to the database nor move the end of the lock.
    clock.shift(timedelta(minutes=10))
    guess(client, "hotline", 25)
    clock.shift(settings.AXES_COOLOFF_TIME - timedelta(minutes=11))
    assert sign_in(client, "hotline", PASSWORD).status_code == 429
    clock.shift(timedelta(minutes=1, seconds=1))
    assert sign_in(client, "hotline", PASSWORD).status_code == 302
    assert signed_in_as(client) == "hotline"


def test_the_admin_login_is_protected_too(client, personas, clock):
    url = reverse("admin:login")
    guess(client, "sysop", 30, url=url)
    response = sign_in(client, "sysop", PASSWORD, url=url)
    assert response.status_code == 429 and LOCKED_TEXT in response.content.decode()


def test_admins_see_the_attempts_in_chinese(client, personas, clock):
    guess(client, "hotline", 6, address="203.0.113.7")
    client.force_login(personas["sysop"])
    index = client.get(reverse("admin:index")).content.decode()
    assert "登录防护" in index and "登录失败记录" in index
    for name in ["accessattempt", "accessfailurelog"]:
        html = client.get(reverse(f"admin:axes_{name}_changelist")).content.decode()
        assert "hotline" in html and "203.0.113.7" in html, name
    # Unlocking is deleting the attempt.
    attempts = client.get(reverse("admin:axes_accessattempt_changelist")).context["cl"].result_list
    client.post(reverse("admin:axes_accessattempt_delete", args=[attempts[0].pk]), {"post": "yes"})
    assert sign_in(client, "hotline", PASSWORD, address="203.0.113.7").status_code == 302


@pytest.mark.parametrize("name", ["cg_admin", "dispatcher", "outsider"])
def test_only_system_admins_see_the_attempts(client, personas, name):
    client.force_login(personas[name])
    response = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code in (302, 403)


def test_the_api_refuses_http_basic_without_inviting_it(client, personas):
    token = b64encode(f"dispatcher:{PASSWORD}".encode()).decode()
    response = client.get(reverse("api-me"), HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "basic" not in response.get("WWW-Authenticate", "").lower()


def test_the_api_lockout_answers_in_the_api_error_shape(personas):
    response = lockout_response(RequestFactory().post("/api/anything/"))
    assert response.status_code == 429
    error = json.loads(response.content)["error"]
    assert error["code"] == "locked_out" and LOCKED_TEXT in error["message"] and error["details"] == {}


def test_no_browsable_api_login_bypasses_the_lockout():
    with pytest.raises(Resolver404):
        resolve("/api-auth/login/")


def test_forwarded_addresses_count_only_when_configured(client, personas, settings, clock):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9")
    assert client_ip(request) == "192.0.2.1"
    settings.SIGNIN_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client_ip(request) == "198.51.100.9"
    # What the client wrote left of our proxy's entry does not buy a fresh address.
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "hotline", "password": "x"},
                    REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.9")  # fmt: skip
    response = client.post(reverse("login"), {"username": "dispatcher", "password": PASSWORD},
                           REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.9")  # fmt: skip
    assert response.status_code == 429


def test_client_login_works_when_given_a_request(client, personas):
    # The lockout needs the request; tests that sign in with client.login pass one.
    assert client.login(request=HttpRequest(), username="hotline", password=PASSWORD)
    assert signed_in_as(client) == "hotline"


def test_an_idle_session_ends_after_a_working_day(client, personas, clock):
    client.force_login(personas["dispatcher"])
    assert signed_in_as(client) == "dispatcher"
    clock.shift(timedelta(seconds=settings.SESSION_COOKIE_AGE + 60))
    assert signed_in_as(client) is None
    assert client.get(reverse("workspace-command"))["Location"].startswith(reverse("login"))


def test_a_session_in_use_stays_open(client, personas, clock):
    client.force_login(personas["dispatcher"])
    for _ in range(6):  # twelve hours, never idle for more than two
        clock.shift(timedelta(hours=2))
        assert signed_in_as(client) == "dispatcher"
