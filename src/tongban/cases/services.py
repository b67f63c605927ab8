"""Writes of case handling (办件): one function per business action.

Every status change goes through :func:`perform`, which reads the transition table
(lifecycle.py): the case is locked, the row for (action, status) found — none: ``Conflict`` 409;
the caller must be one of the row's actors — else ``Forbidden`` 403; the row's needs are checked
(a missing reason or list: ``InvalidInput`` 422; a state that does not allow it, such as missing
required materials: ``Conflict`` 409). Then the status changes, the clock moves (clock.py), a
:class:`CaseEvent` and an audit event are written and the applicant is notified — all in one
transaction, so a failure leaves the case as it was.

Intake from every channel starts with :func:`start_case` (a draft) — web, mobile and kiosk by the
applicant, agency by an agent, window and mail by a clerk — then ``submit`` (applicant side) or
``receive`` (clerk side).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tongban.accounts.models import Applicant
from tongban.catalog import acceptance, ledger
from tongban.catalog.models import ItemVersion, Material, ProcessStep, ServiceItem
from tongban.core import audit, validators
from tongban.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from tongban.core.identifiers import public_number
from tongban.notify import services as notify
from tongban.notify import webhooks
from tongban.org.models import Department, ServiceCenter, Window
from tongban.org.roles import Role
from tongban.org.scopes import active_assignments
from tongban.registry.models import Licence

from . import clock, lifecycle, uploads
from .lifecycle import Actor, Need, Transition, actors_of, applicable
from .models import (
    ONLINE_CHANNELS,
    Case,
    CaseEvent,
    CaseMaterial,
    CaseNotice,
    Channel,
    Colour,
    DeliveryMode,
    Status,
)

NUMBER_PREFIX = "BJ"
NOTICE_PREFIX = {
    CaseNotice.Kind.ACCEPTANCE: "SL",
    CaseNotice.Kind.ONE_TIME: "GZ",
    CaseNotice.Kind.REFUSAL: "BS",
    CaseNotice.Kind.SUPPLEMENT: "BZ",
    CaseNotice.Kind.SPECIAL: "TC",
    CaseNotice.Kind.DECISION: "JD",
}
MAX_TEXT = 2000
MAX_LIST = 50


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return timezone.localdate()


def max_extension_days() -> int:
    return int(getattr(settings, "CASE_MAX_EXTENSION_DAYS", 10))


def supplement_calendar_days() -> int:
    return int(getattr(settings, "CASE_SUPPLEMENT_DAYS", 10))


# --------------------------------------------------------------------------------------------
# Small checks


def _text(value: str | None, field: str, label: str, *, required: bool, limit: int = MAX_TEXT):
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(
            _("请填写%(label)s。") % {"label": label},
            code="reason_required",
            details=[{"field": field, "message": _("必填")}],
        )
    if len(value) > limit:
        raise InvalidInput(
            _("%(label)s不能超过 %(n)s 字。") % {"label": label, "n": limit},
            details=[{"field": field, "message": _("过长")}],
        )
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise InvalidInput(_("%(label)s含有不可见控制字符。") % {"label": label})
    return value


def _list(items: list[str] | None, field: str = "items") -> list[str]:
    cleaned = [
        _text(str(i), field, _("告知事项"), required=False, limit=300) for i in (items or [])
    ]
    cleaned = [i for i in cleaned if i]
    if not cleaned:
        raise InvalidInput(
            _("请逐项列明需要补齐或更正的全部内容。"),
            code="list_required",
            details=[{"field": field, "message": _("至少一项")}],
        )
    if len(cleaned) > MAX_LIST:
        raise InvalidInput(_("告知事项不能超过 %(n)s 项。") % {"n": MAX_LIST})
    return cleaned


def has_second_level(version: ItemVersion) -> bool:
    """An item has a separate approval level (审批) when its steps include a decision step
    taken by an approver; otherwise the reviewer decides."""
    return version.steps.filter(kind=ProcessStep.Kind.DECIDE, role=Role.APPROVER.value).exists()


def missing_materials(case: Case) -> tuple[list[Material], list[Material]]:
    """(required materials not provided, 容缺 materials not provided) of the case's version."""
    provided = set(
        case.materials.filter(removed_at__isnull=True, material__isnull=False).values_list(
            "material_id", flat=True
        )
    )
    required, tolerated = [], []
    for m in case.version.materials.all():
        if m.pk in provided:
            continue
        if m.necessity == Material.Necessity.REQUIRED:
            required.append(m)
        elif m.necessity == Material.Necessity.TOLERATED:
            tolerated.append(m)
    return required, tolerated


# --------------------------------------------------------------------------------------------
# The transition engine


@dataclass
class Context:
    """What a step was given: written reason or note, listed items, days."""

    note: str = ""
    reason: str = ""
    items: list[str] | None = None
    days: int | None = None
    since: dt.datetime | None = None  # the start of the current supplement request
    by: Any = None  # who takes the step


