"""Service-item API: list, filter and search items; detail, versions and guide; catalog
administrators' writes (create, new version, edit draft, workflow actions, acceptance batches).

Reads are public (drafts and versions under review only for the item's catalog administrators).
Writes need a login (401) and the catalog administrator role over the item's department (403);
illegal workflow moves are 409, rule failures 422 with every error in ``details``.
"""

import json
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate

from tongban.api.auth import PUBLIC, STAFF_OR_APPLICANT
from tongban.api.pagination import Paginated
from tongban.api.schemas import choice_label, errors, url_or_none
from tongban.core.errors import InvalidInput, NotFound
from tongban.core.idempotency import idempotent
from tongban.org.hours import describe
from tongban.org.models import Department, ServiceCenter

from . import acceptance, lifecycle, selectors, services, themes
from .models import (
    AcceptanceBatch,
    AcceptanceRule,
    AcceptanceScope,
    BusinessKind,
    ItemType,
    ItemVersion,
    Material,
    Power,
    ProcessStep,
    ServiceItem,
    Subject,
)

router = Router(tags=["catalog"])

WRITE_ERRORS = errors(401, 403, 404, 409, 422)


def _person(user) -> str | None:
    if user is None:
        return None
    return getattr(user, "display_name", "") or user.get_username()


# ---------------------------------------------------------------------------- list


class ItemRowOut(Schema):
    code: str
    base_code: str
    name: str
    item_type: str
    item_type_label: str
    department: str
    department_name: str
    subject: str
    subject_label: str
    online_depth: int
    max_visits: int
    promised_limit_days: int
    legal_limit_days: int | None
    case_kind: str
    case_kind_label: str
    handled_online: bool
    no_meeting: bool
    high_frequency: bool
    acceptance_scope: str
    acceptance_scope_label: str
    parent: str | None
    business_kind: str

    @staticmethod
    def resolve_name(obj: ServiceItem) -> str:
        return obj.published_version.name

    @staticmethod
    def resolve_item_type_label(obj: ServiceItem) -> str:
        return choice_label(ItemType, obj.item_type)

    @staticmethod
    def resolve_department(obj: ServiceItem) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj: ServiceItem) -> str:
        return obj.department.name

    @staticmethod
    def resolve_subject(obj: ServiceItem) -> str:
        return obj.published_version.subject

    @staticmethod
    def resolve_subject_label(obj: ServiceItem) -> str:
        return choice_label(Subject, obj.published_version.subject)

    @staticmethod
    def resolve_online_depth(obj: ServiceItem) -> int:
        return obj.published_version.online_depth

    @staticmethod
    def resolve_max_visits(obj: ServiceItem) -> int:
        return obj.published_version.max_visits

    @staticmethod
    def resolve_promised_limit_days(obj: ServiceItem) -> int:
        return obj.published_version.promised_limit_days

    @staticmethod
    def resolve_legal_limit_days(obj: ServiceItem) -> int | None:
        return obj.published_version.legal_limit_days

    @staticmethod
    def resolve_case_kind(obj: ServiceItem) -> str:
        return obj.published_version.case_kind

    @staticmethod
    def resolve_case_kind_label(obj: ServiceItem) -> str:
        return choice_label(ItemVersion.CaseKind, obj.published_version.case_kind)

    @staticmethod
    def resolve_handled_online(obj: ServiceItem) -> bool:
        return obj.published_version.handled_online

    @staticmethod
    def resolve_no_meeting(obj: ServiceItem) -> bool:
        return obj.published_version.no_meeting

    @staticmethod
    def resolve_acceptance_scope(obj: ServiceItem) -> str:
        return getattr(obj, "current_scope", None) or acceptance.DEFAULT_SCOPE

    @staticmethod
    def resolve_acceptance_scope_label(obj: ServiceItem) -> str:
        scope = getattr(obj, "current_scope", None) or acceptance.DEFAULT_SCOPE
        return choice_label(AcceptanceScope, scope)

    @staticmethod
    def resolve_parent(obj: ServiceItem) -> str | None:
        return obj.parent.code if obj.parent_id else None


