"""Data scopes (数据范围): what part of the organization a user may see or act on.

``scope_for(user)`` combines a user's active assignments (optionally of one role) into a
:class:`DataScope`; selectors filter querysets with it and services check single objects.
A region scope covers the whole subtree under the region (a city scope covers everything);
a center scope covers the center; a department scope covers the department (and the windows
and centers where it sits are visible to it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from .models import Department, Region, ServiceCenter, StaffAssignment
from .roles import Role


@dataclass(frozen=True)
class DataScope:
    everything: bool = False
    region_paths: tuple[str, ...] = ()
    center_ids: frozenset[int] = field(default_factory=frozenset)
    department_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not (self.everything or self.region_paths or self.center_ids or self.department_ids)

    def _region_q(self, prefix: str) -> Q:
        q = Q(pk__in=[])
        for path in self.region_paths:
            q |= Q(**{f"{prefix}path__startswith": path})
        return q

    def regions(self, qs: QuerySet[Region] | None = None) -> QuerySet[Region]:
        qs = Region.objects.all() if qs is None else qs
        if self.everything:
            return qs
        return qs.filter(self._region_q(""))

    def centers(self, qs: QuerySet[ServiceCenter] | None = None) -> QuerySet[ServiceCenter]:
        qs = ServiceCenter.objects.all() if qs is None else qs
        if self.everything:
            return qs
        q = self._region_q("region__") | Q(pk__in=self.center_ids)
        if self.department_ids:
            q |= Q(windows__department_id__in=self.department_ids)
        return qs.filter(q).distinct()

    def departments(self, qs: QuerySet[Department] | None = None) -> QuerySet[Department]:
        qs = Department.objects.all() if qs is None else qs
        if self.everything:
            return qs
        return qs.filter(self._region_q("region__") | Q(pk__in=self.department_ids))

    def allows_region(self, region: Region) -> bool:
        return self.everything or any(region.path.startswith(p) for p in self.region_paths)

    def allows_center(self, center: ServiceCenter) -> bool:
        return (
            self.everything
            or center.pk in self.center_ids
            or self.allows_region(center.region)
            or (
                bool(self.department_ids)
                and center.windows.filter(department_id__in=self.department_ids).exists()
            )
        )

    def allows_department(self, department: Department) -> bool:
        return (
            self.everything
            or department.pk in self.department_ids
            or self.allows_region(department.region)
        )


def active_assignments(user, role: Role | None = None) -> QuerySet[StaffAssignment]:
    qs = StaffAssignment.objects.filter(user=user, active=True).select_related(
        "region", "center", "center__region", "department", "department__region"
    )
    if role is not None:
        qs = qs.filter(role=role.value)
    return qs


def roles_of(user) -> list[Role]:
    """The user's roles, applicant first for applicant accounts, then staff roles in table order."""
    if user is None or not user.is_authenticated:
        return []
    if getattr(user, "kind", "") == "applicant":
        return [Role.APPLICANT]
    held = set(active_assignments(user).values_list("role", flat=True))
    return [r for r in Role if r.value in held]


def has_role(user, *roles: Role) -> bool:
    current = roles_of(user)
    return any(r in current for r in roles)


def scope_for(user, role: Role | None = None) -> DataScope:
    if user is None or not user.is_authenticated:
        return DataScope()
    if user.is_superuser:
        return DataScope(everything=True)
    paths: list[str] = []
    centers: set[int] = set()
    departments: set[int] = set()
    for a in active_assignments(user, role):
        if a.region_id:
            paths.append(a.region.path)
        elif a.center_id:
            centers.add(a.center_id)
        else:
            departments.add(a.department_id)
    return DataScope(
        region_paths=tuple(sorted(set(paths))),
        center_ids=frozenset(centers),
        department_ids=frozenset(departments),
    )
