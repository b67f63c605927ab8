"""The working-day calendar: seeded table, fallback rules, conventions, import, caching."""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace

import chinese_calendar
import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lunardate import LunarDate

from tongban.core import workdays
from tongban.core.models import CalendarDay, CalendarYear
from tongban.core.workdays import (
    add_working_days,
    add_working_days_detail,
    day_info,
    is_provisional,
    is_working_day,
    span_is_provisional,
    statutory_holidays,
    working_days_between,
    working_days_between_detail,
    year_working_days,
)

D = dt.date
pytestmark = pytest.mark.django_db
DB_PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(autouse=True)
def _fresh_calendar():
    workdays.invalidate()
    yield
    workdays.invalidate()


def _days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


# --- The seeded table --------------------------------------------------------------------------


def test_seed_marks_package_years_official():
    years = CalendarYear.objects.order_by("year")
    assert [y.year for y in years] == list(range(2004, 2027))
    assert all(y.official and y.source == CalendarYear.Source.PACKAGE for y in years)
    assert CalendarDay.objects.count() == len(chinese_calendar.holidays) + len(
        chinese_calendar.workdays
    )
    row = CalendarDay.objects.get(date=D(2026, 2, 14))
    assert (row.kind, row.name) == (CalendarDay.Kind.WORKDAY, "春节")


def test_2026_has_248_working_days():
    assert year_working_days(2026) == 248
    assert working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 248
    assert sum(is_working_day(day) for day in _days(D(2026, 1, 1), D(2026, 12, 31))) == 248


def test_every_known_day_agrees_with_the_package():
    for day in _days(D(2004, 1, 1), D(2026, 12, 31)):
        assert is_working_day(day) == chinese_calendar.is_workday(day), day
        assert not is_provisional(day)


def test_2026_spring_festival_and_make_up_saturdays():
    for day in _days(D(2026, 2, 15), D(2026, 2, 23)):
        assert not is_working_day(day), day
    assert is_working_day(D(2026, 2, 14))  # Saturday, 调休上班
    assert is_working_day(D(2026, 2, 28))  # Saturday, 调休上班
    assert not is_working_day(D(2026, 2, 7))  # an ordinary Saturday
    assert day_info(D(2026, 2, 17)) == workdays.DayInfo(D(2026, 2, 17), False, "春节", False)


def test_4_january_2026_a_sunday_is_a_working_day():
    assert D(2026, 1, 4).weekday() == 6
    assert is_working_day(D(2026, 1, 4))
    assert not is_working_day(D(2026, 1, 2))  # Friday, 元旦


# --- add_working_days and working_days_between -------------------------------------------------


def test_add_working_days_across_the_spring_festival():
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
    # §42: 20 working days from an acceptance on 2026-02-10
    assert add_working_days(D(2026, 2, 10), 20) == D(2026, 3, 16)
    assert working_days_between(D(2026, 2, 10), D(2026, 3, 16)) == 20


def test_n_zero_is_the_day_itself_or_the_next_working_day():
    assert add_working_days(D(2026, 2, 16), 0) == D(2026, 2, 24)  # a holiday
    assert add_working_days(D(2026, 2, 14), 0) == D(2026, 2, 14)  # make-up Saturday
    assert add_working_days(D(2026, 3, 7), 0) == D(2026, 3, 9)  # ordinary Saturday
    assert workdays.working_day_on_or_after(D(2026, 10, 1)) == D(2026, 10, 8)


def test_negative_n_counts_backwards():
    assert add_working_days(D(2026, 2, 24), -1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 20), -1) == D(2026, 2, 14)  # from a holiday
    assert add_working_days(D(2026, 1, 5), -2) == D(2025, 12, 31)
    assert working_days_between(D(2026, 2, 24), D(2026, 2, 14)) == -1
    assert working_days_between(D(2026, 2, 20), D(2026, 2, 14)) == -1


def test_between_conventions():
    assert working_days_between(D(2026, 2, 13), D(2026, 2, 13)) == 0
    assert working_days_between(D(2026, 2, 15), D(2026, 2, 23)) == 0  # all holidays
    assert working_days_between(D(2026, 2, 13), D(2026, 2, 24)) == 2  # (13, 24] = 14, 24
    assert working_days_between(D(2026, 2, 24), D(2026, 2, 13)) == -2  # [13, 24) = 13, 14


def test_arguments_are_checked():
    with pytest.raises(TypeError):
        is_working_day(dt.datetime(2026, 2, 14, 12, 0))
    with pytest.raises(TypeError):
        add_working_days(D(2026, 2, 14), 1.5)
    with pytest.raises(TypeError):
        working_days_between("2026-02-14", D(2026, 2, 20))