class ItemFilter(Schema):
    q: str = Field("", max_length=100, description="search text (Chinese understood)")
    type: ItemType | None = Field(None, description="事项类型 code, e.g. 01")
    department: str | None = Field(None, max_length=30, description="department code")
    depth: int | None = Field(None, ge=1, le=4, description="网上办理深度 1–4")
    subject: Subject | None = None
    center: str | None = Field(None, max_length=30, description="center code: items it accepts")
    high_frequency: bool | None = None
    theme: str | None = Field(None, max_length=40)
    life_event: str | None = Field(None, max_length=40)


class SearchResults:
    """A lazy, sliceable result of search_items, so the standard paginator can page it: the
    slice runs one search for that page, ``count()`` reuses its total."""

    def __init__(self, q: str, filters: dict[str, Any]) -> None:
        self.q, self.filters, self.total = q, filters, None

    def all(self):
        return self

    def _run(self, offset: int, limit: int) -> list[ServiceItem]:
        from . import search

        page = search.search_items(self.q, limit=limit, offset=offset, **self.filters)
        self.total = page.total
        return selectors.items_by_ids(list(page.ids))

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("SearchResults supports slices only")
        start = index.start or 0
        stop = index.stop if index.stop is not None else start + 20
        return self._run(start, max(stop - start, 0))

    def count(self) -> int:
        if self.total is None:
            self._run(0, 1)
        return self.total or 0

    def __len__(self) -> int:
        return self.count()


@router.get("/items", response=list[ItemRowOut], auth=PUBLIC)
@paginate(Paginated)
def list_items(request, filters: Query[ItemFilter]):
    """Published items in use. With ``q``: best matches first (word segmentation, aliases,
    everyday phrases, materials); without: ordered by code. Filters combine."""
    texts = (filters.q, filters.department, filters.center, filters.theme, filters.life_event)
    if any("\x00" in (v or "") for v in texts):
        return ServiceItem.objects.none()
    department = None
    if filters.department:
        department = Department.objects.filter(code=filters.department).first()
        if department is None:
            return ServiceItem.objects.none()
    center = None
    if filters.center:
        center = ServiceCenter.objects.filter(code=filters.center, active=True).first()
        if center is None:
            return ServiceItem.objects.none()
    q = filters.q.strip()
    if q:
        return SearchResults(
            q,
            {
                "item_type": filters.type.value if filters.type else None,
                "department": department,
                "depth": filters.depth,
                "subject": filters.subject.value if filters.subject else None,
                "center": center,
                "theme": filters.theme or None,
                "life_event": filters.life_event or None,
                "high_frequency": filters.high_frequency,
            },
        )
    return selectors.published_items(
        item_type=filters.type,
        department=department,
        depth=filters.depth,
        subject=filters.subject,
        center=center,
        high_frequency=filters.high_frequency,
        theme=filters.theme,
        life_event=filters.life_event,
    )


# ---------------------------------------------------------------------------- detail


class MaterialOut(Schema):
    id: int
    order: int
    name: str
    kind: str
    kind_label: str
    form: str
    form_label: str
    necessity: str
    necessity_label: str
    source: str
    source_label: str
    licence_type: str
    copies: int
    standard: str
    basis: str
    blank_form: str
    blank_form_url: str | None
    sample: str
    sample_url: str | None

    @staticmethod
    def resolve_kind_label(obj: Material) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_form_label(obj: Material) -> str:
        return str(obj.get_form_display())

    @staticmethod
    def resolve_necessity_label(obj: Material) -> str:
        return str(obj.get_necessity_display())

    @staticmethod
    def resolve_source_label(obj: Material) -> str:
        return str(obj.get_source_display())

    @staticmethod
    def resolve_blank_form(obj: Material) -> str:
        return obj.blank_form.name or ""

    @staticmethod
    def resolve_sample(obj: Material) -> str:
        return obj.sample.name or ""

    @staticmethod
    def resolve_blank_form_url(obj: Material) -> str | None:
        if not obj.blank_form:
            return None
        return url_or_none("catalog:material_file", obj.version.item.code, obj.pk, "blank_form")

    @staticmethod
    def resolve_sample_url(obj: Material) -> str | None:
        if not obj.sample:
            return None
        return url_or_none("catalog:material_file", obj.version.item.code, obj.pk, "sample")


class StepOut(Schema):
    order: int
    kind: str
    kind_label: str
    name: str
    role: str
    office: str
    days: int

    @staticmethod
    def resolve_kind_label(obj: ProcessStep) -> str:
        return str(obj.get_kind_display())


