"""The case API endpoint by endpoint: happy paths, 401 / 403 / 404 / 409 / 422, bad input that
must never be a 500, masking in lists, the clock in the detail, the whole lifecycle through the
one action endpoint, materials, the licence wallet, the inbox and the OpenAPI document."""

# ruff: noqa: F811  (the api and media fixtures are imported from test_api_support)
from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.cases.factories import FORM, png_bytes, upload
from tests.cases.test_api_support import (  # noqa: F401
    api,
    applicant,
    give_licence,
    media,
    paper_case,
    pdf_file,
    submitted_case,
)
from tests.catalog.factories import make_item
from tests.factories import RESIDENT_ID, USCC
from tongban.cases import services
from tongban.cases.models import Case, CaseMaterial, Status
from tongban.notify.models import Notification
from tongban.registry.models import Licence

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

WEDNESDAY = dt.date(2026, 11, 25)


@pytest.fixture
def wednesday(monkeypatch):
    """Freeze the services' clock on Wednesday 2026-11-25, 10:00 in Dongguan."""
    moment = timezone.make_aware(dt.datetime(2026, 11, 25, 10, 0))
    monkeypatch.setattr(services, "now", lambda: moment)
    monkeypatch.setattr(services, "today", lambda: WEDNESDAY)
    return moment


@pytest.fixture
def item(world):
    return make_item(world, "食品经营许可", department=world.market_dept)


def new_case(api, item, as_="enterprise", **body):
    data = {"item": item.code, "channel": "web", "form": FORM, **body}
    response = api.post("/cases", data, as_=as_)
    assert response.status_code == 201, response.content
    return response.json()


def act(api, number, action, as_, **body):
    return api.post(f"/cases/{number}/actions/{action}", body, as_=as_)


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def materials_of(detail) -> dict[str, dict]:
    return {m["name"]: m for m in detail["materials"]}


# ============================================================================ intake


def test_applicant_files_a_draft_online(api, world, item):
    detail = new_case(api, item, as_="citizen", center=world.city_center.code)
    assert detail["status"] == "draft" and detail["status_label"] == "草稿"
    assert detail["channel"] == "web" and detail["item"] == item.code
    assert detail["center"] == world.city_center.code
    assert detail["department"] == world.market_dept.code
    assert detail["applicant"]["name"] == "张三"  # the applicant's own detail is not masked
    assert detail["applicant"]["identity_masked"] == "110***********002X"
    assert detail["form"]["description"] == FORM["description"]
    states = {n: m["state"] for n, m in materials_of(detail).items()}
    assert states == {"申请表": "missing", "营业执照": "missing", "场地证明": "to_follow"}
    actions = {a["action"]: a for a in detail["actions"]}
    assert {"submit", "edit", "add_material", "withdraw"} <= set(actions)
    assert actions["edit"]["method"] == "PATCH"
    assert actions["edit"]["path"] == f"/api/v1/cases/{detail['number']}"
    assert actions["submit"]["path"] == f"/api/v1/cases/{detail['number']}/actions/submit"
    assert actions["add_material"]["path"] == f"/api/v1/cases/{detail['number']}/materials"
    assert detail["events"][0]["action"] == "create"
    case = Case.objects.get(number=detail["number"])
    assert case.applicant == applicant(world, "citizen") and case.filed_by == world.user("citizen")


@pytest.mark.parametrize(
    "how",
    [
        lambda world: {"applicant_identity": USCC},
        lambda world: {"applicant_identity": USCC.lower()},
    ],
    ids=["credit-code", "lower-case"],
)
def test_clerk_registers_a_window_case_for_an_applicant(api, world, item, how):
    body = {"item": item.code, "channel": "window", "form": FORM, **how(world)}
    detail = ok(api.post("/cases", body, as_="city_clerk"), 201)
    assert detail["channel"] == "window" and detail["status"] == "draft"
    assert detail["center"] == world.city_center.code
    assert detail["applicant"]["name"] == "示例科技有限公司"
    assert {"receive", "edit", "add_material"} <= {a["action"] for a in detail["actions"]}


def test_clerk_finds_a_natural_person_by_resident_id(api, world, item):
    body = {"item": item.code, "channel": "mail", "applicant_identity": RESIDENT_ID}
    detail = ok(api.post("/cases", body, as_="city_clerk"), 201)
    assert detail["applicant"]["id"] == applicant(world, "citizen").pk


def test_clerk_must_name_a_known_applicant(api, world, item):
    body = {"item": item.code, "channel": "window", "applicant_identity": "440304199001011233"}
    response = api.post("/cases", body, as_="city_clerk")
    assert response.status_code == 422
    assert response.json()["code"] == "applicant_not_found"
    both = {**body, "applicant_identity": USCC, "applicant_id": 1}
    assert api.post("/cases", both, as_="city_clerk").status_code == 422
    # a number that is no valid resident ID or credit code is refused with the reason
    wrong = {**body, "applicant_identity": "440304199001011234"}
    response = api.post("/cases", wrong, as_="city_clerk")
    assert response.status_code == 422 and response.json()["code"] == "invalid_identity"
    assert "校验位" in response.json()["message"]
    missing = {"item": item.code, "channel": "window"}
    response = api.post("/cases", missing, as_="city_clerk")
    assert response.status_code == 422 and response.json()["code"] == "applicant_required"
    assert not Case.objects.exists()


@pytest.mark.parametrize("identity", [USCC, "440304199001011233"])
def test_applicants_file_only_for_themselves_and_cannot_probe_others(api, world, item, identity):
    response = api.post(
        "/cases",
        {"item": item.code, "channel": "web", "applicant_identity": identity},
        as_="citizen",
    )
    assert response.status_code == 403  # the same whether the record exists or not
    assert not Case.objects.exists()


@pytest.mark.parametrize("role", ["city_clerk", "agent", "enterprise"])
def test_nobody_names_an_applicant_by_database_id(api, world, item, role):
    channel = {"city_clerk": "window", "agent": "agency", "enterprise": "web"}[role]
    for key in ("citizen", "enterprise"):
        body = {"item": item.code, "channel": channel, "applicant_id": applicant(world, key).pk}
        response = api.post("/cases", body, as_=role)
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "applicant_id_not_accepted"
        assert response.json()["details"][0]["field"] == "applicant_id"
    assert not Case.objects.exists()