def _need_error(need: Need, case: Case, ctx: Context) -> DomainError | None:
    version = case.version
    if need is Need.SELF_FILED:
        if case.channel in (Channel.WINDOW, Channel.MAIL):
            return Conflict(_("窗口或邮寄申请由窗口人员接件。"), code="illegal_transition")
    elif need is Need.WINDOW_FILED:
        if case.channel not in (Channel.WINDOW, Channel.MAIL):
            return Conflict(_("该申请须由申请人自行提交。"), code="illegal_transition")
    elif need is Need.DEPTH_III:
        if version.online_depth < ItemVersion.OnlineDepth.ONLINE_HANDLING:
            return Conflict(
                _("该事项网办深度为预审级，须预审通过并到窗口核验原件后受理。"),
                code="pre_review_only",
            )
    elif need is Need.CENTER_MAY_ACCEPT:
        if case.center is None or not acceptance.can_accept_at(case.item, case.center, today()):
            return Conflict(
                _("%(center)s不在该事项的受理范围内。")
                % {"center": case.center.name if case.center else "-"},
                code="not_in_acceptance_scope",
            )
    elif need is Need.REQUIRED_MATERIALS:
        required, _tolerated = missing_materials(case)
        if required:
            return Conflict(
                _("必要材料不全：%(names)s。") % {"names": _("、").join(m.name for m in required)},
                code="materials_missing",
                details=[{"material": m.pk, "name": m.name} for m in required],
            )
    elif need is Need.LIST:
        try:
            ctx.items = _list(ctx.items)
        except InvalidInput as exc:
            return exc
    elif need is Need.REASON:
        try:
            ctx.reason = _text(ctx.reason, "reason", _("理由"), required=True)
        except InvalidInput as exc:
            return exc
    elif need is Need.NEW_MATERIAL:
        since = ctx.since
        if (
            since is None
            or not case.materials.filter(removed_at__isnull=True, uploaded_at__gte=since).exists()
        ):
            return Conflict(_("尚未提交补正材料。"), code="materials_missing")
    elif need is Need.ONE_LEVEL:
        if has_second_level(version):
            return Conflict(_("该事项设有审批环节，须提交审批人员决定。"), code="needs_approval")
    elif need is Need.TWO_LEVELS:
        if not has_second_level(version):
            return Conflict(_("该事项无单独审批环节，由审核人员直接决定。"), code="one_level")
    elif need is Need.NOTHING_TO_FOLLOW:
        if case.tolerated_pending:
            return Conflict(
                _("有容缺材料尚未补齐：请选择“容缺准予”或先登记补齐。"), code="materials_to_follow"
            )
    elif need is Need.SOMETHING_TO_FOLLOW:
        if not case.tolerated_pending:
            return Conflict(_("该办件没有待补的容缺材料。"), code="nothing_to_follow")
    elif need is Need.PICKUP_BY_CLERK:
        pass  # checked with the actor in perform()
    elif need is Need.SECOND_PERSON:
        submitted = case.events.filter(action="submit_for_approval").order_by("-at", "-pk").first()
        if submitted is not None and ctx.by is not None and submitted.actor_id == ctx.by.pk:
            return Forbidden(
                _("审核与审批须由不同的人完成：您已提交该办件审批，不能再作出审批决定。"),
                code="four_eyes",
            )
    elif need is Need.ONCE:
        if case.extension_days:
            return Conflict(_("办理时限只能延长一次。"), code="already_extended")
    elif need is Need.DAYS:
        limit = max_extension_days()
        if not isinstance(ctx.days, int) or not 1 <= ctx.days <= limit:
            return InvalidInput(
                _("延长天数须为 1 至 %(n)s 个工作日。") % {"n": limit},
                details=[{"field": "days", "message": _("超出范围")}],
            )
    return None


# Needs that depend on what the caller supplies or on checks reported on the try (materials,
# reasons, lists, the acceptance scope); the others depend only on the case as it stands.
INPUT_NEEDS = frozenset(
    {
        Need.LIST,
        Need.REASON,
        Need.DAYS,
        Need.NEW_MATERIAL,
        Need.REQUIRED_MATERIALS,
        Need.CENTER_MAY_ACCEPT,
    }
)


def feasible(case: Case, user, action: str, held=None) -> bool:
    """Whether a row of the table for ``action`` could succeed for ``user`` as the case stands
    (actor and the needs outside INPUT_NEEDS); the rest is checked when the step is taken and
    reported as a message. The workbenches show buttons for feasible steps only."""
    held = actors_of(user, case) if held is None else held
    for row in applicable(case, action):
        if not held & row.actors:
            continue
        ok = True
        for need in row.needs:
            if need in INPUT_NEEDS:
                continue
            if need is Need.PICKUP_BY_CLERK:
                ok = case.delivery_mode != DeliveryMode.PICKUP or Actor.CLERK in held
            else:
                ok = _need_error(need, case, Context(by=user)) is None
            if not ok:
                break
        if ok:
            return True
    return False


def feasible_actions(user, case: Case) -> list[Transition]:
    """The table rows ``user`` may take on ``case`` now, one per action (see :func:`feasible`)."""
    held = actors_of(user, case)
    found: dict[str, Transition] = {}
    for row in lifecycle.actions_from(case.status):
        if row.action not in found and held & row.actors and feasible(case, user, row.action, held):
            found[row.action] = row
    return list(found.values())


ROLE_OF_ACTOR = {
    Actor.APPLICANT: Role.APPLICANT,
    Actor.CLERK: Role.WINDOW_CLERK,
    Actor.REVIEWER: Role.REVIEWER,
    Actor.APPROVER: Role.APPROVER,
}


