"""Outbound webhooks to department systems (系统互联): case events, signed, retried, logged.

* **What is sent.** When a case's step is recorded (cases/services.py ``_event``), every active
  :class:`WebhookSubscription` of the case's approving department that wants the action gets a
  :class:`WebhookDelivery` row written *in the same transaction* (an outbox: a step that rolls
  back sends nothing). The body is a small JSON event without personal data; the department
  system reads the case through the API with its department token (``links.case``).
* **Signature.** ``X-Tongban-Signature: sha256=<hex>`` where hex = HMAC-SHA256(secret,
  ``f"{timestamp}.{body}"``), ``X-Tongban-Timestamp`` the Unix time of the attempt,
  ``X-Tongban-Delivery`` the delivery's id (receivers de-duplicate on it), ``X-Tongban-Event``.
  :func:`verify_signature` is the receiver's check (with a 5-minute tolerance against replays).
* **Retry.** A 2xx answer delivers; anything else (or a timeout) retries after
  ``base · 2^(attempt−1)`` seconds (``WEBHOOK_RETRY_BASE_SECONDS`` 30, capped at
  ``WEBHOOK_RETRY_MAX_SECONDS`` 6 h) up to ``WEBHOOK_MAX_ATTEMPTS`` (8), then it is ``failed``.
  :func:`deliver_due` sends what is due — from Celery beat every minute in production
  (``tongban.notify.tasks.deliver_webhooks``) or ``manage.py deliver_webhooks``.
* **Re-send.** :func:`resend` copies a delivery as a new pending one (audited), from the admin's
  re-send button or the API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from tongban.core import audit

from .models import WebhookDelivery, WebhookSubscription

SIGNATURE_HEADER = "X-Tongban-Signature"
TIMESTAMP_HEADER = "X-Tongban-Timestamp"
DELIVERY_HEADER = "X-Tongban-Delivery"
EVENT_HEADER = "X-Tongban-Event"
TOLERANCE_SECONDS = 300


def _setting(name: str, default):
    return getattr(settings, name, default)


def new_secret() -> str:
    return secrets.token_hex(32)


def sign(secret: str, timestamp: int | str, body: str | bytes) -> str:
    if isinstance(body, str):
        body = body.encode("utf-8")
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: str | bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """The receiver's check: a valid signature over this body and a fresh timestamp."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    if age > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    base = int(_setting("WEBHOOK_RETRY_BASE_SECONDS", 30))
    cap = int(_setting("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600))
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def max_attempts() -> int:
    return int(_setting("WEBHOOK_MAX_ATTEMPTS", 8))


# --------------------------------------------------------------------------------------------
# Enqueue (called inside the case step's transaction)


def event_body(case, event) -> str:
    data = {
        "event": f"case.{event.action}",
        "occurred_at": event.at,
        "case": {
            "number": case.number,
            "item_code": case.item.code,
            "version": case.version.number,
            "status": case.status,
            "provincial_code": event.code,
            "channel": case.channel,
            "center": case.center.code if case.center_id else None,
            "department": case.department.code,
            "accepted_on": case.accepted_on,
            "due_date": case.due_date,
            "decision": case.decision or None,
            "licence_number": case.licence_number or None,
        },
        "step": {"from": event.from_status, "to": event.to_status, "role": event.role},
        "links": {"case": f"/api/v1/cases/{case.number}"},
    }
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)


def enqueue_case_event(case, event) -> int:
    """Write a pending delivery for each subscription that wants this event. Department systems
    hear of a case from its acceptance on (before, it is the window's)."""
    if case.accepted_at is None:
        return 0
    subscriptions = [
        s
        for s in WebhookSubscription.objects.filter(department_id=case.department_id, active=True)
        if s.wants(event.action)
    ]
    if not subscriptions:
        return 0
    body = event_body(case, event)
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=s,
                uid=str(uuid.uuid4()),
                event=f"case.{event.action}",
                case=case,
                body=body,
                next_attempt_at=now,
            )
            for s in subscriptions
        ]
    )
    if not _setting("CELERY_TASK_ALWAYS_EAGER", True):
        transaction.on_commit(_kick)
    return len(subscriptions)


