"""The demo world (演示数据) that ``manage.py seed_demo`` builds and the tests reuse.

Profile ``dongguan`` (东莞): the 45 regions and 35 city/town service centers of
``fixtures/dongguan/`` (copies of the shared reference data), 586 generated village/community
regions each with a party-mass service point (村（社区）党群服务中心), the city departments of
``fixtures/dongguan/departments.csv`` plus a few departments per street/town, windows, one staff
account for every role at every level, and sample applicants with valid identity numbers.

The world is deterministic (one fixed random seed) and idempotent: rows are matched on their
natural keys — region, center and department codes, (center, window number), usernames,
(user, role, scope) and an applicant's account — missing rows are created, changed rows are
updated in bulk and nothing is deleted, so a second run changes nothing. Village codes, names
and counts are made up (``official_code=False``); see ``VILLAGE_COUNTS``.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from tongban.accounts.models import Applicant
from tongban.core.validators import resident_id_check_char, uscc_check_char

from .hours import STANDARD_HOURS, VILLAGE_HOURS
from .models import Department, Region, ServiceCenter, StaffAssignment, Window
from .roles import Role

SEED = 20201021  # the day Dongguan's platform figures were published
DEMO_PASSWORD = "Tongban#2026"  # noqa: S105 — the published password of the demo accounts
# One hash for every demo account. The salt is fixed so that the hash, like everything else in
# the demo world, is the same on every run: a second run rewrites no password.
DEMO_SALT = "TongbanDemoDongguan20201021"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CITY_CODE = "441900"
CITY_CENTER_CODE = f"SC{CITY_CODE}"

# --- Dongguan reference ------------------------------------------------------------------------
# The ``functional_area`` column of dongguan_regions.csv names a group; these two groups are the
# functional areas of the 2019 reform. Other values (滨海湾新区 itself, the 片区 scheme) link none.
FUNCTIONAL_AREA_GROUPS = {"松山湖功能区": "DG-FA-SSH", "水乡功能区": "DG-FA-SX"}

CENTER_LEVELS = {
    "city": ServiceCenter.Level.CITY,
    "street": ServiceCenter.Level.TOWN,
    "town": ServiceCenter.Level.TOWN,
    "functional_area": ServiceCenter.Level.TOWN,
}

# Usernames and short names of the places that have a service center.
PLACES: dict[str, tuple[str, str]] = {
    "441900003": ("dongcheng", "东城"),
    "441900004": ("nancheng", "南城"),
    "441900005": ("wanjiang", "万江"),
    "441900006": ("guancheng", "莞城"),
    "441900101": ("shijie", "石碣"),
    "441900102": ("shilong", "石龙"),
    "441900103": ("chashan", "茶山"),
    "441900104": ("shipai", "石排"),
    "441900105": ("qishi", "企石"),
    "441900106": ("hengli", "横沥"),
    "441900107": ("qiaotou", "桥头"),
    "441900108": ("xiegang", "谢岗"),
    "441900109": ("dongkeng", "东坑"),
    "441900110": ("changping", "常平"),
    "441900111": ("liaobu", "寮步"),
    "441900112": ("zhangmutou", "樟木头"),
    "441900113": ("dalang", "大朗"),
    "441900114": ("huangjiang", "黄江"),
    "441900115": ("qingxi", "清溪"),
    "441900116": ("tangxia", "塘厦"),
    "441900117": ("fenggang", "凤岗"),
    "441900118": ("dalingshan", "大岭山"),
    "441900119": ("changan", "长安"),
    "441900121": ("humen", "虎门"),
    "441900122": ("houjie", "厚街"),
    "441900123": ("shatian", "沙田"),
    "441900124": ("daojiao", "道滘"),
    "441900125": ("hongmei", "洪梅"),
    "441900126": ("machong", "麻涌"),
    "441900127": ("wangniudun", "望牛墩"),
    "441900128": ("zhongtang", "中堂"),
    "441900129": ("gaobu", "高埗"),
    "441900401": ("songshanhu", "松山湖"),
    "441900404": ("binhaiwan", "滨海湾"),
}

# Villages and communities per street/town: made up, roughly in proportion to the real towns'
# sizes; 586 in all, the figure Dongguan reported for its party-mass service centers.
VILLAGE_COUNTS: dict[str, int] = {
    "441900003": 24, "441900004": 18, "441900005": 24, "441900006": 8,
    "441900101": 15, "441900102": 10, "441900103": 18, "441900104": 19,
    "441900105": 20, "441900106": 17, "441900107": 17, "441900108": 12,
    "441900109": 16, "441900110": 30, "441900111": 28, "441900112": 10,
    "441900113": 26, "441900114": 9, "441900115": 21, "441900116": 23,
    "441900117": 12, "441900118": 23, "441900119": 13, "441900121": 28,
    "441900122": 22, "441900123": 17, "441900124": 14, "441900125": 11,
    "441900126": 15, "441900127": 20, "441900128": 18, "441900129": 19,
    "441900401": 5, "441900404": 4,
}  # fmt: skip
# Share of communities (社区) among them by level; streets and the parks are mostly urban.
COMMUNITY_SHARE = {"street": 0.85, "town": 0.33, "functional_area": 1.0}
ALL_COMMUNITIES = {"441900119"}  # 长安: communities only
GRASSROOTS_LEVELS = (Region.Level.VILLAGE, Region.Level.COMMUNITY)
VILLAGE_FIRST = "水东西南北新大上下石黄塘沙长龙凤横莲松金竹梅荔桥白岭湖高和福兴旺环元朱罗陈鳌榴"
VILLAGE_SECOND = "口泰头岗边坑美塘田湖洲基围联兴安平江岭山埔厦园冲湾洞坊溪林龙涌岸桥圳背朗"

# City departments with windows in the citizen service center (two each).
CITY_WINDOW_DEPARTMENTS = (
    "D-GA", "D-RS", "D-SCJG", "D-MZ", "D-WJ", "D-ZJ", "D-JT", "D-SW", "D-WGLT", "D-YB",
    "D-NYNC", "D-BDC", "D-JY", "D-GJJ", "D-ZRZY",
)  # fmt: skip
# (code suffix, name after the town's name, short name) of each street's/town's departments.
TOWN_DEPARTMENTS = (
    ("GGFW", "公共服务办公室", "公共服务办"),
    ("JJFZ", "经济发展局", "经发局"),
    ("SHSW", "社会事务局", "社会事务局"),
)
# Departments whose reviewer and approver accounts are seeded.
REVIEW_DEPARTMENTS = ("D-SCJG", "D-WJ", "D-RS", "D-ZJ", "D-GA")

SURNAMES = "陈李黄张梁林刘王叶何罗邓吴钟莫郑谢周杨蔡袁卢麦冯曾彭徐方朱邱"
MALE_NAMES = ("志强", "晓明", "俊杰", "家豪", "国良", "锦荣", "伟", "建华", "永康", "子轩",
              "浩然", "文辉", "振宇", "启明", "德华")  # fmt: skip
FEMALE_NAMES = ("丽娟", "嘉欣", "雅婷", "少芬", "桂英", "泳诗", "婉婷", "敏", "静", "慧玲",
                "晓琳", "美华", "思颖", "秀兰", "凤仪")  # fmt: skip
MOBILE_PREFIXES = ("135", "136", "137", "138", "139", "150", "158", "186", "188", "189")
ENTERPRISE_BRANDS = ("华信", "鸿达", "盈丰", "粤隆", "莞兴", "旭日", "新航", "恒达", "嘉宏", "博创",
                     "众诚", "安捷")  # fmt: skip
ENTERPRISE_TRADES = ("电子科技", "五金制品", "家具", "模具", "服装", "食品", "塑胶制品",
                     "智能装备", "物流", "印刷")  # fmt: skip
USCC_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class UnknownProfile(ValueError):
    pass


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    scope: str
    applicant: bool = False


@dataclass
class SeedResult:
    profile: str
    password: str
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    totals: dict[str, int] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(+self.created or +self.updated)


def seed(profile: str = "dongguan") -> SeedResult:
    """Build (or bring up to date) the demo world of ``profile``."""
    try:
        builder = PROFILES[profile]
    except KeyError:
        raise UnknownProfile(profile) from None
    return builder()


# --- Upsert by natural key ---------------------------------------------------------------------
def _sync(result: SeedResult, label: str, model, key, rows: list[dict], queryset=None) -> dict:
    """Create the rows missing from ``queryset``, update those that differ, and return all
    objects of ``queryset`` by key. Rows are dicts of attribute names (``parent_id``)."""
    keys = (key,) if isinstance(key, str) else tuple(key)
    qs = model._default_manager.all() if queryset is None else queryset

    def index() -> dict:
        objects = qs.all()
        if len(keys) == 1:
            return {getattr(o, keys[0]): o for o in objects}
        return {tuple(getattr(o, k) for k in keys): o for o in objects}

    existing = index()
    fields = list(dict.fromkeys(f for row in rows for f in row if f not in keys))
    new, changed = [], []
    for row in rows:
        k = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
        obj = existing.get(k)
        if obj is None:
            new.append(model(**row))
        elif any(getattr(obj, f) != v for f, v in row.items()):
            for f, v in row.items():
                setattr(obj, f, v)
            changed.append(obj)
    if new:
        model._default_manager.bulk_create(new, batch_size=500)
    if changed:
        model._default_manager.bulk_update(changed, fields, batch_size=500)
    result.created[label] += len(new)
    result.updated[label] += len(changed)
    return index() if new else existing


def _read_csv(name: str) -> list[dict[str, str]]:
    with (FIXTURES / "dongguan" / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- Dongguan ----------------------------------------------------------------------------------
@dataclass
class _World:
    rng: random.Random
    result: SeedResult
    regions: dict[str, Region] = field(default_factory=dict)
    centers: dict[str, ServiceCenter] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    used_mobiles: set[str] = field(default_factory=set)
    used_ids: set[str] = field(default_factory=set)

    def person_name(self, male: bool | None = None) -> tuple[str, bool]:
        male = self.rng.random() < 0.5 if male is None else male
        given = self.rng.choice(MALE_NAMES if male else FEMALE_NAMES)
        return self.rng.choice(SURNAMES) + given, male

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.used_mobiles:
                self.used_mobiles.add(number)
                return number

    def resident_id(self, male: bool) -> str:
        while True:
            birth = date(1950, 1, 1) + timedelta(days=self.rng.randrange(20_000))  # to 2004
            sequence = self.rng.randrange(1, 499) * 2 + (1 if male else 0)
            first17 = f"{CITY_CODE}{birth:%Y%m%d}{sequence:03d}"
            number = first17 + resident_id_check_char(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number


CATALOG_ADMINS = ("catalog_admin", "catalog_reviewer")


def seed_dongguan() -> SeedResult:
    result = SeedResult(profile="dongguan", password=DEMO_PASSWORD)
    seeded = _seed_dongguan(result)
    from .admin_groups import grant_admin_access

    for user in get_user_model().objects.filter(username__in=CATALOG_ADMINS):
        grant_admin_access(user)
    return seeded


def _seed_dongguan(result: SeedResult) -> SeedResult:
    world = _World(rng=random.Random(SEED), result=result)  # noqa: S311 — demo data, not secrets
    with transaction.atomic():
        _seed_regions(world)
        _seed_centers(world)
        _seed_departments(world)
        _seed_windows(world)
        password = make_password(DEMO_PASSWORD, salt=DEMO_SALT)
        _seed_staff(world, password)
        _seed_applicants(world, password)
    for label, model in (
        ("regions", Region),
        ("centers", ServiceCenter),
        ("departments", Department),
        ("windows", Window),
        ("users", get_user_model()),
        ("assignments", StaffAssignment),
        ("applicants", Applicant),
    ):
        result.totals[label] = model._default_manager.count()
    return result


def _region_row(row: dict[str, str], regions: dict[str, Region]) -> dict:
    code = row["code"]
    parent = regions[row["parent_code"]] if row["parent_code"] else None
    group = FUNCTIONAL_AREA_GROUPS.get(row["functional_area"])
    return {
        "code": code,
        "name": row["name"],
        "level": row["level"],
        "parent_id": parent.pk if parent else None,
        "functional_area_id": regions[group].pk if group and group != code else None,
        "path": (parent.path if parent else "") + f"{code}/",
        "official_code": not code.startswith("DG-"),
    }


def _seed_regions(world: _World) -> None:
    rows = _read_csv("dongguan_regions.csv")
    # Parents and functional-area groups first: the city, the made-up DG-* groups, the rest.
    tiers = (
        [r for r in rows if not r["parent_code"]],
        [r for r in rows if r["parent_code"] and r["code"].startswith("DG-")],
        [r for r in rows if r["parent_code"] and not r["code"].startswith("DG-")],
    )
    for tier in tiers:
        world.regions = _sync(
            world.result, "regions", Region, "code", [_region_row(r, world.regions) for r in tier]
        )
    grassroots = []
    for parent_code, count in VILLAGE_COUNTS.items():
        parent = world.regions[parent_code]
        grassroots.extend(_grassroots(world.rng, parent, count))
    world.regions = _sync(world.result, "regions", Region, "code", grassroots)


def _grassroots(rng: random.Random, parent: Region, count: int) -> list[dict]:
    """``count`` villages and communities under ``parent`` with names unique in it: community
    codes run 001, 002, … and village codes 201, 202, … after the parent's code (NBS style)."""
    share = 1.0 if parent.code in ALL_COMMUNITIES else COMMUNITY_SHARE[parent.level]
    communities = round(count * share)
    stems: list[str] = []
    while len(stems) < count:
        stem = rng.choice(VILLAGE_FIRST) + rng.choice(VILLAGE_SECOND)
        if stem[0] != stem[1] and stem not in stems:
            stems.append(stem)
    rows = []
    for i, stem in enumerate(stems):
        is_community = i < communities
        number = i + 1 if is_community else 200 + i - communities + 1
        code = f"{parent.code}{number:03d}"
        rows.append(
            {
                "code": code,
                "name": stem + ("社区" if is_community else "村"),
                "level": Region.Level.COMMUNITY if is_community else Region.Level.VILLAGE,
                "parent_id": parent.pk,
                "functional_area_id": None,
                "path": f"{parent.path}{code}/",
                "official_code": False,
            }
        )
    return rows


