"""No one below superuser becomes one (issue 8, item 4).

Sam (`sysop`) is a system admin who is not a superuser. Every way the admin
offers to raise a login's privileges is tried through real requests, and each
must be refused or ignored with the database unchanged; what Sam is there for
(logins, their role, department and region) still works, and the superuser
(`sysadmin`) can still do everything.
"""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from governance.models import Role, StaffProfile
from tests.factories import PASSWORD, community

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Quite-unusual-2026"


@pytest.fixture
def sam(client, personas):
    client.force_login(personas["sysop"])
    return client


def change_url(user):
    return reverse("admin:auth_user_change", args=[user.pk])


def snapshot(user):
    user = User.objects.get(pk=user.pk)
    return (
        user.is_superuser,
        user.is_staff,
        user.is_active,
        user.password,
        sorted(user.groups.values_list("name", flat=True)),
        sorted(user.user_permissions.values_list("codename", flat=True)),
    )


def change_form(user, *, role=None, region=None, department=None, **extra):
    """What the change form posts for `user`, plus whatever an attacker adds."""
    profile = StaffProfile.objects.filter(user=user).first()
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": "", "email": "",
        "is_active": "on", "_save": "Save",
        "profile-TOTAL_FORMS": "1", "profile-INITIAL_FORMS": "1" if profile else "0",
        "profile-MIN_NUM_FORMS": "0", "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": profile.pk if profile else "", "profile-0-user": user.pk,
        "profile-0-role": role or (profile.role if profile else ""),
        "profile-0-department": department or (profile.department_id if profile and profile.department_id else ""),
        "profile-0-region": region or (profile.region_id if profile and profile.region_id else ""),
        "profile-0-phone": "",
    }  # fmt: skip
    data.update(extra)
    return data


def escalation(**extra):
    """The fields Django's stock user admin would have honoured."""
    return {
        "is_superuser": "on",
        "is_staff": "on",
        "groups": [Group.objects.get(name=Role.SYSTEM_ADMIN).pk],
        "user_permissions": [Permission.objects.get(codename="change_group").pk],
        "password": "pbkdf2_sha256$1$x$y",
        **extra,
    }


# --- What Sam sees -------------------------------------------------------------


def test_sam_sees_no_privilege_fields_on_the_change_form(sam, personas):
    html = sam.get(change_url(personas["gridworker"])).content.decode()
    for name in ["is_superuser", "is_staff", "id_groups", "user_permissions", "../password/"]:
        assert name not in html, name
    assert 'name="is_active"' in html and 'name="profile-0-role"' in html


def test_superusers_are_out_of_sams_sight(sam, personas):
    html = sam.get(reverse("admin:auth_user_changelist")).content.decode()
    assert ">gridworker<" in html and ">sysadmin<" not in html
    response = sam.get(change_url(personas["sysadmin"]))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    profiles = sam.get(reverse("admin:governance_staffprofile_changelist")).content.decode()
    assert "gridworker" in profiles and "sysadmin" not in profiles


# --- Each escalation, refused ----------------------------------------------------


@pytest.mark.parametrize("target", ["gridworker", "sysop"])
def test_posting_privilege_fields_changes_nothing(sam, personas, target):
    user = personas[target]
    before = snapshot(user)
    response = sam.post(change_url(user), change_form(user, first_name="改过", **escalation()))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert snapshot(user) == before
    assert User.objects.get(pk=user.pk).first_name == "改过"  # the form itself did save


def test_a_superuser_cannot_be_changed_or_deactivated(sam, personas):
    su = personas["sysadmin"]
    before = snapshot(su)
    response = sam.post(change_url(su), change_form(su, is_active="", username="taken-over"))
    assert response.status_code == 302
    assert snapshot(su) == before and User.objects.filter(username="sysadmin").exists()


@pytest.mark.parametrize("target", ["sysadmin", "gridworker", "cg_admin"])
def test_others_passwords_are_out_of_reach(sam, personas, target):
    user = personas[target]
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    before = snapshot(user)
    assert sam.get(url).status_code == 403
    form = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    assert sam.post(url, form).status_code == 403
    assert snapshot(user) == before


