"""The shipped category set (domain §3, §4, §6) and its idempotent seeding."""

import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from cases.models import UNIT_CHOICES, Category, Severity
from cases.taxonomy import CATEGORIES, CLASSES, seed_categories
from governance.models import Department

pytestmark = pytest.mark.django_db

DEPARTMENT_CODES = {"CG", "SZ", "ZJ", "SW", "YL", "HB", "SJ", "JT", "YJ", "ZZ", "MZ", "WJ", "RS", "JY", "JD"}

# Domain §3: the categories the seed set must contain.
DOMAIN_EXAMPLES = [
    "暴露垃圾", "乱贴小广告", "占道经营", "私搭乱建", "施工扰民", "工地扬尘", "机动车乱停放", "井盖缺失",
    "路灯不亮", "道路坑洼", "交通信号灯故障", "供水管爆裂", "路面积水", "行道树倒伏", "燃气泄漏", "火情",
    "消防通道堵塞", "食品安全", "无证经营", "矛盾纠纷", "噪声扰民", "独居老人求助", "拖欠工资", "学校周边安全",
]  # fmt: skip

# Domain §4: the severity examples, as named in the seed set.
SEVERITY_EXAMPLES = {
    "燃气泄漏": Severity.CRITICAL,
    "火情": Severity.CRITICAL,
    "路面塌陷": Severity.CRITICAL,
    "井盖缺失": Severity.CRITICAL,
    "电线断落": Severity.CRITICAL,
    "人员被困积水": Severity.CRITICAL,
    "井盖破损": Severity.URGENT,
    "交通信号灯故障": Severity.URGENT,
    "供水管爆裂": Severity.URGENT,
    "消防通道堵塞": Severity.URGENT,
    "疑似食物中毒": Severity.URGENT,
    "行道树倾斜": Severity.URGENT,
    "暴露垃圾": Severity.NORMAL,
    "乱贴小广告": Severity.NORMAL,
    "占道经营": Severity.NORMAL,
    "噪声扰民": Severity.NORMAL,
    "机动车乱停放": Severity.NORMAL,
    "公共座椅损坏": Severity.NORMAL,
    "道路标线模糊": Severity.MINOR,
    "信息咨询": Severity.MINOR,
    "意见建议": Severity.MINOR,
}

# Normal categories whose realistic handling limit the brief names.
NORMAL_LIMITS = {
    "暴露垃圾": (Decimal(4), "working_hours"),
    "乱贴小广告": (Decimal(1), "working_days"),
    "私搭乱建": (Decimal(20), "working_days"),
    "道路坑洼": (Decimal(5), "working_days"),
    "拖欠工资": (Decimal(15), "working_days"),
}

WORKING_HOURS_PER_DAY = 7  # the default office day, domain §6


@pytest.fixture
def seeded():
    seed_categories()
    return list(Category.objects.select_related("default_department").filter(code__in={c[1] for c in CATEGORIES}))


def by_name(categories):
    names = Counter(c.name for c in categories)
    assert not [name for name, n in names.items() if n > 1], "category names are unique across kinds"
    return {c.name: c for c in categories}


def in_working_hours(category):
    amount = category.handling_amount
    return amount * WORKING_HOURS_PER_DAY if category.handling_unit == "working_days" else amount


def test_the_seed_set_has_at_least_sixty_categories_and_all_land_in_the_database(seeded):
    assert len(CATEGORIES) >= 60
    assert len(seeded) == len(CATEGORIES)
    in_db = set(Category.objects.values_list("kind", "code"))
    assert {(c[0], c[1]) for c in CATEGORIES} <= in_db
    assert {c.kind for c in seeded} == {Category.Kind.EVENT, Category.Kind.COMPONENT}
    assert all(c.is_active for c in seeded)


def test_every_department_is_a_default_department_at_least_twice(seeded):
    counts = Counter(c.default_department.code for c in seeded)
    assert set(counts) == DEPARTMENT_CODES
    assert set(Department.objects.values_list("code", flat=True)) == DEPARTMENT_CODES
    assert min(counts.values()) >= 2, counts


def test_codes_are_four_digits_unique_per_kind_and_classes_are_coherent(seeded):
    keys = [(kind, code) for kind, code, *_ in CATEGORIES]
    assert len(keys) == len(set(keys))
    class_names = defaultdict(set)
    for category in seeded:
        assert re.fullmatch(r"\d{4}", category.code), category
        assert category.code[2:] != "00", category
        assert category.class_name, category
        class_names[category.kind, category.code[:2]].add(category.class_name)
    # One class name per (kind, class prefix), and it is the declared one.
    for (kind, prefix), names in class_names.items():
        assert names == {CLASSES[kind][prefix]}, (kind, prefix, names)
    # No class name is shared by two prefixes of the same kind.
    for kind in CLASSES:
        names = [CLASSES[kind][prefix] for (k, prefix) in class_names if k == kind]
        assert len(names) == len(set(names)), kind
    # Every declared class is used, and the scheme's classic ones are where 数字城管 puts them.
    assert set(class_names) == {(kind, prefix) for kind, classes in CLASSES.items() for prefix in classes}
    assert CLASSES["event"]["01"] == "市容环境" and CLASSES["event"]["02"] == "宣传广告"
    assert CLASSES["event"]["03"] == "施工管理" and CLASSES["event"]["04"] == "突发事件"
    assert CLASSES["event"]["05"] == "街面秩序" and CLASSES["event"]["06"] == "市场监管"
    assert CLASSES["component"]["01"] == "公用设施" and CLASSES["component"]["02"] == "道路交通"
    assert CLASSES["component"]["03"] == "市容环境" and CLASSES["component"]["04"] == "园林绿化"
    assert Category.objects.get(kind="event", code="0102").name == "暴露垃圾"


