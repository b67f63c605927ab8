"""Staff worklists (工作台办件清单): which cases each tab of the case workbench lists, the clock
light as a database filter, and the counts the workbench and the role homes show. Reads only;
every list starts from :func:`tongban.cases.selectors.visible_to` for the tab's roles.

| tab | for | cases |
|---|---|---|
| waiting 待受理 | window clerk | pre-review and received (online first), notified, window drafts |
| supplement 补正中 | window clerk | clock stopped for 补正: supplements come in at the window |
| tolerated 容缺待补 | clerk, reviewer, approver | accepted on trust, 容缺 material still to come |
| pickup 待发放 | window clerk | results issued for pick-up at the center |
| mine 我的在办 | reviewer, approver | open cases assigned to me |
| unclaimed 待认领 | reviewer, approver | under review, nobody assigned |
| approval 待审批 | approver | submitted for approval |
| open 在办 | every case role | received and not finished |
| all 全部 | every case role | everything in scope |

The light (红黄绿灯) is computed from the due date and *today* in SQL, with the same rule as
``clock.colour``: red after the deadline; yellow when at most ``clock.yellow_days()`` working days
are left, i.e. the deadline falls before the (n+1)-th working day after today; green otherwise;
paused while 补正 or 特别程序 stop the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tongban.org.roles import Role
from tongban.org.scopes import roles_of

from . import clock, lifecycle, selectors
from .models import Case, Channel, Colour, DeliveryMode, Status

S = Status
CLERK = frozenset({Role.WINDOW_CLERK})
DEPARTMENT = frozenset({Role.REVIEWER, Role.APPROVER})
READERS = frozenset({Role.CENTER_ADMIN, Role.SUPERVISOR})
STAFF_CASE_ROLES: tuple[Role, ...] = (
    Role.WINDOW_CLERK,
    Role.REVIEWER,
    Role.APPROVER,
    Role.CENTER_ADMIN,
    Role.SUPERVISOR,
)
EVERY = frozenset(STAFF_CASE_ROLES)

WAITING = (S.PRE_REVIEW, S.RECEIVED, S.NOTIFIED)
OPEN = (S.PRE_REVIEW, S.RECEIVED, S.NOTIFIED, *lifecycle.UNDER_REVIEW, *lifecycle.APPROVED)
MINE = (*lifecycle.UNDER_REVIEW, *lifecycle.APPROVED, S.ISSUED, S.DENIED)
COLOURS = (Colour.RED, Colour.YELLOW, Colour.GREEN, Colour.PAUSED)


def staff_roles(user) -> list[Role]:
    """The user's roles that work with cases in the staff workbench (superuser: all)."""
    if user is None or not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(STAFF_CASE_ROLES)
    return [r for r in roles_of(user) if r in STAFF_CASE_ROLES]


def colour_q(colour: str, today: dt.date) -> Q:
    """Cases whose light is ``colour`` on ``today`` (see the module docstring)."""
    running = Q(status__in=clock.RUNNING, due_date__isnull=False)
    if colour == Colour.PAUSED:
        return Q(status__in=clock.PAUSED)
    if colour == Colour.RED:
        return running & Q(due_date__lt=today)
    threshold = clock.yellow_threshold(today)
    if colour == Colour.YELLOW:
        return running & Q(due_date__gte=today, due_date__lt=threshold)
    if colour == Colour.GREEN:
        return running & Q(due_date__gte=threshold)
    return ~Q(status__in=clock.RUNNING + clock.PAUSED) | Q(
        status__in=clock.RUNNING, due_date__isnull=True
    )


def colour_counts(qs: QuerySet[Case], today: dt.date) -> dict[str, int]:
    """How many cases of ``qs`` show each light today (one query)."""
    counted = qs.order_by().aggregate(
        **{str(c): Count("pk", filter=colour_q(c, today)) for c in COLOURS}
    )
    return {str(c): counted[str(c)] or 0 for c in COLOURS}


@dataclass(frozen=True)
class Tab:
    key: str
    label: Promise
    roles: frozenset[Role]
    empty: Promise  # what to do when the tab is empty
    select: Callable[[object, tuple[Role, ...]], QuerySet[Case]]
    waiting_work: bool = True  # its count is work waiting for the user (shown as due)


def _scoped(user, roles, tab_roles) -> QuerySet[Case]:
    wanted = tuple(r for r in roles if r in tab_roles)
    return selectors.visible_to(user, wanted) if wanted else Case.objects.none()


def _waiting(user, roles):
    return _scoped(user, roles, CLERK).filter(
        Q(status__in=WAITING) | Q(status=S.DRAFT, channel__in=(Channel.WINDOW, Channel.MAIL))
    )


def _supplement(user, roles):
    return _scoped(user, roles, CLERK).filter(status=S.SUPPLEMENT)


def _tolerated(user, roles):
    return (
        _scoped(user, roles, CLERK | DEPARTMENT)
        .filter(tolerated_pending=True)
        .exclude(status__in=lifecycle.TERMINAL)
    )