def test_an_agent_files_only_for_legal_persons(api, world, item):
    body = {"item": item.code, "channel": "agency", "form": FORM}
    for identity in (RESIDENT_ID, "440304199001011233"):  # registered or not: the same answer
        response = api.post("/cases", {**body, "applicant_identity": identity}, as_="agent")
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "agency_legal_persons_only"
        assert "法人" in response.json()["message"]
    assert not Case.objects.exists()
    detail = ok(api.post("/cases", {**body, "applicant_identity": USCC}, as_="agent"), 201)
    assert detail["channel"] == "agency" and detail["applicant"]["kind"] == "legal"


def test_staff_lookups_by_identity_are_rate_limited_per_user(api, world, item, settings):
    settings.CASE_LOOKUP_RATE = "3/h"
    body = {"item": item.code, "channel": "window", "form": FORM}
    unknown = {**body, "applicant_identity": "440304199001011233"}
    codes = [api.post("/cases", unknown, as_="city_clerk").status_code for _ in range(2)]
    assert codes == [422, 422]  # not found, counted
    ok(api.post("/cases", {**body, "applicant_identity": USCC}, as_="city_clerk"), 201)
    limited = api.post("/cases", {**body, "applicant_identity": USCC}, as_="city_clerk")
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert limited["Retry-After"] == "3600"
    assert Case.objects.count() == 1
    # another clerk has their own count; an applicant naming themselves is not a look-up
    town = {**body, "applicant_identity": USCC}
    assert api.post("/cases", town, as_="town_clerk").status_code != 429
    own = {"item": item.code, "channel": "web", "applicant_identity": USCC, "form": FORM}
    for _ in range(4):
        ok(api.post("/cases", own, as_="enterprise"), 201)


def test_agent_files_an_agency_case(api, world, item):
    body = {"item": item.code, "channel": "agency", "applicant_identity": USCC, "form": FORM}
    detail = ok(api.post("/cases", body, as_="agent"), 201)
    assert detail["filed_by"] == "agent" and detail["applicant"]["name"] == "示例科技有限公司"
    assert "submit" in {a["action"] for a in detail["actions"]}
    response = api.post("/cases", {"item": item.code, "channel": "agency"}, as_="agent")
    assert response.status_code == 422


@pytest.mark.parametrize(
    "role",
    [
        "reviewer",
        "approver",
        "center_admin",
        "town_admin",
        "agent",
        "catalog_admin",
        "supervisor",
        "auditor",
        "citizen",
    ],
)
def test_only_clerks_register_window_cases(api, world, item, role):
    body = {"item": item.code, "channel": "window", "applicant_identity": USCC}
    response = api.post("/cases", body, as_=role)
    assert response.status_code == 403, response.content
    assert not Case.objects.exists()


@pytest.mark.parametrize("role", ["city_clerk", "reviewer", "supervisor", "agent", "auditor"])
def test_only_applicants_file_online(api, world, item, role):
    response = api.post("/cases", {"item": item.code, "channel": "web"}, as_=role)
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_intake_refuses_items_and_centers_that_cannot_take_it(api, world, item):
    assert api.post("/cases", {"item": "NOPE", "channel": "web"}, as_="citizen").status_code == 422
    suspended = make_item(world, "暂停事项", status="suspended")
    response = api.post("/cases", {"item": suspended.code, "channel": "web"}, as_="citizen")
    assert response.status_code == 409 and response.json()["code"] == "item_unavailable"
    offline = make_item(world, "窗口事项", depth=1, visits=1)
    response = api.post("/cases", {"item": offline.code, "channel": "web"}, as_="citizen")
    assert response.status_code == 409 and response.json()["code"] == "not_online"
    # the item is accepted at its department's center only, not at the town
    town = {"item": item.code, "channel": "web", "center": world.town_center.code}
    response = api.post("/cases", town, as_="citizen")
    assert response.status_code == 409 and response.json()["code"] == "not_in_acceptance_scope"
    response = api.post("/cases", {**town, "center": "SC-NONE"}, as_="citizen")
    assert response.status_code == 422
    response = api.post(
        "/cases",
        {"item": item.code, "channel": "window", "applicant_identity": USCC},
        as_="town_clerk",
    )
    assert response.status_code == 409 and response.json()["code"] == "not_in_acceptance_scope"
    assert not Case.objects.exists()


BAD_INTAKE = [
    {"channel": "web"},
    {"item": "X", "channel": "fax"},
    {"item": "X" * 10_000, "channel": "web"},
    {"item": 12, "channel": "web"},
    {"item": None, "channel": "web"},
    {"item": "X\u0000", "channel": "web"},
    {"item": "{code}", "channel": "web", "center": "\u0000"},
    {"item": "{code}", "channel": "window", "applicant_id": "abc"},
    {"item": "{code}", "channel": "window", "applicant_id": 10**30},
    {"item": "{code}", "channel": "window", "applicant_id": -1},
    {"item": "{code}", "channel": "window", "applicant_identity": "1" * 500},
    {"item": "{code}", "channel": "web", "form": {"description": "长" * 1001}},
    {"item": "{code}", "channel": "web", "form": {"description": "长" * 100_000}},
    {"item": "{code}", "channel": "web", "form": {"contact_mobile": "12345"}},
    {"item": "{code}", "channel": "web", "form": {"delivery_mode": "drone"}},
    {"item": "{code}", "channel": "web", "form": {"delivery_mode": "post"}},
    {"item": "{code}", "channel": "web", "form": {"remarks": "a\u0000b"}},
    {"item": "{code}", "channel": "web", "form": "text"},
    {"item": "{code}", "channel": "web", "form": {"description": ["list"]}},
]


@pytest.mark.parametrize("body", BAD_INTAKE, ids=range(len(BAD_INTAKE)))
def test_bad_intake_is_422_never_500(api, world, item, body):
    data = json.loads(json.dumps(body).replace("{code}", item.code))
    response = api.post("/cases", data, as_="citizen")
    assert response.status_code == 422, response.content
    assert set(response.json()) == {"code", "message", "details"}
    assert not Case.objects.exists()


@pytest.mark.parametrize("raw", ["[]", "[1, 2]", "null", "not json", '"text"'])
def test_intake_body_must_be_a_json_object(api, world, item, raw):
    response = api.client.post(
        "/api/v1/cases", raw, content_type="application/json", **api.auth("citizen")
    )
    assert response.status_code in (400, 422), response.content
    assert response.json()["message"]


