"""Outbound webhooks: signature, the outbox written with the case step, delivery to a real HTTP
server, retry with backoff, the delivery log and re-send."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.cases.factories import online_case
from tests.catalog.factories import make_item
from tongban.accounts.models import ApiToken
from tongban.accounts.selectors import token_digest, user_for_token
from tongban.cases import services
from tongban.core.errors import InvalidInput
from tongban.core.models import AuditEvent
from tongban.notify import webhooks
from tongban.notify.models import WebhookDelivery, WebhookSubscription
from tongban.notify.systems import connect
from tongban.org.models import StaffAssignment


class Receiver:
    """A local HTTP server that records requests and answers with scripted status codes."""

    def __init__(self, codes=(200,)):
        self.codes = list(codes)
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"headers": dict(self.headers), "body": body})
                code = outer.codes.pop(0) if len(outer.codes) > 1 else outer.codes[0]
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def subscribe(world, url, events=None):
    return WebhookSubscription.objects.create(
        department=world.market_dept,
        name="市场监管业务系统",
        url=url,
        secret=webhooks.new_secret(),
        events=events or [],
    )


def test_signature_round_trip_and_tampering():
    secret, ts, body = "s3cret", 1_790_000_000, '{"a":1}'
    sig = webhooks.sign(secret, ts, body)
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert webhooks.verify_signature(secret, str(ts), body, sig, now=ts + 10)
    assert not webhooks.verify_signature(secret, str(ts), body + " ", sig, now=ts)
    assert not webhooks.verify_signature("other", str(ts), body, sig, now=ts)
    assert not webhooks.verify_signature(secret, str(ts + 1), body, sig, now=ts)
    # replay outside the tolerance window
    assert not webhooks.verify_signature(secret, str(ts), body, sig, now=ts + 301)
    assert not webhooks.verify_signature(secret, "not-a-number", body, sig)


def test_case_step_writes_deliveries_and_they_arrive_signed(world, receiver):
    sub = subscribe(world, receiver.url)
    item = make_item(world, department=world.market_dept)
    case = online_case(world, item)
    services.accept(case, world.user("city_clerk"))
    queued = WebhookDelivery.objects.filter(subscription=sub).order_by("pk")
    events = [d.event for d in queued]
    # department systems hear of a case from its acceptance on
    assert events == ["case.accept"]
    assert all(d.status == "pending" for d in queued)

    run = webhooks.deliver_due()
    assert run.attempted == len(events) and run.delivered == len(events)
    assert len(receiver.requests) == len(events)
    got = receiver.requests[-1]
    h = {k.lower(): v for k, v in got["headers"].items()}
    assert h["x-tongban-event"] == "case.accept"
    assert webhooks.verify_signature(
        sub.secret, h["x-tongban-timestamp"], got["body"], h["x-tongban-signature"]
    )
    payload = json.loads(got["body"])
    assert payload["case"]["number"] == case.number
    assert payload["case"]["provincial_code"] == 3
    assert payload["links"]["case"] == f"/api/v1/cases/{case.number}"
    # no personal data in the event
    text = got["body"].decode()
    assert "13900139000" not in text and "91110000600037341L" not in text
    assert all(d.status == "delivered" and d.attempts == 1 for d in queued.all())


def test_only_the_case_departments_wanted_events(world, receiver):
    other = WebhookSubscription.objects.create(
        department=world.health_dept, name="卫健", url=receiver.url, secret="x"
    )
    picky = subscribe(world, receiver.url, events=["accept"])
    item = make_item(world, department=world.market_dept)
    case = online_case(world, item)
    services.accept(case, world.user("city_clerk"))
    assert not WebhookDelivery.objects.filter(subscription=other).exists()
    assert list(
        WebhookDelivery.objects.filter(subscription=picky).values_list("event", flat=True)
    ) == ["case.accept"]


def test_failed_step_queues_nothing(world, receiver):
    sub = subscribe(world, receiver.url)
    item = make_item(world, department=world.market_dept)
    case = online_case(world, item)
    before = WebhookDelivery.objects.filter(subscription=sub).count()
    with pytest.raises(InvalidInput):
        services.refuse(case, world.user("city_clerk"), reason="")  # 422: no reason
    assert WebhookDelivery.objects.filter(subscription=sub).count() == before


def test_retry_with_backoff_then_give_up(world, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    r = Receiver(codes=[500])
    try:
        sub = subscribe(world, r.url, events=["accept"])
        item = make_item(world, department=world.market_dept)
        case = online_case(world, item)
        services.accept(case, world.user("city_clerk"))
        d = WebhookDelivery.objects.get(subscription=sub)
        t0 = timezone.now()
        waits = []
        for expected_attempt in range(1, 5):
            webhooks.deliver_due(now=t0)
            d.refresh_from_db()
            assert d.attempts == expected_attempt and d.last_status_code == 500
            if d.status == "retrying":
                waits.append((d.next_attempt_at - t0).total_seconds())
                # nothing is sent before it is due
                assert webhooks.deliver_due(now=t0).attempted == 0
                t0 = d.next_attempt_at
        assert waits == [30, 60, 120]
        assert d.status == "failed" and len(r.requests) == 4
    finally:
        r.close()


def test_unreachable_endpoint_is_a_failed_attempt(world, settings):
    sub = subscribe(world, "http://127.0.0.1:9/nothing", events=["accept"])
    item = make_item(world, department=world.market_dept)
    services.accept(online_case(world, item), world.user("city_clerk"))
    webhooks.deliver_due()
    d = WebhookDelivery.objects.get(subscription=sub)
    assert d.status == "retrying" and d.last_status_code is None and d.last_error


def test_backoff_is_capped(settings):
    settings.WEBHOOK_RETRY_MAX_SECONDS = 3600
    assert webhooks.backoff(1) == dt.timedelta(seconds=30)
    assert webhooks.backoff(20) == dt.timedelta(seconds=3600)


def test_resend_copies_and_is_audited(world, receiver):
    sub = subscribe(world, receiver.url, events=["accept"])
    item = make_item(world, department=world.market_dept)
    services.accept(online_case(world, item), world.user("city_clerk"))
    webhooks.deliver_due()
    first = WebhookDelivery.objects.get(subscription=sub)
    copy = webhooks.resend(first, by=world.user("catalog_admin"))
    assert copy.uid != first.uid and copy.body == first.body and copy.resent_from == first
    assert AuditEvent.objects.filter(action="webhook.resent").exists()
    webhooks.deliver_due()
    assert len(receiver.requests) == 2
    ids = {r["headers"]["X-Tongban-Delivery"] for r in receiver.requests}
    assert ids == {first.uid, copy.uid}


def test_admin_resend_button(world, receiver, admin_client):
    sub = subscribe(world, receiver.url, events=["accept"])
    item = make_item(world, department=world.market_dept)
    services.accept(online_case(world, item), world.user("city_clerk"))
    d = WebhookDelivery.objects.get(subscription=sub)
    response = admin_client.post(
        "/admin/notify/webhookdelivery/",
        {"action": "resend_selected", "_selected_action": [d.pk]},
    )
    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(resent_from=d).count() == 1


def test_deliver_command(world, receiver, capsys):
    subscribe(world, receiver.url, events=["accept"])
    item = make_item(world, department=world.market_dept)
    services.accept(online_case(world, item), world.user("city_clerk"))
    call_command("deliver_webhooks")
    assert "delivered 1" in capsys.readouterr().out


def test_connect_department_system_scopes_the_account(world):
    result = connect(world.market_dept, name="市场监管审批系统", url="https://example.test/h")
    roles = set(result.user.assignments.values_list("role", "department_id"))
    assert roles == {("reviewer", world.market_dept.pk), ("approver", world.market_dept.pk)}
    assert result.subscription.secret and len(result.token) > 30
    assert not result.user.has_usable_password()
    again = connect(world.market_dept, name="市场监管审批系统")
    assert again.user == result.user and again.token != result.token


def test_connecting_again_rotates_the_token_and_reuses_the_subscription(world):
    first = connect(world.market_dept, name="市场监管审批系统", url="https://example.test/h")
    StaffAssignment.objects.filter(user=first.user).update(active=False)
    WebhookSubscription.objects.filter(pk=first.subscription.pk).update(active=False)

    again = connect(
        world.market_dept,
        name="市场监管一网通系统",
        url="https://example.test/h",
        events=["accept"],
    )

    tokens = ApiToken.objects.filter(user=first.user)
    assert tokens.count() == 2
    assert tokens.get(digest=token_digest(first.token)).revoked_at is not None
    assert tokens.get(digest=token_digest(again.token)).revoked_at is None
    assert user_for_token(first.token) is None and user_for_token(again.token) == first.user
    subscriptions = WebhookSubscription.objects.filter(department=world.market_dept)
    assert list(subscriptions.values_list("pk", "name", "events", "active")) == [
        (first.subscription.pk, "市场监管一网通系统", ["accept"], True)
    ]
    assert again.subscription.secret == first.subscription.secret
    assert set(first.user.assignments.values_list("role", "active")) == {
        ("reviewer", True),
        ("approver", True),
    }
    first.user.refresh_from_db()
    assert first.user.display_name == "市场监管一网通系统"


def test_a_switched_off_subscription_gets_nothing_more(world, receiver):
    sub = subscribe(world, receiver.url, events=["accept"])
    item = make_item(world, department=world.market_dept)
    services.accept(online_case(world, item), world.user("city_clerk"))
    WebhookSubscription.objects.filter(pk=sub.pk).update(active=False)
    assert webhooks.deliver_due().attempted == 0
    assert receiver.requests == []
