"""Catalog pages: the public guide (办事指南), browse and search, and the catalog workbench
(permissions, forms that keep what was typed, four-eyes review and publishing)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.catalog.factories import make_catalog_admin, make_item
from tongban.catalog import services
from tongban.catalog.models import AcceptanceScope, ItemVersion, Material, ServiceItem
from tongban.core.models import AuditEvent
from tongban.org.hours import describe
from tongban.org.models import Region, ServiceCenter

pytestmark = pytest.mark.django_db


def login(client, user) -> None:
    client.force_login(user)


def text_of(response) -> str:
    """The page's visible text with tags removed and whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---- guide -------------------------------------------------------------------------------------


def test_guide_shows_the_published_version(client, world):
    item = make_item(
        world,
        "食品经营许可",
        promised=10,
        legal=20,
        depth=3,
        visits=1,
        charges_fee=True,
        fee_items="工本费 10 元",
        fee_basis="粤价〔2020〕1号",
        online_payment=True,
        conditions="申请人应当取得营业执照。",
        appointment_supported=True,
        appointment_daily_quota=30,
        faqs=[("可以网上申请吗？", "可以，网上提交后到窗口核验一次。")],
    )
    response = client.get(reverse("catalog:guide", args=[item.code]))
    assert response.status_code == 200
    text = text_of(response)
    for expected in (
        "食品经营许可",
        "东莞市市场监督管理局",
        "20 个工作日",  # legal limit
        "10 个工作日",  # promised limit
        "承诺件",
        "工本费 10 元",
        "最多跑 1 次",
        "Ⅲ级",
        "申请人应当取得营业执照。",
        "可以网上申请吗？",
        "每日 30 个名额",
    ):
        assert expected in text, expected
    # materials checklist: necessity incl. 容缺, a reusable electronic licence marked
    assert "容缺（可后补）" in text
    assert "可复用电子证照" in text
    assert "场地证明" in text
    # five steps with roles and days
    for step in ("受理", "审核", "审批", "办结", "送达"):
        assert step in text
    assert "综合窗口人员" in text
    # the apply and book buttons are always there: 在线办理 opens the online application (a
    # depth Ⅲ item), 预约办理 says why it is not active yet
    html = response.content.decode()
    assert 'data-testid="apply-online"' in html and 'data-testid="book"' in html
    assert reverse("cases_applicant:apply", args=[item.code]) in html
    assert 'aria-disabled="true"' in html
    assert "预约办理将随排队预约功能开通" in text
    assert reverse("catalog:guide_pdf", args=[item.code]) in html


def test_guide_where_to_go_lists_accepting_centers_with_hours(client, world):
    item = make_item(world, "第一类医疗器械生产备案", item_type="21")
    response = client.get(reverse("catalog:guide", args=[item.code]))
    text = text_of(response)
    # department_center for a city department: the citizen service center only
    assert world.city_center.name in text
    assert world.town_center.name not in text
    for line in describe(world.city_center.opening_hours):
        assert line in text
    assert str(AcceptanceScope.DEPARTMENT_CENTER.label) in text


def test_guide_follows_a_delegation_to_the_towns(client, world):
    item = make_item(world, "第一类医疗器械生产备案", item_type="21")
    from tongban.catalog import acceptance

    acceptance.delegate_acceptance(
        [item],
        "any_town",
        "东府办〔2020〕1号（示例）",
        date(2020, 6, 1),
        world.user("catalog_admin"),
    )
    text = text_of(client.get(reverse("catalog:guide", args=[item.code])))
    assert world.town_center.name in text and world.other_town_center.name in text
    assert "就近办" in text


def test_citywide_item_shows_town_centers_and_a_count_of_village_points(client, world):
    # 20 more village points: a 全市通办 item must not list them one by one
    for i in range(20):
        region = Region.objects.create(
            code=f"44190011320{i:02d}", name=f"测试村{i}", level="village", parent=world.town
        )
        ServiceCenter.objects.create(
            code=f"SCV{i:03d}", name=f"测试村{i}党群服务中心", level="village", region=region
        )
    item = make_item(world, "居民身份证换领", subject="natural", scope="citywide")
    response = client.get(reverse("catalog:guide", args=[item.code]))
    text = text_of(response)
    assert world.town_center.name in text
    assert "测试村3党群服务中心" not in text
    assert "另有 21 个村（社区）党群服务中心可就近办理" in text
    assert reverse("org:center_list") + "?level=village" in response.content.decode()