# ============================================================================ list


def test_lists_mask_personal_data(api, world, item):
    case = paper_case(world, item, "city_clerk", "citizen")
    response = api.get("/cases", as_="city_clerk")
    row = ok(response)["items"][0]
    assert row["number"] == case.number
    assert row["applicant_name"] == "张*"
    assert row["contact_mobile"] == "138****8000"
    assert row["status"] == "received" and row["status_label"] == "已接件"
    text = response.content.decode()
    assert "张三" not in text and "13800138000" not in text and RESIDENT_ID not in text
    # a legal person's name is public
    paper_case(world, item, "city_clerk", "enterprise")
    names = {r["applicant_name"] for r in api.get("/cases", as_="city_clerk").json()["items"]}
    assert names == {"张*", "示例科技有限公司"}


def _list_queries(api, world, item, count: int, as_: str) -> int:
    for _ in range(count - Case.objects.count()):
        case = paper_case(world, item, "city_clerk", "citizen")
        services.accept(case, world.user("city_clerk"))
    api.get("/cases", as_=as_)  # the token: fetched and warm
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/cases", as_=as_)
    assert ok(response)["count"] == count
    return len(queries)


@pytest.mark.parametrize("role", ["reviewer", "city_clerk", "citizen"])
def test_the_list_runs_a_constant_number_of_queries(api, world, item, role, settings):
    settings.WORKDAYS_VERSION_CHECK_SECONDS = 3600  # no calendar re-check between the calls
    few = _list_queries(api, world, item, 5, role)
    many = _list_queries(api, world, item, 30, role)
    assert few == many, (few, many)


@pytest.fixture
def many(world, wednesday):
    market = make_item(world, "食品经营许可", scope="citywide", department=world.market_dept)
    health = make_item(world, "卫生许可", scope="citywide", department=world.health_dept)
    cases = {
        "city": paper_case(world, market, "city_clerk", "enterprise"),
        "health": paper_case(world, health, "city_clerk", "citizen", received=False),
        "town": paper_case(world, market, "town_clerk", "citizen"),
        "village": submitted_case(world, market, "enterprise", center=world.village_point),
    }
    services.accept(cases["city"], world.user("city_clerk"))
    services.start_review(cases["city"], world.user("reviewer"))
    for c in cases.values():
        c.refresh_from_db()
    return {"market_item": market, "health_item": health, **cases}


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["number"] for row in response.json()["items"]}


def test_list_filters(api, world, many):
    get = lambda q: numbers(api.get(f"/cases?{q}", as_="supervisor"))  # noqa: E731
    n = {k: v.number for k, v in many.items() if isinstance(v, Case)}
    assert get("") == set(n.values())
    assert get("status=received") == {n["town"]}
    assert get("status=received&status=draft") == {n["town"], n["health"]}
    assert get(f"item={many['health_item'].code}") == {n["health"]}
    assert get("channel=web") == {n["village"]}
    assert get(f"center={world.village_point.code}") == {n["village"]}
    assert get(f"department={world.health_dept.code}") == {n["health"]}
    assert get(f"region={world.town.code}") == {n["town"], n["village"]}
    assert get(f"region={world.village.code}") == {n["village"]}
    assert get("region=000000") == set()
    assert get("colour=green") == {n["city"]}
    assert get("colour=none") == set(n.values()) - {n["city"]}
    due = many["city"].due_date
    assert get(f"due_before={due}") == {n["city"]}
    assert get(f"due_before={due - dt.timedelta(days=1)}") == set()
    assert get(f"due_after={due}") == {n["city"]}
    assert get(f"q={n['town'][:-3].lower()}") >= {n["town"]}
    assert get(f"q={n['town']}") == {n["town"]}
    assert get("q=ZZZ") == set()
    assert numbers(api.get("/cases?assignee=me", as_="reviewer")) == {n["city"]}
    assert numbers(api.get("/cases?assignee=me", as_="approver")) == set()
    rows = api.get("/cases?order=due", as_="supervisor").json()["items"]
    assert rows[0]["number"] == n["city"] and rows[0]["due_date"] == str(due)
    assert rows[0]["colour"] == "green" and rows[0]["colour_label"] == "正常"


@pytest.mark.parametrize(
    "shift,colour,label", [(0, "yellow", "临近到期"), (1, "red", "已超期")], ids=["due", "late"]
)
def test_the_light_in_lists_is_todays(api, world, many, monkeypatch, shift, colour, label):
    due = many["city"].due_date
    monkeypatch.setattr(services, "today", lambda: due + dt.timedelta(days=shift))
    assert numbers(api.get(f"/cases?colour={colour}", as_="supervisor")) == {many["city"].number}
    assert numbers(api.get("/cases?colour=green", as_="supervisor")) == set()
    row = api.get(f"/cases?q={many['city'].number}", as_="supervisor").json()["items"][0]
    assert row["colour"] == colour and row["colour_label"] == label
    detail = api.get(f"/cases/{many['city'].number}", as_="supervisor").json()
    assert detail["clock"]["colour"] == colour


def test_list_is_paginated(api, world, many):
    first = ok(api.get("/cases?limit=2", as_="supervisor"))
    second = ok(api.get("/cases?limit=2&offset=2", as_="supervisor"))
    assert first["count"] == second["count"] == 4
    assert len(first["items"]) == len(second["items"]) == 2
    assert not {r["number"] for r in first["items"]} & {r["number"] for r in second["items"]}


@pytest.mark.parametrize(
    "query",
    [
        "status=flying",
        "channel=fax",
        "colour=purple",
        "due_before=2026-13-40",
        "due_after=yesterday",
        "assignee=someone",
        "order=random",
        "limit=0",
        "limit=100000",
        "offset=-1",
        "offset=99999999999999999999999",
        f"q={'A' * 41}",
        f"item={'A' * 500}",
    ],
)
def test_bad_list_filters_are_422(api, world, query):
    response = api.get(f"/cases?{query}", as_="city_clerk")
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid"


# ============================================================================ detail


