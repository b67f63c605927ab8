"""The time-limit clock (clock.py) on the real 2026 calendar in the database.

Steps are taken through the services on chosen dates (``services.now`` / ``services.today``
monkeypatched); every expected date below is counted by hand from the GLOSSARY's 2026 schedule:
holidays 1–3 Jan, 15–23 Feb, 4–6 Apr, 1–5 May, 19–21 Jun, 25–27 Sep, 1–7 Oct; make-up working days
4 Jan (Sun), 14 Feb (Sat), 28 Feb (Sat), 9 May (Sat), 20 Sep (Sun), 10 Oct (Sat). The day of
acceptance does not count.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.cases.factories import upload
from tests.cases.test_lifecycle import walk
from tests.catalog.factories import make_item
from tongban.cases import clock, services
from tongban.cases.models import Case, Colour, Status
from tongban.core import workdays
from tongban.core.models import CalendarYear
from tongban.notify.models import Notification

pytestmark = pytest.mark.django_db

D = dt.date
S = Status


class Calendar:
    """Sets the services' clock to a chosen local day (10:00 Beijing time unless told)."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def set(self, day: dt.date, hour: int = 10, minute: int = 0) -> None:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
        self.monkeypatch.setattr(services, "now", lambda: moment)
        self.monkeypatch.setattr(services, "today", lambda: day)


@pytest.fixture
def on(monkeypatch) -> Calendar:
    return Calendar(monkeypatch)


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def accepted(world, on: Calendar, day: dt.date, *, promised: int = 5, hour: int = 10, **kw):
    """A one-level case (the reviewer decides), nothing to follow, accepted on ``day``."""
    item = make_item(world, promised=promised, steps=_steps(promised), **kw)
    case = walk(world, S.PRE_REVIEW, item=item, follow=False)
    on.set(day, hour)
    services.accept(case, world.user("city_clerk"))
    return fresh(case)


def _steps(promised: int):
    days = 0 if promised == 0 else 1
    return [
        ("accept", "受理", "window_clerk", days),
        ("review", "审核", "reviewer", days),
        ("decide", "审核决定", "reviewer", days),
        ("conclude", "办结", "reviewer", days),
        ("deliver", "送达", "window_clerk", days),
    ]


def in_review(world, on: Calendar, day: dt.date, **kw) -> Case:
    case = accepted(world, on, day, **kw)
    services.start_review(case, world.user("reviewer"))
    return fresh(case)


def test_the_2026_calendar_is_the_official_one():
    year = CalendarYear.objects.get(year=2026)
    assert year.official
    assert workdays.year_working_days(2026) == 248
    assert not CalendarYear.objects.filter(year=2027).exists()


# --------------------------------------------------------------------------------------------
# Deadlines


@pytest.mark.parametrize(
    ("promised", "due"),
    [
        # Fri 13 Feb: Sat 14 (make-up) is 1, 15–23 skipped, 24, 25, 26, 27 are 2–5
        (5, D(2026, 2, 27)),
        (6, D(2026, 2, 28)),  # the make-up Saturday 28 Feb is the 6th
        (7, D(2026, 3, 2)),
        (1, D(2026, 2, 14)),
        (2, D(2026, 2, 24)),
    ],
)
def test_deadline_across_the_spring_festival(world, on, promised, due):
    case = accepted(world, on, D(2026, 2, 13), promised=promised)
    assert case.accepted_on == D(2026, 2, 13)
    assert case.limit_days == promised
    assert case.due_date == due
    assert case.due_provisional is False
    assert case.case_kind == "promised"
    event = case.events.get(action="accept")
    assert event.data["due_date"] == due.isoformat()
    assert event.code == 3


@pytest.mark.parametrize(
    ("day", "promised", "due"),
    [
        (D(2026, 2, 26), 2, D(2026, 2, 28)),  # Thu: Fri 27, Sat 28 (make-up)
        (D(2026, 4, 30), 4, D(2026, 5, 9)),  # 1–5 May off: 6, 7, 8, Sat 9 (make-up)
        (D(2026, 4, 30), 5, D(2026, 5, 11)),
        (D(2026, 9, 30), 3, D(2026, 10, 10)),  # 1–7 Oct off: 8, 9, Sat 10 (make-up)
        (D(2026, 9, 30), 5, D(2026, 10, 13)),
        (D(2026, 9, 18), 2, D(2026, 9, 21)),  # Fri 18: Sun 20 (make-up), Mon 21
        (D(2025, 12, 31), 2, D(2026, 1, 5)),  # 1–3 Jan off: Sun 4 (make-up), Mon 5
    ],
)
def test_make_up_days_are_counted(world, on, day, promised, due):
    case = accepted(world, on, day, promised=promised)
    assert case.accepted_on == day
    assert case.due_date == due


