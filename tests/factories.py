"""A small, complete organization for tests: a city with one street, one town inside a
functional area and one village; a city center, a town center and a village point; two city
departments and a town department; one staff member for every role, and two applicants."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from tongban.accounts.models import Applicant
from tongban.org.hours import STANDARD_HOURS, VILLAGE_HOURS
from tongban.org.models import Department, Region, ServiceCenter, StaffAssignment, Window
from tongban.org.roles import Role

PASSWORD = "Tongban#2026"
# Valid numbers (checked by the validators' tests too).
RESIDENT_ID = "11010519491231002X"
RESIDENT_ID_2 = "440304199001011233"
USCC = "91110000600037341L"


@dataclass
class World:
    city: Region
    street: Region
    town: Region
    other_town: Region
    functional_area: Region
    village: Region
    city_center: ServiceCenter
    town_center: ServiceCenter
    other_town_center: ServiceCenter
    village_point: ServiceCenter
    market_dept: Department
    health_dept: Department
    town_dept: Department
    users: dict[str, object] = field(default_factory=dict)

    def user(self, key: str):
        return self.users[key]


def make_user(username: str, *, kind: str = "staff", display_name: str = "", **extra):
    User = get_user_model()
    user = User(username=username, kind=kind, display_name=display_name or username, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def assign(user, role: Role, **scope) -> StaffAssignment:
    return StaffAssignment.objects.create(user=user, role=role.value, **scope)


def build_world() -> World:
    R = Region.objects.create
    city = R(code="441900", name="东莞市", level="city")
    fa = R(
        code="DG-FA-SSH",
        name="松山湖功能区",
        level="functional_area",
        parent=city,
        official_code=False,
    )
    street = R(code="441900003", name="东城街道", level="street", parent=city)
    town = R(code="441900113", name="大朗镇", level="town", parent=city, functional_area=fa)
    other = R(code="441900121", name="虎门镇", level="town", parent=city)
    village = R(
        code="441900113201", name="水口村", level="village", parent=town, official_code=False
    )

    C = ServiceCenter.objects.create
    city_center = C(
        code="SC441900",
        name="东莞市民服务中心",
        level="city",
        region=city,
        address="南城街道鸿福路",
        opening_hours=STANDARD_HOURS,
        has_self_service_area=True,
    )
    town_center = C(
        code="SC441900113",
        name="大朗镇政务服务中心",
        level="town",
        region=town,
        opening_hours=STANDARD_HOURS,
    )
    other_center = C(
        code="SC441900121",
        name="虎门镇政务服务中心",
        level="town",
        region=other,
        opening_hours=STANDARD_HOURS,
    )
    village_point = C(
        code="SC441900113201",
        name="水口村党群服务中心",
        level="village",
        region=village,
        opening_hours=VILLAGE_HOURS,
    )

    D = Department.objects.create
    market = D(
        code="D-SCJG",
        name="东莞市市场监督管理局",
        short_name="市场监管局",
        level="city",
        region=city,
    )
    health = D(code="D-WJ", name="东莞市卫生健康局", short_name="卫健局", level="city", region=city)
    town_dept = D(
        code="D-113-GGFW",
        name="大朗镇公共服务办公室",
        short_name="公共服务办",
        level="town",
        region=town,
    )

    Window.objects.create(
        center=city_center, number="1", kind="comprehensive", name="综合受理1号窗"
    )
    Window.objects.create(center=city_center, number="20", kind="department", department=market)
    Window.objects.create(center=town_center, number="1", kind="comprehensive")
    Window.objects.create(center=village_point, number="1", kind="comprehensive")

    world = World(
        city,
        street,
        town,
        other,
        fa,
        village,
        city_center,
        town_center,
        other_center,
        village_point,
        market,
        health,
        town_dept,
    )
    u = world.users
    u["city_clerk"] = make_user("city_clerk")
    assign(u["city_clerk"], Role.WINDOW_CLERK, center=city_center)
    u["town_clerk"] = make_user("town_clerk")
    assign(u["town_clerk"], Role.WINDOW_CLERK, center=town_center)
    u["village_clerk"] = make_user("village_clerk")
    assign(u["village_clerk"], Role.WINDOW_CLERK, center=village_point)
    u["reviewer"] = make_user("reviewer")
    assign(u["reviewer"], Role.REVIEWER, department=market)
    u["approver"] = make_user("approver")
    assign(u["approver"], Role.APPROVER, department=market)
    u["center_admin"] = make_user("center_admin")
    assign(u["center_admin"], Role.CENTER_ADMIN, center=city_center)
    u["town_admin"] = make_user("town_admin")
    assign(u["town_admin"], Role.CENTER_ADMIN, region=town)
    u["agent"] = make_user("agent")
    assign(u["agent"], Role.AGENT, center=city_center)
    u["catalog_admin"] = make_user("catalog_admin", is_staff=True)
    assign(u["catalog_admin"], Role.CATALOG_ADMIN, region=city)
    u["supervisor"] = make_user("supervisor")
    assign(u["supervisor"], Role.SUPERVISOR, region=city)
    u["auditor"] = make_user("auditor")
    assign(u["auditor"], Role.AUDITOR, region=city)
    u["citizen"] = make_user("citizen", kind="applicant", display_name="张三", mobile="13800138000")
    Applicant.objects.create(
        kind="natural", user=u["citizen"], name="张三", id_number=RESIDENT_ID, mobile="13800138000"
    )
    u["enterprise"] = make_user("enterprise", kind="applicant", display_name="示例科技有限公司")
    Applicant.objects.create(
        kind="legal",
        user=u["enterprise"],
        name="示例科技有限公司",
        uscc=USCC,
        legal_representative="李四",
        mobile="13900139000",
    )
    return world
