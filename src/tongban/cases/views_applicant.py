"""The applicant's case pages: the online application (申办) stepper, my cases (我的办件) with a
timeline and the actions open now, the licence wallet (证照夹), the message inbox (消息) and the
public progress query (办件进度查询).

Views stay thin: every read goes through ``selectors.visible_to`` / ``case_for`` (another
applicant's case is 404), every write through ``services`` or ``notify.services``; a service's
DomainError is shown on the page next to the field it names, and what was typed comes back.

The stepper: fill in → materials → delivery → confirm → receipt. Step 1 opens a draft
(``services.start_case``); every later step saves to the draft, so "my cases" lists drafts with
"continue". A case the center sent back (一次性告知, status ``notified``) goes through the same
steps and is resubmitted at the end.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tongban.accounts.selectors import applicant_of
from tongban.catalog import acceptance
from tongban.catalog.models import ItemVersion, Material, ServiceItem
from tongban.core.errors import DomainError, InvalidInput, NotFound
from tongban.notify import services as notify
from tongban.notify.models import Notification
from tongban.org.hours import describe
from tongban.org.models import ServiceCenter
from tongban.org.roles import Role
from tongban.registry.models import Licence

from . import clock, lifecycle, limits, selectors, services, uploads
from .forms_applicant import (
    STATUS_FILTERS,
    ConfirmForm,
    DeliveryForm,
    FillForm,
    ProgressForm,
    WithdrawForm,
    add_service_errors,
)
from .models import Case, CaseEvent, CaseMaterial, CaseNotice, Channel, Colour, Status

S = Status
CASES_PER_PAGE = 10
MESSAGES_PER_PAGE = 20
CENTERS_SHOWN = 8

# A phone's browser (the simple check the brief asks for; tablets count as web).
PHONE_UA = re.compile(r"Mobi|iPhone|iPod|Android.+Mobile|HarmonyOS|MicroMessenger", re.I)

STEPS: tuple[tuple[str, Promise], ...] = (
    ("fill", gettext_lazy("填写申请表")),
    ("materials", gettext_lazy("提交材料")),
    ("delivery", gettext_lazy("受理与送达")),
    ("confirm", gettext_lazy("确认提交")),
)
STEP_NAMES = tuple(name for name, _label in STEPS)
EDITABLE = (S.DRAFT, S.NOTIFIED)
ACTION_NEEDED = (S.DRAFT, S.NOTIFIED, S.SUPPLEMENT)
OPEN = lifecycle.BEFORE_ACCEPTANCE[1:] + lifecycle.UNDER_REVIEW  # submitted, not decided
DONE = lifecycle.FINISHED
ENDED = (S.REFUSED, S.WITHDRAWN, S.REVOKED)
FILTERS: dict[str, Q] = {
    "todo": Q(status__in=ACTION_NEEDED),
    "draft": Q(status=S.DRAFT),
    "open": Q(status__in=OPEN),
    "done": Q(status__in=DONE),
    "ended": Q(status__in=ENDED),
}
# Events the applicant's timeline leaves out (each upload, each form save, a claim by staff).
QUIET_ACTIONS = frozenset({"add_material", "edit", "assign"})

# status → tone of its tag (colour always comes with the status text)
TONES = {
    S.DRAFT: "plain",
    S.NOTIFIED: "warn",
    S.SUPPLEMENT: "warn",
    S.REFUSED: "bad",
    S.DENIED: "bad",
    S.REVOKED: "bad",
    S.WITHDRAWN: "plain",
    S.CLOSED: "ok",
    **dict.fromkeys(DONE, "ok"),
}


def status_tone(status: str) -> str:
    return TONES.get(status, "info")


# --------------------------------------------------------------------------------------------
# Access


def _applicants_only(request, message: str = ""):
    return render(
        request,
        "cases/applicant/applicants_only.html",
        {"message": message},
        status=403,
    )


def applicant_required(view):
    """Signed in as an applicant (the pages are the applicant's own; staff use workbenches)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if getattr(request.user, "kind", "") != "applicant":
            return _applicants_only(request)
        return view(request, *args, **kwargs)

    return wrapper


def _case(request, number: str) -> Case:
    """The caller's case by number; anything outside their scope is 404 (never 403)."""
    try:
        return selectors.case_for(request.user, number)
    except NotFound:
        raise Http404(_("未找到该办件。")) from None


def channel_of(request) -> str:
    return Channel.MOBILE if PHONE_UA.search(request.headers.get("User-Agent", "")) else Channel.WEB


def online_ok(item: ServiceItem) -> bool:
    """The item can be applied for online: in use, handled online at depth Ⅱ or more."""
    version = item.published_version
    return (
        item.status == ServiceItem.Status.IN_USE
        and version is not None
        and version.state == ItemVersion.State.PUBLISHED
        and version.handled_online
        and version.online_depth >= ItemVersion.OnlineDepth.PRE_REVIEW
    )


# --------------------------------------------------------------------------------------------
# What is asked of the applicant now


@dataclass(frozen=True)
class Ask:
    text: str
    url: str = ""
    label: str = ""
    urgent: bool = False


def ask_of(case: Case) -> Ask:
    """One line for lists and the case page: what the applicant should do now, and where."""
    number = case.number
    if case.status == S.DRAFT:
        return Ask(
            _("继续填写并提交申请"),
            reverse("cases_applicant:step", args=[number, "fill"]),
            _("继续办理"),
            True,
        )
    if case.status == S.NOTIFIED:
        return Ask(
            _("按一次性告知书补齐或更正后重新提交"),
            reverse("cases_applicant:step", args=[number, "fill"]),
            _("补齐后重新提交"),
            True,
        )
    if case.status == S.SUPPLEMENT:
        text = _("上传补正材料并提交")
        if case.supplement_due:
            text = _("请在 %(due)s 前上传补正材料并提交") % {"due": _date(case.supplement_due)}
        return Ask(
            text,
            reverse("cases_applicant:case", args=[number]) + "#supplement",
            _("上传补正材料"),
            True,
        )
    if case.status in (S.PRE_REVIEW, S.RECEIVED):
        return Ask(_("等待受理中心预审，无需操作"))
    if case.status in (S.ACCEPTED, S.IN_REVIEW, S.APPROVAL):
        return Ask(_("部门审查中，无需操作"))
    if case.status == S.SPECIAL:
        return Ask(_("特别程序进行中（不计入办理时限），请留意通知"))
    if case.status in (S.APPROVED, S.APPROVED_TOLERATED):
        return Ask(_("已准予许可，等待出证"))
    if case.status == S.ISSUED:
        if case.delivery_mode == "pickup":
            return Ask(_("结果已出，请到受理中心领取"))
        if case.delivery_mode == "post":
            return Ask(_("结果已出，将免费邮寄给您"))
        return Ask(
            _("电子证照已发放到您的证照夹"), reverse("cases_applicant:licences"), _("证照夹")
        )
    if case.status == S.DENIED:
        return Ask(_("不予许可：请查看决定书中的理由和救济途径"))
    return Ask(_("无需操作"))


def _date(value) -> str:
    from tongban.web.templatetags.tongban import tb_date

    return tb_date(value)


# --------------------------------------------------------------------------------------------
# Reads shaped for the pages


@dataclass
class MaterialRow:
    """One checklist entry with what the applicant has provided and the licences to reuse."""

    material: Material | None
    provided: list[CaseMaterial] = field(default_factory=list)
    licences: list[Licence] = field(default_factory=list)
    error: str = ""

    @property
    def key(self) -> str:
        return str(self.material.pk) if self.material else "extra"

    @property
    def done(self) -> bool:
        return bool(self.provided)


def material_rows(case: Case, errors: dict[str, str] | None = None, *, supplement_only=False):
    """The checklist of the case's version (plus an "other material" row) with what is provided.
    ``supplement_only`` lists only materials handed in as a supplement (the 补正 panel)."""
    errors = errors or {}
    provided = case.materials.filter(removed_at__isnull=True).select_related("licence")
    used = {(cm.material_id, cm.licence_id) for cm in provided if cm.licence_id}
    if supplement_only:
        provided = provided.filter(supplement=True)
    by_material: dict[int | None, list[CaseMaterial]] = defaultdict(list)
    for cm in provided.order_by("uploaded_at", "pk"):
        by_material[cm.material_id].append(cm)
    day = services.today()
    wallet = [lic for lic in Licence.objects.filter(holder=case.applicant) if lic.usable_on(day)]
    rows = []
    for m in case.version.materials.order_by("order", "pk"):
        licences = (
            [
                lic
                for lic in wallet
                if lic.licence_type == m.licence_type and (m.pk, lic.pk) not in used
            ]
            if m.licence_type
            else []
        )
        rows.append(MaterialRow(m, by_material.get(m.pk, []), licences, errors.get(str(m.pk), "")))
    rows.append(MaterialRow(None, by_material.get(None, []), [], errors.get("extra", "")))
    return rows


@dataclass(frozen=True)
class TimelineRow:
    at: object
    label: str
    who: str
    where: str
    note: str
    items: list[str]
    status: str


def _step_label(event: CaseEvent) -> str:
    if event.action == "create":
        return _("创建申请")
    for t in lifecycle.ALL_STEPS:
        if t.action == event.action and (not event.from_status or event.from_status in t.sources):
            return str(t.label)
    return event.action


def _role_label(value: str) -> str:
    if not value:
        return _("系统")
    try:
        return str(Role(value).label)
    except ValueError:
        return value


def timeline(case: Case, *, public: bool = False) -> list[TimelineRow]:
    """The case's steps: who (a role, never a staff member's name), what, when, the note (none
    for steps inside the department, ``lifecycle.INTERNAL_ACTIONS``). ``public`` (the progress
    query) keeps only status changes and leaves notes out."""
    rows = []
    for e in selectors.timeline(case):
        if e.action in QUIET_ACTIONS:
            continue
        if public and not e.to_status:
            continue
        internal = e.action in lifecycle.INTERNAL_ACTIONS
        items = [str(i) for i in (e.data or {}).get("items", [])] if not public else []
        rows.append(
            TimelineRow(
                at=e.at,
                label=_step_label(e),
                who=_role_label(e.role),
                where=e.center.name if e.center else "",
                note="" if public or internal else e.note,
                items=items,
                status=e.to_status,
            )
        )
    return rows


@dataclass(frozen=True)
class Deadline:
    due: object
    colour: str
    label: str
    text: str


def deadline_of(case: Case) -> Deadline:
    """The time limit in words, with its light (green / yellow / red / paused)."""
    day = services.today()
    colour = clock.colour(case, day)
    label = str(Colour(colour).label) if colour in Colour.values else ""
    if case.status in lifecycle.BEFORE_ACCEPTANCE or case.status == S.REFUSED:
        days = case.version.promised_limit_days
        if case.version.case_kind == ItemVersion.CaseKind.IMMEDIATE:
            text = _("即办件：受理当日办结。")
        else:
            text = _("受理后开始计时，承诺 %(n)s 个工作日内办结。") % {"n": days}
        return Deadline(None, "", "", text)
    if case.due_date is None:
        return Deadline(None, "", "", "")
    left = clock.remaining(case, day)
    if colour == Colour.PAUSED:
        text = _("补正或特别程序期间暂停计时，期限顺延。")
    elif colour == Colour.RED:
        text = _("已超过办结期限 %(n)s 个工作日。") % {"n": abs(left or 0)}
    elif colour in (Colour.GREEN, Colour.YELLOW):
        text = _("今天到期。") if left == 0 else _("还剩 %(n)s 个工作日。") % {"n": left}
    elif case.decided_at:
        text = _("已按时办结。") if clock.on_time(case) else _("办结晚于期限。")
    else:
        text = ""
    if case.due_provisional:
        text += _("（期限按暂定日历计算）")
    return Deadline(case.due_date, colour, label, text)


def _notices(case: Case) -> list[CaseNotice]:
    return list(case.notices.order_by("issued_at", "pk"))


def _latest_notice(case: Case, kind: str) -> CaseNotice | None:
    return case.notices.filter(kind=kind).order_by("-issued_at", "-pk").first()


def _centers_for(item: ServiceItem):
    return acceptance.accepting_centers(item, services.today())


def _where_to_go(item: ServiceItem):
    centers = (
        _centers_for(item)
        .exclude(level=ServiceCenter.Level.VILLAGE)
        .select_related("region")
        .order_by("level", "code")
    )
    return [(c, describe(c.opening_hours or {})) for c in centers[:CENTERS_SHOWN]]


# --------------------------------------------------------------------------------------------
# 1. Apply online (the stepper)


def apply(request, code: str):
    """Start an online application for item ``code`` (step 1: fill in the form)."""
    item = (
        ServiceItem.objects.select_related("published_version", "department")
        .filter(code=code, published_version__isnull=False)
        .first()
    )
    if item is None or item.published_version.state != ItemVersion.State.PUBLISHED:
        raise Http404(_("事项不存在或尚未发布。"))
    version = item.published_version
    if not online_ok(item):
        return render(
            request,
            "cases/applicant/not_online.html",
            {"item": item, "version": version, "centers": _where_to_go(item)},
        )
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if getattr(request.user, "kind", "") != "applicant":
        return _applicants_only(request)
    applicant = applicant_of(request.user)
    if applicant is None:
        return _applicants_only(request, _("您的账户尚未关联申请人身份，请先完成实名登记。"))

    initial = {
        "contact_name": applicant.name if applicant.kind == applicant.Kind.NATURAL else "",
        "contact_mobile": applicant.mobile,
    }
    form = FillForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.start_case(
                item=item,
                by=request.user,
                channel=channel_of(request),
                form=form.cleaned_data,
                request=request,
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("草稿已保存（办件编号 %(number)s）。") % {"number": case.number}
            )
            return redirect("cases_applicant:step", case.number, "materials")
    drafts = selectors.visible_to(request.user).filter(item=item, status=S.DRAFT)
    return render(
        request,
        "cases/applicant/step_fill.html",
        {
            "item": item,
            "version": version,
            "case": None,
            "form": form,
            "drafts": list(drafts[:5]),
            **_stepper("fill", None),
        },
        status=422 if form.errors else 200,
    )


def _steps_done(case: Case | None) -> set[str]:
    """The steps whose part of the application is complete (shown with a tick)."""
    if case is None:
        return set()
    done = set()
    if (case.form_data or {}).get("description") and case.contact_mobile:
        done.add("fill")
    if not services.missing_materials(case)[0]:
        done.add("materials")
    saved = any(
        "delivery_mode" in (e.data or {}).get("fields", [])
        for e in case.events.filter(action="edit").only("data")
    )
    address_ok = case.delivery_mode != "post" or bool(case.postal_address)
    if case.center_id and (saved or case.status != S.DRAFT) and address_ok:
        done.add("delivery")
    return done


def _stepper(current: str, case: Case | None) -> dict:
    reached = STEP_NAMES if case is not None else ("fill",)
    done = _steps_done(case)
    steps = [
        {
            "name": name,
            "label": label,
            "number": i,
            "current": name == current,
            "done": name in done and name != current,
            "url": reverse("cases_applicant:step", args=[case.number, name])
            if case is not None and name in reached
            else "",
        }
        for i, (name, label) in enumerate(STEPS, start=1)
    ]
    index = STEP_NAMES.index(current)
    return {
        "steps": steps,
        "step": current,
        "step_number": index + 1,
        "step_total": len(STEPS),
        "next_step": STEP_NAMES[index + 1] if index + 1 < len(STEPS) else "",
        "previous_step": STEP_NAMES[index - 1] if index > 0 else "",
    }


def _step_context(request, case: Case, current: str) -> dict:
    context = {
        "case": case,
        "item": case.item,
        "version": case.version,
        "resubmitting": case.status == S.NOTIFIED,
        "upload_mb": upload_mb(),
        **_stepper(current, case),
    }
    if case.status == S.NOTIFIED:
        context["one_time_notice"] = _latest_notice(case, CaseNotice.Kind.ONE_TIME)
    return context


def _render_step(request, case: Case, current: str, *, status: int = 200, **extra):
    context = _step_context(request, case, current)
    if current == "fill":
        form = extra.pop("form", None) or FillForm(
            initial={
                "description": case.form_data.get("description", ""),
                "address": case.form_data.get("address", ""),
                "remarks": case.form_data.get("remarks", ""),
                "contact_name": case.contact_name,
                "contact_mobile": case.contact_mobile,
            }
        )
        context["form"] = form
    elif current == "materials":
        rows = material_rows(case, extra.pop("upload_errors", None))
        context["rows"] = rows
        context["upload_errors"] = [r for r in rows if r.error]
        context["missing"] = services.missing_materials(case)[0]
    elif current == "delivery":
        context["form"] = extra.pop("form", None) or _delivery_form(case)
    elif current == "confirm":
        context["form"] = extra.pop("form", None) or ConfirmForm()
        context["rows"] = material_rows(case)
        context["missing"] = services.missing_materials(case)[0]
        context["problems"] = _not_ready(case)
    context.update(extra)
    return render(request, f"cases/applicant/step_{current}.html", context, status=status)


def _delivery_form(case: Case, data=None) -> DeliveryForm:
    form = DeliveryForm(
        data,
        centers=_centers_for(case.item),
        result_by_mail=case.version.result_by_mail,
        initial={
            "center": case.center_id,
            "delivery_mode": case.delivery_mode,
            "postal_address": case.postal_address,
        },
    )
    if case.status != S.DRAFT:
        form.fields["center"].disabled = True
        form.fields["center"].help_text = _("提交后受理中心不能更改。")
    return form


def _not_ready(case: Case) -> list[tuple[str, str]]:
    """What still stops the submission, as (message, step to fix it)."""
    problems = []
    if not (case.form_data or {}).get("description"):
        problems.append((_("请填写申请内容。"), "fill"))
    if not case.contact_mobile:
        problems.append((_("请填写联系手机。"), "fill"))
    required, _tolerated = services.missing_materials(case)
    for m in required:
        problems.append((_("必要材料“%(name)s”尚未提交。") % {"name": m.name}, "materials"))
    if case.delivery_mode == "post" and not case.postal_address:
        problems.append((_("选择邮寄时须填写邮寄地址。"), "delivery"))
    return problems


@applicant_required
def step(request, number: str, name: str):
    """Steps 1–4 of a draft (or of a case sent back with 一次性告知)."""
    if name not in STEP_NAMES:
        raise Http404
    case = _case(request, number)
    if case.status not in EDITABLE:
        messages.info(request, _("该申请已提交，不能再修改。"))
        return redirect("cases_applicant:case", case.number)
    if request.method != "POST":
        return _render_step(request, case, name)

    if name == "fill":
        form = FillForm(request.POST)
        if form.is_valid():
            try:
                services.update_form(case, request.user, form.cleaned_data, request=request)
            except DomainError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("申请表已保存。"))
                return redirect("cases_applicant:step", case.number, "materials")
        return _render_step(request, case, name, form=form, status=422)

    if name == "materials":
        # "Next": the materials themselves were saved one by one.
        return redirect("cases_applicant:step", case.number, "delivery")

    if name == "delivery":
        form = _delivery_form(case, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_form(
                    case,
                    request.user,
                    {
                        "delivery_mode": data["delivery_mode"],
                        "postal_address": data["postal_address"],
                    },
                    center=data["center"] if case.status == S.DRAFT else None,
                    request=request,
                )
            except DomainError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("受理中心和送达方式已保存。"))
                return redirect("cases_applicant:step", case.number, "confirm")
        return _render_step(request, case, name, form=form, status=422)

    # confirm → submit (or resubmit after 一次性告知)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        problems = _not_ready(case)
        if problems:
            for message, _step in problems:
                form.add_error(None, message)
        else:
            try:
                if case.status == S.NOTIFIED:
                    services.resubmit(case, request.user, request=request)
                else:
                    services.submit(case, request.user, request=request)
            except DomainError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("cases_applicant:receipt", case.number)
    return _render_step(request, case, name, form=form, status=422)


