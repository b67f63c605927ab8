"""The one pagination every list endpoint uses: ``{"items": [...], "count": N}`` with ``limit``
(1–200, NINJA_PAGINATION_MAX_LIMIT) and ``offset`` (bounded, so no database overflows)."""

from ninja import Field, Schema
from ninja.conf import settings
from ninja.pagination import LimitOffsetPagination

MAX_OFFSET = 10_000_000


class Paginated(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(settings.PAGINATION_PER_PAGE, ge=1, le=settings.PAGINATION_MAX_LIMIT)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)
