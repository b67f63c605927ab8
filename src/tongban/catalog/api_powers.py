"""Powers API: the power list (权责清单), its delegation ledger (权力调整台账), "who exercises
power P in region R on date D", and the supervision catalog (监管事项目录).

Reads are public (power lists, delegation documents and supervision items are published).
Writes need a bearer token or session (401 otherwise) and a catalog administrator whose data
scope covers the department (403 otherwise). Creating POSTs accept ``Idempotency-Key``.
"""

import datetime as dt
from typing import Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate

from tongban.api.auth import PUBLIC, STAFF_OR_APPLICANT
from tongban.api.pagination import Paginated
from tongban.api.schemas import errors
from tongban.core.errors import InvalidInput
from tongban.core.idempotency import idempotent
from tongban.org.models import Department, Region

from . import ledger, supervision
from .models import POWER_CATEGORIES, ItemVersion, LedgerEntry, Power, SupervisionItem

router = Router(tags=["powers"])

CategoryCode = Literal[tuple(c.value for c in POWER_CATEGORIES)]  # type: ignore[valid-type]
LevelCode = Literal[tuple(ItemVersion.Level.values)]  # type: ignore[valid-type]
GrantAction = Literal["delegate", "entrust", "authorize"]
AnyAction = Literal["delegate", "entrust", "authorize", "recover"]


def _region(code: str, field: str = "region") -> Region:
    region = None if ledger.has_control_chars(code) else Region.objects.filter(code=code).first()
    if region is None:
        raise InvalidInput(
            _("未找到区划代码为“%(code)s”的区域。") % {"code": code},
            code="unknown_region",
            details=[{"field": field, "message": _("区划代码不存在。")}],
        )
    return region


def _department(code: str, field: str = "department") -> Department:
    department = (
        None
        if ledger.has_control_chars(code)
        else Department.objects.select_related("region").filter(code=code).first()
    )
    if department is None:
        raise InvalidInput(
            _("未找到编码为“%(code)s”的部门。") % {"code": code},
            code="unknown_department",
            details=[{"field": field, "message": _("部门编码不存在。")}],
        )
    return department


def _powers(codes: list[str], field: str = "powers") -> list[Power]:
    clean = [c for c in codes if not ledger.has_control_chars(c)]
    found = {
        p.code: p
        for p in Power.objects.select_related("department", "department__region").filter(
            code__in=clean
        )
    }
    missing = [c for c in dict.fromkeys(codes) if c not in found]
    if missing:
        raise InvalidInput(
            _("以下权力编码不存在：%(codes)s。") % {"codes": "、".join(missing[:20])},
            code="unknown_power",
            details=[
                {"field": field, "value": c, "message": _("权力编码不存在。")} for c in missing
            ],
        )
    return [found[c] for c in dict.fromkeys(codes)]


# --------------------------------------------------------------------------------------------
# Powers


class PowerOut(Schema):
    code: str
    name: str
    category: str
    category_label: str
    department: str
    department_name: str
    level: str
    level_label: str
    basis: str
    active: bool

    @staticmethod
    def resolve_category_label(obj: Power) -> str:
        return str(obj.get_category_display())

    @staticmethod
    def resolve_department(obj: Power) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj: Power) -> str:
        return obj.department.name

    @staticmethod
    def resolve_level_label(obj: Power) -> str:
        return str(obj.get_level_display())


class PowerFilter(Schema):
    department: str | None = Field(None, max_length=30, description="department code")
    category: CategoryCode | None = Field(None, description="01–10: the ten categories")
    level: LevelCode | None = None
    q: str = Field("", max_length=50, description="name, code prefix or basis")


@router.get("/powers", response=list[PowerOut], auth=PUBLIC)
@paginate(Paginated)
def list_powers(request, filters: Query[PowerFilter]):
    """The power list (权责清单), by code."""
    return ledger.powers(
        department=filters.department,
        category=filters.category,
        level=filters.level,
        q=filters.q,
    )


class PowerIn(Schema):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)
    category: CategoryCode
    department: str = Field(..., max_length=30, description="department code")
    level: LevelCode = "city"
    basis: str = Field("", max_length=5000)


@router.post(
    "/powers",
    response={201: PowerOut, **errors(401, 403, 409, 422)},
    auth=STAFF_OR_APPLICANT,
)
@decorate_view(idempotent)
def create_power(request, payload: PowerIn):
    """Add a power to the list (catalog administrators of the department; 409 on a known
    code). Supports ``Idempotency-Key``."""
    ledger.require_catalog_admin(request.user)
    power = ledger.create_power(
        code=payload.code,
        name=payload.name,
        category=payload.category,
        department=_department(payload.department),
        level=payload.level,
        basis=payload.basis,
        by=request.user,
        request=request,
    )
    return Status(201, power)


