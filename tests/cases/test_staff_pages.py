"""The staff case workbench (/workbench/cases/): who may see which page, the window clerk's
walk-in journey, the reviewer / approver journey, filters and pagination, masking in lists and
exports, audit rows for views, reveals and exports, and rule failures shown on the page."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from tests.cases.factories import online_case, pdf_bytes, walk_in_case
from tests.catalog.factories import make_item
from tests.factories import RESIDENT_ID, RESIDENT_ID_2, assign, make_user
from tongban.accounts.models import Applicant
from tongban.cases import services
from tongban.cases.models import Case, CaseMaterial, CaseNotice, Status
from tongban.core.models import AuditEvent
from tongban.org.roles import Role

pytestmark = pytest.mark.django_db

INDEX = "/workbench/cases/"
WEDNESDAY = dt.date(2026, 12, 2)


def signed_in(world, key: str) -> Client:
    client = Client()
    client.force_login(world.user(key), backend="tongban.accounts.backends.IdentifierBackend")
    return client


def html(response) -> str:
    return response.content.decode()


def act_url(case: Case, step: str) -> str:
    return reverse("cases_staff:act", args=[case.number, step])


def detail_url(case: Case) -> str:
    return reverse("cases_staff:detail", args=[case.number])


@pytest.fixture
def item(world):
    # accepted at the city center (the market department's center), not at the town centers
    return make_item(world, "食品经营许可", department=world.market_dept)


@pytest.fixture
def citizen(world):
    return Applicant.objects.get(user=world.user("citizen"))


def accepted_case(world, item, applicant=None):
    case = walk_in_case(world, item, applicant=applicant)
    services.accept(case, world.user("city_clerk"))
    case.refresh_from_db()
    return case


def other_reviewer(world):
    user = make_user("health_reviewer")
    assign(user, Role.REVIEWER, department=world.health_dept)
    world.users["health_reviewer"] = user
    return user


# ---- who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "city_clerk",
        "town_clerk",
        "reviewer",
        "approver",
        "center_admin",
        "town_admin",
        "supervisor",
    ],
)
def test_worklist_renders_for_case_roles(world, key):
    response = signed_in(world, key).get(INDEX)
    assert response.status_code == 200
    assert 'data-testid="lights"' in html(response)


@pytest.mark.parametrize("key", ["auditor", "catalog_admin", "citizen", "agent"])
def test_worklist_refused_to_other_roles(world, key):
    assert signed_in(world, key).get(INDEX).status_code == 403


def test_worklist_needs_login(client, world):
    response = client.get(INDEX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_detail_is_scoped(world, item):
    case = walk_in_case(world, item)
    other_reviewer(world)
    # before acceptance the case is the window's: the back office does not see it yet
    for key in ("reviewer", "approver"):
        assert signed_in(world, key).get(detail_url(case)).status_code == 404, key
    services.accept(case, world.user("city_clerk"))
    for key in ("city_clerk", "reviewer", "approver", "center_admin", "supervisor"):
        assert signed_in(world, key).get(detail_url(case)).status_code == 200, key
    for key in ("town_clerk", "town_admin", "health_reviewer", "auditor"):
        expected = 403 if key == "auditor" else 404
        assert signed_in(world, key).get(detail_url(case)).status_code == expected, key
    # a POST from outside the scope is a 404 too, and changes nothing
    response = signed_in(world, "town_clerk").post(act_url(case, "accept"))
    assert response.status_code == 404
    response = signed_in(world, "health_reviewer").post(act_url(case, "claim"))
    assert response.status_code == 404


def test_intake_is_for_clerks_only(world):
    assert signed_in(world, "city_clerk").get(reverse("cases_staff:intake")).status_code == 200
    for key in ("reviewer", "supervisor", "center_admin"):
        assert signed_in(world, key).get(reverse("cases_staff:intake")).status_code == 403


@pytest.mark.parametrize("key", ["supervisor", "center_admin"])
def test_readers_see_no_buttons_and_their_posts_are_refused(world, item, key):
    case = walk_in_case(world, item)
    provide = signed_in(world, key)
    page = html(provide.get(detail_url(case)))
    assert 'data-testid="read-only"' in page
    assert 'data-testid="do-' not in page and "paper-" not in page
    response = provide.post(act_url(case, "accept"))
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == Status.RECEIVED


def test_buttons_come_from_the_transition_table(world, item):
    case = walk_in_case(world, item)  # received
    page = html(signed_in(world, "city_clerk").get(detail_url(case)))
    for step in ("accept", "notify", "refuse"):
        assert f'data-testid="do-{step}"' in page
    for step in ("start_review", "decide", "issue_result", "receive_accept"):
        assert f'data-testid="do-{step}"' not in page
    # the reviewer does not even see it before acceptance
    assert signed_in(world, "reviewer").get(detail_url(case)).status_code == 404


# ---- the window clerk's walk-in journey ----------------------------------------------------------


def test_walk_in_journey(world, item):
    clerk = signed_in(world, "city_clerk")
    intake = reverse("cases_staff:intake")
    # an invalid number is refused with the validator's message
    response = clerk.post(reverse("cases_staff:intake_find"), {"identity": "440304199001011234"})
    assert response.status_code == 422 and "校验位" in html(response)
    # an unknown person: not found, the registration form is prefilled
    response = clerk.post(reverse("cases_staff:intake_find"), {"identity": RESIDENT_ID_2})
    page = html(response)
    assert response.status_code == 200 and 'data-testid="not-found"' in page
    assert f'value="{RESIDENT_ID_2}"' in page
    # register the walk-in applicant
    response = clerk.post(
        reverse("cases_staff:intake_register"),
        {"kind": "natural", "name": "王小明", "id_number": RESIDENT_ID_2, "mobile": "13712345678"},
    )
    assert response.status_code == 302
    applicant = Applicant.objects.get(id_number=RESIDENT_ID_2)
    assert applicant.user is None and applicant.name == "王小明"
    assert AuditEvent.objects.filter(action="accounts.walk_in_registered").exists()
    page = html(clerk.get(intake))
    assert "王**" in page and "王小明" not in page and RESIDENT_ID_2 not in page
    # find the item among those the center may accept
    response = clerk.get(intake, {"q": "食品经营"})
    assert f'data-testid="start-{item.code}"' in html(response)
    response = clerk.post(
        reverse("cases_staff:intake_start"), {"item": item.code, "channel": "window"}
    )
    assert response.status_code == 302
    case = Case.objects.get(applicant=applicant)
    assert response["Location"] == detail_url(case)
    assert case.status == Status.DRAFT and case.channel == "window"
    assert case.center == world.city_center
    # the application form
    response = clerk.post(
        act_url(case, "edit"),
        {
            "description": "申请食品经营许可",
            "contact_mobile": "13712345678",
            "delivery_mode": "pickup",
        },
    )
    assert response.status_code == 302
    # the checklist: paper original checked, a scan uploaded; the 容缺 one left out
    form_m, licence_m, site_m = list(case.version.materials.all())
    assert clerk.post(act_url(case, "paper"), {"material": form_m.pk}).status_code == 302
    upload = SimpleUploadedFile("执照.pdf", pdf_bytes(), "application/pdf")
    response = clerk.post(act_url(case, "upload"), {"material": licence_m.pk, "file": upload})
    assert response.status_code == 302
    sources = set(case.materials.values_list("source", flat=True))
    assert sources == {CaseMaterial.Source.PAPER, CaseMaterial.Source.UPLOAD}
    page = html(clerk.get(detail_url(case)))
    assert 'data-testid="do-receive_accept"' in page
    # receive + accept in one go; the acceptance notice is offered for printing
    response = clerk.post(act_url(case, "receive_accept"), {"note": ""})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.tolerated_pending
    notice = case.notices.get(kind=CaseNotice.Kind.ACCEPTANCE)
    assert notice.items == [site_m.name]
    page = html(clerk.get(detail_url(case)))
    assert 'data-testid="print-notice"' in page and notice.number in page
    try:
        pdf = reverse("cases_documents:notice_pdf", args=[case.number, notice.number])
    except NoReverseMatch:
        pdf = None
    if pdf:
        assert pdf in page
    # the callout shows once
    assert 'data-testid="print-notice"' not in html(clerk.get(detail_url(case)))


def test_item_search_answers_htmx_with_the_results(world, item):
    clerk = signed_in(world, "city_clerk")
    response = clerk.get(reverse("cases_staff:intake"), {"q": item.code}, HTTP_HX_REQUEST="true")
    page = html(response)
    assert response.status_code == 200 and 'id="item-results"' in page
    assert "食品经营许可" in page and "先查找申请人" in page  # no applicant on screen yet
    page = html(clerk.get(reverse("cases_staff:intake"), {"q": "没有这个事项"}))
    assert "没有与“没有这个事项”相符" in page


def test_lookup_finds_a_registered_applicant_by_credit_code(world, item):
    clerk = signed_in(world, "city_clerk")
    response = clerk.post(reverse("cases_staff:intake_find"), {"identity": "91110000600037341l"})
    assert response.status_code == 302
    page = html(clerk.get(reverse("cases_staff:intake")))
    assert "示例科技有限公司" in page and "9111**********341L" in page


def test_window_lookups_are_rate_limited_per_clerk(world, settings):
    settings.CASE_LOOKUP_RATE = "2/h"
    clerk = signed_in(world, "city_clerk")
    find = reverse("cases_staff:intake_find")
    assert clerk.post(find, {"identity": RESIDENT_ID}).status_code == 302
    assert clerk.post(find, {"identity": RESIDENT_ID_2}).status_code == 200  # not found
    response = clerk.post(find, {"identity": RESIDENT_ID})
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert "查找申请人过于频繁" in html(response)
    # registering looks the number up as well
    response = clerk.post(
        reverse("cases_staff:intake_register"),
        {"kind": "natural", "name": "王小明", "id_number": RESIDENT_ID_2, "mobile": "13712345678"},
    )
    assert response.status_code == 429 and "查找申请人过于频繁" in html(response)
    assert not Applicant.objects.filter(id_number=RESIDENT_ID_2).exists()
    # an invalid number is not a look-up; another clerk has a count of their own
    assert clerk.post(find, {"identity": "123"}).status_code == 422
    other = signed_in(world, "town_clerk")
    assert other.post(find, {"identity": RESIDENT_ID}).status_code == 302


def test_walk_in_registration_errors_stay_on_the_page(world):
    clerk = signed_in(world, "city_clerk")
    response = clerk.post(
        reverse("cases_staff:intake_register"),
        {"kind": "legal", "name": "某公司", "uscc": "91110000600037341X", "mobile": "123"},
    )
    page = html(response)
    assert response.status_code == 422
    assert "校验位" in page and "手机号码" in page and "法定代表人" in page
    assert 'value="某公司"' in page
    # the same number under another name is refused with the service's message
    response = clerk.post(
        reverse("cases_staff:intake_register"),
        {
            "kind": "natural",
            "name": "李四",
            "id_number": RESIDENT_ID,
            "mobile": "13800138000",
        },
    )
    assert response.status_code == 409 and "已登记为其他申请人" in html(response)


def test_item_outside_the_center_scope_is_not_offered(world, item):
    clerk = signed_in(world, "town_clerk")
    clerk.post(reverse("cases_staff:intake_find"), {"identity": RESIDENT_ID})
    page = html(clerk.get(reverse("cases_staff:intake"), {"q": item.code}))
    assert f"start-{item.code}" not in page
    response = clerk.post(
        reverse("cases_staff:intake_start"), {"item": item.code, "channel": "window"}
    )
    assert response.status_code == 409 and "不在该事项的受理范围内" in html(response)
    assert not Case.objects.exists()


def test_accept_with_a_required_material_missing_shows_the_409_message(world, item):
    clerk = world.user("city_clerk")
    case = services.start_case(
        item=item,
        by=clerk,
        channel="window",
        applicant=Applicant.objects.get(user=world.user("enterprise")),
        form={"description": "申请", "contact_mobile": "13800138000"},
    )
    services.receive(case, clerk)
    client = signed_in(world, "city_clerk")
    response = client.post(act_url(case, "accept"), {"note": ""})
    page = html(response)
    assert response.status_code == 409
    assert "必要材料不全" in page and 'data-testid="action-error"' in page
    case.refresh_from_db()
    assert case.status == Status.RECEIVED
    # the one-time notice form is prefilled from the missing checklist entries
    assert "申请表（必要材料，未提供）" in page and "营业执照（必要材料，未提供）" in page
    response = client.post(
        act_url(case, "notify"), {"items": "申请表\n营业执照\n\n", "note": "请一次性补齐"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.NOTIFIED
    assert case.notices.get(kind=CaseNotice.Kind.ONE_TIME).items == ["申请表", "营业执照"]


def test_refuse_without_a_reason_keeps_the_form(world, item):
    case = walk_in_case(world, item)
    client = signed_in(world, "city_clerk")
    response = client.post(act_url(case, "refuse"), {"reason": "   "})
    assert response.status_code == 422
    page = html(response)
    assert 'data-testid="panel-refuse"' in page and "field--error" in page
    case.refresh_from_db()
    assert case.status == Status.RECEIVED
    response = client.post(act_url(case, "refuse"), {"reason": "不属于本机关职权范围"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.REFUSED


def test_bad_upload_is_a_message_not_a_500(world, item):
    clerk = world.user("city_clerk")
    case = services.start_case(
        item=item,
        by=clerk,
        channel="window",
        applicant=Applicant.objects.get(user=world.user("enterprise")),
    )
    material = case.version.materials.first()
    upload = SimpleUploadedFile("a.pdf", b"just text, not a pdf", "application/pdf")
    response = signed_in(world, "city_clerk").post(
        act_url(case, "upload"), {"material": material.pk, "file": upload}
    )
    assert response.status_code == 422
    assert 'data-testid="material-error"' in html(response) and "文件类型不支持" in html(response)
    assert not case.materials.exists()


def test_edit_form_errors_are_shown_next_to_the_field(world, item):
    case = services.start_case(
        item=item,
        by=world.user("city_clerk"),
        channel="window",
        applicant=Applicant.objects.get(user=world.user("enterprise")),
    )
    response = signed_in(world, "city_clerk").post(
        act_url(case, "edit"),
        {"description": "申请", "contact_mobile": "12345", "delivery_mode": "post"},
    )
    page = html(response)
    assert response.status_code == 422
    assert "手机号码格式不正确" in page and "须填写邮寄地址" in page
    assert 'value="12345"' in page


def test_online_pre_review_and_pass(world, item):
    case = online_case(world, item)  # pre_review, required materials uploaded by the applicant
    client = signed_in(world, "city_clerk")
    page = html(client.get(INDEX))  # the clerk's default tab: waiting, online first
    assert case.number in page
    page = html(client.get(detail_url(case)))
    assert 'data-testid="do-pass_pre_review"' in page and 'data-testid="do-accept"' in page
    response = client.post(act_url(case, "pass_pre_review"), {"note": "材料齐全"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.RECEIVED


def test_waiting_tab_lists_online_cases_first(world, item):
    walk_in = walk_in_case(world, item)
    online = online_case(world, item)
    page = html(signed_in(world, "city_clerk").get(INDEX, {"tab": "waiting"}))
    assert page.index(online.number) < page.index(walk_in.number)


# ---- reviewer and approver -----------------------------------------------------------------------


def test_reviewer_journey(world, item):
    case = accepted_case(world, item)
    reviewer = signed_in(world, "reviewer")
    page = html(reviewer.get(INDEX, {"tab": "unclaimed"}))
    assert case.number in page and f'data-testid="claim-{case.number}"' in page
    assert reviewer.post(act_url(case, "claim")).status_code == 302
    case.refresh_from_db()
    assert case.assignee == world.user("reviewer")
    assert case.number in html(reviewer.get(INDEX, {"tab": "mine"}))
    assert case.number not in html(reviewer.get(INDEX, {"tab": "unclaimed"}))
    assert reviewer.post(act_url(case, "start_review"), {"note": ""}).status_code == 302
    # the item has an approval step: the reviewer submits, the approver decides
    page = html(reviewer.get(detail_url(case)))
    assert 'data-testid="do-submit_for_approval"' in page and 'data-testid="do-decide"' not in page
    response = reviewer.post(act_url(case, "submit_for_approval"), {"opinion": "材料齐全，拟准予"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.APPROVAL

    approver = signed_in(world, "approver")
    assert case.number in html(approver.get(INDEX))  # the approver opens on 待审批
    page = html(approver.get(detail_url(case)))
    assert 'data-testid="do-decide"' in page and 'data-testid="do-return_for_review"' in page
    # 容缺 material outstanding: only 容缺准予 or 不予许可 are offered; a plain approval is refused
    assert 'value="approved_tolerated"' in page and 'value="approved"' not in page
    assert "有容缺材料尚未补齐" in page
    response = approver.post(act_url(case, "decide"), {"decision": "approved", "reason": ""})
    assert response.status_code == 422 and 'data-testid="panel-error"' in html(response)
    case.refresh_from_db()
    assert case.status == Status.APPROVAL
    response = approver.post(
        act_url(case, "decide"), {"decision": "approved_tolerated", "reason": "容缺准予"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.APPROVED_TOLERATED
    assert case.notices.filter(kind=CaseNotice.Kind.DECISION).exists()
    response = approver.post(act_url(case, "issue_result"), {"valid_until": "2031-12-31"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.ISSUED and case.licence_number
    # the result is picked up at the window: the clerk's 待发放 tab has it, the clerk hands it out
    assert 'data-testid="do-hand_out"' not in html(approver.get(detail_url(case)))
    clerk = signed_in(world, "city_clerk")
    assert case.number in html(clerk.get(INDEX, {"tab": "pickup"}))
    assert clerk.post(act_url(case, "hand_out"), {"note": "本人领取"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.DELIVERED
    # the 容缺 material arrives; then the case can be closed
    assert 'data-testid="do-close"' not in html(clerk.get(detail_url(case)))
    assert clerk.post(act_url(case, "receive_tolerated"), {"note": ""}).status_code == 302
    assert clerk.post(act_url(case, "close"), {"note": ""}).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED and not case.tolerated_pending


def _unclaimed_tab_queries(world, item, count: int) -> int:
    existing = Case.objects.count()
    for _ in range(count - existing):
        accepted_case(world, item)
    reviewer = signed_in(world, "reviewer")
    reviewer.get(INDEX, {"tab": "unclaimed"})  # sessions, caches: warm
    with CaptureQueriesContext(connection) as queries:
        response = reviewer.get(INDEX, {"tab": "unclaimed"})
    assert response.status_code == 200
    assert html(response).count('data-testid="claim-') == min(count, 20)  # one page
    return len(queries)


def test_unclaimed_tab_runs_a_constant_number_of_queries(world, item, settings):
    settings.WORKDAYS_VERSION_CHECK_SECONDS = 3600  # no calendar re-check between the calls
    few = _unclaimed_tab_queries(world, item, 5)
    many = _unclaimed_tab_queries(world, item, 30)
    assert few == many, (few, many)


def test_assign_to_a_colleague_and_extend(world, item):
    case = accepted_case(world, item)
    reviewer = signed_in(world, "reviewer")
    page = html(reviewer.get(detail_url(case)))
    assert 'data-testid="do-assign"' in page
    response = reviewer.post(act_url(case, "assign"), {"assignee": world.user("approver").pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assignee == world.user("approver")
    # a user outside the department is not a choice
    response = reviewer.post(act_url(case, "assign"), {"assignee": world.user("city_clerk").pk})
    assert response.status_code == 422
    # only an approver extends; the reviewer has no such button
    assert 'data-testid="do-extend"' not in page
    approver = signed_in(world, "approver")
    due = case.due_date
    response = approver.post(act_url(case, "extend"), {"days": 3, "reason": "需现场核查"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.extension_days == 3 and case.due_date > due
    response = approver.post(act_url(case, "extend"), {"days": 2, "reason": "再延"})
    assert response.status_code == 409 and "只能延长一次" in html(response)


def test_supplement_stops_the_clock_and_the_window_receives_it(world, item):
    case = accepted_case(world, item)
    services.start_review(case, world.user("reviewer"))
    reviewer = signed_in(world, "reviewer")
    response = reviewer.post(
        act_url(case, "request_supplement"), {"items": "场地证明原件", "note": ""}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.SUPPLEMENT
    clerk = signed_in(world, "city_clerk")
    assert case.number in html(clerk.get(INDEX, {"tab": "supplement"}))
    # handing in nothing is refused with the rule's message
    response = clerk.post(act_url(case, "supplement"), {"note": ""})
    assert response.status_code == 409 and "尚未提交补正材料" in html(response)
    site = case.version.materials.get(name="场地证明")
    assert clerk.post(act_url(case, "paper"), {"material": site.pk}).status_code == 302
    assert clerk.post(act_url(case, "supplement"), {"note": "窗口收取"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.IN_REVIEW


# ---- filters, pagination, lights -----------------------------------------------------------------


def test_filters_pagination_and_lights(world, item, monkeypatch):
    monkeypatch.setattr(services, "today", lambda: WEDNESDAY)
    cases = [walk_in_case(world, item) for _ in range(23)]
    supervisor = signed_in(world, "supervisor")
    page1 = html(supervisor.get(INDEX, {"tab": "all"}))
    assert "共 23 件" in page1 and page1.count('class="cw-row ') == 20
    page2 = html(supervisor.get(INDEX, {"tab": "all", "page": 2}))
    assert page2.count('class="cw-row ') == 3
    # one case each: overdue, due tomorrow (yellow), later (green), paused
    red, yellow, green, paused = cases[:4]
    Case.objects.filter(pk=red.pk).update(status=Status.IN_REVIEW, due_date=dt.date(2026, 12, 1))
    Case.objects.filter(pk=yellow.pk).update(status=Status.IN_REVIEW, due_date=dt.date(2026, 12, 3))
    Case.objects.filter(pk=green.pk).update(status=Status.ACCEPTED, due_date=dt.date(2026, 12, 9))
    Case.objects.filter(pk=paused.pk).update(status=Status.SUPPLEMENT, due_date=WEDNESDAY)
    response = supervisor.get(INDEX, {"tab": "all"})
    assert [response.context["lights"][k] for k in ("red", "yellow", "green", "paused")] == [
        1,
        1,
        1,
        1,
    ]
    page = html(supervisor.get(INDEX, {"tab": "all", "colour": "red"}))
    assert "共 1 件" in page and red.number in page and "已超期 1 个工作日" in page
    page = html(supervisor.get(INDEX, {"tab": "all", "colour": "yellow"}))
    assert yellow.number in page and "剩余 1 个工作日" in page
    page = html(supervisor.get(INDEX, {"tab": "all", "status": "supplement"}))
    assert "共 1 件" in page and paused.number in page
    page = html(supervisor.get(INDEX, {"tab": "all", "q": cases[10].number}))
    assert "共 1 件" in page
    # due date range and sort by due date
    page = html(
        supervisor.get(
            INDEX,
            {"tab": "all", "due_from": "2026-12-01", "due_to": "2026-12-03", "sort": "due"},
        )
    )
    assert "共 3 件" in page and page.index(red.number) < page.index(yellow.number)
    # region and center filters
    page = html(supervisor.get(INDEX, {"tab": "all", "center": world.city_center.code}))
    assert "共 23 件" in page
    page = html(supervisor.get(INDEX, {"tab": "all", "q": "NO-SUCH-CASE"}))
    assert "共 0 件" in page and 'data-testid="empty"' in page and "清除筛选" in page
    # a bad date range is reported, not a 500
    response = supervisor.get(
        INDEX, {"tab": "all", "submitted_from": "2026-12-05", "submitted_to": "2026-12-01"}
    )
    assert response.status_code == 422 and "结束日期不能早于开始日期" in html(response)
    # an open tab counts in the home cards too
    home = html(supervisor.get(reverse("web:workbench")))
    assert 'data-testid="case-card-red"' in home


def test_center_and_region_filters(world):
    citywide = make_item(world, "户外广告设置许可", scope="citywide")
    city_case = walk_in_case(world, citywide)
    town_case = walk_in_case(world, citywide, clerk_key="town_clerk")
    supervisor = signed_in(world, "supervisor")
    response = supervisor.get(INDEX, {"tab": "all"})
    form = response.context["form"]
    assert {c for c, _ in form.fields["center"].choices} == {
        "",
        world.city_center.code,
        world.town_center.code,
    }
    assert {c for c, _ in form.fields["region"].choices} == {
        "",
        world.town.code,
        world.functional_area.code,
    }
    for params in (
        {"center": world.town_center.code},
        {"region": world.town.code},
        {"region": world.functional_area.code},
    ):
        page = html(supervisor.get(INDEX, {"tab": "all", **params}))
        assert "共 1 件" in page and town_case.number in page, params
        assert city_case.number not in page
    # the town administrator sees only the town's case
    page = html(signed_in(world, "town_admin").get(INDEX, {"tab": "all"}))
    assert town_case.number in page and city_case.number not in page


def test_home_cards_show_waiting_counts(world, item):
    walk_in_case(world, item)
    page = html(signed_in(world, "city_clerk").get(reverse("web:workbench")))
    assert 'data-testid="case-cards"' in page
    assert reverse("cases_staff:index") + "?tab=waiting" in page
    response = signed_in(world, "city_clerk").get(reverse("web:workbench"))
    cards = {c.key: c.count for c in response.context["case_cards"]}
    assert cards["waiting"] == 1 and cards["pickup"] == 0
    # roles without cases get no case cards
    page = html(signed_in(world, "auditor").get(reverse("web:workbench")))
    assert 'data-testid="case-cards"' not in page


def test_navigation_has_the_case_entries(world):
    page = html(signed_in(world, "city_clerk").get(INDEX))
    assert 'href="/workbench/cases/intake/"' in page
    page = html(signed_in(world, "reviewer").get(INDEX))
    assert 'href="/workbench/cases/"' in page and 'href="/workbench/cases/intake/"' not in page


# ---- personal data, export, audit ----------------------------------------------------------------


def test_lists_mask_personal_data(world, item, citizen):
    case = walk_in_case(world, item, applicant=citizen)
    page = html(signed_in(world, "city_clerk").get(INDEX, {"tab": "all"}))
    assert case.number in page
    assert "张*" in page and "张三" not in page
    assert RESIDENT_ID not in page and "110***********002X" in page
    assert "13800138000" not in page


def test_export_is_masked_and_audited(world, item, citizen):
    walk_in_case(world, item, applicant=citizen)
    walk_in_case(world, item)
    for key in ("city_clerk", "reviewer"):
        assert signed_in(world, key).get(reverse("cases_staff:export")).status_code == 403
    response = signed_in(world, "supervisor").get(
        reverse("cases_staff:export"), {"tab": "all", "status": "received"}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "办件编号" and len(rows) == 3
    assert RESIDENT_ID not in text and "张三" not in text and "13800138000" not in text
    assert "110***********002X" in text and "张*" in text and "138****8000" in text
    event = AuditEvent.objects.get(action="case.exported")
    assert event.actor == world.user("supervisor")
    assert event.data["rows"] == 2 and event.data["filters"] == {"status": "received"}


def test_viewing_and_revealing_are_audited(world, item, citizen):
    case = walk_in_case(world, item, applicant=citizen)
    services.accept(case, world.user("city_clerk"))
    client = signed_in(world, "reviewer")
    page = html(client.get(detail_url(case)))
    assert RESIDENT_ID not in page and "13800138000" not in page and "张三" not in page
    viewed = AuditEvent.objects.filter(action="case.viewed", target_id=str(case.pk))
    assert viewed.count() == 1 and viewed.get().actor == world.user("reviewer")
    assert not AuditEvent.objects.filter(action="case.personal_data_revealed").exists()
    response = client.post(reverse("cases_staff:reveal", args=[case.number]))
    page = html(response)
    assert response.status_code == 200
    assert RESIDENT_ID in page and "13800138000" in page and "张三" in page
    revealed = AuditEvent.objects.get(action="case.personal_data_revealed")
    assert revealed.actor == world.user("reviewer") and revealed.target_id == str(case.pk)
    # with htmx only the personal-data block comes back
    response = client.post(
        reverse("cases_staff:reveal", args=[case.number]), HTTP_HX_REQUEST="true"
    )
    assert "<html" not in html(response) and RESIDENT_ID in html(response)
    # revealing needs a POST
    assert client.get(reverse("cases_staff:reveal", args=[case.number])).status_code == 405


def test_timeline_and_notices(world, item, citizen):
    case = accepted_case(world, item, applicant=citizen)
    page = html(signed_in(world, "reviewer").get(detail_url(case)))
    assert 'data-testid="timeline"' in page
    assert "登记申请" in page and "窗口接件" in page and "受理" in page
    assert "city_clerk" in page and "综合窗口人员" in page and world.city_center.name in page
    assert 'data-testid="notice-acceptance"' in page


def test_one_level_item_is_decided_by_the_reviewer(world):
    one_level = make_item(
        world,
        "一级审批事项",
        steps=[
            ("accept", "受理", "window_clerk", 1),
            ("review", "审核", "reviewer", 1),
            ("decide", "决定", "reviewer", 1),
        ],
        materials=[{"name": "申请书", "necessity": "required"}],
    )
    case = accepted_case(world, one_level)
    services.start_review(case, world.user("reviewer"))
    reviewer = signed_in(world, "reviewer")
    page = html(reviewer.get(detail_url(case)))
    assert 'data-testid="do-decide"' in page and 'data-testid="do-submit_for_approval"' not in page
    assert 'value="approved"' in page and 'value="approved_tolerated"' not in page
    response = reviewer.post(act_url(case, "decide"), {"decision": "denied", "reason": ""})
    assert response.status_code == 422 and "理由" in html(response)
    response = reviewer.post(
        act_url(case, "decide"), {"decision": "denied", "reason": "不符合法定条件"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.DENIED
    assert 'data-testid="do-close"' in html(reviewer.get(detail_url(case)))


def test_withdraw_from_another_actor_is_forbidden_by_the_service(world, item):
    """A reviewer holds an actor on the case but the step is not theirs: the page says so."""
    case = walk_in_case(world, item)
    services.accept(case, world.user("city_clerk"))
    response = signed_in(world, "reviewer").post(act_url(case, "withdraw"), {"reason": "x"})
    assert response.status_code == 403 and "无权" in html(response)
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED


def test_unknown_step_is_404(world, item):
    case = walk_in_case(world, item)
    assert signed_in(world, "city_clerk").post(act_url(case, "explode")).status_code == 404


def test_register_walk_in_service(world):
    from tongban.accounts import services as account_services
    from tongban.core.errors import Forbidden

    reg = account_services.Registration(
        kind="natural", name="赵六", mobile="13612345678", password="", id_number=RESIDENT_ID_2
    )
    with pytest.raises(Forbidden):
        account_services.register_walk_in(reg, by=world.user("reviewer"))
    first = account_services.register_walk_in(reg, by=world.user("city_clerk"))
    again = account_services.register_walk_in(reg, by=world.user("town_clerk"))
    assert first.pk == again.pk and first.user is None
    assert AuditEvent.objects.filter(action="accounts.walk_in_registered").count() == 1
    event = AuditEvent.objects.get(action="accounts.walk_in_registered")
    assert RESIDENT_ID_2 not in str(event.data)  # masked in the audit trail


def test_pages_work_in_elder_mode(world, item):
    case = walk_in_case(world, item)
    client = signed_in(world, "city_clerk")
    client.cookies["tongban_elder"] = "1"
    for url in (INDEX, detail_url(case), reverse("cases_staff:intake")):
        page = html(client.get(url))
        assert '<body class="elder' in page
    # secondary details (identity under the name) are marked so elder mode can hide them
    assert 'class="cw-sub mono secondary"' in html(client.get(INDEX, {"tab": "all"}))


def test_timeline_says_how_each_material_came(world, item):
    case = walk_in_case(world, item, received=False)  # materials uploaded by the clerk
    paper = case.version.materials.get(name="场地证明")
    services.check_paper(case, world.user("city_clerk"), material_id=paper.pk)
    page = html(signed_in(world, "city_clerk").get(detail_url(case)))
    timeline = page[page.index('data-testid="timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    assert "纸质材料已核验" in timeline and "上传" in timeline
    assert "上传材料" not in timeline  # the generic label is gone
