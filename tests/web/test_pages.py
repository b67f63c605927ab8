"""The portal shell: every page renders for the right users, each role's home shows its own
scope, elder mode and the language switch work, and the English catalogue is complete."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.factories import PASSWORD, RESIDENT_ID, USCC, assign, make_user
from tongban.accounts.models import Applicant
from tongban.core.masking import mask_name
from tongban.org.models import Department, Region, ServiceCenter, Window
from tongban.org.roles import Role
from tongban.web.middleware import ELDER_COOKIE
from tongban.web.templatetags.tongban import tb_date, tb_datetime

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
PO_PATH = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES" / "django.po"

STAFF_HOMES = {
    "city_clerk": Role.WINDOW_CLERK,
    "town_clerk": Role.WINDOW_CLERK,
    "village_clerk": Role.WINDOW_CLERK,
    "reviewer": Role.REVIEWER,
    "approver": Role.APPROVER,
    "center_admin": Role.CENTER_ADMIN,
    "town_admin": Role.CENTER_ADMIN,
    "agent": Role.AGENT,
    "catalog_admin": Role.CATALOG_ADMIN,
    "supervisor": Role.SUPERVISOR,
    "auditor": Role.AUDITOR,
}


def signed_in(world, key: str, **client_kwargs) -> Client:
    client = Client(**client_kwargs)
    client.force_login(world.user(key), backend="tongban.accounts.backends.IdentifierBackend")
    return client


def english(client: Client) -> Client:
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


def html(response) -> str:
    return response.content.decode()


def visible_text(markup: str) -> str:
    """The page's text as a reader meets it: no scripts or styles, tags removed."""
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", markup)
    return re.sub(r"<[^>]+>", " ", markup)


def data_values() -> list[str]:
    """Names that are data, not interface: they stay Chinese on English pages."""
    values: set[str] = {"中文"}  # the language switch names Chinese in Chinese
    for model, fields in (
        (Region, ("name",)),
        (ServiceCenter, ("name", "address")),
        (Department, ("name", "short_name")),
        (Window, ("name",)),
    ):
        for row in model.objects.values_list(*fields):
            values.update(v for v in row if v)
    for a in Applicant.objects.all():
        values.update({a.name, a.masked_name})
        if a.legal_representative:
            values.update({a.legal_representative, mask_name(a.legal_representative)})
    from django.contrib.auth import get_user_model

    values.update(v for v in get_user_model().objects.values_list("display_name", flat=True) if v)
    return sorted(values, key=len, reverse=True)


def assert_no_chinese(response, extra: tuple[str, ...] = ()) -> None:
    text = visible_text(html(response))
    for value in (*extra, *data_values()):
        text = text.replace(value, " ")
    # Opening hours join periods with the ideographic comma (org.hours); that is data layout.
    text = re.sub(r"(\d)、(\d)", r"\1,\2", text)
    found = sorted(set(CJK.findall(text)))
    context = [m.group(0) for m in re.finditer(r".{0,30}[\u4e00-\u9fff]+.{0,30}", text)][:5]
    assert not found, f"untranslated text on an English page: {found} in {context}"


# --- public pages ------------------------------------------------------------------------------