class FaqOut(Schema):
    order: int
    question: str
    answer: str


class VersionContentOut(Schema):
    """Every element of an implementation list (实施清单) in one version."""

    number: int
    state: str
    state_label: str
    name: str
    aliases: str
    keywords: str
    themes: list[str]
    theme_labels: list[str]
    life_events: list[str]
    life_event_labels: list[str]
    basis: str
    power_source: str
    exercise_level: str
    implementer_nature: str
    entrusting_department: str
    subject: str
    subject_label: str
    legal_limit_days: int | None
    legal_limit_note: str
    promised_limit_days: int
    promised_limit_note: str
    case_kind: str
    case_kind_label: str
    green_channel: bool
    conditions: str
    special_procedures: str
    handled_at_window: bool
    handled_online: bool
    handled_by_mail: bool
    online_depth: int
    online_depth_label: str
    max_visits: int
    in_hall: bool
    tongban_scope: str
    quantity_limit: str
    result_type: str
    result_name: str
    result_by_mail: bool
    materials_by_mail: bool
    self_service_terminal: bool
    appointment_supported: bool
    appointment_daily_quota: int | None
    online_payment: bool
    intermediary_service: str
    charges_fee: bool
    fee_items: str
    fee_basis: str
    fee_reduction: str
    consultation: str
    complaint: str
    remedies: str
    change_note: str
    no_meeting: bool
    published_at: datetime | None
    retired_at: datetime | None
    materials: list[MaterialOut]
    steps: list[StepOut]
    faqs: list[FaqOut]

    @staticmethod
    def resolve_state_label(obj: ItemVersion) -> str:
        return str(obj.get_state_display())

    @staticmethod
    def resolve_themes(obj: ItemVersion) -> list[str]:
        return [str(c) for c in (obj.themes or [])]

    @staticmethod
    def resolve_life_events(obj: ItemVersion) -> list[str]:
        return [str(c) for c in (obj.life_events or [])]

    @staticmethod
    def resolve_theme_labels(obj: ItemVersion) -> list[str]:
        return themes.labels(obj.themes, themes.THEMES)

    @staticmethod
    def resolve_life_event_labels(obj: ItemVersion) -> list[str]:
        return themes.labels(obj.life_events, themes.LIFE_EVENTS)

    @staticmethod
    def resolve_subject_label(obj: ItemVersion) -> str:
        return choice_label(Subject, obj.subject)

    @staticmethod
    def resolve_case_kind_label(obj: ItemVersion) -> str:
        return choice_label(ItemVersion.CaseKind, obj.case_kind)

    @staticmethod
    def resolve_online_depth_label(obj: ItemVersion) -> str:
        return choice_label(ItemVersion.OnlineDepth, obj.online_depth)

    @staticmethod
    def resolve_materials(obj: ItemVersion) -> list[Material]:
        return list(obj.materials.all())

    @staticmethod
    def resolve_steps(obj: ItemVersion) -> list[ProcessStep]:
        return list(obj.steps.all())

    @staticmethod
    def resolve_faqs(obj: ItemVersion) -> list:
        return list(obj.faqs.all())


class SubItemOut(Schema):
    code: str
    name: str
    business_kind: str
    business_kind_label: str


def _sub_items(item: ServiceItem) -> list[dict[str, str]]:
    return [
        {
            "code": s.code,
            "name": s.published_version.name,
            "business_kind": s.business_kind,
            "business_kind_label": choice_label(BusinessKind, s.business_kind),
        }
        for s in selectors.sub_items(item)
    ]


class ItemDetailOut(Schema):
    code: str
    base_code: str
    item_type: str
    item_type_label: str
    department: str
    department_name: str
    parent: str | None
    business_kind: str
    power: str | None
    high_frequency: bool
    acceptance_scope: str
    acceptance_scope_label: str
    accepting_centers_count: int
    sub_items: list[SubItemOut]
    version: VersionContentOut
    guide_url: str | None
    pdf_url: str | None


