"""The Dongguan demo's year of cases (cases/demo.py), built small on the demo organization and
catalog: every status, over 85 % online, red and yellow lights, events that follow the
transition table, deadlines that are what clock.py computes, centers inside the items'
acceptance scope, the demo accounts' cases and work, and a second run that adds nothing."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from tongban.accounts.models import Applicant
from tongban.cases import clock, lifecycle, selectors
from tongban.cases import demo as cases_demo
from tongban.cases.models import (
    ONLINE_CHANNELS,
    Case,
    CaseEvent,
    CaseMaterial,
    CaseNotice,
    Status,
)
from tongban.cases.services import ROLE_OF_ACTOR, resolve_department
from tongban.catalog import acceptance, ledger
from tongban.catalog import demo as catalog_demo
from tongban.core import workdays
from tongban.core.models import AuditEvent
from tongban.notify.models import Notification
from tongban.org import demo as org_demo
from tongban.registry.models import Licence

pytestmark = pytest.mark.django_db

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TODAY = date(2026, 11, 28)  # a Saturday
SIZE = 500
LOCAL = ZoneInfo("Asia/Shanghai")
STAFF_ROLES = ("window_clerk", "reviewer", "approver")


@pytest.fixture(scope="module", autouse=True)
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """Organization, catalog and a small year of cases, once for the module, in a transaction
    rolled back at the end; each test runs in a savepoint inside it."""
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    media.enable()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        with override_settings(PASSWORD_HASHERS=FAST_HASHER):
            org_demo.seed("dongguan")
        catalog_demo.seed("dongguan", index=False)
        result = cases_demo.seed("dongguan", size=SIZE, today=TODAY)
    try:
        yield result
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
        media.disable()


def _events_by_case() -> dict[int, list[CaseEvent]]:
    out: dict[int, list[CaseEvent]] = defaultdict(list)
    for e in CaseEvent.objects.order_by("case_id", "at", "pk"):
        out[e.case_id].append(e)
    return out


# --- The year ---------------------------------------------------------------------------------
def test_a_year_up_to_yesterday(seeded):
    assert not seeded.skipped
    cases = Case.objects.count()
    assert cases >= SIZE  # the random ones and the showcase ones
    first = min(Case.objects.values_list("created_at", flat=True))
    last = max(CaseEvent.objects.values_list("at", flat=True))
    assert first.astimezone(LOCAL).date() >= date(2025, 12, 1)
    assert last.astimezone(LOCAL).date() <= date(2026, 11, 27)
    # spread over the year, not bunched at its end
    months = Counter(c.astimezone(LOCAL).strftime("%Y-%m") for c in
                     Case.objects.values_list("created_at", flat=True))  # fmt: skip
    assert len(months) == 12
    assert min(months.values()) > SIZE / 30  # (the showcase cases are mostly recent)


def test_every_status_is_present():
    present = set(Case.objects.values_list("status", flat=True))
    assert present == set(Status.values)


def test_most_cases_are_finished_and_some_refused_withdrawn_or_denied():
    counts = Counter(Case.objects.values_list("status", flat=True))
    total = sum(counts.values())
    assert (counts[Status.CLOSED] + counts[Status.DELIVERED]) / total > 0.5
    # cases filed before October are (nearly all) over
    old = Case.objects.filter(created_at__lt=datetime(2026, 10, 1, tzinfo=LOCAL))
    over = old.filter(status__in=(*lifecycle.TERMINAL, Status.DELIVERED)).count()
    assert over / old.count() > 0.97
    assert counts[Status.REFUSED] and counts[Status.WITHDRAWN]
    assert Case.objects.filter(decision="denied").count() >= 2


def test_over_85_percent_online():
    channels = Counter(Case.objects.values_list("channel", flat=True))
    online = sum(n for c, n in channels.items() if c in ONLINE_CHANNELS)
    assert online / sum(channels.values()) > 0.85
    assert {"web", "mobile", "window"} <= set(channels)


def test_some_red_and_some_yellow_and_colours_are_the_clocks():
    colours = Counter()
    for case in Case.objects.select_related("version"):
        assert case.colour == clock.colour(case, TODAY), case.number
        colours[case.colour] += 1
    assert colours["red"] >= 3 and colours["yellow"] >= 3
    for case in Case.objects.filter(colour="red"):
        assert case.status in clock.RUNNING and case.due_date < TODAY
    for case in Case.objects.filter(colour="yellow"):
        assert case.status in clock.RUNNING and case.due_date >= TODAY
        assert workdays.working_days_between(TODAY, case.due_date) <= clock.yellow_days()


# --- Consistency with the rules -------------------------------------------------------------
def test_events_follow_the_transition_table():
    rows = {(t.action, s): t for t in lifecycle.TRANSITIONS for s in t.sources}
    in_place = {t.action for t in lifecycle.ACTIONS} | {"create"}
    cases = {c.pk: c for c in Case.objects.all()}
    for case_id, events in _events_by_case().items():
        case = cases[case_id]
        assert events[0].action == "create"
        status = Status.DRAFT
        accepted = False
        for e in events:
            if not e.from_status:
                assert e.action in in_place and not e.to_status, (case.number, e.action)
                continue
            row = rows.get((e.action, e.from_status))
            assert row is not None, (case.number, e.action, e.from_status)
            assert e.from_status == status, (case.number, e.action)
            assert e.to_status == row.target, (case.number, e.action)
            expected = 2 if e.action == "withdraw" and not accepted else row.code
            assert e.code == expected, (case.number, e.action)
            assert e.role in {ROLE_OF_ACTOR[a].value for a in row.actors}, (case.number, e.action)
            accepted = accepted or e.action == "accept"
            status = e.to_status
        assert status == case.status, case.number
        times = [e.at for e in events]
        assert times == sorted(times)


def test_actors_are_plausible_and_staff_work_in_working_hours():
    from tongban.org.models import StaffAssignment

    clerk_centers = defaultdict(set)
    department_staff = defaultdict(set)
    for a in StaffAssignment.objects.filter(active=True):
        if a.role == "window_clerk" and a.center_id:
            clerk_centers[a.user_id].add(a.center_id)
        elif a.role in ("reviewer", "approver") and a.department_id:
            department_staff[a.user_id].add((a.role, a.department_id))
    cases = {c.pk: c for c in Case.objects.select_related("applicant")}
    for e in CaseEvent.objects.all():
        case = cases[e.case_id]
        local = e.at.astimezone(LOCAL)
        if e.role in STAFF_ROLES:
            assert workdays.is_working_day(local.date()), (case.number, e.action, local)
            assert time(9) <= local.time() < time(17, 30), (case.number, e.action, local)
        if e.actor_id is None:
            assert e.actor_label
            continue
        if e.role == "window_clerk":
            assert case.center_id in clerk_centers[e.actor_id], (case.number, e.action)
            assert e.center_id == case.center_id
        elif e.role in ("reviewer", "approver"):
            assert (e.role, case.department_id) in department_staff[e.actor_id]
        elif e.role == "applicant" and case.channel != "agency":
            assert e.actor_id == case.applicant.user_id


def test_deadlines_are_what_the_clock_computes():
    events = _events_by_case()
    checked = 0
    for case in Case.objects.select_related("version").exclude(accepted_at=None):
        v = case.version
        assert case.accepted_on == workdays.working_day_on_or_after(
            clock.local_date(case.accepted_at)
        )
        immediate = v.case_kind == "immediate"
        assert case.limit_days == (0 if immediate else v.promised_limit_days)
        # paused days from the events: supplement / special pauses, day to day
        paused, since = 0, None
        for e in events[case.pk]:
            day = e.at.astimezone(LOCAL).date()
            if e.action in ("request_supplement", "start_special"):
                since = day
            elif e.action in ("supplement", "end_special"):
                added = workdays.working_days_between(max(since, case.accepted_on), day)
                assert e.data["days_added"] == added
                paused += added
                since = None
        assert case.paused_days == paused, case.number
        if case.status in (Status.SUPPLEMENT, Status.SPECIAL):
            assert case.paused_since == since
        else:
            assert case.paused_since is None
        extension = sum(e.data["days"] for e in events[case.pk] if e.action == "extend")
        assert case.extension_days == extension
        total = case.limit_days + case.paused_days + case.extension_days
        assert case.due_date == workdays.add_working_days(case.accepted_on, total), case.number
        if case.decided_at:
            decided = [e for e in events[case.pk] if e.data.get("decision")]
            assert decided[-1].data["on_time"] == clock.on_time(case)
        checked += 1
    assert checked > SIZE * 0.8


def test_centers_may_accept_the_item_and_the_ledger_names_the_approver():
    approvers = {}
    for case in Case.objects.select_related(
        "item__department__region", "center__region", "department"
    ).exclude(accepted_at=None):
        assert acceptance.can_accept_at(case.item, case.center, case.accepted_on), case.number
        key = (case.item_id, case.center.region_id)
        if key not in approvers:
            exercise = ledger.approving_body(case.item, case.center.region, case.accepted_on)
            approvers[key] = (exercise.body, resolve_department(exercise, case.item).pk)
        assert (case.approving_body, case.department_id) == approvers[key], case.number
        assert case.region_id == case.center.region_id


def test_materials_notices_and_licences():
    required = defaultdict(set)
    from tongban.catalog.models import Material

    for version_id, pk in Material.objects.filter(necessity="required").values_list(
        "version_id", "pk"
    ):
        required[version_id].add(pk)
    provided = defaultdict(set)
    for case_id, material_id in CaseMaterial.objects.filter(removed_at=None).values_list(
        "case_id", "material_id"
    ):
        provided[case_id].add(material_id)
    notices = defaultdict(Counter)
    for case_id, kind in CaseNotice.objects.values_list("case_id", "kind"):
        notices[case_id][kind] += 1
    licences = {lic.case_id: lic for lic in Licence.objects.all()}
    for case in Case.objects.all():
        if case.accepted_at:
            assert required[case.version_id] <= provided[case.pk], case.number
            assert notices[case.pk]["acceptance"] == 1
        if case.decided_at:
            assert notices[case.pk]["decision"] == 1
        if case.status == Status.REFUSED:
            assert notices[case.pk]["refusal"] == 1
        if case.issued_at:
            licence = licences[case.pk]
            assert licence.number == case.licence_number
            assert licence.holder_id == case.applicant_id
            expected = "revoked" if case.status == Status.REVOKED else "valid"
            assert licence.status == expected
        else:
            assert case.pk not in licences
    numbers = list(CaseNotice.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    # a supplement upload follows its request
    for m in CaseMaterial.objects.filter(supplement=True).select_related("case"):
        asked = m.case.events.filter(action="request_supplement").order_by("at").first()
        assert asked is not None and m.uploaded_at >= asked.at


def test_required_materials_are_there_when_submitted_and_accepted():
    """submit / resubmit / accept need every 必要 material (lifecycle Need.REQUIRED_MATERIALS):
    provided before the step and not taken back by then."""
    from tongban.catalog.models import Material

    required = defaultdict(set)
    for version_id, pk in Material.objects.filter(necessity="required").values_list(
        "version_id", "pk"
    ):
        required[version_id].add(pk)
    materials = defaultdict(list)
    for m in CaseMaterial.objects.all():
        materials[m.case_id].append(m)
    versions = dict(Case.objects.values_list("pk", "version_id"))
    steps = CaseEvent.objects.filter(action__in=("submit", "resubmit", "accept"))
    assert steps.count() > SIZE
    for e in steps:
        there = {
            m.material_id
            for m in materials[e.case_id]
            if m.uploaded_at <= e.at and (m.removed_at is None or m.removed_at > e.at)
        }
        assert required[versions[e.case_id]] <= there, (e.case_id, e.action)


# --- The demo accounts ----------------------------------------------------------------------
def test_demo_applicants_own_cases_in_different_statuses(seeded):
    for username in ("citizen", "enterprise", "citizen05", "enterprise03"):
        applicant = Applicant.objects.get(user__username=username)
        statuses = set(applicant.cases.values_list("status", flat=True))
        assert {Status.NOTIFIED, Status.SUPPLEMENT, Status.ISSUED} <= statuses, username
        assert len(statuses) >= 4
        issued = applicant.cases.filter(status=Status.ISSUED).first()
        assert issued.delivery_mode == "pickup"
        assert Licence.objects.filter(holder=applicant, case=issued, status="valid").exists()
        notified = applicant.cases.get(status=Status.NOTIFIED)
        assert notified.notices.filter(kind="one_time").exists()
        assert Notification.objects.filter(user=applicant.user, case=notified).exists()
    assert set(seeded.applicants) >= {"citizen", "enterprise"}


def test_progress_query_examples_work(seeded):
    assert seeded.progress_examples
    for number, mobile, status in seeded.progress_examples:
        case = selectors.case_by_progress_query(number, mobile)
        assert case is not None and case.status == status
        assert selectors.case_by_progress_query(number, "13900000000") is None


def test_demo_staff_have_work_waiting(seeded):
    waiting = seeded.waiting
    for username in ("clerk_city", "clerk_dalang", "clerk_village_dalang", "reviewer_scjg",
                     "reviewer_ga", "reviewer_dalang", "approver_scjg"):  # fmt: skip
        assert waiting.get(username, 0) > 0, username
    scjg = Case.objects.filter(department__code="D-SCJG")
    assert scjg.filter(colour="red").exists() and scjg.filter(colour="yellow").exists()
    assert scjg.filter(status=Status.APPROVAL).exists()


def test_no_audit_event_per_case_but_one_summary():
    assert AuditEvent.objects.filter(action="demo.cases_seeded").count() == 1
    assert not AuditEvent.objects.filter(action__startswith="case.").exists()


# --- Idempotent ------------------------------------------------------------------------------
def test_a_second_run_adds_nothing():
    before = (Case.objects.count(), CaseEvent.objects.count(), Applicant.objects.count())
    again = cases_demo.seed("dongguan", size=SIZE, today=TODAY)
    assert again.skipped and not again.created
    assert (Case.objects.count(), CaseEvent.objects.count(), Applicant.objects.count()) == before


def test_the_year_is_deterministic(seeded):
    """The same day gives the same year (built again after removing it, inside a savepoint)."""
    first = sorted(Case.objects.values_list("number", "status", "channel", "due_date"))
    Licence.objects.all().delete()
    Case.objects.all().delete()
    AuditEvent.objects.filter(action="demo.cases_seeded").delete()
    again = cases_demo.seed("dongguan", size=SIZE, today=TODAY)
    assert not again.skipped
    assert sorted(Case.objects.values_list("number", "status", "channel", "due_date")) == first


def test_seed_demo_prints_the_cases():
    out = io.StringIO()
    call_command("seed_demo", profile="dongguan", cases=SIZE, stdout=out)
    text = out.getvalue()
    assert "Cases:" in text and "online share" in text
    assert "Progress query" in text and "citizen owns" in text
    assert "Work waiting: reviewer_" in text


def test_pool_applicants_are_valid_and_cannot_log_in():
    from tongban.core.validators import validate_resident_id, validate_uscc

    pool = Applicant.objects.filter(user__username__startswith="demo_").select_related("user")
    assert pool.count() >= 60
    for a in pool:
        assert not a.user.has_usable_password()
        if a.kind == "natural":
            validate_resident_id(a.id_number)
        else:
            validate_uscc(a.uscc)