def _seed_centers(world: _World) -> None:
    rows = []
    for row in _read_csv("dongguan_centers.csv"):
        level = CENTER_LEVELS[row["level"]]
        rows.append(
            {
                "code": f"SC{row['region_code']}",
                "name": row["name"],
                "level": level,
                "region_id": world.regions[row["region_code"]].pk,
                "address": row["address_hint"],
                "phone": "0769-12345" if level == ServiceCenter.Level.CITY else "",
                "opening_hours": STANDARD_HOURS,
                "has_self_service_area": True,
                "active": True,
            }
        )
    grassroots = sorted(
        (r for r in world.regions.values() if r.level in GRASSROOTS_LEVELS), key=lambda r: r.code
    )
    parents = {r.pk: r for r in world.regions.values()}
    for region in grassroots:
        parent = parents[region.parent_id]
        place = (
            PLACES[parent.code][1] if parent.level == Region.Level.FUNCTIONAL_AREA else parent.name
        )
        rows.append(
            {
                "code": f"SC{region.code}",
                "name": f"{place}{region.name}党群服务中心",
                "level": ServiceCenter.Level.VILLAGE,
                "region_id": region.pk,
                "address": f"东莞市{place}{region.name}",
                "phone": "",
                "opening_hours": VILLAGE_HOURS,
                "has_self_service_area": False,
                "active": True,
            }
        )
    world.centers = _sync(world.result, "centers", ServiceCenter, "code", rows)


