"""The back office's worklists over HTTP, for reviewers, approvers and connected department
systems (``/api/v1/worklist``), and the overdue list for every staff case role
(``/api/v1/worklist/overdue``): open cases, earliest deadline first, keyset-paginated so a
page costs the same at 10,000,000 cases as at 1,000 (``api/keyset.py``; the partial indexes
``case_department_open_due``, ``case_assignee_open_due`` and ``case_open_due``)."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from tongban.api import keyset
from tongban.api.auth import STAFF_OR_APPLICANT
from tongban.api.schemas import errors
from tongban.core.errors import Forbidden
from tongban.org.roles import Role

from . import lifecycle, selectors, services, worklist
from .models import Case, Colour, Status
from .schemas import CaseRowOut

router = Router(tags=["cases"])
DEPARTMENT_ROLES = (Role.REVIEWER, Role.APPROVER)


class View(StrEnum):
    OPEN = "open"
    MINE = "mine"
    UNCLAIMED = "unclaimed"
    APPROVAL = "approval"


class WorklistFilter(keyset.KeysetInput):
    view: View = Field(
        View.OPEN,
        description="open 在办（本部门）· mine 我的在办 · unclaimed 待认领 · approval 待审批",
    )
    item: str | None = Field(None, max_length=40, description="事项编码")
    center: str | None = Field(None, max_length=30, description="受理中心编码")


class OverdueFilter(keyset.KeysetInput):
    item: str | None = Field(None, max_length=40, description="事项编码")
    center: str | None = Field(None, max_length=30, description="受理中心编码")


class WorklistPage(Schema):
    items: list[CaseRowOut]
    next_cursor: str | None


def _rows(qs, filters):
    if filters.item:
        qs = qs.filter(item__code=filters.item.strip())
    if filters.center:
        qs = qs.filter(center__code=filters.center.strip())
    return qs.select_related("applicant", "center", "department", "item", "assignee")


@router.get(
    "/worklist",
    response={200: WorklistPage, **errors(401, 403, 422)},
    auth=STAFF_OR_APPLICANT,
    summary="部门办件清单 / Department worklist",
)
def department_worklist(request, filters: Query[WorklistFilter]):
    """审核、审批人员和部门业务系统的办件清单：本部门已受理未办结的办件，按办结期限从早到晚。
    游标翻页（next_cursor），不计总数。

    The department's open cases (accepted, clock running or stopped), earliest deadline
    first: ``open`` all of them, ``mine`` assigned to the caller, ``unclaimed`` nobody
    assigned, ``approval`` waiting for an approver (approvers only). Keyset pages: pass
    ``next_cursor`` as ``cursor``; no total is counted. Names and mobiles masked."""
    user = request.user
    roles = tuple(r for r in worklist.staff_roles(user) if r in DEPARTMENT_ROLES)
    if not roles:
        raise Forbidden(_("只有审批部门的审核、审批人员可以查看部门办件清单。"), code="not_allowed")
    if filters.view == View.APPROVAL and Role.APPROVER not in roles and not user.is_superuser:
        raise Forbidden(_("只有审批人员可以查看待审批清单。"), code="not_allowed")
    qs = Case.objects.filter(selectors.open_scope_q(user, roles))
    if filters.view == View.MINE:
        qs = qs.filter(assignee=user)
    elif filters.view == View.UNCLAIMED:
        qs = qs.filter(assignee__isnull=True, status__in=lifecycle.UNDER_REVIEW)
    elif filters.view == View.APPROVAL:
        qs = qs.filter(status=Status.APPROVAL)
    return keyset.page(_rows(qs, filters), "due_date", filters)


@router.get(
    "/worklist/overdue",
    response={200: WorklistPage, **errors(401, 403, 422)},
    auth=STAFF_OR_APPLICANT,
    summary="超期办件清单 / Overdue cases",
)
def overdue(request, filters: Query[OverdueFilter]):
    """本人数据范围内已超期（红灯）的在办办件，超期最久的在前。游标翻页，不计总数。

    Open cases in the caller's scope whose deadline has passed (red light; a case whose
    clock is stopped for 补正 or 特别程序 is not overdue), most overdue first; for window
    clerks, reviewers, approvers, center administrators and supervisors. Keyset pages."""
    user = request.user
    roles = tuple(worklist.staff_roles(user))
    if not roles:
        raise Forbidden(_("只有工作人员可以查看超期办件。"), code="not_allowed")
    qs = Case.objects.filter(
        selectors.open_scope_q(user, roles),
        worklist.colour_q(Colour.RED, services.today()),
    )
    return keyset.page(_rows(qs, filters), "due_date", filters)
