"""API of powers, the ledger, who-exercises and supervision items: public reads, writes for
catalog administrators only, errors as 4xx envelopes (never 500)."""

from __future__ import annotations

import pytest
from django.urls import include, path

from tests.catalog.factories import make_catalog_admin
from tests.conftest import bearer
from tongban.api import errors as api_errors
from tongban.api.main import api as main_api
from tongban.catalog.api_powers import router
from tongban.catalog.models import LedgerEntry, Power, SupervisionItem
from tongban.core.models import AuditEvent

JSON = "application/json"

pytestmark = [pytest.mark.django_db]

# Until the lead mounts ``router`` in tongban/api/main.py, serve it from this module's own
# URLconf in front of the project's (the routes and the error envelope are the same).
if not any(r is router for _prefix, r in main_api._routers):
    from ninja import NinjaAPI

    _api = NinjaAPI(urls_namespace="api_powers_test", docs_url=None, openapi_url=None)
    api_errors.install(_api)
    _api.add_router("/", router)
    urlpatterns = [path("api/v1/", _api.urls), path("", include("tongban.config.urls"))]
    pytestmark.append(pytest.mark.urls(__name__))


@pytest.fixture
def power(world):
    return Power.objects.create(
        code="P-SCJG-001",
        name="第一类医疗器械生产备案",
        category="01",
        department=world.market_dept,
        basis="《医疗器械监督管理条例》",
    )


def post(client, url, data, **extra):
    return client.post(url, data, content_type=JSON, **extra)


ENTRY = {
    "action": "delegate",
    "region": "DG-FA-SSH",
    "effective_from": "2020-06-01",
    "document_no": "东府〔2020〕50号",
}


# ----------------------------------------------------------------------------- reads


def test_powers_list_is_public_paginated_and_filtered(client, world, power):
    Power.objects.create(
        code="P-WJ-001", name="医疗机构执业登记", category="01", department=world.health_dept
    )
    Power.objects.create(
        code="P-SCJG-002", name="罚款", category="02", department=world.market_dept
    )
    body = client.get("/api/v1/powers?limit=2").json()
    assert body["count"] == 3 and len(body["items"]) == 2
    assert body["items"][0] == {
        "code": "P-SCJG-001",
        "name": "第一类医疗器械生产备案",
        "category": "01",
        "category_label": "行政许可",
        "department": "D-SCJG",
        "department_name": "东莞市市场监督管理局",
        "level": "city",
        "level_label": "市级",
        "basis": "《医疗器械监督管理条例》",
        "active": True,
    }
    codes = lambda q: [p["code"] for p in client.get(f"/api/v1/powers?{q}").json()["items"]]  # noqa: E731
    assert codes("department=D-WJ") == ["P-WJ-001"]
    assert codes("category=02") == ["P-SCJG-002"]
    assert codes("q=医疗") == ["P-SCJG-001", "P-WJ-001"]
    assert client.get("/api/v1/powers?category=99").status_code == 422


