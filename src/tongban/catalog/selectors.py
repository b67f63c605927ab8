"""Reads of the service catalog: published items with filters, an item's detail and versions,
items accepted at a center, and the counts the statistics layer builds indicators from.

"Published items" are items in use (在用) whose ``published_version`` is in force. Counting rules
(GLOSSARY.md, indicators): every ServiceItem row counts, sub-items (业务办理项) included; an item is
online-capable when its published version has 是否网办, fully online (全程网办) at depth Ⅳ with
0 visits, and no-meeting (不见面审批) with 0 visits and results by post.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from tongban.core.errors import NotFound
from tongban.org.models import Department, Region, ServiceCenter
from tongban.org.roles import Role
from tongban.org.scopes import DataScope, scope_for

from . import acceptance
from .models import (
    AcceptanceBatch,
    AcceptanceRule,
    AcceptanceScope,
    Faq,
    ItemVersion,
    Material,
    ProcessStep,
    ServiceItem,
    Subject,
)

PUBLISHED = Q(
    status=ServiceItem.Status.IN_USE,
    published_version__isnull=False,
    published_version__state=ItemVersion.State.PUBLISHED,
)


def _scope_subquery(on_date: date) -> Subquery:
    return Subquery(
        AcceptanceRule.objects.filter(item=OuterRef("pk"), effective_from__lte=on_date)
        .order_by("-effective_from")
        .values("scope")[:1]
    )


def with_current_scope(qs: QuerySet[ServiceItem], on_date: date | None = None):
    """Annotate ``current_scope`` (the acceptance scope in force on ``on_date``)."""
    return qs.annotate(current_scope=_scope_subquery(on_date or acceptance.today()))


def items_accepted_at(
    center: ServiceCenter, qs: QuerySet[ServiceItem] | None = None, on_date: date | None = None
) -> QuerySet[ServiceItem]:
    """Items ``center`` may accept on ``on_date`` — the rule of acceptance.py seen from a
    center (the two agree; tests check it on every item × center)."""
    qs = ServiceItem.objects.all() if qs is None else qs
    if not center.active:
        return qs.none()
    qs = with_current_scope(qs.filter(status=ServiceItem.Status.IN_USE), on_date)
    dept_scope = Q(current_scope=AcceptanceScope.DEPARTMENT_CENTER) | Q(current_scope__isnull=True)
    ancestors = [c for c in center.region.path.split("/") if c]

    def home_q(c: ServiceCenter) -> Q:
        """Items whose department counts ``c`` as a home center."""
        window_depts = c.windows.filter(active=True, department__isnull=False).values(
            "department_id"
        )
        q = Q(department_id__in=window_depts)
        if c.level == ServiceCenter.Level.CITY:
            q |= Q(department__level=Department.Level.CITY)
        elif c.level == ServiceCenter.Level.TOWN:
            c_ancestors = [x for x in c.region.path.split("/") if x]
            q |= Q(
                department__level=Department.Level.TOWN, department__region__code__in=c_ancestors
            )
        return q

    citywide = Q(current_scope=AcceptanceScope.CITYWIDE)
    if center.level == ServiceCenter.Level.CITY:
        accepted = citywide | home_q(center)
    elif center.level == ServiceCenter.Level.TOWN:
        accepted = citywide | Q(current_scope=AcceptanceScope.ANY_TOWN) | home_q(center)
    else:
        towns = ServiceCenter.objects.filter(
            active=True, level=ServiceCenter.Level.TOWN, region__code__in=ancestors
        ).select_related("region")
        town_home = Q(pk__in=[])
        for town in towns:
            town_home |= home_q(town)
        any_town_via_point = Q(current_scope=AcceptanceScope.ANY_TOWN)
        accepted = (
            citywide
            | home_q(center)
            | Q(high_frequency=True) & (any_town_via_point | (dept_scope & town_home))
        )
    return qs.filter(accepted)


def published_items(
    *,
    item_type: str | None = None,
    department: Department | str | None = None,
    depth: int | None = None,
    subject: str | None = None,
    center: ServiceCenter | str | None = None,
    high_frequency: bool | None = None,
    theme: str | None = None,
    life_event: str | None = None,
    parent: ServiceItem | None = None,
    base_only: bool = False,
    on_date: date | None = None,
) -> QuerySet[ServiceItem]:
    """Published, in-use items ordered by code, with ``current_scope`` annotated.

    ``department`` and ``center`` take objects or codes (an unknown code gives no items);
    ``subject="natural"`` also matches items for both (自然人、法人), likewise ``legal``;
    ``center``: items that center may accept on ``on_date`` (today)."""
    qs = ServiceItem.objects.filter(PUBLISHED).select_related(
        "published_version", "department", "parent"
    )
    if item_type:
        qs = qs.filter(item_type=item_type)
    if department:
        qs = (
            qs.filter(department__code=department)
            if isinstance(department, str)
            else qs.filter(department=department)
        )
    if depth:
        qs = qs.filter(published_version__online_depth=depth)
    if subject:
        q = Q(published_version__subject=subject)
        if subject != Subject.BOTH:
            q |= Q(published_version__subject=Subject.BOTH)
        qs = qs.filter(q)
    if high_frequency is not None:
        qs = qs.filter(high_frequency=high_frequency)
    if theme:
        qs = _json_contains(qs, "published_version__themes", theme)
    if life_event:
        qs = _json_contains(qs, "published_version__life_events", life_event)
    if parent is not None:
        qs = qs.filter(parent=parent)
    if base_only:
        qs = qs.filter(parent__isnull=True)
    if center:
        if isinstance(center, str):
            center = ServiceCenter.objects.filter(code=center).select_related("region").first()
            if center is None:
                return qs.none()
        qs = items_accepted_at(center, qs, on_date)
    else:
        qs = with_current_scope(qs, on_date)
    return qs.order_by("code")


def _json_contains(qs: QuerySet, path: str, code: str) -> QuerySet:
    """A JSON list contains ``code``: works on SQLite and PostgreSQL (``__contains`` on JSON
    lists is not supported by SQLite), by matching the quoted string in the JSON text."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return qs.filter(**{f"{path}__contains": [code]})
    import json

    return qs.filter(**{f"{path}__icontains": json.dumps(code)})


