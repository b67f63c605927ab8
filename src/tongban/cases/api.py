"""The case API (办件接口): intake, lists and details in the caller's data scope, one endpoint for
every step of the lifecycle, materials, the licence wallet, the inbox and the public progress
query. The rules live in cases/services.py and cases/lifecycle.py; this module parses, looks the
case up through ``selectors.case_for`` (a case outside the caller's data scope is 404, never
403, so numbers cannot be probed) and shapes the answer.

Status codes: 401 without a login; 403 when the caller may see the case but not take the step
(supervisors, center administrators and other read-only viewers get 403 for every write); 404
outside the data scope or for an unknown action; 409 when the case's status (or state, such as
missing materials) does not allow the step; 422 for bad input (a missing reason or list, wrong
types, unknown enum values, overlong strings); 429 when the public progress query or staff
look-ups of applicants by identity number are used too often (cases/limits.py). Every error is
``{code, message, details}``.

Personal data: answers to staff mask natural persons' names, the contact person and mobile and
the postal address (like the lists); ``GET /cases/{number}/personal-data`` gives the full values
and is audited (``case.personal_data_revealed``, as the workbench's reveal button). Applicants
see their own data in full, but never staff usernames (``accepted_by``, ``assignee`` are null,
an event's ``actor`` is a role) nor the notes of steps inside the department
(``lifecycle.INTERNAL_ACTIONS``).
"""

import json
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import File, Form, Path, Query, Router
from ninja import Status as Reply
from ninja.decorators import decorate_view
from ninja.files import UploadedFile
from ninja.pagination import paginate

from tongban.accounts import selectors as account_selectors
from tongban.accounts.models import Applicant
from tongban.api.auth import PUBLIC, STAFF_OR_APPLICANT
from tongban.api.pagination import Paginated
from tongban.api.schemas import choice_label, errors, url_or_none
from tongban.catalog.models import Material, ServiceItem
from tongban.core import audit, validators
from tongban.core.errors import Forbidden, InvalidInput, NotFound, RateLimited
from tongban.core.idempotency import idempotent
from tongban.core.masking import mask_mobile, mask_name
from tongban.notify import services as notify_services
from tongban.notify.models import Notification
from tongban.org.models import Region, ServiceCenter, Window
from tongban.org.roles import Role
from tongban.registry.models import Licence

from . import clock, lifecycle, limits, selectors, services, worklist
from .forms import IdentityLookupForm
from .models import Case, CaseMaterial, CaseNotice, Channel, Colour, Decision, DeliveryMode, Status
from .schemas import (
    ActionIn,
    CaseCreateIn,
    CaseDetailOut,
    CaseEditIn,
    CaseFilter,
    CaseFormIn,
    CaseOrder,
    CaseRowOut,
    ColourFilter,
    LicenceAttachIn,
    LicenceFilter,
    LicenceOut,
    MaterialUploadIn,
    NotificationFilter,
    NotificationOut,
    PaperCheckIn,
    PersonalDataOut,
    ProgressOut,
    ProgressQuery,
    is_applicant,
)

router = Router(tags=["cases"])

READ_ERRORS = errors(401, 404)
WRITE_ERRORS = errors(401, 403, 404, 409, 422)
NUMBER_MAX = 40  # Case.number max_length


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def _role_label(value: str) -> str:
    """What an applicant sees for who took a step: a role, never a staff member's name."""
    if not value:
        return _("系统")
    try:
        return str(Role(value).label)
    except ValueError:
        return _("工作人员")


# Administrative levels of a Chinese address: province, city, district / county, town / street.
_ADDRESS_SEGMENT = re.compile(
    r"(.{1,12}?)(特别行政区|自治区|自治州|省|市|地区|盟|县|旗|区|镇|乡|街道)"
)
_ADDRESS_LEVELS = {
    **dict.fromkeys(("特别行政区", "自治区", "省"), 0),
    **dict.fromkeys(("自治州", "市", "地区", "盟"), 1),
    **dict.fromkeys(("县", "旗", "区"), 2),
    **dict.fromkeys(("镇", "乡", "街道"), 3),
}
_NOT_A_DISTRICT = tuple("小社园校营景")  # 小区, 社区, 园区 … are places, not districts
ADDRESS_MASK = "****"


def mask_address(value: str | None) -> str:
    """A postal address with only its administrative part kept, down to the district (or, in a
    city without districts such as Dongguan, the town or street): 东莞市南城街道鸿福路1号 →
    东莞市南城街道****. Nothing recognisable: all masked."""
    value = (value or "").strip()
    if not value:
        return ""
    kept, level = 0, -1
    while level < 2:
        match = _ADDRESS_SEGMENT.match(value, kept)
        if match is None:
            break
        name, suffix = match.groups()
        if suffix == "区" and name.endswith(_NOT_A_DISTRICT):
            break
        if _ADDRESS_LEVELS[suffix] <= level:
            break
        kept, level = match.end(), _ADDRESS_LEVELS[suffix]
    return value[:kept] + ADDRESS_MASK if kept < len(value) else value