@pytest.mark.parametrize(
    ("day", "hour", "accepted_on", "due"),
    [
        (D(2026, 3, 7), 10, D(2026, 3, 9), D(2026, 3, 16)),  # Saturday → Monday
        (D(2026, 3, 8), 0, D(2026, 3, 9), D(2026, 3, 16)),  # Sunday 00:30 Beijing (Sat UTC)
        (D(2026, 2, 17), 10, D(2026, 2, 24), D(2026, 3, 2)),  # in the Spring Festival
        (D(2026, 2, 14), 10, D(2026, 2, 14), D(2026, 2, 28)),  # a make-up Saturday works
        (D(2026, 3, 6), 23, D(2026, 3, 6), D(2026, 3, 13)),  # Fri 23:30 Beijing = 15:30 UTC
        (D(2026, 11, 28), 10, D(2026, 11, 30), D(2026, 12, 7)),  # "today", a Saturday
    ],
)
def test_acceptance_on_a_day_off_is_dated_the_next_working_day(
    world, monkeypatch, day, hour, accepted_on, due
):
    on = Calendar(monkeypatch)
    item = make_item(world, promised=5, steps=_steps(5))
    case = walk(world, S.PRE_REVIEW, item=item, follow=False)
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 30)))
    monkeypatch.setattr(services, "now", lambda: moment)
    monkeypatch.setattr(services, "today", lambda: day)
    services.accept(case, world.user("city_clerk"))
    case = fresh(case)
    assert case.accepted_at == moment
    assert case.accepted_on == accepted_on
    assert case.due_date == due
    del on


@pytest.mark.parametrize(
    ("day", "due"),
    [
        (D(2026, 3, 4), D(2026, 3, 4)),  # a Wednesday: the same day
        (D(2026, 11, 28), D(2026, 11, 30)),  # a Saturday: Monday
        (D(2026, 10, 3), D(2026, 10, 8)),  # National Day: the first working day after it
        (D(2026, 10, 10), D(2026, 10, 10)),  # a make-up Saturday: that day
    ],
)
def test_immediate_case_is_due_the_same_working_day(world, on, day, due):
    case = accepted(world, on, day, promised=0)
    assert case.case_kind == "immediate"
    assert case.limit_days == 0
    assert case.accepted_on == case.due_date == due
    # due today: at most one working day left, so it is yellow from the start
    assert case.colour == Colour.YELLOW


def test_green_channel_is_copied_from_the_version(world, on):
    case = accepted(world, on, D(2026, 3, 2), green_channel=True)
    assert case.green_channel is True


# --------------------------------------------------------------------------------------------
# Pauses (补正, 特别程序) and the extension


def _supplement(world, case: Case) -> None:
    services.add_upload(
        case, world.user("enterprise"), material_id=None, upload=upload("补正材料.pdf")
    )
    services.supplement(case, world.user("enterprise"))


def test_supplement_pause_adds_the_working_days_it_stood_still(world, on):
    case = in_review(world, on, D(2026, 3, 2))  # Mon; due Mon 9 Mar
    assert case.due_date == D(2026, 3, 9)
    on.set(D(2026, 3, 3))
    services.request_supplement(case, world.user("reviewer"), items=["补充平面图"])
    case = fresh(case)
    assert case.status == S.SUPPLEMENT
    assert case.paused_since == D(2026, 3, 3)
    assert case.supplement_due == D(2026, 3, 13)  # 10 calendar days for mailed materials
    assert case.colour == Colour.PAUSED
    assert case.due_date == D(2026, 3, 9)  # unchanged while paused
    # the time left is frozen at the pause day: (3 Mar, 9 Mar] = 4
    for later in (D(2026, 3, 4), D(2026, 3, 20), D(2026, 4, 30)):
        assert clock.remaining(case, later) == 4
        assert clock.colour(case, later) == Colour.PAUSED
    on.set(D(2026, 3, 5))
    _supplement(world, case)
    case = fresh(case)
    assert case.status == S.IN_REVIEW
    assert case.paused_since is None and case.supplement_due is None
    assert case.paused_days == 2  # Wed 4, Thu 5
    assert case.due_date == D(2026, 3, 11)
    assert case.events.get(action="supplement").data["days_added"] == 2
    assert case.events.get(action="supplement").code == 7
    assert case.events.get(action="request_supplement").code == 6


