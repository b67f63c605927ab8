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
    NavEntry("guides", _("办事指南"), "catalog:browse", None),
    NavEntry("centers", _("服务网点"), "org:center_list", None),
    NavEntry("workbench", _("我的工作台"), "web:workbench", frozenset(Role)),
    NavEntry("catalog", _("事项管理"), "catalog:workbench", frozenset({Role.CATALOG_ADMIN})),
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
    return [NavItem(e.key, str(e.label), url, url == current) for e, url in visible]
