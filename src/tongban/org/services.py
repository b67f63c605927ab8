"""Writes of the organization: staff assignments, centers' opening hours. Each is audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import Forbidden, InvalidInput

from .models import Department, Region, ServiceCenter, StaffAssignment, validate_opening_hours
from .roles import Role
from .scopes import has_role, scope_for


@transaction.atomic
def assign_role(
    user,
    role: Role,
    *,
    region: Region | None = None,
    center: ServiceCenter | None = None,
    department: Department | None = None,
    by=None,
    request=None,
) -> StaffAssignment:
    """Give ``user`` a staff role with one data scope (checked against the role table)."""
    if user.kind != "staff":
        raise InvalidInput(_("只有工作人员账户可以分配岗位。"), code="not_staff")
    assignment = StaffAssignment(
        user=user, role=role.value, region=region, center=center, department=department
    )
    try:
        assignment.full_clean(exclude=["user"], validate_unique=False)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0]) from None
    assignment, _created = StaffAssignment.objects.get_or_create(
        user=user,
        role=role.value,
        region=region,
        center=center,
        department=department,
        defaults={"active": True},
    )
    audit.record(
        "org.assign_role",
        actor=by,
        target=assignment,
        request=request,
        data={"user": user.get_username(), "role": role.value, "scope": assignment.scope_label},
    )
    return assignment


@transaction.atomic
def set_opening_hours(center: ServiceCenter, hours: dict, *, by, request=None) -> ServiceCenter:
    """Change a center's opening hours: a center administrator within scope, or a superuser."""
    if not (by.is_superuser or has_role(by, Role.CENTER_ADMIN)) or not scope_for(
        by, None if by.is_superuser else Role.CENTER_ADMIN
    ).allows_center(center):
        raise Forbidden(_("只有本中心的管理员可以修改办公时间。"))
    try:
        validate_opening_hours(hours)
    except ValidationError as exc:
        raise InvalidInput(
            exc.messages[0], details=[{"field": "opening_hours", "message": exc.messages[0]}]
        ) from None
    before = center.opening_hours
    center.opening_hours = hours
    center.save(update_fields=["opening_hours"])
    audit.record(
        "org.set_opening_hours",
        actor=by,
        target=center,
        request=request,
        data={"before": before, "after": hours},
    )
    return center
