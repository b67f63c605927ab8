"""Items API: public reads (list, filters, search, detail, versions, guide), catalog
administrators' writes with permissions (401/403), rule failures (422), illegal moves (409),
four eyes over HTTP, idempotent creation — and never a 500."""

from __future__ import annotations

import pytest
from django.urls import include, path

from tests.catalog.factories import make_catalog_admin, make_item, version_defaults
from tests.conftest import bearer
from tongban.api import errors as api_errors
from tongban.api.main import api as main_api
from tongban.catalog.api import router
from tongban.catalog.models import AcceptanceRule, ItemVersion, ServiceItem
from tongban.core.models import AuditEvent

JSON = "application/json"

pytestmark = [pytest.mark.django_db]

# Until the lead mounts ``router`` in tongban/api/main.py, serve it from this module's own
# URLconf in front of the project's (same routes, same error envelope).
if not any(r is router for _prefix, r in main_api._routers):
    from ninja import NinjaAPI

    _api = NinjaAPI(urls_namespace="api_items_test", docs_url=None, openapi_url=None)
    api_errors.install(_api)
    _api.add_router("/", router)
    urlpatterns = [path("api/v1/", _api.urls), path("", include("tongban.config.urls"))]
    pytestmark.append(pytest.mark.urls(__name__))


STEPS = [
    {"kind": "accept", "name": "受理", "role": "window_clerk", "days": 1},
    {"kind": "review", "name": "审核", "role": "reviewer", "days": 1},
    {"kind": "decide", "name": "决定", "role": "approver", "days": 1},
    {"kind": "conclude", "name": "办结", "role": "approver", "days": 1},
    {"kind": "deliver", "name": "送达", "role": "window_clerk", "days": 1},
]


def create_payload(code="11441900API00001", department="D-SCJG", **version):
    data = version_defaults(**{"name": "食品经营许可", "aliases": "开饭店\n开餐馆", **version})
    data["materials"] = [
        {"name": "食品经营许可申请书", "necessity": "required"},
        {
            "name": "营业执照",
            "kind": "electronic",
            "form": "electronic",
            "source": "government",
            "licence_type": "营业执照",
        },
    ]
    data["steps"] = STEPS
    data["faqs"] = [{"question": "多久办好？", "answer": "5个工作日。"}]
    return {
        "code": code,
        "base_code": "000123456789",
        "item_type": "01",
        "department": department,
        "acceptance_scope": "any_town",
        "version": data,
    }


@pytest.fixture
def admin2(world):
    return make_catalog_admin(world, "catalog_admin2")


@pytest.fixture
def health_admin(world):
    return make_catalog_admin(world, "health_catalog", department=world.health_dept)


def auth(client, who):
    return bearer(client, who) if who else {}


# ---------------------------------------------------------------------------- reads


def test_list_shows_published_items_in_use_only(client, world):
    a = make_item(world, "第一类医疗器械生产备案", scope="any_town", high_frequency=True)
    make_item(world, "草稿事项", published=False)
    make_item(world, "暂停事项", status="suspended")
    body = client.get("/api/v1/items").json()
    assert body["count"] == 1
    row = body["items"][0]
    assert row["code"] == a.code and row["name"] == "第一类医疗器械生产备案"
    assert row["item_type"] == "01" and row["item_type_label"] == "行政许可"
    assert row["department"] == "D-SCJG" and row["department_name"] == "东莞市市场监督管理局"
    assert (row["online_depth"], row["max_visits"], row["promised_limit_days"]) == (4, 0, 5)
    assert row["case_kind"] == "promised" and row["case_kind_label"] == "承诺件"
    assert row["high_frequency"] is True
    assert row["acceptance_scope"] == "any_town"
    assert row["subject"] == "legal" and row["no_meeting"] is True