def test_detail_has_the_clock_checklist_events_and_notices(api, world, wednesday):
    item = make_item(world, "食品经营许可", department=world.market_dept)
    case = submitted_case(world, item, "enterprise")
    detail = ok(act(api, case.number, "accept", "city_clerk", note="材料齐全"))
    assert detail["status"] == "accepted"
    clock = detail["clock"]
    assert clock["accepted_on"] == "2026-11-25"
    assert clock["due_date"] == "2026-12-02"  # the 5th working day after acceptance
    assert clock["remaining_working_days"] == 5
    assert clock["colour"] == "green" and clock["colour_label"] == "正常"
    assert clock["provisional"] is False and clock["paused"] is False
    assert clock["limit_days"] == 5 and clock["case_kind"] == "promised"
    checklist = materials_of(detail)
    assert checklist["申请表"]["state"] == "provided"
    assert checklist["申请表"]["provided"][0]["source"] == "upload"
    assert checklist["申请表"]["provided"][0]["original_name"] == "申请表.pdf"
    provided_id = checklist["申请表"]["provided"][0]["id"]
    assert checklist["申请表"]["provided"][0]["url"] == (
        f"/cases/{case.number}/materials/{provided_id}/file"
    )
    assert checklist["场地证明"]["state"] == "to_follow"
    assert detail["tolerated_pending"] is True
    labels = [e["label"] for e in detail["events"]]
    assert labels[0] == "创建申请" and labels[-1] == "受理" and "提交申请" in labels
    accepted = detail["events"][-1]
    assert accepted["code"] == 3 and accepted["note"] == "材料齐全"
    assert accepted["to_status_label"] == "已受理"
    assert [n["kind"] for n in detail["notices"]] == ["acceptance"]
    assert detail["notices"][0]["items"] == ["场地证明"]
    notice = detail["notices"][0]
    assert notice["pdf_url"] == f"/cases/{case.number}/notices/{notice['number']}.pdf"
    assert detail["accepted_by"] == "city_clerk"
    # the reviewer of the department sees it now, and may start
    actions = {a["action"] for a in ok(api.get(f"/cases/{case.number}", as_="reviewer"))["actions"]}
    assert {"start_review", "assign", "receive_tolerated"} <= actions


def test_detail_of_an_unknown_or_absurd_number_is_404(api, world):
    for number in ("BJ20261128-XXXXXX", "X" * 41, "X" * 5000):
        response = api.get(f"/cases/{number}", as_="supervisor")
        assert response.status_code == 404
        assert response.json() == {
            "code": "not_found",
            "message": "未找到该办件。",
            "details": None,
        }


# ============================================================================ the lifecycle


def test_the_whole_lifecycle_through_the_action_endpoint(api, world):
    # real time: the supplement check compares upload times (auto_now_add) with the request
    item = make_item(world, "食品经营许可", department=world.market_dept)
    draft = new_case(api, item)
    number = draft["number"]
    for m in item.published_version.materials.filter(necessity="required"):
        ok(api.upload(f"/cases/{number}/materials", {"material": m.pk, "file": pdf_file()},
                      as_="enterprise"), 201)  # fmt: skip
    assert ok(act(api, number, "submit", "enterprise"))["status"] == "pre_review"
    assert ok(act(api, number, "accept", "city_clerk"))["status"] == "accepted"
    detail = ok(act(api, number, "start_review", "reviewer", note="开始审查"))
    assert detail["status"] == "in_review" and detail["assignee"] == "reviewer"
    assert ok(act(api, number, "assign", "reviewer", assignee="approver"))["assignee"] == "approver"
    assert ok(act(api, number, "assign", "reviewer"))["assignee"] == "reviewer"  # 认领

    detail = ok(act(api, number, "request_supplement", "reviewer", items=["营业执照过期"]))
    assert detail["status"] == "supplement" and detail["clock"]["paused"] is True
    assert detail["clock"]["colour"] == "paused"
    assert detail["notices"][-1]["kind"] == "supplement"
    # nothing new yet: 409; then the applicant uploads and hands in the supplement
    response = act(api, number, "supplement", "enterprise")
    assert response.status_code == 409 and response.json()["code"] == "materials_missing"
    licence_material = item.published_version.materials.get(name="营业执照")
    ok(api.upload(f"/cases/{number}/materials",
                  {"material": licence_material.pk, "file": upload("新执照.png", png_bytes(),
                                                                   "image/png")},
                  as_="enterprise"), 201)  # fmt: skip
    detail = ok(act(api, number, "supplement", "enterprise", note="已补正"))
    assert detail["status"] == "in_review" and detail["clock"]["paused"] is False
    supplied = materials_of(detail)["营业执照"]["provided"]
    assert [p["supplement"] for p in supplied] == [False, True]

    detail = ok(act(api, number, "start_special", "reviewer", kind="inspection", reason="现场核查"))
    assert detail["status"] == "special"
    assert ok(act(api, number, "end_special", "reviewer"))["status"] == "in_review"
    detail = ok(act(api, number, "submit_for_approval", "reviewer", note="建议准予"))
    assert detail["status"] == "approval"
    detail = ok(act(api, number, "return_for_review", "approver", reason="补充意见"))
    assert detail["status"] == "in_review"
    ok(act(api, number, "submit_for_approval", "reviewer", note="已补充"))
    before = Case.objects.get(number=number).due_date
    detail = ok(act(api, number, "extend", "approver", days=3, reason="情况复杂"))
    assert detail["clock"]["extension_days"] == 3
    assert dt.date.fromisoformat(detail["clock"]["due_date"]) > before
    response = act(api, number, "extend", "approver", days=2, reason="再延")
    assert response.status_code == 409 and response.json()["code"] == "already_extended"

    # 场地证明 is 容缺: a plain approval is refused, the tolerated one goes through
    response = act(api, number, "approve", "approver")
    assert response.status_code == 409 and response.json()["code"] == "materials_to_follow"
    detail = ok(act(api, number, "decide", "approver", decision="approved_tolerated"))
    assert detail["status"] == "approved_tolerated" and detail["decision"] == "approved_tolerated"
    valid = "2031-11-24"
    detail = ok(act(api, number, "issue_result", "approver", valid_until=valid))
    assert detail["status"] == "issued" and detail["licence_number"].startswith("ZZ")
    # window pick-up: handed out by the accepting center's clerk, not by the department
    response = act(api, number, "hand_out", "approver")
    assert response.status_code == 403
    assert ok(act(api, number, "hand_out", "city_clerk"))["status"] == "delivered"
    response = act(api, number, "close", "city_clerk")
    assert response.status_code == 409 and response.json()["code"] == "materials_to_follow"
    detail = ok(act(api, number, "receive_tolerated", "city_clerk", note="场地证明已交"))
    assert materials_of(detail)["场地证明"]["state"] == "followed"
    assert ok(act(api, number, "close", "city_clerk"))["status"] == "closed"
    detail = ok(act(api, number, "revoke", "approver", reason="以欺骗手段取得"))
    assert detail["status"] == "revoked"
    assert Licence.objects.get(number=detail["licence_number"]).status == "revoked"
    codes = [e["code"] for e in detail["events"] if e["code"]]
    assert codes == [1, 3, 8, 6, 7, 9, 10, 12, 15]
    assert detail["actions"] == []


