"""What each role's home page shows, built from the records in the user's scope.

Every figure on a home page is counted from records at request time and every link points at a
page that exists; a role whose work is not built yet sees its scope (centers, departments,
windows), not placeholders. ``build(role, request)`` returns the template context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tongban.accounts.selectors import applicant_of
from tongban.cases import services as case_services
from tongban.cases.worklist import STAFF_CASE_ROLES
from tongban.cases.worklist import home_cards as case_home_cards
from tongban.core import audit
from tongban.core.masking import mask_mobile, mask_name, mask_text
from tongban.core.models import AuditEvent
from tongban.org.hours import describe
from tongban.org.models import Region, ServiceCenter, StaffAssignment, Window
from tongban.org.roles import Role
from tongban.org.scopes import DataScope, active_assignments, scope_for

CARDS_PER_PAGE = 10
ROWS_PER_PAGE = 20
RECENT_LOGINS = 10
RECENT_AUDIT_EVENTS = 20

# Human names of audit actions; an action not listed shows its code.
AUDIT_ACTIONS: dict[str, Promise] = {
    "auth.login": _("登录"),
    "auth.logout": _("退出登录"),
    "auth.login_failed": _("登录失败"),
    "auth.token_revoked": _("撤销访问令牌"),
    "auth.tokens_revoked": _("撤销全部访问令牌"),
    "accounts.register": _("注册账户"),
}

LOGIN_CHANNELS: dict[str, Promise] = {"web": _("网页"), "api": _("接口")}

# core.audit.verify() explains a broken chain in English; pages show it in the reader's language.
CHAIN_REASONS: dict[str, Promise] = {
    "missing event (gap in sequence)": _("缺少事件（序号不连续）"),
    "link to the previous event does not match": _("与上一条事件的链接不符"),
    "content does not match its hash": _("内容与其哈希值不符"),
    "events after the last one were deleted": _("最后一条之后的事件已被删除"),
}


def _window_order(window: Window) -> tuple[int, str]:
    """Windows in natural order: 1, 2, …, 10, 20 (numbers are text)."""
    return (len(window.number), window.number)


def _page(request, items, per_page: int) -> Page:
    return Paginator(items, per_page).get_page(request.GET.get("page"))


@dataclass(frozen=True)
class CenterCard:
    center: ServiceCenter
    hours: list[str]
    windows: list[Window]


def center_cards(centers: QuerySet[ServiceCenter]) -> list[CenterCard]:
    """Centers with their opening hours (org.hours.describe) and active windows."""
    active_windows = Prefetch(
        "windows",
        queryset=Window.objects.filter(active=True).select_related("department"),
        to_attr="active_windows",
    )
    rows = centers.select_related("region").prefetch_related(active_windows)
    return [
        CenterCard(c, describe(c.opening_hours or {}), sorted(c.active_windows, key=_window_order))
        for c in rows.order_by("level", "code")
    ]


def _centers_in(scope: DataScope) -> QuerySet[ServiceCenter]:
    return scope.centers(ServiceCenter.objects.filter(active=True))


@dataclass(frozen=True)
class LoginRow:
    at: object
    channel: str
    ip_address: str | None


def _applicant(request, scope: DataScope) -> dict:
    user = request.user
    events = AuditEvent.objects.filter(action="auth.login", actor=user).order_by("-seq")
    logins = [
        LoginRow(e.at, str(LOGIN_CHANNELS.get(str(e.data.get("channel", "")), "")), e.ip_address)
        for e in events[:RECENT_LOGINS]
    ]
    applicant = applicant_of(user)
    return {
        **_applicant_cases(user),
        "applicant": applicant,
        "applicant_representative": mask_name(applicant.legal_representative) if applicant else "",
        "account": user,
        "account_mobile": mask_mobile(user.mobile),
        "recent_logins": logins,
    }


APPLICANT_CASES_SHOWN = 5


def _applicant_cases(user) -> dict:
    """The applicant's cases that need them now (drafts, 一次性告知, 补正) and their counts."""
    from tongban.cases import selectors as case_selectors
    from tongban.cases.views_applicant import ACTION_NEEDED, OPEN, ask_of, status_tone
    from tongban.notify.services import unread_count

    mine = case_selectors.visible_to(user)
    todo = mine.filter(status__in=ACTION_NEEDED).order_by("-updated_at", "-pk")
    return {
        "cases_todo": [(c, ask_of(c), status_tone(c.status)) for c in todo[:APPLICANT_CASES_SHOWN]],
        "cases_todo_total": todo.count(),
        "cases_open_total": mine.filter(status__in=OPEN).count(),
        "messages_unread": unread_count(user),
    }


def _center_staff(request, scope: DataScope) -> dict:
    """Window clerks and center administrators: the centers they work in, hours and windows."""
    centers = _centers_in(scope)
    return {
        "center_page": _page(request, center_cards(centers), CARDS_PER_PAGE),
        "center_total": centers.count(),
        "window_total": Window.objects.filter(active=True, center__in=centers.values("pk")).count(),
    }


@dataclass
class DepartmentCard:
    department: object
    sites: list[tuple[ServiceCenter, list[Window]]] = field(default_factory=list)