def test_list_filters(client, world):
    lic = make_item(world, "甲许可", subject="natural")
    svc = make_item(world, "乙服务", item_type="20", depth=3, visits=1, subject="both", legal=None)
    health = make_item(world, "丙卫生许可", department=world.health_dept, subject="legal")
    near = make_item(world, "丁就近办", scope="any_town")

    def found(query):
        response = client.get(f"/api/v1/items?{query}")
        assert response.status_code == 200, response.content
        return {r["code"] for r in response.json()["items"]}

    assert found("type=20") == {svc.code}
    assert found("department=D-WJ") == {health.code}
    assert found("department=NOPE") == set()
    assert found("depth=3") == {svc.code}
    assert found("subject=natural") == {lic.code, svc.code}  # "both" serves people too
    assert found(f"center={world.town_center.code}") == {near.code}
    assert found("center=NOPE") == set()
    assert client.get("/api/v1/items?depth=9").status_code == 422
    assert client.get("/api/v1/items?type=99").status_code == 422


def test_list_paginates_and_search_uses_q(client, world):
    for i in range(5):
        make_item(world, f"事项{i}")
    food = make_item(world, "食品经营许可")
    page = client.get("/api/v1/items?limit=2&offset=2").json()
    assert page["count"] == 6 and len(page["items"]) == 2
    hits = client.get("/api/v1/items", {"q": "食品经营"}).json()
    assert hits["count"] >= 1 and hits["items"][0]["code"] == food.code


def test_item_detail(client, world):
    item = make_item(world, "第一类医疗器械生产备案", scope="any_town")
    sub = make_item(world, "第一类医疗器械生产备案（变更）", parent=item, business_kind="change")
    body = client.get(f"/api/v1/items/{item.code}").json()
    assert body["code"] == item.code
    v = body["version"]
    assert v["name"] == "第一类医疗器械生产备案" and v["state"] == "published"
    assert [m["name"] for m in v["materials"]] == ["申请表", "营业执照", "场地证明"]
    assert v["materials"][2]["necessity_label"] == "容缺（可后补）"
    assert [s["kind"] for s in v["steps"]] == ["accept", "review", "decide", "conclude", "deliver"]
    assert v["faqs"][0]["question"]
    assert body["accepting_centers_count"] == 3  # the city center and two town centers
    assert body["sub_items"] == [
        {
            "code": sub.code,
            "name": "第一类医疗器械生产备案（变更）",
            "business_kind": "change",
            "business_kind_label": "变更",
        }
    ]
    assert client.get("/api/v1/items/NOPE").status_code == 404
    draft_only = make_item(world, "草稿", published=False)
    assert client.get(f"/api/v1/items/{draft_only.code}").json()["code"] == "not_found"


def test_guide_lists_accepting_centers_with_hours(client, world):
    item = make_item(
        world,
        "食品经营许可",
        scope="any_town",
        charges_fee=True,
        fee_items="工本费10元",
        fee_basis="粤价",
        online_payment=True,
    )
    body = client.get(f"/api/v1/items/{item.code}/guide").json()
    centers = {c["code"]: c for c in body["accepting_centers"]}
    assert set(centers) == {"SC441900", "SC441900113", "SC441900121"}
    assert centers["SC441900"]["opening_hours_text"][0] == "周一至周五 09:00–12:00、13:30–17:30"
    assert body["fee_text"] == "工本费10元" and body["visits_text"] == "无需到现场"
    assert body["online_apply"] is True
    assert body["version"]["conditions"]


def test_versions_hide_drafts_and_people_from_the_public(client, world, admin2):
    item = make_item(world)
    client_admin = bearer(client, "catalog_admin")
    client.post(f"/api/v1/items/{item.code}/versions", **client_admin)
    public = client.get(f"/api/v1/items/{item.code}/versions").json()
    assert [(v["number"], v["state"]) for v in public] == [(1, "published")]
    assert public[0]["created_by"] is None
    staff = client.get(f"/api/v1/items/{item.code}/versions", **client_admin).json()
    assert [(v["number"], v["state"]) for v in staff] == [(2, "draft"), (1, "published")]
    assert staff[0]["created_by"] == "catalog_admin"
    assert client.get(f"/api/v1/items/{item.code}/versions/2").status_code == 404
    draft = client.get(f"/api/v1/items/{item.code}/versions/2", **client_admin).json()
    assert draft["actions"] == ["submit"] and draft["issues"] == []
    assert client.get(f"/api/v1/items/{item.code}/versions/1").json()["name"]


