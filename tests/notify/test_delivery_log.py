"""The delivery log of the webhooks to department systems, outside the Django admin: the API
(``GET /api/v1/webhook-deliveries``, ``POST /api/v1/webhook-deliveries/{uid}/resend``) and the
workbench page /workbench/systems/ (部门系统对接). Who sees which rows, filters, re-send (a
pending copy, audited; catalog administrators only), and no body on the page or in the API."""

# ruff: noqa: F811  (the api fixture is imported from test_api_support)
from __future__ import annotations

import datetime as dt
import json
import uuid
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.cases.factories import online_case
from tests.cases.test_api_support import api  # noqa: F401
from tests.catalog.factories import make_item
from tests.factories import assign, make_user
from tests.web.test_pages import assert_no_chinese, english, html, signed_in
from tongban.cases import services
from tongban.core.models import AuditEvent
from tongban.notify import webhooks
from tongban.notify.models import WebhookDelivery, WebhookSubscription
from tongban.org.roles import Role

pytestmark = pytest.mark.django_db

URL = "/webhook-deliveries"
PAGE = "/workbench/systems/"
SECRET = "0123456789abcdef" * 4


def _subscription(department, name: str, url: str) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        department=department, name=name, url=url, secret=SECRET
    )


def _delivery(subscription, case, event="case.start_review", **fields) -> WebhookDelivery:
    fields.setdefault("next_attempt_at", timezone.now())
    return WebhookDelivery.objects.create(
        subscription=subscription,
        uid=str(uuid.uuid4()),
        event=event,
        case=case,
        body=json.dumps({"event": event, "marker": "BODY-NOT-SHOWN"}),
        **fields,
    )


@pytest.fixture
def log(world):
    """Two systems: the market department's (city) and the 大朗镇 office's (a town). The market
    system got the accept event of a case through the outbox (delivered), a re-send of it
    (pending) and a failed start_review; the town system one retrying delivery."""
    market = _subscription(world.market_dept, "市场监管审批系统", "https://scjg.example.test/hook")
    town = _subscription(world.town_dept, "大朗公共服务系统", "https://dalang.example.test/hook")
    item = make_item(world, "食品经营许可", department=world.market_dept)
    case = online_case(world, item)
    services.accept(case, world.user("city_clerk"))
    case.refresh_from_db()
    accepted = WebhookDelivery.objects.get(subscription=market, event="case.accept")
    WebhookDelivery.objects.filter(pk=accepted.pk).update(
        status="delivered", attempts=1, last_status_code=200, delivered_at=timezone.now()
    )
    failed = _delivery(market, case, status="failed", attempts=8, last_status_code=500)
    failed.last_error = "HTTP 500"
    failed.save(update_fields=["last_error"])
    resent = _delivery(market, case, event="case.accept", resent_from=accepted)
    retrying = _delivery(
        town,
        case,
        event="case.accept",
        status="retrying",
        attempts=2,
        last_error="Connection refused",
        next_attempt_at=timezone.now() + dt.timedelta(minutes=1),
    )
    return SimpleNamespace(
        market=market,
        town=town,
        case=case,
        accepted=accepted,
        failed=failed,
        resent=resent,
        retrying=retrying,
    )


def _uids(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["items"])
    return [row["uid"] for row in body["items"]]


def _catalog_admin(world, key: str, **scope):
    """Another catalog administrator (in ``world.users`` for the page tests)."""
    user = world.users[key] = make_user(key, is_staff=True)
    assign(user, Role.CATALOG_ADMIN, **scope)
    return user


# ============================================================================ API: reading


def test_catalog_admin_and_supervisor_read_the_city_newest_first(api, log):
    expected = [log.retrying.uid, log.resent.uid, log.failed.uid, log.accepted.uid]
    assert _uids(api.get(URL, as_="catalog_admin")) == expected
    assert _uids(api.get(URL, as_="supervisor")) == expected


def test_scope_follows_the_departments_region(api, world, log):
    _catalog_admin(world, "town_catalog", region=world.town)
    _catalog_admin(world, "humen_catalog", region=world.other_town)
    _catalog_admin(world, "market_catalog", department=world.market_dept)
    assert _uids(api.get(URL, as_="town_catalog")) == [log.retrying.uid]
    assert _uids(api.get(URL, as_="humen_catalog")) == []  # another region: nothing
    assert set(_uids(api.get(URL, as_="market_catalog"))) == {
        log.accepted.uid,
        log.failed.uid,
        log.resent.uid,
    }