def _case(request, number: str) -> Case:
    """The case ``number`` if the caller may see it (404 otherwise, including absurd numbers)."""
    if not number or len(number) > NUMBER_MAX:
        raise NotFound(_("未找到该办件。"))
    return selectors.case_for(request.user, number)


def _writable(request, number: str) -> Case:
    """The case for a write: visible (404) and the caller is one of its actors at all (403), so
    read-only viewers (supervisors, center administrators) are refused whatever the status."""
    case = _case(request, number)
    if not lifecycle.actors_of(request.user, case):
        raise Forbidden(_("您对该办件只有查看权限。"), code="read_only")
    return case


def _fresh(case: Case) -> Case:
    return Case.objects.select_related(
        "applicant",
        "center",
        "center__region",
        "department",
        "department__region",
        "item",
        "version",
        "window",
        "window__center",
        "region",
        "assignee",
        "accepted_by",
        "filed_by",
    ).get(pk=case.pk)


# ---------------------------------------------------------------------------- detail


def _provided(cm: CaseMaterial) -> dict[str, Any]:
    return {
        "id": cm.pk,
        "source": cm.source,
        "source_label": choice_label(CaseMaterial.Source, cm.source),
        "name": cm.name,
        "original_name": cm.original_name,
        "content_type": cm.content_type,
        "size": cm.size,
        "scan": cm.scan,
        "licence": cm.licence.number if cm.licence_id else None,
        "supplement": cm.supplement,
        "uploaded_at": cm.uploaded_at,
        "url": url_or_none("cases_documents:material_file", cm.case.number, cm.pk)
        if cm.file
        else None,
    }


STATE_LABELS = {
    "provided": gettext_lazy("已提供"),
    "missing": gettext_lazy("缺少"),
    "to_follow": gettext_lazy("容缺后补"),
    "followed": gettext_lazy("容缺材料已补齐"),
    "not_provided": gettext_lazy("未提供（非必要）"),
}


def _checklist(case: Case) -> tuple[list[dict], list[dict]]:
    """Each material of the case's version: provided how, missing, or to follow (容缺);
    and the extra files that answer no checklist entry."""
    provided: dict[int, list[dict]] = defaultdict(list)
    extras: list[dict] = []
    active = case.materials.filter(removed_at__isnull=True).select_related("licence", "case")
    for cm in active.order_by("uploaded_at", "pk"):
        (provided[cm.material_id] if cm.material_id else extras).append(_provided(cm))
    followed = case.accepted_at is not None and not case.tolerated_pending
    entries = []
    for m in case.version.materials.all().order_by("order", "pk"):
        given = provided.get(m.pk, [])
        if given:
            state = "provided"
        elif m.necessity == Material.Necessity.REQUIRED:
            state = "missing"
        elif m.necessity == Material.Necessity.TOLERATED:
            state = "followed" if followed else "to_follow"
        else:
            state = "not_provided"
        entries.append(
            {
                "material": m.pk,
                "order": m.order,
                "name": m.name,
                "necessity": m.necessity,
                "necessity_label": str(m.get_necessity_display()),
                "licence_type": m.licence_type,
                "state": state,
                "state_label": str(STATE_LABELS[state]),
                "provided": given,
            }
        )
    return entries, extras


def _event_label(action: str, from_status: str) -> str:
    if action == "create":
        return _("创建申请")
    if from_status:
        rows = lifecycle.steps_for(action, from_status)
        if rows:
            return str(rows[0].label)
    for step in lifecycle.ALL_STEPS:
        if step.action == action:
            return str(step.label)
    return action


def _events(case: Case, user) -> list[dict[str, Any]]:
    """The steps. An applicant sees roles instead of names, and neither the note nor the data of
    steps inside the department; staff see a natural-person applicant's own name masked."""
    own = is_applicant(user)
    applicant = case.applicant
    natural = applicant.kind == Applicant.Kind.NATURAL
    rows = []
    for e in selectors.timeline(case):
        hidden = own and e.action in lifecycle.INTERNAL_ACTIONS
        if own:
            actor = _role_label(e.role)
        elif natural and e.actor_id and e.actor_id == applicant.user_id:
            actor = mask_name(e.actor_label)
        else:
            actor = e.actor_label
        rows.append(
            {
                "action": e.action,
                "label": _event_label(e.action, e.from_status),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "to_status_label": choice_label(Status, e.to_status) if e.to_status else "",
                "code": e.code,
                "actor": actor,
                "role": e.role,
                "center": e.center.name if e.center_id else None,
                "at": e.at,
                "note": "" if hidden else e.note,
                "data": {} if hidden else (e.data or {}),
            }
        )
    return rows