# ---------------------------------------------------------------------------- writes

WHO_FORBIDDEN = ["citizen", "city_clerk", "health_catalog"]


def _write_requests(item_code):
    return [
        ("post", "/api/v1/items", create_payload(code="11441900NEW00001")),
        ("post", f"/api/v1/items/{item_code}/versions", None),
        ("put", f"/api/v1/items/{item_code}/versions/2", {"name": "改名"}),
        ("post", f"/api/v1/items/{item_code}/versions/2/submit", None),
        (
            "post",
            "/api/v1/acceptance-batches",
            {
                "item_codes": [item_code],
                "scope": "any_town",
                "document_no": "东府办〔2020〕1号",
                "effective_from": "2020-06-15",
            },
        ),
    ]


def _send(client, method, url, body, headers):
    kwargs = {"content_type": JSON, **headers}
    if body is not None:
        kwargs["data"] = body
    return getattr(client, method)(url, **kwargs)


@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("who", [None, *WHO_FORBIDDEN])
def test_write_endpoints_refuse_everyone_but_catalog_admins(
    client, world, health_admin, who, index
):
    item = make_item(world, code="11441900OLD00001")
    if index in (2, 3):  # needs a draft v2 to edit / submit
        from tongban.catalog import services

        services.start_new_version(item, world.user("catalog_admin"))
    method, url, body = _write_requests(item.code)[index]
    headers = auth(client, who)
    before = AuditEvent.objects.filter(action__startswith="catalog.").count()
    response = _send(client, method, url, body, headers)
    expected = 401 if who is None else 403
    assert response.status_code == expected, (who, url, response.content)
    assert set(response.json()) == {"code", "message", "details"}
    assert AuditEvent.objects.filter(action__startswith="catalog.").count() == before


@pytest.mark.parametrize("index", range(5))
def test_write_endpoints_work_for_catalog_admin(client, world, index):
    item = make_item(world, code="11441900OLD00001")
    if index in (2, 3):
        from tongban.catalog import services

        services.start_new_version(item, world.user("catalog_admin"))
    method, url, body = _write_requests(item.code)[index]
    response = _send(client, method, url, body, bearer(client, "catalog_admin"))
    assert response.status_code in (200, 201), response.content


def test_create_edit_submit_approve_publish_over_http(client, world, admin2):
    a, b = bearer(client, "catalog_admin"), bearer(client, "catalog_admin2")
    created = client.post("/api/v1/items", create_payload(), content_type=JSON, **a)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["item"], body["number"], body["state"]) == ("11441900API00001", 1, "draft")
    assert body["actions"] == ["submit"]
    item = ServiceItem.objects.get(code="11441900API00001")
    assert AcceptanceRule.objects.get(item=item).scope == "any_town"
    base = "/api/v1/items/11441900API00001/versions/1"

    edited = client.put(base, {"conditions": "已取得营业执照。"}, content_type=JSON, **a)
    assert edited.status_code == 200 and edited.json()["conditions"] == "已取得营业执照。"
    assert edited.json()["materials"][0]["name"] == "食品经营许可申请书"  # untouched lists stay

    assert client.post(f"{base}/publish", content_type=JSON, **a).status_code == 409
    assert client.post(f"{base}/submit", content_type=JSON, **a).status_code == 200
    own = client.post(f"{base}/approve", content_type=JSON, **a)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes"
    assert client.post(f"{base}/approve", content_type=JSON, **b).json()["state"] == "approved"
    published = client.post(f"{base}/publish", content_type=JSON, **a)
    assert published.status_code == 200 and published.json()["state"] == "published"

    assert client.get("/api/v1/items/11441900API00001").json()["version"]["number"] == 1
    frozen = client.put(base, {"name": "改"}, content_type=JSON, **a)
    assert frozen.status_code == 409 and "新建版本" in frozen.json()["message"]
    v2 = client.post("/api/v1/items/11441900API00001/versions", content_type=JSON, **a)
    assert v2.status_code == 201 and v2.json()["number"] == 2
    again = client.post("/api/v1/items/11441900API00001/versions", content_type=JSON, **a)
    assert again.status_code == 409
    actions = set(
        AuditEvent.objects.filter(action__startswith="catalog.").values_list("action", flat=True)
    )
    assert {"catalog.item_create", "catalog.version_update", "catalog.version_publish"} <= actions


