"""seed_load's generator: rows consistent with the lifecycle table, the clock and the scopes."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.catalog.factories import make_item
from tongban.cases import lifecycle, load
from tongban.cases.models import ONLINE_CHANNELS, Case, CaseEvent, Status
from tongban.catalog import acceptance
from tongban.core import workdays
from tongban.core.validators import validate_resident_id, validate_uscc

TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def items(world):
    return [
        make_item(world, "甲事项", department=world.market_dept, scope="citywide"),
        make_item(world, "乙事项", department=world.market_dept, promised=10),
        make_item(
            world,
            "丙事项",
            department=world.market_dept,
            steps=[("accept", "受理", "window_clerk", 1), ("review", "审核", "reviewer", 1)],
            case_kind="immediate",
            promised=0,
            legal=None,
        ),
    ]


def test_paths_follow_the_transition_table():
    for status in load.PATHS:
        for window in (False, True):
            for two in (False, True):
                if (status == Status.PRE_REVIEW and window) or (
                    status == Status.APPROVAL and not two
                ):
                    continue  # generate() maps these to received / in_review
                current = Status.DRAFT
                for action, src, dst, _code, _role in load.path_for(
                    status, window=window, two_levels=two
                ):
                    assert src == current
                    assert any(t.target == dst for t in lifecycle.steps_for(action, src))
                    current = dst
                assert current == status


def test_workday_index_matches_the_calendar(db):
    index = load.WorkdayIndex(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert len(index.days) == workdays.year_working_days(2026) == 248
    for day in (dt.date(2026, 2, 13), dt.date(2026, 2, 14), dt.date(2026, 9, 30), TODAY):
        for n in (0, 1, 5, 20):
            assert index.add(day, n) == workdays.add_working_days(day, n)


def test_generated_cases_are_consistent(world, items):
    result = load.generate(
        1500, writer=load.OrmWriter(), today=TODAY, batch=400, log=lambda m: None
    )
    assert result.cases == Case.objects.count() == 1500
    assert result.events == CaseEvent.objects.count()
    online = Case.objects.filter(channel__in=ONLINE_CHANNELS).count()
    assert online / 1500 > 0.85
    assert set(Case.objects.values_list("status", flat=True)) == set(load.PATHS)
    for case in Case.objects.select_related("item", "center", "applicant")[:300]:
        events = list(case.events.order_by("at", "pk"))
        assert (events[-1].to_status if events else Status.DRAFT) == case.status
        if case.accepted_on:
            assert workdays.is_working_day(case.accepted_on)
            assert case.due_date == workdays.add_working_days(case.accepted_on, case.limit_days)
        assert acceptance.can_accept_at(case.item, case.center, TODAY)
        a = case.applicant
        if a.kind == "natural":
            validate_resident_id(a.id_number)
        else:
            validate_uscc(a.uscc)
    assert Case.objects.filter(colour="red").exists()
    assert Case.objects.values("number").distinct().count() == 1500


def test_command_needs_the_demo_world(db):
    with pytest.raises(CommandError):
        call_command("seed_load", "--cases", "10")
