"""The category set the product ships (数字城管 events 事件 and components 部件, domain §3).

Codes follow the GB/T 30428.2 / CJ/T 214 pattern: 2-digit class + 2-digit
subclass, unique per kind (event 0102 暴露垃圾 and component 0102 井盖破损 are
different categories). Each row names its default department (the 2-letter
code of governance.Department), default severity (domain §4) and handling
limit (domain §6): critical 2 hours and urgent 24 hours on the natural clock,
normal by category between 4 working hours and 20 working days, minor 15
working days.

Plain data, no model imports at module level, so a data migration can import
it: ``migrations.RunPython(seed_categories, migrations.RunPython.noop)``.
"""

from decimal import Decimal

EVENT = "event"
COMPONENT = "component"

CRITICAL, URGENT, NORMAL, MINOR = "critical", "urgent", "normal", "minor"

HOURS, WORKING_HOURS, WORKING_DAYS = "hours", "working_hours", "working_days"


def wh(n):
    """n working hours."""
    return (n, WORKING_HOURS)


def wd(n):
    """n working days."""
    return (n, WORKING_DAYS)


H2 = (2, HOURS)  # every critical category
H24 = (24, HOURS)  # every urgent category
D15 = wd(15)  # every minor category

CLASSES = {
    EVENT: {
        "01": "市容环境",
        "02": "宣传广告",
        "03": "施工管理",
        "04": "突发事件",
        "05": "街面秩序",
        "06": "市场监管",
        "07": "安全隐患",
        "08": "社会治安",
        "09": "生态环境",
        "10": "社会救助",
        "11": "劳动保障",
        "12": "卫生健康",
        "13": "教育管理",
        "14": "房屋物业",
        "15": "综合事项",
    },
    COMPONENT: {
        "01": "公用设施",
        "02": "道路交通",
        "03": "市容环境",
        "04": "园林绿化",
        "05": "水务设施",
    },
}