def test_reject_needs_reason_and_goes_back_to_draft(client, world, admin2):
    item = make_item(world)
    from tongban.catalog import services

    draft = services.start_new_version(item, world.user("catalog_admin"))
    services.submit(draft, world.user("catalog_admin"))
    b = bearer(client, "catalog_admin2")
    url = f"/api/v1/items/{item.code}/versions/2/reject"
    assert client.post(url, {"reason": ""}, content_type=JSON, **b).status_code == 422
    response = client.post(url, {"reason": "请补充收费依据"}, content_type=JSON, **b)
    assert response.status_code == 200 and response.json()["state"] == "draft"
    shown = client.get(f"/api/v1/items/{item.code}/versions/2", **b).json()
    assert shown["last_rejection"]["reason"] == "请补充收费依据"


def test_submit_with_rule_errors_is_422_with_every_detail(client, world):
    a = bearer(client, "catalog_admin")
    payload = create_payload(charges_fee=True, promised_limit_days=30)
    assert client.post("/api/v1/items", payload, content_type=JSON, **a).status_code == 201
    response = client.post(
        "/api/v1/items/11441900API00001/versions/1/submit", content_type=JSON, **a
    )
    assert response.status_code == 422
    rules_hit = {d["rule"] for d in response.json()["details"]}
    assert {"fees", "promised_within_legal"} <= rules_hit
    shown = client.get("/api/v1/items/11441900API00001/versions/1", **a).json()
    assert {i["rule"] for i in shown["issues"]} == rules_hit


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/v1/items", {}),
        ("post", "/api/v1/items", {**create_payload(), "item_type": "99"}),
        ("post", "/api/v1/items", {**create_payload(), "department": "NOPE"}),
        ("post", "/api/v1/items", {**create_payload(), "parent": "NOPE"}),
        ("post", "/api/v1/items", {**create_payload(), "base_code": "x" * 13}),
        ("post", "/api/v1/items", {**create_payload(), "code": ""}),
        ("post", "/api/v1/items", create_payload(max_visits=7)),
        ("post", "/api/v1/items", create_payload(promised_limit_days=-1)),
        ("post", "/api/v1/items", create_payload(legal_limit_days=10**30)),
        ("post", "/api/v1/items", create_payload(name="x" * 201)),
        ("post", "/api/v1/items", create_payload(name="空\x00字符")),
        ("post", "/api/v1/items", create_payload(themes="birth")),
        ("post", "/api/v1/items", create_payload(subject="alien")),
        ("put", "/api/v1/items/{code}/versions/2", {"online_depth": 0}),
        ("put", "/api/v1/items/{code}/versions/2", {"materials": [{"kind": "copy"}]}),
        (
            "put",
            "/api/v1/items/{code}/versions/2",
            {"steps": [{"kind": "x", "name": "a", "role": "b"}]},
        ),
        ("put", "/api/v1/items/{code}/versions/2", {"materials": "none"}),
        ("put", "/api/v1/items/{code}/versions/2", ["not", "an", "object"]),
        ("post", "/api/v1/items/{code}/versions/2/explode", None),
        ("put", "/api/v1/items/{code}/versions/abc", {"name": "x"}),
        (
            "post",
            "/api/v1/acceptance-batches",
            {
                "item_codes": [],
                "scope": "any_town",
                "document_no": "x",
                "effective_from": "2020-06-15",
            },
        ),
        (
            "post",
            "/api/v1/acceptance-batches",
            {
                "item_codes": ["NOPE"],
                "scope": "any_town",
                "document_no": "x",
                "effective_from": "2020-06-15",
            },
        ),
        (
            "post",
            "/api/v1/acceptance-batches",
            {
                "item_codes": ["{code}"],
                "scope": "moon",
                "document_no": "x",
                "effective_from": "2020-06-15",
            },
        ),
        (
            "post",
            "/api/v1/acceptance-batches",
            {
                "item_codes": ["{code}"],
                "scope": "any_town",
                "document_no": "x",
                "effective_from": "2020-13-45",
            },
        ),
    ],
)
def test_invalid_payloads_are_422(client, world, method, url, body):
    item = make_item(world, code="11441900OLD00001")
    from tongban.catalog import services

    services.start_new_version(item, world.user("catalog_admin"))
    url = url.replace("{code}", item.code)
    if isinstance(body, dict) and "item_codes" in body:
        body = {**body, "item_codes": [c.replace("{code}", item.code) for c in body["item_codes"]]}
    response = _send(client, method, url, body, bearer(client, "catalog_admin"))
    assert response.status_code == 422, response.content
    assert set(response.json()) == {"code", "message", "details"}
    assert ServiceItem.objects.count() == 1