def test_own_password_goes_through_the_page_that_asks_for_the_old_one(sam, personas):
    own = reverse("admin:auth_user_password_change", args=[personas["sysop"].pk])
    assert sam.get(own)["Location"] == reverse("admin:password_change")
    form = {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert sam.post(reverse("admin:password_change"), form).status_code == 200
    assert User.objects.get(username="sysop").check_password(PASSWORD)
    form["old_password"] = PASSWORD
    assert sam.post(reverse("admin:password_change"), form).status_code == 302
    assert User.objects.get(username="sysop").check_password(NEW_PASSWORD)


def test_groups_and_permissions_are_superuser_only(sam):
    group = Group.objects.get(name=Role.GRID_WORKER)
    before = set(group.permissions.all())
    everything = list(Permission.objects.values_list("pk", flat=True))
    for url in [reverse("admin:auth_group_changelist"), reverse("admin:auth_group_add"),
                reverse("admin:auth_group_change", args=[group.pk])]:  # fmt: skip
        assert sam.get(url).status_code == 403, url
    response = sam.post(reverse("admin:auth_group_change", args=[group.pk]),
                        {"name": group.name, "permissions": everything})  # fmt: skip
    assert response.status_code == 403
    response = sam.post(reverse("admin:auth_group_add"), {"name": "root", "permissions": everything})
    assert response.status_code == 403
    assert set(group.permissions.all()) == before and not Group.objects.filter(name="root").exists()
    # Permission rows have no admin at all.
    assert sam.get("/admin/auth/permission/").status_code == 404
    assert "/admin/auth/group/" not in sam.get(reverse("admin:index")).content.decode()


def test_adding_a_login_cannot_make_a_superuser(sam):
    data = {
        "username": "mallory", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "profile-TOTAL_FORMS": "0", "profile-INITIAL_FORMS": "0",
        "profile-MIN_NUM_FORMS": "0", "profile-MAX_NUM_FORMS": "1", "_save": "Save",
        **escalation(),
    }  # fmt: skip
    assert sam.post(reverse("admin:auth_user_add"), data).status_code == 302
    mallory = User.objects.get(username="mallory")
    assert snapshot(mallory)[:2] == (False, False) and snapshot(mallory)[4:] == ([], [])


def test_bulk_actions_skip_superusers_and_oneself_and_cannot_delete(sam, personas):
    picked = [personas[name].pk for name in ["sysadmin", "sysop", "gridworker"]]
    url = reverse("admin:auth_user_changelist")
    sam.post(url, {"action": "deactivate", "_selected_action": picked})
    active = dict(User.objects.filter(pk__in=picked).values_list("username", "is_active"))
    assert active == {"sysadmin": True, "sysop": True, "gridworker": False}
    sam.post(url, {"action": "delete_selected", "_selected_action": picked, "post": "yes"})
    assert User.objects.filter(pk__in=picked).count() == 3
    sam.post(url, {"action": "activate", "_selected_action": picked})
    assert User.objects.get(pk=personas["gridworker"].pk).is_active


def test_a_profile_cannot_be_made_for_or_moved_to_a_superuser(sam, personas):
    bare_su = User.objects.create_superuser("root2", password=NEW_PASSWORD)
    data = {"user": bare_su.pk, "role": Role.GRID_WORKER, "region": community().pk, "department": "", "phone": ""}
    response = sam.post(reverse("admin:governance_staffprofile_add"), data)
    assert response.status_code == 200 and not StaffProfile.objects.filter(user=bare_su).exists()
    profile = StaffProfile.objects.get(user=personas["gridworker"])
    data["role"] = Role.SYSTEM_ADMIN
    sam.post(reverse("admin:governance_staffprofile_change", args=[profile.pk]), data)
    profile.refresh_from_db()
    assert profile.user == personas["gridworker"] and profile.role == Role.SYSTEM_ADMIN
    assert not StaffProfile.objects.filter(user=bare_su).exists()


def test_department_admins_cannot_reach_logins(client, personas):
    client.force_login(personas["cg_admin"])
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_user_change", args=[personas["cg_handler"].pk])).status_code == 403


# --- What Sam is there for ---------------------------------------------------------


def test_sam_creates_a_grid_worker_then_makes_them_a_department_admin(sam, personas):
    region = community()
    data = {
        "username": "wang.wu", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "profile-TOTAL_FORMS": "1", "profile-INITIAL_FORMS": "0", "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1", "profile-0-role": Role.GRID_WORKER, "profile-0-region": region.pk,
        "profile-0-department": "", "profile-0-phone": "13800000000", "_save": "Save",
    }  # fmt: skip
    assert sam.post(reverse("admin:auth_user_add"), data).status_code == 302
    wang = User.objects.get(username="wang.wu")
    assert wang.check_password(NEW_PASSWORD) and wang.profile.role == Role.GRID_WORKER
    assert snapshot(wang)[:2] == (False, False) and snapshot(wang)[4] == [Role.GRID_WORKER]

    from governance.models import Department

    cg = Department.objects.get(code="CG")
    response = sam.post(change_url(wang), change_form(wang, role=Role.DEPARTMENT_ADMIN, department=cg.pk))
    assert response.status_code == 302
    assert snapshot(wang)[:2] == (False, True) and snapshot(wang)[4] == [Role.DEPARTMENT_ADMIN]


def test_deleting_a_profile_takes_the_role_away(sam, personas):
    profile = StaffProfile.objects.get(user=personas["cg_admin"])
    url = reverse("admin:governance_staffprofile_delete", args=[profile.pk])
    assert sam.post(url, {"post": "yes"}).status_code == 302
    assert snapshot(personas["cg_admin"])[1] is False and snapshot(personas["cg_admin"])[4] == []


def test_the_superuser_still_can_do_everything(client, personas):
    client.force_login(personas["sysadmin"])
    worker = personas["gridworker"]
    html = client.get(change_url(worker)).content.decode()
    assert 'name="is_superuser"' in html and "../password/" in html
    joined = {"date_joined_0": "2026-01-05", "date_joined_1": "09:00:00"}  # editable for superusers only
    response = client.post(change_url(worker), change_form(worker, **escalation(password=""), **joined))
    assert response.status_code == 302 and snapshot(worker)[0] is True
    url = reverse("admin:auth_user_password_change", args=[worker.pk])
    form = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    assert client.post(url, form).status_code == 302
    assert User.objects.get(pk=worker.pk).check_password(NEW_PASSWORD)
    group = Group.objects.get(name=Role.LEADER)
    response = client.post(reverse("admin:auth_group_change", args=[group.pk]), {"name": group.name, "permissions": []})
    assert response.status_code == 302 and not group.permissions.exists()