def _seed_departments(world: _World) -> None:
    city = world.regions[CITY_CODE]
    rows = [
        {
            "code": row["code"],
            "name": row["name"],
            "short_name": row["short_name"],
            "level": Department.Level.CITY,
            "region_id": city.pk,
        }
        for row in _read_csv("departments.csv")
    ]
    towns = [
        r
        for r in world.regions.values()
        if r.level in (Region.Level.STREET, Region.Level.TOWN) and r.parent_id == city.pk
    ]
    for town in sorted(towns, key=lambda r: r.code):
        for suffix, name, short_name in TOWN_DEPARTMENTS:
            rows.append(
                {
                    "code": f"D-{town.code[-3:]}-{suffix}",
                    "name": f"{town.name}{name}",
                    "short_name": short_name,
                    "level": Department.Level.TOWN,
                    "region_id": town.pk,
                }
            )
    world.departments = _sync(world.result, "departments", Department, "code", rows)


def _seed_windows(world: _World) -> None:
    rows: list[dict] = []
    numbers: Counter = Counter()

    def add(center: ServiceCenter, kind: str, name: str, department: Department | None = None):
        numbers[center.pk] += 1
        number = numbers[center.pk]
        rows.append(
            {
                "center_id": center.pk,
                "number": str(number),
                "kind": kind,
                "name": name,
                "department_id": department.pk if department else None,
                "active": True,
            }
        )

    K = Window.Kind
    city_center = world.centers[CITY_CENTER_CODE]
    for i in range(1, 21):
        add(city_center, K.COMPREHENSIVE, f"综合受理{i}号窗口")
    for code in CITY_WINDOW_DEPARTMENTS:
        department = world.departments[code]
        for _ in range(2):
            add(city_center, K.DEPARTMENT, f"{department.short_name}窗口", department)
    for i in range(1, 6):
        add(city_center, K.AGENCY, f"帮代办{i}号窗口")
    for i in range(1, 6):
        add(city_center, K.ENQUIRY, f"咨询{i}号窗口")

    regions = {r.pk: r for r in world.regions.values()}
    centers = sorted(world.centers.values(), key=lambda c: c.code)
    for center in centers:
        if center.level != ServiceCenter.Level.TOWN:
            continue
        town_code = regions[center.region_id].code
        for i in range(1, 6):
            add(center, K.COMPREHENSIVE, f"综合受理{i}号窗口")
        department = (
            world.departments.get(f"D-{town_code[-3:]}-GGFW") or world.departments["D-SCJG"]
        )
        add(center, K.DEPARTMENT, f"{department.short_name}窗口", department)
        add(center, K.AGENCY, "帮代办窗口")
        add(center, K.ENQUIRY, "咨询窗口")
    for center in centers:
        if center.level == ServiceCenter.Level.VILLAGE:
            count = 2 if world.rng.random() < 0.4 else 1
            for i in range(1, count + 1):
                add(center, K.COMPREHENSIVE, f"综合窗口{i}")
    _sync(world.result, "windows", Window, ("center_id", "number"), rows)


