"""Catalog test helpers (shared by every catalog test module — keep the signatures stable).

``make_item(world, ...)`` writes an item straight to the database with a *published* version,
materials, the five licensing steps, one FAQ and an initial acceptance rule, so that tests of
search, guides, exchange, cases ... need not walk the whole review workflow. The defaults satisfy
every cross-field rule of ``tongban.catalog.rules`` (a Ⅳ-level, 0-visit licensing item,
promised 5 ≤ legal 20 working days, steps 1+1+1+1+1 days).

``make_catalog_admin(world, username, ...)`` adds a second (third ...) catalog administrator,
because four-eyes publishing needs two people; ``build_world()`` has one (``catalog_admin``,
region scope = the city).
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from django.utils import timezone

from tests.factories import assign, make_user
from tongban.catalog.models import (
    AcceptanceRule,
    Faq,
    ItemVersion,
    Material,
    ProcessStep,
    ServiceItem,
)
from tongban.org.roles import Role

_seq = itertools.count(1)

INITIAL_SCOPE_FROM = date(2019, 1, 1)

# (kind, name, role, days)
FIVE_STEPS: list[tuple[str, str, str, int]] = [
    ("accept", "受理", "window_clerk", 1),
    ("review", "审核", "reviewer", 1),
    ("decide", "审批", "approver", 1),
    ("conclude", "办结", "approver", 1),
    ("deliver", "送达", "window_clerk", 1),
]

DEFAULT_MATERIALS: list[dict[str, Any]] = [
    {"name": "申请表", "kind": "original", "form": "both", "necessity": "required", "copies": 1},
    {
        "name": "营业执照",
        "kind": "electronic",
        "form": "electronic",
        "necessity": "required",
        "source": "government",
        "licence_type": "营业执照",
    },
    {"name": "场地证明", "kind": "copy", "form": "paper", "necessity": "tolerated", "copies": 1},
]


def version_defaults(**overrides) -> dict[str, Any]:
    """Field values of a valid version (the same shape services.create_item accepts)."""
    data: dict[str, Any] = {
        "name": "测试事项",
        "subject": "legal",
        "basis": "《中华人民共和国行政许可法》",
        "conditions": "依法设立的企业。",
        "legal_limit_days": 20,
        "promised_limit_days": 5,
        "case_kind": "promised",
        "handled_at_window": True,
        "handled_online": True,
        "handled_by_mail": True,
        "online_depth": 4,
        "max_visits": 0,
        "result_by_mail": True,
        "materials_by_mail": True,
        "tongban_scope": "3",
        "result_type": "证照",
        "result_name": "许可证",
    }
    data.update(overrides)
    return data


def make_catalog_admin(world, username: str, *, department=None, region=None):
    """A catalog administrator scoped to ``department`` or ``region`` (default: the city)."""
    user = make_user(username, is_staff=True)
    if department is not None:
        assign(user, Role.CATALOG_ADMIN, department=department)
    else:
        assign(user, Role.CATALOG_ADMIN, region=region or world.city)
    world.users[username] = user
    return user


def make_item(
    world,
    name: str = "第一类医疗器械生产备案",
    *,
    code: str | None = None,
    base_code: str | None = None,
    item_type: str = "01",
    department=None,
    subject: str = "legal",
    depth: int = 4,
    visits: int = 0,
    promised: int = 5,
    legal: int | None = 20,
    high_frequency: bool = False,
    scope: str = "department_center",
    scope_from: date = INITIAL_SCOPE_FROM,
    aliases: str = "",
    keywords: str = "",
    themes: list[str] | tuple[str, ...] = (),
    life_events: list[str] | tuple[str, ...] = (),
    parent: ServiceItem | None = None,
    business_kind: str = "",
    power=None,
    materials: list[dict[str, Any]] | None = None,
    steps: list[tuple[str, str, str, int]] | None = None,
    faqs: list[tuple[str, str]] | None = None,
    published: bool = True,
    status: str = "in_use",
    by=None,
    index: bool = True,
    **version_fields: Any,
) -> ServiceItem:
    """Create an item with one version (published unless ``published=False``: then a draft).

    ``version_fields`` override any ItemVersion field (``charges_fee=True``, ``fee_basis=...``).
    ``promised=0`` makes it a 即办件 with 0-day steps unless ``steps`` is given. With
    ``index=True`` a published item is indexed for search when tongban.catalog.search exists.
    """
    n = next(_seq)
    department = department or world.market_dept
    base_code = base_code or (parent.base_code if parent else f"{n:012d}")
    code = code or f"11441900{base_code}{n:04d}"
    item = ServiceItem.objects.create(
        code=code,
        base_code=base_code,
        parent=parent,
        business_kind=business_kind or ("new" if parent else ""),
        item_type=item_type,
        department=department,
        power=power,
        status=status,
        high_frequency=high_frequency,
    )
    author = by or world.users.get("catalog_admin")
    fields = version_defaults(
        name=name,
        subject=subject,
        online_depth=depth,
        max_visits=visits,
        handled_online=depth >= 3,
        promised_limit_days=promised,
        legal_limit_days=legal,
        case_kind="immediate" if promised == 0 else "promised",
        aliases=aliases,
        keywords=keywords,
        themes=list(themes),
        life_events=list(life_events),
    )
    fields.update(version_fields)
    now = timezone.now()
    version = ItemVersion.objects.create(
        item=item,
        number=1,
        state=ItemVersion.State.PUBLISHED if published else ItemVersion.State.DRAFT,
        created_by=author,
        submitted_by=author if published else None,
        approved_by=author if published else None,
        published_at=now if published else None,
        **fields,
    )
    for i, m in enumerate(DEFAULT_MATERIALS if materials is None else materials, start=1):
        Material.objects.create(version=version, order=i, **m)
    if steps is None:
        day = 0 if promised == 0 else 1
        steps = [(k, nm, role, day) for k, nm, role, _d in FIVE_STEPS]
    for i, (kind, step_name, role, days) in enumerate(steps, start=1):
        ProcessStep.objects.create(
            version=version, order=i, kind=kind, name=step_name, role=role, days=days
        )
    for i, (q, a) in enumerate(faqs or [("需要本人到场吗？", "全程网办，无需到场。")], start=1):
        Faq.objects.create(version=version, order=i, question=q, answer=a)
    AcceptanceRule.objects.create(item=item, scope=scope, effective_from=scope_from)
    if published:
        item.published_version = version
        item.save(update_fields=["published_version"])
        if index:
            try:
                from tongban.catalog import search
            except ImportError:  # the search module is written in parallel
                search = None
            if search is not None and hasattr(search, "index_item"):
                search.index_item(item)
    return item
