"""Personal data in the case API's answers: staff get a natural person's name, the contact and
the postal address masked in every answer (detail and steps) and reveal them through an audited
call; applicants see their own data in full but never staff usernames, and no notes of the
department's internal steps."""

# ruff: noqa: F811  (the api and media fixtures are imported from test_api_support)
from __future__ import annotations

import json

import pytest

from tests.cases.factories import FORM, online_case, provide_required
from tests.cases.test_api_support import (  # noqa: F401
    api,
    applicant,
    media,
    paper_case,
)
from tests.catalog.factories import make_item
from tests.factories import RESIDENT_ID
from tongban.cases import services
from tongban.cases.api import mask_address
from tongban.cases.models import Case
from tongban.core.models import AuditEvent
from tongban.org.roles import Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

ADDRESS = "广东省东莞市南城街道鸿福路200号海德广场3栋1201"
SECRETS = ("张三", "13800138000", RESIDENT_ID, "鸿福路200号", "海德广场")


@pytest.fixture
def item(world):
    return make_item(world, "食品经营许可", department=world.market_dept)


@pytest.fixture
def citizen_case(world, item) -> Case:
    """The citizen's own online case (a natural person), results by post, accepted."""
    case = online_case(world, item, user_key="citizen", status="draft")
    services.update_form(
        case,
        world.user("citizen"),
        {"contact_name": "张三", "delivery_mode": "post", "postal_address": ADDRESS},
    )
    provide_required(case, world.user("citizen"))
    services.submit(case, world.user("citizen"))
    services.accept(case, world.user("city_clerk"))
    case.refresh_from_db()
    return case


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def text(response) -> str:
    return json.dumps(response.json(), ensure_ascii=False)


# ---------------------------------------------------------------------------- S2: staff


@pytest.mark.parametrize("role", ["city_clerk", "reviewer", "supervisor", "center_admin"])
def test_staff_read_the_detail_masked(api, citizen_case, role):
    response = api.get(f"/cases/{citizen_case.number}", as_=role)
    detail = ok(response)
    assert detail["applicant"]["name"] == "张*"
    assert detail["applicant"]["identity_masked"] == "110***********002X"
    assert detail["contact_name"] == "张*"
    assert detail["contact_mobile"] == "138****8000"
    assert detail["postal_address"] == "广东省东莞市南城街道****"
    assert detail["personal_data_masked"] is True
    assert detail["personal_data_url"] == f"/api/v1/cases/{citizen_case.number}/personal-data"
    # the applicant's own steps show the name masked as well
    assert {e["actor"] for e in detail["events"] if e["role"] == "applicant"} == {"张*"}
    body = text(response)
    for secret in SECRETS:
        assert secret not in body, secret


def test_answers_to_staff_steps_are_masked_too(api, citizen_case):
    response = api.post(f"/cases/{citizen_case.number}/actions/start_review", {}, as_="reviewer")
    assert ok(response)["status"] == "in_review"
    body = text(response)
    for secret in SECRETS:
        assert secret not in body, secret


def test_a_legal_persons_name_stays_public_its_contact_is_masked(api, world, item):
    case = paper_case(world, item, "city_clerk", "enterprise", received=False)
    services.update_form(case, world.user("city_clerk"), {"contact_name": "王小明"})
    detail = ok(api.get(f"/cases/{case.number}", as_="city_clerk"))
    assert detail["applicant"]["name"] == "示例科技有限公司"
    assert detail["contact_name"] == "王**" and detail["contact_mobile"] == "138****8000"


def test_the_applicant_reads_their_own_data_unmasked(api, citizen_case):
    detail = ok(api.get(f"/cases/{citizen_case.number}", as_="citizen"))
    assert detail["applicant"]["name"] == "张三"
    assert detail["contact_name"] == "张三" and detail["contact_mobile"] == "13800138000"
    assert detail["postal_address"] == ADDRESS
    assert detail["personal_data_masked"] is False and detail["personal_data_url"] is None


def test_staff_reveal_personal_data_and_it_is_audited(api, world, citizen_case):
    url = f"/cases/{citizen_case.number}/personal-data"
    revealed = AuditEvent.objects.filter(action="case.personal_data_revealed")
    data = ok(api.get(url, as_="reviewer"))
    assert data == {
        "number": citizen_case.number,
        "applicant": {
            "kind": "natural",
            "kind_label": "自然人",
            "name": "张三",
            "identity_number": RESIDENT_ID,
            "mobile": "13800138000",
            "legal_representative": "",
        },
        "contact_name": "张三",
        "contact_mobile": "13800138000",
        "postal_address": ADDRESS,
    }
    event = revealed.get()
    assert event.actor == world.user("reviewer")
    assert event.data["number"] == citizen_case.number
    ok(api.get(url, as_="supervisor"))  # a read-only viewer in scope may reveal, audited
    assert revealed.count() == 2