def test_special_procedure_pause(world, on):
    case = in_review(world, on, D(2026, 3, 2))
    on.set(D(2026, 3, 6))  # Fri
    services.start_special(case, world.user("reviewer"), kind="expert_review", reason="专家评审")
    assert fresh(case).colour == Colour.PAUSED
    on.set(D(2026, 3, 9))  # Mon: (Fri 6, Mon 9] = 1
    services.end_special(case, world.user("reviewer"))
    case = fresh(case)
    assert (case.paused_days, case.due_date) == (1, D(2026, 3, 10))
    event = case.events.get(action="end_special")
    assert (event.code, event.data["days_added"]) == (10, 1)
    assert case.events.get(action="start_special").code == 9


def test_pauses_add_up(world, on):
    case = in_review(world, on, D(2026, 3, 2))  # due 9 Mar
    on.set(D(2026, 3, 3))
    services.request_supplement(case, world.user("reviewer"), items=["补充平面图"])
    on.set(D(2026, 3, 5))
    _supplement(world, case)  # +2 → 11 Mar
    on.set(D(2026, 3, 6))
    services.start_special(case, world.user("reviewer"), kind="hearing", reason="听证")
    on.set(D(2026, 3, 9))
    services.end_special(case, world.user("reviewer"))  # +1 → 12 Mar
    case = fresh(case)
    assert (case.paused_days, case.due_date) == (3, D(2026, 3, 12))


def test_a_pause_that_ends_the_day_it_starts_adds_nothing(world, on):
    case = in_review(world, on, D(2026, 3, 2))
    on.set(D(2026, 3, 3), hour=9)
    services.request_supplement(case, world.user("reviewer"), items=["补充平面图"])
    on.set(D(2026, 3, 3), hour=16)
    _supplement(world, case)
    case = fresh(case)
    assert (case.paused_days, case.due_date) == (0, D(2026, 3, 9))
    assert case.events.get(action="supplement").data["days_added"] == 0


def test_a_pause_across_the_spring_festival(world, on):
    case = in_review(world, on, D(2026, 2, 12))  # Thu; 13, 14, 24, 25, 26 → due 26 Feb
    assert case.due_date == D(2026, 2, 26)
    on.set(D(2026, 2, 13))
    services.request_supplement(case, world.user("reviewer"), items=["补充平面图"])
    on.set(D(2026, 2, 25))  # (13 Feb, 25 Feb] = Sat 14, 24, 25
    _supplement(world, case)
    case = fresh(case)
    assert case.paused_days == 3
    # 8 working days after 12 Feb: 13, 14, 24, 25, 26, 27, Sat 28, Mon 2 Mar
    assert case.due_date == D(2026, 3, 2)


def test_a_special_procedure_across_labour_day(world, on):
    case = in_review(world, on, D(2026, 4, 28))  # Tue; 29, 30, 6 May, 7, 8 → due 8 May
    assert case.due_date == D(2026, 5, 8)
    on.set(D(2026, 4, 29))
    services.start_special(case, world.user("reviewer"), kind="testing", reason="检测")
    on.set(D(2026, 5, 7))  # (29 Apr, 7 May] = 30 Apr, 6 May, 7 May
    services.end_special(case, world.user("reviewer"))
    case = fresh(case)
    assert case.paused_days == 3
    # 8 after 28 Apr: 29, 30, 6, 7, 8, Sat 9, 11, 12
    assert case.due_date == D(2026, 5, 12)


def test_a_pause_begun_before_the_dated_acceptance_day(world, on):
    """Accepted on Saturday 7 Mar (dated Monday 9), a 补正 requested the same Saturday and
    answered on Monday stopped no counted day: Monday is the acceptance day, which never counts."""
    case = in_review(world, on, D(2026, 3, 7))
    assert (case.accepted_on, case.due_date) == (D(2026, 3, 9), D(2026, 3, 16))
    services.request_supplement(case, world.user("reviewer"), items=["补充平面图"])
    on.set(D(2026, 3, 9))
    _supplement(world, case)
    case = fresh(case)
    assert (case.paused_days, case.due_date) == (0, D(2026, 3, 16))
    # answered on Tuesday instead: one day (Tue 10) stood still
    other = in_review(world, on, D(2026, 3, 7))
    services.request_supplement(other, world.user("reviewer"), items=["补充平面图"])
    on.set(D(2026, 3, 10))
    _supplement(world, other)
    other = fresh(other)
    assert (other.paused_days, other.due_date) == (1, D(2026, 3, 17))