def _detail(item: ServiceItem, on_date: date | None = None) -> dict[str, Any]:
    scope = getattr(item, "current_scope", None) or acceptance.scope_on(item, on_date)
    version = item.published_version
    version.item = item
    return {
        "code": item.code,
        "base_code": item.base_code,
        "item_type": item.item_type,
        "item_type_label": choice_label(ItemType, item.item_type),
        "department": item.department.code,
        "department_name": item.department.name,
        "parent": item.parent.code if item.parent_id else None,
        "business_kind": item.business_kind,
        "power": item.power.code if item.power_id else None,
        "high_frequency": item.high_frequency,
        "acceptance_scope": scope,
        "acceptance_scope_label": choice_label(AcceptanceScope, scope),
        "accepting_centers_count": acceptance.accepting_centers(item, on_date).count(),
        "sub_items": _sub_items(item),
        "version": version,
        "guide_url": url_or_none("catalog:guide", item.code),
        "pdf_url": url_or_none("catalog:guide_pdf", item.code),
    }


@router.get("/items/{code}", response={200: ItemDetailOut, **errors(404)}, auth=PUBLIC)
def get_item(request, code: str):
    """An item in force: every element of its published implementation list, with materials,
    steps, FAQs, sub-items and how many centers accept it today."""
    return _detail(selectors.item_detail(code))


class CenterOut(Schema):
    code: str
    name: str
    level: str
    level_label: str
    region_name: str
    address: str
    phone: str
    opening_hours_text: list[str]


class GuideOut(ItemDetailOut):
    """What the guide page (办事指南) shows."""

    fee_text: str
    visits_text: str
    online_apply: bool
    appointment: bool
    accepting_centers: list[CenterOut]


@router.get("/items/{code}/guide", response={200: GuideOut, **errors(404)}, auth=PUBLIC)
def get_guide(request, code: str):
    """The service guide (办事指南): conditions, materials with blank forms, steps, limits,
    fees, and where to go (accepting centers with opening hours)."""
    item = selectors.item_detail(code)
    data = _detail(item)
    version = item.published_version
    centers = acceptance.accepting_centers(item)
    data["accepting_centers"] = [
        {
            "code": c.code,
            "name": c.name,
            "level": c.level,
            "level_label": str(c.get_level_display()),
            "region_name": c.region.name,
            "address": c.address,
            "phone": c.phone,
            "opening_hours_text": describe(c.opening_hours or {}),
        }
        for c in centers
    ]
    data["fee_text"] = (version.fee_items or _("收费")) if version.charges_fee else _("不收费")
    data["visits_text"] = (
        _("无需到现场")
        if version.max_visits == 0
        else _("到现场%(n)d次") % {"n": version.max_visits}
    )
    data["online_apply"] = version.handled_online
    data["appointment"] = version.appointment_supported
    return data


# ---------------------------------------------------------------------------- versions


class VersionPeopleOut(Schema):
    """Who wrote, submitted and approved a version: shown only to the item's catalog admins."""

    created_by: str | None
    submitted_by: str | None
    approved_by: str | None

    @staticmethod
    def resolve_created_by(obj: ItemVersion) -> str | None:
        return _person(obj.created_by) if getattr(obj, "show_people", False) else None

    @staticmethod
    def resolve_submitted_by(obj: ItemVersion) -> str | None:
        return _person(obj.submitted_by) if getattr(obj, "show_people", False) else None

    @staticmethod
    def resolve_approved_by(obj: ItemVersion) -> str | None:
        return _person(obj.approved_by) if getattr(obj, "show_people", False) else None


class VersionSummaryOut(VersionPeopleOut):
    number: int
    state: str
    state_label: str
    name: str
    change_note: str
    created_at: datetime
    published_at: datetime | None
    retired_at: datetime | None

    @staticmethod
    def resolve_state_label(obj: ItemVersion) -> str:
        return str(obj.get_state_display())


class IssueOut(Schema):
    field: str
    message: str
    rule: str = ""


class RejectionOut(Schema):
    reason: str
    at: datetime
    by: str


class VersionDetailOut(VersionContentOut, VersionPeopleOut):
    item: str
    created_at: datetime
    actions: list[str] = Field(..., description="workflow actions the caller may take now")
    issues: list[IssueOut] = Field(..., description="cross-field rule errors (for editors)")
    last_rejection: RejectionOut | None

    @staticmethod
    def resolve_item(obj: ItemVersion) -> str:
        return obj.item.code

    @staticmethod
    def resolve_actions(obj: ItemVersion) -> list[str]:
        return list(getattr(obj, "caller_actions", []))

    @staticmethod
    def resolve_issues(obj: ItemVersion) -> list[dict]:
        return list(getattr(obj, "issues", []))

    @staticmethod
    def resolve_last_rejection(obj: ItemVersion) -> dict | None:
        return getattr(obj, "rejection", None)


