"""The working-day calendar (工作日历): is a date a working day, and what is the n-th working day.

Why: time limits of administrative licensing are counted in working days, statutory holidays
excluded (行政许可法 §82, and §42: "20 个工作日"). A working day is Monday to Friday, except the
statutory holidays (法定节假日) and the days off the State Council moves around them (调休), plus
the weekend days it declares working days (调休上班). The State Council publishes each year's
schedule around November, so the calendar is a table (``CalendarYear``/``CalendarDay``):

- seeded from the ``chinesecalendar`` package (2004–2026) by migration ``core.0002``, editable in
  the admin, and updated each year with ``manage.py import_holidays``;
- a year with an *official* ``CalendarYear`` row is exactly Monday–Friday, with the
  ``CalendarDay`` rows overriding (``holiday`` = day off, ``workday`` = working day);
- any other year (no row, or ``official=False``) is **provisional**: Monday–Friday minus the
  statutory holidays of the 全国年节及纪念日放假办法 as revised in 2025, which we compute —
  元旦 1 Jan; 春节 除夕 and lunar 1/1–1/3; 清明 (solar term); 劳动节 1–2 May; 端午 lunar 5/5;
  中秋 lunar 8/15; 国庆 1–3 Oct — then any ``CalendarDay`` rows on top. Substitute days for
  holidays on a weekend (补假) and 调休 are not guessed: only a published schedule knows them.
  Years before 2004 without rows use the same fallback (a later regulation applied backwards).

Conventions (GLOSSARY "Case lifecycle", our decisions):

- ``add_working_days(d, n)``: the day ``d`` itself does not count; the result is the n-th working
  day after ``d`` (a case accepted on d with a limit of n working days is due on that day).
  ``n == 0`` gives ``d`` when it is a working day, else the next working day (a 即办件 is due the
  same working day; intake on a non-working day is dated the next working day).
  Negative ``n`` mirrors it: the |n|-th working day before ``d`` (``d`` does not count).
- ``working_days_between(a, b)``: the working days passed going from ``a`` to ``b``, counting the
  end and not the start: for ``b >= a`` those in (a, b]; for ``b < a`` minus those in [b, a).
  Hence ``working_days_between(d, add_working_days(d, n)) == n`` for every ``n != 0`` (and for
  ``n == 0`` when ``d`` is a working day).
- A result is *provisional* when a day it depends on lies in a provisional year: the days counted
  ((d, result] for n > 0, [result, d) for n < 0, [d, result] for n == 0). Such a deadline is
  marked, not silently wrong: use the ``*_detail`` functions or ``span_is_provisional``.
- Arguments are local dates (Asia/Shanghai); a ``datetime`` is refused (use
  ``timezone.localdate(value)``), so UTC midnights never shift a deadline by a day.

Performance: each year is built once into an in-process table (flags, prefix counts, the list of
its working days), so every function is O(years touched), with one query for the years' status
(per cache version) and one query per year's ``CalendarDay`` rows. Edits through the ORM
(admin included) fire ``post_save``/``post_delete`` receivers (``core.signals``) that drop the
local tables and bump a version number in Django's cache; other processes compare that version at
most every ``settings.WORKDAYS_VERSION_CHECK_SECONDS`` (default 1 s). Bulk writes that bypass
signals (``bulk_create``, ``QuerySet.update``) must call :func:`invalidate` themselves.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import logging
import operator
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from lunardate import LunarDate

from .models import CalendarDay, CalendarYear

logger = logging.getLogger(__name__)

VERSION_KEY = "core.workdays.version"
_ONE_DAY = dt.timedelta(days=1)

NEW_YEAR = "元旦"
SPRING_FESTIVAL = "春节"
QINGMING = "清明节"
LABOUR_DAY = "劳动节"
DRAGON_BOAT = "端午节"
MID_AUTUMN = "中秋节"
NATIONAL_DAY = "国庆节"


class WorkdayResult(NamedTuple):
    """A computed date and whether it depends on a provisional (unpublished) schedule."""

    value: dt.date
    provisional: bool


class WorkdayCount(NamedTuple):
    """A computed number of working days and whether it depends on a provisional schedule."""

    value: int
    provisional: bool


class DayInfo(NamedTuple):
    """What the calendar says about one date (for calendars in the UI)."""

    date: dt.date
    working: bool
    name: str  # holiday / make-up name, "" for an ordinary day
    provisional: bool


# --- Statutory holidays (the provisional fallback) --------------------------------------------


def qingming(year: int) -> dt.date:
    """清明 (the solar term Pure Brightness) by the 寿星 formula [Y×D+C]−L with D = 0.2422,
    C = 4.81 in the 21st century (5.59 in the 20th), Y = the year's last two digits and
    L = Y // 4. Agrees with every 清明 holiday 2008–2026 (tests). Outside 1900–2099: 5 April."""
    if 2000 <= year <= 2099:
        y, c = year - 2000, 4.81
    elif 1900 <= year <= 1999:
        y, c = year - 1900, 5.59
    else:
        return dt.date(year, 4, 5)
    return dt.date(year, 4, int(y * 0.2422 + c) - y // 4)


@functools.lru_cache(maxsize=512)
def _statutory_holidays(year: int) -> tuple[tuple[dt.date, str], ...]:
    days: dict[dt.date, str] = {dt.date(year, 1, 1): NEW_YEAR}
    # lunardate knows 1900–2099; lunar year Y begins in January or February of year Y.
    if 1900 <= year <= 2099:
        new_year = LunarDate(year, 1, 1).to_solar_date()
        for offset in range(-1, 3):  # 除夕 and 正月初一至初三
            days[new_year + dt.timedelta(days=offset)] = SPRING_FESTIVAL
        days[LunarDate(year, 5, 5).to_solar_date()] = DRAGON_BOAT
        days[LunarDate(year, 8, 15).to_solar_date()] = MID_AUTUMN
    days[qingming(year)] = QINGMING
    for day in (1, 2):
        days[dt.date(year, 5, day)] = LABOUR_DAY
    for day in (1, 2, 3):
        days[dt.date(year, 10, day)] = NATIONAL_DAY
    return tuple(sorted(days.items()))


def statutory_holidays(year: int) -> dict[dt.date, str]:
    """The 13 statutory holiday dates of ``year`` by the 2025 regulation, with their names.

    Used for years without an official schedule. Lunar dates outside 1900–2099 are unknown
    (lunardate's range) and left out."""
    return dict(_statutory_holidays(year))


# --- Year tables and their cache ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Year:
    year: int
    start: int  # ordinal of 1 January
    flags: bytes  # 1 = working day, indexed by day of year (0-based)
    prefix: tuple[int, ...]  # prefix[i] = working days among the first i days
    work: tuple[int, ...]  # day-of-year indexes of the working days, ascending
    names: Mapping[int, str]
    provisional: bool

    @property
    def total(self) -> int:
        return self.prefix[-1]


class _State:
    def __init__(self) -> None:
        self.years: dict[int, _Year] = {}
        self.status: dict[int, bool] | None = None  # year -> official, for years with a row
        self.version: object = None
        self.checked_at: float | None = None  # time.monotonic() of the last version check
        # Changes made inside a transaction: (alias, thread id, on_commit callback).
        self.pending: list[tuple[str, int, object]] = []

    def clear(self) -> None:
        self.years = {}
        self.status = None


_state = _State()


def _check_interval() -> float:
    return float(getattr(settings, "WORKDAYS_VERSION_CHECK_SECONDS", 1.0))


def _shared_version() -> object:
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            # A random start, so a cleared or evicted key never comes back as a version we saw.
            cache.add(VERSION_KEY, secrets.randbelow(2**62), timeout=None)
            version = cache.get(VERSION_KEY)
        return version
    except Exception:  # the cache being down must not stop deadline computation
        logger.warning("working-day calendar: cannot read the cache version", exc_info=True)
        return _state.version


def _bump_shared_version() -> None:
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # the key is missing
            cache.add(VERSION_KEY, secrets.randbelow(2**62), timeout=None)
    except Exception:
        logger.warning("working-day calendar: cannot bump the cache version", exc_info=True)


def _clear_local() -> None:
    _state.clear()
    _state.version = None
    _state.checked_at = None


def _check_pending() -> None:
    """Drop tables built from uncommitted changes once their transaction is over: a commit runs
    the callback (which clears anyway), a rollback discards it — either way it leaves the list."""
    me = threading.get_ident()
    keep = []
    for alias, thread, callback in _state.pending:
        if thread != me or any(callback in entry for entry in connections[alias].run_on_commit):
            keep.append((alias, thread, callback))
        else:
            _clear_local()
    _state.pending = keep


def _sync() -> None:
    if _state.pending:
        _check_pending()
    now = time.monotonic()
    # measured from the last check with the interval as it is now, so a changed setting
    # applies at once
    if _state.checked_at is not None and now - _state.checked_at < _check_interval():
        return
    _state.checked_at = now
    version = _shared_version()
    if version != _state.version:
        _state.clear()
        _state.version = version


def invalidate(using: str | None = None) -> None:
    """Forget the cached tables in this process and make every other process reload them.

    Called by the ``CalendarDay``/``CalendarYear`` signal receivers; call it yourself after
    writes that send no signals. Inside a transaction it fires again on commit, so processes that
    reloaded in between (and saw the old rows) reload once more."""
    alias = using or DEFAULT_DB_ALIAS
    _clear_local()
    _bump_shared_version()
    connection = connections[alias]
    if connection.in_atomic_block:

        def _after_commit() -> None:
            _clear_local()
            _bump_shared_version()

        transaction.on_commit(_after_commit, using=alias)
        _state.pending.append((alias, threading.get_ident(), _after_commit))


def on_calendar_change(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """``post_save``/``post_delete`` receiver for ``CalendarDay`` and ``CalendarYear``."""
    invalidate(using=using)


def _year_status() -> dict[int, bool]:
    status = _state.status
    if status is None:
        status = dict(CalendarYear.objects.values_list("year", "official"))
        _state.status = status
    return status


def _table(year: int) -> _Year:
    table = _state.years.get(year)
    if table is None:
        table = _build(year)
        _state.years[year] = table
    return table


def _build(year: int) -> _Year:
    first = dt.date(year, 1, 1)
    last = dt.date(year, 12, 31)
    start = first.toordinal()
    size = last.toordinal() - start + 1
    weekday = first.weekday()
    flags = bytearray(1 if (weekday + i) % 7 < 5 else 0 for i in range(size))
    names: dict[int, str] = {}
    provisional = not _year_status().get(year, False)
    if provisional:
        for day, name in _statutory_holidays(year):
            flags[day.toordinal() - start] = 0
            names[day.toordinal() - start] = name
    rows = CalendarDay.objects.filter(date__gte=first, date__lte=last).values_list(
        "date", "kind", "name"
    )
    for day, kind, name in rows:
        index = day.toordinal() - start
        flags[index] = 1 if kind == CalendarDay.Kind.WORKDAY else 0
        if name:
            names[index] = name
        else:
            names.pop(index, None)
    return _Year(
        year=year,
        start=start,
        flags=bytes(flags),
        prefix=tuple(itertools.accumulate(flags, initial=0)),
        work=tuple(i for i, flag in enumerate(flags) if flag),
        names=names,
        provisional=provisional,
    )


# --- Argument checks ---------------------------------------------------------------------------


def _check_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise TypeError("working days are counted on local dates: pass timezone.localdate(value)")
    if not isinstance(value, dt.date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return value


# --- Core walks (callers have run _sync) -------------------------------------------------------


def _working(day: dt.date) -> bool:
    table = _table(day.year)
    return table.flags[day.toordinal() - table.start] == 1


def _forward(day: dt.date, n: int) -> dt.date:
    """The n-th working day after ``day`` (n >= 1)."""
    table = _table(day.year)
    done = table.prefix[day.toordinal() - table.start + 1]
    while True:
        left = table.total - done
        if n <= left:
            return dt.date.fromordinal(table.start + table.work[done + n - 1])
        n -= left
        table = _table(table.year + 1)
        done = 0


def _backward(day: dt.date, n: int) -> dt.date:
    """The n-th working day before ``day`` (n >= 1)."""
    table = _table(day.year)
    before = table.prefix[day.toordinal() - table.start]
    while True:
        if n <= before:
            return dt.date.fromordinal(table.start + table.work[before - n])
        n -= before
        table = _table(table.year - 1)
        before = table.total


def _count(a: dt.date, b: dt.date) -> int:
    """Working days in (a, b], a <= b."""
    ta = _table(a.year)
    after_a = ta.prefix[a.toordinal() - ta.start + 1]
    tb = _table(b.year)
    upto_b = tb.prefix[b.toordinal() - tb.start + 1]
    if a.year == b.year:
        return upto_b - after_a
    middle = sum(_table(year).total for year in range(a.year + 1, b.year))
    return ta.total - after_a + middle + upto_b


def _provisional(first: dt.date, last: dt.date) -> bool:
    """Whether any day in [first, last] lies in a provisional year."""
    if last < first:
        first, last = last, first
    status = _year_status()
    return any(not status.get(year, False) for year in range(first.year, last.year + 1))


# --- Public API --------------------------------------------------------------------------------


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day (工作日)."""
    _check_date(day)
    _sync()
    return _working(day)


def is_provisional(day: dt.date) -> bool:
    """Whether what the calendar says about ``day`` comes from the computed fallback, i.e. its
    year has no official schedule yet."""
    _check_date(day)
    _sync()
    return _provisional(day, day)


def span_is_provisional(a: dt.date, b: dt.date) -> bool:
    """Whether any day between ``a`` and ``b`` (inclusive, either order) is provisional."""
    _check_date(a)
    _check_date(b)
    _sync()
    return _provisional(a, b)


def add_working_days_detail(day: dt.date, n: int) -> WorkdayResult:
    """:func:`add_working_days` together with whether the result is provisional."""
    _check_date(day)
    n = operator.index(n)
    _sync()
    if n > 0:
        result = _forward(day, n)
        return WorkdayResult(result, _provisional(day + _ONE_DAY, result))
    if n < 0:
        result = _backward(day, -n)
        return WorkdayResult(result, _provisional(result, day - _ONE_DAY))
    result = day if _working(day) else _forward(day, 1)
    return WorkdayResult(result, _provisional(day, result))


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The n-th working day after ``day`` (``day`` itself not counted); ``n == 0``: ``day`` if it
    is a working day, else the next one; ``n < 0``: the |n|-th working day before ``day``."""
    return add_working_days_detail(day, n).value


def working_day_on_or_after(day: dt.date) -> dt.date:
    """``day`` if it is a working day, else the next one (= ``add_working_days(day, 0)``)."""
    return add_working_days_detail(day, 0).value


def working_days_between_detail(a: dt.date, b: dt.date) -> WorkdayCount:
    """:func:`working_days_between` together with whether the count is provisional."""
    _check_date(a)
    _check_date(b)
    _sync()
    if b > a:
        return WorkdayCount(_count(a, b), _provisional(a + _ONE_DAY, b))
    if b < a:
        # minus the working days in [b, a) = (b, a] - a + b
        value = _count(b, a) - _working(a) + _working(b)
        return WorkdayCount(-value, _provisional(b, a - _ONE_DAY))
    return WorkdayCount(0, False)


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Working days from ``a`` to ``b``: those in (a, b] when ``b >= a``; minus those in [b, a)
    when ``b < a`` (so overdue cases get a negative count). Inverse of :func:`add_working_days`."""
    return working_days_between_detail(a, b).value


def year_working_days(year: int) -> int:
    """The number of working days in ``year``."""
    _sync()
    return _table(year).total


def day_info(day: dt.date) -> DayInfo:
    """Working or not, the holiday or make-up name, and whether it is provisional."""
    _check_date(day)
    _sync()
    table = _table(day.year)
    index = day.toordinal() - table.start
    return DayInfo(day, table.flags[index] == 1, table.names.get(index, ""), table.provisional)


# --- Writing a year's schedule -----------------------------------------------------------------


def replace_year(
    year: int,
    days: Iterable[tuple[dt.date, str, str]],
    *,
    source: str,
    document: str = "",
    official: bool = True,
) -> int:
    """Replace ``year``'s ``CalendarDay`` rows by ``days`` ((date, kind, name), already validated,
    all in ``year``) and mark the year (``official``, ``source``, ``document``), atomically.
    Returns the number of rows written."""
    rows = [CalendarDay(date=day, kind=kind, name=name) for day, kind, name in days]
    if any(row.date.year != year for row in rows):
        raise ValueError(f"every date must be in {year}")
    with transaction.atomic():
        CalendarDay.objects.filter(
            date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31)
        ).delete()
        CalendarDay.objects.bulk_create(rows)
        CalendarYear.objects.update_or_create(
            year=year, defaults={"official": official, "source": source, "document": document}
        )
        invalidate()  # bulk_create sends no signals
    return len(rows)