def _seed_staff(world: _World, password: str) -> None:
    regions, centers, departments = world.regions, world.centers, world.departments
    city = regions[CITY_CODE]
    city_center = centers[CITY_CENTER_CODE]
    specs: list[tuple[str, Role, dict, str]] = []  # username, role, scope, display-name prefix

    specs.append(("clerk_city", Role.WINDOW_CLERK, {"center": city_center}, "市民服务中心综合窗口"))
    for code, (slug, short) in PLACES.items():
        specs.append(
            (
                f"clerk_{slug}",
                Role.WINDOW_CLERK,
                {"center": centers[f"SC{code}"]},
                f"{short}政务服务中心综合窗口",
            )
        )
    villages: dict[str, set[int]] = {}  # street/town code -> its villages (村, not 社区)
    by_pk = {r.pk: r for r in regions.values()}
    for r in regions.values():
        if r.level == Region.Level.VILLAGE:
            villages.setdefault(by_pk[r.parent_id].code, set()).add(r.pk)
    for code in ("441900113", "441900121", "441900110"):  # 大朗, 虎门, 常平
        point = min(
            (c for c in centers.values() if c.region_id in villages[code]), key=lambda c: c.code
        )
        specs.append((f"clerk_village_{PLACES[code][0]}", Role.WINDOW_CLERK, {"center": point},
                      point.name))  # fmt: skip
    for code in REVIEW_DEPARTMENTS:
        department = departments[code]
        slug = code.removeprefix("D-").lower()
        specs.append((f"reviewer_{slug}", Role.REVIEWER, {"department": department},
                      f"{department.short_name}审核岗"))  # fmt: skip
        specs.append((f"approver_{slug}", Role.APPROVER, {"department": department},
                      f"{department.short_name}审批岗"))  # fmt: skip
    dalang_office = departments["D-113-GGFW"]
    dalang, humen, songshanhu = (regions[c] for c in ("441900113", "441900121", "441900401"))
    specs += [
        ("reviewer_dalang", Role.REVIEWER, {"department": dalang_office}, "大朗镇公共服务办审核岗"),
        ("approver_dalang", Role.APPROVER, {"department": dalang_office}, "大朗镇公共服务办审批岗"),
        ("admin_city_center", Role.CENTER_ADMIN, {"center": city_center}, "市民服务中心管理员"),
        ("admin_dalang", Role.CENTER_ADMIN, {"region": dalang}, "大朗镇政务服务管理员"),
        ("admin_humen", Role.CENTER_ADMIN, {"region": humen}, "虎门镇政务服务管理员"),
        ("admin_songshanhu", Role.CENTER_ADMIN, {"region": songshanhu}, "松山湖政务服务管理员"),
        ("agent_city", Role.AGENT, {"center": city_center}, "市民服务中心帮代办"),
        ("agent_dalang", Role.AGENT, {"region": dalang}, "大朗镇帮代办"),
        ("catalog_admin", Role.CATALOG_ADMIN, {"region": city}, "市政数局事项管理员"),
        ("supervisor_city", Role.SUPERVISOR, {"region": city}, "市政务服务督查"),
        ("supervisor_dalang", Role.SUPERVISOR, {"region": dalang}, "大朗镇政务服务督查"),
        ("auditor_city", Role.AUDITOR, {"region": city}, "市审计"),
        # A second catalog administrator: publishing needs four eyes.
        ("catalog_reviewer", Role.CATALOG_ADMIN, {"region": city}, "市政数局事项审核员"),
    ]  # fmt: skip

    user_rows = [
        {
            "username": "admin",
            "kind": "staff",
            "display_name": "系统管理员",
            "mobile": "",
            "is_staff": True,
            "is_superuser": True,
            "is_active": True,
            "password": password,
        }
    ]
    for username, _role, _scope, prefix in specs:
        person, _male = world.person_name()
        user_rows.append(
            {
                "username": username,
                "kind": "staff",
                "display_name": f"{prefix} {person}",
                "mobile": "",
                "is_staff": username in CATALOG_ADMINS,
                "is_superuser": False,
                "is_active": True,
                "password": password,
            }
        )
    User = get_user_model()
    usernames = [r["username"] for r in user_rows]
    users = _sync(
        world.result,
        "users",
        User,
        "username",
        user_rows,
        User.objects.filter(username__in=usernames),
    )

    assignment_rows = []
    for username, role, scope, _prefix in specs:
        row = {"user_id": users[username].pk, "role": role.value, "active": True}
        for kind in ("region", "center", "department"):
            row[f"{kind}_id"] = scope[kind].pk if kind in scope else None
        assignment_rows.append(row)
    _sync(
        world.result,
        "assignments",
        StaffAssignment,
        ("user_id", "role", "region_id", "center_id", "department_id"),
        assignment_rows,
        StaffAssignment.objects.filter(user__in=[u.pk for u in users.values()]),
    )
    world.result.accounts.append(Account("admin", "超级管理员（Django admin）", "全部"))
    for username, role, scope, _prefix in specs:
        world.result.accounts.append(
            Account(username, str(role.label), str(next(iter(scope.values()))))
        )


