"""Role-aware navigation: each role sees the entries for its tasks (UI.md: left navigation by
task). An entry is shown when the user holds any of its roles; public entries always show."""

from __future__ import annotations

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


STAFF = frozenset(r for r in Role if r.is_staff)

NAV: tuple[NavEntry, ...] = (
    NavEntry("home", _("首页"), "web:landing", None),
    NavEntry("centers", _("服务大厅"), "org:center_list", None),
    NavEntry("workbench", _("我的工作台"), "web:workbench", frozenset(Role)),
    NavEntry("my_scope", _("我的数据范围"), "web:my_scope", STAFF),
    NavEntry("admin", _("管理后台"), "admin:index", frozenset({Role.CATALOG_ADMIN}), True),
)


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str
    active: bool


def navigation_for(request, roles: list[Role]) -> list[NavItem]:
    held = set(roles)
    path = request.path
    items = []
    for entry in NAV:
        if entry.roles is not None and not (held & entry.roles):
            continue
        if entry.staff_only and not getattr(request.user, "is_staff", False):
            continue
        url = reverse(entry.url_name)
        active = path == url if url == "/" else path.startswith(url)
        items.append(NavItem(entry.key, str(entry.label), url, active))
    return items
