"""Catalog pages: the public service guides (办事指南) and the browse/search page, and the
catalog administrator's workbench (事项管理) for editing, review and publishing.

Views stay thin: reads come from the models and the catalog's read modules (acceptance,
search, themes, lifecycle); every write goes through ``tongban.catalog.services``, whose
DomainError messages are shown on the page (nothing typed is lost: the bound forms come back).

``build_guide(item, on_date)`` gathers everything a guide shows; the HTML page and the PDF
(``tongban.catalog.pdf``) both render from it, so they never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.core.errors import DomainError, InvalidInput
from tongban.org.hours import describe
from tongban.org.models import Department, ServiceCenter
from tongban.org.roles import Role
from tongban.org.scopes import has_role, scope_for

from . import acceptance, lifecycle, search, services, themes
from . import forms as wb_forms
from .models import (
    AcceptanceScope,
    Faq,
    ItemType,
    ItemVersion,
    Material,
    ProcessStep,
    ServiceItem,
)

PER_PAGE = 20
CENTERS_SHOWN = 8  # centers listed open on a guide; the rest behind "show all"
BROWSE_CENTER_LEVELS = (ServiceCenter.Level.CITY, ServiceCenter.Level.TOWN)
GUIDE_PDF_SECONDS = 3600
OPEN_STATES = (ItemVersion.State.DRAFT, ItemVersion.State.SUBMITTED, ItemVersion.State.APPROVED)


# ---- small labels shared by the page and the PDF -----------------------------------------------


def days_label(days: int | None, *, empty: str = "") -> str:
    if days is None:
        return empty or _("无")
    if days == 0:
        return _("即办（当场办结）")
    return _("%(n)d 个工作日") % {"n": days}


def visits_label(visits: int) -> str:
    if visits == 0:
        return _("0 次（不见面办理）")
    return _("最多跑 %(n)d 次") % {"n": visits}


def fee_label(version: ItemVersion) -> str:
    if not version.charges_fee:
        return _("不收费")
    return version.fee_items or _("收费（标准见收费依据）")


def handling_forms(version: ItemVersion) -> list[str]:
    forms_ = []
    if version.handled_at_window:
        forms_.append(_("窗口办理"))
    if version.handled_online:
        forms_.append(_("网上办理"))
    if version.handled_by_mail:
        forms_.append(_("邮寄办理"))
    return forms_


def yes_no(value: bool) -> str:
    return _("是") if value else _("否")


# ---- the guide (办事指南) --------------------------------------------------------------------


@dataclass(frozen=True)
class CenterRow:
    center: ServiceCenter
    hours: list[str]


@dataclass
class Guide:
    """Everything a guide page or PDF shows for one item on one date."""

    item: ServiceItem
    version: ItemVersion
    on_date: dt.date
    materials: list[Material]
    steps: list[ProcessStep]
    faqs: list[Faq]
    parent: ServiceItem | None
    sub_items: list[ServiceItem]
    scope: str
    centers: list[CenterRow]
    village_count: int
    themes: list[str] = field(default_factory=list)
    life_events: list[str] = field(default_factory=list)

    @property
    def scope_label(self) -> str:
        try:
            return str(AcceptanceScope(self.scope).label)
        except ValueError:
            return ""

    @property
    def steps_days(self) -> int:
        return sum(s.days for s in self.steps)

    @property
    def where_summary(self) -> str:
        city_town = len(self.centers)
        if self.village_count:
            return _("%(c)d 个服务中心和 %(v)d 个村（社区）服务点可办理") % {
                "c": city_town,
                "v": self.village_count,
            }
        if city_town == 1:
            return self.centers[0].center.name
        if city_town:
            return _("%(c)d 个服务中心可办理") % {"c": city_town}
        return _("暂无可受理的服务中心，请先电话咨询")

    def summary(self) -> list[tuple[str, str]]:
        v = self.version
        return [
            (_("法定办结时限"), days_label(v.legal_limit_days, empty=_("无规定"))),
            (_("承诺办结时限"), days_label(v.promised_limit_days)),
            (_("办件类型"), v.get_case_kind_display()),
            (_("收费"), fee_label(v)),
            (_("到办事现场次数"), visits_label(v.max_visits)),
            (_("网上办理深度"), v.get_online_depth_display()),
            (_("办理地点"), self.where_summary),
        ]

    def limits(self) -> list[tuple[str, str]]:
        v = self.version
        rows = [
            (_("法定办结时限"), days_label(v.legal_limit_days, empty=_("无规定"))),
            (_("承诺办结时限"), days_label(v.promised_limit_days)),
            (_("办件类型"), v.get_case_kind_display()),
        ]
        if v.legal_limit_note:
            rows.append((_("法定时限说明"), v.legal_limit_note))
        if v.promised_limit_note:
            rows.append((_("承诺时限说明"), v.promised_limit_note))
        if v.green_channel:
            rows.append((_("绿色通道"), _("是")))
        return rows

    def basics(self) -> list[tuple[str, str]]:
        item, v = self.item, self.version
        rows = [
            (_("事项名称"), v.name),
            (_("实施编码"), item.code),
            (_("基本编码"), item.base_code),
            (_("事项类型"), item.get_item_type_display()),
            (_("实施主体"), item.department.name),
            (_("服务对象"), v.get_subject_display()),
            (_("行使层级"), v.get_exercise_level_display()),
            (_("权力来源"), v.get_power_source_display()),
            (_("办理形式"), _("、").join(handling_forms(v)) or _("无")),
            (_("受理范围"), self.scope_label),
        ]
        if v.tongban_scope:
            rows.append((_("通办范围"), v.get_tongban_scope_display()))
        if v.appointment_supported:
            quota = (
                _("支持，每日 %(n)d 个名额") % {"n": v.appointment_daily_quota}
                if v.appointment_daily_quota
                else _("支持")
            )
            rows.append((_("预约办理"), quota))
        if v.result_name or v.result_type:
            rows.append((_("审批结果"), " · ".join(x for x in (v.result_type, v.result_name) if x)))
        delivery = []
        if v.materials_by_mail:
            delivery.append(_("申请材料可免费邮寄"))
        if v.result_by_mail:
            delivery.append(_("办理结果可免费邮寄送达"))
        if delivery:
            rows.append((_("寄递服务"), _("；").join(delivery)))
        if v.intermediary_service:
            rows.append((_("中介服务"), v.intermediary_service))
        if v.quantity_limit:
            rows.append((_("数量限制"), v.quantity_limit))
        return rows


def _published_item(code: str) -> ServiceItem:
    item = (
        ServiceItem.objects.select_related(
            "department", "parent", "parent__published_version", "published_version"
        )
        .filter(code=code, published_version__isnull=False)
        .first()
    )
    if item is None or item.published_version.state != ItemVersion.State.PUBLISHED:
        raise Http404(_("事项不存在或尚未发布。"))
    return item


def role_label(value: str) -> str:
    try:
        return str(Role(value).label)
    except ValueError:
        return value


def build_guide(item: ServiceItem, on_date: dt.date | None = None) -> Guide:
    """The guide of ``item``'s published version, with where it can be accepted on ``on_date``
    (today in Asia/Shanghai by default)."""
    on_date = on_date or timezone.localdate()
    version = item.published_version
    centers = acceptance.accepting_centers(item, on_date)
    shown = (
        centers.exclude(level=ServiceCenter.Level.VILLAGE)
        .select_related("region")
        .order_by("level", "code")
    )
    sub_items = (
        ServiceItem.objects.filter(
            parent=item,
            status=ServiceItem.Status.IN_USE,
            published_version__state=ItemVersion.State.PUBLISHED,
        )
        .select_related("published_version")
        .order_by("code")
    )
    steps = list(version.steps.order_by("order", "pk"))
    for step in steps:
        step.role_label = role_label(step.role)
    return Guide(
        item=item,
        version=version,
        on_date=on_date,
        materials=list(version.materials.order_by("order", "pk")),
        steps=steps,
        faqs=list(version.faqs.order_by("order", "pk")),
        parent=item.parent
        if item.parent_id and item.parent.published_version_id is not None
        else None,
        sub_items=list(sub_items),
        scope=str(acceptance.scope_on(item, on_date) or ""),
        centers=[CenterRow(c, describe(c.opening_hours or {})) for c in shown],
        village_count=centers.filter(level=ServiceCenter.Level.VILLAGE).count(),
        themes=themes.labels(version.themes, themes.THEMES),
        life_events=themes.labels(version.life_events, themes.LIFE_EVENTS),
    )


def guide(request, code: str):
    """办事指南: the public page of one item."""
    item = _published_item(code)
    g = build_guide(item)
    return render(
        request,
        "catalog/guide.html",
        {
            "guide": g,
            "item": item,
            "version": g.version,
            "centers_open": g.centers[:CENTERS_SHOWN],
            "centers_more": g.centers[CENTERS_SHOWN:],
            "limits": g.limits(),
            "in_use": item.status == ServiceItem.Status.IN_USE,
            "can_edit": lifecycle.can_manage(request.user, item.department),
        },
    )


def guide_pdf(request, code: str):
    """The printable guide. Published versions never change, so the PDF is cached per version,
    date (where to go depends on it), acceptance rules and language, for an hour."""
    from . import pdf

    item = _published_item(code)
    today = timezone.localdate()
    rules = item.acceptance_rules.order_by("-pk").values_list("pk", flat=True).first()
    key = f"catalog:guide-pdf:{item.published_version_id}:{today}:{rules}:{get_language()}"
    content = cache.get(key)
    if content is None:
        url = request.build_absolute_uri(reverse("catalog:guide", args=[item.code]))
        content = pdf.render_guide_pdf(build_guide(item, today), url=url)
        cache.set(key, content, GUIDE_PDF_SECONDS)
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"guide-{item.code}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def material_file(request, code: str, pk: int, kind: str):
    """Download a material's blank form (空白表格) or sample (示例样表) of a published version."""
    item = _published_item(code)
    material = get_object_or_404(Material, pk=pk, version=item.published_version)
    file = material.blank_form if kind == "form" else material.sample if kind == "sample" else None
    if not file:
        raise Http404(_("该材料没有可下载的文件。"))
    try:
        handle = file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("文件暂时无法下载，请联系实施部门。")) from None
    name = file.name.rsplit("/", 1)[-1]
    return FileResponse(handle, as_attachment=True, filename=name)