def test_sub_items_are_listed_on_the_base_item(client, world):
    base = make_item(world, "医疗机构执业登记", department=world.health_dept)
    change = make_item(
        world,
        "医疗机构执业登记（变更）",
        department=world.health_dept,
        parent=base,
        business_kind="change",
    )
    response = client.get(reverse("catalog:guide", args=[base.code]))
    assert reverse("catalog:guide", args=[change.code]) in response.content.decode()
    assert "变更" in text_of(response)
    sub = client.get(reverse("catalog:guide", args=[change.code]))
    assert reverse("catalog:guide", args=[base.code]) in sub.content.decode()  # breadcrumb


def test_guide_404_for_unknown_or_unpublished_items(client, world):
    assert client.get(reverse("catalog:guide", args=["NO-SUCH-CODE"])).status_code == 404
    draft = make_item(world, "未发布事项", published=False)
    assert client.get(reverse("catalog:guide", args=[draft.code])).status_code == 404
    assert client.get(reverse("catalog:guide_pdf", args=[draft.code])).status_code == 404


def test_blank_form_download(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = make_item(world, "食品经营许可")
    material = item.published_version.materials.get(name="申请表")
    material.blank_form.save("apply.docx", ContentFile(b"blank form"), save=True)
    response = client.get(reverse("catalog:guide", args=[item.code]))
    url = reverse("catalog:material_file", args=[item.code, material.pk, "form"])
    assert url in response.content.decode()
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"blank form"
    # no sample uploaded; another item's material is not reachable through this item
    assert (
        client.get(
            reverse("catalog:material_file", args=[item.code, material.pk, "sample"])
        ).status_code
        == 404
    )
    other = make_item(world, "其他事项")
    other_material = other.published_version.materials.first()
    assert (
        client.get(
            reverse("catalog:material_file", args=[item.code, other_material.pk, "form"])
        ).status_code
        == 404
    )


# ---- browse and search -------------------------------------------------------------------------


@pytest.fixture
def catalog(world):
    return {
        "food": make_item(
            world,
            "食品经营许可",
            aliases="开饭店\n开餐馆",
            keywords="餐饮",
            themes=["b_food_drug"],
            life_events=["operating_permit"],
            high_frequency=True,
        ),
        "birth": make_item(
            world,
            "出生登记",
            subject="natural",
            department=world.health_dept,
            themes=["p_birth_adoption"],
            life_events=["birth"],
            item_type="07",
        ),
        "device": make_item(world, "第一类医疗器械生产备案", item_type="21"),
    }


def test_browse_lists_items_and_vocabularies(client, catalog):
    response = client.get(reverse("catalog:browse"))
    assert response.status_code == 200
    text = text_of(response)
    for name in ("食品经营许可", "出生登记", "第一类医疗器械生产备案"):
        assert name in text
    assert "个人办事" in text and "法人办事" in text
    assert "生育" in text and "入学" in text  # personal life events by default
    assert "东莞市卫生健康局" in text  # by department


def test_browse_by_life_event_theme_audience_and_department(client, world, catalog):
    by_event = text_of(client.get(reverse("catalog:browse"), {"event": "birth"}))
    assert "出生登记" in by_event and "食品经营许可" not in by_event
    by_theme = text_of(client.get(reverse("catalog:browse"), {"theme": "b_food_drug"}))
    assert "食品经营许可" in by_theme and "出生登记" not in by_theme
    legal = client.get(reverse("catalog:browse"), {"for": "legal"})
    assert "开办企业" in text_of(legal)  # business events on the 法人 tab
    assert "出生登记" not in text_of(legal)
    by_dept = text_of(client.get(reverse("catalog:browse"), {"dept": world.health_dept.code}))
    assert "出生登记" in by_dept and "食品经营许可" not in by_dept
    by_type = text_of(client.get(reverse("catalog:browse"), {"type": "21"}))
    assert "第一类医疗器械生产备案" in by_type and "出生登记" not in by_type


def test_search_box_finds_by_everyday_phrase(client, catalog):
    response = client.get(reverse("catalog:browse"), {"q": "开饭店"})
    assert response.status_code == 200
    text = text_of(response)
    assert "食品经营许可" in text
    assert reverse("catalog:guide", args=[catalog["food"].code]) in response.content.decode()
    assert "“开饭店”的搜索结果" in text


def test_search_with_theme_and_center_filters(client, world, catalog):
    both = {"q": "登记", "event": "birth"}
    text = text_of(client.get(reverse("catalog:browse"), both))
    assert "出生登记" in text and "食品经营许可" not in text
    # the food item is accepted only at its department's center (the city center)
    at_town = text_of(
        client.get(reverse("catalog:browse"), {"q": "开饭店", "center": world.town_center.code})
    )
    assert "食品经营许可" not in at_town
    at_city = text_of(
        client.get(reverse("catalog:browse"), {"q": "开饭店", "center": world.city_center.code})
    )
    assert "食品经营许可" in at_city
    assert f"可在{world.city_center.name}办理" in at_city


def test_search_empty_state_says_what_to_do(client, catalog):
    response = client.get(reverse("catalog:browse"), {"q": "火星移民签证"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="empty"' in html
    assert "换一种说法试试" in text_of(response)


def test_browse_paginates(client, world):
    for i in range(25):
        make_item(world, f"批量事项{i:02d}", index=False)
    first = client.get(reverse("catalog:browse"))
    assert "第 1 页，共 2 页" in text_of(first)
    second = text_of(client.get(reverse("catalog:browse"), {"page": 2}))
    assert "批量事项24" in second and "批量事项00" not in second
    # nonsense page numbers fall back to a real page
    assert client.get(reverse("catalog:browse"), {"page": "abc"}).status_code == 200


def test_suspended_and_retired_items_are_not_listed(client, world):
    make_item(world, "暂停的事项", status="suspended")
    text = text_of(client.get(reverse("catalog:browse")))
    assert "暂停的事项" not in text


# ---- workbench: permissions --------------------------------------------------------------------


WORKBENCH_URLS = ["catalog:workbench", "catalog:review_queue"]


@pytest.mark.parametrize("name", WORKBENCH_URLS)
def test_workbench_anonymous_goes_to_login(client, world, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("username", ["city_clerk", "reviewer", "citizen", "supervisor"])
def test_workbench_forbidden_without_catalog_role(client, world, username):
    item = make_item(world)
    login(client, world.user(username))
    for url in (
        reverse("catalog:workbench"),
        reverse("catalog:review_queue"),
        reverse("catalog:wb_item", args=[item.code]),
        reverse("catalog:wb_version", args=[item.code, 1]),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "无权访问" in text_of(response)
    response = client.post(reverse("catalog:wb_new_version", args=[item.code]))
    assert response.status_code == 403
    assert item.versions.count() == 1


def test_workbench_for_catalog_admin(client, world):
    item = make_item(world, "食品经营许可")
    login(client, world.user("catalog_admin"))
    response = client.get(reverse("catalog:workbench"))
    assert response.status_code == 200
    text = text_of(response)
    assert "食品经营许可" in text and "事项列表" in text
    assert client.get(reverse("catalog:wb_item", args=[item.code])).status_code == 200


def test_catalog_admin_of_another_department_cannot_touch_the_item(client, world):
    item = make_item(world, "食品经营许可")  # market department
    other = make_catalog_admin(world, "health_admin", department=world.health_dept)
    login(client, other)
    listing = text_of(client.get(reverse("catalog:workbench")))
    assert "食品经营许可" not in listing
    assert client.get(reverse("catalog:wb_item", args=[item.code])).status_code == 403
    assert client.post(reverse("catalog:wb_new_version", args=[item.code])).status_code == 403
    assert item.versions.count() == 1


# ---- workbench: editing, four eyes, publishing -------------------------------------------------


def edit_payload(client, item, number, **changes) -> dict:
    """The edit form's current values as the browser would post them, with ``changes``."""
    response = client.get(reverse("catalog:wb_edit", args=[item.code, number]))
    assert response.status_code == 200
    form = response.context["form"]
    data: dict = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    for prefix in ("materials", "steps", "faqs"):
        fs = response.context[prefix]
        data[f"{prefix}-TOTAL_FORMS"] = fs.total_form_count()
        data[f"{prefix}-INITIAL_FORMS"] = fs.initial_form_count()
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
        data[f"{prefix}-MAX_NUM_FORMS"] = 1000
        for i, row in enumerate(fs.forms):  # blank rows too, as a browser posts them
            for name in row.fields:
                value = row[name].value()
                if value not in (None, False):
                    data[f"{prefix}-{i}-{name}"] = value
    data.update(changes)
    return data


def test_edit_form_with_errors_keeps_everything_typed(client, world):
    item = make_item(world, "食品经营许可")
    login(client, world.user("catalog_admin"))
    response = client.post(reverse("catalog:wb_new_version", args=[item.code]))
    assert response.status_code == 302
    data = edit_payload(
        client,
        item,
        2,
        name="食品经营许可（新版名称）",
        promised_limit_days="abc",
        conditions="新的受理条件，刚刚输入。",
        **{"materials-3-name": "", "materials-3-kind": "copy"},  # a half-filled new row
    )
    data["materials-3-copies"] = "2"
    response = client.post(reverse("catalog:wb_edit", args=[item.code, 2]), data)
    assert response.status_code == 422
    html = response.content.decode()
    text = text_of(response)
    assert "草稿未保存" in text  # summary on top
    assert "data-error-summary" in html
    assert "食品经营许可（新版名称）" in html  # typed values come back
    assert "新的受理条件，刚刚输入。" in html
    assert 'value="abc"' in html
    assert "promised_limit_days" in response.context["form"].errors  # next to the field
    assert 'id="id_promised_limit_days_error"' in html
    draft = item.versions.get(number=2)
    assert draft.name == "食品经营许可"  # nothing saved
    assert draft.conditions != "新的受理条件，刚刚输入。"


def test_rule_errors_on_submit_show_next_to_fields(client, world):
    item = make_item(world, "食品经营许可")
    login(client, world.user("catalog_admin"))
    client.post(reverse("catalog:wb_new_version", args=[item.code]))
    # promised 30 > legal 20, and 2 visits on a depth-Ⅳ (全程网办) item: two rule errors
    data = edit_payload(client, item, 2, promised_limit_days="30", max_visits="2", then="submit")
    response = client.post(reverse("catalog:wb_edit", args=[item.code, 2]), data)
    assert response.status_code == 422
    text = text_of(response)
    assert "草稿已保存，但还不能提交审核" in text
    form = response.context["form"]
    assert "promised_limit_days" in form.errors
    assert "max_visits" in form.errors or "online_depth" in form.errors
    assert 'value="30"' in response.content.decode()  # what was typed stays
    version = item.versions.get(number=2)
    assert version.state == ItemVersion.State.DRAFT
    assert version.promised_limit_days == 30  # the draft itself was saved

    # the version page lists the same problems before anyone submits
    page = text_of(client.get(reverse("catalog:wb_version", args=[item.code, 2])))
    assert "提交审核前还需修改" in page
    # and a direct submit is refused with every message
    response = client.post(reverse("catalog:wb_action", args=[item.code, 2, "submit"]))
    assert response.status_code == 422
    assert "操作未完成" in text_of(response)
    version.refresh_from_db()
    assert version.state == ItemVersion.State.DRAFT


def test_section_rule_errors_show_on_their_section(client, world):
    item = make_item(world, "食品经营许可", promised=5)  # five steps of one day each
    login(client, world.user("catalog_admin"))
    client.post(reverse("catalog:wb_new_version", args=[item.code]))
    data = edit_payload(client, item, 2, promised_limit_days="3", then="submit")
    response = client.post(reverse("catalog:wb_edit", args=[item.code, 2]), data)
    assert response.status_code == 422
    assert response.context["section_errors"].get("steps")
    html = response.content.decode()
    steps_section = html[html.index('id="section-steps"') :]
    assert "section-errors" in steps_section[:2000]
    assert 'href="#section-steps"' in html  # the summary links to the section


def test_edit_submit_approve_publish_with_four_eyes(client, world):
    item = make_item(world, "食品经营许可", promised=5)
    editor = world.user("catalog_admin")
    reviewer = make_catalog_admin(world, "catalog_admin_2")

    login(client, editor)
    client.post(reverse("catalog:wb_new_version", args=[item.code]))
    data = edit_payload(
        client,
        item,
        2,
        promised_limit_days="3",
        change_note="承诺时限压缩为3个工作日",
        **{"steps-4-days": "0", "steps-3-days": "0"},
    )
    data["materials-3-name"] = "食品安全管理制度"
    data["materials-3-kind"] = "original"
    data["materials-3-form"] = "both"
    data["materials-3-necessity"] = "required"
    data["materials-3-source"] = "applicant"
    data["materials-3-copies"] = "1"
    data["then"] = "submit"
    response = client.post(reverse("catalog:wb_edit", args=[item.code, 2]), data)
    assert response.status_code == 302, text_of(response)[:2000]
    version = item.versions.get(number=2)
    assert version.state == ItemVersion.State.SUBMITTED
    assert version.promised_limit_days == 3
    assert list(version.materials.values_list("name", flat=True))[-1] == "食品安全管理制度"

    # the editor cannot approve their own work: no button, and a POST is refused
    page = client.get(reverse("catalog:wb_version", args=[item.code, 2]))
    assert 'data-testid="action-approve"' not in page.content.decode()
    assert 'data-testid="four-eyes"' in page.content.decode()
    refused = client.post(reverse("catalog:wb_action", args=[item.code, 2, "approve"]))
    assert refused.status_code == 403
    assert "四眼原则" in text_of(refused)
    version.refresh_from_db()
    assert version.state == ItemVersion.State.SUBMITTED

    # a second administrator sees it in the queue, with the change, and approves
    client.logout()
    login(client, reviewer)
    queue = client.get(reverse("catalog:review_queue"))
    assert "食品经营许可" in text_of(queue) and "可以审核" in text_of(queue)
    page = client.get(reverse("catalog:wb_version", args=[item.code, 2]))
    diff = text_of(page)
    assert "承诺办结时限（工作日）" in diff and "食品安全管理制度" in diff
    response = client.post(reverse("catalog:wb_action", args=[item.code, 2, "approve"]))
    assert response.status_code == 302
    response = client.post(reverse("catalog:wb_action", args=[item.code, 2, "publish"]))
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.published_version.number == 2
    assert item.versions.get(number=1).state == ItemVersion.State.RETIRED

    guide = text_of(client.get(reverse("catalog:guide", args=[item.code])))
    assert "3 个工作日" in guide and "第 2 版" in guide
    actions = set(
        AuditEvent.objects.filter(action__startswith="catalog.version").values_list(
            "action", flat=True
        )
    )
    assert {"catalog.version_submit", "catalog.version_approve", "catalog.version_publish"} <= (
        actions
    )


def test_reject_needs_a_reason_and_shows_it_to_the_editor(client, world):
    item = make_item(world, "食品经营许可")
    editor = world.user("catalog_admin")
    reviewer = make_catalog_admin(world, "catalog_admin_2")
    draft = services.start_new_version(item, editor)
    services.submit(draft, editor)

    login(client, reviewer)
    url = reverse("catalog:wb_action", args=[item.code, draft.number, "reject"])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 422
    assert "请填写退回原因" in text_of(response)
    draft.refresh_from_db()
    assert draft.state == ItemVersion.State.SUBMITTED
    response = client.post(url, {"reason": "材料清单缺少健康证明。"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == ItemVersion.State.DRAFT

    client.logout()
    login(client, editor)
    page = client.get(reverse("catalog:wb_edit", args=[item.code, draft.number]))
    assert "材料清单缺少健康证明。" in text_of(page)


def test_new_version_twice_is_refused_with_a_message(client, world):
    item = make_item(world, "食品经营许可")
    login(client, world.user("catalog_admin"))
    client.post(reverse("catalog:wb_new_version", args=[item.code]))
    response = client.post(reverse("catalog:wb_new_version", args=[item.code]), follow=True)
    assert "已有未发布的第2版" in text_of(response)
    assert item.versions.count() == 2


def test_published_version_cannot_be_edited_through_the_page(client, world):
    item = make_item(world, "食品经营许可")
    login(client, world.user("catalog_admin"))
    response = client.get(reverse("catalog:wb_edit", args=[item.code, 1]))
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:wb_version", args=[item.code, 1])
    data = {"name": "改名", "materials-TOTAL_FORMS": 0}
    client.post(reverse("catalog:wb_edit", args=[item.code, 1]), data)
    assert ItemVersion.objects.get(item=item, number=1).name == "食品经营许可"


def test_workbench_counters_and_state_filter(client, world):
    a = make_item(world, "事项甲")
    make_item(world, "事项乙")
    services.start_new_version(a, world.user("catalog_admin"))
    login(client, world.user("catalog_admin"))
    response = client.get(reverse("catalog:workbench"), {"state": "draft"})
    assert response.context["counters"]["draft"] == 1
    text = text_of(response)
    assert "事项甲" in text and "事项乙" not in text
    assert "共 1 个事项" in text


def test_material_rows_keep_uploaded_files_on_save(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = make_item(world, "食品经营许可")
    material = item.published_version.materials.get(name="申请表")
    material.blank_form.save("apply.docx", ContentFile(b"x"), save=True)
    login(client, world.user("catalog_admin"))
    client.post(reverse("catalog:wb_new_version", args=[item.code]))
    data = edit_payload(client, item, 2, name="食品经营许可（修订）")
    response = client.post(reverse("catalog:wb_edit", args=[item.code, 2]), data)
    assert response.status_code == 302
    kept = Material.objects.get(version__item=item, version__number=2, name="申请表")
    assert kept.blank_form.name == material.blank_form.name


def test_item_pages_count_queries_stay_flat(client, world, django_assert_max_num_queries):
    for i in range(15):
        make_item(world, f"事项{i}", index=False)
    login(client, world.user("catalog_admin"))
    with django_assert_max_num_queries(25):
        client.get(reverse("catalog:workbench"))
    with django_assert_max_num_queries(25):
        client.get(reverse("catalog:browse"))
    assert ServiceItem.objects.count() == 15


def test_pages_render_in_english_too(client, world):
    item = make_item(world, "食品经营许可")
    client.cookies["django_language"] = "en"
    for url in (
        reverse("catalog:guide", args=[item.code]),
        reverse("catalog:browse"),
        reverse("catalog:browse") + "?q=食品",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="en"' in response.content.decode()
    login(client, world.user("catalog_admin"))
    services.start_new_version(item, world.user("catalog_admin"))
    for url in (
        reverse("catalog:workbench"),
        reverse("catalog:wb_edit", args=[item.code, 2]),
        reverse("catalog:wb_version", args=[item.code, 2]),
    ):
        assert client.get(url).status_code == 200, url


PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_blank_form_upload_from_the_editor(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = make_item(world, "食品经营许可")
    login(client, world.user("catalog_admin"))
    client.post(reverse("catalog:wb_new_version", args=[item.code]))
    url = reverse("catalog:wb_edit", args=[item.code, 2])

    # a text file dressed up as a PDF is refused next to its row, and nothing is saved
    data = edit_payload(client, item, 2, name="食品经营许可（新）")
    data["materials-0-blank_form_upload"] = SimpleUploadedFile("申请表.pdf", b"not a pdf")
    response = client.post(url, data)
    assert response.status_code == 422
    assert "文件内容与扩展名不符" in text_of(response)
    assert item.versions.get(number=2).name == "食品经营许可"

    data = edit_payload(client, item, 2)
    data["materials-0-blank_form_upload"] = SimpleUploadedFile("申请表.pdf", PDF_BYTES)
    response = client.post(url, data)
    assert response.status_code == 302
    material = Material.objects.get(version__item=item, version__number=2, order=1)
    assert material.blank_form.name.endswith(".pdf")
    assert "现有空白表格" in text_of(client.get(url))
    # the published version is untouched until the draft is published
    assert not item.published_version.materials.get(order=1).blank_form
