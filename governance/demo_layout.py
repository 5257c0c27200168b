"""Names and layout of the demo city, shared by the organisation and grid demos.

Plain data, no Django imports: the grid demo's generator runs in benchmarks
and scripts without a configured Django.
"""

DISTRICT = ("330211", "示范区")
STREETS = [
    ("001", "东湖街道", ["湖滨社区", "望湖社区", "东苑社区", "新桥社区"]),
    ("002", "西城街道", ["西门社区", "文昌社区", "鼓楼社区", "柳汀社区"]),
    ("003", "南山街道", ["南苑社区", "山前社区", "翠柏社区", "松园社区"]),
    ("004", "北港街道", ["港口社区", "渔港社区", "北星社区", "海晏社区"]),
]
# South-west corner of the district and the size of one community block
# (about 1 km × 1 km at this latitude); streets are 2 × 2 blocks.
ORIGIN = (121.53, 29.94)
BLOCK = (0.0104, 0.009)
