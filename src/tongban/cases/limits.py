"""Rate limits of the cases app, shared by the pages and the API (django-ratelimit; the counters
live in the Django cache, so they hold across processes when the cache is Redis).

- the public progress query, page and API counted together: per address
  ``CASE_PROGRESS_RATE`` ("10/m"), and per case number whatever the address
  ``CASE_PROGRESS_NUMBER_RATE`` ("30/h"), so one number's mobile cannot be guessed from many
  addresses;
- staff looking an applicant up by identity number (API intake, the window's find and
  register): per user ``CASE_LOOKUP_RATE`` ("120/h").

Each function counts one request and returns the seconds to wait when a limit is reached
(None when the request may go on). The rate string is part of django-ratelimit's counter key,
so every caller reads it from the same setting.
"""

from __future__ import annotations

from django.conf import settings
from django_ratelimit.core import is_ratelimited

PROGRESS_GROUP = "case_progress"
PROGRESS_NUMBER_GROUP = "case_progress_number"
LOOKUP_GROUP = "applicant_lookup"

PROGRESS_RATE_DEFAULT = "10/m"
PROGRESS_NUMBER_RATE_DEFAULT = "30/h"
LOOKUP_RATE_DEFAULT = "120/h"

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def progress_rate() -> str:
    return str(getattr(settings, "CASE_PROGRESS_RATE", PROGRESS_RATE_DEFAULT))


def progress_number_rate() -> str:
    return str(getattr(settings, "CASE_PROGRESS_NUMBER_RATE", PROGRESS_NUMBER_RATE_DEFAULT))


def lookup_rate() -> str:
    return str(getattr(settings, "CASE_LOOKUP_RATE", LOOKUP_RATE_DEFAULT))


def rate_seconds(rate: str) -> int:
    """The period of a django-ratelimit rate ("10/m" → 60, "30/h" → 3600, "5/10m" → 600)."""
    unit = rate.rsplit("/", 1)[-1].strip().lower() or "m"
    count = int(unit[:-1]) if unit[:-1].isdigit() else 1
    return count * UNITS.get(unit[-1], 60)


def normalize_number(number: str) -> str:
    """A case number as ``selectors.case_by_progress_query`` compares it."""
    return (number or "").strip().upper()


def progress_limited(request, number: str = "") -> int | None:
    """Count one progress query from this address and, when ``number`` is given, for that
    number; the seconds to wait if either limit is reached."""
    rate = progress_rate()
    if is_ratelimited(request, group=PROGRESS_GROUP, key="ip", rate=rate, increment=True):
        return rate_seconds(rate)
    value = normalize_number(number)
    if value:
        rate = progress_number_rate()
        if is_ratelimited(
            request,
            group=PROGRESS_NUMBER_GROUP,
            key=lambda _group, _request: value,
            rate=rate,
            increment=True,
        ):
            return rate_seconds(rate)
    return None


def lookup_limited(request, count: int = 1) -> int | None:
    """Count ``count`` look-ups of applicants by identity number by the signed-in staff member
    (a batch intake names many); the seconds to wait if the limit is reached."""
    rate = lookup_rate()
    for _ in range(count):
        if is_ratelimited(request, group=LOOKUP_GROUP, key="user", rate=rate, increment=True):
            return rate_seconds(rate)
    return None