# ---- browse and search (/items/) -------------------------------------------------------------


class _SearchResults:
    """A lazy sequence over ``search.search_items`` so Django's Paginator can page it."""

    def __init__(self, q: str, filters: dict[str, Any]) -> None:
        self.q = q
        self.filters = filters
        self._total: int | None = None

    def count(self) -> int:
        if self._total is None:
            self._total = search.search_items(self.q, limit=1, offset=0, **self.filters).total
        return self._total

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window):
        if not isinstance(window, slice):
            raise TypeError("only slices")
        start, stop = window.start or 0, window.stop or 0
        page = search.search_items(self.q, limit=max(stop - start, 0), offset=start, **self.filters)
        self._total = page.total
        return _items_in_order(page.ids)


def _items_in_order(ids: list[int]) -> list[ServiceItem]:
    rows = ServiceItem.objects.filter(pk__in=ids).select_related("department", "published_version")
    by_id = {i.pk: i for i in rows}
    return [by_id[i] for i in ids if i in by_id]


def _listed_items() -> QuerySet[ServiceItem]:
    return ServiceItem.objects.filter(
        status=ServiceItem.Status.IN_USE,
        published_version__state=ItemVersion.State.PUBLISHED,
    )


def _json_has(field_name: str, code: str) -> Q:
    # JSON lists of codes: match the quoted code (works on SQLite and PostgreSQL alike).
    return Q(**{f"published_version__{field_name}__icontains": f'"{code}"'})