def _status_label(value: str) -> str:
    return str(Status(value).label)


def _choose(case: Case, action: str, by, ctx: Context) -> tuple[Transition, Actor]:
    rows = applicable(case, action)
    if not rows:
        raise Conflict(
            _("办件当前状态为“%(status)s”，不能执行该操作。")
            % {"status": _status_label(case.status)},
            code="illegal_transition",
            details={"status": case.status, "action": action},
        )
    held = actors_of(by, case)
    mine = [t for t in rows if held & t.actors]
    if not mine:
        raise Forbidden(_("您无权对该办件执行此操作。"), code="not_allowed")
    first_error: DomainError | None = None
    for row in mine:
        actor = next(a for a in Actor if a in held and a in row.actors)
        error = None
        for need in row.needs:
            error = _need_error(need, case, ctx)
            if error is None and need is Need.PICKUP_BY_CLERK:
                if case.delivery_mode == DeliveryMode.PICKUP and Actor.CLERK not in held:
                    error = Forbidden(_("窗口领取的结果由受理中心窗口发放。"), code="not_allowed")
                elif case.delivery_mode == DeliveryMode.PICKUP:
                    actor = Actor.CLERK
            if error is not None:
                break
        if error is None:
            return row, actor
        first_error = first_error or error
    assert first_error is not None
    raise first_error


def _event(
    case: Case,
    action: str,
    by,
    actor: Actor | None,
    *,
    from_status: str = "",
    code: int | None = None,
    note: str = "",
    data: dict | None = None,
    request=None,
) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case,
        action=action,
        from_status=from_status,
        to_status=case.status if from_status else "",
        code=code,
        actor=by if getattr(by, "is_authenticated", False) else None,
        actor_label=(str(by) if by is not None else _("系统"))[:150],
        role=ROLE_OF_ACTOR[actor].value if actor else "",
        center=case.center if actor is Actor.CLERK else None,
        at=now(),
        note=note,
        data=data or {},
    )
    webhooks.enqueue_case_event(case, event)
    audit.record(
        f"case.{action}",
        actor=by,
        target=case,
        data={
            "number": case.number,
            "from": from_status,
            "to": event.to_status,
            "role": event.role,
            **({"note": note[:200]} if note else {}),
            **(data or {}),
        },
        request=request,
    )
    return event


def perform(
    case: Case,
    action: str,
    by,
    *,
    ctx: Context | None = None,
    request=None,
    apply=None,
    event_data: dict | None = None,
) -> Case:
    """Take ``action`` on ``case`` as ``by`` (see the module docstring). ``apply(case, row,
    actor, ctx)`` makes the step's own changes before the case is saved; it may return extra
    event data."""
    ctx = ctx or Context()
    ctx.by = by
    with transaction.atomic():
        case = _locked(case)
        if action == "supplement":
            ctx.since = _last_event_at(case, "request_supplement")
        row, actor = _choose(case, action, by, ctx)
        from_status = case.status
        extra = dict(event_data or {})
        if apply is not None:
            extra.update(apply(case, row, actor, ctx) or {})
        if row.target is not None:
            case.status = row.target
        day = today()
        if row.stops_clock:
            clock.pause(case, day)
        if row.restarts_clock:
            extra["days_added"] = clock.resume(case, day)
        old_colour, case.colour = case.colour, clock.colour(case, day)
        case.save()
        code = row.code
        if action == "withdraw" and case.accepted_at is None:
            code = 2  # 已撤件: withdrawn before acceptance
        note = ctx.reason or ctx.note
        _event(
            case,
            action,
            by,
            actor,
            from_status=from_status if row.target is not None else "",
            code=code,
            note=note,
            data={**({"items": ctx.items} if ctx.items else {}), **extra},
            request=request,
        )
        if row.target is not None and row.target != from_status:
            listed = _("；").join(f"{i}. {text}" for i, text in enumerate(ctx.items or [], 1))
            if action in lifecycle.INTERNAL_ACTIONS:
                note = listed = ""  # the department's internal opinions stay inside
            notify.case_status_changed(case, row.label, "\n".join(filter(None, [note, listed])))
        if case.colour != old_colour and case.colour in (Colour.YELLOW, Colour.RED):
            # A step can itself turn the light (a 即办件 is yellow on acceptance, a pause may end
            # overdue): alert now, since refresh_clocks only alerts on a change it makes.
            notify.case_clock_alert(case, case.colour)
    return case


def _locked(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related(
            "version", "item", "item__department", "applicant", "center__region", "department"
        )
        .get(pk=case.pk)
    )


def _last_event_at(case: Case, action: str) -> dt.datetime | None:
    event = case.events.filter(action=action).order_by("-at", "-pk").first()
    return event.at if event else None


def _notice(
    case: Case, kind: str, by, *, items=None, reason: str = "", name: str = ""
) -> CaseNotice:
    return CaseNotice.objects.create(
        case=case,
        kind=kind,
        number=public_number(NOTICE_PREFIX[kind]),
        items=items or [],
        reason=reason,
        issued_by=by,
        issued_in_name_of=name
        or case.decision_in_name_of
        or (case.center.name if case.center else case.department.name),
        issued_at=now(),
    )


# --------------------------------------------------------------------------------------------
# Intake