@DB_PROPERTY
@given(
    day=st.dates(D(2003, 6, 1), D(2029, 6, 30)),
    n=st.integers(-600, 600).filter(bool),
)
def test_round_trip(day, n):
    target = add_working_days(day, n)
    assert is_working_day(target)
    assert (target > day) == (n > 0)
    assert working_days_between(day, target) == n


@DB_PROPERTY
@given(a=st.dates(D(2003, 6, 1), D(2029, 6, 30)), offset=st.integers(-400, 400))
def test_between_counts_days_one_by_one(a, offset):
    b = a + dt.timedelta(days=offset)
    if b >= a:
        expected = sum(is_working_day(day) for day in _days(a + dt.timedelta(days=1), b))
    else:
        expected = -sum(is_working_day(day) for day in _days(b, a - dt.timedelta(days=1)))
    assert working_days_between(a, b) == expected
    zero = add_working_days(a, 0)
    assert is_working_day(zero)
    assert zero >= a
    assert working_days_between(a, zero) == (0 if zero == a else 1)


# --- Unknown years: the provisional fallback ---------------------------------------------------


def test_year_boundary_into_an_unknown_year_is_provisional():
    assert add_working_days_detail(D(2026, 12, 30), 1) == (D(2026, 12, 31), False)
    result = add_working_days_detail(D(2026, 12, 31), 1)
    assert result == workdays.WorkdayResult(D(2027, 1, 4), True)  # 1 Jan 2027 is a Friday holiday
    assert not is_working_day(D(2027, 1, 1))
    assert is_provisional(D(2027, 1, 1))
    assert not is_provisional(D(2026, 12, 31))
    assert span_is_provisional(D(2026, 12, 1), D(2027, 1, 1))
    assert span_is_provisional(D(2027, 1, 1), D(2026, 12, 1))
    assert not span_is_provisional(D(2026, 1, 1), D(2026, 12, 31))
    assert add_working_days_detail(D(2026, 12, 31), 0) == (D(2026, 12, 31), False)
    assert add_working_days_detail(D(2027, 1, 4), -1) == (D(2026, 12, 31), True)
    assert working_days_between_detail(D(2026, 12, 1), D(2026, 12, 31)).provisional is False
    assert working_days_between_detail(D(2026, 12, 31), D(2027, 1, 4)) == (1, True)
    assert is_provisional(D(2003, 5, 1))  # before the table: the same fallback


def test_2027_fallback_holidays():
    holidays = statutory_holidays(2027)
    assert LunarDate(2027, 1, 1).to_solar_date() == D(2027, 2, 6)
    expected = {
        D(2027, 1, 1): "元旦",
        D(2027, 2, 5): "春节",  # 除夕
        D(2027, 2, 6): "春节",
        D(2027, 2, 7): "春节",
        D(2027, 2, 8): "春节",
        D(2027, 4, 5): "清明节",
        D(2027, 5, 1): "劳动节",
        D(2027, 5, 2): "劳动节",
        D(2027, 6, 9): "端午节",
        D(2027, 9, 15): "中秋节",
        D(2027, 10, 1): "国庆节",
        D(2027, 10, 2): "国庆节",
        D(2027, 10, 3): "国庆节",
    }
    assert holidays == expected
    for day in (D(2027, 2, 5), D(2027, 2, 8), D(2027, 4, 5), D(2027, 6, 9), D(2027, 9, 15)):
        assert not is_working_day(day), day
        assert day_info(day).provisional
    assert is_working_day(D(2027, 2, 4))
    assert is_working_day(D(2027, 2, 9))  # no 补假/调休 is guessed
    assert year_working_days(2027) == 261 - 7  # Mon–Fri minus the 7 holidays on weekdays
    assert day_info(D(2027, 9, 15)).name == "中秋节"


@settings(max_examples=60, deadline=None)
@given(year=st.integers(2004, 2026))
def test_fallback_formulas_agree_with_history(year):
    """The computed dates are days off in every published schedule 2004–2026, for the parts of
    the rule that held then: 元旦, lunar 1/1–1/3, 1–3 Oct, 1 May; 清明/端午/中秋 from 2008 (when
    they became holidays); 劳动节 2 May before 2008 and from 2025; 除夕 from 2025. A weekend day
    counts as off unless it is a make-up working day (the package omits some weekend holidays,
    e.g. 端午 on Saturday 23 June 2012)."""
    computed = statutory_holidays(year)
    new_year = LunarDate(year, 1, 1).to_solar_date()
    must = [D(year, 1, 1), D(year, 5, 1), D(year, 10, 1), D(year, 10, 2), D(year, 10, 3)]
    must += [new_year + dt.timedelta(days=i) for i in range(3)]
    if year >= 2008:
        must += [day for day, name in computed.items() if name in ("清明节", "端午节", "中秋节")]
    if year < 2008 or year >= 2025:
        must.append(D(year, 5, 2))
    if year >= 2025:
        must.append(new_year - dt.timedelta(days=1))
    assert set(must) <= set(computed)
    for day in must:
        assert not chinese_calendar.is_workday(day), (day, computed[day])
    if year >= 2008:
        qingming = workdays.qingming(year)
        assert chinese_calendar.holidays.get(qingming) == "Tomb-sweeping Day", qingming