def enqueue_case_events(pairs) -> int:
    """``enqueue_case_event`` for many (case, event) pairs at once: one query for the
    subscriptions of their departments, one insert."""
    pairs = [(c, e) for c, e in pairs if c.accepted_at is not None]
    if not pairs:
        return 0
    by_department: dict[int, list[WebhookSubscription]] = {}
    for s in WebhookSubscription.objects.filter(
        department_id__in={c.department_id for c, _e in pairs}, active=True
    ):
        by_department.setdefault(s.department_id, []).append(s)
    now = timezone.now()
    rows = [
        WebhookDelivery(
            subscription=s,
            uid=str(uuid.uuid4()),
            event=f"case.{event.action}",
            case=case,
            body=event_body(case, event),
            next_attempt_at=now,
        )
        for case, event in pairs
        for s in by_department.get(case.department_id, [])
        if s.wants(event.action)
    ]
    WebhookDelivery.objects.bulk_create(rows, batch_size=500)
    if rows and not _setting("CELERY_TASK_ALWAYS_EAGER", True):
        transaction.on_commit(_kick)
    return len(rows)


def _kick() -> None:
    from .tasks import deliver_webhooks

    deliver_webhooks.delay()


# --------------------------------------------------------------------------------------------
# Delivery


def urllib_transport(url: str, body: bytes, headers: dict[str, str], timeout: float):
    """POST ``body``; return (status code or None, error text). Only http(s) URLs."""
    if not url.lower().startswith(("http://", "https://")):
        return None, "only http and https URLs are allowed"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:300]


def transport():
    return import_string(_setting("WEBHOOK_TRANSPORT", "tongban.notify.webhooks.urllib_transport"))


def attempt(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> WebhookDelivery:
    """One attempt; updates the delivery log row."""
    now = now or timezone.now()
    sub = delivery.subscription
    timestamp = int(now.timestamp())
    body = delivery.body.encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Tongban-Webhooks/1",
        SIGNATURE_HEADER: sign(sub.secret, timestamp, body),
        TIMESTAMP_HEADER: str(timestamp),
        DELIVERY_HEADER: delivery.uid,
        EVENT_HEADER: delivery.event,
    }
    timeout = float(_setting("WEBHOOK_TIMEOUT_SECONDS", 5))
    try:
        code, error = transport()(sub.url, body, headers, timeout)
    except Exception as exc:
        code, error = None, f"{type(exc).__name__}: {exc}"[:300]
    delivery.attempts += 1
    delivery.last_status_code = code
    if code is not None and 200 <= code < 300:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.last_error = ""
    else:
        delivery.last_error = (error or f"HTTP {code}")[:300]
        if delivery.attempts >= max_attempts():
            delivery.status = WebhookDelivery.Status.FAILED
        else:
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "status",
            "delivered_at",
            "last_error",
            "next_attempt_at",
        ]
    )
    return delivery


@dataclass(frozen=True)
class DeliveryRun:
    attempted: int
    delivered: int
    failed: int


def deliver_due(*, now: dt.datetime | None = None, limit: int = 200) -> DeliveryRun:
    """Attempt every delivery that is due (each row locked so two workers never send twice)."""
    now = now or timezone.now()
    attempted = delivered = failed = 0
    while attempted < limit:
        with transaction.atomic():
            delivery = (
                WebhookDelivery.objects.select_for_update(skip_locked=True)
                .select_related("subscription")
                .filter(
                    status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
                    next_attempt_at__lte=now,
                    subscription__active=True,  # a switched-off system gets nothing more
                )
                .order_by("next_attempt_at", "pk")
                .first()
            )
            if delivery is None:
                break
            attempt(delivery, now=now)
        attempted += 1
        delivered += delivery.status == WebhookDelivery.Status.DELIVERED
        failed += delivery.status == WebhookDelivery.Status.FAILED
    return DeliveryRun(attempted, delivered, failed)


def resend(delivery: WebhookDelivery, *, by=None, request=None) -> WebhookDelivery:
    """A new pending copy of ``delivery`` (same body, new id), sent at the next run."""
    with transaction.atomic():
        copy = WebhookDelivery.objects.create(
            subscription=delivery.subscription,
            uid=str(uuid.uuid4()),
            event=delivery.event,
            case=delivery.case,
            body=delivery.body,
            next_attempt_at=timezone.now(),
            resent_from=delivery,
        )
        audit.record(
            "webhook.resent",
            actor=by,
            target=copy,
            data={"from": delivery.uid, "to": copy.uid, "event": delivery.event},
            request=request,
        )
    return copy