@applicant_required
@require_POST
def materials(request, number: str):
    """Upload a file, reuse a licence from the wallet, or take a material back. ``back`` says
    which page to return to: the stepper's materials step or the case page (补正)."""
    case = _case(request, number)
    back = request.POST.get("back", "materials")
    material_id = _int(request.POST.get("material"))
    op = request.POST.get("op", "upload")
    key = str(material_id) if material_id else "extra"
    try:
        if op == "upload":
            cm = services.add_upload(
                case,
                request.user,
                material_id=material_id,
                upload=request.FILES.get("file"),
                request=request,
            )
            done = _("已上传“%(name)s”。") % {"name": cm.original_name or cm.name}
        elif op == "licence":
            cm = services.attach_licence(
                case,
                request.user,
                material_id=material_id,
                licence_id=_int(request.POST.get("licence")) or 0,
                request=request,
            )
            done = _("已复用电子证照：%(name)s。") % {"name": cm.name}
        elif op == "remove":
            services.remove_material(
                case,
                request.user,
                case_material_id=_int(request.POST.get("case_material")) or 0,
                request=request,
            )
            done = _("已删除该材料。")
        else:
            raise InvalidInput(_("无效的操作。"))
    except DomainError as exc:
        errors = {key: exc.message}
        if back == "case":
            return _render_case(request, case, upload_errors=errors, status=exc.status)
        if case.status not in EDITABLE:
            messages.error(request, exc.message)
            return redirect("cases_applicant:case", case.number)
        return _render_step(request, case, "materials", upload_errors=errors, status=exc.status)
    messages.success(request, done)
    anchor = f"#material-{key}"
    if back == "case":
        return redirect(reverse("cases_applicant:case", args=[case.number]) + "#supplement")
    return redirect(reverse("cases_applicant:step", args=[case.number, "materials"]) + anchor)


