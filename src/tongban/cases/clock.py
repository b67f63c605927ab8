"""The time-limit clock (办理时限) of a case, in working days of the platform's calendar.

Rules (GLOSSARY "Our decisions"; 行政许可法 §42, §45, §82):

* A case accepted on a non-working day is dated the next working day (``accepted_on``).
* The day of acceptance does not count: the deadline is the n-th working day after
  ``accepted_on``, n = the version's promised limit. A 即办件 is due on ``accepted_on``.
* 补正 and 特别程序 stop the clock. A pause from day s to day e (the day the applicant
  supplements or the procedure ends) adds the working days in (s, e] to the deadline; a pause
  that ends the day it starts adds nothing.
* An extension (§42, once, approved by an approver) adds its working days.
* So ``due_date = add_working_days(accepted_on, limit + paused_days + extension_days)``;
  it is provisional when the count runs into a year the calendar does not know yet.
* Light: ``red`` when today is after the deadline, ``yellow`` when at most
  ``settings.CASE_YELLOW_DAYS`` (default 1) working days are left, ``green`` otherwise,
  ``paused`` while stopped, none before acceptance and after the decision.
* On time (按时办结): decided on or before the deadline.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from tongban.core import workdays

from .models import OPEN_STATUSES, Case, Colour, Status

RUNNING = (Status.ACCEPTED, Status.IN_REVIEW, Status.APPROVAL)
PAUSED = (Status.SUPPLEMENT, Status.SPECIAL)
assert set(RUNNING + PAUSED) == set(OPEN_STATUSES)  # the partial indexes cover them


def yellow_days() -> int:
    return int(getattr(settings, "CASE_YELLOW_DAYS", 1))


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _recompute(case: Case) -> None:
    total = (case.limit_days or 0) + case.paused_days + case.extension_days
    result = workdays.add_working_days_detail(case.accepted_on, total)
    case.due_date, case.due_provisional = result.value, result.provisional


def start(case: Case, accepted_at: dt.datetime) -> None:
    """Set the clock at acceptance from the case's version."""
    version = case.version
    case.accepted_at = accepted_at
    case.accepted_on = workdays.working_day_on_or_after(local_date(accepted_at))
    case.case_kind = version.case_kind
    immediate = version.case_kind == version.CaseKind.IMMEDIATE
    case.limit_days = 0 if immediate else version.promised_limit_days
    case.green_channel = version.green_channel
    case.paused_since = None
    case.paused_days = case.extension_days = 0
    _recompute(case)


def pause(case: Case, on: dt.date) -> None:
    if case.paused_since is None:
        case.paused_since = on


def resume(case: Case, on: dt.date) -> int:
    """End a pause on ``on``; returns the working days added to the deadline."""
    if case.paused_since is None:
        return 0
    # Days before the (working) acceptance day were never counted: a pause begun on the
    # Saturday a case was accepted, dated Monday, adds nothing for Monday.
    start = max(case.paused_since, case.accepted_on) if case.accepted_on else case.paused_since
    added = max(0, workdays.working_days_between(start, on))
    case.paused_days += added
    case.paused_since = None
    _recompute(case)
    return added


def extend(case: Case, days: int) -> None:
    case.extension_days += days
    _recompute(case)


def remaining(case: Case, today: dt.date | None = None) -> int | None:
    """Working days left (negative when overdue); frozen at the pause day while paused."""
    if case.due_date is None:
        return None
    today = today or timezone.localdate()
    if case.paused_since is not None:
        today = case.paused_since
    return workdays.working_days_between(today, case.due_date)


def yellow_threshold(today: dt.date) -> dt.date:
    """A running case is yellow when its deadline falls before this day (at most
    ``yellow_days()`` working days left) — the one form of the rule that Python
    (:func:`colour`) and SQL (``worklist.colour_q``) both use."""
    return workdays.add_working_days(today, yellow_days() + 1)


def colour(case: Case, today: dt.date | None = None, *, threshold: dt.date | None = None) -> str:
    """The light of ``case`` on ``today``; pass ``threshold`` (:func:`yellow_threshold`) when
    colouring many cases of one day."""
    if case.status in PAUSED:
        return Colour.PAUSED
    if case.status not in RUNNING or case.due_date is None:
        return Colour.NONE
    today = today or timezone.localdate()
    if case.due_date < today:
        return Colour.RED
    threshold = threshold or yellow_threshold(today)
    return Colour.YELLOW if case.due_date < threshold else Colour.GREEN


def on_time(case: Case) -> bool | None:
    """Whether a decided case was decided by its deadline (None when not decided or no clock)."""
    if case.decided_at is None or case.due_date is None:
        return None
    return local_date(case.decided_at) <= case.due_date
