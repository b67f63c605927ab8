"""Where an item may be accepted (受理地点) on a date.

Every item has a history of ``AcceptanceRule`` rows; the rule in effect on a date is the one
with the latest ``effective_from`` on or before it (before the first rule: ``department_center``,
the narrowest scope). A batch decision (``delegate_acceptance``, e.g. the June 2020 notice that
moved the acceptance of 40 city items to the town centers) adds one rule per item.

The rule, precisely. Only active centers accept, and only items in use (在用). Let the item's
**home centers** be:

* every center where the item's department has an active window; plus
* for a city-level department: every city-level center (the citizen service center);
* for a town-level department: the town-level centers in the department's own town or street
  (its region subtree) — "the department's center" of a town item is its town's center.

Then, by scope:

* ``department_center`` (仅在实施部门所在中心): the home centers;
* ``any_town`` (就近办): the home centers and every town/street-level center in the city;
* ``citywide`` (全市通办): every center, city, town and village/community level.

Village/community service points (村（社区）党群服务中心) accept an item when it is ``citywide``;
or when it is a high-frequency item (高频事项) and a town-level center in an enclosing region of
the point (the point's own town) accepts it under the rules above — a village point acts for its
town's center, so a high-frequency item accepted at any town (``any_town``) can be handled at
every village point, and a high-frequency town item (``department_center``) at the village points
of that town. A village point where the department itself has a window is a home center.

``accepting_centers`` gives the set as one query; ``can_accept_at`` asks about one center;
``selectors.items_accepted_at`` is the same rule seen from a center (tests check they agree).
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import Conflict, Forbidden, InvalidInput
from tongban.org.models import Department, ServiceCenter

from .lifecycle import can_manage
from .models import AcceptanceBatch, AcceptanceRule, AcceptanceScope, ServiceItem

DEFAULT_SCOPE = AcceptanceScope.DEPARTMENT_CENTER


def today() -> date:
    return timezone.localdate()


def rule_on(item: ServiceItem, on_date: date | None = None) -> AcceptanceRule | None:
    """The acceptance rule in force for ``item`` on ``on_date`` (today by default)."""
    on_date = on_date or today()
    return (
        AcceptanceRule.objects.filter(item=item, effective_from__lte=on_date)
        .select_related("batch")
        .order_by("-effective_from")
        .first()
    )


def scope_on(item: ServiceItem, on_date: date | None = None) -> AcceptanceScope:
    rule = rule_on(item, on_date)
    return AcceptanceScope(rule.scope) if rule else DEFAULT_SCOPE


def home_centers_q(department: Department) -> Q:
    """Centers that are "the department's center" (see the module docstring)."""
    q = Q(windows__department=department, windows__active=True)
    if department.level == Department.Level.CITY:
        q |= Q(level=ServiceCenter.Level.CITY)
    else:
        q |= Q(level=ServiceCenter.Level.TOWN, region__path__startswith=department.region.path)
    return q


def _town_paths(center_ids) -> list[str]:
    return list(
        ServiceCenter.objects.filter(pk__in=center_ids, level=ServiceCenter.Level.TOWN).values_list(
            "region__path", flat=True
        )
    )


def accepting_centers(item: ServiceItem, on_date: date | None = None) -> QuerySet[ServiceCenter]:
    """Active centers that may accept ``item`` on ``on_date``, city first, then by code."""
    centers = ServiceCenter.objects.filter(active=True)
    if item.status != ServiceItem.Status.IN_USE:
        return centers.none()
    scope = scope_on(item, on_date)
    if scope == AcceptanceScope.CITYWIDE:
        return centers.select_related("region").order_by("level", "code")
    home_ids = set(
        ServiceCenter.objects.filter(home_centers_q(item.department), active=True).values_list(
            "pk", flat=True
        )
    )
    q = Q(pk__in=home_ids)
    if scope == AcceptanceScope.ANY_TOWN:
        q |= Q(level=ServiceCenter.Level.TOWN)
    if item.high_frequency:
        if scope == AcceptanceScope.ANY_TOWN:
            q |= Q(level=ServiceCenter.Level.VILLAGE)
        else:
            for path in _town_paths(home_ids):
                q |= Q(level=ServiceCenter.Level.VILLAGE, region__path__startswith=path)
    return centers.filter(q).select_related("region").order_by("level", "code")


def can_accept_at(item: ServiceItem, center: ServiceCenter, on_date: date | None = None) -> bool:
    """Whether ``center`` may accept an application for ``item`` on ``on_date``."""
    return accepting_centers(item, on_date).filter(pk=center.pk).exists()


def set_initial_scope(
    item: ServiceItem, scope: str, effective_from: date, *, document_no: str = ""
) -> AcceptanceRule:
    """The first rule of a new item (or a correction of the rule on that same date). Called by
    create_item and by imports, which record the audit event themselves."""
    if scope not in AcceptanceScope.values:
        raise InvalidInput(
            _("受理范围无效。"),
            details=[{"field": "acceptance_scope", "message": _("受理范围无效。")}],
        )
    rule, _created = AcceptanceRule.objects.update_or_create(
        item=item,
        effective_from=effective_from,
        defaults={"scope": scope, "document_no": document_no},
    )
    return rule


def delegate_acceptance(
    items,
    scope: str,
    document_no: str,
    effective_from: date,
    by,
    title: str = "",
    *,
    request=None,
) -> AcceptanceBatch:
    """Change where a set of items may be accepted from ``effective_from`` on (e.g. 就近办:
    ``any_town``), by one document. One AcceptanceRule per item; all or nothing."""
    items = list(items)
    errors = []
    document_no = (document_no or "").strip()
    if not document_no:
        errors.append({"field": "document_no", "message": _("请填写文号。")})
    if scope not in AcceptanceScope.values:
        errors.append({"field": "scope", "message": _("受理范围无效。")})
    if not items:
        errors.append({"field": "items", "message": _("请至少选择一个事项。")})
    if len({i.pk for i in items}) != len(items):
        errors.append({"field": "items", "message": _("事项列表中有重复的事项。")})
    if errors:
        raise InvalidInput(errors[0]["message"], details=errors)
    outside = [i.code for i in items if not can_manage(by, i.department)]
    if outside:
        raise Forbidden(
            _("无权调整以下事项的受理范围：%(codes)s。") % {"codes": "、".join(outside[:20])},
            details={"items": outside},
        )
    clashing = list(
        AcceptanceRule.objects.filter(item__in=items, effective_from=effective_from).values_list(
            "item__code", flat=True
        )
    )
    if clashing:
        raise Conflict(
            _("以下事项在%(d)s已有受理范围调整，不能重复登记：%(codes)s。")
            % {"d": effective_from.isoformat(), "codes": "、".join(sorted(clashing)[:20])},
            code="acceptance_rule_exists",
            details={"items": sorted(clashing)},
        )
    try:
        with transaction.atomic():
            batch = AcceptanceBatch.objects.create(
                document_no=document_no[:100],
                title=(title or "")[:200],
                scope=scope,
                effective_from=effective_from,
                created_by=by if getattr(by, "is_authenticated", False) else None,
            )
            AcceptanceRule.objects.bulk_create(
                AcceptanceRule(
                    item=i,
                    scope=scope,
                    effective_from=effective_from,
                    batch=batch,
                    document_no=batch.document_no,
                )
                for i in items
            )
            audit.record(
                "catalog.acceptance_batch",
                actor=by,
                target=batch,
                request=request,
                data={
                    "document_no": batch.document_no,
                    "scope": scope,
                    "effective_from": effective_from.isoformat(),
                    "items": [i.code for i in items],
                },
            )
    except IntegrityError:  # a concurrent batch registered the same day first
        raise Conflict(
            _("部分事项在该日期已有受理范围调整，请刷新后重试。"), code="acceptance_rule_exists"
        ) from None
    return batch