class EntryOut(Schema):
    id: int
    power: str
    action: str
    action_label: str
    region: str
    region_name: str
    receiving_body: str
    effective_from: dt.date
    document_no: str
    note: str
    ends: int | None

    @staticmethod
    def resolve_power(obj: LedgerEntry) -> str:
        return obj.power.code

    @staticmethod
    def resolve_action_label(obj: LedgerEntry) -> str:
        return str(obj.get_action_display())

    @staticmethod
    def resolve_region(obj: LedgerEntry) -> str:
        return obj.region.code

    @staticmethod
    def resolve_region_name(obj: LedgerEntry) -> str:
        return obj.region.name

    @staticmethod
    def resolve_ends(obj: LedgerEntry) -> int | None:
        return obj.ends_id


class InForceOut(Schema):
    region: str
    region_name: str
    action: str
    action_label: str
    body: str
    effective_from: dt.date
    document_no: str


class LinkedItemOut(Schema):
    code: str
    name: str


class PowerDetailOut(PowerOut):
    in_force_today: list[InForceOut]
    items: list[LinkedItemOut] = Field(..., alias="linked_items")
    supervision_items: list[LinkedItemOut] = Field(..., alias="linked_supervision")
    ledger_entries: int


@router.get("/powers/{code}", response={200: PowerDetailOut, **errors(404)}, auth=PUBLIC)
def get_power(request, code: str):
    """One power with where it is delegated today, the service items implementing it and the
    supervision items linked to it."""
    power = ledger.power_by_code(code)
    today = timezone.localdate()
    rows = ledger.timeline(power).rows
    in_force = [
        InForceOut(
            region=r.region.code,
            region_name=r.region.name,
            action=r.action,
            action_label=r.action_label,
            body=r.exercised_by,
            effective_from=r.effective_from,
            document_no=r.document_no,
        )
        for r in rows
        if r.action != LedgerEntry.Action.RECOVER
        and r.effective_from <= today
        and (r.effective_to is None or today < r.effective_to)
    ]
    items = [
        LinkedItemOut(code=i.code, name=str(i))
        for i in power.items.select_related("published_version").order_by("code")[:200]
    ]
    sup = [
        LinkedItemOut(code=s.code, name=s.name)
        for s in power.supervision_items.filter(active=True).order_by("code")[:200]
    ]
    power.in_force_today = in_force
    power.linked_items = items
    power.linked_supervision = sup
    power.ledger_entries = len(rows)
    return power


class TimelineRowOut(Schema):
    id: int
    action: str
    action_label: str
    region: str
    region_name: str
    effective_from: dt.date
    effective_to: dt.date | None = Field(None, description="the recovery date (exclusive)")
    exercised_by: str
    document_no: str
    note: str
    recovers: int | None = Field(None, description="for a recovery: the entry it ends")
    ended_by: int | None = Field(None, description="the recovery that ends this entry")


class TimelineOut(Schema):
    power: str
    power_name: str
    owner: str
    entries: list[TimelineRowOut]


@router.get("/powers/{code}/ledger", response={200: TimelineOut, **errors(404)}, auth=PUBLIC)
def power_ledger(request, code: str):
    """The power's ledger in date order with who exercised it in each period: a granting entry
    covers ``[effective_from, effective_to)``; from a recovery's date the department itself
    exercises the power again there."""
    power = ledger.power_by_code(code)
    tl = ledger.timeline(power)
    return TimelineOut(
        power=power.code,
        power_name=power.name,
        owner=tl.owner,
        entries=[
            TimelineRowOut(
                id=r.entry.pk,
                action=r.action,
                action_label=r.action_label,
                region=r.region.code,
                region_name=r.region.name,
                effective_from=r.effective_from,
                effective_to=r.effective_to,
                exercised_by=r.exercised_by,
                document_no=r.document_no,
                note=r.entry.note,
                recovers=r.recovers.pk if r.recovers else None,
                ended_by=r.ended_by.pk if r.ended_by else None,
            )
            for r in tl.rows
        ],
    )


class WhoQuery(Schema):
    region: str = Field(..., min_length=1, max_length=20, description="division code")
    date: dt.date | None = Field(None, description="YYYY-MM-DD; default today")


class ExerciseOut(Schema):
    power: str
    region: str
    date: dt.date
    mode: str = Field(..., description="own / delegate / entrust / authorize")
    mode_label: str
    body: str = Field(..., description="the body that exercises the power")
    in_name_of: str = Field(..., description="whose name decisions bear (委托: the department)")
    department: str | None
    body_region: str | None
    entry: EntryOut | None


