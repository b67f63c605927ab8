"""The Dongguan demo world: counts of the reform, every role staffed, valid identities, and a
second run that changes nothing."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import RequestFactory, override_settings

from tongban.accounts.models import Applicant
from tongban.core.validators import validate_mobile, validate_resident_id, validate_uscc
from tongban.org import demo
from tongban.org.models import Department, Region, ServiceCenter, StaffAssignment, Window
from tongban.org.roles import Role

pytestmark = pytest.mark.django_db

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module", autouse=True)
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module inside a transaction that is rolled back at the end, so the
    world does not leak into other test modules; each test runs in a savepoint inside it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        with override_settings(PASSWORD_HASHERS=FAST_HASHER):
            result = demo.seed("dongguan")
    try:
        yield result
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _counts() -> dict[str, int]:
    return {
        "regions": Region.objects.count(),
        "centers": ServiceCenter.objects.count(),
        "departments": Department.objects.count(),
        "windows": Window.objects.count(),
        "users": get_user_model().objects.count(),
        "assignments": StaffAssignment.objects.count(),
        "applicants": Applicant.objects.count(),
    }


# --- Places ---------------------------------------------------------------------------------------
def test_regions_are_the_45_of_the_reference_data_plus_586_villages_and_communities():
    assert Region.objects.count() == 45 + 586
    assert Region.objects.filter(level__in=["village", "community"]).count() == 586
    assert Region.objects.filter(level="city").get().code == "441900"
    assert Region.objects.filter(level="street").count() == 4
    assert Region.objects.filter(level="town").count() == 28
    assert Region.objects.filter(level="functional_area").count() == 12
    assert set(Region.objects.filter(official_code=False, code__startswith="DG-")) == set(
        Region.objects.filter(code__startswith="DG-")
    )
    assert Region.objects.get(code="441900113").official_code is True


def test_village_mix_is_close_to_dongguans():
    villages = Region.objects.filter(level="village").count()
    communities = Region.objects.filter(level="community").count()
    assert 300 <= villages <= 400
    assert 200 <= communities <= 290
    # Streets are urban: mostly communities.
    street_villages = Region.objects.filter(level="village", parent__level="street").count()
    street_communities = Region.objects.filter(level="community", parent__level="street").count()
    assert street_communities > 3 * street_villages


def test_paths_are_what_region_save_would_compute():
    for region in Region.objects.select_related("parent"):
        expected = (region.parent.path if region.parent_id else "") + f"{region.code}/"
        assert region.path == expected, region.code


def test_village_codes_and_names():
    for region in Region.objects.filter(level__in=["village", "community"]).select_related(
        "parent"
    ):
        assert region.parent.level in ("street", "town", "functional_area")
        assert len(region.code) == 12 and region.code.startswith(region.parent.code)
        assert region.official_code is False
        assert region.name.endswith("社区" if region.level == "community" else "村")
    for parent in Region.objects.filter(level__in=["street", "town"]):
        names = list(parent.children.values_list("name", flat=True))
        assert names, f"{parent.name} has no villages or communities"
        assert len(names) == len(set(names))
    parks = {r.parent.code for r in Region.objects.filter(parent__level="functional_area")}
    assert parks == {"441900401", "441900404"}


def test_functional_areas_follow_the_2019_reform():
    ssh = Region.objects.get(code="DG-FA-SSH")
    sx = Region.objects.get(code="DG-FA-SX")
    assert set(ssh.member_regions.values_list("name", flat=True)) == {
        "石龙镇", "茶山镇", "石排镇", "企石镇", "横沥镇", "东坑镇", "寮步镇", "大朗镇",
        "大岭山镇", "松山湖高新技术产业开发区", "东莞生态园",
    }  # fmt: skip
    assert set(sx.member_regions.values_list("name", flat=True)) == {
        "道滘镇", "洪梅镇", "麻涌镇", "望牛墩镇", "中堂镇",
    }  # fmt: skip
    for code in ("441900101", "441900404", "DG-FA-SSH", "DG-FA-SX", "DG-PQ-CQ", "441900402"):
        assert Region.objects.get(code=code).functional_area_id is None, code


# --- Centers and windows --------------------------------------------------------------------------
def test_service_network_is_35_centers_and_586_village_points():
    assert ServiceCenter.objects.filter(level="village").count() == 586
    assert ServiceCenter.objects.filter(level__in=["city", "town"]).count() == 35
    city = ServiceCenter.objects.get(level="city")
    assert (city.code, city.name, city.region.code) == ("SC441900", "东莞市民服务中心", "441900")
    assert city.has_self_service_area
    assert ServiceCenter.objects.get(code="SC441900113").name == "大朗镇政务服务中心"


def test_every_town_and_street_has_a_center_and_every_village_a_point():
    for region in Region.objects.filter(level__in=["street", "town"]):
        assert region.centers.filter(level="town").count() == 1, region.name
    for region in Region.objects.filter(level__in=["village", "community"]):
        point = region.centers.get()
        assert point.level == "village" and point.code == f"SC{region.code}"
        assert point.name.endswith(f"{region.name}党群服务中心")


def test_opening_hours_and_self_service_areas():
    from tongban.org.hours import STANDARD_HOURS, VILLAGE_HOURS

    for center in ServiceCenter.objects.all():
        center.full_clean()
        if center.level == "village":
            assert center.opening_hours == VILLAGE_HOURS
            assert not center.has_self_service_area
        else:
            assert center.opening_hours == STANDARD_HOURS
            assert center.has_self_service_area


def test_windows_per_center():
    city = ServiceCenter.objects.get(code="SC441900")
    kinds = set(city.windows.values_list("kind", flat=True))
    assert kinds == {"comprehensive", "department", "agency", "enquiry"}
    assert city.windows.count() >= 50
    assert city.windows.filter(kind="department", department__code="D-SCJG").exists()
    for center in ServiceCenter.objects.filter(level="town"):
        assert center.windows.count() == 8, center.name
        assert center.windows.filter(kind="department", department__isnull=False).count() == 1
    for center in ServiceCenter.objects.filter(level="village").prefetch_related("windows"):
        windows = list(center.windows.all())
        assert 1 <= len(windows) <= 2
        assert {w.kind for w in windows} == {"comprehensive"}


def test_departments():
    city = Department.objects.filter(level="city")
    assert city.count() == 34
    assert city.filter(code="D-ZSJ", name="东莞市政务服务数据管理局").exists()
    assert set(city.values_list("region__code", flat=True)) == {"441900"}
    for town in Region.objects.filter(level__in=["street", "town"]):
        assert 1 <= town.departments.count() <= 5, town.name
    assert Department.objects.get(code="D-113-GGFW").name == "大朗镇公共服务办公室"


def test_centers_api_counts(client):
    village = client.get("/api/v1/centers", {"level": "village"})
    assert village.status_code == 200
    assert village.json()["count"] == 586
    town = client.get("/api/v1/centers", {"level": "town"}).json()["count"]
    city = client.get("/api/v1/centers", {"level": "city"}).json()["count"]
    assert (city, town) == (1, 34)
    dalang = client.get("/api/v1/centers", {"region": "441900113", "level": "village"}).json()
    assert dalang["count"] == Region.objects.get(code="441900113").children.count()


# --- People ---------------------------------------------------------------------------------------
def test_every_staff_role_is_held():
    for role in Role:
        if role is Role.APPLICANT:
            continue
        assert StaffAssignment.objects.filter(role=role.value, active=True).exists(), role


def test_roles_at_every_level():
    def held(role: Role, **scope) -> bool:
        return StaffAssignment.objects.filter(role=role.value, active=True, **scope).exists()

    assert held(Role.WINDOW_CLERK, center__level="city")
    assert held(Role.WINDOW_CLERK, center__code="SC441900113")
    assert held(Role.WINDOW_CLERK, center__level="village")
    for level in ("city", "town"):
        assert held(Role.REVIEWER, department__level=level)
        assert held(Role.APPROVER, department__level=level)
    assert held(Role.CENTER_ADMIN, center__level="city")
    assert held(Role.CENTER_ADMIN, region__code="441900113")
    assert held(Role.AGENT, center__code="SC441900")
    assert held(Role.SUPERVISOR, region__code="441900")
    assert held(Role.SUPERVISOR, region__level="town")
    assert held(Role.AUDITOR, region__code="441900")
    assert held(Role.CATALOG_ADMIN, region__code="441900")
    # Every town center has a clerk.
    staffed = set(
        StaffAssignment.objects.filter(role="window_clerk").values_list("center__code", flat=True)
    )
    assert set(ServiceCenter.objects.exclude(level="village").values_list("code", flat=True)) <= (
        staffed
    )


def test_every_assignment_is_valid():
    assignments = StaffAssignment.objects.all()
    assert assignments.count() >= 40
    for assignment in assignments:
        assignment.full_clean()
        assert assignment.user.kind == "staff"


def test_demo_users(seeded):
    User = get_user_model()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(username="catalog_admin").is_staff
    assert not User.objects.get(username="clerk_city").is_staff
    clerk = User.objects.get(username="clerk_dalang")
    assert clerk.display_name.startswith("大朗政务服务中心综合窗口 ")
    # One hash for everyone.
    demo_users = User.objects.filter(username__in=[a.username for a in seeded.accounts])
    assert demo_users.count() == len(seeded.accounts)
    assert demo_users.values("password").distinct().count() == 1


def test_applicants_have_valid_identities():
    natural = Applicant.objects.filter(kind="natural", user__isnull=False)
    legal = Applicant.objects.filter(kind="legal", user__isnull=False)
    assert natural.count() >= 20
    assert legal.count() >= 10
    for applicant in natural:
        assert validate_resident_id(applicant.id_number) == applicant.id_number
        assert applicant.id_number.startswith("441900")
        validate_mobile(applicant.mobile)
        assert applicant.user.kind == "applicant"
    for applicant in legal:
        assert validate_uscc(applicant.uscc) == applicant.uscc
        assert applicant.legal_representative
        validate_resident_id(applicant.legal_representative_id_number)
        validate_mobile(applicant.mobile)
    mobiles = list(Applicant.objects.values_list("mobile", flat=True))
    assert len(mobiles) == len(set(mobiles))
    assert Applicant.objects.get(user__username="citizen").kind == "natural"
    assert Applicant.objects.get(user__username="enterprise").kind == "legal"


def _login(client, username: str) -> bool:
    # django-axes wants the request that authenticate() is given.
    request = RequestFactory().post("/accounts/login/")
    return client.login(request=request, username=username, password=demo.DEMO_PASSWORD)


def test_demo_accounts_can_log_in(client, seeded):
    assert len(seeded.accounts) >= 60
    for account in seeded.accounts:
        assert _login(client, account.username), account
        client.logout()


def test_applicant_logs_in_with_id_number(client):
    applicant = Applicant.objects.get(user__username="citizen")
    assert _login(client, applicant.id_number)


# --- Idempotency and the command ------------------------------------------------------------------
def test_second_run_changes_nothing():
    before = _counts()
    result = demo.seed("dongguan")
    assert not result.changed, (result.created, result.updated)
    assert _counts() == before == result.totals


def test_seed_restores_changed_rows():
    Region.objects.filter(code="441900113").update(name="改过的名字")
    ServiceCenter.objects.filter(code="SC441900").update(opening_hours={})
    result = demo.seed("dongguan")
    assert result.updated["regions"] == 1 and result.updated["centers"] == 1
    assert Region.objects.get(code="441900113").name == "大朗镇"


def test_command_prints_accounts_and_url():
    out = io.StringIO()
    call_command("seed_demo", profile="dongguan", stdout=out)
    text = out.getvalue()
    for username in ("clerk_city", "clerk_dalang", "reviewer_scjg", "admin", "citizen"):
        assert f"  {username} " in text
    assert demo.DEMO_PASSWORD in text
    assert "http://" in text
    assert "Nothing changed" in text


def test_command_quiet_prints_nothing():
    out = io.StringIO()
    call_command("seed_demo", "--profile", "dongguan", "--quiet", stdout=out)
    assert out.getvalue() == ""


def test_command_rejects_unknown_profile():
    with pytest.raises(CommandError, match=r"Unknown demo profile.*dongguan"):
        call_command("seed_demo", profile="shenzhen")
    with pytest.raises(CommandError):
        call_command("seed_demo")


def test_catalog_admin_can_use_the_django_admin(client, seeded):
    from django.test import RequestFactory

    user = get_user_model().objects.get(username="catalog_admin")
    assert user.has_perm("org.change_servicecenter")
    assert user.has_perm("core.change_calendarday")
    assert not user.has_perm("accounts.change_user")
    request = RequestFactory().post("/accounts/login/")
    assert client.login(request=request, username="catalog_admin", password=demo.DEMO_PASSWORD)
    response = client.get("/admin/org/servicecenter/")
    assert response.status_code == 200