@pytest.mark.parametrize("key", ["reviewer", "approver", "city_clerk", "auditor", "citizen"])
def test_other_roles_get_403(api, log, key):
    response = api.get(URL, as_=key)
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


def test_anonymous_gets_401(api, log):
    response = api.get(URL)
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details"}


def test_rows_name_the_delivery_but_carry_no_body(api, log):
    rows = {r["uid"]: r for r in api.get(URL, as_="catalog_admin").json()["items"]}
    resent, retrying, accepted = (
        rows[log.resent.uid],
        rows[log.retrying.uid],
        rows[log.accepted.uid],
    )
    assert resent["resent_from"] == log.accepted.uid and accepted["resent_from"] is None
    assert accepted["department"] == "D-SCJG" and accepted["system"] == "市场监管审批系统"
    assert accepted["case_number"] == log.case.number and accepted["event"] == "case.accept"
    assert accepted["status"] == "delivered" and accepted["last_status_code"] == 200
    assert accepted["next_attempt_at"] is None  # nothing more is tried
    assert retrying["status_label"] == "等待重试" and retrying["next_attempt_at"]
    assert retrying["last_error"] == "Connection refused"
    for row in rows.values():
        assert "body" not in row and "secret" not in row
    assert b"BODY-NOT-SHOWN" not in api.get(URL, as_="catalog_admin").content


def test_filters(api, world, log):
    def listed(query: str) -> set[str]:
        return set(_uids(api.get(f"{URL}?{query}", as_="catalog_admin")))

    assert listed("department=D-113-GGFW") == {log.retrying.uid}
    assert listed("status=failed") == {log.failed.uid}
    accepts = {log.accepted.uid, log.resent.uid, log.retrying.uid}
    assert listed("event=case.accept") == accepts
    assert listed("event=accept") == accepts
    assert listed("department=D-SCJG&event=case.start_review") == {log.failed.uid}
    assert len(listed(f"case={log.case.number.lower()}")) == 4
    assert listed("case=NO-SUCH-CASE") == set()
    assert listed("department=D-UNKNOWN") == set()
    response = api.get(f"{URL}?status=lost", as_="catalog_admin")
    assert response.status_code == 422 and response.json()["code"] == "invalid"


def test_pagination(api, log):
    body = api.get(f"{URL}?limit=2&offset=1", as_="supervisor").json()
    assert body["count"] == 4
    assert [r["uid"] for r in body["items"]] == [log.resent.uid, log.failed.uid]


def test_openapi_describes_the_endpoints(api):
    schema = api.client.get("/api/v1/openapi.json").json()
    listing = schema["paths"]["/api/v1/webhook-deliveries"]["get"]
    resend = schema["paths"]["/api/v1/webhook-deliveries/{uid}/resend"]["post"]
    assert "Webhook delivery log" in listing["summary"] and listing["description"]
    assert {"401", "403", "422"} <= set(listing["responses"])
    assert {"201", "403", "404"} <= set(resend["responses"])
    fields = schema["components"]["schemas"]["DeliveryOut"]["properties"]
    assert fields["resent_from"]["description"] and "body" not in fields


# ============================================================================ API: re-send


def test_resend_queues_a_pending_copy_and_is_audited(api, world, log):
    response = api.post(f"{URL}/{log.failed.uid}/resend", as_="catalog_admin")
    assert response.status_code == 201, response.content
    body = response.json()
    copy = WebhookDelivery.objects.get(uid=body["uid"])
    assert copy.resent_from == log.failed and copy.status == "pending" and copy.attempts == 0
    assert copy.body == log.failed.body and copy.event == log.failed.event
    assert copy.subscription == log.market and copy.case == log.case
    assert body["resent_from"] == log.failed.uid and body["status"] == "pending"
    assert body["case_number"] == log.case.number and "body" not in body
    event = AuditEvent.objects.get(action="webhook.resent")
    assert event.actor == world.user("catalog_admin")
    assert event.data["from"] == log.failed.uid and event.data["to"] == copy.uid
    # the copy heads the list
    assert _uids(api.get(URL, as_="catalog_admin"))[0] == copy.uid