@router.get(
    "/powers/{code}/who-exercises",
    response={200: ExerciseOut, **errors(404, 422)},
    auth=PUBLIC,
)
def who_exercises(request, code: str, query: Query[WhoQuery]):
    """Who exercises the power in a region on a date, following the ledger: an entry takes
    effect on its date, a recovery ends it on its date."""
    power = ledger.power_by_code(code)
    region = _region(query.region)
    on = query.date or timezone.localdate()
    ex = ledger.who_exercises(power, region, on)
    return {
        "power": power.code,
        "region": region.code,
        "date": on,
        "mode": ex.mode,
        "mode_label": str(ex.mode_label),
        "body": ex.body,
        "in_name_of": ex.in_name_of,
        "department": ex.department.code if ex.department else None,
        "body_region": ex.region.code if ex.region else None,
        "entry": ex.entry,
    }


class EntryIn(Schema):
    action: AnyAction
    region: str = Field(..., min_length=1, max_length=20, description="division code")
    effective_from: dt.date
    document_no: str = Field(..., max_length=100, description="文号")
    receiving_body: str = Field("", max_length=100, description="承接主体 (default: by region)")
    note: str = Field("", max_length=300)


@router.post(
    "/powers/{code}/ledger",
    response={201: EntryOut, **errors(401, 403, 404, 409, 422)},
    auth=STAFF_OR_APPLICANT,
)
@decorate_view(idempotent)
def add_entry(request, code: str, payload: EntryIn):
    """Record a delegation (下放), entrustment (委托), authorization (授权) or recovery (收回).
    Overlapping or contradictory entries are refused with 409. Supports ``Idempotency-Key``."""
    ledger.require_catalog_admin(request.user)
    power = ledger.power_by_code(code)
    entry = ledger.record_entry(
        power,
        payload.action,
        _region(payload.region),
        payload.effective_from,
        payload.document_no,
        receiving_body=payload.receiving_body,
        note=payload.note,
        by=request.user,
        request=request,
    )
    return Status(201, entry)


class BatchIn(Schema):
    action: AnyAction = "delegate"
    powers: list[str] = Field(..., min_length=1, max_length=ledger.MAX_BATCH)
    region: str = Field(..., min_length=1, max_length=20)
    effective_from: dt.date
    document_no: str = Field(..., max_length=100)
    receiving_body: str = Field("", max_length=100)
    note: str = Field("", max_length=300)


class BatchOut(Schema):
    action: str
    region: str
    effective_from: dt.date
    document_no: str
    count: int
    entries: list[EntryOut]


@router.post(
    "/ledger/batches",
    response={201: BatchOut, **errors(401, 403, 409, 422)},
    auth=STAFF_OR_APPLICANT,
)
@decorate_view(idempotent)
def add_batch(request, payload: BatchIn):
    """Delegate / entrust / authorize, or recover, a set of powers for one region under one
    document. All or nothing: when any power is refused nothing is written and ``details``
    lists every refused power. Supports ``Idempotency-Key``."""
    ledger.require_catalog_admin(request.user)
    powers = _powers(payload.powers)
    region = _region(payload.region)
    if payload.action == LedgerEntry.Action.RECOVER:
        entries = ledger.recover_batch(
            powers,
            region,
            payload.effective_from,
            payload.document_no,
            by=request.user,
            note=payload.note,
            request=request,
        )
    else:
        entries = ledger.delegate_batch(
            powers,
            region,
            payload.effective_from,
            payload.document_no,
            by=request.user,
            action=payload.action,
            receiving_body=payload.receiving_body,
            note=payload.note,
            request=request,
        )
    entries = list(
        LedgerEntry.objects.filter(pk__in=[e.pk for e in entries])
        .select_related("power", "region")
        .order_by("power__code")
    )
    return Status(
        201,
        {
            "action": payload.action,
            "region": region.code,
            "effective_from": payload.effective_from,
            "document_no": payload.document_no.strip(),
            "count": len(entries),
            "entries": entries,
        },
    )


# --------------------------------------------------------------------------------------------
# Supervision items


class SupervisionOut(Schema):
    code: str
    name: str
    department: str
    department_name: str
    level: str
    level_label: str
    object: str
    active: bool

    @staticmethod
    def resolve_department(obj: SupervisionItem) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj: SupervisionItem) -> str:
        return obj.department.name

    @staticmethod
    def resolve_level_label(obj: SupervisionItem) -> str:
        return str(obj.get_level_display())


class SimilarOut(Schema):
    code: str
    name: str
    department: str
    kind: str = Field(..., description="duplicate / near")
    score: float