def _notices(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "kind": n.kind,
            "kind_label": choice_label(CaseNotice.Kind, n.kind),
            "number": n.number,
            "items": list(n.items or []),
            "reason": n.reason,
            "issued_in_name_of": n.issued_in_name_of,
            "issued_at": n.issued_at,
            "pdf_url": url_or_none("cases_documents:notice_pdf", case.number, n.number),
        }
        for n in case.notices.order_by("issued_at", "pk")
    ]


def _action_path(case: Case, action: str) -> tuple[str, str]:
    if action == "edit":
        return "PATCH", reverse("api:case_detail", kwargs={"number": case.number})
    if action == "add_material":
        return "POST", reverse("api:case_materials", kwargs={"number": case.number})
    return "POST", reverse("api:case_action", kwargs={"number": case.number, "action": action})


def _actions(user, case: Case) -> list[dict[str, Any]]:
    out = []
    for step in services.feasible_actions(user, case):
        method, path = _action_path(case, step.action)
        out.append(
            {
                "action": step.action,
                "label": str(step.label),
                "method": method,
                "path": path,
                "needs": [{"need": n.value, "label": str(n.label)} for n in step.needs],
            }
        )
    return out


def _clock(case: Case) -> dict[str, Any]:
    day = services.today()
    running = case.status in clock.RUNNING + clock.PAUSED
    colour = clock.colour(case, day)
    return {
        "accepted_on": case.accepted_on,
        "case_kind": case.case_kind,
        "limit_days": case.limit_days,
        "due_date": case.due_date,
        "remaining_working_days": clock.remaining(case, day) if running else None,
        "colour": colour,
        "colour_label": choice_label(Colour, colour),
        "provisional": case.due_provisional,
        "paused": case.paused_since is not None,
        "paused_since": case.paused_since,
        "paused_days": case.paused_days,
        "extension_days": case.extension_days,
        "extension_reason": case.extension_reason,
        "supplement_due": case.supplement_due,
        "green_channel": case.green_channel,
        "on_time": clock.on_time(case),
    }


def _detail(case: Case, user) -> dict[str, Any]:
    """The case as ``user`` may read it: staff get personal data masked, applicants get no
    staff usernames."""
    case = _fresh(case)
    applicant = case.applicant
    materials, extras = _checklist(case)
    own = is_applicant(user)
    return {
        "number": case.number,
        "title": case.title,
        "item": case.item.code,
        "version": case.version.number,
        "channel": case.channel,
        "channel_label": choice_label(Channel, case.channel),
        "status": case.status,
        "status_label": choice_label(Status, case.status),
        "applicant": {
            "id": applicant.pk,
            "kind": applicant.kind,
            "kind_label": str(applicant.get_kind_display()),
            "name": applicant.name if own else applicant.masked_name,
            "identity_masked": applicant.masked_identity,
            "mobile_masked": applicant.masked_mobile,
        },
        "contact_name": case.contact_name if own else mask_name(case.contact_name),
        "contact_mobile": case.contact_mobile if own else mask_mobile(case.contact_mobile),
        "delivery_mode": case.delivery_mode,
        "delivery_mode_label": choice_label(DeliveryMode, case.delivery_mode),
        "postal_address": case.postal_address if own else mask_address(case.postal_address),
        "personal_data_masked": not own,
        "personal_data_url": None
        if own
        else reverse("api:case_personal_data", kwargs={"number": case.number}),
        "form": dict(case.form_data or {}),
        "center": case.center.code if case.center_id else None,
        "center_name": case.center.name if case.center_id else "",
        "window": str(case.window) if case.window_id else None,
        "region": case.region.code if case.region_id else None,
        "department": case.department.code,
        "department_name": case.department.name,
        "approving_body": case.approving_body,
        "decision_in_name_of": case.decision_in_name_of,
        "filed_by": _username(case.filed_by) if not own or case.filed_by_id == user.pk else None,
        "accepted_by": None if own else _username(case.accepted_by),
        "assignee": None if own else _username(case.assignee),
        "decision": case.decision,
        "decision_label": choice_label(Decision, case.decision) if case.decision else "",
        "decision_reason": case.decision_reason,
        "licence_number": case.licence_number,
        "tolerated_pending": case.tolerated_pending,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "decided_at": case.decided_at,
        "issued_at": case.issued_at,
        "delivered_at": case.delivered_at,
        "closed_at": case.closed_at,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "clock": _clock(case),
        "materials": materials,
        "extra_materials": extras,
        "events": _events(case, user),
        "notices": _notices(case),
        "actions": _actions(user, case),
    }


# ---------------------------------------------------------------------------- intake


def _control_free(value: str, field: str) -> str:
    if any(ord(ch) < 32 for ch in value):
        message = _("内容含有不可见控制字符。")
        raise InvalidInput(message, details=[{"field": field, "message": message}])
    return value.strip()


