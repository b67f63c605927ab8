"""The power list (权责清单) and its delegation ledger (权力调整台账).

A power (行政权力) belongs to a department. Its ledger records, each with an effective date and
a document number (文号):

- 下放 ``delegate``: the receiving body exercises the power in its own name;
- 委托 ``entrust``: the receiving body exercises it in the entrusting department's name;
- 授权 ``authorize``: the receiving body exercises it under an authorization;
- 收回 ``recover``: ends one earlier entry (``LedgerEntry.ends``) on its effective date.

Rules (our decisions, enforced by :func:`record_entry` and the batches):

- An entry targets a street, a town or a functional area inside the region of the power's
  department. It covers that region's subtree; an entry for a functional area also covers its
  member towns (``Region.functional_area``) and everything under them.
- Dates: an entry takes effect ON ``effective_from``; a recovery ends it ON its own date, so on
  that day the department exercises the power again. Periods are half-open ``[from, to)``.
- Overlap: a delegate / entrust / authorize entry is refused while another entry of the same
  power covers an overlapping region (the same region, an ancestor or a descendant, a functional
  area and one of its member towns) on an overlapping period. A new entry is open-ended, so an
  existing entry only stops conflicting when it was recovered on or before the new date.
- A recovery names the entry in force on its date for that power and exactly that region; it
  must come after the entry took effect, and an entry is recovered once.
- Batches (:func:`delegate_batch`, :func:`recover_batch`) are all-or-nothing: every power is
  checked first, every refusal is reported, and nothing is written when one is refused.

:func:`who_exercises` answers "who exercises power P in region R on date D";
:func:`approving_body` applies it to a service item (the body that approves a case accepted in
region R on date D); :func:`timeline` lists the entries with who exercised the power in each
period.

Writes need a catalog administrator (事项管理员) whose data scope covers the power's department,
or a superuser; ``by=None`` marks a trusted system caller (seed data, management commands).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tongban.org.models import Department, Region
from tongban.org.roles import Role
from tongban.org.scopes import scope_for

from .models import POWER_CATEGORIES, ItemVersion, LedgerEntry, Power, ServiceItem

Action = LedgerEntry.Action
GRANTING_ACTIONS = (Action.DELEGATE, Action.ENTRUST, Action.AUTHORIZE)
ENTRY_REGION_LEVELS = (Region.Level.STREET, Region.Level.TOWN, Region.Level.FUNCTIONAL_AREA)
EARLIEST_DATE = dt.date(1980, 1, 1)
MAX_YEARS_AHEAD = 10
MAX_BATCH = 2000


def has_control_chars(value: str, *, multiline: bool = False) -> bool:
    """Control characters (NUL and the like) are refused in stored text; PostgreSQL cannot
    even hold NUL. ``multiline`` allows line breaks and tabs."""
    allowed = "\n\r\t" if multiline else ""
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value or "")


def safe_filter(value: str | None) -> str:
    """A filter value from a query string without control characters."""
    return "".join(ch for ch in (value or "") if unicodedata.category(ch) != "Cc").strip()


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Exercise:
    """Who exercises a power somewhere on a date.

    ``mode`` is ``own`` (the department itself; ``entry`` is None) or the action of the entry in
    force. ``body`` is the body that handles it; ``department`` the department in whose name it
    is exercised: the owning department for ``own`` and ``entrust`` (委托: in the entrusting
    department's name), None for ``delegate`` / ``authorize`` (the receiving body acts in its
    own name). ``region`` is the owning department's region or the entry's region.
    """

    body: str
    department: Department | None
    region: Region | None
    mode: str
    entry: LedgerEntry | None = None

    @property
    def in_name_of(self) -> str:
        """The name decisions are issued in (委托 keeps the entrusting department's name)."""
        if self.mode == Action.ENTRUST and self.department is not None:
            return self.department.name
        return self.body

    @property
    def mode_label(self) -> str:
        if self.mode == "own":
            return _("本级行使")
        return str(Action(self.mode).label)


@dataclass(frozen=True)
class TimelineRow:
    """One ledger entry in a power's timeline with the period it governs.

    For a granting entry: ``region`` is exercised by ``exercised_by`` from ``effective_from``
    up to (not including) ``effective_to`` (None: still in force or open-ended). For a recovery:
    from ``effective_from`` on the owning department exercises it again in that region;
    ``recovers`` is the entry it ends.
    """

    entry: LedgerEntry
    action: str
    action_label: str
    region: Region
    effective_from: dt.date
    effective_to: dt.date | None
    exercised_by: str
    document_no: str
    recovers: LedgerEntry | None = None
    ended_by: LedgerEntry | None = None


@dataclass
class Timeline:
    power: Power
    owner: str
    rows: list[TimelineRow] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Regions and periods


def _member_paths(region: Region, cache: dict[int, tuple[str, ...]] | None = None) -> tuple:
    """The path prefixes an entry for ``region`` covers: its own subtree, plus the subtrees of
    the member towns when it is a functional area."""
    if cache is not None and region.pk in cache:
        return cache[region.pk]
    paths: tuple[str, ...] = (region.path,)
    if region.level == Region.Level.FUNCTIONAL_AREA:
        members = Region.objects.filter(functional_area=region).values_list("path", flat=True)
        paths = (region.path, *sorted(members))
    if cache is not None:
        cache[region.pk] = paths
    return paths


def covers(entry_region: Region, region: Region, cache: dict | None = None) -> bool:
    """Does an entry for ``entry_region`` cover ``region``?"""
    return any(region.path.startswith(p) for p in _member_paths(entry_region, cache))


def regions_overlap(a: Region, b: Region, cache: dict | None = None) -> bool:
    """Do entries for ``a`` and ``b`` cover some region in common?"""
    return any(
        x.startswith(y) or y.startswith(x)
        for x in _member_paths(a, cache)
        for y in _member_paths(b, cache)
    )


def _ended_on(entry: LedgerEntry) -> dt.date | None:
    try:
        ender = entry.ended_by
    except LedgerEntry.DoesNotExist:
        return None
    return ender.effective_from


def _in_force(entry: LedgerEntry, on_date: dt.date) -> bool:
    end = _ended_on(entry)
    return entry.effective_from <= on_date and (end is None or on_date < end)


def _granting_entries(power_ids: Iterable[int]) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(power_id__in=list(power_ids), action__in=GRANTING_ACTIONS)
        .select_related("region", "ended_by")
        .order_by("effective_from", "id")
    )


