"""Transactional tests (the browser tests) flush every table when they end; the working-day
table seeded by migration must be back for the tests after them (tests/conftest.py)."""

import datetime

import pytest

from tongban.core import workdays
from tongban.core.models import CalendarYear


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_sees_the_seeded_calendar():
    assert CalendarYear.objects.filter(year=2026, official=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_next_transactional_test_too():
    assert CalendarYear.objects.filter(year=2026, official=True).exists()
    workdays.invalidate()
    assert not workdays.is_working_day(datetime.date(2026, 2, 16))
    assert workdays.year_working_days(2026) == 248


def test_a_plain_test_after_a_flush(db):
    assert CalendarYear.objects.filter(year=2026, official=True).exists()
    workdays.invalidate()
    assert workdays.is_working_day(datetime.date(2026, 2, 14))  # make-up Saturday
    assert not workdays.add_working_days_detail(datetime.date(2026, 2, 13), 1).provisional