def _seed_applicants(world: _World, password: str) -> None:
    rng = world.rng
    people = []  # (username, kind, name, identity, mobile, representative, representative id)
    for i in range(1, 21):
        name, male = world.person_name()
        username = "citizen" if i == 1 else f"citizen{i:02d}"
        people.append((username, "natural", name, world.resident_id(male), world.mobile(), "", ""))
    names: set[str] = set()
    for i in range(1, 11):
        while True:
            company = (
                f"东莞市{rng.choice(ENTERPRISE_BRANDS)}{rng.choice(ENTERPRISE_TRADES)}有限公司"
            )
            if company not in names:
                names.add(company)
                break
        body = "".join(rng.choice(USCC_BODY_CHARS) for _ in range(7))
        first17 = f"91{CITY_CODE}MA{body}"
        representative, male = world.person_name()
        username = "enterprise" if i == 1 else f"enterprise{i:02d}"
        people.append(
            (username, "legal", company, first17 + uscc_check_char(first17), world.mobile(),
             representative, world.resident_id(male))
        )  # fmt: skip

    User = get_user_model()
    user_rows = [
        {
            "username": username,
            "kind": "applicant",
            "display_name": name,
            "mobile": mobile,
            "is_staff": False,
            "is_superuser": False,
            "is_active": True,
            "password": password,
        }
        for username, _kind, name, _identity, mobile, _rep, _rep_id in people
    ]
    usernames = [p[0] for p in people]
    users = _sync(
        world.result,
        "users",
        User,
        "username",
        user_rows,
        User.objects.filter(username__in=usernames),
    )
    applicant_rows = []
    for username, kind, name, identity, mobile, representative, representative_id in people:
        natural = kind == "natural"
        applicant_rows.append(
            {
                "user_id": users[username].pk,
                "kind": kind,
                "name": name,
                "id_number": identity if natural else None,
                "uscc": None if natural else identity,
                "legal_representative": representative,
                "legal_representative_id_number": representative_id,
                "mobile": mobile,
            }
        )
        world.result.accounts.append(
            Account(
                username,
                "申请人（自然人）" if natural else "申请人（法人）",
                f"{name} {identity}",
                applicant=True,
            )
        )
    _sync(
        world.result,
        "applicants",
        Applicant,
        "user_id",
        applicant_rows,
        Applicant.objects.filter(user__in=[u.pk for u in users.values()]),
    )


PROFILES = {"dongguan": seed_dongguan}
