"""The applicant's case pages: the online application stepper, my cases, the case page with its
actions (resubmit after 一次性告知, supplement, withdraw), the licence wallet, messages, the
public progress query and the guide's 在线办理 button."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.cases.factories import online_case, pdf_bytes, png_bytes, upload
from tests.catalog.factories import make_item
from tongban.accounts.models import Applicant
from tongban.cases import services
from tongban.cases.models import Case, CaseMaterial, Channel, Status
from tongban.notify.models import Notification
from tongban.registry.models import Licence

PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def signed_in(world, key: str, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(world.user(key), backend="tongban.accounts.backends.IdentifierBackend")
    return client


def text_of(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def applicant(world, key: str) -> Applicant:
    return Applicant.objects.get(user=world.user(key))


def step_url(case, name):
    return reverse("cases_applicant:step", args=[case.number, name])


def materials_url(case):
    return reverse("cases_applicant:materials", args=[case.number])


def case_url(case):
    return reverse("cases_applicant:case", args=[case.number])


FILL = {
    "description": "新办许可",
    "address": "东莞市南城街道某路 1 号",
    "contact_name": "王五",
    "contact_mobile": "13912345678",
    "remarks": "",
}


# --- 1. the stepper ---------------------------------------------------------------------------


def test_stepper_end_to_end(world):
    item = make_item(world, "食品经营许可")
    licence = Licence.objects.create(
        holder=applicant(world, "enterprise"),
        licence_type="营业执照",
        number="ZZ-BL-0001",
        issuer="东莞市市场监督管理局",
        issued_on=dt.date(2024, 1, 1),
    )
    client = signed_in(world, "enterprise")

    # the guide links to the apply page
    guide = client.get(reverse("catalog:guide", args=[item.code])).content.decode()
    apply_url = reverse("cases_applicant:apply", args=[item.code])
    assert f'href="{apply_url}"' in guide

    # step 1: errors next to the fields and on top; what was typed comes back
    page = client.get(apply_url)
    assert page.status_code == 200 and "填写申请表" in text_of(page)
    assert 'value="13900139000"' in page.content.decode()  # the applicant's mobile prefilled
    bad = client.post(apply_url, {**FILL, "description": "", "contact_mobile": "12345"})
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "error-summary" in html and 'id="id_description_error"' in html
    assert "手机号码应为以1开头的11位数字" in html  # both errors at once, next to the fields
    assert "东莞市南城街道某路 1 号" in html  # nothing typed is lost
    assert not Case.objects.exists()

    response = client.post(apply_url, FILL)
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == step_url(case, "materials")
    assert case.status == Status.DRAFT and case.channel == Channel.WEB
    assert case.form_data["description"] == "新办许可" and case.contact_mobile == "13912345678"

    # the draft is listed with "continue"
    listing = text_of(client.get(reverse("cases_applicant:my_cases")))
    assert case.number in listing and "草稿" in listing and "继续办理" in listing

    # step 2: the checklist, an upload, a rejected file, a licence reused with one click
    page = client.get(step_url(case, "materials"))
    text = text_of(page)
    assert "申请表" in text and "营业执照" in text and "场地证明" in text
    assert "一键使用证照夹中的营业执照（ZZ-BL-0001）" in text
    form_material = case.version.materials.get(name="申请表")
    bl_material = case.version.materials.get(name="营业执照")
    response = client.post(
        materials_url(case),
        {"op": "upload", "material": form_material.pk, "back": "materials", "file": upload()},
    )
    assert response.status_code == 302
    assert CaseMaterial.objects.filter(case=case, material=form_material, source="upload").exists()

    rejected = client.post(
        materials_url(case),
        {
            "op": "upload",
            "material": bl_material.pk,
            "back": "materials",
            "file": upload("说明.txt", b"just text", "text/plain"),
        },
    )
    assert rejected.status_code == 422
    html = rejected.content.decode()
    assert "文件类型不支持" in html and "error-summary" in html
    assert f'id="material-{bl_material.pk}-error"' in html

    response = client.post(
        materials_url(case),
        {"op": "licence", "material": bl_material.pk, "licence": licence.pk, "back": "materials"},
    )
    assert response.status_code == 302
    reused = CaseMaterial.objects.get(case=case, material=bl_material)
    assert reused.source == "licence" and reused.licence == licence

    # step 3: post needs an address
    page = client.get(step_url(case, "delivery"))
    assert page.status_code == 200 and world.city_center.name in text_of(page)
    no_address = client.post(
        step_url(case, "delivery"),
        {"center": world.city_center.pk, "delivery_mode": "post", "postal_address": ""},
    )
    assert no_address.status_code == 422
    assert "选择邮寄时须填写邮寄地址" in no_address.content.decode()
    response = client.post(
        step_url(case, "delivery"),
        {
            "center": world.city_center.pk,
            "delivery_mode": "post",
            "postal_address": "东莞市莞城街道某路 2 号",
        },
    )
    assert response.status_code == 302 and response["Location"] == step_url(case, "confirm")
    case.refresh_from_db()
    assert case.delivery_mode == "post" and case.postal_address == "东莞市莞城街道某路 2 号"

    # step 4: the pledge is required; then submit → pre_review, a receipt with the number
    page = text_of(client.get(step_url(case, "confirm")))
    assert "新办许可" in page and "东莞市莞城街道某路 2 号" in page and "容缺" in page
    no_pledge = client.post(step_url(case, "confirm"), {})
    assert no_pledge.status_code == 422 and "请阅读并勾选承诺" in no_pledge.content.decode()
    response = client.post(step_url(case, "confirm"), {"pledge": "on"})
    receipt_url = reverse("cases_applicant:receipt", args=[case.number])
    assert response.status_code == 302 and response["Location"] == receipt_url
    case.refresh_from_db()
    assert case.status == Status.PRE_REVIEW and case.submitted_at is not None
    receipt = client.get(receipt_url)
    text = text_of(receipt)
    assert "申请已提交" in text and case.number in text and "接下来会怎样" in text
    assert f"/progress/?number={case.number}" in receipt.content.decode()

    # a submitted case can no longer be edited through the steps
    response = client.post(step_url(case, "fill"), FILL)
    assert response.status_code == 302 and response["Location"] == case_url(case)


def test_a_phone_files_through_the_mobile_channel(world):
    item = make_item(world)
    client = signed_in(world, "citizen", HTTP_USER_AGENT=PHONE_UA)
    response = client.post(reverse("cases_applicant:apply", args=[item.code]), FILL)
    assert response.status_code == 302
    assert Case.objects.get().channel == Channel.MOBILE


def test_center_is_chosen_among_accepting_centers(world):
    item = make_item(world, scope="any_town")
    client = signed_in(world, "enterprise")
    client.post(reverse("cases_applicant:apply", args=[item.code]), FILL)
    case = Case.objects.get()
    assert case.center == world.city_center
    page = text_of(client.get(step_url(case, "delivery")))
    assert world.town_center.name in page and world.village_point.name not in page
    response = client.post(
        step_url(case, "delivery"), {"center": world.town_center.pk, "delivery_mode": "pickup"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.center == world.town_center and case.region == world.town_center.region
    # a center outside the scope is refused next to the field
    response = client.post(
        step_url(case, "delivery"), {"center": world.village_point.pk, "delivery_mode": "pickup"}
    )
    assert response.status_code == 422
    case.refresh_from_db()
    assert case.center == world.town_center


def test_confirm_refuses_while_required_materials_are_missing(world):
    item = make_item(world)
    client = signed_in(world, "enterprise")
    client.post(reverse("cases_applicant:apply", args=[item.code]), FILL)
    case = Case.objects.get()
    page = text_of(client.get(step_url(case, "confirm")))
    assert "必要材料“申请表”尚未提交" in page
    response = client.post(step_url(case, "confirm"), {"pledge": "on"})
    assert response.status_code == 422 and "必要材料“营业执照”尚未提交" in text_of(response)
    case.refresh_from_db()
    assert case.status == Status.DRAFT


def test_removing_a_material_from_a_draft(world):
    item = make_item(world)
    client = signed_in(world, "enterprise")
    client.post(reverse("cases_applicant:apply", args=[item.code]), FILL)
    case = Case.objects.get()
    material = case.version.materials.get(name="申请表")
    client.post(
        materials_url(case),
        {"op": "upload", "material": material.pk, "file": upload(content=png_bytes())},
    )
    cm = CaseMaterial.objects.get(case=case)
    assert cm.content_type == "image/png"
    response = client.post(materials_url(case), {"op": "remove", "case_material": cm.pk})
    assert response.status_code == 302
    cm.refresh_from_db()
    assert cm.removed_at is not None


def test_items_not_handled_online_say_where_to_go(world, client):
    item = make_item(world, "窗口事项", depth=1, handled_online=False)
    guide = client.get(reverse("catalog:guide", args=[item.code])).content.decode()
    assert reverse("cases_applicant:apply", args=[item.code]) not in guide
    assert "本事项暂不支持网上办理" in guide
    page = client.get(reverse("cases_applicant:apply", args=[item.code]))
    text = text_of(page)
    assert page.status_code == 200 and "本事项暂不支持网上申请" in text
    assert world.city_center.name in text
    # even a signed-in applicant cannot start one
    response = signed_in(world, "enterprise").post(
        reverse("cases_applicant:apply", args=[item.code]), FILL
    )
    assert response.status_code == 200 and not Case.objects.exists()


def test_guide_button_for_pre_review_items(world, client):
    item = make_item(world, "网上预审事项", depth=2, handled_online=True)
    guide = client.get(reverse("catalog:guide", args=[item.code])).content.decode()
    assert reverse("cases_applicant:apply", args=[item.code]) in guide
    assert "网上预审" in guide


def test_apply_needs_an_applicant_login(world, client):
    item = make_item(world)
    url = reverse("cases_applicant:apply", args=[item.code])
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    staff = signed_in(world, "city_clerk")
    response = staff.get(url)
    assert response.status_code == 403 and "申请人专用页面" in text_of(response)
    assert staff.get(reverse("cases_applicant:my_cases")).status_code == 403


# --- 2. my cases and the case page ----------------------------------------------------------


def test_my_cases_lists_only_own_cases(world):
    item = make_item(world)
    mine = online_case(world, item, user_key="enterprise")
    theirs = online_case(world, item, user_key="citizen")
    draft = online_case(world, item, user_key="enterprise", status=Status.DRAFT)

    enterprise = signed_in(world, "enterprise")
    page = text_of(enterprise.get(reverse("cases_applicant:my_cases")))
    assert mine.number in page and draft.number in page and theirs.number not in page
    assert "网上预审中" in page and "等待受理中心预审" in page

    todo = text_of(enterprise.get(reverse("cases_applicant:my_cases"), {"status": "todo"}))
    assert draft.number in todo and mine.number not in todo
    citizen = text_of(signed_in(world, "citizen").get(reverse("cases_applicant:my_cases")))
    assert theirs.number in citizen and mine.number not in citizen

    # another applicant's case is 404 on every page
    citizen_client = signed_in(world, "citizen")
    assert citizen_client.get(case_url(mine)).status_code == 404
    assert citizen_client.get(step_url(draft, "fill")).status_code == 404
    assert (
        citizen_client.get(reverse("cases_applicant:withdraw", args=[mine.number])).status_code
        == 404
    )
    response = citizen_client.post(
        materials_url(draft), {"op": "upload", "material": "", "file": upload()}
    )
    assert response.status_code == 404
    assert not CaseMaterial.objects.filter(case=draft).exists()


def test_my_cases_empty_state_and_pagination(world):
    client = signed_in(world, "citizen")
    page = text_of(client.get(reverse("cases_applicant:my_cases")))
    assert "您还没有办件" in page and "查找办事指南" in page
    item = make_item(world)
    for _ in range(12):
        online_case(world, item, user_key="citizen", status=Status.DRAFT)
    first = client.get(reverse("cases_applicant:my_cases"))
    assert len(first.context["rows"]) == 10
    assert "第 1 页，共 2 页" in text_of(first)
    second = client.get(reverse("cases_applicant:my_cases"), {"page": 2})
    assert len(second.context["rows"]) == 2


def test_case_page_shows_timeline_deadline_materials_notices(world):
    item = make_item(world)
    case = online_case(world, item)
    services.accept(case, world.user("city_clerk"))
    case.refresh_from_db()
    response = signed_in(world, "enterprise").get(case_url(case))
    text = text_of(response)
    assert response.status_code == 200
    # timeline: what, role (not the clerk's name), where
    assert "提交申请" in text and "受理" in text and "综合窗口人员" in text
    assert world.user("city_clerk").get_username() not in text
    assert str(world.user("city_clerk")) not in text
    # deadline with its light in words; materials; the acceptance notice
    assert "办结期限" in text and "还剩" in text and "正常" in text
    assert "申请表.pdf" in text and "受理通知书" in text
    notice = case.notices.get()
    assert reverse("cases_documents:notice_pdf", args=[case.number, notice.number]) in (
        response.content.decode()
    )
    assert "撤回申请" in text


def test_resubmit_after_one_time_notice(world):
    item = make_item(world)
    case = online_case(world, item)
    services.notify_missing(case, world.user("city_clerk"), items=["申请表缺少法定代表人签字"])
    client = signed_in(world, "enterprise")
    page = text_of(client.get(case_url(case)))
    assert "一次性告知" in page and "申请表缺少法定代表人签字" in page
    assert "修改并重新提交" in page
    listing = text_of(client.get(reverse("cases_applicant:my_cases")))
    assert "补齐后重新提交" in listing

    # the steps show what to fix; the corrected form is saved; resubmit → pre_review
    fill = text_of(client.get(step_url(case, "fill")))
    assert "申请表缺少法定代表人签字" in fill
    response = client.post(step_url(case, "fill"), {**FILL, "description": "已签字的申请"})
    assert response.status_code == 302
    material = case.version.materials.get(name="申请表")
    client.post(
        materials_url(case),
        {"op": "upload", "material": material.pk, "file": upload("签字版.pdf")},
    )
    confirm = text_of(client.get(step_url(case, "confirm")))
    assert "重新提交申请" in confirm
    response = client.post(step_url(case, "confirm"), {"pledge": "on"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.PRE_REVIEW and case.form_data["description"] == "已签字的申请"
    assert case.events.filter(action="resubmit").exists()


def _in_review(world, item, user_key="enterprise"):
    case = online_case(world, item, user_key=user_key)
    services.accept(case, world.user("city_clerk"))
    services.start_review(case, world.user("reviewer"))
    case.refresh_from_db()
    return case


def test_timeline_shows_no_notes_of_the_departments_internal_steps(world):
    item = make_item(world)
    case = _in_review(world, item)
    reviewer, approver = world.user("reviewer"), world.user("approver")
    services.submit_for_approval(case, reviewer, opinion="内部意见：拟准予")
    services.return_for_review(case, approver, reason="内部退回：补充核查记录")
    services.request_supplement(case, reviewer, items=["补充场地平面图"])
    page = text_of(signed_in(world, "enterprise").get(case_url(case)))
    assert "提交审批" in page and "退回审核" in page  # the steps are shown
    assert "内部意见" not in page and "内部退回" not in page  # their notes are not
    assert "补充场地平面图" in page  # what the applicant must do still is
    assert "reviewer" not in page and "approver" not in page


def test_supplement_flow(world):
    item = make_item(world)
    case = _in_review(world, item)
    services.request_supplement(case, world.user("reviewer"), items=["补充场地平面图"])
    client = signed_in(world, "enterprise")
    page = client.get(case_url(case))
    text = text_of(page)
    assert "补正中" in text and "补充场地平面图" in text and "上传补正材料" in text

    # sending without a new material is refused with the reason shown
    response = client.post(reverse("cases_applicant:supplement", args=[case.number]))
    assert response.status_code == 409 and "尚未提交补正材料" in text_of(response)

    # an upload error on the case page is shown next to the material
    response = client.post(
        materials_url(case),
        {"op": "upload", "material": "", "back": "case", "file": upload("x.exe", b"MZ....")},
    )
    assert response.status_code == 422
    assert 'id="material-extra-error"' in response.content.decode()

    response = client.post(
        materials_url(case),
        {"op": "upload", "material": "", "back": "case", "file": upload("平面图.pdf")},
    )
    assert response.status_code == 302
    assert CaseMaterial.objects.get(case=case, supplement=True).original_name == "平面图.pdf"
    response = client.post(
        reverse("cases_applicant:supplement", args=[case.number]), {"note": "已补充"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW and case.paused_since is None


def test_withdraw_with_confirmation(world):
    item = make_item(world)
    case = online_case(world, item)
    client = signed_in(world, "enterprise")
    url = reverse("cases_applicant:withdraw", args=[case.number])
    page = text_of(client.get(url))
    assert "确定要撤回" in page and "确认撤回" in page
    case.refresh_from_db()
    assert case.status == Status.PRE_REVIEW  # showing the page changes nothing
    response = client.post(url, {"reason": "不再需要"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN
    event = case.events.get(action="withdraw")
    assert event.note == "不再需要" and event.code == 2
    page = text_of(client.get(url))
    assert "不能撤回" in page


# --- 3. wallet, 4. messages -------------------------------------------------------------------


def test_wallet_lists_licences_and_the_case_that_produced_them(world):
    item = make_item(world)
    case = _in_review(world, item)
    services.submit_for_approval(case, world.user("reviewer"))
    services.decide(case, world.user("approver"), decision="approved_tolerated")
    services.issue_result(case, world.user("approver"), valid_until=dt.date(2031, 11, 27))
    case.refresh_from_db()
    other = Licence.objects.create(
        holder=applicant(world, "citizen"),
        licence_type="居民身份证",
        number="ID-OTHER",
        issuer="东莞市公安局",
        issued_on=dt.date(2020, 1, 1),
    )
    client = signed_in(world, "enterprise")
    response = client.get(reverse("cases_applicant:licences"))
    text = text_of(response)
    assert "许可证" in text and case.licence_number in text and "有效" in text
    assert "2031年11月27日" in text and case_url(case) in response.content.decode()
    assert other.number not in text
    # the case page offers the result once issued
    page = client.get(case_url(case))
    assert case.licence_number in text_of(page) and "办理结果" in text_of(page)
    assert reverse("cases_documents:result_pdf", args=[case.number]) in page.content.decode()
    # the citizen sees their own licence, with no case behind it
    citizen = text_of(signed_in(world, "citizen").get(reverse("cases_applicant:licences")))
    assert other.number in citizen and case.licence_number not in citizen


def test_empty_wallet_says_what_fills_it(world):
    text = text_of(signed_in(world, "citizen").get(reverse("cases_applicant:licences")))
    assert "证照夹还是空的" in text


def test_messages_inbox_and_mark_read(world):
    item = make_item(world)
    case = online_case(world, item)  # submit notifies the applicant
    user = world.user("enterprise")
    message = Notification.objects.get(user=user, channel="inbox")
    others = Notification.objects.create(
        channel="inbox", user=world.user("citizen"), subject="别人的消息", body="…", kind="x"
    )
    client = signed_in(world, "enterprise")
    response = client.get(reverse("cases_applicant:messages"))
    text = text_of(response)
    assert message.subject in text and "别人的消息" not in text and "1 条未读" in text
    assert "消息（1 条未读）" in text  # the count in the navigation
    assert case_url(case) in response.content.decode()

    # htmx marks one read and gets the message back; another's message is never touched
    response = client.post(
        reverse("cases_applicant:messages_read"), {"id": message.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "标为已读" not in text_of(response)
    message.refresh_from_db()
    assert message.read_at is not None
    client.post(reverse("cases_applicant:messages_read"), {"id": others.pk})
    others.refresh_from_db()
    assert others.read_at is None
    assert "消息（" not in text_of(client.get(reverse("cases_applicant:messages")))

    # mark all
    Notification.objects.create(channel="inbox", user=user, subject="新消息", body="…", kind="x")
    response = client.post(reverse("cases_applicant:messages_read"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()


@pytest.mark.parametrize("bad", [str(10**20), str(2**63), "0", "-5", "abc", "1e3", "9" * 5000])
def test_marking_a_message_with_a_bad_id_changes_nothing_and_is_no_500(world, bad):
    user = world.user("enterprise")
    message = Notification.objects.create(
        channel="inbox", user=user, subject="新消息", body="…", kind="x"
    )
    client = signed_in(world, "enterprise")
    url = reverse("cases_applicant:messages_read")
    response = client.post(url, {"id": bad})
    assert response.status_code == 302
    response = client.post(url, {"id": bad}, HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    message.refresh_from_db()
    assert message.read_at is None  # a bad id never means "all"


def test_mark_read_ignores_ids_out_of_range():
    from tongban.notify import services as notify

    assert notify.valid_id(2**63 - 1) == 2**63 - 1
    assert notify.valid_id("42") == 42
    for bad in (0, -1, 2**63, 10**20, "x", None, True, "4" * 5000):
        assert notify.valid_id(bad) is None, bad


def test_mark_read_service_with_only_bad_ids_marks_nothing(world):
    from tongban.notify import services as notify

    user = world.user("enterprise")
    Notification.objects.create(channel="inbox", user=user, subject="a", body="…", kind="x")
    assert notify.mark_read(user, [10**20, -1, 0]) == 0
    assert Notification.objects.filter(user=user, read_at__isnull=True).count() == 1
    assert notify.mark_read(user, None) == 1


def test_home_lists_cases_needing_action(world):
    item = make_item(world)
    draft = online_case(world, item, status=Status.DRAFT)
    told = online_case(world, item)
    services.notify_missing(told, world.user("city_clerk"), items=["缺少签字"])
    waiting = online_case(world, item)
    response = signed_in(world, "enterprise").get(reverse("web:workbench"))
    html = response.content.decode()
    assert step_url(draft, "fill") in html and step_url(told, "fill") in html
    assert case_url(waiting) not in html
    assert "按一次性告知书补齐或更正后重新提交" in text_of(response)


# --- 5. the public progress query -------------------------------------------------------------


def test_progress_query(world, client):
    item = make_item(world)
    case = online_case(world, item)
    url = reverse("cases_applicant:progress")
    page = client.get(url, {"number": case.number})
    assert page.status_code == 200 and f'value="{case.number}"' in page.content.decode()

    found = client.post(url, {"number": case.number.lower(), "mobile": case.contact_mobile})
    text = text_of(found)
    assert found.status_code == 200
    assert "网上预审中" in text and case.title in text
    assert world.city_center.name in text and case.department.name in text
    assert "提交申请" in text
    # no personal data: not the applicant, not the mobile, not their id
    ent = applicant(world, "enterprise")
    for secret in (ent.name, ent.uscc, case.contact_mobile, ent.legal_representative):
        assert secret not in text

    def not_found_block(response):
        match = re.search(
            r'<div class="notice notice--warning" role="alert" data-testid="progress-not-found">'
            r".*?</div>",
            response.content.decode(),
            re.S,
        )
        assert match, "no not-found message"
        return match.group(0)

    wrong_pair = client.post(url, {"number": case.number, "mobile": "13700000000"})
    unknown = client.post(url, {"number": "BJ000000000000", "mobile": case.contact_mobile})
    assert wrong_pair.status_code == unknown.status_code == 200
    assert not_found_block(wrong_pair) == not_found_block(unknown)
    assert "网上预审中" not in text_of(wrong_pair)

    # the mobile as people type it: spaces, a dash, +86
    m = case.contact_mobile
    typed = f"+86 {m[:3]} {m[3:7]}-{m[7:]}"
    assert "网上预审中" in text_of(client.post(url, {"number": case.number, "mobile": typed}))

    # a draft cannot be found
    draft = online_case(world, item, status=Status.DRAFT)
    response = client.post(url, {"number": draft.number, "mobile": draft.contact_mobile})
    assert "未找到该办件" in text_of(response)


def test_progress_query_is_rate_limited(world, client, settings):
    settings.CASE_PROGRESS_RATE = "3/m"
    url = reverse("cases_applicant:progress")
    for _ in range(3):
        assert client.post(url, {"number": "BJ1", "mobile": "13800138000"}).status_code == 200
    response = client.post(url, {"number": "BJ1", "mobile": "13800138000"})
    assert response.status_code == 429
    assert "查询过于频繁" in text_of(response) and response["Retry-After"] == "60"
    # the form itself stays readable
    assert client.get(url).status_code == 200


def test_progress_link_in_navigation_for_everyone(client, db):
    assert f'href="{reverse("cases_applicant:progress")}"' in client.get("/").content.decode()


def test_applicant_nav_entries(world):
    html = signed_in(world, "citizen").get("/").content.decode()
    for name in ("my_cases", "licences", "messages"):
        assert f'href="{reverse(f"cases_applicant:{name}")}"' in html
    staff = signed_in(world, "city_clerk").get("/").content.decode()
    assert f'href="{reverse("cases_applicant:my_cases")}"' not in staff


def test_uploaded_pdf_is_kept_with_its_digest(world):
    item = make_item(world)
    client = signed_in(world, "enterprise")
    client.post(reverse("cases_applicant:apply", args=[item.code]), FILL)
    case = Case.objects.get()
    content = pdf_bytes("unique")
    material = case.version.materials.get(name="申请表")
    client.post(
        materials_url(case),
        {"op": "upload", "material": material.pk, "file": upload("表.pdf", content)},
    )
    import hashlib

    assert CaseMaterial.objects.get(case=case).sha256 == hashlib.sha256(content).hexdigest()