def test_every_domain_example_is_present(seeded):
    names = by_name(seeded)
    assert [name for name in DOMAIN_EXAMPLES if name not in names] == []
    # The owners domain §3 gives the examples.
    owners = {
        "暴露垃圾": "CG", "乱贴小广告": "CG", "占道经营": "CG", "私搭乱建": "CG", "井盖缺失": "SZ",
        "路灯不亮": "SZ", "道路坑洼": "SZ", "供水管爆裂": "SW", "路面积水": "SW", "行道树倒伏": "YL",
        "施工扰民": "HB", "食品安全": "SJ", "无证经营": "SJ", "机动车乱停放": "JT", "交通信号灯故障": "JT",
        "燃气泄漏": "YJ", "火情": "YJ", "消防通道堵塞": "YJ", "矛盾纠纷": "ZZ", "噪声扰民": "ZZ",
        "独居老人求助": "MZ", "拖欠工资": "RS", "学校周边安全": "JY",
    }  # fmt: skip
    assert {name: names[name].default_department.code for name in owners} == owners


def test_severity_examples_of_domain_section_4(seeded):
    names = by_name(seeded)
    assert {name: names[name].default_severity for name in SEVERITY_EXAMPLES} == SEVERITY_EXAMPLES
    assert names["井盖缺失"].kind == "component" and "车行道" in names["井盖缺失"].description
    assert {c.default_severity for c in seeded} == set(Severity.values)


def test_handling_limits_follow_severity(seeded):
    units = {value for value, _ in UNIT_CHOICES}
    for c in seeded:
        assert c.handling_unit in units, c
        assert c.handling_amount > 0, c
        if c.default_severity == Severity.CRITICAL:
            assert c.handling_unit == "hours" and c.handling_amount <= 2, c
        elif c.default_severity == Severity.URGENT:
            assert c.handling_unit == "hours" and c.handling_amount <= 24, c
        elif c.default_severity == Severity.NORMAL:
            assert c.handling_unit in ("working_hours", "working_days"), c
            assert 4 <= in_working_hours(c) <= 20 * WORKING_HOURS_PER_DAY, c
        else:
            assert (c.handling_amount, c.handling_unit) == (Decimal(15), "working_days"), c


def test_normal_limits_are_realistic_and_varied(seeded):
    names = by_name(seeded)
    assert {name: (names[name].handling_amount, names[name].handling_unit) for name in NORMAL_LIMITS} == NORMAL_LIMITS
    normal = [c for c in seeded if c.default_severity == Severity.NORMAL]
    spread = {in_working_hours(c) for c in normal}
    assert min(spread) == 4 and max(spread) == 20 * WORKING_HOURS_PER_DAY
    assert len(spread) >= 6
    # The default of domain §6 (3 working days) is among them.
    assert Decimal(3 * WORKING_HOURS_PER_DAY) in spread


def test_names_and_descriptions_are_short_chinese(seeded):
    for c in seeded:
        assert 2 <= len(c.name) <= 10 and re.fullmatch(r"[\u4e00-\u9fff]+", c.name), c
        assert len(c.description) <= 40, c
    described = sum(1 for c in seeded if c.description)
    assert described >= len(seeded) * 3 // 4


def snapshot():
    fields = ["kind", "code", "name", "class_name", "description", "default_department__code"]
    fields += ["default_severity", "handling_amount", "handling_unit", "is_active"]
    return {(row["kind"], row["code"]): row for row in Category.objects.values("id", *fields)}


def test_seeding_twice_leaves_the_same_rows():
    seed_categories()
    before = snapshot()
    assert seed_categories() == {"created": 0, "updated": 0, "unchanged": len(CATEGORIES)}
    assert snapshot() == before


def test_seeding_restores_the_seeded_fields_and_keeps_is_active():
    seed_categories()
    category = Category.objects.get(kind="event", code="0102")
    category.name = "垃圾"
    category.handling_amount = Decimal(9)
    category.default_department = Department.objects.get(code="JD")
    category.is_active = False
    category.save()
    other = Category.objects.get(kind="component", code="0101")
    other.description = "改过的说明"
    other.save()

    assert seed_categories() == {"created": 0, "updated": 2, "unchanged": len(CATEGORIES) - 2}

    category.refresh_from_db()
    assert category.name == "暴露垃圾"
    assert category.handling_amount == Decimal(4) and category.handling_unit == "working_hours"
    assert category.default_department.code == "CG"
    assert category.is_active is False  # an admin's decision to retire it stands
    other.refresh_from_db()
    assert other.description.startswith("车行道")


def test_seeding_recreates_a_deleted_category_and_leaves_other_categories_alone():
    seed_categories()
    Category.objects.filter(kind="component", code="0206").delete()
    extra = Category.objects.create(
        kind="event", code="9901", name="自定义类别", default_department=Department.objects.get(code="JD"),
        default_severity="normal", handling_amount=Decimal(3), handling_unit="working_days",
    )  # fmt: skip

    assert seed_categories()["created"] == 1

    assert Category.objects.get(kind="component", code="0206").name == "道路标线模糊"
    extra.refresh_from_db()
    assert extra.name == "自定义类别"


def test_seeding_with_historical_models_as_a_data_migration_would():
    apps = MigrationLoader(connection).project_state().apps
    Category.objects.all().delete()

    counts = seed_categories(apps=apps)

    assert counts["created"] == len(CATEGORIES)
    assert Category.objects.count() == len(CATEGORIES)
    assert seed_categories(apps=apps)["unchanged"] == len(CATEGORIES)


def test_seeding_without_a_department_says_which_is_missing():
    Department.objects.filter(code="JY").update(code="XX")
    with pytest.raises(LookupError, match="JY"):
        seed_categories()
