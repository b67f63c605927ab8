"""API: regions, centers, departments (public reads) and opening hours (scoped write)."""

from __future__ import annotations

import pytest

from tests.conftest import bearer
from tongban.core.models import AuditEvent
from tongban.org.hours import STANDARD_HOURS
from tongban.org.models import ServiceCenter

pytestmark = pytest.mark.django_db


def test_regions_are_paginated_with_items_and_count(client, world):
    body = client.get("/api/v1/regions?limit=2").json()
    assert body["count"] == 6
    assert len(body["items"]) == 2
    assert body["items"][0] == {
        "code": "441900",
        "name": "东莞市",
        "level": "city",
        "level_label": "市",
        "parent": None,
        "functional_area": None,
        "official_code": True,
    }
    second = client.get("/api/v1/regions?limit=2&offset=2").json()
    assert [r["code"] for r in second["items"]] == ["441900113", "441900113201"]


def test_regions_filter_by_level_and_parent(client, world):
    towns = client.get("/api/v1/regions?level=town").json()
    assert {r["code"] for r in towns["items"]} == {"441900113", "441900121"}
    dalang = next(r for r in towns["items"] if r["code"] == "441900113")
    assert dalang["functional_area"] == "DG-FA-SSH"
    children = client.get("/api/v1/regions?parent=441900113").json()
    assert [r["name"] for r in children["items"]] == ["水口村"]


def test_unknown_level_is_422_not_500(client, world):
    response = client.get("/api/v1/regions?level=planet")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


def test_region_detail_and_404(client, world):
    assert client.get("/api/v1/regions/441900113").json()["name"] == "大朗镇"
    response = client.get("/api/v1/regions/000000")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_centers_filter_by_level(client, world):
    assert client.get("/api/v1/centers?level=village").json()["count"] == 1
    assert client.get("/api/v1/centers?level=town").json()["count"] == 2
    assert client.get("/api/v1/centers?level=city").json()["count"] == 1
    assert client.get("/api/v1/centers").json()["count"] == 4


def test_centers_filter_by_region_subtree(client, world):
    body = client.get("/api/v1/centers?region=441900113").json()
    assert {c["code"] for c in body["items"]} == {"SC441900113", "SC441900113201"}
    assert client.get("/api/v1/centers?region=999999").json()["count"] == 0


def test_center_search_and_self_service_filter(client, world):
    assert client.get("/api/v1/centers?q=鸿福路").json()["items"][0]["code"] == "SC441900"
    assert client.get("/api/v1/centers?self_service=true").json()["count"] == 1


def test_pagination_limit_is_capped(client, world):
    response = client.get("/api/v1/centers?limit=100000")
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert len(response.json()["items"]) <= 200


def test_center_detail_has_windows_and_readable_hours(client, world):
    body = client.get("/api/v1/centers/SC441900").json()
    assert body["window_count"] == 2
    assert {w["number"] for w in body["windows"]} == {"1", "20"}
    assert body["windows"][1]["department"] == "东莞市市场监督管理局"
    assert body["opening_hours_text"] == ["周一至周五 09:00–12:00、13:30–17:30", "周六 09:00–12:00"]
    assert client.get("/api/v1/centers/NOPE").status_code == 404


def test_departments_list(client, world):
    body = client.get("/api/v1/departments?level=city").json()
    assert body["count"] == 2
    assert client.get("/api/v1/departments?q=大朗").json()["items"][0]["code"] == "D-113-GGFW"


NEW_HOURS = {"opening_hours": {**STANDARD_HOURS, "6": [], "7": [["09:00", "12:00"]]}}
URL = "/api/v1/centers/SC441900/opening-hours"


def put(client, url, data, **extra):
    return client.put(url, data, content_type="application/json", **extra)


def test_opening_hours_need_authentication(client, world):
    response = put(client, URL, NEW_HOURS)
    assert response.status_code == 401


@pytest.mark.parametrize("username", ["city_clerk", "town_admin", "supervisor", "citizen"])
def test_opening_hours_forbidden_outside_role_or_scope(client, world, username):
    response = put(client, URL, NEW_HOURS, **bearer(client, username))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert ServiceCenter.objects.get(code="SC441900").opening_hours == STANDARD_HOURS


def test_center_admin_changes_hours_and_it_is_audited(client, world):
    response = put(client, URL, NEW_HOURS, **bearer(client, "center_admin"))
    assert response.status_code == 200, response.content
    assert "周日 09:00–12:00" in response.json()["opening_hours_text"]
    event = AuditEvent.objects.get(action="org.set_opening_hours")
    assert event.actor == world.user("center_admin")
    assert event.data["after"]["7"] == [["09:00", "12:00"]]


def test_town_admin_may_change_a_village_point_in_the_town(client, world):
    url = "/api/v1/centers/SC441900113201/opening-hours"
    assert put(client, url, NEW_HOURS, **bearer(client, "town_admin")).status_code == 200


@pytest.mark.parametrize(
    "hours",
    [
        {"8": []},
        {"1": [["17:00", "09:00"]]},
        {"1": [["09:00", "12:00"], ["11:00", "13:00"]]},
        {"1": [["9am", "12:00"]]},
    ],
)
def test_invalid_hours_are_422_and_nothing_changes(client, world, hours):
    response = put(client, URL, {"opening_hours": hours}, **bearer(client, "center_admin"))
    assert response.status_code == 422
    assert response.json()["message"]
    assert ServiceCenter.objects.get(code="SC441900").opening_hours == STANDARD_HOURS


def test_huge_offset_is_422_not_500(client, world):
    response = client.get("/api/v1/centers?offset=99999999999999999999999")
    assert response.status_code == 422
    assert client.get("/api/v1/regions?offset=10000000").json()["items"] == []


def test_control_characters_in_the_query_are_400_json(client, world):
    response = client.get("/api/v1/centers?q=%00abc")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_control_characters_on_a_page_are_a_readable_400(client, world):
    response = client.get("/org/centers/?q=%00")
    assert response.status_code == 400
    assert "请求中含有不允许的控制字符" in response.content.decode()
