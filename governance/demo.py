"""The demo city: a district, its streets and communities, and one login per role.

Idempotent: running it again updates the same rows (and resets the demo
passwords to the printed ones) instead of adding more. Later apps add their
own demo data on top (layers, the unified grid, cases).
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import transaction

from governance import services
from governance.demo_layout import BLOCK, DISTRICT, ORIGIN, STREETS
from governance.models import Department, Region, Role


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    where: str


def _block(col: int, row: int) -> MultiPolygon:
    x0, y0 = ORIGIN[0] + col * BLOCK[0], ORIGIN[1] + row * BLOCK[1]
    x1, y1 = x0 + BLOCK[0], y0 + BLOCK[1]
    return MultiPolygon(Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))), srid=4326)


def _upsert_region(code, name, level, parent, boundary=None) -> Region:
    # A boundary already there is kept: the grids demo replaces these blocks
    # with surveyed-looking outlines, and its cells were cut from those.
    region, _ = Region.objects.update_or_create(
        code=code, defaults={"name": name, "level": level, "parent": parent},
        create_defaults={"name": name, "level": level, "parent": parent, "boundary": boundary},
    )  # fmt: skip
    return region


def seed_regions() -> dict[str, Region]:
    district = _upsert_region(DISTRICT[0], DISTRICT[1], Region.Level.DISTRICT, None)
    regions = {district.code: district}
    for s_index, (s_code, s_name, communities) in enumerate(STREETS):
        street_blocks = []
        for c_index in range(len(communities)):
            col = (s_index % 2) * 2 + c_index % 2
            row = (s_index // 2) * 2 + c_index // 2
            street_blocks.append(_block(col, row))
        street = _upsert_region(district.code + s_code, s_name, Region.Level.STREET, district, _union(street_blocks))
        regions[street.code] = street
        for c_index, c_name in enumerate(communities):
            community = _upsert_region(
                f"{street.code}{c_index + 1:03d}", c_name, Region.Level.COMMUNITY, street, street_blocks[c_index]
            )
            regions[community.code] = community
    if district.boundary is None:
        district.boundary = _union(r.boundary for r in regions.values() if r.level == Region.Level.STREET)
        district.save(update_fields=["boundary"])
    return regions


def _union(geometries):
    geometries = list(geometries)
    result = geometries[0]
    for geometry in geometries[1:]:
        result = result.union(geometry)
    return result if result.geom_type == "MultiPolygon" else MultiPolygon(result, srid=4326)


@transaction.atomic
def seed_people(*, password: str, regions: dict[str, Region]) -> list[DemoLogin]:
    cg, sz = Department.objects.get(code="CG"), Department.objects.get(code="SZ")
    street, community = regions["330211001"], regions["330211001001"]
    people = [
        ("admin", Role.SYSTEM_ADMIN, "系统管理员", {"is_superuser": True}),
        ("dispatcher", Role.DISPATCHER, "指挥中心调度员", {}),
        ("hotline", Role.HOTLINE_AGENT, "12345坐席", {}),
        ("leader", Role.LEADER, "区领导", {}),
        ("gridleader", Role.GRID_LEADER, "东湖街道网格长", {"region": street}),
        ("gridworker", Role.GRID_WORKER, "湖滨社区网格员", {"region": community}),
        ("cg_admin", Role.DEPARTMENT_ADMIN, "城管局管理员", {"department": cg}),
        ("cg_handler", Role.DEPARTMENT_HANDLER, "城管局处置人员", {"department": cg}),
        ("sz_admin", Role.DEPARTMENT_ADMIN, "市政管理员", {"department": sz}),
    ]
    logins = []
    for index, (username, role, name, extra) in enumerate(people):
        profile = services.staff_upsert(
            username=username, role=role, full_name=name, password=password, phone=f"1380000{index:04d}", **extra
        )
        where = str(profile.department or profile.region or "")
        logins.append(DemoLogin(username, role, where))
    # Every other department has a handler too, so each step of a demo case has a real actor.
    # (Not listed one by one: the printed logins stay readable; their names are <code>_handler.)
    for index, department in enumerate(Department.objects.exclude(code__in=["CG"]).order_by("code")):
        services.staff_upsert(
            username=f"{department.code.lower()}_handler", role=Role.DEPARTMENT_HANDLER,
            full_name=f"{department.name}处置人员", password=password, phone=f"1390000{index:04d}",
            department=department,
        )  # fmt: skip
    _set_head(cg, "cg_admin", "0574-87000001")
    _set_head(sz, "sz_admin", "0574-87000002")
    return logins


def _set_head(department: Department, username: str, phone: str) -> None:
    department.head = get_user_model().objects.get(username=username)
    department.contact_phone = phone
    department.save(update_fields=["head", "contact_phone"])


def seed_demo(*, password: str) -> list[DemoLogin]:
    with transaction.atomic():
        regions = seed_regions()
        return seed_people(password=password, regions=regions)