def test_qingming_formula_matches_known_dates():
    known = {2008: 4, 2012: 4, 2016: 4, 2019: 5, 2020: 4, 2023: 5, 2024: 4, 2026: 5, 2027: 5}
    for year, day in known.items():
        assert workdays.qingming(year) == D(year, 4, day)


# --- import_holidays -----------------------------------------------------------------------------

GOOD_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-02-05,休,春节
2027-02-06,休,春节
2027-02-07,休,春节
2027-02-08,休,春节
2027-02-09,休,春节
2027-02-10,休,春节
2027-02-11,休,春节
2027-02-12,休,春节
2027-02-20,班,春节
2027-04-05,holiday,清明节
2027-06-09,holiday,端午节
2027-09-15,holiday,中秋节
2027-10-01,holiday,国庆节
2027-10-04,holiday,国庆节
2027-10-05,holiday,国庆节
2027-10-09,workday,国庆节
"""


def _write(tmp_path, text: str, name: str = "schedule.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_makes_a_year_final(tmp_path):
    assert is_provisional(D(2027, 2, 9))
    assert is_working_day(D(2027, 2, 9))
    path = _write(tmp_path, "\ufeff" + GOOD_2027)  # with a BOM, as Excel writes it
    call_command(
        "import_holidays", str(path), "--year", "2027", "--document", "国办发明电〔2026〕9号"
    )
    year = CalendarYear.objects.get(year=2027)
    assert (year.official, year.source, year.document) == (True, "import", "国办发明电〔2026〕9号")
    assert CalendarDay.objects.filter(date__year=2027).count() == 19
    assert not is_provisional(D(2027, 2, 9))
    assert not is_working_day(D(2027, 2, 9))
    assert is_working_day(D(2027, 2, 20))  # Saturday, 班
    assert is_working_day(D(2027, 5, 3))  # not in the file: plain Monday
    assert add_working_days_detail(D(2026, 12, 31), 1) == (D(2027, 1, 4), False)
    assert not span_is_provisional(D(2027, 1, 1), D(2027, 12, 31))
    assert day_info(D(2027, 10, 9)) == workdays.DayInfo(D(2027, 10, 9), True, "国庆节", False)

    # A second import replaces the year's rows.
    path = _write(tmp_path, "date,kind,name\n2027-01-01,holiday,元旦\n", "again.csv")
    call_command("import_holidays", str(path))
    assert list(CalendarDay.objects.filter(date__year=2027).values_list("date", flat=True)) == [
        D(2027, 1, 1)
    ]
    assert is_working_day(D(2027, 2, 9))
    assert CalendarYear.objects.get(year=2027).document == ""


def test_bad_csv_imports_nothing_and_reports_every_line(tmp_path):
    text = (
        "date,kind,name\n"
        "2027-01-01,holiday,元旦\n"  # line 2: fine
        "2027-02-30,holiday,春节\n"  # line 3: no such date
        "2028-01-01,holiday,元旦\n"  # line 4: wrong year
        "2027-01-01,holiday,元旦\n"  # line 5: duplicate of line 2
        "2027-02-20,rest,春节\n"  # line 6: bad kind
        "2027/10/01,holiday,国庆节\n"  # line 7: bad date format
    )
    path = _write(tmp_path, text)
    with pytest.raises(CommandError) as excinfo:
        call_command("import_holidays", str(path), "--year", "2027")
    message = str(excinfo.value)
    assert "nothing imported" in message
    for line in ("line 3:", "line 4:", "line 5:", "line 6:", "line 7:"):
        assert line in message
    assert "line 2:" not in message
    assert "already given on line 2" in message
    assert not CalendarDay.objects.filter(date__year=2027).exists()
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert is_provisional(D(2027, 1, 1))


def test_csv_must_hold_one_year_and_a_header(tmp_path):
    mixed = _write(tmp_path, "date,kind,name\n2027-01-01,休,元旦\n2028-01-01,休,元旦\n")
    with pytest.raises(CommandError, match="several years"):
        call_command("import_holidays", str(mixed))
    headless = _write(tmp_path, "2027-01-01,休,元旦\n", "headless.csv")
    with pytest.raises(CommandError, match="line 1: expected the header"):
        call_command("import_holidays", str(headless))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_holidays", str(tmp_path / "missing.csv"))
    assert not CalendarYear.objects.filter(year__gte=2027).exists()


def test_import_keeps_existing_rows_on_error(tmp_path):
    before = list(CalendarDay.objects.filter(date__year=2026).values_list("date", "kind"))
    path = _write(tmp_path, "date,kind,name\n2026-01-01,holiday,元旦\n2026-13-01,holiday,x\n")
    with pytest.raises(CommandError):
        call_command("import_holidays", str(path))
    assert list(CalendarDay.objects.filter(date__year=2026).values_list("date", "kind")) == before
    assert CalendarYear.objects.get(year=2026).source == "package"


def test_from_package_resyncs_and_respects_imported_years(tmp_path):
    CalendarDay.objects.filter(date=D(2026, 2, 14)).delete()
    CalendarYear.objects.filter(year=2025).update(source="manual")
    CalendarDay.objects.filter(date=D(2025, 1, 26)).delete()  # a make-up Sunday
    call_command("import_holidays", "--from-package")
    assert is_working_day(D(2026, 2, 14))
    assert not is_working_day(D(2025, 1, 26))  # manual year skipped
    call_command("import_holidays", "--from-package", "--year", "2025", "--force")
    assert is_working_day(D(2025, 1, 26))
    assert year_working_days(2026) == 248


# --- Cache and invalidation --------------------------------------------------------------------


def test_orm_edits_are_seen_immediately():
    day = D(2026, 2, 16)
    assert not is_working_day(day)
    row = CalendarDay.objects.get(date=day)
    row.kind = CalendarDay.Kind.WORKDAY
    row.save()
    assert is_working_day(day)
    row.delete()
    assert is_working_day(day)  # a Monday with no row
    CalendarDay.objects.create(date=day, kind=CalendarDay.Kind.HOLIDAY, name="春节")
    assert not is_working_day(day)

    assert not is_working_day(D(2027, 1, 1))
    CalendarYear.objects.create(year=2027, official=True, source="manual")
    assert not is_provisional(D(2027, 1, 1))
    assert is_working_day(D(2027, 1, 1))  # official and no rows: plain Friday


def test_rolled_back_edits_are_forgotten():
    day = D(2026, 2, 14)
    assert is_working_day(day)
    with pytest.raises(RuntimeError), transaction.atomic():
        CalendarDay.objects.filter(date=day).get().delete()
        assert not is_working_day(day)
        raise RuntimeError("roll back")
    assert is_working_day(day)


def test_other_processes_see_changes_through_the_cache_version(settings):
    settings.WORKDAYS_VERSION_CHECK_SECONDS = 0
    day = D(2026, 2, 14)
    assert is_working_day(day)
    # Another process changed the row (no signal here) and bumped the shared version.
    CalendarDay.objects.filter(date=day).update(kind=CalendarDay.Kind.HOLIDAY)
    assert is_working_day(day)  # still the cached table
    cache.incr(workdays.VERSION_KEY)
    assert not is_working_day(day)
    # A cleared cache also forces a reload.
    CalendarDay.objects.filter(date=day).update(kind=CalendarDay.Kind.WORKDAY)
    cache.clear()
    assert is_working_day(day)


def test_queries_per_year(django_assert_max_num_queries, django_assert_num_queries):
    with django_assert_max_num_queries(3):  # years' status + 2026 rows + 2027 rows
        assert add_working_days(D(2026, 1, 5), 250) > D(2026, 12, 31)
    with django_assert_num_queries(0):
        add_working_days(D(2026, 3, 2), 250)
        working_days_between(D(2026, 1, 1), D(2027, 6, 30))
        is_working_day(D(2026, 10, 8))
    workdays.invalidate()
    with django_assert_max_num_queries(1 + 23):
        assert working_days_between(D(2004, 1, 1), D(2026, 12, 31)) == sum(
            chinese_calendar.is_workday(day) for day in _days(D(2004, 1, 2), D(2026, 12, 31))
        )


# --- The data migration --------------------------------------------------------------------------


def test_seed_migration_is_reversible():
    migration = importlib.import_module("tongban.core.migrations.0002_seed_calendar")
    editor = SimpleNamespace(connection=connection)
    CalendarYear.objects.create(year=2027, official=True, source="import")
    migration.unseed(apps, editor)
    assert list(CalendarYear.objects.values_list("year", flat=True)) == [2027]
    assert not CalendarDay.objects.filter(date__year__lte=2026).exists()
    migration.seed(apps, editor)
    workdays.invalidate()
    assert CalendarYear.objects.count() == 24
    assert year_working_days(2026) == 248
