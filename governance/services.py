"""Writes of the organisation: people and their roles."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from governance.models import Department, Region, Role, StaffProfile
from governance.roles import ADMIN_SITE_ROLES

User = get_user_model()


def staff_sync_role(*, profile: StaffProfile) -> None:
    """Make the user's groups and admin access follow the profile's role."""
    user = profile.user
    role_groups = Group.objects.filter(name__in=[r.value for r in Role])
    user.groups.remove(*role_groups.exclude(name=profile.role))
    user.groups.add(Group.objects.get(name=profile.role))
    is_staff = profile.role in ADMIN_SITE_ROLES or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


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
