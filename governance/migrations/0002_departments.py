"""The 15 departments of domain §3, so that a fresh database has them.

A frozen copy of the list: later edits by admins are theirs to keep, and a
re-run (e.g. migrating back and forth) never overwrites them.
"""

from django.db import migrations

DEPARTMENTS = [
    ("CG", "城市管理综合执法局", "市容秩序、占道经营、违法建设、户外广告、环境卫生"),
    ("SZ", "市政设施管理处", "道路、人行道、井盖、路灯、桥梁、护栏"),
    ("ZJ", "住房和城乡建设局", "房屋安全、物业管理、建筑工地"),
    ("SW", "水务局", "供水管网、停水、积水内涝、排水、污水"),
    ("YL", "园林绿化局", "行道树、绿地"),
    ("HB", "生态环境局", "污染、工业及施工噪声、扬尘、焚烧"),
    ("SJ", "市场监督管理局", "食品安全、无证经营、消费欺诈、价格"),
    ("JT", "交通运输局/交警大队", "停车秩序、信号灯、交通标志、共享单车、僵尸车"),
    ("YJ", "应急管理局", "燃气泄漏、火情、消防通道堵塞、安全生产"),
    ("ZZ", "政法委综治中心/派出所", "矛盾纠纷、治安隐患、社会生活噪声"),
    ("MZ", "民政局", "困难群众、独居老人、流浪乞讨人员"),
    ("WJ", "卫生健康委员会", "诊所、疫情防控、公共场所卫生"),
    ("RS", "人力资源和社会保障局", "拖欠工资、社会保险、就业"),
    ("JY", "教育局", "学校、幼儿园、校外培训"),
    ("JD", "街道办事处", "无明确主管部门事项的属地兜底"),
]


def create(apps, schema_editor):
    Department = apps.get_model("governance", "Department")
    for code, name, duties in DEPARTMENTS:
        Department.objects.get_or_create(code=code, defaults={"name": name, "duties": duties})


def remove(apps, schema_editor):
    apps.get_model("governance", "Department").objects.filter(
        code__in=[code for code, _, _ in DEPARTMENTS], staff__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
