"""``POST /api/v1/cases/intake``: window intake in one step (接件并受理), one application or a
batch (the rules and rows are in ``cases/intake.py``)."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja import Status as Reply
from ninja.decorators import decorate_view
from pydantic import field_validator

from tongban.api.auth import STAFF_OR_APPLICANT
from tongban.api.schemas import errors
from tongban.core.errors import Forbidden, InvalidInput
from tongban.core.idempotency import idempotent
from tongban.org.models import ServiceCenter, Window

from . import intake
from .models import Case, Channel
from .schemas import MAX_ID, TEXT, CaseFormIn, no_control_characters

router = Router(tags=["cases"])


class IntakeApplicationIn(Schema):
    item: str = Field(..., min_length=1, max_length=40, description="事项实施编码")
    applicant_identity: str = Field(
        ..., min_length=1, max_length=18, description="身份证号码或统一社会信用代码"
    )
    form: CaseFormIn = Field(..., description="申请表（须有申请内容；联系手机默认取申请人的）")
    paper_checked: list[int] = Field(
        default_factory=list,
        max_length=100,
        description="已核验原件的材料编号（事项材料清单的 id；必要材料须全部核验）",
    )
    note: str = Field("", max_length=TEXT, description="受理说明")

    _plain = field_validator("item", "applicant_identity", "note")(no_control_characters)

    @field_validator("paper_checked")
    @classmethod
    def _ids_in_range(cls, value: list[int]) -> list[int]:
        if any(v < 1 or v > MAX_ID for v in value):
            raise ValueError(_("材料编号无效。"))
        return value


class IntakeIn(Schema):
    """One window application or a batch of them (≤ 200), all received and accepted at once."""

    channel: str = Field(
        Channel.WINDOW.value, pattern="^(window|mail)$", description="window（窗口）或 mail（邮寄）"
    )
    center: str | None = Field(
        None, min_length=1, max_length=30, description="受理中心编码（默认：本人所在中心）"
    )
    window: int | None = Field(None, ge=1, le=MAX_ID, description="受理窗口 id")
    applications: list[IntakeApplicationIn] = Field(..., min_length=1, max_length=intake.MAX_BATCH)

    _plain = field_validator("center")(no_control_characters)


class IntakeCaseOut(Schema):
    number: str
    item: str
    status: str
    status_label: str
    department: str
    department_name: str
    accepted_on: date | None
    due_date: date | None
    due_provisional: bool
    colour: str
    tolerated_pending: bool
    acceptance_notice: str
    url: str


class IntakeOut(Schema):
    count: int
    cases: list[IntakeCaseOut]


def _row(case: Case, notice: str) -> dict:  # the answer of one accepted case
    return {
        "number": case.number,
        "item": case.item.code,
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "department": case.department.code,
        "department_name": case.department.name,
        "accepted_on": case.accepted_on,
        "due_date": case.due_date,
        "due_provisional": case.due_provisional,
        "colour": case.colour,
        "tolerated_pending": case.tolerated_pending,
        "acceptance_notice": notice,
        "url": f"/api/v1/cases/{case.number}",
    }


@router.post(
    "/cases/intake",
    response={201: IntakeOut, **errors(401, 403, 409, 422, 429)},
    auth=STAFF_OR_APPLICANT,
    summary="窗口接件并受理 / Receive and accept at the window",
)
@decorate_view(idempotent)
def intake_cases(request, payload: IntakeIn):
    """窗口人员（或本中心的收件系统）提交一件或一批（≤ 200）已核验原件的窗口、邮寄申请，
    逐件登记、接件并受理：开始计时，出具受理通知书，通知申请人和订阅的部门系统。全部通过才写入；
    任何一件有问题，返回 422 并逐件列出（``applications[i].字段``），什么也不写。

    Receive and accept window or mailed applications whose paper originals were checked, as
    one step and all or nothing: every 必要 material must be in ``paper_checked``; the center
    (default: the clerk's own) must accept the item today (otherwise 422 naming the
    application); applicants are named by resident ID number or credit code, each counted
    against the look-up limit (429). Accepts ``Idempotency-Key``: a retried request replays
    the first answer and creates nothing."""
    center = None
    if payload.center:
        center = ServiceCenter.objects.filter(code=payload.center.strip(), active=True).first()
        if center is None:
            message = _("未找到服务中心：%(code)s。") % {"code": payload.center}
            raise InvalidInput(message, details=[{"field": "center", "message": message}])
    window = None
    if payload.window is not None:
        window = Window.objects.filter(pk=payload.window).first()
        if window is None:
            message = _("未找到该窗口。")
            raise InvalidInput(message, details=[{"field": "window", "message": message}])
    if getattr(request.user, "kind", "") == "applicant":
        raise Forbidden(_("只有综合窗口人员可以登记窗口申请。"), code="not_allowed")
    applications = [
        intake.Application(
            item=a.item,
            applicant_identity=a.applicant_identity,
            form=a.form.dict(exclude_unset=True),
            paper=list(a.paper_checked),
            note=a.note,
        )
        for a in payload.applications
    ]
    for a in applications:
        if a.form.get("delivery_mode") is not None:
            a.form["delivery_mode"] = str(a.form["delivery_mode"])
    result = intake.intake(
        applications,
        by=request.user,
        center=center,
        channel=payload.channel,
        window=window,
        request=request,
    )
    return Reply(
        201,
        {"count": len(result), "cases": [_row(c.case, c.notice) for c in result]},
    )