def _version_out(version: ItemVersion, user) -> ItemVersion:
    """Decorate a version for VersionDetailOut according to what ``user`` may see and do."""
    from .rules import check_version

    version = (
        ItemVersion.objects.select_related(
            "item", "item__department", "created_by", "submitted_by", "approved_by"
        )
        .prefetch_related("materials", "steps", "faqs")
        .get(pk=version.pk)
    )
    manager = lifecycle.can_manage(user, version.item.department)
    version.show_people = manager
    version.caller_actions = (
        [str(t.action) for t in lifecycle.available_actions(version, user)] if manager else []
    )
    version.issues = check_version(version) if manager and not version.frozen else []
    version.rejection = selectors.last_rejection(version) if manager else None
    return version


@router.get(
    "/items/{code}/versions", response={200: list[VersionSummaryOut], **errors(404)}, auth=PUBLIC
)
def list_versions(request, code: str):
    """An item's versions, newest first. Drafts and versions under review are listed for the
    item's catalog administrators only."""
    item = selectors.item_by_code(code)
    user = request.user
    versions = list(selectors.versions_of(item, user))
    show = lifecycle.can_manage(user, item.department)
    for v in versions:
        v.show_people = show
    return versions


@router.get(
    "/items/{code}/versions/{number}",
    response={200: VersionDetailOut, **errors(404)},
    auth=PUBLIC,
)
def get_version(request, code: str, number: int = Path(..., ge=1, le=100_000)):
    """One version in full (a published or retired one for anyone; drafts for editors)."""
    item = selectors.item_by_code(code)
    return _version_out(selectors.version_of(item, number, request.user), request.user)


# ---------------------------------------------------------------------------- writes


def _short(max_length: int):
    return Field(None, max_length=max_length)


class MaterialIn(Schema):
    id: int | None = Field(None, description="id of a material of this draft: keeps its files")
    name: str = Field(..., max_length=200)
    kind: Material.Kind = Material.Kind.ORIGINAL
    form: Material.Form = Material.Form.BOTH
    necessity: Material.Necessity = Material.Necessity.REQUIRED
    source: Material.Source = Material.Source.APPLICANT
    licence_type: str = Field("", max_length=100)
    copies: int = Field(1, ge=0, le=99)
    standard: str = Field("", max_length=300)
    basis: str = Field("", max_length=300)


class StepIn(Schema):
    kind: ProcessStep.Kind
    name: str = Field(..., max_length=100)
    role: str = Field(..., max_length=20)
    office: str = Field("", max_length=100)
    days: int = Field(0, ge=0, le=999)


class FaqIn(Schema):
    question: str = Field(..., max_length=300)
    answer: str = Field(..., max_length=5000)


class VersionIn(Schema):
    """Fields of an implementation list; omitted fields keep their value. ``materials``,
    ``steps`` and ``faqs`` replace the whole list when given."""

    name: str | None = _short(200)
    aliases: str | None = _short(2000)
    keywords: str | None = _short(2000)
    themes: list[str] | None = Field(None, max_length=30)
    life_events: list[str] | None = Field(None, max_length=30)
    basis: str | None = _short(5000)
    power_source: ItemVersion.PowerSource | None = None
    exercise_level: ItemVersion.Level | None = None
    implementer_nature: ItemVersion.ImplementerNature | None = None
    entrusting_department: str | None = _short(100)
    subject: Subject | None = None
    legal_limit_days: int | None = Field(None, ge=0, le=3650)
    legal_limit_note: str | None = _short(300)
    promised_limit_days: int | None = Field(None, ge=0, le=3650)
    promised_limit_note: str | None = _short(300)
    case_kind: ItemVersion.CaseKind | None = None
    green_channel: bool | None = None
    conditions: str | None = _short(5000)
    special_procedures: str | None = _short(5000)
    handled_at_window: bool | None = None
    handled_online: bool | None = None
    handled_by_mail: bool | None = None
    online_depth: int | None = Field(None, ge=1, le=4)
    max_visits: int | None = Field(None, ge=0, le=2)
    in_hall: bool | None = None
    tongban_scope: ItemVersion.TongbanScope | None = None
    quantity_limit: str | None = _short(200)
    result_type: str | None = _short(50)
    result_name: str | None = _short(200)
    result_by_mail: bool | None = None
    materials_by_mail: bool | None = None
    self_service_terminal: bool | None = None
    appointment_supported: bool | None = None
    appointment_daily_quota: int | None = Field(None, ge=0, le=100_000)
    online_payment: bool | None = None
    intermediary_service: str | None = _short(300)
    charges_fee: bool | None = None
    fee_items: str | None = _short(5000)
    fee_basis: str | None = _short(5000)
    fee_reduction: str | None = _short(5000)
    consultation: str | None = _short(300)
    complaint: str | None = _short(300)
    remedies: str | None = _short(300)
    change_note: str | None = _short(300)
    materials: list[MaterialIn] | None = Field(None, max_length=60)
    steps: list[StepIn] | None = Field(None, max_length=30)
    faqs: list[FaqIn] | None = Field(None, max_length=50)