class SupervisionDetailOut(SupervisionOut):
    basis: str
    measures: str
    powers: list[LinkedItemOut]
    similar: list[SimilarOut] = Field(
        default_factory=list, description="near names confirmed at this write"
    )

    @staticmethod
    def resolve_powers(obj: SupervisionItem) -> list[LinkedItemOut]:
        return [LinkedItemOut(code=p.code, name=p.name) for p in obj.powers.order_by("code")]

    @staticmethod
    def resolve_similar(obj: SupervisionItem) -> list[dict]:
        return [s.as_dict() for s in getattr(obj, "similar", [])]


class SupervisionFilter(Schema):
    department: str | None = Field(None, max_length=30)
    power: str | None = Field(None, max_length=40, description="linked power code")
    q: str = Field("", max_length=50)


@router.get("/supervision-items", response=list[SupervisionOut], auth=PUBLIC)
@paginate(Paginated)
def list_supervision_items(request, filters: Query[SupervisionFilter]):
    """The unified supervision catalog (监管事项目录), by code."""
    return supervision.supervision_items(
        department=filters.department, q=filters.q, power=filters.power
    )


class SimilarQuery(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    department: str | None = Field(None, max_length=30)


class SimilarListOut(Schema):
    name: str
    normalized_name: str
    similar: list[SimilarOut]


@router.get(
    "/supervision-items/similar",
    response={200: SimilarListOut, **errors(422)},
    auth=PUBLIC,
)
def similar_supervision_items(request, query: Query[SimilarQuery]):
    """Existing items with the same or a near name (check a name before creating an item)."""
    department = _department(query.department) if query.department else None
    found = supervision.find_similar(query.name, department)
    return SimilarListOut(
        name=query.name,
        normalized_name=supervision.normalize_name(query.name),
        similar=[s.as_dict() for s in found],
    )


@router.get(
    "/supervision-items/{code}",
    response={200: SupervisionDetailOut, **errors(404)},
    auth=PUBLIC,
)
def get_supervision_item(request, code: str):
    return supervision.supervision_by_code(code)


class SupervisionIn(Schema):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)
    department: str = Field(..., max_length=30)
    level: LevelCode = "city"
    basis: str = Field("", max_length=10000)
    measures: str = Field("", max_length=10000)
    object: str = Field("", max_length=200)
    powers: list[str] = Field(default_factory=list, max_length=500)
    confirm_similar: bool = Field(False, description="create even though near names exist")


@router.post(
    "/supervision-items",
    response={201: SupervisionDetailOut, **errors(401, 403, 409, 422)},
    auth=STAFF_OR_APPLICANT,
)
@decorate_view(idempotent)
def create_supervision_item(request, payload: SupervisionIn):
    """Add a supervision item (catalog administrators of the department). 409 for a known code
    or the same name; 422 ``similar_names`` listing near names unless ``confirm_similar``.
    Supports ``Idempotency-Key``."""
    ledger.require_catalog_admin(request.user)
    item = supervision.create_supervision_item(
        code=payload.code,
        name=payload.name,
        department=_department(payload.department),
        level=payload.level,
        basis=payload.basis,
        measures=payload.measures,
        object=payload.object,
        powers=_powers(payload.powers) if payload.powers else (),
        confirm_similar=payload.confirm_similar,
        by=request.user,
        request=request,
    )
    return Status(201, item)


class SupervisionPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    department: str | None = Field(None, max_length=30)
    level: LevelCode | None = None
    basis: str | None = Field(None, max_length=10000)
    measures: str | None = Field(None, max_length=10000)
    object: str | None = Field(None, max_length=200)
    active: bool | None = None
    powers: list[str] | None = Field(None, max_length=500)
    confirm_similar: bool = False


@router.patch(
    "/supervision-items/{code}",
    response={200: SupervisionDetailOut, **errors(401, 403, 404, 409, 422)},
    auth=STAFF_OR_APPLICANT,
)
def update_supervision_item(request, code: str, payload: SupervisionPatch):
    """Change a supervision item; a new name is checked like a new item's."""
    ledger.require_catalog_admin(request.user)
    item = supervision.supervision_by_code(code)
    fields = payload.dict(exclude_unset=True, exclude={"department", "powers", "confirm_similar"})
    fields = {k: v for k, v in fields.items() if v is not None}
    return supervision.update_supervision_item(
        item,
        fields,
        department=_department(payload.department) if payload.department else None,
        powers=_powers(payload.powers) if payload.powers is not None else None,
        confirm_similar=payload.confirm_similar,
        by=request.user,
        request=request,
    )