def _pickup(user, roles):
    return _scoped(user, roles, CLERK).filter(status=S.ISSUED, delivery_mode=DeliveryMode.PICKUP)


def _mine(user, roles):
    # an issued result picked up at the window is the clerk's to hand out, not the reviewer's
    return (
        _scoped(user, roles, DEPARTMENT)
        .filter(assignee=user, status__in=MINE)
        .exclude(status=S.ISSUED, delivery_mode=DeliveryMode.PICKUP)
    )


def _unclaimed(user, roles):
    return _scoped(user, roles, DEPARTMENT).filter(
        assignee__isnull=True, status__in=lifecycle.UNDER_REVIEW
    )


def _approval(user, roles):
    return _scoped(user, roles, frozenset({Role.APPROVER})).filter(status=S.APPROVAL)


def _open(user, roles):
    return _scoped(user, roles, EVERY).filter(status__in=OPEN)


def _all(user, roles):
    return _scoped(user, roles, EVERY)


TABS: tuple[Tab, ...] = (
    Tab(
        "waiting",
        _("待受理"),
        CLERK,
        _("没有等待预审或受理的申请。窗口来人办事时，请点击“窗口收件”查找或登记申请人。"),
        _waiting,
    ),
    Tab(
        "supplement",
        _("补正中"),
        CLERK,
        _("没有处于补正中的办件。申请人到窗口补交材料时，可在办件详情中扫描上传后登记补正。"),
        _supplement,
    ),
    Tab(
        "tolerated",
        _("容缺待补"),
        CLERK | DEPARTMENT,
        _("没有待补齐容缺材料的办件。"),
        _tolerated,
    ),
    Tab(
        "pickup",
        _("待发放"),
        CLERK,
        _("没有待领取的办理结果。审批部门出证后，选择窗口领取的结果会出现在这里。"),
        _pickup,
    ),
    Tab(
        "mine",
        _("我的在办"),
        DEPARTMENT,
        _("您名下没有在办的办件。可到“待认领”认领新受理的办件。"),
        _mine,
    ),
    Tab(
        "unclaimed",
        _("待认领"),
        DEPARTMENT,
        _("没有待认领的办件。综合窗口受理后的办件会出现在这里。"),
        _unclaimed,
    ),
    Tab(
        "approval",
        _("待审批"),
        frozenset({Role.APPROVER}),
        _("没有等待审批的办件。审核人员提交审批后会出现在这里。"),
        _approval,
    ),
    Tab(
        "open",
        _("在办"),
        EVERY,
        _("您的范围内没有在办的办件。"),
        _open,
        waiting_work=False,
    ),
    Tab(
        "all",
        _("全部"),
        EVERY,
        _("您的范围内还没有办件。"),
        _all,
        waiting_work=False,
    ),
)
TAB_BY_KEY = {t.key: t for t in TABS}

# The tab a role opens on.
DEFAULT_TAB = {
    Role.WINDOW_CLERK: "waiting",
    Role.APPROVER: "approval",
    Role.REVIEWER: "mine",
    Role.CENTER_ADMIN: "open",
    Role.SUPERVISOR: "open",
}


def tabs_for(roles: list[Role]) -> list[Tab]:
    held = set(roles)
    return [t for t in TABS if held & t.roles]


def default_tab(roles: list[Role]) -> Tab:
    for role in roles:
        if role in DEFAULT_TAB:
            return TAB_BY_KEY[DEFAULT_TAB[role]]
    return TAB_BY_KEY["all"]


def tab_cases(tab: Tab, user, roles: list[Role]) -> QuerySet[Case]:
    return tab.select(user, tuple(roles))


def tab_counts(user, roles: list[Role]) -> dict[str, int]:
    """The number of cases on each of the user's tabs (one query per tab)."""
    return {t.key: tab_cases(t, user, roles).count() for t in tabs_for(roles)}


@dataclass(frozen=True)
class HomeCard:
    key: str
    label: str
    count: int
    url_query: str
    due: bool  # highlighted: work waiting, or lights at risk


def home_cards(user, role: Role, today: dt.date) -> list[HomeCard]:
    """What a role's home shows about cases: its tabs with counts, then the yellow and red
    lights among the cases open in its scope (links into the workbench)."""
    if role not in STAFF_CASE_ROLES:
        return []
    roles = [role]
    cards = [
        HomeCard(t.key, str(t.label), n, f"tab={t.key}", t.waiting_work and n > 0)
        for t in tabs_for(roles)
        if t.key != "all"
        for n in [tab_cases(t, user, roles).count()]
    ]
    lights = colour_counts(tab_cases(TAB_BY_KEY["open"], user, roles), today)
    for colour, label in ((Colour.YELLOW, _("临近到期")), (Colour.RED, _("已超期"))):
        count = lights[str(colour)]
        cards.append(
            HomeCard(str(colour), str(label), count, f"tab=open&colour={colour}", count > 0)
        )
    return cards
