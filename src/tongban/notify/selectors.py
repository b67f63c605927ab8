"""Reads of the department systems' connections (部门系统对接): the webhook subscriptions and the
delivery log (:class:`WebhookDelivery`) a staff member may see, for the workbench page
(notify/views.py) and the API (notify/api.py).

| role | sees | re-sends |
|---|---|---|
| catalog administrator (事项管理员, the data bureau) | the departments in their scope | yes |
| supervisor (督查人员) | the departments in their region | no (read only) |
| superuser | everything | yes |
| everyone else | nothing (the page and the API answer 403) | no |

"The departments in a scope" are those whose region lies in a region scope's subtree, and the
department of a department scope (org/scopes.py ``DataScope.departments``); a subscription
belongs to its department, a delivery to its subscription's.

Lists are newest first and never read a delivery's body (the page and the API show only what
identifies it: event, case number, status, attempts).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from tongban.cases import lifecycle
from tongban.cases.models import Status as CaseStatus
from tongban.core.errors import Forbidden, NotFound
from tongban.org.roles import Role
from tongban.org.scopes import DataScope, scope_for

from .models import WebhookDelivery, WebhookSubscription

VIEW_ROLES = (Role.CATALOG_ADMIN, Role.SUPERVISOR)
RESEND_ROLES = (Role.CATALOG_ADMIN,)
UID_MAX = 36  # WebhookDelivery.uid max_length
EVENT_PREFIX = "case."


def _merge(scopes: list[DataScope]) -> DataScope:
    return DataScope(
        everything=any(s.everything for s in scopes),
        region_paths=tuple(sorted({p for s in scopes for p in s.region_paths})),
        center_ids=frozenset().union(*(s.center_ids for s in scopes)),
        department_ids=frozenset().union(*(s.department_ids for s in scopes)),
    )


@dataclass(frozen=True)
class Access:
    """What one user may do here: the scope they read (``view``) and the one they re-send in."""

    view: DataScope
    resend: DataScope

    @property
    def can_view(self) -> bool:
        return not self.view.empty

    @property
    def can_resend(self) -> bool:
        return not self.resend.empty


def access_for(user) -> Access:
    """The user's access, from the data scopes of their catalog-administrator and supervisor
    posts (org/scopes.py); a superuser's scope is everything."""
    resend = scope_for(user, Role.CATALOG_ADMIN)
    if resend.everything:
        return Access(resend, resend)
    return Access(_merge([resend, scope_for(user, Role.SUPERVISOR)]), resend)


def _department_q(scope: DataScope, prefix: str = "") -> Q:
    """The rows whose department (``<prefix>department``) the scope covers."""
    if scope.everything:
        return Q()
    if scope.empty:
        return Q(pk__in=[])
    return Q(**{f"{prefix}department__in": scope.departments().values("pk")})


def subscriptions(access: Access) -> QuerySet[WebhookSubscription]:
    """The subscriptions in the user's view, by department and name."""
    return (
        WebhookSubscription.objects.filter(_department_q(access.view))
        .select_related("department")
        .defer("secret")
        .order_by("department__code", "name", "pk")
    )


@dataclass(frozen=True)
class DeliveryFilter:
    department: str = ""  # department code
    status: str = ""  # WebhookDelivery.Status
    event: str = ""  # "case.accept" (or just "accept")
    case: str = ""  # case number

    @property
    def active(self) -> bool:
        return any((self.department, self.status, self.event, self.case))


def event_name(value: str) -> str:
    value = (value or "").strip()
    return value if not value or value.startswith(EVENT_PREFIX) else EVENT_PREFIX + value


def deliveries(access: Access, filters: DeliveryFilter | None = None) -> QuerySet[WebhookDelivery]:
    """The delivery log in the user's view, filtered, newest first. Each row carries its
    department (through the subscription), ``case_number`` and ``resent_from_uid`` from the
    same query; the body is not read."""
    qs = (
        WebhookDelivery.objects.filter(_department_q(access.view, "subscription__"))
        .select_related("subscription__department")
        .defer("body", "subscription__secret")
        .annotate(case_number=F("case__number"), resent_from_uid=F("resent_from__uid"))
    )
    f = filters or DeliveryFilter()
    if f.department:
        qs = qs.filter(subscription__department__code=f.department.strip())
    if f.status:
        qs = qs.filter(status=f.status)
    if f.event:
        qs = qs.filter(event=event_name(f.event))
    if f.case:
        qs = qs.filter(case__number=f.case.strip().upper())
    return qs.order_by("-created_at", "-pk")


def delivery_to_resend(access: Access, uid: str) -> WebhookDelivery:
    """The delivery ``uid`` for a re-send: 403 for those who may not re-send
    (supervisors, everyone without a catalog-administrator post), 404 outside the user's view
    (so ids cannot be probed), 403 when it is visible but outside the scope they re-send in."""
    if not access.can_resend:
        if access.can_view:
            raise Forbidden(_("您的岗位对推送记录只有查看权限，不能重新发送。"), code="read_only")
        raise Forbidden(_("只有事项管理员可以重新发送推送。"), code="not_allowed")
    uid = (uid or "").strip()
    delivery = (
        WebhookDelivery.objects.filter(_department_q(access.view, "subscription__"), uid=uid)
        .select_related("subscription__department__region", "case")
        .first()
        if 0 < len(uid) <= UID_MAX
        else None
    )
    if delivery is None:
        raise NotFound(_("未找到该推送记录。"))
    if not access.resend.allows_department(delivery.subscription.department):
        raise Forbidden(_("该推送记录不在您可重新发送的范围内。"), code="out_of_scope")
    return delivery


def event_labels() -> dict[str, Promise]:
    """``case.<action>`` → the step's label, for the events a department system can receive
    (steps from acceptance on: systems hear of a case once it is accepted)."""
    labels: dict[str, Promise] = {}
    before = set(lifecycle.BEFORE_ACCEPTANCE)
    for step in lifecycle.ALL_STEPS:
        if step.target == CaseStatus.ACCEPTED or not before.issuperset(step.sources):
            labels.setdefault(EVENT_PREFIX + step.action, step.label)
    return labels