APPLICANT_CHANNELS = (Channel.WEB, Channel.MOBILE, Channel.KIOSK)
CLERK_CHANNELS = (Channel.WINDOW, Channel.MAIL)


def _published_version(item: ServiceItem) -> ItemVersion:
    if item.status != ServiceItem.Status.IN_USE or item.published_version_id is None:
        raise Conflict(_("该事项当前不可申请。"), code="item_unavailable")
    return item.published_version


def _applicant_of(user) -> Applicant:
    applicant = Applicant.objects.filter(user=user).first()
    if applicant is None:
        raise Forbidden(_("请先完成实名登记。"), code="no_applicant")
    return applicant


def _clerk_center(by, center: ServiceCenter | None) -> ServiceCenter:
    centers = [
        a.center
        for a in active_assignments(by, Role.WINDOW_CLERK)
        if a.center_id is not None and a.center.active
    ]
    if not centers:
        raise Forbidden(_("只有综合窗口人员可以登记窗口申请。"), code="not_allowed")
    if center is None:
        return centers[0]
    if center not in centers:
        raise Forbidden(_("只能在本人所在中心登记申请。"), code="not_allowed")
    return center


def start_case(
    *,
    item: ServiceItem,
    by,
    channel: str,
    applicant: Applicant | None = None,
    center: ServiceCenter | None = None,
    form: dict[str, Any] | None = None,
    request=None,
) -> Case:
    """Open a draft case (申办) for ``item``'s published version through ``channel``.

    Applicants file for themselves on web, mobile or kiosk (the item must be handled online);
    an agent files for an applicant (代办); a clerk files for a walk-in or mailed application
    at their own center. ``center`` is where it will be accepted: an online applicant picks
    one of the item's accepting centers (the first one by default)."""
    if channel not in Channel.values:
        raise InvalidInput(
            _("申请渠道无效。"), details=[{"field": "channel", "message": _("无效")}]
        )
    version = _published_version(item)
    if channel in APPLICANT_CHANNELS:
        if getattr(by, "kind", "") != "applicant":
            raise Forbidden(_("网上申请须由申请人本人提交。"), code="not_allowed")
        if applicant is not None and applicant.user_id != by.pk:
            raise Forbidden(_("只能为本人申请。"), code="not_allowed")
        applicant = _applicant_of(by)
        if not version.handled_online or version.online_depth < ItemVersion.OnlineDepth.PRE_REVIEW:
            raise Conflict(_("该事项暂不支持网上申请，请到窗口办理。"), code="not_online")
    elif channel == Channel.AGENCY:
        if not any(a.role == Role.AGENT for a in active_assignments(by)):
            raise Forbidden(_("只有代办员可以代办申请。"), code="not_allowed")
        if applicant is None:
            raise InvalidInput(_("请选择被代办的申请人。"), code="applicant_required")
        if applicant.kind != Applicant.Kind.LEGAL:
            raise Forbidden(
                _(
                    "代办只适用于企业等法人（统一社会信用代码）；自然人请本人在网上申请或到窗口办理。"
                ),
                code="agency_legal_persons_only",
            )
    else:
        center = _clerk_center(by, center)
        if applicant is None:
            raise InvalidInput(_("请先查找或登记申请人。"), code="applicant_required")

    accepting = acceptance.accepting_centers(item, today())
    if center is None:
        center = accepting.first()
        if center is None:
            raise Conflict(_("该事项当前没有可受理的中心。"), code="not_in_acceptance_scope")
    elif not accepting.filter(pk=center.pk).exists():
        raise Conflict(
            _("%(center)s不在该事项的受理范围内。") % {"center": center.name},
            code="not_in_acceptance_scope",
        )

    with transaction.atomic():
        case = Case(
            number=public_number(NUMBER_PREFIX),
            item=item,
            version=version,
            applicant=applicant,
            filed_by=by,
            channel=channel,
            status=Status.DRAFT,
            title=version.name,
            center=center,
            region=center.region,
            department=item.department,
            contact_name=applicant.name if applicant.kind == Applicant.Kind.NATURAL else "",
            contact_mobile=applicant.mobile,
        )
        _apply_form(case, form or {}, version)
        case.save()
        _event(
            case,
            "create",
            by,
            _actor_for_create(channel),
            data={"channel": channel, "item": item.code, "version": version.number},
            request=request,
        )
    return case


def _actor_for_create(channel: str) -> Actor:
    return Actor.CLERK if channel in CLERK_CHANNELS else Actor.APPLICANT


FORM_FIELDS = ("description", "address", "remarks")