def test_extension_adds_its_working_days(world, on):
    case = in_review(world, on, D(2026, 3, 2))
    on.set(D(2026, 3, 6))
    services.extend(case, world.user("approver"), days=10, reason="需组织专家论证")
    case = fresh(case)
    # 15 working days after Mon 2 Mar: 3–6 (4), 9–13 (9), 16–20 (14), 23 (15)
    assert (case.extension_days, case.due_date) == (10, D(2026, 3, 23))
    event = case.events.get(action="extend")
    assert (event.data["days"], event.data["due_date"]) == (10, "2026-03-23")
    assert case.colour == Colour.GREEN  # was going to be yellow on the 6th


def test_extension_during_a_pause_and_across_qingming(world, on):
    case = in_review(world, on, D(2026, 4, 1))  # Wed; 2, 3, 7, 8, 9 → due 9 Apr
    assert case.due_date == D(2026, 4, 9)
    on.set(D(2026, 4, 2))
    services.request_supplement(case, world.user("reviewer"), items=["补充平面图"])
    services.extend(case, world.user("approver"), days=3, reason="联合踏勘")
    case = fresh(case)
    assert case.due_date == D(2026, 4, 14)  # 8 after 1 Apr: ... 9, 10, 13, 14
    on.set(D(2026, 4, 7))  # (2 Apr, 7 Apr] = 3, 7 (4–6 Apr off)
    _supplement(world, case)
    case = fresh(case)
    assert case.paused_days == 2
    assert case.due_date == D(2026, 4, 16)


# --------------------------------------------------------------------------------------------
# Into a year the calendar does not know


def test_deadline_into_an_unknown_year_is_provisional(world, on):
    inside = accepted(world, on, D(2026, 12, 24), promised=5)  # Thu: 25, 28, 29, 30, 31
    assert (inside.due_date, inside.due_provisional) == (D(2026, 12, 31), False)
    # 2027 by the fallback: 1 Jan (元旦) off, weekends off, no make-up days
    across = accepted(world, on, D(2026, 12, 24), promised=6)
    assert (across.due_date, across.due_provisional) == (D(2027, 1, 4), True)
    longer = accepted(world, on, D(2026, 12, 24), promised=20)
    # 25, 28–31 (5); 4–8 Jan (10); 11–15 (15); 18–22 (20)
    assert (longer.due_date, longer.due_provisional) == (D(2027, 1, 22), True)
    # the Spring Festival of 2027 by the 2025 regulation: lunar new year Sat 6 Feb, so 除夕
    # Fri 5 Feb and 初一–初三 6–8 Feb are off (no substitute days are guessed)
    spring = accepted(world, on, D(2027, 2, 3), promised=3)
    assert spring.accepted_on == D(2027, 2, 3)
    assert (spring.due_date, spring.due_provisional) == (D(2027, 2, 10), True)  # 4, 9, 10


def test_publishing_the_next_year_makes_a_recomputed_deadline_final(world, on):
    case = in_review(world, on, D(2026, 12, 24), promised=6)
    assert (case.due_date, case.due_provisional) == (D(2027, 1, 4), True)
    # the State Council's schedule for 2027 is imported (here: 1 Jan off and Mon 4 Jan too)
    workdays.replace_year(
        2027,
        [(D(2027, 1, 1), "holiday", "元旦"), (D(2027, 1, 4), "holiday", "元旦")],
        source="test",
        document="国办发明电〔2026〕",
    )
    on.set(D(2026, 12, 28))
    services.extend(case, world.user("approver"), days=1, reason="联合踏勘")
    case = fresh(case)
    # 7 after 24 Dec: 25, 28, 29, 30, 31, Tue 5 Jan, Wed 6 Jan
    assert (case.due_date, case.due_provisional) == (D(2027, 1, 6), False)


# --------------------------------------------------------------------------------------------
# Colours and on-time


@pytest.mark.parametrize(
    ("today", "left", "colour"),
    [
        (D(2026, 3, 2), 5, Colour.GREEN),
        (D(2026, 3, 5), 2, Colour.GREEN),
        (D(2026, 3, 6), 1, Colour.YELLOW),
        (D(2026, 3, 7), 1, Colour.YELLOW),  # Saturday: Monday is still ahead
        (D(2026, 3, 9), 0, Colour.YELLOW),  # the due day itself
        (D(2026, 3, 10), -1, Colour.RED),
        (D(2026, 3, 14), -5, Colour.RED),
    ],
)
def test_colour_by_date(world, on, today, left, colour):
    case = in_review(world, on, D(2026, 3, 2))  # due Mon 9 Mar
    assert clock.remaining(case, today) == left
    assert clock.colour(case, today) == colour