def browse(request):
    """/items/: the search box, 个人办事 / 法人办事, by department, theme and life event."""
    q = request.GET.get("q", "").strip()[:50]
    audience = request.GET.get("for", "")
    if audience not in themes.AUDIENCES:
        audience = ""
    theme = request.GET.get("theme", "")
    theme = theme if theme in themes.THEMES else ""
    event = request.GET.get("event", "")
    event = event if event in themes.LIFE_EVENTS else ""
    item_type = request.GET.get("type", "")
    item_type = item_type if item_type in ItemType.values else ""
    depth = request.GET.get("depth", "")
    depth = int(depth) if depth in {"1", "2", "3", "4"} else None
    department = None
    if request.GET.get("dept"):
        department = Department.objects.filter(code=request.GET["dept"]).first()
    if not audience:
        if event:
            audience = themes.audience_of_life_event(event) or ""
        elif theme:
            audience = "natural" if theme in themes.PERSONAL_THEMES else "legal"

    center = None
    if request.GET.get("center"):
        center = ServiceCenter.objects.filter(
            code=request.GET["center"], active=True, level__in=BROWSE_CENTER_LEVELS
        ).first()

    filtered = bool(q or theme or event or item_type or depth or department or center)
    if q or center:
        # search.search_items ranks and filters in one pass (center: items it may accept today)
        filters: dict[str, Any] = {
            "item_type": item_type or None,
            "department": department,
            "depth": depth,
            "subject": audience or None,
            "center": center,
        }
        if theme:
            filters["theme"] = theme
        if event:
            filters["life_event"] = event
        results: Any = _SearchResults(q, filters)
    else:
        qs = _listed_items().filter(parent__isnull=True)
        if audience:
            qs = qs.filter(published_version__subject__in=[audience, "both"])
        if theme:
            qs = qs.filter(_json_has("themes", theme))
        if event:
            qs = qs.filter(_json_has("life_events", event))
        if item_type:
            qs = qs.filter(item_type=item_type)
        if depth:
            qs = qs.filter(published_version__online_depth=depth)
        if department:
            qs = qs.filter(department=department)
        order = ("code",) if filtered else ("-high_frequency", "code")
        results = qs.select_related("department", "published_version").order_by(*order)
    page = Paginator(results, PER_PAGE).get_page(request.GET.get("page"))

    groups = [audience] if audience else list(themes.AUDIENCES)
    event_groups = [
        (themes.AUDIENCES[a], a, list(themes.life_events_for(a).items())) for a in groups
    ]
    theme_groups = [(themes.AUDIENCES[a], a, list(themes.themes_for(a).items())) for a in groups]
    departments = (
        Department.objects.annotate(
            n=Count(
                "items",
                filter=Q(
                    items__status=ServiceItem.Status.IN_USE,
                    items__parent__isnull=True,
                    items__published_version__state=ItemVersion.State.PUBLISHED,
                ),
            )
        )
        .filter(n__gt=0)
        .order_by("level", "code")
    )
    return render(
        request,
        "catalog/browse.html",
        {
            "q": q,
            "audience": audience,
            "audiences": list(themes.AUDIENCES.items()),
            "theme": theme,
            "theme_label": themes.theme_label(theme) if theme else "",
            "event": event,
            "event_label": themes.life_event_label(event) if event else "",
            "item_type": item_type,
            "depth": depth,
            "department": department,
            "center": center,
            "centers": ServiceCenter.objects.filter(
                active=True, level__in=BROWSE_CENTER_LEVELS
            ).order_by("level", "code"),
            "filtered": filtered,
            "page": page,
            "event_groups": event_groups,
            "theme_groups": theme_groups,
            "departments": departments,
            "item_types": ItemType.choices,
            "depths": ItemVersion.OnlineDepth.choices,
        },
    )