def _apply_form(case: Case, form: dict[str, Any], version: ItemVersion) -> None:
    """Validate and copy the application form (申请表) onto the case; all errors at once."""
    errors: list[dict[str, str]] = []

    def text(key: str, label: str, limit: int, required: bool = False) -> str:
        try:
            return _text(form.get(key), key, label, required=required, limit=limit)
        except InvalidInput as exc:
            errors.append({"field": key, "message": exc.message})
            return ""

    data = dict(case.form_data)
    for key, label in (("description", _("申请内容")), ("address", _("住所或经营场所"))):
        if key in form:
            data[key] = text(key, str(label), 1000)
    if "remarks" in form:
        data["remarks"] = text("remarks", _("备注"), 500)
    if "contact_name" in form:
        case.contact_name = text("contact_name", _("联系人"), 100)
    if "contact_mobile" in form:
        mobile = (form.get("contact_mobile") or "").strip()
        try:
            case.contact_mobile = validators.validate_mobile(mobile) if mobile else ""
        except Exception:
            errors.append({"field": "contact_mobile", "message": _("手机号码格式不正确。")})
    if "delivery_mode" in form:
        mode = form.get("delivery_mode") or DeliveryMode.PICKUP
        if mode not in DeliveryMode.values:
            errors.append({"field": "delivery_mode", "message": _("送达方式无效。")})
        elif mode == DeliveryMode.POST and not version.result_by_mail:
            errors.append({"field": "delivery_mode", "message": _("该事项结果不支持邮寄。")})
        else:
            case.delivery_mode = mode
    if "postal_address" in form:
        case.postal_address = text("postal_address", _("邮寄地址"), 300)
    if case.delivery_mode == DeliveryMode.POST and not case.postal_address:
        errors.append({"field": "postal_address", "message": _("选择邮寄时须填写邮寄地址。")})
    case.form_data = data
    if errors:
        raise InvalidInput(errors[0]["message"], details=errors)


def update_form(
    case: Case, by, form: dict[str, Any], *, center: ServiceCenter | None = None, request=None
) -> Case:
    """Edit the application form; ``center`` moves a draft to another accepting center (the
    applicant's choice of where to be accepted and pick up the result)."""

    def apply(c: Case, row, actor, ctx):
        extra = {}
        if center is not None and center.pk != c.center_id:
            if c.status != Status.DRAFT:
                raise Conflict(_("提交后不能更改受理中心。"), code="center_locked")
            if not acceptance.can_accept_at(c.item, center, today()):
                raise InvalidInput(
                    _("%(center)s不在该事项的受理范围内。") % {"center": center.name},
                    code="not_in_acceptance_scope",
                    details=[{"field": "center", "message": _("不在受理范围内")}],
                )
            c.center, c.region = center, center.region
            extra["center"] = center.code
        _apply_form(c, form, c.version)
        return {
            "fields": sorted(k for k in form if k in (*FORM_FIELDS, *_CASE_FORM_FIELDS)),
            **extra,
        }

    return perform(case, "edit", by, request=request, apply=apply)


_CASE_FORM_FIELDS = ("contact_name", "contact_mobile", "delivery_mode", "postal_address")


def _check_ready(case: Case) -> None:
    errors = []
    if not case.contact_mobile:
        errors.append({"field": "contact_mobile", "message": _("请填写联系手机。")})
    if not (case.form_data or {}).get("description"):
        errors.append({"field": "description", "message": _("请填写申请内容。")})
    if errors:
        raise InvalidInput(errors[0]["message"], details=errors)


def submit(case: Case, by, *, request=None) -> Case:
    """提交: an applicant or agent sends a draft for online pre-review."""

    def apply(c: Case, row, actor, ctx):
        _check_ready(c)
        c.submitted_at = now()

    return perform(case, "submit", by, request=request, apply=apply)


def resubmit(case: Case, by, *, note: str = "", request=None) -> Case:
    return perform(case, "resubmit", by, ctx=Context(note=note), request=request)


def receive(case: Case, by, *, note: str = "", request=None) -> Case:
    """窗口接件: a clerk registers a window or mailed application (or the corrected one)."""

    def apply(c: Case, row, actor, ctx):
        _check_ready(c)
        c.submitted_at = c.submitted_at or now()

    return perform(case, "receive", by, ctx=Context(note=note), request=request, apply=apply)


def pass_pre_review(case: Case, by, *, note: str = "", request=None) -> Case:
    return perform(case, "pass_pre_review", by, ctx=Context(note=note), request=request)


def resolve_department(exercise: ledger.Exercise, item: ServiceItem) -> Department:
    """The department whose reviewers handle a case approved by ``exercise`` (承接部门).

    Exercised by the item's own department: that department. Delegated, authorized or
    entrusted (委托: decided in the entrusting department's name, but handled by the receiving
    body): the department registered under the receiving body's name, nearest the entry's
    region. Nothing is guessed: a receiving body that is not a registered department stops the
    acceptance with a 409 telling the catalog administrators what to register."""
    if exercise.mode == "own":
        return exercise.department or item.department
    named = Department.objects.filter(name=exercise.body)
    if exercise.region is not None:
        local = named.filter(region__path__startswith=exercise.region.path).first()
        if local is not None:
            return local
    found = named.first()
    if found is None:
        raise Conflict(
            _(
                "承接主体“%(body)s”尚未登记为部门，无法确定审批部门。请事项管理员在组织机构中登记该部门。"
            )
            % {"body": exercise.body},
            code="approving_department_unknown",
        )
    return found


