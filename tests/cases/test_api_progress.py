"""The public progress query (办件进度查询): no login, the case number and the contact mobile must
both match, rate-limited per address, and no personal data in the answer."""

# ruff: noqa: F811  (the api and media fixtures are imported from test_api_support)
from __future__ import annotations

import pytest
from django.urls import reverse

from tests.cases.test_api_support import (  # noqa: F401
    api,
    media,
    paper_case,
)
from tests.catalog.factories import make_item
from tests.factories import RESIDENT_ID, USCC
from tongban.cases import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

URL = "/progress"


@pytest.fixture
def case(world):
    """The citizen's case at the window, accepted: contact mobile 13800138000."""
    item = make_item(world, "食品经营许可", department=world.market_dept)
    case = paper_case(world, item, "city_clerk", "citizen")
    services.accept(case, world.user("city_clerk"))
    case.refresh_from_db()
    return case


def query(api, number, mobile, **extra):
    return api.client.get(f"/api/v1{URL}", {"number": number, "mobile": mobile}, **extra)


def test_the_right_pair_shows_the_progress_without_login(api, case):
    response = query(api, case.number, "13800138000")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["number"] == case.number
    assert body["status"] == "accepted" and body["status_label"] == "已受理"
    assert body["item_name"] == "食品经营许可"
    assert body["center"] == "东莞市民服务中心"
    assert body["department"] == "东莞市市场监督管理局"
    assert body["due_date"] == str(case.due_date)
    assert [s["label"] for s in body["timeline"]] == ["窗口接件", "受理"]
    assert [s["status"] for s in body["timeline"]] == ["received", "accepted"]
    assert set(body["timeline"][0]) == {"label", "status", "status_label", "date"}


@pytest.mark.parametrize(
    "number,mobile",
    [
        (lambda c: c.number.lower(), "13800138000"),
        (lambda c: f" {c.number} ", " 138 0013 8000 "),
        (lambda c: c.number, "+86 138-0013-8000"),
    ],
    ids=["lower-case", "spaces", "formatted"],
)
def test_the_pair_may_be_typed_loosely(api, case, number, mobile):
    assert query(api, number(case), mobile).status_code == 200


def test_a_wrong_pair_is_the_same_404_as_an_unknown_number(api, case):
    wrong_mobile = query(api, case.number, "13900139000")
    unknown = query(api, "BJ20261128-ZZZZZZ", "13800138000")
    bad_mobile = query(api, case.number, "not a mobile")
    assert wrong_mobile.status_code == unknown.status_code == bad_mobile.status_code == 404
    assert wrong_mobile.json() == unknown.json() == bad_mobile.json()
    assert unknown.json()["message"] == "未找到该办件。"


def test_a_draft_is_not_found(api, world):
    item = make_item(world, "食品经营许可", department=world.market_dept)
    case = services.start_case(
        item=item,
        by=world.user("enterprise"),
        channel="web",
        form={"description": "x", "contact_mobile": "13900139000"},
    )
    assert query(api, case.number, "13900139000").status_code == 404


def test_the_answer_holds_no_personal_data(api, world, case):
    enterprise = make_item(world, "公司变更登记", department=world.market_dept)
    legal = paper_case(world, enterprise, "city_clerk", "enterprise")
    for c in (case, legal):
        response = query(api, c.number, c.contact_mobile)
        assert response.status_code == 200
        text = response.content.decode()
        for secret in (RESIDENT_ID, USCC, "13800138000", "13900139000", "张三", "李四"):
            assert secret not in text, secret
        assert set(response.json()) == {
            "number",
            "status",
            "status_label",
            "item_name",
            "center",
            "department",
            "due_date",
            "timeline",
        }


def test_the_query_is_rate_limited_per_address(api, case, settings):
    settings.CASE_PROGRESS_RATE = "3/m"
    codes = [query(api, case.number, "13900139000").status_code for _ in range(3)]
    assert codes == [404, 404, 404]
    limited = query(api, case.number, "13800138000")  # even the right pair, once limited
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert limited["Retry-After"] == "60"
    other = query(api, case.number, "13800138000", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_the_default_rate_allows_a_few_queries_and_stops_guessing(api, case):
    codes = [query(api, case.number, f"139{i:08d}").status_code for i in range(15)]
    assert codes[:10] == [404] * 10  # CASE_PROGRESS_RATE: 10 a minute per address
    assert set(codes[10:]) == {429}


def test_the_page_and_the_api_share_one_limit(api, case, settings):
    settings.CASE_PROGRESS_RATE = "3/m"
    page = reverse("cases_applicant:progress")
    for _ in range(2):
        response = api.client.post(page, {"number": case.number, "mobile": "13900139000"})
        assert response.status_code == 200
    assert query(api, case.number, "13900139000").status_code == 404  # the third query
    assert query(api, case.number, "13800138000").status_code == 429
    response = api.client.post(page, {"number": case.number, "mobile": "13800138000"})
    assert response.status_code == 429


def test_one_number_cannot_be_probed_from_many_addresses(api, world, case, settings):
    settings.CASE_PROGRESS_NUMBER_RATE = "4/h"
    page = reverse("cases_applicant:progress")
    # typed in different ways, from a new address each time: the same number
    numbers = [case.number, case.number.lower(), f" {case.number} "]
    for i, number in enumerate(numbers):
        guess = query(api, number, f"1390000000{i}", REMOTE_ADDR=f"10.0.1.{i}")
        assert guess.status_code == 404
    response = api.client.post(
        page, {"number": case.number, "mobile": "13900000009"}, REMOTE_ADDR="10.0.1.8"
    )
    assert response.status_code == 200  # the fourth query, on the page
    limited = query(api, case.number, "13800138000", REMOTE_ADDR="10.0.1.9")
    assert limited.status_code == 429 and limited["Retry-After"] == "3600"
    response = api.client.post(
        page, {"number": case.number, "mobile": "13800138000"}, REMOTE_ADDR="10.0.1.10"
    )
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    # another case number from the same addresses is not affected
    other = paper_case(world, make_item(world, "公司变更登记"), "city_clerk", "enterprise")
    assert query(api, other.number, "13800138000", REMOTE_ADDR="10.0.1.9").status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"number": "BJ1"},
        {"mobile": "13800138000"},
        {"number": "", "mobile": ""},
        {"number": "B" * 41, "mobile": "13800138000"},
        {"number": "BJ1", "mobile": "1" * 21},
    ],
)
def test_missing_or_overlong_parameters_are_422(api, case, params):
    response = api.client.get(f"/api/v1{URL}", params)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_control_characters_are_400(api, case):
    response = api.client.get(f"/api/v1{URL}?number=BJ%00&mobile=13800138000")
    assert response.status_code == 400


def test_a_logged_in_caller_gets_the_same_answer(api, case):
    anonymous = query(api, case.number, "13800138000").json()
    signed_in = query(api, case.number, "13800138000", **api.auth("supervisor")).json()
    assert anonymous == signed_in