@pytest.mark.parametrize(
    ("yellow_days", "today", "colour"),
    [
        (2, D(2026, 3, 4), Colour.GREEN),  # 3 left
        (2, D(2026, 3, 5), Colour.YELLOW),  # 2 left
        (0, D(2026, 3, 6), Colour.GREEN),  # 1 left
        (0, D(2026, 3, 9), Colour.YELLOW),  # due today
        (0, D(2026, 3, 10), Colour.RED),
    ],
)
def test_yellow_threshold_is_a_setting(world, on, settings, yellow_days, today, colour):
    settings.CASE_YELLOW_DAYS = yellow_days
    case = in_review(world, on, D(2026, 3, 2))
    assert clock.colour(case, today) == colour


@pytest.mark.parametrize(
    ("today", "left", "colour"),
    [
        (D(2026, 2, 13), 4, Colour.GREEN),  # Sat 14, 24, 25, 26
        (D(2026, 2, 14), 3, Colour.YELLOW),  # the make-up Saturday counts as gone
        (D(2026, 2, 20), 3, Colour.YELLOW),  # in the holiday: 24, 25, 26
        (D(2026, 2, 26), 0, Colour.YELLOW),
        (D(2026, 2, 27), -1, Colour.RED),
    ],
)
def test_colours_across_the_spring_festival(world, on, settings, today, left, colour):
    settings.CASE_YELLOW_DAYS = 3
    case = in_review(world, on, D(2026, 2, 12))  # due 26 Feb
    assert case.due_date == D(2026, 2, 26)
    assert clock.remaining(case, today) == left
    assert clock.colour(case, today) == colour


def test_no_colour_before_acceptance_and_after_the_decision(world, on):
    pending = walk(world, S.PRE_REVIEW)
    assert clock.colour(pending, D(2026, 3, 2)) == Colour.NONE
    assert clock.remaining(pending) is None
    case = in_review(world, on, D(2026, 3, 2))
    on.set(D(2026, 3, 4))
    services.decide(case, world.user("reviewer"), decision="approved")
    case = fresh(case)
    assert case.colour == Colour.NONE
    assert clock.colour(case, D(2026, 3, 20)) == Colour.NONE


def test_stored_colour_follows_each_step(world, on):
    case = in_review(world, on, D(2026, 3, 2))
    assert case.colour == Colour.GREEN
    on.set(D(2026, 3, 6))
    services.request_supplement(case, world.user("reviewer"), items=["补充平面图"])
    assert fresh(case).colour == Colour.PAUSED
    on.set(D(2026, 3, 20))  # (6, 20 Mar] = 10 days added: due 23 Mar, 1 working day left
    _supplement(world, case)
    case = fresh(case)
    assert case.due_date == D(2026, 3, 23)
    assert case.colour == Colour.YELLOW


@pytest.mark.parametrize(
    ("decided", "on_time"),
    [(D(2026, 3, 9), True), (D(2026, 3, 6), True), (D(2026, 3, 10), False)],
)
def test_on_time(world, on, decided, on_time):
    case = in_review(world, on, D(2026, 3, 2))  # due 9 Mar
    on.set(decided, hour=17)
    services.decide(case, world.user("reviewer"), decision="approved")
    case = fresh(case)
    assert clock.on_time(case) is on_time
    assert case.events.get(action="approve").data["on_time"] is on_time


def test_on_time_counts_the_pauses(world, on):
    case = in_review(world, on, D(2026, 3, 2))  # due 9 Mar
    on.set(D(2026, 3, 3))
    services.request_supplement(case, world.user("reviewer"), items=["补充平面图"])
    on.set(D(2026, 3, 5))
    _supplement(world, case)  # due 11 Mar
    on.set(D(2026, 3, 11), hour=18)
    services.decide(case, world.user("reviewer"), decision="approved")
    assert clock.on_time(fresh(case)) is True


def test_on_time_is_none_without_a_decision(world, on):
    case = in_review(world, on, D(2026, 3, 2))
    assert clock.on_time(case) is None


def test_a_step_that_turns_the_light_alerts_once(world, on):
    """An immediate case is yellow on acceptance: the department's reviewers are told then."""
    case = accepted(world, on, D(2026, 3, 4), promised=0)
    alerts = Notification.objects.filter(case=case, kind="case_yellow")
    assert [n.user.username for n in alerts] == ["reviewer"]
    services.start_review(case, world.user("reviewer"))  # still yellow: no second alert
    assert alerts.count() == 1
