"""The home page sends each role to its place; every page refuses outsiders."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

WORKSPACES = {
    "workspace-grid": {"gridworker", "gridleader"},
    "workspace-hotline": {"hotline"},
    "workspace-command": {"dispatcher"},
    "workspace-dashboard": {"leader"},
}


@pytest.mark.parametrize(
    "persona, target",
    [
        ("gridworker", "/workspace/grid/"),
        ("gridleader", "/workspace/grid/"),
        ("hotline", "/workspace/hotline/"),
        ("dispatcher", "/workspace/command/"),
        ("leader", "/workspace/dashboard/"),
        ("cg_admin", "/admin/"),
        ("cg_handler", "/admin/"),
        ("sysadmin", "/admin/"),
    ],
)
def test_home_sends_each_role_to_its_place(client, personas, persona, target):
    client.force_login(personas[persona])
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == target


def test_login_without_role_is_told_why(client, personas):
    client.force_login(personas["outsider"])
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "没有角色" in response.content.decode() or "no role" in response.content.decode().lower()


def test_anonymous_is_sent_to_login(client):
    for name in ["home", *WORKSPACES]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("page", list(WORKSPACES))
def test_each_workspace_admits_its_roles_only(client, personas, page):
    for name, user in personas.items():
        client.force_login(user)
        response = client.get(reverse(page))
        expected = 200 if name in WORKSPACES[page] else 403
        assert response.status_code == expected, (name, page, response.status_code)


def test_workspace_shows_chinese_by_default(client, personas):
    client.force_login(personas["gridworker"])
    html = client.get(reverse("workspace-grid")).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "我的网格" in html
    assert "湖滨社区" in html
    assert "城市管理综合执法局" in html  # the department directory


def test_english_is_one_switch_away(client, personas):
    client.force_login(personas["dispatcher"])
    response = client.post(reverse("set_language"), {"language": "en", "next": "/workspace/command/"})
    assert response.status_code == 302
    html = client.get(reverse("workspace-command")).content.decode()
    assert '<html lang="en">' in html
    assert "Command centre" in html


def test_login_page_in_chinese_and_login_works(client, personas):
    page = client.get(reverse("login")).content.decode()
    assert "登录" in page
    response = client.post(reverse("login"), {"username": "hotline", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"] == "/workspace/hotline/"


def test_bad_login_answers_in_chinese(client, personas):
    response = client.post(reverse("login"), {"username": "hotline", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_logout_needs_post_and_ends_session(client, personas):
    client.force_login(personas["leader"])
    client.post(reverse("logout"))
    assert client.get(reverse("workspace-dashboard")).status_code == 302