def test_resend_with_an_idempotency_key_queues_one_copy(api, log):
    headers = {"HTTP_IDEMPOTENCY_KEY": "resend-failed-1"}
    first = api.post(f"{URL}/{log.failed.uid}/resend", as_="catalog_admin", **headers)
    again = api.post(f"{URL}/{log.failed.uid}/resend", as_="catalog_admin", **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert WebhookDelivery.objects.filter(resent_from=log.failed).count() == 1


@pytest.mark.parametrize(
    ("key", "code"),
    [("supervisor", "read_only"), ("reviewer", "not_allowed"), ("auditor", "not_allowed")],
)
def test_resend_is_refused_to_others(api, log, key, code):
    response = api.post(f"{URL}/{log.failed.uid}/resend", as_=key)
    assert response.status_code == 403
    assert response.json()["code"] == code
    assert not WebhookDelivery.objects.filter(resent_from=log.failed).exists()
    assert not AuditEvent.objects.filter(action="webhook.resent").exists()


def test_resend_needs_authentication(api, log):
    assert api.post(f"{URL}/{log.failed.uid}/resend").status_code == 401


def test_resend_outside_the_scope_or_unknown_is_404(api, world, log):
    _catalog_admin(world, "town_catalog", region=world.town)
    _catalog_admin(world, "humen_catalog", region=world.other_town)
    for key, uid in (
        ("town_catalog", log.failed.uid),  # the market department is not in 大朗镇
        ("humen_catalog", log.retrying.uid),
        ("catalog_admin", str(uuid.uuid4())),
        ("catalog_admin", "x" * 300),
    ):
        response = api.post(f"{URL}/{uid}/resend", as_=key)
        assert response.status_code == 404, (key, response.content)
        assert response.json()["code"] == "not_found"
    assert WebhookDelivery.objects.filter(resent_from__isnull=False).count() == 1  # the fixture's
    # a town administrator re-sends in their own town
    assert api.post(f"{URL}/{log.retrying.uid}/resend", as_="town_catalog").status_code == 201


def test_a_supervisor_of_the_city_re_sends_only_in_their_catalog_scope(api, world, log):
    user = _catalog_admin(world, "town_catalog_supervisor", region=world.town)
    assign(user, Role.SUPERVISOR, region=world.city)
    assert len(_uids(api.get(URL, as_="town_catalog_supervisor"))) == 4  # reads the city
    response = api.post(f"{URL}/{log.failed.uid}/resend", as_="town_catalog_supervisor")
    assert response.status_code == 403 and response.json()["code"] == "out_of_scope"


# ============================================================================ the page


def test_page_lists_subscriptions_and_deliveries(world, log):
    response = signed_in(world, "catalog_admin").get(PAGE)
    assert response.status_code == 200
    page = html(response)
    assert "部门系统对接" in page
    subscriptions = page[page.index('data-testid="subscriptions"') : page.index("</table>")]
    for text in (
        "市场监管审批系统",
        "https://scjg.example.test/hook",
        "大朗公共服务系统",
        "全部事件",
    ):
        assert text in subscriptions
    for d in (log.accepted, log.failed, log.resent, log.retrying):
        assert f'data-testid="delivery-{d.uid}"' in page
        assert f'data-testid="resend-{d.uid}"' in page
    assert log.case.number in page and "HTTP 500" in page and "Connection refused" in page
    assert "重新发送" in page and "等待重试" in page
    assert f'data-testid="resent-{log.resent.uid}"' in page  # a re-send is marked
    assert page.count('data-testid="resent-') == 1
    assert "BODY-NOT-SHOWN" not in page and SECRET not in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<a href="/workbench/systems/" aria-current="page">' in page  # the navigation


def test_page_filters(world, log):
    client = signed_in(world, "catalog_admin")
    page = html(client.get(PAGE, {"status": "failed"}))
    assert f"delivery-{log.failed.uid}" in page
    assert f"delivery-{log.accepted.uid}" not in page and f"delivery-{log.resent.uid}" not in page
    page = html(client.get(PAGE, {"department": "D-113-GGFW", "event": "case.accept"}))
    assert f"delivery-{log.resent.uid}" not in page
    assert f"delivery-{log.retrying.uid}" in page and f"delivery-{log.accepted.uid}" not in page
    page = html(client.get(PAGE, {"case": log.case.number}))
    assert page.count('data-testid="delivery-') == 4
    response = client.get(PAGE, {"status": "lost"})
    assert response.status_code == 422 and 'data-testid="delivery-' in html(response)


def test_page_empty_states(world, log):
    _catalog_admin(world, "humen_catalog", region=world.other_town)
    page = html(signed_in(world, "humen_catalog").get(PAGE))
    assert 'data-testid="empty"' in page and "还没有推送记录" in page
    assert 'data-testid="no-subscriptions"' in page
    page = html(signed_in(world, "catalog_admin").get(PAGE, {"case": "NO-SUCH-CASE"}))
    assert "没有符合筛选条件的推送记录" in page and "清除筛选" in page


def test_page_paginates(world, log):
    for _ in range(25):
        _delivery(log.town, log.case)
    client = signed_in(world, "catalog_admin")
    first = html(client.get(PAGE))
    assert first.count('data-testid="delivery-') == 20 and "?page=2" in first
    second = html(client.get(PAGE, {"page": 2}))
    assert second.count('data-testid="delivery-') == 9
    assert f"delivery-{log.accepted.uid}" in second  # the oldest comes last


def test_page_queries_do_not_grow_with_the_rows(world, log):
    client = signed_in(world, "catalog_admin")
    client.get(PAGE)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PAGE).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(12):
        _delivery(log.market, log.case, resent_from=log.failed)
        _subscription(log.market.department, "另一系统", "https://other.example.test/h")
    assert queries() == few