def test_power_detail_and_404(client, world, power):
    body = client.get("/api/v1/powers/P-SCJG-001").json()
    assert body["in_force_today"] == [] and body["items"] == [] and body["ledger_entries"] == 0
    response = client.get("/api/v1/powers/NOPE")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_who_exercises_around_a_delegation(client, world, power):
    headers = bearer(client, "catalog_admin")
    assert post(client, "/api/v1/powers/P-SCJG-001/ledger", ENTRY, **headers).status_code == 201
    recovery = {**ENTRY, "action": "recover", "effective_from": "2021-01-01", "document_no": "收回"}
    assert post(client, "/api/v1/powers/P-SCJG-001/ledger", recovery, **headers).status_code == 201

    def who(region, day):
        response = client.get(f"/api/v1/powers/P-SCJG-001/who-exercises?region={region}&date={day}")
        assert response.status_code == 200, response.content
        return response.json()

    assert who("441900113", "2020-05-31")["mode"] == "own"
    on = who("441900113", "2020-06-01")
    assert on["mode"] == "delegate" and on["body"] == "松山湖管理委员会"
    assert on["entry"]["document_no"] == "东府〔2020〕50号" and on["body_region"] == "DG-FA-SSH"
    assert on["department"] is None and on["in_name_of"] == "松山湖管理委员会"
    assert who("441900113201", "2020-12-31")["mode"] == "delegate"
    assert who("441900121", "2020-06-01")["mode"] == "own"
    back = who("441900113", "2021-01-01")
    assert back["mode"] == "own" and back["department"] == "D-SCJG" and back["entry"] is None
    # Without a date: today.
    assert client.get("/api/v1/powers/P-SCJG-001/who-exercises?region=441900113").status_code == 200

    timeline = client.get("/api/v1/powers/P-SCJG-001/ledger").json()
    assert timeline["owner"] == "东莞市市场监督管理局"
    first, second = timeline["entries"]
    assert first["effective_to"] == "2021-01-01" and first["ended_by"] == second["id"]
    assert second["recovers"] == first["id"] and second["exercised_by"] == "东莞市市场监督管理局"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("region=441900113&date=2020-13-01", 422),
        ("region=441900113&date=yesterday", 422),
        ("region=000000&date=2020-06-01", 422),
        ("date=2020-06-01", 422),
    ],
)
def test_who_exercises_bad_input_is_4xx(client, world, power, query, status):
    response = client.get(f"/api/v1/powers/P-SCJG-001/who-exercises?{query}")
    assert response.status_code == status
    assert response.json()["code"] in ("invalid", "unknown_region")


def test_who_exercises_unknown_power_is_404(client, world):
    assert client.get("/api/v1/powers/NOPE/who-exercises?region=441900113").status_code == 404


# ----------------------------------------------------------------------------- write permissions

WRITES = [
    ("/api/v1/powers/P-SCJG-001/ledger", ENTRY),
    (
        "/api/v1/ledger/batches",
        {"powers": ["P-SCJG-001"], **ENTRY},
    ),
    (
        "/api/v1/powers",
        {"code": "P-NEW", "name": "新权力", "category": "01", "department": "D-SCJG"},
    ),
    (
        "/api/v1/supervision-items",
        {"code": "JG-001", "name": "对食品生产经营者的监督检查", "department": "D-SCJG"},
    ),
]


@pytest.mark.parametrize(("url", "data"), WRITES)
def test_writes_need_a_catalog_admin(client, world, power, url, data):
    assert post(client, url, data).status_code == 401
    for username in ("citizen", "city_clerk", "approver"):
        response = post(client, url, data, **bearer(client, username))
        assert response.status_code == 403, (username, response.content)
        assert response.json()["code"] == "forbidden"
    assert not LedgerEntry.objects.exists()
    assert not SupervisionItem.objects.exists()
    assert Power.objects.count() == 1
    response = post(client, url, data, **bearer(client, "catalog_admin"))
    assert response.status_code == 201, response.content


def test_patch_supervision_item_needs_a_catalog_admin(client, world):
    post(
        client,
        "/api/v1/supervision-items",
        {"code": "JG-001", "name": "对食品生产经营者的监督检查", "department": "D-SCJG"},
        **bearer(client, "catalog_admin"),
    )
    url = "/api/v1/supervision-items/JG-001"
    change = {"measures": "双随机、一公开"}
    assert client.patch(url, change, content_type=JSON).status_code == 401
    assert (
        client.patch(url, change, content_type=JSON, **bearer(client, "city_clerk")).status_code
        == 403
    )
    response = client.patch(url, change, content_type=JSON, **bearer(client, "catalog_admin"))
    assert response.status_code == 200
    assert response.json()["measures"] == "双随机、一公开"


def test_department_admin_cannot_write_another_departments_power(client, world, power):
    make_catalog_admin(world, "health_admin", department=world.health_dept)
    headers = bearer(client, "health_admin")
    response = post(client, "/api/v1/powers/P-SCJG-001/ledger", ENTRY, **headers)
    assert response.status_code == 403
    response = post(
        client, "/api/v1/ledger/batches", {"powers": ["P-SCJG-001"], **ENTRY}, **headers
    )
    assert response.status_code == 403
    assert not LedgerEntry.objects.exists()


# ----------------------------------------------------------------------------- ledger writes


