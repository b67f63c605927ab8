"""Template helpers of the portal shell: dates in the reader's language, masking, minutes.

Dates follow UI.md: ``2026年11月27日`` in Chinese and ISO 8601 (``2026-11-27``) in English.
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import get_language

from tongban.core.masking import mask_text

register = template.Library()


def _chinese() -> bool:
    return (get_language() or "zh-hans").lower().startswith("zh")


def _local(value):
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    return value


@register.filter
def tb_date(value) -> str:
    """A date (or the local date of a datetime): 2026年11月27日 / 2026-11-27."""
    if not isinstance(value, dt.date):
        return ""
    value = _local(value)
    if _chinese():
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


@register.filter
def tb_datetime(value) -> str:
    """A moment in local time: 2026年11月27日 14:05 / 2026-11-27 14:05."""
    if not isinstance(value, dt.datetime):
        return tb_date(value)
    value = _local(value)
    return f"{tb_date(value)} {value.hour:02d}:{value.minute:02d}"


@register.filter
def tb_iso(value) -> str:
    """The machine-readable form for ``<time datetime=...>``."""
    if isinstance(value, dt.datetime):
        return _local(value).isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return ""


@register.filter
def whole_minutes(value) -> int:
    """Whole minutes of a timedelta, rounded up (a lockout of 14.5 minutes reads as 15);
    a number is taken as minutes already."""
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        return max(0, -(-seconds // 60))
    if isinstance(value, int | float):
        return max(0, int(value))
    return 0


@register.filter
def masked(value) -> str:
    """Mask resident ID and mobile numbers inside free text (audit labels, identifiers)."""
    return mask_text(str(value or ""))