def _department_staff(request, scope: DataScope) -> dict:
    """Reviewers and approvers: their department and the centers where it has windows."""
    departments = scope.departments().select_related("region").order_by("level", "code")
    cards = []
    for department in departments:
        windows = (
            Window.objects.filter(active=True, department=department, center__active=True)
            .select_related("center", "center__region")
            .order_by("center__level", "center__code")
        )
        card = DepartmentCard(department)
        by_center: dict[int, tuple[ServiceCenter, list[Window]]] = {}
        for window in windows:
            by_center.setdefault(window.center_id, (window.center, []))[1].append(window)
        card.sites = [(c, sorted(ws, key=_window_order)) for c, ws in by_center.values()]
        cards.append(card)
    return {"department_page": _page(request, cards, CARDS_PER_PAGE)}


def _agent(request, scope: DataScope) -> dict:
    centers = _centers_in(scope)
    windows = (
        Window.objects.filter(active=True, kind=Window.Kind.AGENCY, center__in=centers.values("pk"))
        .select_related("center", "department")
        .order_by("center__level", "center__code", "number")
    )
    return {
        "agency_windows": list(windows),
        "centers": list(centers.select_related("region").order_by("level", "code")[:50]),
        "center_total": centers.count(),
    }


def _catalog_admin(request, scope: DataScope) -> dict:
    departments = (
        scope.departments()
        .select_related("region")
        .annotate(window_count=Count("windows", filter=Q(windows__active=True)))
        .order_by("level", "code")
    )
    user = request.user
    return {
        "department_page": _page(request, departments, ROWS_PER_PAGE),
        "admin_available": bool(user.is_active and user.is_staff),
    }


@dataclass(frozen=True)
class Tally:
    label: str
    count: int


def _tallies(qs: QuerySet, field_name: str, choices) -> list[Tally]:
    """Rows of ``qs`` counted per value of ``field_name``, in the order of ``choices``.
    (Scoped querysets may be DISTINCT over joins; counting their primary keys in a subquery
    keeps DISTINCT from merging groups of equal size.)"""
    rows = qs.model.objects.filter(pk__in=qs.values("pk")).order_by()
    counted = {r[field_name]: r["n"] for r in rows.values(field_name).annotate(n=Count("pk"))}
    return [Tally(str(label), counted.get(value, 0)) for value, label in choices]


def scope_assignments(scope: DataScope) -> QuerySet[StaffAssignment]:
    """Active staff assignments whose scope lies within ``scope``."""
    qs = StaffAssignment.objects.filter(active=True)
    if scope.everything:
        return qs
    return qs.filter(
        Q(region__in=scope.regions().values("pk"))
        | Q(center__in=scope.centers().values("pk"))
        | Q(department__in=scope.departments().values("pk"))
    )


def _supervisor(request, scope: DataScope) -> dict:
    centers = _centers_in(scope)
    role_choices = [(r.value, r.label) for r in Role if r.is_staff]
    return {
        "centers_by_level": _tallies(centers, "level", ServiceCenter.Level.choices),
        "center_total": centers.count(),
        "regions_by_level": _tallies(scope.regions(), "level", Region.Level.choices),
        "department_total": scope.departments().count(),
        "window_total": Window.objects.filter(active=True, center__in=centers.values("pk")).count(),
        "self_service_total": centers.filter(has_self_service_area=True).count(),
        "assignments_by_role": _tallies(scope_assignments(scope), "role", role_choices),
    }


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: object
    actor: str
    action: str
    action_code: str
    target: str


def _auditor(request, scope: DataScope) -> dict:
    events = AuditEvent.objects.order_by("-seq")[:RECENT_AUDIT_EVENTS]
    rows = [
        AuditRow(
            e.seq,
            e.at,
            mask_text(e.actor_label) or "—",
            str(AUDIT_ACTIONS.get(e.action, e.action)),
            e.action,
            f"{e.target_type} #{e.target_id}" if e.target_type else "—",
        )
        for e in events
    ]
    report = audit.verify()
    return {
        "audit_rows": rows,
        "audit_total": AuditEvent.objects.count(),
        "chain": report,
        "chain_reason": str(CHAIN_REASONS.get(report.reason, report.reason)),
    }


BUILDERS: dict[Role, Callable[[object, DataScope], dict]] = {
    Role.APPLICANT: _applicant,
    Role.WINDOW_CLERK: _center_staff,
    Role.REVIEWER: _department_staff,
    Role.APPROVER: _department_staff,
    Role.CENTER_ADMIN: _center_staff,
    Role.AGENT: _agent,
    Role.CATALOG_ADMIN: _catalog_admin,
    Role.SUPERVISOR: _supervisor,
    Role.AUDITOR: _auditor,
}


def build(role: Role, request) -> dict:
    """The context of ``web/home/<role>.html`` for the signed-in user acting as ``role``."""
    user = request.user
    scope = scope_for(user) if role is Role.APPLICANT else scope_for(user, role)
    context = BUILDERS[role](request, scope)
    if role.is_staff:
        context["assignments"] = list(active_assignments(user, role))
    if role in STAFF_CASE_ROLES:
        # waiting cases and the yellow / red lights, linking into the case workbench
        context["case_cards"] = case_home_cards(user, role, case_services.today())
    return context


def scope_context(user) -> dict:
    """The "my data scope" page: every active assignment and what it covers."""
    scope = scope_for(user)
    assignments = []
    for a in active_assignments(user).order_by("role", "pk"):
        rule = Role(a.role).rule
        a.read_only, a.duty = rule.read_only, rule.duty
        assignments.append(a)
    return {
        "assignments": assignments,
        "scope": scope,
        "scope_center_total": _centers_in(scope).count() if not scope.empty else 0,
        "scope_department_total": scope.departments().count() if not scope.empty else 0,
        "scope_region_total": scope.regions().count() if not scope.empty else 0,
    }