def test_one_level_item_decided_by_the_reviewer(api, world, wednesday):
    steps = [
        ("accept", "受理", "window_clerk", 1),
        ("review", "审核", "reviewer", 1),
        ("decide", "决定", "reviewer", 1),
        ("conclude", "办结", "reviewer", 1),
        ("deliver", "送达", "window_clerk", 1),
    ]
    item = make_item(world, "一级审批事项", department=world.market_dept, steps=steps)
    case = paper_case(world, item, "city_clerk", "enterprise")
    number = case.number
    ok(act(api, number, "accept", "city_clerk"))
    ok(act(api, number, "start_review", "reviewer"))
    response = act(api, number, "submit_for_approval", "reviewer")
    assert response.status_code == 409 and response.json()["code"] == "one_level"
    response = act(api, number, "deny", "reviewer")
    assert response.status_code == 422 and response.json()["code"] == "reason_required"
    detail = ok(act(api, number, "deny", "reviewer", reason="不符合条件"))
    assert detail["status"] == "denied" and detail["decision_reason"] == "不符合条件"
    assert ok(act(api, number, "close", "reviewer"))["status"] == "closed"


def test_window_case_received_notified_and_refused(api, world, item):
    draft = ok(
        api.post(
            "/cases",
            {"item": item.code, "channel": "window", "applicant_identity": USCC, "form": FORM},
            as_="city_clerk",
        ),
        201,
    )
    number = draft["number"]
    assert ok(act(api, number, "receive", "city_clerk"))["status"] == "received"
    response = act(api, number, "accept", "city_clerk")
    assert response.status_code == 409 and response.json()["code"] == "materials_missing"
    response = act(api, number, "notify", "city_clerk")
    assert response.status_code == 422 and response.json()["code"] == "list_required"
    detail = ok(act(api, number, "notify", "city_clerk", items=["申请表", "营业执照"]))
    assert detail["status"] == "notified"
    assert detail["notices"][-1]["items"] == ["申请表", "营业执照"]
    response = act(api, number, "refuse", "city_clerk")
    assert response.status_code == 422 and response.json()["code"] == "reason_required"
    detail = ok(act(api, number, "refuse", "city_clerk", reason="不属于受理范围"))
    assert detail["status"] == "refused"
    assert detail["notices"][-1]["kind"] == "refusal"


def test_unknown_action_is_404_with_a_clear_message(api, world, item):
    case = paper_case(world, item, "city_clerk", "enterprise")
    response = act(api, case.number, "teleport", "city_clerk")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "unknown_action" and "teleport" in body["message"]
    assert "accept" in body["details"]["actions"]
    response = act(api, case.number, "edit", "city_clerk")
    assert response.status_code == 404 and "PATCH" in response.json()["message"]
    response = act(api, case.number, "x" * 41, "city_clerk")
    assert response.status_code in (404, 422)


def test_illegal_transition_is_409_and_not_an_actor_is_403(api, world, item):
    case = paper_case(world, item, "city_clerk", "enterprise")
    response = act(api, case.number, "approve", "city_clerk")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    assert "已接件" in response.json()["message"]
    # the back office does not see the case before acceptance at all
    assert act(api, case.number, "approve", "approver").status_code == 404
    response = act(api, case.number, "accept", "enterprise")
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"
    response = act(api, case.number, "submit", "enterprise")
    assert response.status_code == 409
    assert Case.objects.get(pk=case.pk).status == Status.RECEIVED


@pytest.fixture
def in_review(world, wednesday):
    item = make_item(world, "食品经营许可", department=world.market_dept)
    case = paper_case(world, item, "city_clerk", "enterprise")
    services.accept(case, world.user("city_clerk"))
    services.start_review(case, world.user("reviewer"))
    return case


BAD_ACTIONS = [
    ("extend", "approver", {"days": "abc", "reason": "x"}),
    ("extend", "approver", {"days": 10**12, "reason": "x"}),
    ("extend", "approver", {"days": 11, "reason": "x"}),
    ("extend", "approver", {"days": 0, "reason": "x"}),
    ("extend", "approver", {"days": 3}),
    ("extend", "approver", {"reason": "x"}),
    ("decide", "reviewer", {"decision": "maybe"}),
    ("start_special", "reviewer", {"kind": "torture", "reason": "x"}),
    ("start_special", "reviewer", {"reason": "x"}),
    ("start_special", "reviewer", {"kind": "hearing"}),
    ("request_supplement", "reviewer", {"items": []}),
    ("request_supplement", "reviewer", {"items": ["x"] * 51}),
    ("request_supplement", "reviewer", {"items": ["长" * 301]}),
    ("request_supplement", "reviewer", {"items": "not a list"}),
    ("request_supplement", "reviewer", {"items": [{"a": 1}]}),
    ("request_supplement", "reviewer", {"items": ["a\u0000"]}),
    ("start_special", "reviewer", {"kind": "hearing", "reason": "长" * 2001}),
    ("start_special", "reviewer", {"kind": "hearing", "reason": "长" * 100_000}),
    ("start_special", "reviewer", {"kind": "hearing", "reason": "a\u0000b"}),
    ("start_special", "reviewer", {"kind": "hearing", "reason": ["x"]}),
    ("assign", "reviewer", {"assignee": "nobody"}),
    ("assign", "reviewer", {"assignee": "citizen"}),
    ("assign", "reviewer", {"assignee": "city_clerk"}),
    ("assign", "reviewer", {"assignee": "u" * 151}),
    ("assign", "reviewer", {"assignee": 42}),
    ("submit_for_approval", "reviewer", {"note": "a\u0000"}),
    ("submit_for_approval", "reviewer", {"note": {"nested": True}}),
    ("issue_result", "approver", {"valid_until": "2031-02-30"}),
]