def upload_mb() -> int:
    return max(1, uploads.max_bytes() // (1024 * 1024))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@applicant_required
def receipt(request, number: str):
    case = _case(request, number)
    if case.status == S.DRAFT:
        return redirect("cases_applicant:step", case.number, "confirm")
    return render(
        request,
        "cases/applicant/receipt.html",
        {
            "case": case,
            "pre_review_only": case.version.online_depth < ItemVersion.OnlineDepth.ONLINE_HANDLING,
            "deadline": deadline_of(case),
            "progress_url": reverse("cases_applicant:progress") + f"?number={case.number}",
        },
    )


# --------------------------------------------------------------------------------------------
# 2. My cases


@applicant_required
def my_cases(request):
    mine = selectors.visible_to(request.user)
    wanted = request.GET.get("status", "")
    if wanted not in FILTERS:
        wanted = ""
    counts = mine.order_by().aggregate(
        all=Count("pk"), **{key: Count("pk", filter=q) for key, q in FILTERS.items()}
    )
    qs = mine.filter(FILTERS[wanted]) if wanted else mine
    page = Paginator(qs.order_by("-created_at", "-pk"), CASES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [(c, ask_of(c), status_tone(c.status)) for c in page.object_list]
    filters = [
        {
            "key": key,
            "label": label,
            "count": counts[key or "all"],
            "current": key == wanted,
        }
        for key, label in STATUS_FILTERS
    ]
    return render(
        request,
        "cases/applicant/my_cases.html",
        {"page": page, "rows": rows, "filters": filters, "wanted": wanted, "total": counts["all"]},
    )


ACTION_BUTTONS = {
    "submit": gettext_lazy("继续填写并提交"),
    "resubmit": gettext_lazy("补齐后重新提交"),
    "supplement": gettext_lazy("上传补正材料并提交"),
    "withdraw": gettext_lazy("撤回申请"),
}


def _render_case(request, case: Case, *, status: int = 200, **extra):
    actions = {t.action for t in services.feasible_actions(request.user, case)}
    notices = _notices(case)
    supplement_notice = _latest_notice(case, CaseNotice.Kind.SUPPLEMENT)
    upload_errors = extra.pop("upload_errors", None)
    context = {
        "case": case,
        "tone": status_tone(case.status),
        "ask": ask_of(case),
        "deadline": deadline_of(case),
        "timeline": timeline(case),
        "materials": case.materials.filter(removed_at__isnull=True)
        .select_related("licence", "material")
        .order_by("material__order", "uploaded_at", "pk"),
        "notices": notices,
        "actions": actions,
        "can_continue": bool(actions & {"submit", "resubmit", "edit"}),
        "can_withdraw": "withdraw" in actions,
        "can_supplement": "supplement" in actions,
        "one_time_notice": _latest_notice(case, CaseNotice.Kind.ONE_TIME)
        if case.status == S.NOTIFIED
        else None,
        "supplement_notice": supplement_notice if case.status == S.SUPPLEMENT else None,
        "issued": case.status in (S.ISSUED, S.DELIVERED, S.CLOSED) and bool(case.licence_number),
        "licences": list(case.licences.all()),
        "upload_mb": upload_mb(),
    }
    if case.status == S.SUPPLEMENT:
        context["supplement_rows"] = material_rows(case, upload_errors, supplement_only=True)
        context["supplement_errors"] = [r for r in context["supplement_rows"] if r.error]
    context.update(extra)
    return render(request, "cases/applicant/case.html", context, status=status)


@applicant_required
def case_detail(request, number: str):
    return _render_case(request, _case(request, number))


@applicant_required
@require_POST
def supplement(request, number: str):
    """补正: send the supplement materials uploaded since the request; the clock restarts."""
    case = _case(request, number)
    try:
        services.supplement(case, request.user, note=request.POST.get("note", ""), request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _render_case(request, case, status=exc.status)
    messages.success(request, _("补正材料已提交，部门将继续审查。"))
    return redirect("cases_applicant:case", case.number)


@applicant_required
def withdraw(request, number: str):
    """Withdraw (撤回) with a confirmation page; a draft is simply given up."""
    case = _case(request, number)
    form = WithdrawForm(request.POST or None)
    allowed = any(t.action == "withdraw" for t in services.feasible_actions(request.user, case))
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw(
                case, request.user, reason=form.cleaned_data["reason"], request=request
            )
        except DomainError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("申请已撤回。"))
            return redirect("cases_applicant:case", case.number)
    return render(
        request,
        "cases/applicant/withdraw.html",
        {"case": case, "form": form, "allowed": allowed},
        status=422 if form.errors else 200,
    )


# --------------------------------------------------------------------------------------------
# 3. Licence wallet


@applicant_required
def licences(request):
    applicant = applicant_of(request.user)
    rows = []
    if applicant is not None:
        visible = set(
            selectors.visible_to(request.user).values_list("pk", flat=True)
        )  # a licence's case is linked only when the applicant may open it
        day = services.today()
        for lic in Licence.objects.filter(holder=applicant).select_related("case"):
            rows.append(
                {
                    "licence": lic,
                    "usable": lic.usable_on(day),
                    "expired": lic.status == Licence.Status.VALID and not lic.usable_on(day),
                    "case": lic.case if lic.case_id in visible else None,
                }
            )
    return render(request, "cases/applicant/licences.html", {"rows": rows, "applicant": applicant})


# --------------------------------------------------------------------------------------------
# 4. Messages


def _inbox(user):
    return Notification.objects.filter(user=user, channel=Notification.Channel.INBOX)


@applicant_required
def inbox(request):
    page = Paginator(_inbox(request.user).select_related("case"), MESSAGES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "cases/applicant/messages.html",
        {"page": page, "unread": notify.unread_count(request.user)},
    )


@applicant_required
@require_POST
def mark_read(request):
    """Mark one message (``id``) or all (no ``id``) as read; htmx gets the message back, others
    a redirect. An id that cannot be a message (not a number, out of range) changes nothing."""
    given = "id" in request.POST
    one = notify.valid_id(request.POST.get("id")) if given else None
    if given and one is None:
        if request.htmx:
            raise Http404
        return redirect("cases_applicant:messages")
    changed = notify.mark_read(request.user, [one] if one else None)
    if request.htmx and one:
        message = _inbox(request.user).filter(pk=one).select_related("case").first()
        if message is None:
            raise Http404
        return render(request, "cases/applicant/_message.html", {"m": message})
    if not one:
        messages.success(request, _("已将 %(n)s 条消息标为已读。") % {"n": changed})
    return redirect(reverse("cases_applicant:messages") + (f"#message-{one}" if one else ""))


# --------------------------------------------------------------------------------------------
# 5. Public progress query


def progress(request):
    """办件进度查询 without signing in: the case number and the contact mobile must both match;
    a wrong pair reads exactly like an unknown number. Limited per address and per case number,
    together with the API's progress query (cases/limits.py)."""
    form = ProgressForm(
        request.POST or None, initial={"number": request.GET.get("number", "")[:40].strip()}
    )
    result = None
    searched = False
    if request.method == "POST":
        number = form.cleaned_data["number"] if form.is_valid() else ""
        seconds = limits.progress_limited(request, number)
        if seconds:
            response = render(
                request,
                "cases/applicant/progress_limited.html",
                {"minutes": max(1, seconds // 60)},
                status=429,
            )
            response["Retry-After"] = str(seconds)
            return response
        if form.is_valid():
            searched = True
            case = selectors.case_by_progress_query(
                form.cleaned_data["number"], form.cleaned_data["mobile"]
            )
            if case is not None:
                result = {
                    "number": case.number,
                    "title": case.title,
                    "status": case.get_status_display(),
                    "tone": status_tone(case.status),
                    "center": case.center.name if case.center else "",
                    "department": case.department.name,
                    "submitted_at": case.submitted_at,
                    "deadline": deadline_of(case),
                    "steps": timeline(case, public=True),
                }
    return render(
        request,
        "cases/applicant/progress.html",
        {"form": form, "result": result, "searched": searched},
        status=422 if form.errors else 200,
    )
