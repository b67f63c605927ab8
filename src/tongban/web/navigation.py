"""Role-aware navigation: each role sees the entries for its tasks (UI.md: left navigation by
task). An entry is shown when the user holds any of its roles; public entries always show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tongban.org.roles import Role


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: Promise
    url_name: str
    roles: frozenset[Role] | None  # None: everyone, signed in or not
    staff_only: bool = False
    counter: Callable[[object], int] | None = None  # shown after the label when > 0
    count_label: Promise | None = None  # how the label reads with the count; default "label（n）"


def _unread_messages(request) -> int:
    from tongban.notify.services import unread_count

    return unread_count(request.user)


APPLICANT = frozenset({Role.APPLICANT})


STAFF = frozenset(r for r in Role if r.is_staff)
CASE_STAFF = frozenset(
    {Role.WINDOW_CLERK, Role.REVIEWER, Role.APPROVER, Role.CENTER_ADMIN, Role.SUPERVISOR}
)

NAV: tuple[NavEntry, ...] = (
    NavEntry("home", _("首页"), "web:landing", None),
    NavEntry("guides", _("办事指南"), "catalog:browse", None),
    NavEntry("centers", _("服务网点"), "org:center_list", None),
    NavEntry("workbench", _("我的工作台"), "web:workbench", frozenset(Role)),
    NavEntry("my_cases", _("我的办件"), "cases_applicant:my_cases", APPLICANT),
    NavEntry("licences", _("证照夹"), "cases_applicant:licences", APPLICANT),
    NavEntry(
        "messages",
        _("消息"),
        "cases_applicant:messages",
        APPLICANT,
        counter=_unread_messages,
        count_label=_("%(label)s（%(n)s 条未读）"),
    ),
    NavEntry("progress", _("进度查询"), "cases_applicant:progress", None),
    NavEntry("catalog", _("事项管理"), "catalog:workbench", frozenset({Role.CATALOG_ADMIN})),
    NavEntry("intake", _("窗口收件"), "cases_staff:intake", frozenset({Role.WINDOW_CLERK})),
    NavEntry("cases_staff", _("办件工作台"), "cases_staff:index", CASE_STAFF),
    NavEntry(
        "systems",
        _("部门系统对接"),
        "notify:systems",
        frozenset({Role.CATALOG_ADMIN, Role.SUPERVISOR}),
    ),
    NavEntry("my_scope", _("我的数据范围"), "web:my_scope", STAFF),
    NavEntry("admin", _("管理后台"), "admin:index", frozenset({Role.CATALOG_ADMIN}), True),
)


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    active: bool
    count: int = 0


def navigation_for(request, roles: list[Role]) -> list[NavItem]:
    """The entries this user may see; the one whose URL is the longest prefix of the current
    path is active (so /workbench/scope/ marks "my data scope", not also "my workbench")."""
    held = set(roles)
    path = request.path
    user = getattr(request, "user", None)
    visible = []
    for entry in NAV:
        if entry.roles is not None and not (held & entry.roles):
            continue
        if entry.staff_only and not getattr(user, "is_staff", False):
            continue
        visible.append((entry, reverse(entry.url_name)))
    matches = [url for _, url in visible if (path == url if url == "/" else path.startswith(url))]
    current = max(matches, key=len, default=None)
    items = []
    for e, url in visible:
        count = e.counter(request) if e.counter is not None else 0
        label = str(e.label)
        if count:
            template = str(e.count_label or _("%(label)s（%(n)s）"))
            label = template % {"label": label, "n": count}
        items.append(NavItem(e.key, str(label), url, url == current, count))
    return items