@pytest.mark.parametrize("action,role,body", BAD_ACTIONS, ids=range(len(BAD_ACTIONS)))
def test_bad_action_input_is_422_never_500(api, in_review, action, role, body):
    response = act(api, in_review.number, action, role, **body)
    assert response.status_code == 422, response.content
    assert response.json()["message"]
    assert Case.objects.get(pk=in_review.pk).status == Status.IN_REVIEW


def test_a_body_over_the_memory_limit_is_413_json_not_500(api, in_review):
    huge = {"kind": "hearing", "reason": "长" * 1_000_000}  # 6 MB as JSON escapes
    response = act(api, in_review.number, "start_special", "reviewer", **huge)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    response = api.patch(
        f"/cases/{in_review.number}", {"remarks": "长" * 1_000_000}, as_="city_clerk"
    )
    assert response.status_code == 413
    assert Case.objects.get(pk=in_review.pk).status == Status.IN_REVIEW


def test_accept_at_a_window_of_another_center_is_422(api, world, item):
    from tongban.org.models import Window

    case = paper_case(world, item, "city_clerk", "enterprise")
    other = Window.objects.get(center=world.town_center)
    response = act(api, case.number, "accept", "city_clerk", window=other.pk)
    assert response.status_code == 422
    response = act(api, case.number, "accept", "city_clerk", window=10**6)
    assert response.status_code == 422
    own = Window.objects.get(center=world.city_center, number="1")
    detail = ok(act(api, case.number, "accept", "city_clerk", window=own.pk))
    assert detail["window"] == str(own)


@pytest.mark.parametrize("raw", ["[]", "not json", "null"])
def test_action_body_must_be_an_object(api, in_review, raw):
    response = api.client.post(
        f"/api/v1/cases/{in_review.number}/actions/start_special",
        raw,
        content_type="application/json",
        **api.auth("reviewer"),
    )
    assert response.status_code in (400, 422)
    assert Case.objects.get(pk=in_review.pk).status == Status.IN_REVIEW


GARBAGE = [
    "[]",
    "[1, 2]",
    "null",
    "0",
    "true",
    '"text"',
    "{",
    '{"a": {"b": [1, {"c": null}]}}',
    json.dumps(
        {
            "note": 1,
            "reason": [],
            "items": "x",
            "days": "1e400",
            "decision": 5,
            "valid_until": 5,
            "assignee": {"username": "reviewer"},
            "window": "1; DROP TABLE",
            "kind": None,
        }
    ),
    json.dumps({"material": "1 OR 1=1", "licence": -5, "item": ["x"], "channel": 1}),
    json.dumps({"form": {"description": {"$gt": ""}}, "applicant_identity": 1234}),
    json.dumps({"x": "😀" * 1000, "note": "\ud800"}),
]
WRITE_ENDPOINTS = [
    ("post", "/cases"),
    ("patch", "/cases/{n}"),
    ("post", "/cases/{n}/actions/refuse"),
    ("post", "/cases/{n}/actions/notify"),
    ("post", "/cases/{n}/actions/extend"),
    ("post", "/cases/{n}/actions/assign"),
    ("post", "/cases/{n}/actions/issue_result"),
    ("post", "/cases/{n}/materials"),
    ("post", "/cases/{n}/materials/licence"),
    ("post", "/cases/{n}/materials/paper"),
    ("delete", "/cases/{n}/materials/1"),
    ("post", "/notifications/1/read"),
]


@pytest.mark.parametrize("method,path", WRITE_ENDPOINTS)
def test_garbage_bodies_never_500(api, world, item, method, path):
    case = paper_case(world, item, "city_clerk", "enterprise")
    url = "/api/v1" + path.format(n=case.number)
    for raw in [*GARBAGE, b"\xff\xfe\x00garbage"]:
        response = getattr(api.client, method)(
            url, raw, content_type="application/json", **api.auth("city_clerk")
        )
        assert 400 <= response.status_code < 500, (raw, response.content)
        assert response.json()["code"] and response.json()["message"], raw
    assert Case.objects.get(pk=case.pk).status == Status.RECEIVED


@pytest.mark.parametrize(
    "url",
    [
        "/cases?status=&limit=abc",
        "/cases?due_before=0&due_after=-1",
        "/cases?q=%F0%9F%98%80&item=%E2%80%8B",
        "/cases?region=" + "9" * 20,
        "/cases/%F0%9F%98%80",
        "/cases/..%2F..%2Fetc%2Fpasswd",
        "/licences?usable=2",
        "/notifications?unread=maybe",
        "/progress?number=%E2%80%8B&mobile=%F0%9F%98%80",
        "/progress?number=BJ&number=BJ2&mobile=1",
    ],
)
def test_garbage_queries_never_500(api, world, url):
    response = api.get(url, as_="citizen")
    assert response.status_code < 500, response.content
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        assert {"code", "message"} <= set(body) or "items" in body


# ============================================================================ edit


def test_patch_edits_the_draft_form(api, world, item):
    number = new_case(api, item)["number"]
    detail = ok(
        api.patch(
            f"/cases/{number}",
            {"address": "松山湖大道1号", "contact_mobile": "+86 139-0013-9001", "remarks": None},
            as_="enterprise",
        )
    )
    assert detail["form"]["address"] == "松山湖大道1号"
    assert detail["form"]["description"] == FORM["description"]  # untouched
    assert detail["contact_mobile"] == "13900139001"
    response = api.patch(f"/cases/{number}", {"contact_mobile": "12"}, as_="enterprise")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "contact_mobile"
    response = api.patch(f"/cases/{number}", {"delivery_mode": "post"}, as_="enterprise")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "postal_address"
    detail = ok(
        api.patch(
            f"/cases/{number}",
            {"delivery_mode": "post", "postal_address": "东莞市南城街道1号"},
            as_="enterprise",
        )
    )
    assert detail["delivery_mode"] == "post" and detail["delivery_mode_label"] == "免费邮寄"
    response = api.client.patch(
        f"/api/v1/cases/{number}", "[]", content_type="application/json", **api.auth("enterprise")
    )
    assert response.status_code == 422
    assert api.patch(f"/cases/{number}", {"remarks": "x"}, as_="citizen").status_code == 404
    response = api.patch(f"/cases/{number}", {"center": "SC-NONE"}, as_="enterprise")
    assert response.status_code == 422
    response = api.patch(f"/cases/{number}", {"center": world.town_center.code}, as_="enterprise")
    assert response.status_code == 422  # not an accepting center of this item
    assert response.json()["code"] == "not_in_acceptance_scope"
    assert api.patch(f"/cases/{number}", {"remarks": "x"}).status_code == 401


