"""factory_boy factories and the named personas of permission tests."""

import factory
from django.contrib.auth import get_user_model

from governance import services
from governance.models import Department, Region, Role

PASSWORD = "pw-for-tests-1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["code"]

    code = "330211"
    name = "示范区"
    level = Region.Level.DISTRICT


def district():
    return RegionFactory()


def street(code="330211001", name="东湖街道"):
    return RegionFactory(code=code, name=name, level=Region.Level.STREET, parent=district())


def community(code="330211001001", name="湖滨社区"):
    return RegionFactory(code=code, name=name, level=Region.Level.COMMUNITY, parent=street(code[:9]))


def person(username: str, role: Role, *, department_code: str | None = None, region: Region | None = None, **kw):
    """A user with a role, made through the same service the admin uses."""
    department = Department.objects.get(code=department_code) if department_code else None
    if role in (Role.GRID_WORKER, Role.GRID_LEADER) and region is None:
        region = community()
    return services.staff_upsert(
        username=username, role=role, password=PASSWORD, department=department, region=region, **kw
    ).user