# kind, code, name, default department, default severity, handling limit, description (only where ambiguous)
CATEGORIES = [
    # 事件 01 市容环境
    (EVENT, "0101", "私搭乱建", "CG", NORMAL, wd(20), "未经规划许可搭建的建筑物、构筑物，含违规圈占公共场地"),
    (EVENT, "0102", "暴露垃圾", "CG", NORMAL, wh(4), "街面、绿地等处散落或堆放未清运的生活垃圾"),
    (EVENT, "0103", "积存垃圾渣土", "CG", NORMAL, wd(1), "长期积存、成堆的垃圾或建筑渣土"),
    (EVENT, "0104", "道路不洁", "CG", NORMAL, wh(4), "路面油污、泥浆、果皮纸屑等未及时清扫"),
    (EVENT, "0105", "乱堆物堆料", "CG", NORMAL, wd(1), "在道路、广场等公共场所堆放物料、杂物"),
    (EVENT, "0106", "废弃家具设备", "CG", NORMAL, wd(2), "街面遗弃的大件家具、家电等"),
    (EVENT, "0107", "乱涂写乱刻画", "CG", NORMAL, wd(2), "在建筑物、设施上涂写、刻画、喷涂"),
    (EVENT, "0108", "楼道堆物", "JD", NORMAL, wd(2), "居民楼楼道、疏散楼梯堆放杂物（未堵塞消防通道）"),
    (EVENT, "0109", "水域不洁", "SW", NORMAL, wd(1), "河道、湖面漂浮垃圾、油污或水面变色发臭"),
    # 事件 02 宣传广告
    (EVENT, "0201", "乱贴小广告", "CG", NORMAL, wd(1), "张贴、涂写、喷涂的非法小广告，俗称“城市牛皮癣”"),
    (EVENT, "0202", "违规户外广告", "CG", NORMAL, wd(10), "未经审批设置的广告牌、灯箱、立柱广告"),
    (EVENT, "0203", "街头散发广告", "CG", NORMAL, wh(4), ""),
    (EVENT, "0204", "违规悬挂横幅", "CG", NORMAL, wd(1), "未经批准悬挂的横幅、条幅、彩旗"),
    # 事件 03 施工管理
    (EVENT, "0301", "施工扰民", "HB", NORMAL, wh(4), "建筑施工噪声、夜间违规施工影响居民休息"),
    (EVENT, "0302", "工地扬尘", "ZJ", NORMAL, wd(1), "工地未落实围挡、覆盖、洒水、车辆冲洗等防尘措施"),
    (EVENT, "0303", "道路遗撒", "CG", NORMAL, wh(4), "渣土、砂石运输车辆沿途遗撒"),
    (EVENT, "0304", "施工围挡不规范", "ZJ", NORMAL, wd(3), "围挡缺失、破损、倾斜或占用范围超出许可"),
    (EVENT, "0305", "无证掘路", "SZ", NORMAL, wd(2), "未经许可开挖城市道路、人行道"),
    (EVENT, "0306", "施工废弃料", "ZJ", NORMAL, wd(2), "施工完成后未清运的废料、余土"),
    # 事件 04 突发事件
    (EVENT, "0401", "燃气泄漏", "YJ", CRITICAL, H2, "闻到燃气味、燃气管道或设施泄漏"),
    (EVENT, "0402", "火情", "YJ", CRITICAL, H2, "建筑、车辆、绿地等起火或冒烟；请同时拨打119"),
    (EVENT, "0403", "供水管爆裂", "SW", URGENT, H24, "供水管道破裂、大量跑水"),
    (EVENT, "0404", "路面积水", "SW", URGENT, H24, "降雨后道路积水影响通行"),
    (EVENT, "0405", "人员被困积水", "YJ", CRITICAL, H2, "人员或车辆被困于积水、内涝区域"),
    (EVENT, "0406", "路面塌陷", "SZ", CRITICAL, H2, "道路、人行道突然塌陷或出现空洞"),
    (EVENT, "0407", "电线断落", "YJ", CRITICAL, H2, "电力线、架空线断落在地面或低垂，可能带电"),
    (EVENT, "0408", "道路积雪结冰", "CG", URGENT, H24, ""),
    (EVENT, "0409", "停水", "SW", URGENT, H24, "未经公告的停水或水压异常"),
    # 事件 05 街面秩序
    (EVENT, "0501", "占道经营", "CG", NORMAL, wh(4), "流动摊贩在道路、广场等公共场所摆摊经营"),
    (EVENT, "0502", "店外经营", "CG", NORMAL, wd(1), "沿街店铺超出门窗外墙经营、堆放商品"),
    (EVENT, "0503", "机动车乱停放", "JT", NORMAL, wh(4), "机动车在人行道、禁停路段或出入口违规停放"),
    (EVENT, "0504", "非机动车乱停放", "JT", NORMAL, wd(1), ""),
    (EVENT, "0505", "共享单车乱停放", "JT", NORMAL, wh(4), "共享单车堆积、倒伏或占用盲道、出入口"),
    (EVENT, "0506", "僵尸车", "JT", NORMAL, wd(10), "长期停放、无人使用的废弃车辆"),
    (EVENT, "0507", "露天烧烤", "CG", NORMAL, wh(4), ""),
    # 事件 06 市场监管
    (EVENT, "0601", "无证经营", "SJ", NORMAL, wd(5), "未取得营业执照或许可证从事经营（有固定场所）"),
    (EVENT, "0602", "食品安全", "SJ", NORMAL, wd(3), "过期变质食品、后厨卫生等食品安全问题"),
    (EVENT, "0603", "疑似食物中毒", "SJ", URGENT, H24, "就餐后多人出现呕吐、腹泻等症状"),
    (EVENT, "0604", "价格违法", "SJ", NORMAL, wd(5), "未明码标价、价格欺诈、哄抬价格"),
    (EVENT, "0605", "消费欺诈", "SJ", NORMAL, wd(10), "虚假宣传、缺斤短两、假冒伪劣商品"),
    (EVENT, "0606", "电梯故障", "SJ", URGENT, H24, "电梯停运或运行异常（有人被困请拨打96333或119）"),
    # 事件 07 安全隐患
    (EVENT, "0701", "消防通道堵塞", "YJ", URGENT, H24, "消防车通道、疏散通道、安全出口被占用或堵塞"),
    (EVENT, "0702", "安全生产隐患", "YJ", NORMAL, wd(2), "生产经营单位违规作业、危化品存放不当等"),
    (EVENT, "0703", "电动车违规充电", "YJ", NORMAL, wd(1), "楼道内停放充电、私拉电线“飞线”充电"),
    (EVENT, "0704", "燃气使用隐患", "YJ", NORMAL, wd(1), "燃气软管老化、违规使用液化气瓶等（未泄漏）"),
    # 事件 08 社会治安
    (EVENT, "0801", "矛盾纠纷", "ZZ", NORMAL, wd(5), "邻里、家庭、物业、经济等矛盾纠纷需调解"),
    (EVENT, "0802", "噪声扰民", "ZZ", NORMAL, wh(4), "社会生活噪声：娱乐、装修、广场舞、宠物等"),
    (EVENT, "0803", "治安隐患", "ZZ", NORMAL, wd(1), "可疑人员、聚集滋事、防盗设施缺失等"),
    (EVENT, "0804", "群租房隐患", "ZZ", NORMAL, wd(5), "违规分隔出租、人员密集存在治安消防隐患"),
    # 事件 09 生态环境
    (EVENT, "0901", "露天焚烧", "HB", NORMAL, wh(4), "露天焚烧垃圾、秸秆、落叶等"),
    (EVENT, "0902", "餐饮油烟", "HB", NORMAL, wd(5), "餐饮店油烟未经净化直排"),
    (EVENT, "0903", "工业噪声", "HB", NORMAL, wd(3), "工厂、作坊设备运行噪声"),
    (EVENT, "0904", "废气排放", "HB", NORMAL, wd(3), "企业异味、黑烟、废气排放"),
    (EVENT, "0905", "污水直排", "HB", NORMAL, wd(3), "企业、商户污水未经处理排入河道或雨水管"),
    # 事件 10 社会救助
    (EVENT, "1001", "独居老人求助", "MZ", URGENT, H24, "独居、空巢老人生活困难或需上门探视；危及生命请拨打120"),
    (EVENT, "1002", "困难群众求助", "MZ", NORMAL, wd(5), "低保、特困、临时救助等诉求"),
    (EVENT, "1003", "流浪乞讨人员", "MZ", NORMAL, wd(1), "街面流浪乞讨人员需救助或劝导"),
    # 事件 11 劳动保障
    (EVENT, "1101", "拖欠工资", "RS", NORMAL, wd(15), "拖欠农民工或职工工资"),
    (EVENT, "1102", "社会保险", "RS", NORMAL, wd(10), "未缴、少缴社会保险，待遇领取等问题"),
    (EVENT, "1103", "就业服务", "RS", NORMAL, wd(5), "求职登记、就业援助、职业培训诉求"),
    (EVENT, "1104", "劳动合同纠纷", "RS", NORMAL, wd(15), "未签劳动合同、违法解除劳动合同"),
    # 事件 12 卫生健康
    (EVENT, "1201", "非法行医", "WJ", NORMAL, wd(5), "无证诊所、黑诊所、非医师行医"),
    (EVENT, "1202", "公共场所卫生", "WJ", NORMAL, wd(5), "宾馆、浴室、理发店等公共场所卫生问题"),
    (EVENT, "1203", "传染病疫情线索", "WJ", URGENT, H24, "发现聚集性发热、腹泻等疑似传染病情况"),
    (EVENT, "1204", "病媒生物孳生", "WJ", NORMAL, wd(3), "鼠患、蚊蝇、蟑螂孳生"),
    # 事件 13 教育管理
    (EVENT, "1301", "学校周边安全", "JY", NORMAL, wd(2), "校园周边交通、治安、无证摊点等安全隐患"),
    (EVENT, "1302", "校外培训违规", "JY", NORMAL, wd(10), "无证培训机构、违规学科类培训"),
    (EVENT, "1303", "无证办园", "JY", NORMAL, wd(10), "无证幼儿园、看护点"),
    # 事件 14 房屋物业
    (EVENT, "1401", "房屋安全隐患", "ZJ", URGENT, H24, "房屋墙体开裂、外墙或构件有脱落危险"),
    (EVENT, "1402", "物业服务问题", "ZJ", NORMAL, wd(10), "物业不履行服务合同、公共部位维修不及时"),
    (EVENT, "1403", "违规装修", "ZJ", NORMAL, wd(5), "拆改承重结构、擅自改变房屋结构"),
    # 事件 15 综合事项
    (EVENT, "1501", "信息咨询", "JD", MINOR, D15, "政策、办事流程等咨询"),
    (EVENT, "1502", "意见建议", "JD", MINOR, D15, "对城市管理和公共服务的意见建议"),
    (EVENT, "1503", "其他事项", "JD", NORMAL, wd(3), "无明确主管部门的问题，由属地街道兜底处置"),
    # 部件 01 公用设施
    (COMPONENT, "0101", "井盖缺失", "SZ", CRITICAL, H2, "车行道或人行道上井盖缺失、移位，有坠落危险"),
    (COMPONENT, "0102", "井盖破损", "SZ", URGENT, H24, "井盖破裂、松动、下沉或响动"),
    (COMPONENT, "0103", "路灯不亮", "SZ", NORMAL, wd(2), "路灯、景观灯不亮或白天常亮"),
    (COMPONENT, "0104", "灯杆倾斜", "SZ", URGENT, H24, "路灯杆倾斜、锈蚀或检修门缺失"),
    (COMPONENT, "0105", "消防栓损坏", "YJ", NORMAL, wd(2), "室外消火栓损坏、漏水或被圈占"),
    (COMPONENT, "0106", "监控设施损坏", "ZZ", NORMAL, wd(5), "治安监控探头损坏、遮挡"),
    # 部件 02 道路交通
    (COMPONENT, "0201", "道路坑洼", "SZ", NORMAL, wd(5), "车行道路面坑槽、沉陷、拥包"),
    (COMPONENT, "0202", "人行道破损", "SZ", NORMAL, wd(5), "人行道板、盲道砖松动、缺失、破碎"),
    (COMPONENT, "0203", "护栏损坏", "SZ", NORMAL, wd(3), "道路隔离护栏、防撞护栏损坏或倒伏"),
    (COMPONENT, "0204", "交通信号灯故障", "JT", URGENT, H24, "路口信号灯不亮、常亮、倒向或时序错乱"),
    (COMPONENT, "0205", "交通标志损坏", "JT", NORMAL, wd(5), "交通标志牌缺失、损坏、被遮挡"),
    (COMPONENT, "0206", "道路标线模糊", "JT", MINOR, D15, "车道线、斑马线等标线磨损模糊"),
    (COMPONENT, "0207", "公交站亭损坏", "JT", NORMAL, wd(5), ""),
    (COMPONENT, "0208", "桥梁设施损坏", "SZ", NORMAL, wd(5), "桥梁栏杆、伸缩缝、桥面铺装损坏"),
    (COMPONENT, "0209", "路名牌损坏", "MZ", MINOR, D15, "路名牌、门牌缺失、损坏或错误"),
    (COMPONENT, "0210", "减速带损坏", "JT", NORMAL, wd(5), ""),
    # 部件 03 市容环境
    (COMPONENT, "0301", "垃圾箱损坏", "CG", NORMAL, wd(2), "果壳箱、垃圾桶破损、缺失"),
    (COMPONENT, "0302", "公共座椅损坏", "CG", NORMAL, wd(5), ""),
    (COMPONENT, "0303", "公厕设施损坏", "CG", NORMAL, wd(1), "公共厕所设施损坏、停水或无法使用"),
    (COMPONENT, "0304", "广告牌匾松动", "CG", URGENT, H24, "户外广告、店招牌匾松动，有坠落危险"),
    (COMPONENT, "0305", "健身器材损坏", "JD", NORMAL, wd(5), "社区、街头公共健身器材损坏"),
    # 部件 04 园林绿化
    (COMPONENT, "0401", "行道树倒伏", "YL", URGENT, H24, "树木倒伏压占道路、车辆或线路"),
    (COMPONENT, "0402", "行道树倾斜", "YL", URGENT, H24, "树木倾斜向道路或建筑，有倒伏危险"),
    (COMPONENT, "0403", "绿地破坏", "YL", NORMAL, wd(5), "绿地被踩踏、毁坏或侵占"),
    (COMPONENT, "0404", "树木遮挡", "YL", NORMAL, wd(5), "树枝遮挡路灯、交通标志、信号灯或窗户"),
    (COMPONENT, "0405", "古树名木受损", "YL", NORMAL, wd(3), ""),
    (COMPONENT, "0406", "行道树缺株", "YL", MINOR, D15, "树穴空缺、行道树死亡待补植"),
    # 部件 05 水务设施
    (COMPONENT, "0501", "雨水箅子缺失", "SW", URGENT, H24, "雨水口箅子缺失或破损，有人车跌落危险"),
    (COMPONENT, "0502", "排水管道堵塞", "SW", NORMAL, wd(2), "雨污水管道、检查井堵塞"),
    (COMPONENT, "0503", "污水冒溢", "SW", NORMAL, wd(1), "检查井、化粪池污水外溢到路面"),
]