def _default_body(region: Region) -> str:
    if region.level == Region.Level.FUNCTIONAL_AREA:
        return _("%(name)s管理委员会") % {"name": region.name.removesuffix("功能区")}
    if region.level == Region.Level.STREET:
        return _("%(name)s办事处") % {"name": region.name}
    return _("%(name)s人民政府") % {"name": region.name}


def _entry_label(entry: LedgerEntry) -> str:
    return _("%(date)s %(action)s%(region)s的条目（文号：%(doc)s）") % {
        "date": entry.effective_from.isoformat(),
        "action": entry.get_action_display(),
        "region": entry.region.name,
        "doc": entry.document_no,
    }


# --------------------------------------------------------------------------------------------
# Reads


def powers(
    *,
    department: str | None = None,
    category: str | None = None,
    level: str | None = None,
    q: str = "",
    active: bool | None = True,
) -> QuerySet[Power]:
    """The power list, filtered by department code, category (01–10), level and text."""
    qs = Power.objects.select_related("department")
    if active is not None:
        qs = qs.filter(active=active)
    department = safe_filter(department)
    if department:
        qs = qs.filter(department__code=department)
    if category:
        qs = qs.filter(category=category)
    if level:
        qs = qs.filter(level=level)
    q = safe_filter(q)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__istartswith=q) | Q(basis__icontains=q))
    return qs.order_by("code")


def power_by_code(code: str) -> Power:
    power = Power.objects.select_related("department", "department__region").filter(code=code)
    found = None if has_control_chars(code) else power.first()
    if found is None:
        raise NotFound(_("未找到编码为“%(code)s”的行政权力。") % {"code": code})
    return found


def _own(power: Power) -> Exercise:
    return Exercise(
        body=power.department.name,
        department=power.department,
        region=power.department.region,
        mode="own",
        entry=None,
    )