# ============================================================================ materials


def test_a_draft_moves_to_another_accepting_center(api, world):
    item = make_item(world, "食品经营许可", scope="citywide", department=world.market_dept)
    number = new_case(api, item, center=world.city_center.code)["number"]
    detail = ok(
        api.patch(f"/cases/{number}", {"center": world.village_point.code}, as_="enterprise")
    )
    assert detail["center"] == world.village_point.code
    assert detail["region"] == world.village.code
    # an unsubmitted online draft is the applicant's alone, whichever center it names
    assert number not in numbers(api.get("/cases", as_="village_clerk"))
    assert number not in numbers(api.get("/cases", as_="city_clerk"))
    assert number in numbers(api.get("/cases", as_="enterprise"))


def test_upload_list_and_remove_a_material(api, world, item):
    number = new_case(api, item)["number"]
    form = item.published_version.materials.get(name="申请表")
    detail = ok(
        api.upload(
            f"/cases/{number}/materials",
            {"material": form.pk, "file": pdf_file("我的 申请表.pdf")},
            as_="enterprise",
        ),
        201,
    )
    entry = materials_of(detail)["申请表"]
    assert entry["state"] == "provided"
    provided = entry["provided"][0]
    assert provided["content_type"] == "application/pdf" and provided["size"] > 0
    assert provided["original_name"] == "我的 申请表.pdf"
    extra = ok(
        api.upload(f"/cases/{number}/materials", {"file": pdf_file()}, as_="enterprise"), 201
    )
    assert len(extra["extra_materials"]) == 1
    response = api.delete(f"/cases/{number}/materials/{provided['id']}", as_="enterprise")
    assert materials_of(ok(response))["申请表"]["state"] == "missing"
    assert CaseMaterial.objects.get(pk=provided["id"]).removed_at is not None
    response = api.delete(f"/cases/{number}/materials/{provided['id']}", as_="enterprise")
    assert response.status_code == 404  # already removed
    assert api.delete(f"/cases/{number}/materials/999999", as_="enterprise").status_code == 404
    assert api.delete(f"/cases/{number}/materials/{10**12}", as_="enterprise").status_code == 422
    assert api.delete(f"/cases/{number}/materials/abc", as_="enterprise").status_code == 422


@pytest.mark.parametrize(
    "data,code",
    [
        ({"file": upload("a.pdf", b"just text, not a pdf", "application/pdf")}, "file_type"),
        ({"file": upload("a.svg", b"<svg onload=alert(1)></svg>", "image/svg+xml")}, "file_type"),
        ({"file": upload("empty.pdf", b"", "application/pdf")}, None),
        ({}, "invalid"),
        ({"material": "abc", "file": "PLACEHOLDER"}, "invalid"),
        ({"material": 10**12, "file": "PLACEHOLDER"}, "invalid"),
        ({"material": 999999, "file": "PLACEHOLDER"}, "invalid"),
    ],
    ids=["text", "svg", "empty", "no-file", "material-type", "material-huge", "material-other"],
)
def test_bad_uploads_are_422(api, world, item, data, code):
    number = new_case(api, item)["number"]
    data = {k: (pdf_file() if v == "PLACEHOLDER" else v) for k, v in data.items()}
    response = api.upload(f"/cases/{number}/materials", data, as_="enterprise")
    assert response.status_code == 422, response.content
    if code:
        assert response.json()["code"] == code
    assert not CaseMaterial.objects.exists()


def test_reuse_an_electronic_licence(api, world, item):
    number = new_case(api, item)["number"]
    material = item.published_version.materials.get(name="营业执照")
    form = item.published_version.materials.get(name="申请表")
    own = give_licence(world, "enterprise")
    others = give_licence(world, "citizen")
    wrong_type = give_licence(world, "enterprise", licence_type="食品经营许可证")
    expired = give_licence(world, "enterprise", valid_until=dt.date(2020, 1, 1))
    revoked = give_licence(world, "enterprise", status="revoked")
    url = f"/cases/{number}/materials/licence"
    for licence in (others, wrong_type, expired, revoked):
        response = api.post(url, {"material": material.pk, "licence": licence.pk}, as_="enterprise")
        assert response.status_code == 422, (licence.number, response.content)
    assert api.post(url, {"material": material.pk}, as_="enterprise").status_code == 422
    response = api.post(url, {"material": "x", "licence": own.pk}, as_="enterprise")
    assert response.status_code == 422
    detail = ok(api.post(url, {"material": material.pk, "licence": own.pk}, as_="enterprise"), 201)
    provided = materials_of(detail)["营业执照"]["provided"][0]
    assert provided["source"] == "licence" and provided["licence"] == own.number
    assert provided["source_label"] == "电子证照复用"
    # a licence type check only applies where the material names one
    response = api.post(url, {"material": form.pk, "licence": wrong_type.pk}, as_="enterprise")
    assert response.status_code == 201


def test_paper_originals_are_ticked_by_the_clerk(api, world, item):
    body = {"item": item.code, "channel": "window", "applicant_identity": USCC, "form": FORM}
    number = ok(api.post("/cases", body, as_="city_clerk"), 201)["number"]
    material = item.published_version.materials.get(name="申请表")
    url = f"/cases/{number}/materials/paper"
    # the applicant of a window draft may upload but not tick paper originals
    response = api.post(url, {"material": material.pk}, as_="enterprise")
    assert response.status_code == 403
    detail = ok(api.post(url, {"material": material.pk}, as_="city_clerk"), 201)
    provided = materials_of(detail)["申请表"]["provided"][0]
    assert provided["source"] == "paper" and provided["source_label"] == "纸质材料已核验"
    assert api.post(url, {"material": 999999}, as_="city_clerk").status_code == 422
    assert api.post(url, {}, as_="city_clerk").status_code == 422


