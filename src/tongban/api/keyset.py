"""Keyset (seek) pagination for long lists ordered by a date and the id: the page after a
cursor is found through the index, however deep, and no count is taken (counting millions of
rows is what makes offset pages slow). Answers are ``{"items": [...], "next_cursor": ...}``;
the cursor is opaque to clients (``<date>.<id>`` in URL-safe base64)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from ninja import Field, Schema

from tongban.core.errors import InvalidInput

MAX_ID = 2**63 - 1


class KeysetInput(Schema):
    limit: int = Field(20, ge=1, le=200, description="rows per page (1–200)")
    cursor: str | None = Field(
        None, max_length=64, description="next_cursor of the previous page (omit for the first)"
    )


def encode(day: dt.date, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{day.isoformat()}.{pk}".encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[dt.date, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        day, pk = raw.split(".")
        value = dt.date.fromisoformat(day), int(pk)
        if not 0 < value[1] <= MAX_ID:
            raise ValueError
        return value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        message = _("翻页游标无效，请从第一页重新开始。")
        raise InvalidInput(
            message, code="invalid_cursor", details=[{"field": "cursor", "message": message}]
        ) from None


def page(qs: QuerySet, date_field: str, params: KeysetInput) -> dict:
    """One page of ``qs`` in (``date_field``, id) order after ``params.cursor``; rows whose
    date is NULL are not listed (the lists that use this have none)."""
    qs = qs.filter(**{f"{date_field}__isnull": False})
    if params.cursor:
        day, pk = decode(params.cursor)
        # ``date >= day`` lets the index start at the cursor; the OR settles ties on the date
        qs = qs.filter(Q(**{f"{date_field}__gt": day}) | Q(**{date_field: day, "pk__gt": pk}))
        qs = qs.filter(**{f"{date_field}__gte": day})
    rows = list(qs.order_by(date_field, "pk")[: params.limit + 1])
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    last = rows[-1] if rows else None
    return {
        "items": rows,
        "next_cursor": encode(getattr(last, date_field), last.pk) if more and last else None,
    }