# Fields whose null is meaningful (a cleared number); other nulls mean "not given".
_NULLABLE = {"legal_limit_days", "appointment_daily_quota"}


def _version_data(payload: VersionIn) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    data = {k: v for k, v in data.items() if v is not None or k in _NULLABLE}
    for key in ("materials", "steps", "faqs"):
        if key in data:
            data[key] = [{k: v for k, v in row.items() if v is not None} for row in data[key]]
    if "tongban_scope" in data and data["tongban_scope"] is None:
        data["tongban_scope"] = ""
    return data


class ItemCreateIn(Schema):
    code: str = Field(..., min_length=1, max_length=40, description="实施编码")
    base_code: str = Field(..., min_length=1, max_length=12, description="基本编码")
    item_type: ItemType
    department: str = Field(..., min_length=1, max_length=30, description="department code")
    parent: str | None = Field(None, max_length=40, description="code of the base item")
    business_kind: BusinessKind | None = None
    power: str | None = Field(None, max_length=40, description="power code")
    high_frequency: bool = False
    acceptance_scope: AcceptanceScope = AcceptanceScope.DEPARTMENT_CENTER
    acceptance_from: date | None = None
    version: VersionIn


def _lookup(model, field: str, code: str | None, label: str):
    if not code:
        return None
    obj = model.objects.filter(code=code).first() if "\x00" not in code else None
    if obj is None:
        message = _("未找到%(what)s：%(code)s。") % {"what": label, "code": code}
        raise InvalidInput(message, details=[{"field": field, "message": message}])
    return obj


@router.post("/items", response={201: VersionDetailOut, **WRITE_ERRORS}, auth=STAFF_OR_APPLICANT)
@decorate_view(idempotent)
def create_item(request, payload: ItemCreateIn):
    """Create an item (or a sub-item with ``parent``) with draft version 1. Catalog
    administrators of the department only. Accepts ``Idempotency-Key``."""
    _require_object_body(request)
    department = _lookup(Department, "department", payload.department, _("部门"))
    parent = _lookup(ServiceItem, "parent", payload.parent, _("所属基本事项"))
    power = _lookup(Power, "power", payload.power, _("行政权力"))
    item = services.create_item(
        code=payload.code,
        base_code=payload.base_code,
        item_type=payload.item_type,
        department=department,
        parent=parent,
        business_kind=payload.business_kind or "",
        power=power,
        high_frequency=payload.high_frequency,
        acceptance_scope=payload.acceptance_scope,
        acceptance_from=payload.acceptance_from,
        version=_version_data(payload.version),
        by=request.user,
        request=request,
    )
    return Status(201, _version_out(item.versions.get(number=1), request.user))


