"""Organization API: regions, service centers (with windows and hours), departments."""

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tongban.api.auth import PUBLIC, STAFF_OR_APPLICANT
from tongban.api.pagination import Paginated
from tongban.api.schemas import errors

from . import selectors, services
from .hours import describe
from .models import Department, Region, ServiceCenter, Window

router = Router(tags=["org"])


class RegionOut(Schema):
    code: str
    name: str
    level: str
    level_label: str
    parent: str | None
    functional_area: str | None
    official_code: bool

    @staticmethod
    def resolve_level_label(obj: Region) -> str:
        return str(obj.get_level_display())

    @staticmethod
    def resolve_parent(obj: Region) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_functional_area(obj: Region) -> str | None:
        return obj.functional_area.code if obj.functional_area_id else None


class RegionFilter(Schema):
    level: Region.Level | None = None
    parent: str | None = Field(None, max_length=20, description="parent division code")
    q: str = Field("", max_length=50)


@router.get("/regions", response=list[RegionOut], auth=PUBLIC)
@paginate(Paginated)
def list_regions(request, filters: Query[RegionFilter]):
    """Administrative divisions (city, streets, towns, functional areas, villages, communities)."""
    return selectors.regions(level=filters.level, parent=filters.parent, q=filters.q)


@router.get("/regions/{code}", response={200: RegionOut, **errors(404)}, auth=PUBLIC)
def get_region(request, code: str):
    return get_object_or_404(Region.objects.select_related("parent", "functional_area"), code=code)


class CenterOut(Schema):
    code: str
    name: str
    level: str
    level_label: str
    region: str
    region_name: str
    address: str
    phone: str
    has_self_service_area: bool
    window_count: int = 0

    @staticmethod
    def resolve_level_label(obj: ServiceCenter) -> str:
        return str(obj.get_level_display())

    @staticmethod
    def resolve_region(obj: ServiceCenter) -> str:
        return obj.region.code

    @staticmethod
    def resolve_region_name(obj: ServiceCenter) -> str:
        return obj.region.name


class WindowOut(Schema):
    number: str
    kind: str
    kind_label: str
    name: str
    department: str | None

    @staticmethod
    def resolve_kind_label(obj: Window) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_department(obj: Window) -> str | None:
        return obj.department.name if obj.department_id else None


class CenterDetailOut(CenterOut):
    opening_hours: dict[str, list[list[str]]]
    opening_hours_text: list[str]
    windows: list[WindowOut]

    @staticmethod
    def resolve_opening_hours_text(obj: ServiceCenter) -> list[str]:
        return describe(obj.opening_hours)

    @staticmethod
    def resolve_windows(obj: ServiceCenter) -> list[Window]:
        return obj.active_windows


class CenterFilter(Schema):
    level: ServiceCenter.Level | None = None
    region: str | None = Field(None, max_length=20, description="division code: the whole subtree")
    q: str = Field("", max_length=50)
    self_service: bool | None = Field(None, description="has a 24-hour self-service area")


@router.get("/centers", response=list[CenterOut], auth=PUBLIC)
@paginate(Paginated)
def list_centers(request, filters: Query[CenterFilter]):
    """Service centers: city (市级), town/street (镇街级), village/community points (村级)."""
    return selectors.centers(
        level=filters.level, region=filters.region, q=filters.q, self_service=filters.self_service
    )


def _center_detail(code: str) -> ServiceCenter:
    center = get_object_or_404(
        ServiceCenter.objects.select_related("region"), code=code, active=True
    )
    center.active_windows = list(selectors.windows_of(center))
    center.window_count = len(center.active_windows)
    return center


@router.get("/centers/{code}", response={200: CenterDetailOut, **errors(404)}, auth=PUBLIC)
def get_center(request, code: str):
    return _center_detail(code)


class OpeningHoursIn(Schema):
    opening_hours: dict[str, list[list[str]]] = Field(
        ..., description='ISO weekday "1".."7" → [["09:00","12:00"], ...]'
    )


@router.put(
    "/centers/{code}/opening-hours",
    response={200: CenterDetailOut, **errors(401, 403, 404, 422)},
    auth=STAFF_OR_APPLICANT,
)
def put_opening_hours(request, code: str, payload: OpeningHoursIn):
    """Change a center's opening hours (center administrators of that center only)."""
    center = get_object_or_404(
        ServiceCenter.objects.select_related("region"), code=code, active=True
    )
    services.set_opening_hours(center, payload.opening_hours, by=request.user, request=request)
    return _center_detail(code)


class DepartmentOut(Schema):
    code: str
    name: str
    short_name: str
    level: str
    region: str

    @staticmethod
    def resolve_region(obj: Department) -> str:
        return obj.region.code


class DepartmentFilter(Schema):
    level: Department.Level | None = None
    region: str | None = Field(None, max_length=20)
    q: str = Field("", max_length=50)


@router.get("/departments", response=list[DepartmentOut], auth=PUBLIC)
@paginate(Paginated)
def list_departments(request, filters: Query[DepartmentFilter]):
    return selectors.departments(level=filters.level, region=filters.region, q=filters.q)