def test_ledger_post_is_idempotent_and_audited(client, world, power):
    headers = {**bearer(client, "catalog_admin"), "HTTP_IDEMPOTENCY_KEY": "k-1"}
    first = post(client, "/api/v1/powers/P-SCJG-001/ledger", ENTRY, **headers)
    again = post(client, "/api/v1/powers/P-SCJG-001/ledger", ENTRY, **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert first.json()["receiving_body"] == "松山湖管理委员会"
    assert LedgerEntry.objects.count() == 1
    assert AuditEvent.objects.filter(action="catalog.ledger.delegate").count() == 1


def test_overlapping_entry_is_409_naming_the_document(client, world, power):
    headers = bearer(client, "catalog_admin")
    post(client, "/api/v1/powers/P-SCJG-001/ledger", ENTRY, **headers)
    town = {**ENTRY, "region": "441900113", "effective_from": "2020-09-01", "document_no": "X"}
    response = post(client, "/api/v1/powers/P-SCJG-001/ledger", town, **headers)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "ledger_overlap"
    assert "东府〔2020〕50号" in body["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"effective_from": "2020-02-30"}, "effective_from"),
        ({"effective_from": "not a date"}, "effective_from"),
        ({"region": "999999"}, "region"),
        ({"region": "441900113201"}, "region"),
        ({"document_no": ""}, "document_no"),
        ({"action": "sell"}, "action"),
    ],
)
def test_invalid_ledger_input_is_422(client, world, power, change, field):
    response = post(
        client,
        "/api/v1/powers/P-SCJG-001/ledger",
        {**ENTRY, **change},
        **bearer(client, "catalog_admin"),
    )
    assert response.status_code == 422, response.content
    assert any(d["field"] == field for d in response.json()["details"])
    assert not LedgerEntry.objects.exists()


def test_ledger_post_for_unknown_power_is_404(client, world):
    response = post(client, "/api/v1/powers/NOPE/ledger", ENTRY, **bearer(client, "catalog_admin"))
    assert response.status_code == 404


