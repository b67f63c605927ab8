"""Department systems (部门业务系统) connected to the platform.

A department system is a staff account of its own (``sys-<department code>``, no password
login) holding the reviewer and approver roles scoped to **its department only**, so its API
token can read and act on that department's cases and nothing else — the same data-scope rules
as for people (cases/selectors.py, cases/lifecycle.py ``actors_of``). Its API calls take review
steps and post decisions through ``POST /api/v1/cases/{number}/actions/{action}`` with an
``Idempotency-Key``; its webhook subscription receives the department's case events
(notify/webhooks.py).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from tongban.accounts.models import ApiToken
from tongban.accounts.selectors import token_digest
from tongban.core import audit
from tongban.org.models import Department, StaffAssignment
from tongban.org.roles import Role

from .models import WebhookSubscription
from .webhooks import new_secret

SYSTEM_ROLES = (Role.REVIEWER, Role.APPROVER)
TOKEN_DAYS = 365


@dataclass(frozen=True)
class Connected:
    user: object
    token: str  # shown once
    subscription: WebhookSubscription | None


def system_username(department: Department) -> str:
    return f"sys-{department.code}".lower()[:150]


def connect(
    department: Department,
    *,
    name: str,
    url: str = "",
    events: list[str] | None = None,
    by=None,
) -> Connected:
    """Create the department's system account, or bring it up to date when it exists: its name,
    its two roles in this department (switched back on if they were switched off) and a new token
    valid a year. Connecting again **rotates** the token: the account's earlier tokens are revoked
    in the same transaction, so a leaked or lost token is cut off by reconnecting. With ``url``
    the department's case events are sent there; the subscription to that address is reused
    (its name and events updated, switched back on, its signing secret kept so the receiving
    system need not change), never duplicated."""
    User = get_user_model()
    now = timezone.now()
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=system_username(department),
            defaults={"kind": "staff", "display_name": name[:100]},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        elif user.display_name != name[:100]:
            user.display_name = name[:100]
            user.save(update_fields=["display_name"])
        for role in SYSTEM_ROLES:
            StaffAssignment.objects.update_or_create(
                user=user, role=role.value, department=department, defaults={"active": True}
            )
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        token = secrets.token_urlsafe(32)
        ApiToken.objects.create(
            user=user,
            digest=token_digest(token),
            label=f"department system {department.code}"[:100],
            expires_at=now + dt.timedelta(days=TOKEN_DAYS),
        )
        subscription = None
        if url:
            subscription = (
                WebhookSubscription.objects.select_for_update()
                .filter(department=department, url=url)
                .order_by("pk")
                .first()
            )
            if subscription is None:
                subscription = WebhookSubscription.objects.create(
                    department=department,
                    name=name[:100],
                    url=url,
                    secret=new_secret(),
                    events=list(events or []),
                )
            else:
                subscription.name = name[:100]
                subscription.events = list(events or [])
                subscription.active = True
                subscription.save(update_fields=["name", "events", "active"])
        audit.record(
            "department_system.connected",
            actor=by,
            target=user,
            data={
                "department": department.code,
                "webhook": bool(subscription),
                "tokens_revoked": revoked,
            },
        )
    return Connected(user, token, subscription)
