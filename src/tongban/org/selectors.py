"""Reads of the organization."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .models import Department, Region, ServiceCenter, Window


def regions(
    *, level: str | None = None, parent: str | None = None, q: str = ""
) -> QuerySet[Region]:
    qs = Region.objects.select_related("parent", "functional_area")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q))
    return qs.order_by("code")


def region_by_code(code: str) -> Region:
    return Region.objects.select_related("parent", "functional_area").get(code=code)


def centers(
    *,
    level: str | None = None,
    region: str | None = None,
    q: str = "",
    self_service: bool | None = None,
    active_only: bool = True,
) -> QuerySet[ServiceCenter]:
    """Centers, optionally within a region subtree (``region`` is a division code)."""
    qs = ServiceCenter.objects.select_related("region").annotate(
        window_count=Count("windows", filter=Q(windows__active=True))
    )
    if active_only:
        qs = qs.filter(active=True)
    if level:
        qs = qs.filter(level=level)
    if region:
        root = Region.objects.filter(code=region).only("path").first()
        qs = qs.filter(region__path__startswith=root.path) if root else qs.none()
    if q:
        qs = qs.filter(
            Q(name__icontains=q) | Q(address__icontains=q) | Q(region__name__icontains=q)
        )
    if self_service is not None:
        qs = qs.filter(has_self_service_area=self_service)
    return qs.order_by("level", "code")


def center_by_code(code: str) -> ServiceCenter:
    return ServiceCenter.objects.select_related("region").get(code=code, active=True)


def windows_of(center: ServiceCenter) -> QuerySet[Window]:
    return center.windows.filter(active=True).select_related("department").order_by("number")


def departments(
    *, level: str | None = None, region: str | None = None, q: str = ""
) -> QuerySet[Department]:
    qs = Department.objects.select_related("region")
    if level:
        qs = qs.filter(level=level)
    if region:
        qs = qs.filter(region__code=region)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(short_name__icontains=q))
    return qs.order_by("level", "code")


def town_regions() -> QuerySet[Region]:
    """Streets, towns and functional areas that have a service center, for filters."""
    return (
        Region.objects.filter(
            level__in=[Region.Level.STREET, Region.Level.TOWN, Region.Level.FUNCTIONAL_AREA],
            centers__level=ServiceCenter.Level.TOWN,
        )
        .distinct()
        .order_by("code")
    )


def counts_by_level() -> dict[str, int]:
    rows = ServiceCenter.objects.filter(active=True).values("level").annotate(n=Count("id"))
    return {r["level"]: r["n"] for r in rows}