def _identity(value: str) -> tuple[str, str]:
    """(kind, number) of a resident ID number (natural person) or a unified social credit code
    (legal person), checked as at the window (``forms.IdentityLookupForm``); 422 otherwise."""
    form = IdentityLookupForm({"identity": value})
    if not form.is_valid():
        message = str(form.errors["identity"][0])
        raise InvalidInput(
            message,
            code="invalid_identity",
            details=[{"field": "applicant_identity", "message": message}],
        )
    return form.cleaned_data["identity"]


def _agency_refused() -> Forbidden:
    return Forbidden(
        _("代办只适用于企业等法人（统一社会信用代码）；自然人请本人在网上申请或到窗口办理。"),
        code="agency_legal_persons_only",
    )


def _applicant_for(request, payload: CaseCreateIn) -> Applicant | None:
    """The applicant named by identity number (resident ID or credit code, checked); never by
    database id. Applicants may name only themselves; an agent files (``agency``) only for a
    legal person; staff look-ups are rate-limited per user (``CASE_LOOKUP_RATE``)."""
    user = request.user
    if payload.applicant_id is not None:
        message = _("不再接受申请人编号，请填写申请人的身份证号码或统一社会信用代码。")
        raise InvalidInput(
            message,
            code="applicant_id_not_accepted",
            details=[{"field": "applicant_id", "message": message}],
        )
    if not payload.applicant_identity:
        return None
    field = "applicant_identity"
    kind, number = _identity(_control_free(payload.applicant_identity, field))
    agency = payload.channel == Channel.AGENCY
    if agency and kind != Applicant.Kind.LEGAL:
        raise _agency_refused()
    if not is_applicant(user):
        wait = limits.lookup_limited(request)
        if wait:
            raise RateLimited(_("查找申请人过于频繁，请稍后再试。"), retry_after=wait)
    applicant = account_selectors.applicant_by_identity(number)
    if is_applicant(user):
        # the same answer whether the record exists or not: applicants cannot probe others
        if applicant is None or applicant.user_id != user.pk:
            raise Forbidden(_("只能为本人申请。"), code="not_allowed")
        return applicant
    if applicant is None:
        message = _("未找到该申请人，请先登记申请人信息。")
        raise InvalidInput(
            message, code="applicant_not_found", details=[{"field": field, "message": message}]
        )
    if agency and applicant.kind != Applicant.Kind.LEGAL:
        raise _agency_refused()
    return applicant


def _center(code: str) -> ServiceCenter:
    code = _control_free(code, "center")
    center = ServiceCenter.objects.filter(code=code, active=True).select_related("region").first()
    if center is None:
        message = _("未找到服务中心：%(code)s。") % {"code": code}
        raise InvalidInput(message, details=[{"field": "center", "message": message}])
    return center


def _form(payload: CaseFormIn | None) -> dict[str, Any]:
    if payload is None:
        return {}
    data = payload.dict(exclude_unset=True)
    if data.get("delivery_mode") is not None:
        data["delivery_mode"] = str(data["delivery_mode"])
    return data


