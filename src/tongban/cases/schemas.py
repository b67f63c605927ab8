"""Request bodies and answers of the case API (cases/api.py).

Bounds on every field (lengths, list sizes, number ranges, enums) make bad input a 422 before
any service runs; the services check the business rules (with their own, clearer messages).
Answers are built by ``api.py`` as plain dicts or Case rows with resolvers here.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import field_validator

from tongban.api.schemas import choice_label
from tongban.core.masking import mask_mobile

from .models import Case, Channel, Colour, Decision, DeliveryMode, Status

MAX_ID = 2**31 - 1  # ids beyond this exist nowhere; refusing them avoids database overflows
TEXT = 2000  # services.MAX_TEXT; the services give the exact per-field limits


def no_control_characters(value):
    """Refuse control characters (NUL …) in text: never meaningful, and PostgreSQL cannot store
    NUL. Line breaks and tabs are allowed."""
    if isinstance(value, str) and any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValueError(_("含有不可见控制字符。"))
    if isinstance(value, list):
        for entry in value:
            no_control_characters(entry)
    return value


# ---------------------------------------------------------------------------- requests


class CaseFormIn(Schema):
    """The application form (申请表). Omitted fields keep their value."""

    description: str | None = Field(None, max_length=TEXT, description="申请内容 (≤ 1000)")
    address: str | None = Field(None, max_length=TEXT, description="住所或经营场所 (≤ 1000)")
    remarks: str | None = Field(None, max_length=TEXT, description="备注 (≤ 500)")
    contact_name: str | None = Field(None, max_length=TEXT, description="联系人 (≤ 100)")
    contact_mobile: str | None = Field(None, max_length=20, description="联系手机")
    delivery_mode: DeliveryMode | None = Field(None, description="结果送达方式")
    postal_address: str | None = Field(None, max_length=TEXT, description="邮寄地址 (≤ 300)")

    _plain = field_validator(
        "description", "address", "remarks", "contact_name", "contact_mobile", "postal_address"
    )(no_control_characters)


class CaseEditIn(CaseFormIn):
    center: str | None = Field(
        None, min_length=1, max_length=30, description="受理中心编码 (drafts only)"
    )

    _plain_center = field_validator("center")(no_control_characters)


class CaseCreateIn(Schema):
    """Intake (申办 / 窗口登记). Applicants file for themselves (web, mobile, kiosk); an agent
    files ``agency`` cases for a legal person (企业代办); a window clerk files ``window`` and
    ``mail`` cases at their own center. Staff name the applicant by ``applicant_identity``
    (resident ID number or unified social credit code, checked); database ids are refused."""

    item: str = Field(..., min_length=1, max_length=40, description="事项实施编码 (item code)")
    channel: Channel = Field(..., description="申请渠道")
    applicant_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="不再接受：请用 applicant_identity (refused with 422; use applicant_identity)",
        json_schema_extra={"deprecated": True},
    )
    applicant_identity: str | None = Field(
        None, min_length=1, max_length=18, description="身份证号码或统一社会信用代码"
    )
    center: str | None = Field(
        None, min_length=1, max_length=30, description="受理中心编码 (default: the clerk's)"
    )
    form: CaseFormIn | None = None

    _plain = field_validator("item", "applicant_identity", "center")(no_control_characters)

    @field_validator("form", mode="before")
    @classmethod
    def _form_is_an_object(cls, value):
        # ninja's schemas read attributes off any object; a string would pass as an empty form
        if value is not None and not isinstance(value, dict):
            raise ValueError(_("申请表须为 JSON 对象。"))
        return value


class SpecialKind(StrEnum):
    HEARING = "hearing"
    INSPECTION = "inspection"
    TESTING = "testing"
    APPRAISAL = "appraisal"
    EXPERT_REVIEW = "expert_review"
    OTHER = "other"


ListItem = Annotated[str, Field(max_length=300)]


class ActionIn(Schema):
    """What an action may need; each action reads only its own fields (see the endpoint)."""

    note: str = Field("", max_length=TEXT, description="说明 / 意见")
    reason: str = Field("", max_length=TEXT, description="理由 (refuse, deny, revoke, …)")
    items: list[ListItem] = Field(
        default_factory=list, max_length=50, description="一次性告知 / 补正 items"
    )
    days: int | None = Field(None, ge=0, le=1000, description="extend: working days")
    decision: Decision | None = Field(None, description="decide: the decision")
    assignee: str | None = Field(
        None, min_length=1, max_length=150, description="assign: username (default: yourself)"
    )
    kind: SpecialKind | None = Field(None, description="start_special: 特别程序类型")
    window: int | None = Field(None, ge=1, le=MAX_ID, description="accept: window id")
    valid_until: date | None = Field(None, description="issue_result: licence valid until")

    _plain = field_validator("note", "reason", "items", "assignee")(no_control_characters)


class MaterialUploadIn(Schema):
    material: int | None = Field(
        None, ge=1, le=MAX_ID, description="the item version's material id (none: an extra file)"
    )


class LicenceAttachIn(Schema):
    material: int = Field(..., ge=1, le=MAX_ID, description="material id")
    licence: int = Field(..., ge=1, le=MAX_ID, description="licence id (GET /licences)")


class PaperCheckIn(Schema):
    material: int = Field(..., ge=1, le=MAX_ID, description="material id")


class ColourFilter(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    PAUSED = "paused"
    NONE = "none"


class CaseOrder(StrEnum):
    NEWEST = "newest"
    DUE = "due"


class CaseFilter(Schema):
    status: list[Status] | None = Field(None, description="办件状态 (repeatable)")
    item: str | None = Field(None, max_length=40, description="事项编码")
    channel: Channel | None = None
    colour: ColourFilter | None = Field(None, description="时限状态 (红黄绿灯)")
    center: str | None = Field(None, max_length=30, description="受理中心编码")
    department: str | None = Field(None, max_length=30, description="审批部门编码")
    region: str | None = Field(None, max_length=20, description="区划编码 (subtree)")
    due_before: date | None = Field(None, description="办结期限 on or before")
    due_after: date | None = Field(None, description="办结期限 on or after")
    assignee: Literal["me"] | None = Field(None, description="me: cases assigned to me")
    q: str | None = Field(None, max_length=40, description="办件编号前缀")
    order: CaseOrder = Field(CaseOrder.NEWEST, description="newest first, or due date first")


class ProgressQuery(Schema):
    number: str = Field(..., min_length=1, max_length=40, description="办件编号")
    mobile: str = Field(..., min_length=1, max_length=20, description="申请时填写的联系手机")


class NotificationFilter(Schema):
    unread: bool | None = Field(None, description="only unread (true) or read (false)")


class LicenceFilter(Schema):
    licence_type: str | None = Field(None, max_length=100, description="证照类型")
    usable: bool | None = Field(None, description="only licences usable today")


# ---------------------------------------------------------------------------- answers


def live_colour(case: Case, request) -> str:
    """The light today (``clock.colour``), with today and the yellow threshold worked out once
    per request rather than once per row."""
    from . import clock, services

    light = getattr(request, "_case_light", None)
    if light is None:
        today = services.today()
        light = request._case_light = (today, clock.yellow_threshold(today))
    today, threshold = light
    return clock.colour(case, today, threshold=threshold)


def is_applicant(user) -> bool:
    return getattr(user, "kind", "") == "applicant"


class CaseRowOut(Schema):
    """A case in a list. Personal data is masked (names of natural persons, mobiles)."""

    number: str
    title: str
    item: str
    channel: str
    channel_label: str
    status: str
    status_label: str
    applicant_kind: str
    applicant_name: str
    contact_mobile: str
    center: str | None
    center_name: str
    department: str
    department_name: str
    due_date: date | None
    colour: str
    colour_label: str
    assignee: str | None
    created_at: datetime
    submitted_at: datetime | None
    accepted_at: datetime | None

    @staticmethod
    def resolve_item(obj: Case) -> str:
        return obj.item.code

    @staticmethod
    def resolve_channel_label(obj: Case) -> str:
        return choice_label(Channel, obj.channel)

    @staticmethod
    def resolve_status_label(obj: Case) -> str:
        return choice_label(Status, obj.status)

    @staticmethod
    def resolve_applicant_kind(obj: Case) -> str:
        return obj.applicant.kind

    @staticmethod
    def resolve_applicant_name(obj: Case) -> str:
        return obj.applicant.masked_name

    @staticmethod
    def resolve_contact_mobile(obj: Case) -> str:
        return mask_mobile(obj.contact_mobile)

    @staticmethod
    def resolve_center(obj: Case) -> str | None:
        return obj.center.code if obj.center_id else None

    @staticmethod
    def resolve_center_name(obj: Case) -> str:
        return obj.center.name if obj.center_id else ""

    @staticmethod
    def resolve_department(obj: Case) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj: Case) -> str:
        return obj.department.name

    @staticmethod
    def resolve_colour(obj: Case, context) -> str:
        return live_colour(obj, context["request"])

    @staticmethod
    def resolve_colour_label(obj: Case, context) -> str:
        return choice_label(Colour, live_colour(obj, context["request"]))

    @staticmethod
    def resolve_assignee(obj: Case, context) -> str | None:
        # applicants never see staff usernames
        if not obj.assignee_id or is_applicant(context["request"].user):
            return None
        return obj.assignee.get_username()


class ApplicantOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str = Field(..., description="a natural person's name is masked for staff")
    identity_masked: str
    mobile_masked: str


class ClockOut(Schema):
    """The time-limit clock (办理时限), in working days."""

    accepted_on: date | None
    case_kind: str
    limit_days: int | None
    due_date: date | None
    remaining_working_days: int | None = Field(..., description="negative when overdue")
    colour: str
    colour_label: str
    provisional: bool = Field(..., description="the deadline runs into an unpublished year")
    paused: bool
    paused_since: date | None
    paused_days: int
    extension_days: int
    extension_reason: str
    supplement_due: date | None
    green_channel: bool
    on_time: bool | None


class ProvidedOut(Schema):
    id: int
    source: str
    source_label: str
    name: str
    original_name: str
    content_type: str
    size: int
    scan: str
    licence: str | None
    supplement: bool
    uploaded_at: datetime
    url: str | None = Field(..., description="the file, through the access-checked view")


class ChecklistEntryOut(Schema):
    material: int
    order: int
    name: str
    necessity: str
    necessity_label: str
    licence_type: str
    state: Literal["provided", "missing", "to_follow", "followed", "not_provided"]
    state_label: str
    provided: list[ProvidedOut]


class EventOut(Schema):
    action: str
    label: str
    from_status: str
    to_status: str
    to_status_label: str
    code: int | None
    actor: str
    role: str
    center: str | None
    at: datetime
    note: str
    data: dict[str, Any]


class NoticeOut(Schema):
    kind: str
    kind_label: str
    number: str
    items: list[Any]
    reason: str
    issued_in_name_of: str
    issued_at: datetime
    pdf_url: str | None


class NeedOut(Schema):
    need: str
    label: str


class AvailableActionOut(Schema):
    action: str
    label: str
    method: str
    path: str
    needs: list[NeedOut]


class CaseDetailOut(Schema):
    number: str
    title: str
    item: str
    version: int
    channel: str
    channel_label: str
    status: str
    status_label: str
    applicant: ApplicantOut
    contact_name: str
    contact_mobile: str
    delivery_mode: str
    delivery_mode_label: str
    postal_address: str
    personal_data_masked: bool = Field(
        ...,
        description="true for staff: names of natural persons, the contact and the postal "
        "address are masked; GET personal_data_url (audited) for the full values",
    )
    personal_data_url: str | None
    form: dict[str, Any]
    center: str | None
    center_name: str
    window: str | None
    region: str | None
    department: str
    department_name: str
    approving_body: str
    decision_in_name_of: str
    filed_by: str | None = Field(..., description="null for applicants unless they filed it")
    accepted_by: str | None = Field(..., description="staff username; null for applicants")
    assignee: str | None = Field(..., description="staff username; null for applicants")
    decision: str
    decision_label: str
    decision_reason: str
    licence_number: str
    tolerated_pending: bool
    submitted_at: datetime | None
    accepted_at: datetime | None
    decided_at: datetime | None
    issued_at: datetime | None
    delivered_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    clock: ClockOut
    materials: list[ChecklistEntryOut]
    extra_materials: list[ProvidedOut]
    events: list[EventOut]
    notices: list[NoticeOut]
    actions: list[AvailableActionOut] = Field(..., description="what the caller may do now")


class PersonalApplicantOut(Schema):
    kind: str
    kind_label: str
    name: str
    identity_number: str
    mobile: str
    legal_representative: str


class PersonalDataOut(Schema):
    """A case's personal data unmasked (staff: an audited reveal)."""

    number: str
    applicant: PersonalApplicantOut
    contact_name: str
    contact_mobile: str
    postal_address: str


class ProgressStepOut(Schema):
    label: str
    status: str
    status_label: str
    date: date


class ProgressOut(Schema):
    """The public progress query: no personal data."""

    number: str
    status: str
    status_label: str
    item_name: str
    center: str
    department: str
    due_date: date | None
    timeline: list[ProgressStepOut]


class LicenceOut(Schema):
    id: int
    licence_type: str
    number: str
    issuer: str
    issued_on: date
    valid_until: date | None
    status: str
    status_label: str
    usable: bool
    case: str | None

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_usable(obj) -> bool:
        return obj.usable_on()

    @staticmethod
    def resolve_case(obj) -> str | None:
        return obj.case.number if obj.case_id else None


class NotificationOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    case: str | None
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_case(obj) -> str | None:
        return obj.case.number if obj.case_id else None
