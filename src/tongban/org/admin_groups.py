"""Django-admin permissions that come with a role. A catalog administrator (政务服务数据管理局)
maintains regions, centers, windows, departments and the holiday table in the Django admin and
reads the catalog there (the catalog itself is edited in the catalog workbench, with four eyes).

``ensure_groups()`` runs after every migrate (apps.py) so the group and its permissions exist in
every database; ``grant_admin_access(user)`` puts a catalog administrator in it.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

CATALOG_ADMIN_GROUP = "事项与组织管理员"

# (app label, model, actions)
CATALOG_ADMIN_PERMISSIONS = [
    ("org", "region", ("view", "add", "change")),
    ("org", "servicecenter", ("view", "add", "change")),
    ("org", "window", ("view", "add", "change")),
    ("org", "department", ("view", "add", "change")),
    ("core", "calendaryear", ("view", "add", "change")),
    ("core", "calendarday", ("view", "add", "change", "delete")),
    ("catalog", "serviceitem", ("view",)),
    ("catalog", "itemversion", ("view",)),
    ("catalog", "power", ("view",)),
    ("catalog", "ledgerentry", ("view",)),
    ("catalog", "supervisionitem", ("view",)),
    ("catalog", "acceptancebatch", ("view",)),
]


def ensure_groups(**kwargs) -> Group:
    group, _ = Group.objects.get_or_create(name=CATALOG_ADMIN_GROUP)
    wanted = Q(pk__in=[])
    for app_label, model, actions in CATALOG_ADMIN_PERMISSIONS:
        wanted |= Q(
            content_type__app_label=app_label,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    group.permissions.set(Permission.objects.filter(wanted))
    return group


def grant_admin_access(user) -> None:
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    ensure_groups().user_set.add(user)