def _exercise_of(power: Power, entry: LedgerEntry) -> Exercise:
    return Exercise(
        body=entry.receiving_body or _default_body(entry.region),
        department=power.department if entry.action == Action.ENTRUST else None,
        region=entry.region,
        mode=entry.action,
        entry=entry,
    )


def entry_in_force(power: Power, region: Region, on_date: dt.date) -> LedgerEntry | None:
    """The granting entry of ``power`` in force on ``on_date`` whose region covers ``region``
    (the most specific one should overlapping data ever exist)."""
    cache: dict = {}
    found = [
        e
        for e in _granting_entries([power.pk]).filter(effective_from__lte=on_date)
        if _in_force(e, on_date) and covers(e.region, region, cache)
    ]
    if not found:
        return None
    return max(found, key=lambda e: (len(e.region.path), e.effective_from, e.pk))


def who_exercises(power: Power, region: Region, on_date: dt.date) -> Exercise:
    """Who exercises ``power`` in ``region`` on ``on_date``: the receiving body of the entry in
    force that covers the region (directly, through an ancestor region, or because the region
    lies in a functional area holding the power), else the power's own department."""
    entry = entry_in_force(power, region, on_date)
    return _own(power) if entry is None else _exercise_of(power, entry)


def approving_body(item: ServiceItem, region: Region, on_date: dt.date) -> Exercise:
    """The body that approves a case for ``item`` accepted in ``region`` on ``on_date``: the
    item's power followed through the ledger; the item's own department when the item has no
    power or the power is exercised by its department."""
    own = Exercise(
        body=item.department.name,
        department=item.department,
        region=item.department.region,
        mode="own",
        entry=None,
    )
    if item.power_id is None:
        return own
    power = Power.objects.select_related("department", "department__region").get(pk=item.power_id)
    exercise = who_exercises(power, region, on_date)
    return own if exercise.mode == "own" else exercise


def timeline(power: Power) -> Timeline:
    """Every ledger entry of ``power`` in date order, with who exercised it in each period."""
    entries = list(
        LedgerEntry.objects.filter(power=power)
        .select_related("region", "ends", "ends__region", "ended_by")
        .order_by("effective_from", "id")
    )
    owner = power.department.name
    rows: list[TimelineRow] = []
    for e in entries:
        if e.action == Action.RECOVER:
            rows.append(
                TimelineRow(
                    entry=e,
                    action=e.action,
                    action_label=str(e.get_action_display()),
                    region=e.region,
                    effective_from=e.effective_from,
                    effective_to=None,
                    exercised_by=owner,
                    document_no=e.document_no,
                    recovers=e.ends,
                )
            )
            continue
        try:
            ender = e.ended_by
        except LedgerEntry.DoesNotExist:
            ender = None
        rows.append(
            TimelineRow(
                entry=e,
                action=e.action,
                action_label=str(e.get_action_display()),
                region=e.region,
                effective_from=e.effective_from,
                effective_to=ender.effective_from if ender else None,
                exercised_by=e.receiving_body or _default_body(e.region),
                document_no=e.document_no,
                ended_by=ender,
            )
        )
    return Timeline(power=power, owner=owner, rows=rows)


def ledger_statistics(on_date: dt.date | None = None) -> dict[str, int]:
    """Counts from the ledger up to ``on_date`` (default: all): granting entries, recoveries,
    distinct powers granted, and distinct powers granted to functional areas."""
    qs = LedgerEntry.objects.all()
    if on_date is not None:
        qs = qs.filter(effective_from__lte=on_date)
    granting = qs.filter(action__in=GRANTING_ACTIONS)
    return {
        "entries_granted": granting.count(),
        "entries_recovered": qs.filter(action=Action.RECOVER).count(),
        "powers_granted": granting.aggregate(n=Count("power", distinct=True))["n"],
        "powers_granted_to_functional_areas": granting.filter(
            region__level=Region.Level.FUNCTIONAL_AREA
        ).aggregate(n=Count("power", distinct=True))["n"],
    }


# --------------------------------------------------------------------------------------------
# Permissions and checks