def test_batch_delegation_and_recovery(client, world):
    for i in range(1, 4):
        Power.objects.create(
            code=f"P-{i}", name=f"权力{i}", category="01", department=world.market_dept
        )
    headers = bearer(client, "catalog_admin")
    batch = {**ENTRY, "powers": ["P-1", "P-2", "P-3"]}
    response = post(client, "/api/v1/ledger/batches", batch, **headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["count"] == 3 and [e["power"] for e in body["entries"]] == ["P-1", "P-2", "P-3"]
    # Recovering P-1..P-3 plus a power that was never delegated: refused as a whole.
    Power.objects.create(code="P-4", name="权力4", category="01", department=world.market_dept)
    recover = {
        **batch,
        "action": "recover",
        "effective_from": "2021-01-01",
        "powers": ["P-1", "P-2", "P-3", "P-4"],
    }
    response = post(client, "/api/v1/ledger/batches", recover, **headers)
    assert response.status_code == 409
    assert [d["power"] for d in response.json()["details"]] == ["P-4"]
    assert not LedgerEntry.objects.filter(action="recover").exists()
    recover["powers"] = ["P-1", "P-2", "P-3"]
    response = post(client, "/api/v1/ledger/batches", recover, **headers)
    assert response.status_code == 201
    assert all(e["ends"] for e in response.json()["entries"])


def test_batch_with_unknown_powers_is_422_listing_them(client, world, power):
    response = post(
        client,
        "/api/v1/ledger/batches",
        {**ENTRY, "powers": ["P-SCJG-001", "X-1", "X-2"]},
        **bearer(client, "catalog_admin"),
    )
    assert response.status_code == 422
    assert [d["value"] for d in response.json()["details"]] == ["X-1", "X-2"]
    empty = post(
        client, "/api/v1/ledger/batches", {**ENTRY, "powers": []}, **bearer(client, "catalog_admin")
    )
    assert empty.status_code == 422


def test_create_power_conflict_and_unknown_department(client, world, power):
    headers = bearer(client, "catalog_admin")
    dup = {"code": "P-SCJG-001", "name": "x", "category": "01", "department": "D-SCJG"}
    assert post(client, "/api/v1/powers", dup, **headers).status_code == 409
    bad = {**dup, "code": "P-NEW", "department": "D-NOPE"}
    response = post(client, "/api/v1/powers", bad, **headers)
    assert response.status_code == 422 and response.json()["details"][0]["field"] == "department"


# ----------------------------------------------------------------------------- supervision


def test_supervision_create_duplicate_and_similar(client, world, power):
    headers = bearer(client, "catalog_admin")
    data = {
        "code": "JG-001",
        "name": "对食品生产经营者的监督检查",
        "department": "D-SCJG",
        "basis": "《中华人民共和国食品安全法》",
        "measures": "双随机抽查",
        "powers": ["P-SCJG-001"],
    }
    created = post(client, "/api/v1/supervision-items", data, **headers)
    assert created.status_code == 201, created.content
    assert created.json()["powers"] == [{"code": "P-SCJG-001", "name": "第一类医疗器械生产备案"}]

    dup = post(
        client,
        "/api/v1/supervision-items",
        {**data, "code": "JG-002", "name": "食品生产经营者监督检查"},
        **headers,
    )
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate_name"

    near = {**data, "code": "JG-003", "name": "对食品生产经营企业的监督检查"}
    response = post(client, "/api/v1/supervision-items", near, **headers)
    assert response.status_code == 422
    assert response.json()["code"] == "similar_names"
    assert response.json()["details"][0]["code"] == "JG-001"
    response = post(
        client, "/api/v1/supervision-items", {**near, "confirm_similar": True}, **headers
    )
    assert response.status_code == 201
    assert [s["code"] for s in response.json()["similar"]] == ["JG-001"]

    similar = client.get("/api/v1/supervision-items/similar?name=食品生产经营者的监督检查").json()
    assert similar["normalized_name"] == "食品生产经营者监督检查"
    assert [(s["code"], s["kind"]) for s in similar["similar"]] == [
        ("JG-001", "duplicate"),
        ("JG-003", "near"),
    ]
    listing = client.get("/api/v1/supervision-items?q=食品").json()
    assert listing["count"] == 2
    assert client.get("/api/v1/supervision-items?power=P-SCJG-001").json()["count"] == 2
    detail = client.get("/api/v1/supervision-items/JG-001").json()
    assert detail["basis"] == "《中华人民共和国食品安全法》"
    assert client.get("/api/v1/supervision-items/NOPE").status_code == 404
    power_detail = client.get("/api/v1/powers/P-SCJG-001").json()
    assert [s["code"] for s in power_detail["supervision_items"]] == ["JG-001", "JG-003"]


def test_supervision_bad_input_is_422(client, world, power):
    headers = bearer(client, "catalog_admin")
    base = {"code": "JG-001", "name": "对食品生产经营者的监督检查", "department": "D-SCJG"}
    for change, field in (
        ({"department": "D-NOPE"}, "department"),
        ({"powers": ["NOPE"]}, "powers"),
        ({"code": "with space"}, "code"),
        ({"name": ""}, "name"),
        ({"level": "moon"}, "level"),
    ):
        response = post(client, "/api/v1/supervision-items", {**base, **change}, **headers)
        assert response.status_code == 422, (change, response.content)
        assert response.json()["details"][0]["field"] == field
    assert client.get("/api/v1/supervision-items/similar").status_code == 422
    assert not SupervisionItem.objects.exists()


def test_control_characters_never_reach_the_database(client, world, power):
    headers = bearer(client, "catalog_admin")
    response = post(
        client,
        "/api/v1/powers/P-SCJG-001/ledger",
        {**ENTRY, "document_no": "东府\x00号"},
        **headers,
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "document_no"
    # In the path or the query string they are refused before any view (core/middleware.py).
    for url in (
        "/api/v1/powers/P%00",
        "/api/v1/powers?q=%00&department=%00",
        "/api/v1/supervision-items?q=%00&power=%00",
        "/api/v1/supervision-items/J%00",
        "/api/v1/powers/P-SCJG-001/who-exercises?region=44%00",
    ):
        assert client.get(url).status_code == 400, url
    response = post(
        client,
        "/api/v1/supervision-items",
        {"code": "JG-1", "name": "名称", "department": "D-SCJG", "measures": "a\x00b"},
        **headers,
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "measures"
