"""The back office's keyset worklists: ``GET /api/v1/worklist`` and ``/worklist/overdue``."""

# ruff: noqa: F811  (the api and media fixtures are imported from test_api_support)
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cases.test_api_support import api, media, paper_case  # noqa: F401
from tests.catalog.factories import make_item
from tongban.api import keyset
from tongban.cases import selectors, services
from tongban.cases.models import OPEN_STATUSES, Case, Status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def item(world):
    return make_item(world, "食品经营许可", department=world.market_dept)


def accepted(world, item, n: int) -> list[Case]:
    cases = []
    for _ in range(n):
        case = paper_case(world, item, "city_clerk", "enterprise")
        cases.append(services.accept(case, world.user("city_clerk")))
    return cases


def spread_due_dates(cases: list[Case], start: dt.date) -> None:
    for k, case in enumerate(cases):  # two cases share each date: ties are settled by id
        Case.objects.filter(pk=case.pk).update(due_date=start + dt.timedelta(days=k // 2))


def walk(api, url: str, as_: str) -> list[str]:
    numbers, cursor = [], None
    for _ in range(50):
        answer = api.get(url + (f"&cursor={cursor}" if cursor else ""), as_=as_)
        assert answer.status_code == 200, answer.json()
        body = answer.json()
        numbers += [row["number"] for row in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return numbers
    raise AssertionError("the pages never ended")


def test_pages_follow_the_deadline_and_cover_every_open_case_once(api, world, item):
    cases = accepted(world, item, 7)
    spread_due_dates(cases, services.today() + dt.timedelta(days=3))
    numbers = walk(api, "/worklist?view=open&limit=2", "reviewer")
    expected = list(
        Case.objects.filter(pk__in=[c.pk for c in cases])
        .order_by("due_date", "pk")
        .values_list("number", flat=True)
    )
    assert numbers == expected


def test_the_worklist_is_the_callers_department_only(api, world, item):
    accepted(world, item, 2)
    other = make_item(world, "医疗机构执业登记", department=world.health_dept)
    foreign = paper_case(world, other, "city_clerk", "enterprise")
    services.accept(foreign, world.user("city_clerk"))
    numbers = walk(api, "/worklist?limit=50", "reviewer")
    assert len(numbers) == 2 and foreign.number not in numbers


def test_views_mine_unclaimed_and_approval(api, world, item):
    first, second = accepted(world, item, 2)
    services.start_review(first, world.user("reviewer"))
    assert walk(api, "/worklist?view=mine", "reviewer") == [first.number]
    assert walk(api, "/worklist?view=unclaimed", "reviewer") == [second.number]
    assert walk(api, "/worklist?view=approval", "approver") == []
    denied = api.get("/worklist?view=approval", as_="reviewer")
    assert denied.status_code == 403


@pytest.mark.parametrize("who", ["citizen", "city_clerk", "supervisor", "catalog_admin"])
def test_only_the_back_office_has_a_department_worklist(api, world, who):
    assert api.get("/worklist", as_=who).status_code == 403


def test_anonymous_is_401(api):
    assert api.get("/worklist").status_code == 401
    assert api.get("/worklist/overdue").status_code == 401


def test_overdue_lists_red_cases_most_overdue_first(api, world, item):
    late, later, on_time, paused = accepted(world, item, 4)
    today = services.today()
    Case.objects.filter(pk=late.pk).update(due_date=today - dt.timedelta(days=5))
    Case.objects.filter(pk=later.pk).update(due_date=today - dt.timedelta(days=1))
    Case.objects.filter(pk=on_time.pk).update(due_date=today + dt.timedelta(days=5))
    Case.objects.filter(pk=paused.pk).update(
        due_date=today - dt.timedelta(days=9), status=Status.SUPPLEMENT
    )
    for who in ("reviewer", "city_clerk", "supervisor", "center_admin"):
        assert walk(api, "/worklist/overdue?limit=1", who) == [late.number, later.number], who
    assert walk(api, "/worklist/overdue", "town_clerk") == []  # another center's cases


@pytest.mark.parametrize("who", ["citizen", "enterprise", "catalog_admin", "auditor"])
def test_overdue_is_for_staff(api, world, who):
    assert api.get("/worklist/overdue", as_=who).status_code == 403


@pytest.mark.parametrize(
    "cursor", ["nonsense", "MjAyNi0xMy0wMS41", keyset.encode(dt.date.today(), 1)[:-3] + "@@@"]
)
def test_a_bad_cursor_is_422(api, world, cursor):
    answer = api.get(f"/worklist?cursor={cursor}", as_="reviewer")
    assert answer.status_code == 422
    assert answer.json()["code"] in ("invalid_cursor", "invalid")


def test_rows_are_masked(api, world, item):
    accepted(world, item, 1)
    row = api.get("/worklist", as_="reviewer").json()["items"][0]
    assert "*" in row["contact_mobile"]


@pytest.mark.parametrize("url", ["/worklist?limit=50", "/worklist/overdue?limit=50"])
def test_query_count_does_not_grow_with_the_rows(api, world, item, url, settings):
    settings.WORKDAYS_VERSION_CHECK_SECONDS = 3600  # no calendar re-check between the calls
    today = services.today()
    counts = []
    for n in (1, 5):
        cases = accepted(world, item, n)
        Case.objects.filter(pk__in=[c.pk for c in cases]).update(
            due_date=today - dt.timedelta(days=2)
        )
        api.get(url, as_="reviewer")  # the token, warm
        with CaptureQueriesContext(connection) as queries:
            answer = api.get(url, as_="reviewer")
        assert len(answer.json()["items"]) == Case.objects.count()
        counts.append([q["sql"][:120] for q in queries.captured_queries])
    assert len(counts[0]) == len(counts[1]), counts


def test_the_open_scope_is_the_full_scope_restricted_to_open_cases(world, item):
    """open_scope_q (written for the indexes) must say what scope_q says about open cases."""
    accepted(world, item, 2)
    draft = paper_case(world, item, "city_clerk", "enterprise", received=False)
    assert draft.status == Status.DRAFT
    for key in (
        "reviewer",
        "approver",
        "city_clerk",
        "town_clerk",
        "center_admin",
        "town_admin",
        "supervisor",
        "agent",
        "citizen",
        "enterprise",
        "catalog_admin",
    ):
        user = world.user(key)
        full = set(
            Case.objects.filter(selectors.scope_q(user), status__in=OPEN_STATUSES).values_list(
                "pk", flat=True
            )
        )
        fast = set(Case.objects.filter(selectors.open_scope_q(user)).values_list("pk", flat=True))
        assert full == fast, key
