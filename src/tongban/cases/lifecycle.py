"""The life of a case (办件): the transition table that services, the API, the workbenches, the
tests and docs/architecture.md all read.

Each :class:`Transition` says from which status an action leads where, who may take it
(:class:`Actor`), what it needs (``needs``, checked in services.py) and which provincial status
code it reports (GLOSSARY: 1 已接件 … 15 撤销). In-place actions that change no status (claim,
extension, materials) are in ``ACTIONS``. Anything not in the tables is refused with 409
(:class:`~tongban.core.errors.Conflict`); a caller who is not one of the actors gets 403.

    draft ─submit─▶ pre_review ─pass_pre_review─▶ received ─accept─▶ accepted ─start_review─▶
      └────receive (window, mail, agency)───────▶    │                               in_review
    pre_review / received ─notify─▶ notified ─resubmit / receive─▶ pre_review / received
    pre_review / received / notified ─refuse─▶ refused
    in_review ⇄ supplement (request_supplement / supplement)  — the clock stops
    in_review ⇄ special (start_special / end_special)          — the clock stops
    in_review ─submit_for_approval─▶ approval ─return_for_review─▶ in_review
    in_review (one level) / approval ─approve / approve_tolerated / deny─▶ approved / … / denied
    approved* ─issue_result─▶ issued ─hand_out─▶ delivered ─close─▶ closed;  denied ─close─▶ closed
    any open status ─withdraw─▶ withdrawn;   issued / delivered / closed ─revoke─▶ revoked
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tongban.org.roles import Role
from tongban.org.scopes import active_assignments

from .models import Case, Status

S = Status


class Actor(StrEnum):
    """Who may take a step, relative to the case."""

    APPLICANT = "applicant"  # the applicant's own account, or the agent who filed the case
    CLERK = "clerk"  # a window clerk of the case's center
    REVIEWER = "reviewer"  # a reviewer of the case's approving department
    APPROVER = "approver"  # an approver of the case's approving department

    @property
    def label(self) -> Promise:
        return ACTOR_LABELS[self]


ACTOR_LABELS = {
    Actor.APPLICANT: _("申请人（或其代办员）"),
    Actor.CLERK: _("受理中心综合窗口人员"),
    Actor.REVIEWER: _("审批部门审核人员"),
    Actor.APPROVER: _("审批部门审批人员"),
}

A, C, R, P = Actor.APPLICANT, Actor.CLERK, Actor.REVIEWER, Actor.APPROVER


class Need(StrEnum):
    """Conditions a transition checks beyond status and actor (see services.py)."""

    SELF_FILED = "self_filed"  # filed by the applicant or an agent (web, mobile, kiosk, agency)
    WINDOW_FILED = "window_filed"  # registered by a clerk (window, mail)
    DEPTH_III = "depth_iii"  # the item is handled online at depth Ⅲ or Ⅳ
    CENTER_MAY_ACCEPT = "center_may_accept"  # the item's acceptance scope covers the center
    REQUIRED_MATERIALS = "required_materials"  # every 必要 material is provided
    LIST = "list"  # a non-empty list of what is missing or wrong
    REASON = "reason"  # a written reason
    NEW_MATERIAL = "new_material"  # material added since the supplement request
    ONE_LEVEL = "one_level"  # the item has no separate approval step
    TWO_LEVELS = "two_levels"  # the item has an approval step (审批)
    NOTHING_TO_FOLLOW = "nothing_to_follow"  # no 容缺 material outstanding
    SOMETHING_TO_FOLLOW = "something_to_follow"  # some 容缺 material outstanding
    PICKUP_BY_CLERK = "pickup_by_clerk"  # window pick-up is handed out by a clerk
    SECOND_PERSON = "second_person"  # the approver is not who submitted it for approval
    ONCE = "once"  # an extension is granted once
    DAYS = "days"  # a number of working days within the legal maximum

    @property
    def label(self) -> Promise:
        return NEED_LABELS[self]


NEED_LABELS = {
    Need.SELF_FILED: _("由申请人或代办员在网上、移动端、自助终端提交"),
    Need.WINDOW_FILED: _("由窗口登记（窗口或邮寄申请）"),
    Need.DEPTH_III: _("事项网办深度达到Ⅲ级及以上"),
    Need.CENTER_MAY_ACCEPT: _("本中心在事项受理范围内"),
    Need.REQUIRED_MATERIALS: _("必要材料齐全"),
    Need.LIST: _("列明需补齐或更正的全部内容"),
    Need.REASON: _("书面理由"),
    Need.NEW_MATERIAL: _("已提交补正材料"),
    Need.ONE_LEVEL: _("事项无单独审批环节"),
    Need.TWO_LEVELS: _("事项设有审批环节"),
    Need.NOTHING_TO_FOLLOW: _("无待补容缺材料"),
    Need.SOMETHING_TO_FOLLOW: _("有待补容缺材料"),
    Need.PICKUP_BY_CLERK: _("窗口领取须由综合窗口发放"),
    Need.SECOND_PERSON: _("审批人不得是提交审批的审核人（审核与审批分离）"),
    Need.ONCE: _("只能延长一次"),
    Need.DAYS: _("延长天数不超过法定上限"),
}


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str | None  # None: the status does not change (ACTIONS)
    actors: frozenset[Actor]
    label: Promise
    needs: tuple[Need, ...] = ()
    code: int | None = None  # provincial status code reported with the event
    stops_clock: bool = False
    restarts_clock: bool = False


def T(action, sources, target, actors, label, needs=(), code=None, **kw) -> Transition:
    if isinstance(sources, str):
        sources = (sources,)
    return Transition(action, tuple(sources), target, frozenset(actors), label, needs, code, **kw)


BEFORE_ACCEPTANCE = (S.DRAFT, S.PRE_REVIEW, S.RECEIVED, S.NOTIFIED)
CLOCK_RUNNING = (S.ACCEPTED, S.IN_REVIEW, S.APPROVAL)
CLOCK_STOPPED = (S.SUPPLEMENT, S.SPECIAL)
UNDER_REVIEW = CLOCK_RUNNING + CLOCK_STOPPED
DECIDING = (S.IN_REVIEW, S.APPROVAL)
APPROVED = (S.APPROVED, S.APPROVED_TOLERATED)
TERMINAL = (S.REFUSED, S.CLOSED, S.WITHDRAWN, S.REVOKED)
FINISHED = (S.APPROVED, S.APPROVED_TOLERATED, S.DENIED, S.ISSUED, S.DELIVERED, S.CLOSED)

TRANSITIONS: tuple[Transition, ...] = (
    T(
        "submit",
        S.DRAFT,
        S.PRE_REVIEW,
        {A},
        _("提交申请"),
        (Need.SELF_FILED, Need.REQUIRED_MATERIALS),
        1,
    ),
    T("receive", S.DRAFT, S.RECEIVED, {C}, _("窗口接件"), (Need.WINDOW_FILED,), 1),
    T("receive", S.NOTIFIED, S.RECEIVED, {C}, _("窗口接收补齐材料"), (), 1),
    T(
        "resubmit",
        S.NOTIFIED,
        S.PRE_REVIEW,
        {A},
        _("补齐后重新提交"),
        (Need.SELF_FILED, Need.REQUIRED_MATERIALS),
        1,
    ),
    T("pass_pre_review", S.PRE_REVIEW, S.RECEIVED, {C}, _("预审通过"), (), None),
    T(
        "accept",
        S.RECEIVED,
        S.ACCEPTED,
        {C},
        pgettext_lazy("case action", "受理"),
        (Need.CENTER_MAY_ACCEPT, Need.REQUIRED_MATERIALS),
        3,
    ),
    T(
        "accept",
        S.PRE_REVIEW,
        S.ACCEPTED,
        {C},
        pgettext_lazy("case action", "受理"),
        (Need.DEPTH_III, Need.CENTER_MAY_ACCEPT, Need.REQUIRED_MATERIALS),
        3,
    ),
    T("notify", (S.PRE_REVIEW, S.RECEIVED), S.NOTIFIED, {C}, _("一次性告知"), (Need.LIST,), None),
    T(
        "refuse",
        (S.PRE_REVIEW, S.RECEIVED, S.NOTIFIED),
        S.REFUSED,
        {C},
        pgettext_lazy("case action", "不予受理"),
        (Need.REASON,),
        5,
    ),
    T("start_review", S.ACCEPTED, S.IN_REVIEW, {R, P}, _("部门开始办理"), (), 8),
    T(
        "request_supplement",
        S.IN_REVIEW,
        S.SUPPLEMENT,
        {R},
        _("要求补正"),
        (Need.LIST,),
        6,
        stops_clock=True,
    ),
    T(
        "supplement",
        S.SUPPLEMENT,
        S.IN_REVIEW,
        {A, C},
        _("补正材料"),
        (Need.NEW_MATERIAL,),
        7,
        restarts_clock=True,
    ),
    T(
        "start_special",
        S.IN_REVIEW,
        S.SPECIAL,
        {R},
        _("启动特别程序"),
        (Need.REASON,),
        9,
        stops_clock=True,
    ),
    T("end_special", S.SPECIAL, S.IN_REVIEW, {R}, _("特别程序结束"), (), 10, restarts_clock=True),
    T(
        "submit_for_approval",
        S.IN_REVIEW,
        S.APPROVAL,
        {R},
        _("提交审批"),
        (Need.TWO_LEVELS,),
    ),
    T("return_for_review", S.APPROVAL, S.IN_REVIEW, {P}, _("退回审核"), (Need.REASON,)),
    T(
        "approve",
        S.IN_REVIEW,
        S.APPROVED,
        {R},
        _("准予许可"),
        (Need.ONE_LEVEL, Need.NOTHING_TO_FOLLOW),
        11,
    ),
    T(
        "approve",
        S.APPROVAL,
        S.APPROVED,
        {P},
        _("准予许可"),
        (Need.SECOND_PERSON, Need.NOTHING_TO_FOLLOW),
        11,
    ),
    T(
        "approve_tolerated",
        S.IN_REVIEW,
        S.APPROVED_TOLERATED,
        {R},
        _("容缺准予"),
        (Need.ONE_LEVEL, Need.SOMETHING_TO_FOLLOW),
        12,
    ),
    T(
        "approve_tolerated",
        S.APPROVAL,
        S.APPROVED_TOLERATED,
        {P},
        _("容缺准予"),
        (Need.SECOND_PERSON, Need.SOMETHING_TO_FOLLOW),
        12,
    ),
    T("deny", S.IN_REVIEW, S.DENIED, {R}, _("不予许可"), (Need.ONE_LEVEL, Need.REASON), 13),
    T("deny", S.APPROVAL, S.DENIED, {P}, _("不予许可"), (Need.SECOND_PERSON, Need.REASON), 13),
    T("issue_result", APPROVED, S.ISSUED, {R, P}, _("制证出件")),
    T("hand_out", S.ISSUED, S.DELIVERED, {C, R, P}, _("送达/发放结果"), (Need.PICKUP_BY_CLERK,)),
    T("close", (S.DELIVERED,), S.CLOSED, {C, R, P}, _("办结归档"), (Need.NOTHING_TO_FOLLOW,)),
    T("close", (S.DENIED,), S.CLOSED, {C, R, P}, _("办结归档")),
    T(
        "withdraw",
        BEFORE_ACCEPTANCE + UNDER_REVIEW,
        S.WITHDRAWN,
        {A, C},
        _("撤回申请"),
        (),
        14,  # 2 已撤件 before acceptance (services.py reports the right one)
    ),
    T(
        "revoke",
        (S.ISSUED, S.DELIVERED, S.CLOSED),
        S.REVOKED,
        {P},
        _("撤销许可"),
        (Need.REASON,),
        15,
    ),
)

ACTIONS: tuple[Transition, ...] = (
    T("edit", (S.DRAFT, S.NOTIFIED), None, {A, C}, _("填写申请表")),
    T("add_material", (S.DRAFT, S.NOTIFIED, S.SUPPLEMENT), None, {A}, _("上传材料")),
    T(
        "add_material",
        (S.DRAFT, S.PRE_REVIEW, S.RECEIVED, S.NOTIFIED, S.SUPPLEMENT),
        None,
        {C},
        _("扫描上传材料"),
    ),
    T("assign", UNDER_REVIEW, None, {R, P}, _("认领或分派")),
    T("extend", UNDER_REVIEW, None, {P}, _("延长办理时限"), (Need.ONCE, Need.DAYS, Need.REASON)),
    T(
        "receive_tolerated",
        UNDER_REVIEW + APPROVED + (S.ISSUED, S.DELIVERED),
        None,
        {C, R, P},
        _("容缺材料已补齐"),
        (Need.SOMETHING_TO_FOLLOW,),
    ),
)

# Steps inside the department: their notes are not shown or sent to the applicant.
INTERNAL_ACTIONS = frozenset({"submit_for_approval", "return_for_review", "assign"})

ALL_STEPS = TRANSITIONS + ACTIONS
ACTION_NAMES: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in ALL_STEPS))
STATUS_CODES: dict[str, int] = {
    S.RECEIVED: 1,
    S.PRE_REVIEW: 1,
    S.ACCEPTED: 3,
    S.REFUSED: 5,
    S.SUPPLEMENT: 6,
    S.IN_REVIEW: 8,
    S.SPECIAL: 9,
    S.APPROVED: 11,
    S.APPROVED_TOLERATED: 12,
    S.DENIED: 13,
    S.WITHDRAWN: 14,
    S.REVOKED: 15,
}


def steps_for(action: str, status: str) -> list[Transition]:
    return [t for t in ALL_STEPS if t.action == action and status in t.sources]


def actions_from(status: str) -> list[Transition]:
    return [t for t in ALL_STEPS if status in t.sources]


# --------------------------------------------------------------------------------------------
# Who the caller is, relative to a case


ASSIGNMENTS_MEMO = "_tb_case_assignments"


def _assignments(user) -> list:
    """The user's active assignments, read once per user object (that is, once per request:
    a list of cases asks for each row) rather than once per case."""
    memo = getattr(user, ASSIGNMENTS_MEMO, None)
    if memo is None:
        memo = list(active_assignments(user))
        setattr(user, ASSIGNMENTS_MEMO, memo)
    return memo


def actors_of(user, case: Case) -> frozenset[Actor]:
    """The actor kinds ``user`` holds for ``case`` (by role and data scope)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    found: set[Actor] = set()
    if getattr(user, "kind", "") == "applicant":
        if case.applicant.user_id == user.pk or case.filed_by_id == user.pk:
            found.add(Actor.APPLICANT)
        return frozenset(found)
    for assignment in _assignments(user):
        role = assignment.role
        if role == Role.AGENT and case.filed_by_id == user.pk:
            found.add(Actor.APPLICANT)
        elif role == Role.WINDOW_CLERK and case.center_id is not None:
            if assignment.center_id == case.center_id or (
                assignment.region_id and case.center.region.path.startswith(assignment.region.path)
            ):
                found.add(Actor.CLERK)
        elif role in (Role.REVIEWER, Role.APPROVER):
            dept = case.department
            if assignment.department_id == dept.pk or (
                assignment.region_id and dept.region.path.startswith(assignment.region.path)
            ):
                found.add(Actor.REVIEWER if role == Role.REVIEWER else Actor.APPROVER)
    return frozenset(found)


def applicable(case: Case, action: str) -> list[Transition]:
    """The table rows for ``action`` from the case's status (several rows may differ by need)."""
    return steps_for(action, case.status)


def available_actions(user, case: Case) -> list[Transition]:
    """What ``user`` may try on ``case`` now (status and actor; needs are checked on the try).
    The workbenches show these as buttons."""
    held = actors_of(user, case)
    seen: dict[str, Transition] = {}
    for t in actions_from(case.status):
        if held & t.actors and t.action not in seen:
            seen[t.action] = t
    return list(seen.values())