def _require_object_body(request) -> None:
    """ninja quietly reads a JSON array as an empty object; refuse anything but an object."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        message = _("请求内容须为 JSON 对象。")
        raise InvalidInput(message, details=[{"field": "", "message": message}])


def _item_for_write(code: str) -> ServiceItem:
    return selectors.item_by_code(code)


def _version_for_write(code: str, number: int) -> ItemVersion:
    item = _item_for_write(code)
    version = item.versions.filter(number=number).first()
    if version is None:
        raise NotFound(_("未找到该版本。"))
    version.item = item
    return version


@router.post(
    "/items/{code}/versions",
    response={201: VersionDetailOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
)
@decorate_view(idempotent)
def new_version(request, code: str):
    """Start a new draft copying the version in force (an item has one open version at most)."""
    version = services.start_new_version(_item_for_write(code), request.user, request=request)
    return Status(201, _version_out(version, request.user))


@router.put(
    "/items/{code}/versions/{number}",
    response={200: VersionDetailOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
)
def edit_version(request, code: str, payload: VersionIn, number: int = Path(..., ge=1, le=100_000)):
    """Edit a draft (published and retired versions never change: 409)."""
    _require_object_body(request)
    version = services.update_draft(
        _version_for_write(code, number), _version_data(payload), request.user, request=request
    )
    return _version_out(version, request.user)


class WorkflowAction(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    PUBLISH = "publish"
    RETIRE = "retire"


class ActionIn(Schema):
    reason: str = Field("", max_length=1000, description="required to reject")


@router.post(
    "/items/{code}/versions/{number}/{action}",
    response={200: VersionDetailOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
)
def version_action(
    request,
    code: str,
    action: WorkflowAction,
    payload: ActionIn | None = None,
    number: int = Path(..., ge=1, le=100_000),
):
    """Workflow: submit (提交审核), approve (审核通过, by a second person), reject (退回, with a
    reason), publish (发布), retire (停用). See GET /items/{code}/versions/{number} ``actions``."""
    version = services.apply_action(
        _version_for_write(code, number),
        action.value,
        request.user,
        reason=payload.reason if payload else "",
        request=request,
    )
    return _version_out(version, request.user)


# ---------------------------------------------------------------------------- acceptance


class AcceptanceBatchIn(Schema):
    item_codes: list[str] = Field(..., min_length=1, max_length=5000)
    scope: AcceptanceScope
    document_no: str = Field(..., min_length=1, max_length=100, description="文号")
    effective_from: date
    title: str = Field("", max_length=200)


class AcceptanceBatchOut(Schema):
    id: int
    document_no: str
    title: str
    scope: str
    scope_label: str
    effective_from: date
    item_count: int
    items: list[str] | None = None

    @staticmethod
    def resolve_scope_label(obj: AcceptanceBatch) -> str:
        return str(obj.get_scope_display())


@router.post(
    "/acceptance-batches",
    response={201: AcceptanceBatchOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
)
@decorate_view(idempotent)
def create_acceptance_batch(request, payload: AcceptanceBatchIn):
    """Change where a set of items may be accepted from a date, by one document (e.g. 就近办:
    ``any_town``). All items must be in the caller's scope; all or nothing."""
    codes = list(dict.fromkeys(c.strip() for c in payload.item_codes if "\x00" not in c))
    items = list(ServiceItem.objects.filter(code__in=codes).select_related("department"))
    found = {i.code for i in items}
    missing = [c for c in codes if c not in found]
    if missing:
        message = _("未找到以下事项：%(codes)s。") % {"codes": "、".join(missing[:20])}
        raise InvalidInput(message, details=[{"field": "item_codes", "message": message}])
    batch = acceptance.delegate_acceptance(
        items,
        payload.scope.value,
        payload.document_no,
        payload.effective_from,
        request.user,
        title=payload.title,
        request=request,
    )
    batch.item_count = len(items)
    batch.items = sorted(found)
    return Status(201, batch)


@router.get("/acceptance-batches", response=list[AcceptanceBatchOut], auth=PUBLIC)
@paginate(Paginated)
def list_acceptance_batches(request):
    """Decisions that changed where items may be accepted, latest first."""
    return selectors.acceptance_batches()


class AcceptanceRuleOut(Schema):
    scope: str
    scope_label: str
    effective_from: date
    document_no: str

    @staticmethod
    def resolve_scope_label(obj: AcceptanceRule) -> str:
        return str(obj.get_scope_display())


@router.get(
    "/items/{code}/acceptance",
    response={200: list[AcceptanceRuleOut], **errors(404)},
    auth=PUBLIC,
)
def list_acceptance_rules(request, code: str):
    """Where the item may be accepted, as a history of rules (latest first)."""
    item = selectors.item_by_code(code)
    return list(item.acceptance_rules.order_by("-effective_from"))