@router.post(
    "/cases",
    response={201: CaseDetailOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
    url_name="cases",
    summary="申办或窗口登记 / File a case",
)
@decorate_view(idempotent)
def create_case(request, payload: CaseCreateIn):
    """申办：申请人在网上、移动端、自助终端为本人申请；代办员为企业代办（agency）；综合窗口
    人员在本中心登记窗口或邮寄申请（按证件号码指定申请人）。得到一份草稿办件。

    File a case (a draft) for an item's published version. Applicants file for themselves
    (``web``, ``mobile``, ``kiosk``); an agent files ``agency`` cases for a legal person only
    (企业代办; a natural person: 403 ``agency_legal_persons_only``); a window clerk files
    ``window`` and ``mail`` cases at their own center. Staff name the applicant by
    ``applicant_identity`` (resident ID number or credit code, checked: 422
    ``invalid_identity``); ``applicant_id`` is refused (422). Staff look-ups are limited per
    user (429). ``center`` must accept the item (409 otherwise). Accepts ``Idempotency-Key``: a
    retried request replays the first answer."""
    _require_object_body(request)
    code = _control_free(payload.item, "item")
    item = (
        ServiceItem.objects.select_related("department", "published_version")
        .filter(code=code)
        .first()
    )
    if item is None:
        message = _("未找到事项：%(code)s。") % {"code": code}
        raise InvalidInput(message, details=[{"field": "item", "message": message}])
    center = _center(payload.center) if payload.center else None
    case = services.start_case(
        item=item,
        by=request.user,
        channel=payload.channel.value,
        applicant=_applicant_for(request, payload),
        center=center,
        form=_form(payload.form),
        request=request,
    )
    return Reply(201, _detail(case, request.user))


def _require_object_body(request) -> None:
    """ninja reads a JSON array as an empty object; refuse anything but an object."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        message = _("请求内容须为 JSON 对象。")
        raise InvalidInput(message, details=[{"field": "", "message": message}])


# ---------------------------------------------------------------------------- list


def _filtered(qs, filters: CaseFilter, user):
    if filters.status:
        qs = qs.filter(status__in=[s.value for s in filters.status])
    if filters.item:
        qs = qs.filter(item__code=filters.item.strip())
    if filters.channel:
        qs = qs.filter(channel=filters.channel.value)
    if filters.colour:
        value = "" if filters.colour == ColourFilter.NONE else filters.colour.value
        qs = qs.filter(worklist.colour_q(value, services.today()))  # live, as the workbench
    if filters.center:
        qs = qs.filter(center__code=filters.center.strip())
    if filters.department:
        qs = qs.filter(department__code=filters.department.strip())
    if filters.region:
        region = Region.objects.filter(code=filters.region.strip()).first()
        if region is None:
            return qs.none()
        qs = qs.filter(region__path__startswith=region.path)
    if filters.due_before:
        qs = qs.filter(due_date__lte=filters.due_before)
    if filters.due_after:
        qs = qs.filter(due_date__gte=filters.due_after)
    if filters.assignee == "me":
        qs = qs.filter(assignee=user)
    if filters.q and filters.q.strip():
        qs = qs.filter(number__startswith=filters.q.strip().upper())
    if filters.order == CaseOrder.DUE:
        return qs.order_by(F("due_date").asc(nulls_last=True), "created_at", "pk")
    return qs.order_by("-created_at", "-pk")


@router.get(
    "/cases",
    response={200: list[CaseRowOut], **READ_ERRORS},
    auth=STAFF_OR_APPLICANT,
    summary="办件列表 / List cases",
)
@paginate(Paginated)
def list_cases(request, filters: Query[CaseFilter]):
    """本人数据范围内的办件（申请人：本人的；窗口人员：本中心的；审核审批人员：本部门的；
    镇街管理员：本镇街各中心和服务点的；督查人员：辖区全部，只读）。姓名和手机号脱敏。

    Cases in the caller's data scope, newest first (``order=due``: earliest deadline first).
    Filters combine; ``status`` repeats; ``region`` covers its subtree; ``assignee=me`` lists
    the caller's own work; ``q`` is a case-number prefix. Names of natural persons and mobile
    numbers are masked; applicants get ``assignee`` null (no staff usernames)."""
    # The page's related rows come by id in one query per relation after the 20 cases are
    # chosen: joined before the sort, PostgreSQL would join every case in scope first (at
    # millions of cases, minutes instead of seconds; see docs/architecture.md).
    return (
        _filtered(selectors.visible_to(request.user), filters, request.user)
        .select_related(None)
        .prefetch_related(*LIST_RELATIONS)
    )


LIST_RELATIONS = ("applicant", "center", "department", "item", "assignee")


# ---------------------------------------------------------------------------- detail, edit


@router.get(
    "/cases/{number}",
    response={200: CaseDetailOut, **READ_ERRORS},
    auth=STAFF_OR_APPLICANT,
    url_name="case_detail",
    summary="办件详情 / Case detail",
)
def get_case(request, number: str):
    """办件详情：办理时限（期限、剩余工作日、红黄绿灯）、材料清单、办理过程、文书，以及
    当前可执行的操作。工作人员查看含个人信息的详情会记入审计日志。

    One case: the clock (deadline, working days left, colour, provisional, paused), the
    materials checklist (provided how / missing / to follow), the events, the notices, and
    ``actions``: what the caller may do now. A staff member's reading is audited
    (``case.viewed``) and shows personal data masked (``personal_data_url`` reveals it);
    an applicant sees their own data, but no staff usernames and no internal notes."""
    case = _case(request, number)
    user = request.user
    if not is_applicant(user):
        audit.record(
            "case.viewed",
            actor=user,
            target=case,
            data={"number": case.number},
            request=request,
        )
    return _detail(case, user)


REVEALED_FIELDS = ["name", "identity", "mobile", "contact", "postal_address"]


@router.get(
    "/cases/{number}/personal-data",
    response={200: PersonalDataOut, **READ_ERRORS},
    auth=STAFF_OR_APPLICANT,
    url_name="case_personal_data",
    summary="查看完整个人信息 / Reveal personal data",
)
def personal_data(request, number: str):
    """显示申请人的完整姓名、证件号码、手机号码以及联系人和邮寄地址。工作人员每次查看都记入
    审计日志（与工作台的“显示完整信息”相同）。

    The applicant's full name, identity number and mobile, the contact person and the postal
    address, unmasked. For staff whose data scope covers the case this is an explicit act,
    audited as ``case.personal_data_revealed`` (the workbench's reveal button); the applicant
    reads their own. Outside the scope: 404."""
    case = _fresh(_case(request, number))
    user = request.user
    if not is_applicant(user):
        audit.record(
            "case.personal_data_revealed",
            actor=user,
            target=case,
            data={"number": case.number, "fields": REVEALED_FIELDS, "via": "api"},
            request=request,
        )
    a = case.applicant
    return {
        "number": case.number,
        "applicant": {
            "kind": a.kind,
            "kind_label": str(a.get_kind_display()),
            "name": a.name,
            "identity_number": a.identity_number,
            "mobile": a.mobile,
            "legal_representative": a.legal_representative,
        },
        "contact_name": case.contact_name,
        "contact_mobile": case.contact_mobile,
        "postal_address": case.postal_address,
    }


@router.patch(
    "/cases/{number}",
    response={200: CaseDetailOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
    summary="修改申请表 / Edit the form",
)
def edit_case(request, number: str, payload: CaseEditIn):
    """修改草稿（或一次性告知后）的申请表；只改提供的字段。草稿可改选受理中心。

    Edit the application form of a draft (or of a case told to complete it); omitted fields
    keep their value. ``center`` moves a draft to another center that accepts the item. 409 in
    any other status."""
    _require_object_body(request)
    case = _writable(request, number)
    form = _form(payload)
    code = form.pop("center", None)
    extra = {}
    if code:
        extra["center"] = _center(code)
    case = services.update_form(case, request.user, form, request=request, **extra)
    return _detail(case, request.user)


# ---------------------------------------------------------------------------- actions


User = get_user_model()


def _assignee(case: Case, user, username: str | None):
    if not username:
        return user
    name = _control_free(username, "assignee")
    found = User.objects.filter(username=name, is_active=True).first()
    if found is None:
        message = _("未找到该工作人员：%(name)s。") % {"name": name}
        raise InvalidInput(message, details=[{"field": "assignee", "message": message}])
    return found


def _window(case: Case, window_id: int | None):
    if window_id is None:
        return None
    window = Window.objects.filter(pk=window_id).first()
    if window is None:
        message = _("未找到该窗口。")
        raise InvalidInput(message, details=[{"field": "window", "message": message}])
    return window


def _decide(decision: str | None):
    def run(c: Case, u, p: ActionIn, r) -> Case:
        chosen = decision or (p.decision.value if p.decision else "")
        return services.decide(c, u, decision=chosen, reason=p.reason, request=r)

    return run


Handler = Callable[[Case, Any, ActionIn, Any], Case]

HANDLERS: dict[str, Handler] = {
    "submit": lambda c, u, p, r: services.submit(c, u, request=r),
    "receive": lambda c, u, p, r: services.receive(c, u, note=p.note, request=r),
    "resubmit": lambda c, u, p, r: services.resubmit(c, u, note=p.note, request=r),
    "pass_pre_review": lambda c, u, p, r: services.pass_pre_review(c, u, note=p.note, request=r),
    "accept": lambda c, u, p, r: services.accept(
        c, u, window=_window(c, p.window), note=p.note, request=r
    ),
    "notify": lambda c, u, p, r: services.notify_missing(
        c, u, items=p.items, note=p.note, request=r
    ),
    "refuse": lambda c, u, p, r: services.refuse(c, u, reason=p.reason, request=r),
    "withdraw": lambda c, u, p, r: services.withdraw(c, u, reason=p.reason or p.note, request=r),
    "start_review": lambda c, u, p, r: services.start_review(c, u, note=p.note, request=r),
    "assign": lambda c, u, p, r: services.assign(
        c, u, assignee=_assignee(c, u, p.assignee), request=r
    ),
    "request_supplement": lambda c, u, p, r: services.request_supplement(
        c, u, items=p.items, note=p.note, request=r
    ),
    "supplement": lambda c, u, p, r: services.supplement(c, u, note=p.note, request=r),
    "start_special": lambda c, u, p, r: services.start_special(
        c, u, kind=p.kind.value if p.kind else "", reason=p.reason, request=r
    ),
    "end_special": lambda c, u, p, r: services.end_special(c, u, note=p.note, request=r),
    "submit_for_approval": lambda c, u, p, r: services.submit_for_approval(
        c, u, opinion=p.note, request=r
    ),
    "return_for_review": lambda c, u, p, r: services.return_for_review(
        c, u, reason=p.reason, request=r
    ),
    "decide": _decide(None),
    "approve": _decide(Decision.APPROVED),
    "approve_tolerated": _decide(Decision.APPROVED_TOLERATED),
    "deny": _decide(Decision.DENIED),
    "issue_result": lambda c, u, p, r: services.issue_result(
        c, u, valid_until=p.valid_until, request=r
    ),
    "hand_out": lambda c, u, p, r: services.hand_out(c, u, note=p.note, request=r),
    "close": lambda c, u, p, r: services.close(c, u, note=p.note, request=r),
    "revoke": lambda c, u, p, r: services.revoke(c, u, reason=p.reason, request=r),
    "extend": lambda c, u, p, r: services.extend(c, u, days=p.days, reason=p.reason, request=r),
    "receive_tolerated": lambda c, u, p, r: services.receive_tolerated(
        c, u, note=p.note, request=r
    ),
}
ELSEWHERE = {
    "edit": "PATCH /api/v1/cases/{number}",
    "add_material": "POST /api/v1/cases/{number}/materials",
}
ACTION_LIST = ", ".join(f"`{name}`" for name in HANDLERS)


@router.post(
    "/cases/{number}/actions/{action}",
    response={200: CaseDetailOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
    url_name="case_action",
    summary="办理操作 / Take a step",
    description=(
        "办件办理的每一步（提交、接件、预审、受理、一次性告知、不予受理、撤回、认领分派、补正、"
        "特别程序、提交审批、退回、审批决定、出证、送达、归档、撤销、延期、容缺补齐）。\n\n"
        "Take one step of the lifecycle table (cases/lifecycle.py) and get the updated detail. "
        "Each action reads only the body fields it needs: `note` (most), `reason` (refuse, "
        "deny, return_for_review, revoke, extend, start_special; withdraw), `items` (notify, "
        "request_supplement), `days` (extend), `decision` (decide; or use approve / "
        "approve_tolerated / deny), `assignee` (assign; default yourself), `kind` "
        "(start_special), `window` (accept), `valid_until` (issue_result). The detail's "
        "`actions` lists what you may take now.\n\n"
        f"Actions: {ACTION_LIST}.\n\n"
        "404: outside your data scope or an unknown action; 403: you are not one of the step's "
        "actors (read-only viewers always); 409: not allowed from the case's status or state; "
        "422: a missing reason or list, or invalid input.\n\n"
        "Accepts `Idempotency-Key`: a retried step replays the first answer and is not taken "
        "twice."
    ),
)
@decorate_view(idempotent)
def take_action(
    request, number: str, action: str = Path(..., max_length=40), payload: ActionIn | None = None
):
    if action not in HANDLERS:
        if action in ELSEWHERE:
            message = _("“%(action)s”不在此处办理，请使用 %(where)s。") % {
                "action": action,
                "where": ELSEWHERE[action],
            }
        else:
            message = _("没有名为“%(action)s”的办件操作。") % {"action": action[:40]}
        raise NotFound(message, code="unknown_action", details={"actions": list(HANDLERS)})
    if request.body:
        _require_object_body(request)
    case = _writable(request, number)
    case = HANDLERS[action](case, request.user, payload or ActionIn(), request)
    return _detail(case, request.user)


# ---------------------------------------------------------------------------- materials


@router.post(
    "/cases/{number}/materials",
    response={201: CaseDetailOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
    url_name="case_materials",
    summary="上传材料 / Upload a material",
)
@decorate_view(idempotent)
def upload_material(
    request, number: str, file: File[UploadedFile], payload: Form[MaterialUploadIn]
):
    """上传一份材料（multipart：``material`` 材料清单项编号，``file`` 文件）。文件按内容识别类型
    （PDF、JPG、PNG），限制大小并查毒。

    Upload one file (multipart: ``material`` = the checklist entry's id, omitted for an extra
    file; ``file``). The type is read from the bytes (PDF, JPEG, PNG), the size is limited,
    the name sanitized and the file virus-scanned. Accepts ``Idempotency-Key``."""
    case = _writable(request, number)
    services.add_upload(
        case, request.user, material_id=payload.material, upload=file, request=request
    )
    return Reply(201, _detail(case, request.user))


@router.post(
    "/cases/{number}/materials/licence",
    response={201: CaseDetailOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
    summary="复用电子证照 / Reuse an electronic licence",
)
@decorate_view(idempotent)
def attach_licence(request, number: str, payload: LicenceAttachIn):
    """用申请人证照夹中的有效电子证照代替上传（免提交）。

    Provide a material with a valid electronic licence the applicant holds (see
    ``GET /licences``); its type must be the one the material names."""
    case = _writable(request, number)
    services.attach_licence(
        case,
        request.user,
        material_id=payload.material,
        licence_id=payload.licence,
        request=request,
    )
    return Reply(201, _detail(case, request.user))


@router.post(
    "/cases/{number}/materials/paper",
    response={201: CaseDetailOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
    summary="核验纸质材料 / Tick a paper original",
)
@decorate_view(idempotent)
def check_paper(request, number: str, payload: PaperCheckIn):
    """窗口人员核验纸质原件后勾选。

    A window clerk of the case's center ticks a paper original as checked."""
    case = _writable(request, number)
    services.check_paper(case, request.user, material_id=payload.material, request=request)
    return Reply(201, _detail(case, request.user))


@router.delete(
    "/cases/{number}/materials/{material_id}",
    response={200: CaseDetailOut, **WRITE_ERRORS},
    auth=STAFF_OR_APPLICANT,
    summary="删除材料 / Remove a material",
)
@decorate_view(idempotent)
def remove_material(request, number: str, material_id: int = Path(..., ge=1, le=2**31 - 1)):
    """删除尚未提交的材料（草稿、一次性告知后、补正中的补正材料）。

    Take back a material (the id of ``materials[].provided[]`` or ``extra_materials[]``) while
    the case is a draft, told to complete, or — for supplement files — in supplement. Accepts
    ``Idempotency-Key``: a retry replays the first answer."""
    case = _writable(request, number)
    services.remove_material(case, request.user, case_material_id=material_id, request=request)
    return _detail(case, request.user)


# ---------------------------------------------------------------------------- licence wallet


@router.get(
    "/licences",
    response={200: list[LicenceOut], **errors(401, 403)},
    auth=STAFF_OR_APPLICANT,
    summary="我的证照夹 / My licence wallet",
)
@paginate(Paginated)
def list_licences(request, filters: Query[LicenceFilter]):
    """申请人本人的电子证照（可在申请时复用）。

    The caller's own electronic licences (applicants only), newest first; ``usable=true``
    lists those valid today."""
    user = request.user
    if getattr(user, "kind", "") != "applicant":
        raise Forbidden(_("证照夹只对申请人本人开放。"), code="applicants_only")
    qs = Licence.objects.filter(holder__user=user).select_related("case")
    if filters.licence_type:
        qs = qs.filter(licence_type=filters.licence_type.strip())
    if filters.usable is not None:
        today = timezone.localdate()
        usable = Q(status=Licence.Status.VALID) & (
            Q(valid_until__isnull=True) | Q(valid_until__gte=today)
        )
        qs = qs.filter(usable) if filters.usable else qs.exclude(usable)
    return qs.order_by("-issued_on", "-pk")


# ---------------------------------------------------------------------------- inbox


@router.get(
    "/notifications",
    response={200: list[NotificationOut], **errors(401)},
    auth=STAFF_OR_APPLICANT,
    summary="我的消息 / My inbox",
)
@paginate(Paginated)
def list_notifications(request, filters: Query[NotificationFilter]):
    """本人的站内消息，最新的在前。

    The caller's inbox, newest first (``unread=true``: only unread)."""
    qs = Notification.objects.filter(
        user=request.user, channel=Notification.Channel.INBOX
    ).select_related("case")
    if filters.unread is not None:
        qs = qs.filter(read_at__isnull=filters.unread)
    return qs.order_by("-created_at", "-pk")


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **errors(401, 404)},
    auth=STAFF_OR_APPLICANT,
    summary="标为已读 / Mark as read",
)
def read_notification(request, notification_id: int = Path(..., ge=1, le=2**31 - 1)):
    """把本人的一条消息标为已读（他人的消息：404）。

    Mark one of the caller's messages as read (another person's: 404)."""
    found = (
        Notification.objects.filter(
            pk=notification_id, user=request.user, channel=Notification.Channel.INBOX
        )
        .select_related("case")
        .first()
    )
    if found is None:
        raise NotFound(_("未找到该消息。"))
    notify_services.mark_read(request.user, [found.pk])
    found.refresh_from_db(fields=["read_at"])
    return found