def category_rows():
    """The seed set as dicts of Category field values (department as its code)."""
    rows = []
    for kind, code, name, department, severity, (amount, unit), description in CATEGORIES:
        rows.append(
            {
                "kind": kind,
                "code": code,
                "name": name,
                "class_name": CLASSES[kind][code[:2]],
                "description": description,
                "department": department,
                "default_severity": severity,
                "handling_amount": Decimal(amount),
                "handling_unit": unit,
            }
        )
    return rows


def seed_categories(apps=None, schema_editor=None):
    """Create or update the seed categories by (kind, code); safe to run again.

    Usable as a RunPython function (historical models through ``apps``) or
    directly (the current models). The seed wins for the fields it defines;
    ``is_active`` is left as an admin set it, and categories outside the seed
    set are left alone. Returns counts: created, updated, unchanged.
    """
    if apps is None:
        from django.apps import apps
    from django.db import DEFAULT_DB_ALIAS, transaction

    db = schema_editor.connection.alias if schema_editor is not None else DEFAULT_DB_ALIAS
    Category = apps.get_model("cases", "Category")
    Department = apps.get_model("governance", "Department")

    rows = category_rows()
    departments = Department.objects.using(db).in_bulk({row["department"] for row in rows}, field_name="code")
    missing = sorted({row["department"] for row in rows} - departments.keys())
    if missing:
        raise LookupError(f"Seeding categories needs the departments {', '.join(missing)}, which do not exist.")

    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic(using=db):
        existing = {(c.kind, c.code): c for c in Category.objects.using(db).all()}
        for row in rows:
            values = {key: value for key, value in row.items() if key not in ("kind", "code", "department")}
            values["default_department_id"] = departments[row["department"]].pk
            category = existing.get((row["kind"], row["code"]))
            if category is None:
                Category.objects.using(db).create(kind=row["kind"], code=row["code"], **values)
                counts["created"] += 1
                continue
            changed = [field for field, value in values.items() if getattr(category, field) != value]
            if changed:
                for field in changed:
                    setattr(category, field, values[field])
                category.save(using=db, update_fields=changed)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return counts