@pytest.mark.parametrize("role", ["town_clerk", "catalog_admin", "enterprise", "auditor"])
def test_no_reveal_outside_the_scope(api, citizen_case, role):
    response = api.get(f"/cases/{citizen_case.number}/personal-data", as_=role)
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="case.personal_data_revealed").exists()


def test_the_applicant_reads_their_own_personal_data_without_an_audit_row(api, citizen_case):
    data = ok(api.get(f"/cases/{citizen_case.number}/personal-data", as_="citizen"))
    assert data["applicant"]["identity_number"] == RESIDENT_ID
    assert not AuditEvent.objects.filter(action="case.personal_data_revealed").exists()
    assert api.get(f"/cases/{citizen_case.number}/personal-data").status_code == 401


@pytest.mark.parametrize(
    "address,masked",
    [
        ("东莞市南城街道鸿福路1号", "东莞市南城街道****"),
        ("广东省东莞市大朗镇水口村工业路8号", "广东省东莞市大朗镇****"),
        ("北京市朝阳区望京街道阜通东大街6号", "北京市朝阳区****"),
        ("广东省深圳市南山区科技园区科苑路15号", "广东省深圳市南山区****"),
        ("东莞市万科小区5栋", "东莞市****"),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放南路", "新疆维吾尔自治区乌鲁木齐市天山区****"),
        ("鸿福路200号", "****"),
        ("东莞市南城街道", "东莞市南城街道"),
        ("", ""),
    ],
)
def test_address_masking_keeps_the_district(address, masked):
    assert mask_address(address) == masked


# ---------------------------------------------------------------------------- S6, S5: applicants


@pytest.fixture
def internal_steps(world, citizen_case) -> Case:
    """Under review with the department's internal steps: claim, submit, return, submit."""
    reviewer, approver = world.user("reviewer"), world.user("approver")
    services.start_review(citizen_case, reviewer, note="开始审查")
    services.assign(citizen_case, reviewer, assignee=approver)
    services.assign(citizen_case, approver, assignee=reviewer)
    services.submit_for_approval(citizen_case, reviewer, opinion="内部意见：拟准予")
    services.return_for_review(citizen_case, approver, reason="内部退回：补充核查记录")
    citizen_case.refresh_from_db()
    return citizen_case


ROLE_LABELS = {str(r.label) for r in Role} | {"系统"}


def test_applicants_see_no_staff_usernames(api, world, internal_steps):
    detail = ok(api.get(f"/cases/{internal_steps.number}", as_="citizen"))
    assert detail["accepted_by"] is None and detail["assignee"] is None
    assert detail["filed_by"] == "citizen"  # their own filing
    actors = {e["actor"] for e in detail["events"]}
    assert actors <= ROLE_LABELS, actors
    assert {"申请人", "综合窗口人员", "审核人员"} <= actors, actors
    staff = ok(api.get(f"/cases/{internal_steps.number}", as_="reviewer"))
    assert staff["accepted_by"] == "city_clerk" and staff["assignee"] == "reviewer"
    assert {"city_clerk", "reviewer", "approver"} <= {e["actor"] for e in staff["events"]}


def test_applicants_see_no_staff_usernames_in_lists(api, internal_steps):
    rows = ok(api.get("/cases", as_="citizen"))["items"]
    assert [r["assignee"] for r in rows] == [None]
    rows = ok(api.get("/cases", as_="reviewer"))["items"]
    assert [r["assignee"] for r in rows] == ["reviewer"]


def test_an_agency_case_does_not_name_the_agent_to_the_applicant(api, world, item):
    body = {"item": item.code, "channel": "agency", "applicant_identity": "91110000600037341L"}
    number = ok(api.post("/cases", {**body, "form": FORM}, as_="agent"), 201)["number"]
    case = Case.objects.get(number=number)
    provide_required(case, world.user("agent"))  # the enterprise reads it once submitted
    services.submit(case, world.user("agent"))
    detail = ok(api.get(f"/cases/{number}", as_="enterprise"))
    assert detail["filed_by"] is None
    assert "agent" not in {e["actor"] for e in detail["events"]}
    assert ok(api.get(f"/cases/{number}", as_="agent"))["filed_by"] == "agent"


def test_applicants_see_no_notes_of_internal_steps(api, internal_steps):
    response = api.get(f"/cases/{internal_steps.number}", as_="citizen")
    events = {e["action"]: e for e in ok(response)["events"]}
    for action in ("submit_for_approval", "return_for_review", "assign"):
        assert events[action]["note"] == "" and events[action]["data"] == {}, action
    assert events["start_review"]["note"] == "开始审查"  # a step outside stays as it was
    body = text(response)
    assert "内部意见" not in body and "内部退回" not in body
    staff_detail = ok(api.get(f"/cases/{internal_steps.number}", as_="approver"))
    staff = {e["action"]: e for e in staff_detail["events"]}
    assert staff["submit_for_approval"]["note"] == "内部意见：拟准予"
    assert staff["return_for_review"]["note"] == "内部退回：补充核查记录"
    assert staff["assign"]["data"] == {"assignee": "reviewer"}