def accept(case: Case, by, *, window: Window | None = None, note: str = "", request=None) -> Case:
    """受理: the clerk accepts; the approving body follows the power ledger on this date; the
    clock starts; a 受理通知书 is issued. Missing 容缺 materials are tracked until they arrive."""

    def apply(c: Case, row, actor, ctx):
        if window is not None and window.center_id != c.center_id:
            raise InvalidInput(_("窗口不属于受理中心。"), details=[{"field": "window"}])
        accepted_at = now()
        with translation.override(settings.LANGUAGE_CODE):  # bodies are recorded in Chinese
            exercise = ledger.approving_body(c.item, c.center.region, today())
        c.department = resolve_department(exercise, c.item)
        c.approving_body = exercise.body
        c.decision_in_name_of = exercise.in_name_of
        c.accepted_by = by
        c.window = window
        c.submitted_at = c.submitted_at or accepted_at
        _required, tolerated = missing_materials(c)
        c.tolerated_pending = bool(tolerated)
        clock.start(c, accepted_at)
        notice = _notice(
            c,
            CaseNotice.Kind.ACCEPTANCE,
            by,
            items=[m.name for m in tolerated],
            name=c.center.name,
        )
        return {
            "department": c.department.code,
            "mode": exercise.mode,
            "due_date": c.due_date.isoformat(),
            "due_provisional": c.due_provisional,
            "to_follow": [m.name for m in tolerated],
            "notice": notice.number,
        }

    return perform(case, "accept", by, ctx=Context(note=note), request=request, apply=apply)


def receive_and_accept(
    case: Case, by, *, window: Window | None = None, note: str = "", request=None
) -> Case:
    """The window's usual single step for a walk-in: receive the registered draft and accept
    it, both or neither (a refused acceptance leaves the draft as it was)."""
    with transaction.atomic():
        if case.status == Status.DRAFT:
            case = receive(case, by, request=request)
        return accept(case, by, window=window, note=note, request=request)


def notify_missing(case: Case, by, *, items: list[str], note: str = "", request=None) -> Case:
    """一次性告知: everything missing or wrong, at once, with a 一次性告知书."""

    def apply(c: Case, row, actor, ctx):
        _notice(c, CaseNotice.Kind.ONE_TIME, by, items=ctx.items, name=c.center.name)

    ctx = Context(note=note, items=items)
    return perform(case, "notify", by, ctx=ctx, request=request, apply=apply)


def refuse(case: Case, by, *, reason: str, request=None) -> Case:
    """不予受理, with a 不予受理决定书 giving the reason and the legal remedies."""

    def apply(c: Case, row, actor, ctx):
        _notice(c, CaseNotice.Kind.REFUSAL, by, reason=ctx.reason, name=c.center.name)

    return perform(case, "refuse", by, ctx=Context(reason=reason), request=request, apply=apply)


def withdraw(case: Case, by, *, reason: str = "", request=None) -> Case:
    def apply(c: Case, row, actor, ctx):
        c.paused_since = None
        c.assignee = None

    return perform(case, "withdraw", by, ctx=Context(note=reason), request=request, apply=apply)


def _check_assignee(case: Case, assignee) -> None:
    held = actors_of(assignee, case)
    if not held & {Actor.REVIEWER, Actor.APPROVER}:
        raise InvalidInput(
            _("只能分派给审批部门的审核或审批人员。"), details=[{"field": "assignee"}]
        )


def start_review(case: Case, by, *, note: str = "", request=None) -> Case:
    """部门开始办理: a reviewer claims an accepted case."""

    def apply(c: Case, row, actor, ctx):
        c.assignee = by

    return perform(case, "start_review", by, ctx=Context(note=note), request=request, apply=apply)


def assign(case: Case, by, *, assignee, request=None) -> Case:
    """认领 (assignee = oneself) or 分派 to a colleague of the department."""

    def apply(c: Case, row, actor, ctx):
        _check_assignee(c, assignee)
        c.assignee = assignee
        return {"assignee": assignee.get_username()}

    return perform(case, "assign", by, request=request, apply=apply)


def request_supplement(case: Case, by, *, items: list[str], note: str = "", request=None) -> Case:
    """补正: the clock stops; the applicant is told everything to supplement at once."""

    def apply(c: Case, row, actor, ctx):
        c.supplement_due = today() + dt.timedelta(days=supplement_calendar_days())
        notice = _notice(c, CaseNotice.Kind.SUPPLEMENT, by, items=ctx.items)
        return {"supplement_due": c.supplement_due.isoformat(), "notice": notice.number}

    ctx = Context(note=note, items=items)
    return perform(case, "request_supplement", by, ctx=ctx, request=request, apply=apply)


def supplement(case: Case, by, *, note: str = "", request=None) -> Case:
    """补正结束: the applicant (or a clerk for them) hands in the supplement; the clock restarts
    and the deadline moves by the working days it stood still."""

    def apply(c: Case, row, actor, ctx):
        c.supplement_due = None

    return perform(case, "supplement", by, ctx=Context(note=note), request=request, apply=apply)


SPECIAL_KINDS = ("hearing", "inspection", "testing", "appraisal", "expert_review", "other")


def start_special(case: Case, by, *, kind: str, reason: str, request=None) -> Case:
    """特别程序 (听证、检验、检测、检疫、鉴定、专家评审 …, §45): the clock stops and the
    applicant is told in writing."""
    if kind not in SPECIAL_KINDS:
        raise InvalidInput(_("特别程序类型无效。"), details=[{"field": "kind"}])

    def apply(c: Case, row, actor, ctx):
        _notice(c, CaseNotice.Kind.SPECIAL, by, items=[kind], reason=ctx.reason)
        return {"kind": kind}

    ctx = Context(reason=reason)
    return perform(case, "start_special", by, ctx=ctx, request=request, apply=apply)