def can_manage_power(user, power_or_department: Power | Department) -> bool:
    """Catalog administrators whose data scope covers the power's department, or superusers."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    department = (
        power_or_department.department
        if isinstance(power_or_department, Power)
        else power_or_department
    )
    return scope_for(user, Role.CATALOG_ADMIN).allows_department(department)


def _check_permission(by, power_or_department) -> None:
    if by is None:  # trusted system caller (seed, management command)
        return
    if not can_manage_power(by, power_or_department):
        raise Forbidden(_("只有数据范围覆盖该部门的事项管理员可以调整行政权力。"))


def require_catalog_admin(by) -> None:
    if by is None:
        return
    if not getattr(by, "is_authenticated", False):
        raise Forbidden(_("请先登录。"))
    if not by.is_superuser and scope_for(by, Role.CATALOG_ADMIN).empty:
        raise Forbidden(_("只有事项管理员可以调整行政权力、台账和监管事项。"))


def _clean_text(value: str | None, field_name: str, label: str, max_length: int) -> str:
    value = (value or "").strip()
    if has_control_chars(value):
        raise InvalidInput(
            _("%(label)s含有不可见的控制字符，请删除后重试。") % {"label": label},
            details=[{"field": field_name, "message": _("含有控制字符。")}],
        )
    if len(value) > max_length:
        raise InvalidInput(
            _("%(label)s不能超过%(n)s个字符。") % {"label": label, "n": max_length},
            details=[{"field": field_name, "message": _("长度超出限制。")}],
        )
    return value


def _check_common(
    region: Region, effective_from, document_no: str, action: str
) -> tuple[dt.date, str]:
    """Checks shared by a single entry and a batch; returns the cleaned date and number."""
    problems: list[dict[str, str]] = []
    if action not in Action.values:
        problems.append(
            {
                "field": "action",
                "message": _("调整方式须为下放、委托、授权或收回之一。"),
            }
        )
    if not isinstance(effective_from, dt.date) or isinstance(effective_from, dt.datetime):
        problems.append({"field": "effective_from", "message": _("生效日期须为有效日期。")})
    else:
        latest = timezone.localdate() + dt.timedelta(days=365 * MAX_YEARS_AHEAD)
        if not EARLIEST_DATE <= effective_from <= latest:
            problems.append(
                {
                    "field": "effective_from",
                    "message": _("生效日期须在%(a)s至%(b)s之间。")
                    % {"a": EARLIEST_DATE.isoformat(), "b": latest.isoformat()},
                }
            )
    document_no = (document_no or "").strip()
    if not document_no:
        problems.append({"field": "document_no", "message": _("请填写文号。")})
    elif has_control_chars(document_no):
        problems.append({"field": "document_no", "message": _("文号含有控制字符。")})
    elif len(document_no) > 100:
        problems.append({"field": "document_no", "message": _("文号不能超过100个字符。")})
    if region.level not in ENTRY_REGION_LEVELS:
        problems.append(
            {
                "field": "region",
                "message": _("承接区域须为镇、街道或功能区，“%(name)s”是%(level)s。")
                % {"name": region.name, "level": region.get_level_display()},
            }
        )
    if problems:
        raise InvalidInput(problems[0]["message"], details=problems)
    return effective_from, document_no


def _check_region_in_department(power: Power, region: Region) -> None:
    dept_region = power.department.region
    if region.pk == dept_region.pk or not region.path.startswith(dept_region.path):
        raise InvalidInput(
            _("“%(region)s”不在%(dept)s的管辖区域内，不能承接其权力。")
            % {"region": region.name, "dept": power.department.name},
            details=[{"field": "region", "message": _("承接区域须在权力所属部门的下辖区域内。")}],
        )


def _grant_conflicts(
    power: Power,
    region: Region,
    effective_from: dt.date,
    existing: Sequence[LedgerEntry],
    cache: dict,
) -> list[LedgerEntry]:
    """Granting entries of ``power`` that the new open-ended entry would overlap."""
    out = []
    for e in existing:
        if e.power_id != power.pk:
            continue
        end = _ended_on(e)
        if end is not None and end <= effective_from:
            continue  # recovered on or before the new date: no overlap
        if regions_overlap(e.region, region, cache):
            out.append(e)
    return out


def _conflict_message(power: Power, entry: LedgerEntry) -> str:
    end = _ended_on(entry)
    period = _("（有效至%(date)s收回）") % {"date": end.isoformat()} if end else _("（尚未收回）")
    return _(
        "与已登记的%(entry)s%(period)s在区域和时间上重叠：权力“%(power)s”同一时间在同一区域"
        "只能由一个主体行使。请先收回该条目，或把生效日期定在收回之后。"
    ) % {"entry": _entry_label(entry), "period": period, "power": power.name}


def _recover_target(
    power: Power,
    region: Region,
    effective_from: dt.date,
    existing: Sequence[LedgerEntry],
    cache: dict,
) -> LedgerEntry:
    """The entry a recovery of ``power`` in ``region`` on ``effective_from`` ends, or raise."""
    same_region = [e for e in existing if e.power_id == power.pk and e.region_id == region.pk]
    for e in same_region:
        if _in_force(e, effective_from) and _ended_on(e) is None:
            if effective_from > e.effective_from:
                return e
            raise Conflict(
                _("收回日期%(date)s须晚于被收回条目的生效日期：%(entry)s。")
                % {"date": effective_from.isoformat(), "entry": _entry_label(e)},
                code="recover_before_grant",
            )
    # Explain why nothing can be recovered.
    for e in same_region:
        end = _ended_on(e)
        if end is None or e.effective_from > effective_from:
            continue
        superseded = any(x.effective_from > e.effective_from for x in same_region)
        if effective_from < end or not superseded:
            raise Conflict(
                _("%(entry)s已于%(date)s收回，不能重复收回。")
                % {"entry": _entry_label(e), "date": end.isoformat()},
                code="already_recovered",
            )
    later = [e for e in same_region if e.effective_from >= effective_from]
    if later:
        raise Conflict(
            _("收回日期%(date)s须晚于被收回条目的生效日期：%(entry)s。")
            % {"date": effective_from.isoformat(), "entry": _entry_label(later[0])},
            code="recover_before_grant",
        )
    broader = [
        e
        for e in existing
        if e.power_id == power.pk
        and e.region_id != region.pk
        and _in_force(e, effective_from)
        and covers(e.region, region, cache)
    ]
    if broader:
        raise Conflict(
            _(
                "权力“%(power)s”在%(region)s是经由%(entry)s行使的，收回须针对该条目的承接区域"
                "“%(target)s”。"
            )
            % {
                "power": power.name,
                "region": region.name,
                "entry": _entry_label(broader[0]),
                "target": broader[0].region.name,
            },
            code="recover_wrong_region",
        )
    raise Conflict(
        _("%(date)s权力“%(power)s”在%(region)s没有生效中的下放、委托或授权，无可收回。")
        % {"date": effective_from.isoformat(), "power": power.name, "region": region.name},
        code="nothing_to_recover",
    )


def _entry_data(entry: LedgerEntry) -> dict:
    return {
        "power": entry.power.code,
        "action": entry.action,
        "region": entry.region.code,
        "receiving_body": entry.receiving_body,
        "effective_from": entry.effective_from.isoformat(),
        "document_no": entry.document_no,
        "ends": entry.ends_id,
    }


def _lock(powers_: Sequence[Power]) -> None:
    # Serialize ledger writes per power (PostgreSQL row locks; SQLite serializes writers).
    list(Power.objects.select_for_update().filter(pk__in=[p.pk for p in powers_]).values("pk"))


# --------------------------------------------------------------------------------------------
# Writes


@transaction.atomic
def create_power(
    *,
    code: str,
    name: str,
    category: str,
    department: Department,
    level: str = ItemVersion.Level.CITY,
    basis: str = "",
    by=None,
    request=None,
) -> Power:
    """Add a power to the power list (权责清单). 409 when the code exists."""
    _check_permission(by, department)
    code = _clean_text(code, "code", _("权力编码"), 40)
    name = _clean_text(name, "name", _("权力名称"), 200)
    problems = []
    if not code:
        problems.append({"field": "code", "message": _("请填写权力编码。")})
    if not name:
        problems.append({"field": "name", "message": _("请填写权力名称。")})
    if category not in [c.value for c in POWER_CATEGORIES]:
        problems.append(
            {"field": "category", "message": _("权力类别须为01至10（十类行政权力）之一。")}
        )
    if level not in ItemVersion.Level.values:
        problems.append({"field": "level", "message": _("行使层级无效。")})
    basis = (basis or "").strip()
    if has_control_chars(basis, multiline=True):
        problems.append({"field": "basis", "message": _("实施依据含有控制字符。")})
    if problems:
        raise InvalidInput(problems[0]["message"], details=problems)
    if Power.objects.filter(code=code).exists():
        raise Conflict(
            _("权力编码“%(code)s”已存在。") % {"code": code},
            code="duplicate_code",
            details=[{"field": "code", "message": _("编码已存在。")}],
        )
    power = Power.objects.create(
        code=code,
        name=name,
        category=category,
        department=department,
        level=level,
        basis=basis,
    )
    audit.record(
        "catalog.power.create",
        actor=by,
        target=power,
        request=request,
        data={"code": code, "name": name, "category": category, "department": department.code},
    )
    return power


@transaction.atomic
def record_entry(
    power: Power,
    action: str,
    region: Region,
    effective_from: dt.date,
    document_no: str,
    receiving_body: str = "",
    note: str = "",
    *,
    by=None,
    request=None,
) -> LedgerEntry:
    """Record one ledger entry (下放 / 委托 / 授权 / 收回) after checking every rule.

    A recovery finds the entry it ends: the granting entry in force on its date for this power
    and exactly this region. Overlapping or contradictory entries are refused (409) with a
    message that names the conflicting entry and its document number.
    """
    _check_permission(by, power)
    effective_from, document_no = _check_common(region, effective_from, document_no, action)
    receiving_body = _clean_text(receiving_body, "receiving_body", _("承接主体"), 100)
    note = _clean_text(note, "note", _("备注"), 300)
    _check_region_in_department(power, region)
    _lock([power])
    existing = list(_granting_entries([power.pk]))
    cache: dict = {}
    ends = None
    if action == Action.RECOVER:
        ends = _recover_target(power, region, effective_from, existing, cache)
        receiving_body = ""
    else:
        if not power.active:
            raise Conflict(
                _("权力“%(power)s”已停用，不能再下放、委托或授权。") % {"power": power.name},
                code="power_inactive",
            )
        conflicts = _grant_conflicts(power, region, effective_from, existing, cache)
        if conflicts:
            raise Conflict(
                _conflict_message(power, conflicts[0]),
                code="ledger_overlap",
                details=[
                    {
                        "field": "region",
                        "entry": c.pk,
                        "document_no": c.document_no,
                        "message": _conflict_message(power, c),
                    }
                    for c in conflicts
                ],
            )
        receiving_body = receiving_body or _default_body(region)
    entry = LedgerEntry.objects.create(
        power=power,
        action=action,
        region=region,
        receiving_body=receiving_body,
        effective_from=effective_from,
        document_no=document_no,
        note=note,
        ends=ends,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    audit.record(
        f"catalog.ledger.{action}",
        actor=by,
        target=entry,
        request=request,
        data=_entry_data(entry),
    )
    return entry


def _unique(powers_: Iterable[Power]) -> list[Power]:
    seen: dict[int, Power] = {}
    for p in powers_:
        seen.setdefault(p.pk, p)
    return list(seen.values())


@transaction.atomic
def delegate_batch(
    powers: Iterable[Power],
    region: Region,
    effective_from: dt.date,
    document_no: str,
    by=None,
    action: str = Action.DELEGATE,
    *,
    receiving_body: str = "",
    note: str = "",
    request=None,
) -> list[LedgerEntry]:
    """Delegate (or entrust / authorize) every power in ``powers`` to ``region`` under one
    document. All or nothing: every refused power is reported in ``details``; nothing is
    written when one is refused."""
    if action not in GRANTING_ACTIONS:
        raise InvalidInput(
            _("批量调整方式须为下放、委托或授权；收回请使用批量收回。"),
            details=[{"field": "action", "message": _("调整方式无效。")}],
        )
    return _batch(
        powers, region, effective_from, document_no, by, action, receiving_body, note, request
    )


@transaction.atomic
def recover_batch(
    powers: Iterable[Power],
    region: Region,
    effective_from: dt.date,
    document_no: str,
    by=None,
    *,
    note: str = "",
    request=None,
) -> list[LedgerEntry]:
    """Recover (收回) every power in ``powers`` from ``region`` on ``effective_from``. All or
    nothing, reporting every power that has nothing in force there to recover."""
    return _batch(
        powers, region, effective_from, document_no, by, Action.RECOVER, "", note, request
    )


def _batch(powers_, region, effective_from, document_no, by, action, receiving_body, note, request):
    require_catalog_admin(by)
    items = _unique(powers_)
    if not items:
        raise InvalidInput(
            _("请至少选择一项行政权力。"),
            details=[{"field": "powers", "message": _("权力列表为空。")}],
        )
    if len(items) > MAX_BATCH:
        raise InvalidInput(
            _("一次最多调整%(n)s项权力。") % {"n": MAX_BATCH},
            details=[{"field": "powers", "message": _("数量超出限制。")}],
        )
    effective_from, document_no = _check_common(region, effective_from, document_no, action)
    receiving_body = _clean_text(receiving_body, "receiving_body", _("承接主体"), 100)
    note = _clean_text(note, "note", _("备注"), 300)
    items = list(
        Power.objects.select_related("department", "department__region")
        .filter(pk__in=[p.pk for p in items])
        .order_by("code")
    )
    _lock(items)
    existing = list(_granting_entries([p.pk for p in items]))
    cache: dict = {}
    refused: list[dict] = []
    plans: list[tuple[Power, LedgerEntry | None]] = []
    scope = None if by is None or by.is_superuser else scope_for(by, Role.CATALOG_ADMIN)
    for power in items:
        try:
            if scope is not None and not scope.allows_department(power.department):
                raise Forbidden(_("只有数据范围覆盖该部门的事项管理员可以调整行政权力。"))
            _check_region_in_department(power, region)
            if action == Action.RECOVER:
                plans.append(
                    (power, _recover_target(power, region, effective_from, existing, cache))
                )
                continue
            if not power.active:
                raise Conflict(
                    _("权力“%(power)s”已停用，不能再下放、委托或授权。") % {"power": power.name},
                    code="power_inactive",
                )
            conflicts = _grant_conflicts(power, region, effective_from, existing, cache)
            if conflicts:
                raise Conflict(
                    _conflict_message(power, conflicts[0]),
                    code="ledger_overlap",
                    details=[{"entry": c.pk, "document_no": c.document_no} for c in conflicts],
                )
            plans.append((power, None))
        except DomainError as exc:
            refused.append(
                {
                    "power": power.code,
                    "field": "powers",
                    "code": exc.code,
                    "status": exc.status,
                    "message": exc.message,
                }
            )
    if refused:
        forbidden = [r for r in refused if r["status"] == 403]
        if forbidden:
            raise Forbidden(forbidden[0]["message"], details=forbidden)
        raise Conflict(
            _("%(n)s项权力不能调整，本批次未登记任何条目。第一项：%(first)s")
            % {"n": len(refused), "first": f"{refused[0]['power']} {refused[0]['message']}"},
            code="ledger_batch_refused",
            details=refused,
        )
    body = "" if action == Action.RECOVER else (receiving_body or _default_body(region))
    created_by = by if getattr(by, "is_authenticated", False) else None
    entries = LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                power=power,
                action=action,
                region=region,
                receiving_body=body,
                effective_from=effective_from,
                document_no=document_no,
                note=note,
                ends=ends,
                created_by=created_by,
            )
            for power, ends in plans
        ]
    )
    if any(e.pk is None for e in entries):  # backends without RETURNING ids
        entries = list(
            LedgerEntry.objects.filter(
                power__in=items,
                action=action,
                region=region,
                effective_from=effective_from,
                document_no=document_no,
            ).order_by("power__code")
        )
    audit.record(
        "catalog.ledger.batch",
        actor=by,
        target_type="catalog.ledgerentry",
        target_id=f"{entries[0].pk}-{entries[-1].pk}",
        request=request,
        data={
            "action": action,
            "region": region.code,
            "effective_from": effective_from.isoformat(),
            "document_no": document_no,
            "powers": [p.code for p, _e in plans],
            "entries": [e.pk for e in entries],
        },
    )
    return entries