def items_by_ids(ids: list[int], on_date: date | None = None) -> list[ServiceItem]:
    """Items for search results, in the order of ``ids``."""
    qs = with_current_scope(
        ServiceItem.objects.filter(pk__in=ids).select_related(
            "published_version", "department", "parent"
        ),
        on_date,
    )
    by_id = {i.pk: i for i in qs}
    return [by_id[i] for i in ids if i in by_id]


def _version_prefetch() -> list:
    return [
        Prefetch("materials", queryset=Material.objects.order_by("order")),
        Prefetch("steps", queryset=ProcessStep.objects.order_by("order")),
        Prefetch("faqs", queryset=Faq.objects.order_by("order")),
    ]


def item_by_code(code: str) -> ServiceItem:
    """Any item (published or not); NotFound otherwise."""
    if "\x00" in code:
        raise NotFound(_not_found())
    item = (
        ServiceItem.objects.select_related(
            "department", "department__region", "parent", "power", "published_version"
        )
        .filter(code=code)
        .first()
    )
    if item is None:
        raise NotFound(_not_found())
    return item


def _not_found() -> str:
    from django.utils.translation import gettext as _

    return _("未找到该事项。")


def item_detail(code: str, on_date: date | None = None) -> ServiceItem:
    """A published, in-use item with its published version, materials, steps and FAQs
    prefetched, and ``current_scope`` annotated. NotFound for anything else."""
    if "\x00" in code:
        raise NotFound(_not_found())
    qs = with_current_scope(
        ServiceItem.objects.filter(PUBLISHED, code=code).select_related(
            "department", "department__region", "parent", "power", "published_version"
        ),
        on_date,
    )
    item = qs.first()
    if item is None:
        raise NotFound(_not_found())
    version = (
        ItemVersion.objects.filter(pk=item.published_version_id)
        .prefetch_related(*_version_prefetch())
        .get()
    )
    item.published_version = version
    return item


def sub_items(item: ServiceItem) -> QuerySet[ServiceItem]:
    return published_items(parent=item)


def can_see_drafts(user, item: ServiceItem) -> bool:
    """Drafts and versions under review are visible to catalog administrators of the item."""
    from .lifecycle import can_manage

    return can_manage(user, item.department)


def versions_of(item: ServiceItem, user=None) -> QuerySet[ItemVersion]:
    """An item's versions, newest first; only published and retired ones unless ``user`` may
    manage the item."""
    qs = item.versions.select_related("created_by", "submitted_by", "approved_by").order_by(
        "-number"
    )
    if user is None or not can_see_drafts(user, item):
        qs = qs.filter(state__in=[ItemVersion.State.PUBLISHED, ItemVersion.State.RETIRED])
    return qs


def version_of(item: ServiceItem, number: int, user=None) -> ItemVersion:
    version = (
        versions_of(item, user).filter(number=number).prefetch_related(*_version_prefetch()).first()
    )
    if version is None:
        from django.utils.translation import gettext as _

        raise NotFound(_("未找到该版本。"))
    version.item = item
    return version


def last_rejection(version: ItemVersion) -> dict | None:
    """The reason and time of the latest rejection of ``version`` (from the audit chain)."""
    from tongban.core.models import AuditEvent

    event = (
        AuditEvent.objects.filter(
            target_type=ItemVersion._meta.label_lower,
            target_id=str(version.pk),
            action="catalog.version_reject",
        )
        .order_by("-seq")
        .first()
    )
    if event is None:
        return None
    return {"reason": event.data.get("reason", ""), "at": event.at, "by": event.actor_label}