def test_create_is_idempotent(client, world):
    headers = {**bearer(client, "catalog_admin"), "HTTP_IDEMPOTENCY_KEY": "create-food-1"}
    first = client.post("/api/v1/items", create_payload(), content_type=JSON, **headers)
    second = client.post("/api/v1/items", create_payload(), content_type=JSON, **headers)
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert ServiceItem.objects.count() == 1 and ItemVersion.objects.count() == 1


def test_duplicate_code_is_422(client, world):
    a = bearer(client, "catalog_admin")
    assert client.post("/api/v1/items", create_payload(), content_type=JSON, **a).status_code == 201
    again = client.post("/api/v1/items", create_payload(), content_type=JSON, **a)
    assert again.status_code == 422 and again.json()["details"][0]["field"] == "code"


def test_acceptance_batch_over_http(client, world):
    items = [make_item(world, f"城市事项{i}") for i in range(3)]
    a = bearer(client, "catalog_admin")
    payload = {
        "item_codes": [i.code for i in items],
        "scope": "any_town",
        "document_no": "东府办〔2020〕40号",
        "effective_from": "2020-06-15",
        "title": "首批就近办事项",
    }
    response = client.post("/api/v1/acceptance-batches", payload, content_type=JSON, **a)
    assert response.status_code == 201, response.content
    assert response.json()["item_count"] == 3
    again = client.post("/api/v1/acceptance-batches", payload, content_type=JSON, **a)
    assert again.status_code == 409
    listed = client.get("/api/v1/acceptance-batches").json()
    assert listed["count"] == 1 and listed["items"][0]["item_count"] == 3
    history = client.get(f"/api/v1/items/{items[0].code}/acceptance").json()
    assert [h["scope"] for h in history] == ["any_town", "department_center"]


def test_department_admin_cannot_batch_other_departments(client, world, health_admin):
    item = make_item(world)
    response = client.post(
        "/api/v1/acceptance-batches",
        {
            "item_codes": [item.code],
            "scope": "any_town",
            "document_no": "x",
            "effective_from": "2020-06-15",
        },
        content_type=JSON,
        **bearer(client, "health_catalog"),
    )
    assert response.status_code == 403


def test_theme_and_life_event_filters(client, world):
    food = make_item(
        world, "食品经营许可", themes=["b_food_drug"], life_events=["operating_permit"]
    )
    birth = make_item(world, "出生登记", subject="natural", life_events=["birth", "household"])
    make_item(world, "其他事项", themes=["b_other"])

    def found(query):
        return [r["code"] for r in client.get(f"/api/v1/items?{query}").json()["items"]]

    assert found("theme=b_food_drug") == [food.code]
    assert found("life_event=birth") == [birth.code]
    assert found("life_event=household") == [birth.code]
    assert found("life_event=operating_permit") == [food.code]
    assert found("life_event=nope") == []
    assert found("q=出生&life_event=birth") == [birth.code]
    assert found("q=食品&life_event=birth") == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/items/{code}/versions/0",
        "/api/v1/items/{code}/versions/99999999999999999999999",
        "/api/v1/items?q=%00&department=%00",
        "/api/v1/items/%00",
        "/api/v1/items/{code}/versions/1/x",
    ],
)
def test_odd_reads_never_500(client, world, url):
    item = make_item(world)
    response = client.get(url.replace("{code}", item.code))
    assert response.status_code in (200, 400, 404, 405, 422), response.content