# ---------------------------------------------------------------------------- progress


def _progress(case: Case) -> dict[str, Any]:
    steps = [
        {
            "label": _event_label(e.action, e.from_status),
            "status": e.to_status,
            "status_label": choice_label(Status, e.to_status),
            "date": timezone.localtime(e.at).date(),
        }
        for e in selectors.timeline(case)
        if e.to_status
    ]
    return {
        "number": case.number,
        "status": case.status,
        "status_label": choice_label(Status, case.status),
        "item_name": case.title,
        "center": case.center.name if case.center_id else "",
        "department": case.department.name,
        "due_date": case.due_date,
        "timeline": steps,
    }


@router.get(
    "/progress",
    response={200: ProgressOut, **errors(404, 422, 429)},
    auth=PUBLIC,
    summary="办件进度查询 / Public progress query",
)
def progress(request, query: Query[ProgressQuery]):
    """无需登录：凭办件编号和申请时填写的联系手机查询办理进度。只显示状态、事项、受理中心、
    审批部门、办结期限和办理过程，不含个人信息。查询次数按来源地址和办件编号限制。

    No login needed: the case number and the contact mobile given when applying. Shows only
    the status, item, center, department, deadline and the steps with their dates — no personal
    data. A wrong pair is the same 404 as an unknown number; queries are limited per address
    and per case number, together with the progress page (429, ``CASE_PROGRESS_RATE`` and
    ``CASE_PROGRESS_NUMBER_RATE``)."""
    wait = limits.progress_limited(request, query.number)
    if wait:
        raise RateLimited(_("查询过于频繁，请稍后再试。"), retry_after=wait)
    try:
        mobile = validators.validate_mobile(query.mobile)
    except ValidationError:
        mobile = ""
    number = query.number.strip()
    case = selectors.case_by_progress_query(number, mobile) if mobile else None
    if case is None:
        raise NotFound(_("未找到该办件。"))
    return _progress(case)
