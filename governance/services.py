"""Writes of the organisation: people and their roles."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from governance.models import Department, Region, Role, StaffProfile
from governance.roles import ADMIN_SITE_ROLES

User = get_user_model()


def _role_groups():
    return Group.objects.filter(name__in=[r.value for r in Role])


def _set_is_staff(user, is_staff: bool) -> None:
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


def staff_sync_role(*, profile: StaffProfile) -> None:
    """Make the user's groups and admin access follow the profile's role.

    The one place a role becomes groups and is_staff: the admin lets no one
    below superuser edit groups, permissions or is_staff directly.
    """
    user = profile.user
    user.groups.remove(*_role_groups().exclude(name=profile.role))
    user.groups.add(Group.objects.get(name=profile.role))
    _set_is_staff(user, profile.role in ADMIN_SITE_ROLES or user.is_superuser)


@transaction.atomic
def staff_profile_delete(*, profile: StaffProfile) -> None:
    """Remove a person's profile and with it what the role gave: its group and admin access."""
    user = profile.user
    profile.delete()
    user.groups.remove(*_role_groups())
    _set_is_staff(user, user.is_superuser)


def staff_set_active(*, actor, users, active: bool) -> int:
    """Let logins in or keep them out; returns how many changed.

    Only a superuser may touch a superuser's login, and no one their own: a
    system admin who locked themself out would need a superuser to get back in.
    """
    users = users.exclude(pk=actor.pk).exclude(is_active=active)
    if not actor.is_superuser:
        users = users.filter(is_superuser=False)
    return users.update(is_active=active)


@transaction.atomic
def staff_upsert(
    *,
    username: str,
    role: Role,
    full_name: str = "",
    password: str | None = None,
    department: Department | None = None,
    region: Region | None = None,
    phone: str = "",
    is_superuser: bool = False,
) -> StaffProfile:
    """Create or update a person with a role; validates like the admin does."""
    user, _ = User.objects.get_or_create(username=username)
    user.first_name = full_name
    user.is_superuser = is_superuser
    if password is not None:
        user.set_password(password)
    user.save()
    profile = StaffProfile.objects.filter(user=user).first() or StaffProfile(user=user)
    profile.role, profile.department, profile.region, profile.phone = role, department, region, phone
    profile.full_clean()
    profile.save()
    staff_sync_role(profile=profile)
    return profile