# ---- the catalog administrator's workbench ---------------------------------------------------


def catalog_admin_required(view):
    """Signed in (else the login page), and a catalog administrator or superuser (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_superuser or has_role(user, Role.CATALOG_ADMIN)):
            raise PermissionDenied(_("只有事项管理员可以使用事项管理工作台。"))
        return view(request, *args, **kwargs)

    return wrapped


def _scoped_items(user) -> QuerySet[ServiceItem]:
    qs = ServiceItem.objects.all()
    if user.is_superuser:
        return qs
    scope = scope_for(user, Role.CATALOG_ADMIN)
    return qs.filter(department__in=scope.departments().values("pk"))


def _managed_item(request, code: str) -> ServiceItem:
    item = get_object_or_404(
        ServiceItem.objects.select_related("department", "published_version", "parent"), code=code
    )
    if not lifecycle.can_manage(request.user, item.department):
        raise PermissionDenied(_("该事项不在您的管理范围内。"))
    return item


def _version(item: ServiceItem, number: int) -> ItemVersion:
    return get_object_or_404(
        ItemVersion.objects.select_related(
            "item", "item__department", "created_by", "submitted_by", "approved_by"
        ),
        item=item,
        number=number,
    )


def _counters(items: QuerySet[ServiceItem], user) -> dict[str, int]:
    open_versions = ItemVersion.objects.filter(item__in=items.values("pk"))
    counts = dict(
        open_versions.filter(state__in=OPEN_STATES)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return {
        "items": items.count(),
        "draft": counts.get(ItemVersion.State.DRAFT, 0),
        "submitted": counts.get(ItemVersion.State.SUBMITTED, 0),
        "approved": counts.get(ItemVersion.State.APPROVED, 0),
    }


def _wb_context(request, items: QuerySet[ServiceItem], current: str, **extra) -> dict:
    context = {"counters": _counters(items, request.user), "wb_current": current}
    try:
        context["exchange_url"] = reverse("catalog_exchange:index")
    except NoReverseMatch:  # the import/export pages are not mounted
        context["exchange_url"] = ""
    context.update(extra)
    return context


@catalog_admin_required
def workbench(request):
    """事项管理: the items in the administrator's scope with their version states."""
    user = request.user
    items = _scoped_items(user)
    departments = Department.objects.filter(pk__in=items.values("department")).order_by(
        "level", "code"
    )
    form = wb_forms.ItemFilterForm(request.GET or None, departments=departments)
    open_version = ItemVersion.objects.filter(item=OuterRef("pk"), state__in=OPEN_STATES)
    qs = items.select_related("department", "published_version").annotate(
        open_state=Subquery(open_version.values("state")[:1]),
        open_number=Subquery(open_version.values("number")[:1]),
        open_name=Subquery(open_version.values("name")[:1]),
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"]
            qs = qs.filter(
                Q(code__icontains=q)
                | Q(published_version__name__icontains=q)
                | Q(versions__state__in=OPEN_STATES, versions__name__icontains=q)
            ).distinct()
        if data["state"] == "none":
            qs = qs.filter(open_state__isnull=True)
        elif data["state"]:
            qs = qs.filter(open_state=data["state"])
        if data["department"]:
            qs = qs.filter(department__code=data["department"])
    page = Paginator(qs.order_by("code"), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/workbench/items.html",
        _wb_context(request, items, "items", page=page, form=form),
    )


@catalog_admin_required
def review_queue(request):
    """待审核 / 待发布: submitted versions for a second person, approved ones to publish."""
    user = request.user
    items = _scoped_items(user)
    versions = ItemVersion.objects.filter(
        item__in=items.values("pk"),
        state__in=[ItemVersion.State.SUBMITTED, ItemVersion.State.APPROVED],
    ).select_related("item", "item__department", "submitted_by", "approved_by", "created_by")
    rows = []
    for v in versions.order_by("state", "created_at"):
        actions = lifecycle.available_actions(v, user)
        rows.append(
            {
                "version": v,
                "actions": actions,
                "can_approve": any(t.action == lifecycle.Action.APPROVE for t in actions),
            }
        )
    submitted = [r for r in rows if r["version"].state == ItemVersion.State.SUBMITTED]
    approved = [r for r in rows if r["version"].state == ItemVersion.State.APPROVED]
    return render(
        request,
        "catalog/workbench/review_queue.html",
        _wb_context(
            request,
            items,
            "review",
            submitted_page=Paginator(submitted, PER_PAGE).get_page(request.GET.get("page")),
            approved=approved,
        ),
    )


@catalog_admin_required
def item_detail(request, code: str):
    """One item in the workbench: its versions and what can be done next."""
    item = _managed_item(request, code)
    versions = list(
        item.versions.select_related("created_by", "submitted_by", "approved_by").order_by(
            "-number"
        )
    )
    open_version = next((v for v in versions if v.state in OPEN_STATES), None)
    return render(
        request,
        "catalog/workbench/item.html",
        _wb_context(
            request,
            _scoped_items(request.user),
            "items",
            item=item,
            versions=versions,
            open_version=open_version,
            sub_items=item.sub_items.select_related("published_version").order_by("code"),
        ),
    )


@catalog_admin_required
@require_POST
def new_version(request, code: str):
    """新建修订版本: a draft copied from the published version."""
    item = _managed_item(request, code)
    try:
        version = services.start_new_version(item, request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("catalog:wb_item", code=item.code)
    messages.success(
        request, _("已从现行版本复制出第 %(n)d 版草稿，请修改后提交审核。") % {"n": version.number}
    )
    return redirect("catalog:wb_edit", code=item.code, number=version.number)


def _apply_errors(
    exc: DomainError, form, formsets: dict[str, Any]
) -> tuple[list[str], dict[str, list[str]]]:
    """Put a service error's details next to what they name: a field of the main form, a field
    of a row (``materials[2].name``) or a whole section (``steps``). Returns the messages that
    name nothing on the page and the section messages."""
    rest: list[str] = []
    sections: dict[str, list[str]] = {}
    details = exc.details if isinstance(exc.details, list) else []
    for detail in details:
        if not isinstance(detail, dict):
            continue
        name = str(detail.get("field", ""))
        message = str(detail.get("message", ""))
        head, _sep, tail = name.partition(".")
        base = head.split("[", 1)[0]
        if name in form.fields:
            form.add_error(name, message)
            continue
        if base not in formsets:
            rest.append(message)
            continue
        index = head.split("[", 1)[1].rstrip("]") if "[" in head else None
        live = formsets[base].live_forms()
        if index is not None and index.isdigit() and int(index) < len(live):
            row = live[int(index)]
            row.add_error(tail if tail in row.fields else None, message)
        else:
            sections.setdefault(base, []).append(message)
    if not details:
        rest.append(exc.message)
    return rest, sections


@catalog_admin_required
def edit_version(request, code: str, number: int):
    """Edit a draft: main fields, materials, steps and FAQs in one form."""
    item = _managed_item(request, code)
    version = _version(item, number)
    if version.state != ItemVersion.State.DRAFT:
        messages.info(
            request,
            _("只有草稿可以编辑；该版本当前状态为“%(s)s”。") % {"s": version.get_state_display()},
        )
        return redirect("catalog:wb_version", code=item.code, number=version.number)

    service_errors: list[str] = []
    section_errors: dict[str, list[str]] = {}
    saved_not_submitted = False
    copy = ItemVersion.objects.get(pk=version.pk)
    if request.method == "POST":
        form = wb_forms.VersionForm(request.POST, instance=copy)
        materials = wb_forms.MaterialFormSet(
            request.POST,
            request.FILES,
            prefix="materials",
            initial=wb_forms.material_initial(version),
        )
        steps = wb_forms.StepFormSet(
            request.POST, prefix="steps", initial=wb_forms.step_initial(version)
        )
        faqs = wb_forms.FaqFormSet(
            request.POST, prefix="faqs", initial=wb_forms.faq_initial(version)
        )
        formsets = {"materials": materials, "steps": steps, "faqs": faqs}
        if form.is_valid() and all(fs.is_valid() for fs in formsets.values()):
            data = form.payload()
            data["materials"] = materials.rows()
            data["steps"] = steps.rows()
            data["faqs"] = faqs.rows()
            try:
                with transaction.atomic():
                    services.update_draft(version, data, request.user)
                    _attach_uploads(version, materials, request.user)
            except DomainError as exc:
                service_errors, section_errors = _apply_errors(exc, form, formsets)
            else:
                if request.POST.get("then") != "submit":
                    messages.success(request, _("草稿已保存。"))
                    return redirect("catalog:wb_edit", code=item.code, number=version.number)
                try:
                    services.submit(version, request.user)
                except DomainError as exc:
                    # saved, but not submittable: the rule errors go next to their fields
                    saved_not_submitted = True
                    service_errors, section_errors = _apply_errors(exc, form, formsets)
                else:
                    messages.success(request, ACTION_MESSAGES["submit"])
                    return redirect("catalog:wb_version", code=item.code, number=version.number)
    else:
        form = wb_forms.VersionForm(instance=copy)
        materials = wb_forms.MaterialFormSet(
            prefix="materials", initial=wb_forms.material_initial(version)
        )
        steps = wb_forms.StepFormSet(prefix="steps", initial=wb_forms.step_initial(version))
        faqs = wb_forms.FaqFormSet(prefix="faqs", initial=wb_forms.faq_initial(version))
    status = 200
    has_errors = (
        bool(service_errors)
        or bool(section_errors)
        or bool(form.errors)
        or any(fs.total_error_count() for fs in (materials, steps, faqs))
    )
    if request.method == "POST" and has_errors:
        status = 422
    fieldsets = [(legend, [form[name] for name in names]) for legend, names in wb_forms.FIELDSETS]
    return render(
        request,
        "catalog/workbench/edit.html",
        _wb_context(
            request,
            _scoped_items(request.user),
            "items",
            item=item,
            version=version,
            form=form,
            fieldsets=fieldsets,
            materials=materials,
            steps=steps,
            faqs=faqs,
            formset_labels=[
                (materials, _("申请材料")),
                (steps, _("办理环节")),
                (faqs, _("常见问题")),
            ],
            service_errors=service_errors,
            section_errors=section_errors,
            has_errors=has_errors,
            saved_not_submitted=saved_not_submitted,
            rejection=_last_rejection(version),
        ),
        status=status,
    )


def _attach_uploads(version: ItemVersion, materials, user) -> None:
    """Files chosen in the material rows, attached to the rows just saved (update_draft
    rewrites the materials in page order)."""
    saved = list(version.materials.order_by("order", "pk"))
    for index, row in enumerate(materials.live_forms()):
        for kind, upload in row.uploads().items():
            if index < len(saved):
                services.attach_material_file(saved[index], kind, upload, user)


def _last_rejection(version: ItemVersion) -> str:
    """The reason of the last 退回 of this version, from the audit chain (if any)."""
    from tongban.core.models import AuditEvent

    event = (
        AuditEvent.objects.filter(
            target_type=ItemVersion._meta.label_lower,
            target_id=str(version.pk),
            action__endswith="reject",
        )
        .order_by("-seq")
        .first()
    )
    if event is None:
        return ""
    return str(event.data.get("reason", ""))


def _display(version: ItemVersion, name: str) -> str:
    value = getattr(version, name)
    if name == "themes":
        return _("、").join(themes.labels(value, themes.THEMES))
    if name == "life_events":
        return _("、").join(themes.labels(value, themes.LIFE_EVENTS))
    if isinstance(value, bool):
        return yes_no(value)
    display = getattr(version, f"get_{name}_display", None)
    if display is not None:
        return str(display())
    return "" if value is None else str(value)


def _material_line(m: Material) -> str:
    parts = [m.name, m.get_kind_display(), m.get_form_display(), m.get_necessity_display()]
    parts.append(m.get_source_display() + (f"（{m.licence_type}）" if m.licence_type else ""))
    parts.append(_("%(n)d 份") % {"n": m.copies})
    return " · ".join(parts)


def _step_line(s: ProcessStep) -> str:
    role = role_label(s.role)
    return " · ".join(str(x) for x in (s.get_kind_display(), s.name, role, days_label(s.days)) if x)


def version_diff(old: ItemVersion | None, new: ItemVersion) -> list[dict[str, Any]]:
    """What ``new`` changes against ``old`` (the published version), field by field, then the
    materials, steps and FAQs as lines: what a reviewer needs to see."""
    rows: list[dict[str, Any]] = []
    for name in wb_forms.VERSION_FIELDS:
        if name == "change_note":  # shown on its own under the changes
            continue
        before = _display(old, name) if old else ""
        after = _display(new, name)
        if before != after:
            label = ItemVersion._meta.get_field(name).verbose_name
            rows.append({"label": str(label), "before": before, "after": after})
    for label, attr, line in (
        (_("申请材料"), "materials", _material_line),
        (_("办理环节"), "steps", _step_line),
        (_("常见问题"), "faqs", lambda f: f.question),
    ):
        before = [line(x) for x in getattr(old, attr).all()] if old else []
        after = [line(x) for x in getattr(new, attr).all()]
        if before != after:
            rows.append(
                {
                    "label": str(label),
                    "before": "\n".join(before),
                    "after": "\n".join(after),
                    "lines": True,
                }
            )
    return rows


def _version_page(request, item, version, *, errors=None, reject_form=None, status=200):
    user = request.user
    published = item.published_version if item.published_version_id != version.pk else None
    actions = lifecycle.available_actions(version, user)
    blocked_four_eyes = (
        version.state == ItemVersion.State.SUBMITTED
        and lifecycle.can_manage(user, item.department)
        and not lifecycle.is_second_person(version, user)
    )
    problems: list[str] = []
    if version.state == ItemVersion.State.DRAFT and errors is None:
        try:
            services.validate_version(version)
        except InvalidInput as exc:
            problems = [
                str(d.get("message", "")) for d in (exc.details or []) if isinstance(d, dict)
            ] or [exc.message]
    return render(
        request,
        "catalog/workbench/version.html",
        _wb_context(
            request,
            _scoped_items(user),
            "review" if version.state in (ItemVersion.State.SUBMITTED,) else "items",
            item=item,
            version=version,
            published=published,
            diff=version_diff(published, version),
            materials=list(version.materials.all()),
            steps=list(version.steps.all()),
            faqs=list(version.faqs.all()),
            actions=actions,
            blocked_four_eyes=blocked_four_eyes,
            errors=errors or [],
            problems=problems,
            reject_form=reject_form or wb_forms.RejectForm(),
            rejection=_last_rejection(version) if version.state == "draft" else "",
        ),
        status=status,
    )


@catalog_admin_required
def version_detail(request, code: str, number: int):
    """A version as the reviewer sees it: the changes against the version in force."""
    item = _managed_item(request, code)
    return _version_page(request, item, _version(item, number))


ACTION_MESSAGES = {
    "submit": gettext_lazy("已提交审核，等待另一位事项管理员审核。"),
    "approve": gettext_lazy("已审核通过，可以发布。"),
    "reject": gettext_lazy("已退回修改。"),
    "publish": gettext_lazy("已发布，办事指南已更新。"),
    "retire": gettext_lazy("已停用该版本。"),
}


def _do_action(request, item: ServiceItem, version: ItemVersion, action: str, **extra):
    func = {
        "submit": services.submit,
        "approve": services.approve,
        "reject": services.reject,
        "publish": services.publish,
        "retire": services.retire,
    }[action]
    try:
        if action == "reject":
            func(version, request.user, extra["reason"])
        else:
            func(version, request.user)
    except InvalidInput as exc:
        details = [
            str(d.get("message", "")) for d in (exc.details or []) if isinstance(d, dict)
        ] or [exc.message]
        version.refresh_from_db()
        return _version_page(request, item, version, errors=[exc.message, *details], status=422)
    except DomainError as exc:
        version.refresh_from_db()
        return _version_page(request, item, version, errors=[exc.message], status=exc.status)
    messages.success(request, ACTION_MESSAGES[action])
    if action == "publish":
        return redirect("catalog:wb_item", code=item.code)
    return redirect("catalog:wb_version", code=item.code, number=version.number)


@catalog_admin_required
@require_POST
def version_action(request, code: str, number: int, action: str):
    """提交审核 / 审核通过 / 退回修改 / 发布 / 停用."""
    if action not in ACTION_MESSAGES:
        raise Http404
    item = _managed_item(request, code)
    version = _version(item, number)
    if action == "reject":
        form = wb_forms.RejectForm(request.POST)
        if not form.is_valid():
            return _version_page(request, item, version, reject_form=form, status=422)
        return _do_action(request, item, version, action, reason=form.cleaned_data["reason"])
    return _do_action(request, item, version, action)
