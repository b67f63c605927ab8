"""Reads of cases, always through the caller's data scope (数据范围).

Who sees which cases (every list, detail, export and API call goes through :func:`visible_to`):

| role | cases |
|---|---|
| applicant | their own (the applicant record linked to their account) |
| agent | the cases they filed |
| window clerk | those of their center (a region scope: centers in the subtree) |
| reviewer, approver | those of their department (the approving department), once accepted |
| center administrator | those of their center, or of the centers in their region (a town) |
| supervisor | everything in their region, read-only |
| superuser | everything |

Unsubmitted drafts filed online (web, mobile, kiosk, agency) are visible to their filer only.

Catalog administrators and auditors see no cases (auditors read the audit log).
"""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tongban.core.errors import NotFound
from tongban.org.roles import Role
from tongban.org.scopes import active_assignments

from .models import OPEN_STATUSES, Case, Channel, Status

CASE_ROLES = (
    Role.WINDOW_CLERK,
    Role.REVIEWER,
    Role.APPROVER,
    Role.CENTER_ADMIN,
    Role.SUPERVISOR,
    Role.AGENT,
)


def scope_q(user, roles: tuple[Role, ...] = CASE_ROLES) -> Q:
    """The filter of the cases ``user`` may see (nothing: ``Q(pk__in=[])``)."""
    none = Q(pk__in=[])
    if user is None or not user.is_authenticated:
        return none
    if user.is_superuser:
        return Q()
    if getattr(user, "kind", "") == "applicant":
        return Q(applicant__user=user) | Q(filed_by=user)
    q = none
    for a in active_assignments(user):
        role = Role(a.role)
        if role not in roles:
            continue
        if role == Role.AGENT:
            q |= Q(filed_by=user)
        elif role in (Role.REVIEWER, Role.APPROVER):
            # the back office sees a case once it is accepted (the window owns it before)
            q |= Q(department_id=a.department_id, accepted_at__isnull=False)
        elif a.center_id:
            q |= Q(center_id=a.center_id)
        elif a.region_id:
            q |= Q(region__path__startswith=a.region.path)  # the accepting center's region
    # An applicant's or agent's unsubmitted draft is theirs alone; window and mail drafts are
    # the center's work in progress.
    private_draft = Q(status=Status.DRAFT) & ~Q(channel__in=(Channel.WINDOW, Channel.MAIL))
    return (q & ~private_draft) | (Q(filed_by=user) & private_draft)


def open_scope_q(user, roles: tuple[Role, ...] = CASE_ROLES) -> Q:
    """``scope_q`` for open cases only (accepted, clock running or stopped: ``OPEN_STATUSES``),
    written so the partial indexes on open cases serve it at any size: open cases are never
    drafts and always accepted, so the draft and acceptance conditions of ``scope_q`` drop
    out and each assignment is one plain condition (department, center or region)."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    open_ = Q(status__in=OPEN_STATUSES)
    if user.is_superuser:
        return open_
    if getattr(user, "kind", "") == "applicant":
        return open_ & (Q(applicant__user=user) | Q(filed_by=user))
    departments, centers, q = set(), set(), Q(pk__in=[])
    for a in active_assignments(user):
        role = Role(a.role)
        if role not in roles:
            continue
        if role == Role.AGENT:
            q |= Q(filed_by=user)
        elif role in (Role.REVIEWER, Role.APPROVER):
            departments.add(a.department_id)
        elif a.center_id:
            centers.add(a.center_id)
        elif a.region_id:
            q |= Q(region__path__startswith=a.region.path)
    if departments:
        q |= Q(department_id__in=sorted(departments))
    if centers:
        q |= Q(center_id__in=sorted(centers))
    return open_ & q


def visible_to(user, roles: tuple[Role, ...] = CASE_ROLES) -> QuerySet[Case]:
    return Case.objects.filter(scope_q(user, roles)).select_related(
        "applicant", "center", "department", "item", "version", "assignee"
    )


def case_for(user, number: str) -> Case:
    """One case by its public number, if ``user`` may see it; otherwise 404 (never 403, so
    numbers cannot be probed)."""
    case = visible_to(user).filter(number=number).first() if number else None
    if case is None:
        raise NotFound(_("未找到该办件。"))
    return case


def case_by_progress_query(number: str, mobile: str) -> Case | None:
    """The public progress query (办件进度查询): the case number and the contact mobile must
    both match. Callers rate-limit it and show no personal data."""
    mobile = re.sub(r"[\s\-]", "", mobile or "").removeprefix("+86")  # "138 0013-8000"
    if not number or not mobile:
        return None
    return (
        Case.objects.select_related("center", "department")
        .filter(number=number.strip().upper(), contact_mobile=mobile)
        .exclude(status="draft")
        .first()
    )


def timeline(case: Case):
    return case.events.select_related("center").order_by("at", "pk")