# ============================================================================ the licence wallet


def test_licence_wallet_holds_only_ones_own_licences(api, world):
    own = give_licence(world, "citizen", licence_type="驾驶证")
    expired = give_licence(world, "citizen", valid_until=dt.date(2020, 1, 1))
    give_licence(world, "enterprise")
    body = ok(api.get("/licences", as_="citizen"))
    assert {r["number"] for r in body["items"]} == {own.number, expired.number}
    usable = ok(api.get("/licences?usable=true", as_="citizen"))["items"]
    assert [r["number"] for r in usable] == [own.number] and usable[0]["usable"] is True
    unusable = ok(api.get("/licences?usable=false", as_="citizen"))["items"]
    assert [r["number"] for r in unusable] == [expired.number]
    typed = ok(api.get("/licences?licence_type=驾驶证", as_="citizen"))["items"]
    assert [r["number"] for r in typed] == [own.number]
    for role in ("city_clerk", "supervisor", "reviewer"):
        response = api.get("/licences", as_=role)
        assert response.status_code == 403 and response.json()["code"] == "applicants_only"
    assert api.get("/licences").status_code == 401
    assert api.get("/licences?usable=perhaps", as_="citizen").status_code == 422


def test_an_issued_result_lands_in_the_wallet(api, world, wednesday, item):
    case = paper_case(world, item, "city_clerk", "enterprise")
    services.accept(case, world.user("city_clerk"))
    services.start_review(case, world.user("reviewer"))
    services.submit_for_approval(case, world.user("reviewer"))
    services.decide(case, world.user("approver"), decision="approved_tolerated")
    ok(act(api, case.number, "issue_result", "approver"))
    rows = ok(api.get("/licences", as_="enterprise"))["items"]
    assert rows[0]["case"] == case.number and rows[0]["licence_type"] == "许可证"
    assert ok(api.get("/licences", as_="citizen"))["items"] == []


# ============================================================================ the inbox


def test_notifications_inbox_and_mark_read(api, world, item):
    case = submitted_case(world, item, "enterprise")
    services.accept(case, world.user("city_clerk"))
    body = ok(api.get("/notifications", as_="enterprise"))
    assert body["count"] >= 2
    newest = body["items"][0]
    assert newest["case"] == case.number and "受理" in newest["subject"]
    assert newest["read_at"] is None
    assert ok(api.get("/notifications", as_="citizen"))["count"] == 0
    # another person's message is not found; unknown ids neither
    assert api.post(f"/notifications/{newest['id']}/read", as_="citizen").status_code == 404
    assert api.post("/notifications/999999/read", as_="enterprise").status_code == 404
    assert api.post(f"/notifications/{10**12}/read", as_="enterprise").status_code == 422
    read = ok(api.post(f"/notifications/{newest['id']}/read", as_="enterprise"))
    assert read["read_at"] is not None
    assert Notification.objects.get(pk=newest["id"]).read_at is not None
    unread = ok(api.get("/notifications?unread=true", as_="enterprise"))
    assert newest["id"] not in {n["id"] for n in unread["items"]}
    assert unread["count"] == body["count"] - 1
    assert ok(api.get("/notifications?unread=false", as_="enterprise"))["count"] == 1
    # SMS rows are not inbox messages
    assert not Notification.objects.filter(channel="sms", user__isnull=False).exists()
    assert api.get("/notifications?limit=0", as_="enterprise").status_code == 422


# ============================================================================ 就近办 across levels


def test_town_clerk_accepts_a_city_item_delegated_to_towns(api, world, wednesday):
    item = make_item(world, "食品经营许可", scope="any_town", department=world.market_dept)
    body = {"item": item.code, "channel": "window", "applicant_identity": USCC, "form": FORM}
    draft = ok(api.post("/cases", body, as_="town_clerk"), 201)
    number = draft["number"]
    assert draft["center"] == world.town_center.code
    for m in item.published_version.materials.filter(necessity="required"):
        ok(api.upload(f"/cases/{number}/materials", {"material": m.pk, "file": pdf_file()},
                      as_="town_clerk"), 201)  # fmt: skip
    ok(act(api, number, "receive", "town_clerk"))
    detail = ok(act(api, number, "accept", "town_clerk"))
    assert detail["status"] == "accepted"
    assert detail["department"] == world.market_dept.code  # approved by the city department
    assert detail["approving_body"] == world.market_dept.name
    assert detail["region"] == world.town.code
    assert detail["events"][-1]["center"] == world.town_center.name
    # the city department's reviewer works on it; the town's people see it; the city clerk not
    assert number in numbers(api.get("/cases", as_="reviewer"))
    assert number in numbers(api.get("/cases", as_="town_admin"))
    assert number not in numbers(api.get("/cases", as_="city_clerk"))
    assert api.get(f"/cases/{number}", as_="city_clerk").status_code == 404
    assert ok(act(api, number, "start_review", "reviewer"))["status"] == "in_review"
    # the village clerk of the same town is not the accepting center's clerk
    assert act(api, number, "withdraw", "village_clerk", reason="x").status_code == 404


# ============================================================================ OpenAPI


def test_openapi_document_lists_the_case_paths(api, db):
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/cases": {"get", "post"},
        "/api/v1/cases/{number}": {"get", "patch"},
        "/api/v1/cases/{number}/actions/{action}": {"post"},
        "/api/v1/cases/{number}/materials": {"post"},
        "/api/v1/cases/{number}/materials/licence": {"post"},
        "/api/v1/cases/{number}/materials/paper": {"post"},
        "/api/v1/cases/{number}/materials/{material_id}": {"delete"},
        "/api/v1/licences": {"get"},
        "/api/v1/progress": {"get"},
        "/api/v1/notifications": {"get"},
        "/api/v1/notifications/{notification_id}/read": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
        for method in methods:
            op = paths[path][method]
            assert " / " in op["summary"], op["summary"]  # Chinese / English
            assert op["description"]
            assert "cases" in op["tags"]
    assert "security" not in paths["/api/v1/progress"]["get"] or all(
        "OptionalAuth" in s for s in paths["/api/v1/progress"]["get"]["security"]
    )
    multipart = paths["/api/v1/cases/{number}/materials"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in multipart