def end_special(case: Case, by, *, note: str = "", request=None) -> Case:
    return perform(case, "end_special", by, ctx=Context(note=note), request=request)


def submit_for_approval(case: Case, by, *, opinion: str = "", request=None) -> Case:
    return perform(case, "submit_for_approval", by, ctx=Context(note=opinion), request=request)


def return_for_review(case: Case, by, *, reason: str, request=None) -> Case:
    return perform(case, "return_for_review", by, ctx=Context(reason=reason), request=request)


DECISION_ACTIONS = {
    "approved": "approve",
    "approved_tolerated": "approve_tolerated",
    "denied": "deny",
}


def decide(case: Case, by, *, decision: str, reason: str = "", request=None) -> Case:
    """办结: approve, approve with 容缺 materials to follow, or deny (with reasons and the legal
    remedies); a 行政许可决定书 is issued."""
    action = DECISION_ACTIONS.get(decision)
    if action is None:
        raise InvalidInput(_("审批决定无效。"), details=[{"field": "decision"}])

    def apply(c: Case, row, actor, ctx):
        c.decision = decision
        c.decision_reason = ctx.reason
        c.decided_at = now()
        c.decided_by = by
        c.paused_since = None
        _notice(c, CaseNotice.Kind.DECISION, by, items=[decision], reason=ctx.reason)
        on_time = clock.on_time(c)
        return {"decision": decision, "on_time": on_time}

    ctx = Context(reason=reason)
    return perform(case, action, by, ctx=ctx, request=request, apply=apply)


def issue_result(case: Case, by, *, valid_until: dt.date | None = None, request=None) -> Case:
    """制证出件: the result gets a number; an electronic licence goes into the applicant's wallet
    for reuse in later applications."""

    if valid_until is not None and valid_until < today():
        raise InvalidInput(
            _("有效期不能早于今天。"), details=[{"field": "valid_until", "message": _("已过期")}]
        )

    def apply(c: Case, row, actor, ctx):
        c.issued_at = now()
        c.licence_number = public_number("ZZ")
        version = c.version
        Licence.objects.create(
            holder=c.applicant,
            licence_type=version.result_name or version.name,
            number=c.licence_number,
            issuer=c.decision_in_name_of or c.department.name,
            issued_on=today(),
            valid_until=valid_until,
            case=c,
        )
        return {"licence_number": c.licence_number}

    return perform(case, "issue_result", by, request=request, apply=apply)


def hand_out(case: Case, by, *, note: str = "", request=None) -> Case:
    """送达/领取: handed out at the accepting center, posted, or sent electronically."""

    def apply(c: Case, row, actor, ctx):
        c.delivered_at = now()
        return {"delivery_mode": c.delivery_mode}

    return perform(case, "hand_out", by, ctx=Context(note=note), request=request, apply=apply)


def close(case: Case, by, *, note: str = "", request=None) -> Case:
    def apply(c: Case, row, actor, ctx):
        c.closed_at = now()

    return perform(case, "close", by, ctx=Context(note=note), request=request, apply=apply)


def revoke(case: Case, by, *, reason: str, request=None) -> Case:
    """撤销 a licence granted (e.g. obtained by deception): the electronic licence is revoked."""

    def apply(c: Case, row, actor, ctx):
        Licence.objects.filter(case=c).update(status=Licence.Status.REVOKED)

    return perform(case, "revoke", by, ctx=Context(reason=reason), request=request, apply=apply)


def extend(case: Case, by, *, days: int, reason: str, request=None) -> Case:
    """延期 (§42): once, by an approver, with a reason, within the legal maximum."""

    def apply(c: Case, row, actor, ctx):
        c.extension_reason = ctx.reason
        clock.extend(c, ctx.days)
        return {"days": ctx.days, "due_date": c.due_date.isoformat()}

    ctx = Context(reason=reason, days=days)
    return perform(case, "extend", by, ctx=ctx, request=request, apply=apply)


def receive_tolerated(case: Case, by, *, note: str = "", request=None) -> Case:
    """容缺材料已补齐: the materials accepted on trust have arrived."""

    def apply(c: Case, row, actor, ctx):
        c.tolerated_pending = False

    return perform(
        case, "receive_tolerated", by, ctx=Context(note=note), request=request, apply=apply
    )


# --------------------------------------------------------------------------------------------
# Materials


def _material_of(case: Case, material_id: int | None, *, required: bool = False):
    if material_id is None:
        if required:
            raise InvalidInput(_("请选择材料清单中的一项。"), details=[{"field": "material"}])
        return None
    material = case.version.materials.filter(pk=material_id).first()
    if material is None:
        raise InvalidInput(_("该材料不在本事项的材料清单中。"), details=[{"field": "material"}])
    return material


def _in_supplement(case: Case) -> bool:
    return case.status == Status.SUPPLEMENT


def add_upload(case: Case, by, *, material_id: int | None, upload, request=None) -> CaseMaterial:
    """Store an uploaded file (content-checked, size-limited, name sanitized, virus-scanned)."""
    checked = uploads.inspect(upload)
    holder: dict[str, CaseMaterial] = {}

    def apply(c: Case, row, actor, ctx):
        material = _material_of(c, material_id)
        cm = CaseMaterial(
            case=c,
            material=material,
            name=material.name if material else checked.name,
            source=CaseMaterial.Source.UPLOAD,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            scan=checked.scan,
            supplement=_in_supplement(c),
            uploaded_by=by,
            uploaded_at=now(),
        )
        cm.file.save(checked.storage_name, checked.content, save=False)
        cm.save()
        holder["material"] = cm
        return {
            "material": cm.name,
            "size": cm.size,
            "sha256": cm.sha256[:16],
            "source": CaseMaterial.Source.UPLOAD.value,
        }

    perform(case, "add_material", by, request=request, apply=apply)
    return holder["material"]


