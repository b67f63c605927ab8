"""The staff case workbench (办件工作台), mounted at /workbench/cases/.

* ``worklist`` — the cases of the user's tabs (worklist.py: 待受理, 待认领, 我的在办, 待审批 …)
  with filters, counts per clock light, sort and pagination; ``export`` — the same list as CSV
  for center administrators and supervisors (masked, audited).
* ``intake`` — the window clerk's screen: find or register the applicant, pick an item the
  center may accept, start a window or mail case.
* ``detail`` — one case: the materials (checklist with previews) beside the forms of every step
  the user may take now, the application form while it is editable, the timeline and notices.
  Each view is audited (``case.viewed``); revealing personal data is a separate audited POST.
* ``act`` — every step, by name: parse its form, call ``services``, redirect; a rule failure
  comes back on the page with its message and the form as typed (403 / 409 / 422).

Every case is read through ``selectors.visible_to`` (404 outside the user's scope) and every
button comes from ``lifecycle.available_actions``: the transition table drives the page. Users
who only read (center administrators, supervisors) get no buttons, and their POSTs are refused.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case as When_
from django.db.models import F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tongban.accounts import selectors as account_selectors
from tongban.accounts import services as account_services
from tongban.accounts.models import Applicant
from tongban.catalog.models import ItemVersion, Material, ServiceItem
from tongban.catalog.selectors import items_accepted_at
from tongban.core import audit
from tongban.core.errors import DomainError
from tongban.core.masking import mask_mobile, mask_name, mask_text
from tongban.org.models import Region, ServiceCenter, StaffAssignment
from tongban.org.roles import Role
from tongban.org.scopes import active_assignments
from tongban.registry.models import Licence

from . import clock, lifecycle, limits, selectors, services, worklist
from . import forms as f
from .models import (
    ONLINE_CHANNELS,
    Case,
    CaseMaterial,
    Colour,
    DeliveryMode,
    Status,
)

PER_PAGE = 20
ITEMS_PER_PAGE = 10
EXPORT_MAX = 5000
INTAKE_KEY = "cases_staff.intake_applicant"
PRINT_KEY = "cases_staff.print"
EXPORT_ROLES = frozenset({Role.CENTER_ADMIN, Role.SUPERVISOR})
MORE_FILTERS = (
    "channel",
    "center",
    "region",
    "submitted_from",
    "submitted_to",
    "due_from",
    "due_to",
)


# ---- access ----------------------------------------------------------------------------------


def staff_required(view):
    """Signed in (else the login page) and holding a case role of the workbench (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        roles = worklist.staff_roles(request.user)
        if not roles:
            raise PermissionDenied(_("只有办件相关岗位的工作人员可以使用办件工作台。"))
        request.case_roles = roles
        return view(request, *args, **kwargs)

    return wrapped


def clerk_required(view):
    @staff_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not _clerk_centers(request.user):
            raise PermissionDenied(_("只有综合窗口人员可以窗口收件。"))
        return view(request, *args, **kwargs)

    return wrapped


def _clerk_centers(user) -> list[ServiceCenter]:
    return [
        a.center
        for a in active_assignments(user, Role.WINDOW_CLERK)
        if a.center_id is not None and a.center.active
    ]


def _case(request, number: str) -> Case:
    """The case, if it is in the scope of the user's workbench roles; 404 otherwise."""
    case = (
        selectors.visible_to(request.user, tuple(request.case_roles))
        .select_related("center__region", "department__region", "accepted_by", "decided_by")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise Http404(_("未找到该办件。"))
    return case


def _can_export(request) -> bool:
    return request.user.is_superuser or bool(EXPORT_ROLES & set(request.case_roles))


def _nav(request, current: str) -> dict[str, Any]:
    roles = request.case_roles
    counts = worklist.tab_counts(request.user, roles)
    return {
        "wb_tabs": [(t, counts.get(t.key, 0)) for t in worklist.tabs_for(roles)],
        "wb_current": current,
        "is_clerk": Role.WINDOW_CLERK in roles and bool(_clerk_centers(request.user)),
        "can_export": _can_export(request),
    }


# ---- labels ------------------------------------------------------------------------------------


ACTION_LABELS: dict[str, Promise] = {"create": gettext_lazy("登记申请")}
for _step in lifecycle.ALL_STEPS:
    ACTION_LABELS.setdefault(_step.action, _step.label)
ACTION_LABELS["viewed"] = gettext_lazy("查阅")


@dataclass(frozen=True)
class Due:
    colour: str
    label: str
    date: dt.date | None
    remaining: int | None
    text: str


def due_of(case: Case, today: dt.date) -> Due:
    """The deadline as a list and the detail page show it: light, label, working days left."""
    colour = clock.colour(case, today)
    label = str(Colour(colour).label)
    remaining = clock.remaining(case, today) if case.due_date else None
    if case.decided_at and case.due_date and colour == Colour.NONE:
        on_time = clock.on_time(case)
        return Due(
            colour, _("已办结"), case.due_date, None, _("按时办结") if on_time else _("超期办结")
        )
    if colour == Colour.PAUSED:
        text = _("暂停计时（剩余 %(n)d 个工作日）") % {"n": max(remaining or 0, 0)}
    elif colour == Colour.RED and remaining is not None:
        text = _("已超期 %(n)d 个工作日") % {"n": max(-remaining, 1)}
    elif remaining is not None and colour in (Colour.GREEN, Colour.YELLOW):
        text = _("剩余 %(n)d 个工作日") % {"n": remaining}
    elif case.status in lifecycle.BEFORE_ACCEPTANCE:
        text = _("受理后开始计时")
    else:
        text = ""
    return Due(colour, label, case.due_date, remaining, text)


def applicant_label(applicant: Applicant) -> str:
    return applicant.masked_name


# ---- the worklist ------------------------------------------------------------------------------


@dataclass
class Row:
    case: Case
    applicant: str
    identity: str
    due: Due
    claim: bool = False


def _filter_choices(request) -> tuple[list[ServiceCenter], list[Region]]:
    visible = selectors.visible_to(request.user, tuple(request.case_roles)).order_by()
    center_ids = set(visible.values_list("center_id", flat=True).distinct())
    centers = list(
        ServiceCenter.objects.filter(pk__in=center_ids - {None}).order_by("level", "code")
    )
    paths = [p for p in visible.values_list("region__path", flat=True).distinct() if p]
    regions = f.region_choices(paths)
    areas = Region.objects.filter(member_regions__in=[r.pk for r in regions]).distinct()
    regions += [a for a in areas if a not in regions]
    return centers, regions


def _region_q(code: str) -> Q:
    region = Region.objects.filter(code=code).first()
    if region is None:
        return Q(pk__in=[])
    if region.level == Region.Level.FUNCTIONAL_AREA:
        q = Q(region__path__startswith=region.path)
        for member in region.member_regions.all():
            q |= Q(region__path__startswith=member.path)
        return q
    return Q(region__path__startswith=region.path)


def _apply_filters(qs: QuerySet[Case], data: dict) -> QuerySet[Case]:
    """Every filter except the light (counted per light first)."""
    qs = qs.annotate(filed_at=Coalesce("submitted_at", "created_at"))
    if q := (data.get("q") or "").strip():
        qs = qs.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(item__code__icontains=q))
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("channel"):
        qs = qs.filter(channel=data["channel"])
    if data.get("center"):
        qs = qs.filter(center__code=data["center"])
    if data.get("region"):
        qs = qs.filter(_region_q(data["region"]))
    if data.get("submitted_from"):
        qs = qs.filter(filed_at__date__gte=data["submitted_from"])
    if data.get("submitted_to"):
        qs = qs.filter(filed_at__date__lte=data["submitted_to"])
    if data.get("due_from"):
        qs = qs.filter(due_date__gte=data["due_from"])
    if data.get("due_to"):
        qs = qs.filter(due_date__lte=data["due_to"])
    return qs


def _sorted(qs: QuerySet[Case], sort: str, tab: worklist.Tab) -> QuerySet[Case]:
    due_asc = F("due_date").asc(nulls_last=True)
    due_desc = F("due_date").desc(nulls_last=True)
    if sort == "due":
        return qs.order_by(due_asc, "filed_at", "pk")
    if sort == "-due":
        return qs.order_by(due_desc, "-filed_at", "-pk")
    if sort == "submitted":
        return qs.order_by("filed_at", "pk")
    if sort == "-submitted":
        return qs.order_by("-filed_at", "-pk")
    if tab.key == "waiting":
        # online applications waiting for pre-review or acceptance first, oldest first
        waiting = (Status.PRE_REVIEW, Status.RECEIVED)
        priority = When_(
            When(status__in=waiting, channel__in=list(ONLINE_CHANNELS), then=Value(0)),
            When(status__in=waiting, then=Value(1)),
            When(status=Status.NOTIFIED, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
        return qs.annotate(priority=priority).order_by("priority", "filed_at", "pk")
    if tab.key in ("all", "pickup"):
        return qs.order_by("-filed_at", "-pk")
    # running and paused clocks first, by deadline; then the decided ones
    ticking = When_(
        When(status__in=clock.RUNNING + clock.PAUSED, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(ticking=ticking).order_by("ticking", due_asc, "filed_at", "pk")


@dataclass
class Listing:
    tab: worklist.Tab
    form: f.CaseFilterForm
    queryset: QuerySet[Case]
    lights: dict[str, int]
    data: dict = field(default_factory=dict)


def _listing(request) -> Listing:
    roles = request.case_roles
    tabs = worklist.tabs_for(roles)
    wanted = request.GET.get("tab", "")
    tab = next((t for t in tabs if t.key == wanted), None) or worklist.default_tab(roles)
    centers, regions = _filter_choices(request)
    params = request.GET.copy()
    params.pop("tab", None)
    params.pop("page", None)
    form = f.CaseFilterForm(params or None, centers=centers, regions=regions)
    data: dict = {}
    if form.is_bound:
        form.is_valid()
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    today = services.today()
    qs = _apply_filters(worklist.tab_cases(tab, request.user, roles), data)
    lights = worklist.colour_counts(qs, today)
    if data.get("colour"):
        qs = qs.filter(worklist.colour_q(data["colour"], today))
    qs = _sorted(qs, data.get("sort", ""), tab)
    return Listing(tab, form, qs, lights, data)


@staff_required
def worklist_view(request):
    """办件清单: the cases of one tab, filtered, counted per light, sorted and paginated."""
    listing = _listing(request)
    page = Paginator(listing.queryset, PER_PAGE).get_page(request.GET.get("page"))
    today = services.today()
    rows = []
    for case in page.object_list:
        row = Row(
            case,
            applicant_label(case.applicant),
            case.applicant.masked_identity,
            due_of(case, today),
        )
        if listing.tab.key == "unclaimed":
            names = {t.action for t in lifecycle.available_actions(request.user, case)}
            row.claim = "assign" in names
        rows.append(row)
    status = 422 if listing.form.is_bound and listing.form.errors else 200
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/staff/list.html",
        {
            **_nav(request, listing.tab.key),
            "tab": listing.tab,
            "form": listing.form,
            "page": page,
            "rows": rows,
            "lights": listing.lights,
            "filtered": bool(listing.data),
            "more_filters": sum(1 for k in MORE_FILTERS if k in listing.data)
            + (1 if listing.form.errors and set(listing.form.errors) & set(MORE_FILTERS) else 0),
            "export_query": query.urlencode(),
            "read_only": not any(
                r in request.case_roles for r in (Role.WINDOW_CLERK, Role.REVIEWER, Role.APPROVER)
            ),
        },
        status=status,
    )


EXPORT_HEADER = (
    gettext_lazy("办件编号"),
    gettext_lazy("事项"),
    gettext_lazy("事项编码"),
    gettext_lazy("申请人"),
    gettext_lazy("证件号码"),
    gettext_lazy("联系手机"),
    gettext_lazy("申请渠道"),
    gettext_lazy("受理中心"),
    gettext_lazy("审批部门"),
    gettext_lazy("办件状态"),
    gettext_lazy("提交时间"),
    gettext_lazy("受理日期"),
    gettext_lazy("办结期限"),
    gettext_lazy("时限状态"),
    gettext_lazy("剩余工作日"),
    gettext_lazy("承办人"),
)


def _local(moment) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@staff_required
def export(request):
    """CSV of the filtered list (personal data masked; at most EXPORT_MAX rows; audited)."""
    if not _can_export(request):
        raise PermissionDenied(_("只有中心管理员和督查人员可以导出办件清单。"))
    listing = _listing(request)
    today = services.today()
    total = listing.queryset.count()
    cases = list(listing.queryset[:EXPORT_MAX])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = today.strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="cases-{listing.tab.key}-{stamp}.csv"'
    response.write("\ufeff")  # so that spreadsheet programs read UTF-8
    writer = csv.writer(response)
    writer.writerow([str(h) for h in EXPORT_HEADER])
    for case in cases:
        due = due_of(case, today)
        writer.writerow(
            [
                case.number,
                case.title,
                case.item.code,
                applicant_label(case.applicant),
                case.applicant.masked_identity,
                mask_mobile(case.contact_mobile),
                case.get_channel_display(),
                case.center.name if case.center else "",
                case.department.name,
                case.get_status_display(),
                _local(case.submitted_at),
                case.accepted_on.isoformat() if case.accepted_on else "",
                case.due_date.isoformat() if case.due_date else "",
                due.label if due.colour else "",
                "" if due.remaining is None else due.remaining,
                str(case.assignee) if case.assignee else "",
            ]
        )
    audit.record(
        "case.exported",
        actor=request.user,
        request=request,
        data={
            "tab": listing.tab.key,
            "filters": {k: str(v) for k, v in listing.data.items()},
            "rows": len(cases),
            "matching": total,
        },
    )
    return response


# ---- the window: intake ------------------------------------------------------------------------


def _intake_applicant(request) -> Applicant | None:
    pk = request.session.get(INTAKE_KEY)
    return Applicant.objects.filter(pk=pk).first() if pk else None


def _intake_center(request, centers: list[ServiceCenter]) -> ServiceCenter:
    code = request.GET.get("center") or request.POST.get("center_code")
    return next((c for c in centers if c.code == code), centers[0])


def _acceptable_items(center: ServiceCenter, q: str) -> QuerySet[ServiceItem]:
    qs = items_accepted_at(center).filter(published_version__state=ItemVersion.State.PUBLISHED)
    if q:
        qs = qs.filter(
            Q(code__icontains=q)
            | Q(published_version__name__icontains=q)
            | Q(published_version__aliases__icontains=q)
        )
    return qs.select_related("published_version", "department").order_by("-high_frequency", "code")


def _intake_page(request, *, lookup=None, walk_in=None, not_found=False, error="", status=200):
    user = request.user
    centers = _clerk_centers(user)
    center = _intake_center(request, centers)
    applicant = _intake_applicant(request)
    search = f.ItemSearchForm(request.GET or None)
    q = search.cleaned_data.get("q", "") if search.is_valid() else ""
    items = Paginator(_acceptable_items(center, q.strip()), ITEMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    recent, licences = [], []
    if applicant is not None:
        recent = list(
            selectors.visible_to(user, (Role.WINDOW_CLERK,))
            .filter(applicant=applicant)
            .order_by("-created_at")[:10]
        )
        today = services.today()
        licences = [lic for lic in applicant.licences.all()[:50] if lic.usable_on(today)]
    return render(
        request,
        "cases/staff/intake.html",
        {
            **_nav(request, "intake"),
            "centers": centers,
            "center": center,
            "applicant": applicant,
            "recent": recent,
            "licences": licences,
            "lookup": lookup or f.IdentityLookupForm(),
            "walk_in": walk_in or f.WalkInForm(),
            "not_found": not_found,
            "search": search,
            "q": q,
            "items": items,
            "error": error,
            "htmx_items": bool(getattr(request, "htmx", False)),
        },
        status=status,
    )


@clerk_required
def intake(request):
    """窗口收件: identity, item, start — one screen per applicant."""
    return _intake_page(request)


def _lookup_refused(request, seconds: int, *, lookup=None, walk_in=None):
    """Too many look-ups of applicants by identity number (``CASE_LOOKUP_RATE``): 429 on the
    intake page, the message on top and the form as typed."""
    messages.error(
        request,
        _("查找申请人过于频繁，请 %(minutes)s 分钟后再试。") % {"minutes": max(1, seconds // 60)},
    )
    response = _intake_page(
        request, lookup=lookup, walk_in=walk_in, not_found=walk_in is not None, status=429
    )
    response["Retry-After"] = str(seconds)
    return response


@clerk_required
@require_POST
def intake_find(request):
    form = f.IdentityLookupForm(request.POST)
    if not form.is_valid():
        return _intake_page(request, lookup=form, status=422)
    seconds = limits.lookup_limited(request)
    if seconds:
        return _lookup_refused(request, seconds, lookup=form)
    kind, number = form.cleaned_data["identity"]
    applicant = account_selectors.applicant_by_identity(number)
    if applicant is None:
        initial = {"kind": kind, "id_number" if kind == Applicant.Kind.NATURAL else "uscc": number}
        return _intake_page(
            request, lookup=form, walk_in=f.WalkInForm(initial=initial), not_found=True
        )
    request.session[INTAKE_KEY] = applicant.pk
    messages.success(request, _("已找到申请人：%(name)s。") % {"name": applicant.masked_name})
    return redirect(_intake_url(request))


def _intake_url(request) -> str:
    url = reverse("cases_staff:intake")
    code = request.POST.get("center_code")
    return f"{url}?center={code}" if code else url


@clerk_required
@require_POST
def intake_register(request):
    form = f.WalkInForm(request.POST)
    if not form.is_valid():
        return _intake_page(request, walk_in=form, not_found=True, status=422)
    seconds = limits.lookup_limited(request)  # registering looks the number up too
    if seconds:
        return _lookup_refused(request, seconds, walk_in=form)
    data = form.cleaned_data
    natural = data["kind"] == Applicant.Kind.NATURAL
    registration = account_services.Registration(
        kind=data["kind"],
        name=data["name"],
        mobile=data["mobile"],
        password="",
        id_number=data.get("id_number", "") if natural else "",
        uscc=data.get("uscc", "") if not natural else "",
        legal_representative=data.get("legal_representative", "") if not natural else "",
    )
    try:
        applicant = account_services.register_walk_in(
            registration, by=request.user, request=request
        )
    except DomainError as exc:
        _form_errors(form, exc)
        form.add_error(None, exc.message)
        return _intake_page(request, walk_in=form, not_found=True, status=exc.status)
    request.session[INTAKE_KEY] = applicant.pk
    messages.success(request, _("已登记申请人：%(name)s。") % {"name": applicant.masked_name})
    return redirect(_intake_url(request))


@clerk_required
@require_POST
def intake_clear(request):
    request.session.pop(INTAKE_KEY, None)
    return redirect(_intake_url(request))


@clerk_required
@require_POST
def intake_start(request):
    """Start a window (or mail) case for the applicant on screen and go to its checklist."""
    applicant = _intake_applicant(request)
    if applicant is None:
        messages.error(request, _("请先查找或登记申请人。"))
        return redirect(_intake_url(request))
    form = f.StartCaseForm(request.POST)
    if not form.is_valid():
        return _intake_page(request, error=_("请选择要办理的事项。"), status=422)
    item = ServiceItem.objects.filter(code=form.cleaned_data["item"]).first()
    centers = _clerk_centers(request.user)
    center = _intake_center(request, centers)
    if item is None:
        return _intake_page(request, error=_("未找到该事项。"), status=404)
    try:
        case = services.start_case(
            item=item,
            by=request.user,
            channel=form.cleaned_data["channel"],
            applicant=applicant,
            center=center,
            form={"contact_mobile": applicant.mobile},
            request=request,
        )
    except DomainError as exc:
        return _intake_page(request, error=exc.message, status=exc.status)
    messages.success(
        request, _("已登记办件 %(number)s，请填写申请表并核验材料。") % {"number": case.number}
    )
    return redirect("cases_staff:detail", number=case.number)


# ---- one case ----------------------------------------------------------------------------------


def _colleagues(case: Case):
    """Reviewers and approvers of the case's approving department (for 分派)."""
    department = case.department
    rows = (
        StaffAssignment.objects.filter(
            active=True,
            role__in=(Role.REVIEWER.value, Role.APPROVER.value),
            user__is_active=True,
        )
        .filter(Q(department=department) | Q(region__isnull=False))
        .select_related("region")
    )
    ids = {
        a.user_id
        for a in rows
        if a.department_id == department.pk
        or (a.region_id and department.region.path.startswith(a.region.path))
    }
    return f.User.objects.filter(pk__in=ids).order_by("display_name", "username")


def _missing_items(case: Case) -> list[str]:
    required, _tolerated = services.missing_materials(case)
    return [_("%(name)s（必要材料，未提供）") % {"name": m.name} for m in required]


@dataclass(frozen=True)
class Step:
    """One form on the detail page: which table actions enable it, its form and its call."""

    key: str
    enabled_by: tuple[str, ...]
    form: Callable[..., Any]
    run: Callable[..., Any]
    done: Promise
    label: Promise | None = None
    primary: bool = False
    accesskey: str = ""
    danger: bool = False
    statuses: tuple[str, ...] = ()
    notice: bool = False  # issues a notice to print


def _note(form_cls=f.NoteForm):
    return lambda case, user, *a, **kw: form_cls(*a, **kw)


def _run_receive_accept(case, user, d, request):
    services.receive_and_accept(
        case, user, window=d.get("window"), note=d.get("note", ""), request=request
    )


def _accept_form(case, user, *args, **kwargs):
    return f.AcceptForm(*args, case=case, **kwargs)


def _list_form(case, user, *args, **kwargs):
    if not args and "initial" not in kwargs:
        kwargs["initial"] = {"items": "\n".join(_missing_items(case))}
    return f.ListForm(*args, **kwargs)


def _assign_form(case, user, *args, **kwargs):
    return f.AssignForm(*args, colleagues=_colleagues(case), **kwargs)


def _decide_form(case, user, *args, **kwargs):
    names = {
        t.action
        for t in lifecycle.available_actions(user, case)
        if services.feasible(case, user, t.action)
    }
    return f.DecideForm(*args, actions=names, **kwargs)


STEPS: tuple[Step, ...] = (
    Step(
        "receive_accept",
        ("receive",),
        _accept_form,
        _run_receive_accept,
        gettext_lazy("已接件并受理，请打印受理通知书交给申请人。"),
        label=gettext_lazy("接件并受理"),
        primary=True,
        accesskey="a",
        statuses=(Status.DRAFT,),
        notice=True,
    ),
    Step(
        "receive",
        ("receive",),
        _note(),
        lambda c, u, d, r: services.receive(c, u, note=d["note"], request=r),
        gettext_lazy("已接件。"),
    ),
    Step(
        "pass_pre_review",
        ("pass_pre_review",),
        _note(),
        lambda c, u, d, r: services.pass_pre_review(c, u, note=d["note"], request=r),
        gettext_lazy("预审通过，请核验原件后受理。"),
        primary=True,
    ),
    Step(
        "accept",
        ("accept",),
        _accept_form,
        lambda c, u, d, r: services.accept(c, u, window=d.get("window"), note=d["note"], request=r),
        gettext_lazy("已受理，请打印受理通知书。"),
        primary=True,
        accesskey="a",
        notice=True,
    ),
    Step(
        "notify",
        ("notify",),
        _list_form,
        lambda c, u, d, r: services.notify_missing(
            c, u, items=d["items"], note=d["note"], request=r
        ),
        gettext_lazy("已一次性告知，请打印一次性告知书交给申请人。"),
        accesskey="n",
        notice=True,
    ),
    Step(
        "refuse",
        ("refuse",),
        _note(f.ReasonForm),
        lambda c, u, d, r: services.refuse(c, u, reason=d["reason"], request=r),
        gettext_lazy("已作出不予受理决定，请打印决定书。"),
        accesskey="r",
        danger=True,
        notice=True,
    ),
    Step(
        "start_review",
        ("start_review",),
        _note(),
        lambda c, u, d, r: services.start_review(c, u, note=d["note"], request=r),
        gettext_lazy("已开始办理，办件由您承办。"),
        primary=True,
        accesskey="s",
    ),
    Step(
        "claim",
        ("assign",),
        _note(f.EmptyForm),
        lambda c, u, d, r: services.assign(c, u, assignee=u, request=r),
        gettext_lazy("已认领。"),
        label=gettext_lazy("认领（由我承办）"),
        primary=True,
    ),
    Step(
        "assign",
        ("assign",),
        _assign_form,
        lambda c, u, d, r: services.assign(c, u, assignee=d["assignee"], request=r),
        gettext_lazy("已分派。"),
        label=gettext_lazy("分派给同事"),
    ),
    Step(
        "supplement",
        ("supplement",),
        _note(),
        lambda c, u, d, r: services.supplement(c, u, note=d["note"], request=r),
        gettext_lazy("已登记补正，恢复计时。"),
        label=gettext_lazy("登记补正材料已收齐"),
        primary=True,
    ),
    Step(
        "end_special",
        ("end_special",),
        _note(),
        lambda c, u, d, r: services.end_special(c, u, note=d["note"], request=r),
        gettext_lazy("特别程序已结束，恢复计时。"),
        primary=True,
    ),
    Step(
        "submit_for_approval",
        ("submit_for_approval",),
        _note(f.OpinionForm),
        lambda c, u, d, r: services.submit_for_approval(c, u, opinion=d["opinion"], request=r),
        gettext_lazy("已提交审批。"),
        primary=True,
    ),
    Step(
        "decide",
        ("approve", "approve_tolerated", "deny"),
        _decide_form,
        lambda c, u, d, r: services.decide(
            c, u, decision=d["decision"], reason=d["reason"], request=r
        ),
        gettext_lazy("已作出审批决定。"),
        label=gettext_lazy("审批决定"),
        primary=True,
        notice=True,
    ),
    Step(
        "return_for_review",
        ("return_for_review",),
        _note(f.ReasonForm),
        lambda c, u, d, r: services.return_for_review(c, u, reason=d["reason"], request=r),
        gettext_lazy("已退回审核。"),
    ),
    Step(
        "request_supplement",
        ("request_supplement",),
        lambda case, user, *a, **kw: f.ListForm(*a, **kw),
        lambda c, u, d, r: services.request_supplement(
            c, u, items=d["items"], note=d["note"], request=r
        ),
        gettext_lazy("已要求补正，暂停计时。"),
        notice=True,
    ),
    Step(
        "start_special",
        ("start_special",),
        _note(f.SpecialForm),
        lambda c, u, d, r: services.start_special(
            c, u, kind=d["kind"], reason=d["reason"], request=r
        ),
        gettext_lazy("已启动特别程序，暂停计时。"),
        notice=True,
    ),
    Step(
        "extend",
        ("extend",),
        _note(f.ExtendForm),
        lambda c, u, d, r: services.extend(c, u, days=d["days"], reason=d["reason"], request=r),
        gettext_lazy("已延长办理时限。"),
    ),
    Step(
        "issue_result",
        ("issue_result",),
        _note(f.IssueForm),
        lambda c, u, d, r: services.issue_result(c, u, valid_until=d["valid_until"], request=r),
        gettext_lazy("已制证出件，电子证照已存入申请人的证照夹。"),
        primary=True,
    ),
    Step(
        "hand_out",
        ("hand_out",),
        _note(),
        lambda c, u, d, r: services.hand_out(c, u, note=d["note"], request=r),
        gettext_lazy("已登记送达。"),
        primary=True,
    ),
    Step(
        "receive_tolerated",
        ("receive_tolerated",),
        _note(),
        lambda c, u, d, r: services.receive_tolerated(c, u, note=d["note"], request=r),
        gettext_lazy("已登记容缺材料补齐。"),
    ),
    Step(
        "close",
        ("close",),
        _note(),
        lambda c, u, d, r: services.close(c, u, note=d["note"], request=r),
        gettext_lazy("已办结归档。"),
        primary=True,
    ),
    Step(
        "revoke",
        ("revoke",),
        _note(f.ReasonForm),
        lambda c, u, d, r: services.revoke(c, u, reason=d["reason"], request=r),
        gettext_lazy("已撤销许可。"),
        danger=True,
    ),
    Step(
        "withdraw",
        ("withdraw",),
        _note(f.OptionalReasonForm),
        lambda c, u, d, r: services.withdraw(c, u, reason=d["reason"], request=r),
        gettext_lazy("已撤回申请。"),
        label=gettext_lazy("撤回申请（应申请人要求）"),
        danger=True,
    ),
)
STEP_BY_KEY = {s.key: s for s in STEPS}


def _run_edit(case, user, d, request):
    services.update_form(case, user, d, request=request)


def _material_run(kind: str):
    def run(case, user, d, request):
        if kind == "paper":
            services.check_paper(case, user, material_id=d["material"], request=request)
        elif kind == "upload":
            services.add_upload(
                case, user, material_id=d.get("material"), upload=d["file"], request=request
            )
        elif kind == "licence":
            services.attach_licence(
                case, user, material_id=d["material"], licence_id=d["licence"], request=request
            )
        else:
            services.remove_material(
                case, user, case_material_id=d["case_material"], request=request
            )

    return run


# Steps outside the action panel: the application form and the materials checklist.
OTHER_STEPS: dict[str, Step] = {
    "edit": Step(
        "edit",
        ("edit",),
        lambda case, user, *a, **kw: f.CaseForm(*a, case=case, **kw),
        _run_edit,
        gettext_lazy("申请表已保存。"),
    ),
    "paper": Step(
        "paper",
        ("add_material",),
        _note(f.PaperForm),
        _material_run("paper"),
        gettext_lazy("已登记纸质原件核验。"),
    ),
    "upload": Step(
        "upload",
        ("add_material",),
        _note(f.UploadForm),
        _material_run("upload"),
        gettext_lazy("扫描件已上传。"),
    ),
    "licence": Step(
        "licence",
        ("add_material",),
        _note(f.LicenceForm),
        _material_run("licence"),
        gettext_lazy("已复用电子证照。"),
    ),
    "remove": Step(
        "remove",
        ("add_material",),
        _note(f.RemoveForm),
        _material_run("remove"),
        gettext_lazy("已删除该材料。"),
    ),
}
MATERIAL_STEPS = ("paper", "upload", "licence", "remove")


@dataclass
class Panel:
    key: str
    label: str
    form: Any
    primary: bool
    accesskey: str
    danger: bool
    open: bool
    error: str = ""
    hint: str = ""


def _hand_out_label(case: Case) -> str:
    return {
        DeliveryMode.PICKUP: _("发放结果（窗口领取）"),
        DeliveryMode.POST: _("登记邮寄送达"),
        DeliveryMode.ELECTRONIC: _("登记电子送达"),
    }.get(case.delivery_mode, _("送达/发放结果"))


def _panels(case: Case, user, names: set[str], labels: dict[str, str], bound=None) -> list[Panel]:
    bound_key, bound_form, bound_error = bound or (None, None, "")
    held = lifecycle.actors_of(user, case)
    names = {n for n in names if services.feasible(case, user, n, held)}
    required, tolerated = services.missing_materials(case)
    panels = []
    for step in STEPS:
        if not names & set(step.enabled_by):
            continue
        if step.statuses and case.status not in step.statuses:
            continue
        if step.key == "claim" and case.assignee_id == user.pk:
            continue
        if step.key == "receive" and case.status == Status.DRAFT:
            primary = False
        elif step.key == "receive":
            primary = True
        else:
            primary = step.primary
        # each panel's fields get their own ids, so every label points at its own field
        form = (
            bound_form if step.key == bound_key else step.form(case, user, auto_id=f"{step.key}_%s")
        )
        label = str(step.label) if step.label else str(labels.get(step.enabled_by[0], step.key))
        if step.key == "hand_out":
            label = _hand_out_label(case)
        hint = ""
        if step.key in ("accept", "receive_accept"):
            if required:
                hint = _("必要材料不全：%(names)s。受理前请补齐，或一次性告知申请人。") % {
                    "names": _("、").join(m.name for m in required)
                }
                primary = False
            elif tolerated:
                hint = _("将容缺受理，待补：%(names)s。") % {
                    "names": _("、").join(m.name for m in tolerated)
                }
        if step.key == "notify" and required:
            primary = True
        if step.key == "decide" and case.tolerated_pending:
            hint = _("有容缺材料尚未补齐，只能选择“容缺准予”或先登记补齐。")
        panels.append(
            Panel(
                step.key,
                label,
                form,
                primary,
                step.accesskey,
                step.danger,
                open=primary or step.key == bound_key,
                error=bound_error if step.key == bound_key else "",
                hint=hint,
            )
        )
    return panels


@dataclass
class ChecklistRow:
    material: Material
    provided: list[CaseMaterial]
    licences: list[Licence]


@dataclass
class EventRow:
    at: Any
    action: str
    actor: str
    role: str
    center: str
    note: str
    items: list[str]
    status: str


def _event_label(event) -> str:
    """The step's name; a material step says how the material came (upload, electronic
    licence reused, paper original checked)."""
    source = event.data.get("source") if isinstance(event.data, dict) else None
    if event.action == "add_material" and source in CaseMaterial.Source.values:
        return str(CaseMaterial.Source(source).label)
    return str(ACTION_LABELS.get(event.action, event.action))


def _timeline(case: Case) -> list[EventRow]:
    rows = []
    natural = case.applicant.kind == Applicant.Kind.NATURAL
    for e in selectors.timeline(case):
        actor = e.actor_label
        if e.role == Role.APPLICANT.value and natural:
            actor = mask_name(actor)
        items = e.data.get("items") if isinstance(e.data, dict) else None
        extra = []
        if isinstance(items, list):
            extra = [mask_text(str(i)) for i in items]
        if isinstance(e.data, dict):
            for key in ("material", "removed"):
                if e.data.get(key):
                    extra.append(mask_text(str(e.data[key])))
            if e.data.get("assignee"):
                extra.append(_("承办人：%(who)s") % {"who": e.data["assignee"]})
            if e.data.get("days"):
                extra.append(_("延长 %(n)s 个工作日") % {"n": e.data["days"]})
        role = ""
        if e.role:
            try:
                role = str(Role(e.role).label)
            except ValueError:
                role = e.role
        rows.append(
            EventRow(
                e.at,
                _event_label(e),
                actor or _("系统"),
                role,
                e.center.name if e.center else "",
                mask_text(e.note),
                extra,
                str(Status(e.to_status).label) if e.to_status in Status.values else "",
            )
        )
    return rows


def _personal(case: Case, revealed: bool) -> dict[str, str]:
    a = case.applicant
    natural = a.kind == Applicant.Kind.NATURAL
    if revealed:
        return {
            "name": a.name,
            "identity": a.identity_number,
            "mobile": a.mobile,
            "representative": a.legal_representative,
            "contact_name": case.contact_name,
            "contact_mobile": case.contact_mobile,
        }
    return {
        "name": a.masked_name,
        "identity": a.masked_identity,
        "mobile": a.masked_mobile,
        "representative": mask_name(a.legal_representative),
        "contact_name": mask_name(case.contact_name) if natural or case.contact_name else "",
        "contact_mobile": mask_mobile(case.contact_mobile),
    }


def _detail_context(
    request,
    case: Case,
    *,
    bound=None,
    material_error: tuple[int | None, str] | None = None,
    edit_form=None,
    revealed: bool = False,
) -> dict[str, Any]:
    user = request.user
    today = services.today()
    available = lifecycle.available_actions(user, case)
    names = {t.action for t in available}
    labels = {t.action: str(t.label) for t in available}
    actors = lifecycle.actors_of(user, case)
    materials = list(
        case.materials.filter(removed_at__isnull=True).select_related("licence", "uploaded_by")
    )
    by_material: dict[int | None, list[CaseMaterial]] = {}
    for cm in materials:
        by_material.setdefault(cm.material_id, []).append(cm)
    can_add = "add_material" in names and _is_clerk(actors)
    checklist = []
    for m in case.version.materials.all():
        licences = []
        if can_add and m.licence_type:
            licences = [
                lic
                for lic in Licence.objects.filter(
                    holder=case.applicant, licence_type=m.licence_type
                )
                if lic.usable_on(today)
            ]
        checklist.append(ChecklistRow(m, by_material.get(m.pk, []), licences))
    required, tolerated = services.missing_materials(case)
    print_notice = None
    wanted = request.session.pop(PRINT_KEY, None) if hasattr(request, "session") else None
    notices = list(case.notices.all())
    if wanted:
        print_notice = next((n for n in notices if n.number == wanted), None)
    editable = "edit" in names and _is_clerk(actors)
    panels = _panels(case, user, names, labels, bound)
    shortcuts = [(p.accesskey, p.label) for p in panels if p.accesskey]
    if print_notice is not None:
        shortcuts.append(("p", _("打印文书")))
    if _is_clerk(actors) or Role.WINDOW_CLERK in request.case_roles:
        shortcuts.append(("i", _("窗口收件")))
    return {
        **_nav(request, ""),
        "case": case,
        "due": due_of(case, today),
        "panels": panels,
        "shortcuts": shortcuts if panels else [],
        "read_only": not actors,
        "checklist": checklist,
        "extra_materials": by_material.get(None, []),
        "can_add_material": can_add,
        "can_remove_material": can_add
        and case.status in (Status.DRAFT, Status.NOTIFIED, Status.SUPPLEMENT),
        "material_error": material_error,
        "missing_required": required,
        "missing_tolerated": tolerated,
        "edit_form": edit_form or (f.CaseForm(case=case) if editable else None),
        "form_data": case.form_data or {},
        "timeline": _timeline(case),
        "notices": notices,
        "print_notice": print_notice,
        "personal": _personal(case, revealed),
        "revealed": revealed,
        "natural": case.applicant.kind == Applicant.Kind.NATURAL,
        "online": case.online,
    }


def _is_clerk(actors) -> bool:
    return lifecycle.Actor.CLERK in actors


@staff_required
def detail(request, number: str):
    """办件详情: materials beside the step forms; timeline and notices. Audited (case.viewed)."""
    case = _case(request, number)
    audit.record(
        "case.viewed",
        actor=request.user,
        target=case,
        request=request,
        data={"number": case.number, "status": case.status},
    )
    return render(request, "cases/staff/detail.html", _detail_context(request, case))


@staff_required
@require_POST
def reveal(request, number: str):
    """Show the applicant's full identity number and mobile: an explicit, audited act."""
    case = _case(request, number)
    audit.record(
        "case.personal_data_revealed",
        actor=request.user,
        target=case,
        request=request,
        data={"number": case.number, "fields": ["name", "identity", "mobile", "contact"]},
    )
    context = {
        "case": case,
        "personal": _personal(case, True),
        "revealed": True,
        "natural": case.applicant.kind == Applicant.Kind.NATURAL,
    }
    if getattr(request, "htmx", False):
        return render(request, "cases/staff/_personal.html", context)
    return render(request, "cases/staff/detail.html", _detail_context(request, case, revealed=True))


def _form_errors(form, exc: DomainError) -> None:
    """Put a service error's field details next to the fields of ``form``."""
    details = exc.details if isinstance(exc.details, list) else []
    for d in details:
        if isinstance(d, dict) and d.get("field") in form.fields:
            message = str(d.get("message") or exc.message)
            if d["field"] not in form.errors or message not in form.errors[d["field"]]:
                form.add_error(d["field"], message)


@staff_required
@require_POST
def act(request, number: str, step: str):
    """Take one step on the case (POST, then back to the case page)."""
    spec = STEP_BY_KEY.get(step) or OTHER_STEPS.get(step)
    if spec is None:
        raise Http404
    case = _case(request, number)
    user = request.user
    if not lifecycle.actors_of(user, case):
        # center administrators and supervisors read; they never act on a case
        raise PermissionDenied(_("您的岗位对该办件只有查看权限。"))
    form = spec.form(case, user, request.POST, request.FILES, auto_id=f"{spec.key}_%s")
    anchor = (
        "#materials"
        if step in MATERIAL_STEPS
        else ("#application" if step == "edit" else "#actions")
    )
    if form.is_valid():
        try:
            spec.run(case, user, form.cleaned_data, request)
        except DomainError as exc:
            _form_errors(form, exc)
            return _error_page(request, case, step, form, exc.message, exc.status)
        case.refresh_from_db()
        if spec.notice:
            latest = case.notices.order_by("-issued_at", "-pk").first()
            if latest is not None:
                request.session[PRINT_KEY] = latest.number
                anchor = "#print"
        messages.success(request, str(spec.done))
        return redirect(reverse("cases_staff:detail", args=[case.number]) + anchor)
    return _error_page(
        request, case, step, form, _("提交的内容有误，请按提示修改。"), 422, service_error=False
    )


def _error_page(request, case, step, form, message, status, *, service_error=True):
    case.refresh_from_db()
    if step == "edit":
        context = _detail_context(request, case, edit_form=form)
        context["edit_error"] = message
    elif step in MATERIAL_STEPS:
        text = message
        if not service_error:
            text = _("；").join(str(e) for errs in form.errors.values() for e in errs) or message
        material = form.data.get("material") or None
        context = _detail_context(request, case, material_error=(material, text))
    else:
        context = _detail_context(request, case, bound=(step, form, message))
    context["action_error"] = message
    return render(request, "cases/staff/detail.html", context, status=status)