def manageable_items(user) -> QuerySet[ServiceItem]:
    """Items a catalog administrator may edit (the workbench list), with every state."""
    if user is None or not user.is_authenticated:
        return ServiceItem.objects.none()
    scope: DataScope = scope_for(user, None if user.is_superuser else Role.CATALOG_ADMIN)
    if scope.empty:
        return ServiceItem.objects.none()
    return (
        ServiceItem.objects.filter(department__in=scope.departments())
        .select_related("department", "published_version")
        .order_by("code")
    )


def open_version(item: ServiceItem) -> ItemVersion | None:
    """The draft / submitted / approved version of ``item``, if any."""
    return item.versions.filter(
        state__in=[ItemVersion.State.DRAFT, ItemVersion.State.SUBMITTED, ItemVersion.State.APPROVED]
    ).first()


def versions_awaiting_review(user) -> QuerySet[ItemVersion]:
    """Submitted versions in ``user``'s scope (the reviewer's worklist)."""
    return (
        ItemVersion.objects.filter(
            state=ItemVersion.State.SUBMITTED, item__in=manageable_items(user)
        )
        .select_related("item", "item__department", "submitted_by")
        .order_by("created_at")
    )


def acceptance_batches() -> QuerySet[AcceptanceBatch]:
    return AcceptanceBatch.objects.annotate(item_count=Count("rules")).order_by(
        "-effective_from", "-id"
    )


# ---------------------------------------------------------------------------- counts


def count_items(
    *,
    item_type: str | None = None,
    online: bool | None = None,
    depth: int | None = None,
    visits: int | None = None,
    max_visits: int | None = None,
    no_meeting: bool | None = None,
    immediate: bool | None = None,
    department: Department | None = None,
    region: Region | None = None,
) -> int:
    """Published, in-use items (sub-items included) matching every given condition:
    ``online`` 是否网办, ``depth`` 网上办理深度, ``visits`` exactly that many visits,
    ``max_visits`` at most that many, ``no_meeting`` 0 visits and results by post,
    ``immediate`` 即办件, ``department``, ``region`` (departments in the region subtree)."""
    qs = ServiceItem.objects.filter(PUBLISHED)
    v = "published_version__"
    if item_type:
        qs = qs.filter(item_type=item_type)
    if online is not None:
        qs = qs.filter(**{f"{v}handled_online": online})
    if depth is not None:
        qs = qs.filter(**{f"{v}online_depth": depth})
    if visits is not None:
        qs = qs.filter(**{f"{v}max_visits": visits})
    if max_visits is not None:
        qs = qs.filter(**{f"{v}max_visits__lte": max_visits})
    if no_meeting is not None:
        cond = Q(**{f"{v}max_visits": 0, f"{v}result_by_mail": True})
        qs = qs.filter(cond) if no_meeting else qs.exclude(cond)
    if immediate is not None:
        kind = ItemVersion.CaseKind.IMMEDIATE
        qs = (
            qs.filter(**{f"{v}case_kind": kind})
            if immediate
            else qs.exclude(**{f"{v}case_kind": kind})
        )
    if department is not None:
        qs = qs.filter(department=department)
    if region is not None:
        qs = qs.filter(department__region__path__startswith=region.path)
    return qs.count()


def count_no_meeting(
    *, center: ServiceCenter | None = None, item_type: str | None = None, on_date=None
) -> int:
    """不见面审批事项数: published in-use items with 0 visits and results by post; with
    ``center``, only those that center may accept on ``on_date`` (e.g. the citizen service
    center's 619)."""
    qs = ServiceItem.objects.filter(
        PUBLISHED, published_version__max_visits=0, published_version__result_by_mail=True
    )
    if item_type:
        qs = qs.filter(item_type=item_type)
    if center is not None:
        qs = items_accepted_at(center, qs, on_date)
    return qs.count()


def count_town_acceptance_items(on_date: date | None = None) -> int:
    """Items whose acceptance in force on ``on_date`` reaches beyond their department's center
    through a batch decision (就近办 / 全市通办), e.g. the 40 items of June 2020."""
    qs = with_current_scope(ServiceItem.objects.filter(PUBLISHED), on_date)
    rule_batch = Subquery(
        AcceptanceRule.objects.filter(
            item=OuterRef("pk"), effective_from__lte=on_date or acceptance.today()
        )
        .order_by("-effective_from")
        .values("batch_id")[:1]
    )
    return (
        qs.annotate(current_batch=rule_batch)
        .filter(
            current_scope__in=[AcceptanceScope.ANY_TOWN, AcceptanceScope.CITYWIDE],
            current_batch__isnull=False,
        )
        .count()
    )


def counts_by_type() -> dict[str, int]:
    rows = ServiceItem.objects.filter(PUBLISHED).values("item_type").annotate(n=Count("id"))
    return {r["item_type"]: r["n"] for r in rows}