def attach_licence(case: Case, by, *, material_id: int, licence_id: int, request=None):
    """Reuse an electronic licence the applicant holds (免提交)."""
    holder: dict[str, CaseMaterial] = {}

    def apply(c: Case, row, actor, ctx):
        material = _material_of(c, material_id, required=True)
        licence = Licence.objects.filter(pk=licence_id, holder=c.applicant).first()
        if licence is None or not licence.usable_on(today()):
            raise InvalidInput(_("未找到该申请人的有效电子证照。"), details=[{"field": "licence"}])
        if material.licence_type and licence.licence_type != material.licence_type:
            raise InvalidInput(
                _("该材料需要“%(type)s”。") % {"type": material.licence_type},
                details=[{"field": "licence"}],
            )
        holder["material"] = CaseMaterial.objects.create(
            case=c,
            material=material,
            name=material.name,
            source=CaseMaterial.Source.LICENCE,
            licence=licence,
            supplement=_in_supplement(c),
            uploaded_by=by,
            uploaded_at=now(),
        )
        return {
            "material": material.name,
            "licence": licence.number,
            "source": CaseMaterial.Source.LICENCE.value,
        }

    perform(case, "add_material", by, request=request, apply=apply)
    return holder["material"]


def check_paper(case: Case, by, *, material_id: int, request=None) -> CaseMaterial:
    """The clerk ticks a paper original as checked at the window (材料核验)."""
    holder: dict[str, CaseMaterial] = {}

    def apply(c: Case, row, actor, ctx):
        if actor is not Actor.CLERK:
            raise Forbidden(_("纸质材料由窗口人员核验。"), code="not_allowed")
        material = _material_of(c, material_id, required=True)
        holder["material"] = CaseMaterial.objects.create(
            case=c,
            material=material,
            name=material.name,
            source=CaseMaterial.Source.PAPER,
            supplement=_in_supplement(c),
            uploaded_by=by,
            uploaded_at=now(),
        )
        return {"material": material.name, "source": CaseMaterial.Source.PAPER.value}

    perform(case, "add_material", by, request=request, apply=apply)
    return holder["material"]


def remove_material(case: Case, by, *, case_material_id: int, request=None) -> None:
    """Take back a material before the case is received (kept, marked removed)."""

    def apply(c: Case, row, actor, ctx):
        cm = c.materials.filter(pk=case_material_id, removed_at__isnull=True).first()
        if cm is None:
            raise NotFound(_("未找到该材料。"))
        if c.status not in (Status.DRAFT, Status.NOTIFIED, Status.SUPPLEMENT) or (
            c.status == Status.SUPPLEMENT and not cm.supplement
        ):
            raise Conflict(_("已提交的材料不能删除。"), code="material_locked")
        cm.removed_at = now()
        cm.save(update_fields=["removed_at"])
        return {"removed": cm.name}

    perform(case, "add_material", by, request=request, apply=apply)


# --------------------------------------------------------------------------------------------
# The periodic clock job


@dataclass(frozen=True)
class ClockRun:
    checked: int
    changed: int
    turned_yellow: int
    turned_red: int
    changes: tuple[tuple[str, str, str], ...] = ()  # (case number, old colour, new colour)


def refresh_clocks(on: dt.date | None = None, *, batch: int = 2000) -> ClockRun:
    """Move every running case's light to what ``on`` (today) says and notify the people
    responsible when a case turns yellow or red. Run by Celery beat in production
    (``tongban.cases.tasks.refresh_clocks``) or ``manage.py case_clocks``."""
    on = on or today()
    qs = (
        Case.objects.filter(status__in=clock.RUNNING + clock.PAUSED)
        .select_related("department", "center", "assignee")
        .order_by("pk")
    )
    checked = changed = yellow = red = 0
    last = 0
    changes: list[tuple[str, str, str]] = []
    while True:
        chunk = list(qs.filter(pk__gt=last)[:batch])
        if not chunk:
            break
        last = chunk[-1].pk
        updates, alerts = [], []
        for case in chunk:
            checked += 1
            new = clock.colour(case, on)
            if new != case.colour:
                old, case.colour = case.colour, new
                updates.append(case)
                changes.append((case.number, old, new))
                if new in ("yellow", "red") and old != new:
                    yellow += new == "yellow"
                    red += new == "red"
                    alerts.append((case, new))
        notify.cases_clock_alert(alerts)
        if updates:
            Case.objects.bulk_update(updates, ["colour"], batch_size=500)
            changed += len(updates)
    if changed:
        audit.record(
            "case.clocks_refreshed",
            actor_label="system",
            data={"on": on.isoformat(), "changed": changed, "yellow": yellow, "red": red},
        )
    return ClockRun(checked, changed, yellow, red, tuple(changes))


def is_online(case: Case) -> bool:
    return case.channel in ONLINE_CHANNELS