def test_public_pages_render_for_anonymous(client, world):
    for url in (
        reverse("web:landing"),
        reverse("org:center_list"),
        reverse("org:center_detail", args=[world.city_center.code]),
        reverse("accounts:login"),
        reverse("accounts:register"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = html(response)
        assert '<html lang="zh-hans"' in page
        assert 'href="#main"' in page  # skip link
        for landmark in ("<header", "<nav", '<main id="main"', "<footer"):
            assert landmark in page, (url, landmark)
        assert reverse("set_language") in page and reverse("web:elder_toggle") in page


def test_landing_counts_the_network_from_records(client, world):
    response = client.get(reverse("web:landing"))
    network = {row["level"]: row["count"] for row in response.context["network"]}
    assert network == {"city": 1, "town": 2, "village": 1}
    assert response.context["network_total"] == 4
    page = html(response)
    assert "大朗镇" in page and 'action="/org/centers/"' in page
    ServiceCenter.objects.create(
        code="SC-X", name="新建服务点", level="village", region=world.village
    )
    assert client.get("/").context["network_total"] == 5


def test_center_directory_filters_paginates_and_says_what_to_do_when_empty(client, world):
    page = html(client.get(reverse("org:center_list"), {"level": "town"}))
    assert "大朗镇政务服务中心" in page and "虎门镇政务服务中心" in page
    assert "东莞市民服务中心" not in page
    page = html(client.get(reverse("org:center_list"), {"region": world.town.code}))
    assert "大朗镇政务服务中心" in page and "水口村党群服务中心" in page
    assert "虎门镇政务服务中心" not in page
    page = html(client.get(reverse("org:center_list"), {"q": "不存在的地方"}))
    assert "没有找到符合条件的服务中心" in page and "查看全部服务中心" in page
    for i in range(25):
        ServiceCenter.objects.create(
            code=f"SC-V{i:02d}", name=f"测试服务点{i:02d}", level="village", region=world.village
        )
    first = client.get(reverse("org:center_list"), {"level": "village"})
    assert first.context["page"].paginator.num_pages == 2
    assert "?level=village&amp;page=2" in html(first)
    second = client.get(reverse("org:center_list"), {"level": "village", "page": 2})
    assert second.status_code == 200 and len(second.context["page"].object_list) == 6


def test_center_detail_shows_hours_and_windows(client, world):
    page = html(client.get(reverse("org:center_detail", args=[world.city_center.code])))
    assert "周一至周五 09:00–12:00、13:30–17:30" in page
    assert "综合受理1号窗" in page and "东莞市市场监督管理局" in page
    assert client.get(reverse("org:center_detail", args=["NOPE"])).status_code == 404


def test_custom_404_page(client, world):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = html(response)
    assert "页面不存在" in page and 'class="error-page"' in page and "<main" in page


# --- workbench ---------------------------------------------------------------------------------


def test_workbench_redirects_anonymous_to_login(client, world):
    for url in (reverse("web:workbench"), reverse("web:my_scope")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.parametrize("key", sorted(STAFF_HOMES))
def test_every_staff_role_sees_its_home_and_scope_page(world, key):
    client = signed_in(world, key)
    response = client.get(reverse("web:workbench"))
    assert response.status_code == 200
    assert response.context["role"] is STAFF_HOMES[key]
    assert f'data-role="{STAFF_HOMES[key].value}"' in html(response)
    scope = client.get(reverse("web:my_scope"))
    assert scope.status_code == 200 and len(scope.context["assignments"]) == 1


@pytest.mark.parametrize(
    ("key", "present", "absent"),
    [
        (
            "town_clerk",
            ["大朗镇政务服务中心", "周一至周五"],
            ["虎门镇政务服务中心", "东莞市民服务中心"],
        ),
        (
            "city_clerk",
            ["东莞市民服务中心", "综合受理1号窗", "南城街道鸿福路"],
            ["大朗镇政务服务中心"],
        ),
        ("village_clerk", ["水口村党群服务中心", "周一至周五 08:30–12:00"], ["大朗镇政务服务中心"]),
        (
            "reviewer",
            ["东莞市市场监督管理局", "东莞市民服务中心"],
            ["大朗镇公共服务办公室", "东莞市卫生健康局"],
        ),
        ("approver", ["东莞市市场监督管理局", "东莞市民服务中心"], ["大朗镇公共服务办公室"]),
        ("center_admin", ["东莞市民服务中心"], ["大朗镇政务服务中心", "水口村党群服务中心"]),
        (
            "town_admin",
            ["大朗镇政务服务中心", "水口村党群服务中心"],
            ["虎门镇政务服务中心", "东莞市民服务中心"],
        ),
        ("catalog_admin", ["东莞市市场监督管理局", "大朗镇公共服务办公室", 'href="/admin/"'], []),
    ],
)
def test_each_home_shows_its_own_scope_only(world, key, present, absent):
    page = html(signed_in(world, key).get(reverse("web:workbench")))
    for text in present:
        assert text in page, (key, text)
    for text in absent:
        assert text not in page, (key, text)


def test_agent_home_lists_agency_windows_in_scope_only(world):
    Window.objects.create(center=world.city_center, number="30", kind="agency", name="代办甲窗")
    Window.objects.create(center=world.town_center, number="9", kind="agency", name="代办乙窗")
    page = html(signed_in(world, "agent").get(reverse("web:workbench")))
    assert "代办甲窗" in page and "代办乙窗" not in page


def test_supervisor_home_counts_live_records(world):
    client = signed_in(world, "supervisor")
    ctx = client.get(reverse("web:workbench")).context
    assert {t.label: t.count for t in ctx["centers_by_level"]} == {
        "市级": 1,
        "镇街级": 2,
        "村（社区）级": 1,
    }
    regions = {t.label: t.count for t in ctx["regions_by_level"]}
    assert regions["镇"] == 2 and regions["村"] == 1 and regions["功能区"] == 1
    assert ctx["department_total"] == 3 and ctx["window_total"] == 4
    staff = {t.label: t.count for t in ctx["assignments_by_role"]}
    assert staff["综合窗口人员"] == 3 and staff["中心管理员"] == 2 and staff["审计人员"] == 1
    Window.objects.create(center=world.other_town_center, number="2", kind="enquiry")
    assert client.get(reverse("web:workbench")).context["window_total"] == 5


def test_auditor_home_shows_masked_events_and_chain_status(world, client):
    client.post(reverse("accounts:login"), {"username": RESIDENT_ID, "password": "wrong-one"})
    response = signed_in(world, "auditor").get(reverse("web:workbench"))
    page = html(response)
    assert response.context["chain"].ok and "完整" in page
    assert "登录失败" in page and "110***********002X" in page
    assert RESIDENT_ID not in page


def test_applicant_homes_mask_identity_and_list_own_sign_ins(world):
    citizen = Client()
    assert (
        citizen.post(
            reverse("accounts:login"), {"username": RESIDENT_ID, "password": PASSWORD}
        ).status_code
        == 302
    )
    page = html(citizen.get(reverse("web:workbench")))
    assert "张*" in page and "110***********002X" in page and "138****8000" in page
    assert RESIDENT_ID not in page and "13800138000" not in page and "张三" not in page
    assert "最近登录记录" in page and "网页" in page and "暂无登录记录" not in page
    assert 'href="/org/centers/"' in page

    enterprise = signed_in(world, "enterprise")
    page = html(enterprise.get(reverse("web:workbench")))
    assert "示例科技有限公司" in page and "9111**********341L" in page and "李*" in page
    assert USCC not in page
    # Sign-ins listed are the account's own.
    assert html(enterprise.get(reverse("web:workbench"))).count("<time") <= 12


def test_several_roles_get_a_role_switcher(world):
    user = world.user("town_admin")
    assign(user, Role.AGENT, region=world.town)
    client = signed_in(world, "town_admin")
    page = html(client.get(reverse("web:workbench")))
    assert 'href="?role=agent"' in page and 'href="?role=center_admin"' in page
    response = client.get(reverse("web:workbench"), {"role": "agent"})
    assert response.context["role"] is Role.AGENT
    assert 'data-role="agent"' in html(response)
    assert len(client.get(reverse("web:my_scope")).context["assignments"]) == 2


def test_staff_without_role_sees_a_readable_page(client, db):
    user = make_user("nobody")
    client.force_login(user, backend="tongban.accounts.backends.IdentifierBackend")
    response = client.get(reverse("web:workbench"))
    assert response.status_code == 403 and "尚未分配岗位" in html(response)


def test_navigation_follows_roles(world, client):
    anonymous = html(client.get("/"))
    assert 'href="/workbench/"' not in anonymous
    page = html(signed_in(world, "catalog_admin").get(reverse("web:my_scope")))
    assert 'href="/admin/"' in page
    assert '<a href="/workbench/scope/" aria-current="page">' in page
    assert '<a href="/workbench/" aria-current="page">' not in page
    assert 'href="/admin/"' not in html(signed_in(world, "supervisor").get("/"))


def test_django_admin_keeps_working(client, db):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(root, backend="tongban.accounts.backends.IdentifierBackend")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/org/servicecenter/").status_code == 200


# --- elder mode and language ---------------------------------------------------------------


def test_elder_toggle_sets_cookie_and_body_class(client, world):
    assert '<body class="">' in html(client.get("/"))
    response = client.post(reverse("web:elder_toggle"), {"next": "/org/centers/"})
    assert response.status_code == 302 and response["Location"] == "/org/centers/"
    assert response.cookies[ELDER_COOKIE].value == "1"
    for url in ("/", "/org/centers/", "/accounts/login/"):
        page = html(client.get(url))
        assert '<body class="elder">' in page and "退出长辈版" in page
    response = client.post(reverse("web:elder_toggle"), {"next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert response.cookies[ELDER_COOKIE].value == ""
    assert '<body class="">' in html(client.get("/"))


def test_language_switch_renders_english_and_keeps_next(client, world):
    response = client.post(
        reverse("set_language"), {"language": "en", "next": "/org/centers/?level=town"}
    )
    assert response.status_code == 302 and response["Location"] == "/org/centers/?level=town"
    page = html(client.get("/"))
    assert '<html lang="en"' in page and "Sign in" in page and "中文" in page
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans"' in html(client.get("/"))


def test_english_public_pages_have_no_untranslated_text(client, world):
    english(client)
    for url in (
        "/",
        "/org/centers/",
        "/org/centers/?q=nothing-matches",
        reverse("org:center_detail", args=[world.city_center.code]),
        reverse("org:center_detail", args=[world.village_point.code]),
        "/accounts/login/",
        "/accounts/register/",
        "/no-such-page/",
    ):
        assert_no_chinese(client.get(url))
    assert_no_chinese(client.post("/accounts/login/", {"username": "x", "password": "y"}))
    assert_no_chinese(
        client.post(
            "/accounts/register/",
            {"kind": "legal", "name": "", "uscc": "123", "mobile": "12", "password": "1"},
        )
    )
    client.post(reverse("web:elder_toggle"), {"next": "/"})
    assert_no_chinese(client.get("/"))


@pytest.mark.parametrize("key", ["citizen", "enterprise", *sorted(STAFF_HOMES)])
def test_english_workbenches_have_no_untranslated_text(world, key):
    client = english(signed_in(world, key))
    response = client.get(reverse("web:workbench"))
    assert response.status_code == 200
    assert '<html lang="en"' in html(response)
    assert_no_chinese(response)
    if key not in ("citizen", "enterprise"):
        assert_no_chinese(client.get(reverse("web:my_scope")))


def test_english_lockout_page(client, world):
    english(client)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "town_clerk", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "town_clerk", "password": "wrong"})
    assert response.status_code == 429
    assert "15 minutes" in html(response)
    assert_no_chinese(response)


def test_lockout_page_says_when_to_retry(client, world):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "town_clerk", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "town_clerk", "password": PASSWORD})
    assert response.status_code == 429
    page = html(response)
    assert "账户已暂时锁定" in page and "请在 15 分钟后再试" in page


def test_dates_are_chinese_or_iso():
    moment = dt.datetime(2026, 11, 27, 6, 5, tzinfo=dt.UTC)  # 14:05 in Shanghai
    with translation.override("zh-hans"):
        assert tb_date(dt.date(2026, 11, 27)) == "2026年11月27日"
        assert tb_datetime(moment) == "2026年11月27日 14:05"
    with translation.override("en"):
        assert tb_date(dt.date(2026, 11, 27)) == "2026-11-27"
        assert tb_datetime(moment) == "2026-11-27 14:05"


# --- forms -------------------------------------------------------------------------------------


def test_login_errors_are_summarized(client, world):
    response = client.post("/accounts/login/", {"username": "town_clerk", "password": "nope"})
    assert response.status_code == 200
    page = html(response)
    assert 'class="error-summary"' in page and "账号或密码错误" in page


def test_login_with_identifier_reaches_the_workbench(client, world):
    response = client.post(
        "/accounts/login/", {"username": USCC, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("web:workbench")
    assert response.context["role"] is Role.APPLICANT


def test_register_errors_render_next_to_fields_and_on_top(client, db):
    response = client.post(
        "/accounts/register/",
        {
            "kind": "natural",
            "name": "王五",
            "id_number": "110105194912310021",
            "mobile": "13700137000",
            "password": "Tongban#2026",
            "password_again": "Different#2026",
        },
    )
    assert response.status_code == 400
    page = html(response)
    assert 'class="error-summary"' in page
    assert 'href="#id_password_again"' in page
    assert 'id="id_password_again_error"' in page and "两次输入的密码不一致" in page
    assert 'aria-describedby="id_password_again_error"' in page
    assert 'aria-invalid="true"' in page

    response = client.post(
        "/accounts/register/",
        {
            "kind": "natural",
            "name": "王五",
            "id_number": "110105194912310021",
            "mobile": "13700137000",
            "password": "Tongban#2026",
            "password_again": "Tongban#2026",
        },
    )
    page = html(response)
    assert 'id="id_id_number_error"' in page and "校验位" in page
    assert 'href="#id_id_number"' in page


def test_register_page_offers_both_kinds_without_javascript(client, db):
    page = html(client.get("/accounts/register/"))
    for name in ("id_number", "uscc", "legal_representative"):
        assert f'name="{name}"' in page
    assert 'value="natural"' in page and 'value="legal"' in page
    assert "自然人填写，18位" in page and "法人填写，18位" in page
    response = client.post(
        "/accounts/register/",
        {
            "kind": "legal",
            "name": "东莞示例贸易有限公司",
            "uscc": "91441900MA4UXXXX1X",
            "legal_representative": "赵六",
            "mobile": "13600136000",
            "password": "Tongban#2026",
            "password_again": "Tongban#2026",
        },
    )
    assert response.status_code == 400
    assert 'id="id_uscc_error"' in html(response)


# --- catalogues --------------------------------------------------------------------------------


def test_english_catalogue_is_complete():
    po = polib.pofile(str(PO_PATH))
    assert len(po) > 100
    assert not po.untranslated_entries(), [e.msgid for e in po.untranslated_entries()][:10]
    assert not po.fuzzy_entries(), [e.msgid for e in po.fuzzy_entries()][:10]
    assert "fuzzy" not in po.metadata_as_entry().flags
    for entry in po:
        # Chinese may appear only as quoted literal input ("是" / "否" in an import file).
        for text in (entry.msgstr, *entry.msgstr_plural.values()):
            assert not CJK.search(re.sub(r'"[^"]*"', "", text)), entry.msgid
        names = set(re.findall(r"%\((\w+)\)", entry.msgid))
        translated = entry.msgstr or entry.msgstr_plural.get(0, "")
        assert names == set(re.findall(r"%\((\w+)\)", translated)), entry.msgid


def test_committed_mo_matches_the_po():
    po = polib.pofile(str(PO_PATH))
    mo = polib.mofile(str(PO_PATH.with_suffix(".mo")))

    def entries(catalogue):
        return {(e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural)) for e in catalogue}

    compiled = entries(po.translated_entries())
    stored = entries(mo)
    assert stored == compiled
    assert PO_PATH.with_suffix(".mo").read_bytes() == po.to_binary()


def test_compile_catalogues_check_passes():
    call_command("compile_catalogues", "--check")


def test_pages_load_no_asset_from_the_internet(client, world):
    page = html(client.get("/"))
    assert "/static/tongban/css/tongban.css" in page and "/static/django_htmx/" in page
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', page)


def test_500_page_renders_in_the_shell(rf, world):
    from django.contrib.auth.models import AnonymousUser

    from tongban.web.views import error_500

    request = rf.get("/")
    request.user = AnonymousUser()
    request.elder_mode = False
    response = error_500(request)
    assert response.status_code == 500
    assert "服务暂时不可用" in response.content.decode()