def test_supervisor_reads_without_buttons_and_cannot_post(world, log):
    client = signed_in(world, "supervisor")
    page = html(client.get(PAGE))
    assert f"delivery-{log.failed.uid}" in page and 'data-testid="read-only"' in page
    assert 'data-testid="resend-' not in page
    assert 'href="/workbench/systems/"' in page
    response = client.post(reverse("notify:resend", args=[log.failed.uid]))
    assert response.status_code == 403
    assert not WebhookDelivery.objects.filter(resent_from=log.failed).exists()


def test_catalog_admin_re_sends_from_the_page(world, log):
    client = signed_in(world, "catalog_admin")
    back = "status=failed&page=1"
    response = client.post(reverse("notify:resend", args=[log.failed.uid]), {"back": back})
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?status=failed&page=1"
    copy = WebhookDelivery.objects.get(resent_from=log.failed)
    assert copy.status == "pending" and copy.uid != log.failed.uid
    assert AuditEvent.objects.filter(action="webhook.resent").count() == 1
    page = html(client.get(response["Location"]))
    assert "已重新排队推送" in page and log.case.number in page


def test_re_send_page_posts_outside_the_scope_and_foreign_back_links(world, log):
    _catalog_admin(world, "humen_catalog", region=world.other_town)
    client = signed_in(world, "humen_catalog")
    assert client.post(reverse("notify:resend", args=[log.failed.uid])).status_code == 404
    client = signed_in(world, "catalog_admin")
    assert client.get(reverse("notify:resend", args=[log.failed.uid])).status_code == 405
    response = client.post(
        reverse("notify:resend", args=[log.failed.uid]),
        {"back": "next=https://evil.example/&status=failed"},
    )
    assert response["Location"] == f"{PAGE}?status=failed"


def test_page_is_for_catalog_admins_and_supervisors_only(client, world, log):
    response = client.get(PAGE)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    for key in ("reviewer", "city_clerk", "center_admin", "auditor", "citizen"):
        signed = signed_in(world, key)
        assert signed.get(PAGE).status_code == 403, key
        assert 'href="/workbench/systems/"' not in html(signed.get(reverse("web:my_scope")))
        assert signed.post(reverse("notify:resend", args=[log.failed.uid])).status_code == 403


def test_page_in_english(world, log):
    data = ("市场监管审批系统", "大朗公共服务系统", "食品经营许可")
    for key in ("catalog_admin", "supervisor"):
        client = english(signed_in(world, key))
        assert_no_chinese(client.get(PAGE), data)
        assert_no_chinese(client.get(PAGE, {"case": "NO-SUCH-CASE"}), data)
    response = english(signed_in(world, "catalog_admin")).post(
        reverse("notify:resend", args=[log.failed.uid]), follow=True
    )
    assert_no_chinese(response, data)


def test_resend_from_the_page_is_delivered(world, log, settings):
    """The copy is an ordinary pending delivery: the next run sends it."""
    sent = []
    settings.WEBHOOK_TRANSPORT = "tests.notify.test_delivery_log.recording_transport"
    recording_transport.sent = sent
    signed_in(world, "catalog_admin").post(reverse("notify:resend", args=[log.failed.uid]))
    run = webhooks.deliver_due()
    copy = WebhookDelivery.objects.get(resent_from=log.failed)
    assert copy.uid in {headers[webhooks.DELIVERY_HEADER] for headers in sent}
    assert run.delivered >= 1
    copy.refresh_from_db()
    assert copy.status == "delivered"


def recording_transport(url, body, headers, timeout):
    recording_transport.sent.append(headers)
    return 200, ""
