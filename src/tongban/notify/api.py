"""The delivery log of the webhooks to department systems over HTTP (部门系统推送记录):
``GET /api/v1/webhook-deliveries`` and ``POST /api/v1/webhook-deliveries/{uid}/resend``.

The same rows and rules as the workbench page /workbench/systems/ (selectors.py): catalog
administrators and supervisors read the deliveries of the departments in their data scope;
only catalog administrators re-send (``webhooks.resend``, audited). Bodies are never returned.
"""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate

from tongban.api.auth import STAFF_OR_APPLICANT
from tongban.api.pagination import Paginated
from tongban.api.schemas import errors
from tongban.core.errors import Forbidden
from tongban.core.idempotency import idempotent

from . import selectors, webhooks
from .models import WebhookDelivery

router = Router(tags=["department systems"])

DeliveryStatus = WebhookDelivery.Status


class DeliveryOut(Schema):
    uid: str = Field(..., description="投递编号, sent as X-Tongban-Delivery")
    created_at: datetime = Field(..., description="when the delivery was queued")
    department: str = Field(..., description="部门编码 of the subscription's department")
    department_name: str
    system: str = Field(..., description="the subscribed system's name (系统名称)")
    event: str = Field(..., description="e.g. case.accept (X-Tongban-Event)")
    case_number: str | None = Field(None, description="办件编号; null if the case is gone")
    status: DeliveryStatus = Field(
        ...,
        description="pending 待发送 · delivered 已送达 · retrying 等待重试 · failed 已放弃",
    )
    status_label: str
    attempts: int = Field(..., description="attempts made so far")
    last_status_code: int | None = Field(
        None, description="HTTP status of the last attempt; null: none yet or no answer"
    )
    last_error: str = Field(..., description="why the last attempt failed (empty if it did not)")
    next_attempt_at: datetime | None = Field(
        None, description="when it is tried next (pending and retrying only)"
    )
    delivered_at: datetime | None = None
    resent_from: str | None = Field(
        None, description="uid of the delivery this one re-sends; null for an original"
    )

    @staticmethod
    def resolve_department(obj: WebhookDelivery) -> str:
        return obj.subscription.department.code

    @staticmethod
    def resolve_department_name(obj: WebhookDelivery) -> str:
        return obj.subscription.department.name

    @staticmethod
    def resolve_system(obj: WebhookDelivery) -> str:
        return obj.subscription.name

    @staticmethod
    def resolve_status_label(obj: WebhookDelivery) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_next_attempt_at(obj: WebhookDelivery) -> datetime | None:
        waiting = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
        return obj.next_attempt_at if obj.status in waiting else None

    @staticmethod
    def resolve_resent_from(obj: WebhookDelivery) -> str | None:
        return obj.resent_from_uid


class DeliveryQuery(Schema):
    department: str | None = Field(None, max_length=30, description="部门编码")
    status: DeliveryStatus | None = Field(None, description="推送状态")
    event: str | None = Field(
        None, max_length=40, description="事件, e.g. case.accept (or just accept)"
    )
    case: str | None = Field(None, max_length=40, description="办件编号 (exact)")

    def filters(self) -> selectors.DeliveryFilter:
        return selectors.DeliveryFilter(
            department=self.department or "",
            status=self.status.value if self.status else "",
            event=self.event or "",
            case=self.case or "",
        )


def _access(request) -> selectors.Access:
    access = selectors.access_for(request.user)
    if not access.can_view:
        raise Forbidden(_("只有事项管理员和督查人员可以查看部门系统推送记录。"), code="not_allowed")
    return access


@router.get(
    "/webhook-deliveries",
    response={200: list[DeliveryOut], **errors(401, 403, 422)},
    auth=STAFF_OR_APPLICANT,
    summary="推送记录 / Webhook delivery log",
)
@paginate(Paginated)
def list_deliveries(request, filters: Query[DeliveryQuery]):
    """部门业务系统的推送记录：本人数据范围内各部门订阅的推送，最新的在前。事项管理员和督查人员
    可查看；不返回推送内容。

    The outbound webhook deliveries to the department systems subscribed by departments in
    the caller's data scope (catalog administrators; supervisors, read only), newest first.
    Filters combine: ``department`` (code), ``status``, ``event``, ``case`` (number). Bodies
    are not returned. Others get 403."""
    return selectors.deliveries(_access(request), filters.filters())


@router.post(
    "/webhook-deliveries/{uid}/resend",
    response={201: DeliveryOut, **errors(401, 403, 404, 409, 422)},
    auth=STAFF_OR_APPLICANT,
    summary="重新发送 / Re-send a delivery",
)
@decorate_view(idempotent)
def resend_delivery(request, uid: str):
    """重新发送一条推送：以新的投递编号复制原推送（内容相同），在下一轮推送时发送，并记入审计
    日志。仅事项管理员可操作。

    Queue a copy of the delivery (same body, new ``uid``, ``resent_from`` set), sent at the
    next delivery run; audited (``webhook.resent``). Catalog administrators only: 403 for a
    supervisor or anyone else, 404 for a delivery outside the caller's data scope. Accepts
    ``Idempotency-Key``: a retried call queues one copy, not two."""
    access = selectors.access_for(request.user)
    delivery = selectors.delivery_to_resend(access, uid)
    copy = webhooks.resend(delivery, by=request.user, request=request)
    return Status(201, selectors.deliveries(access).get(pk=copy.pk))
