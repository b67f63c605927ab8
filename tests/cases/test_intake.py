"""Window intake in one step (``POST /api/v1/cases/intake``, ``cases/intake.py``): one
application or a batch received and accepted all or nothing, with the same rows as the
workbench's step-by-step 接件并受理."""

# ruff: noqa: F811  (the api and media fixtures are imported from test_api_support)
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cases.factories import FORM
from tests.cases.test_api_support import api, media, paper_case  # noqa: F401
from tests.catalog.factories import make_item
from tests.factories import RESIDENT_ID, USCC, assign, make_user
from tongban.cases import intake, services
from tongban.cases.models import Case, CaseEvent, CaseMaterial, CaseNotice, Status
from tongban.core import audit
from tongban.core.models import AuditEvent
from tongban.notify.models import Notification, WebhookDelivery, WebhookSubscription
from tongban.org.roles import Role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture(autouse=True)
def _fresh_rules():
    intake._ItemRules.forget()
    yield
    intake._ItemRules.forget()


@pytest.fixture
def item(world):
    return make_item(world, "食品经营许可", department=world.market_dept)


def required(item) -> list[int]:
    return list(
        item.published_version.materials.filter(necessity="required").values_list("pk", flat=True)
    )


def application(item, identity=USCC, **extra):
    return {
        "item": item.code,
        "applicant_identity": identity,
        "form": {**FORM},
        "paper_checked": required(item),
        **extra,
    }


def body(*applications, **extra):
    return {"applications": list(applications), **extra}


def test_one_application_is_received_and_accepted_with_the_workbench_rows(
    api, world, item, django_capture_on_commit_callbacks
):
    subscription = WebhookSubscription.objects.create(
        department=world.market_dept, name="市场监管审批系统", url="http://127.0.0.1:9/hook"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/cases/intake", body(application(item)), as_="city_clerk")
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["count"] == 1
    row = answer["cases"][0]
    case = Case.objects.get(number=row["number"])
    assert case.status == Status.ACCEPTED and row["status"] == "accepted"
    assert case.center == world.city_center and case.channel == "window"
    assert case.accepted_by == world.user("city_clerk")
    assert case.due_date is not None and row["due_date"] == case.due_date.isoformat()
    assert case.department == world.market_dept and row["department"] == world.market_dept.code
    assert case.tolerated_pending  # 场地证明 (容缺) was not handed in
    events = list(case.events.order_by("pk").values_list("action", "code", "to_status"))
    assert events == [("create", None, ""), ("receive", 1, "received"), ("accept", 3, "accepted")]
    assert case.materials.filter(source=CaseMaterial.Source.PAPER).count() == len(required(item))
    notice = CaseNotice.objects.get(case=case)
    assert notice.kind == CaseNotice.Kind.ACCEPTANCE and notice.number == row["acceptance_notice"]
    assert notice.items == ["场地证明"]
    assert list(
        AuditEvent.objects.filter(target_type="cases.case", target_id=str(case.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    ) == ["case.create", "case.receive", "case.accept"]
    assert audit.verify().ok
    messages = Notification.objects.filter(case=case)
    assert messages.filter(channel="inbox").count() == 1
    assert messages.get(channel="sms").status == Notification.Status.SENT
    delivery = WebhookDelivery.objects.get(case=case)
    assert delivery.subscription == subscription and delivery.event == "case.accept"


def test_the_one_step_intake_writes_what_the_step_by_step_path_writes(api, world, item):
    stepwise = paper_case(world, item, "city_clerk", "enterprise")
    services.accept(stepwise, world.user("city_clerk"))
    stepwise.refresh_from_db()
    response = api.post("/cases/intake", body(application(item)), as_="city_clerk")
    one_step = Case.objects.get(number=response.json()["cases"][0]["number"])
    fields = [
        "status",
        "item_id",
        "version_id",
        "applicant_id",
        "center_id",
        "region_id",
        "department_id",
        "approving_body",
        "decision_in_name_of",
        "accepted_on",
        "case_kind",
        "limit_days",
        "due_date",
        "due_provisional",
        "colour",
        "tolerated_pending",
        "contact_mobile",
        "title",
    ]
    assert {f: getattr(one_step, f) for f in fields} == {f: getattr(stepwise, f) for f in fields}
    coded = CaseEvent.objects.filter(code__isnull=False)
    assert list(coded.filter(case=one_step).values_list("action", "code")) == list(
        coded.filter(case=stepwise).values_list("action", "code")
    )


def test_a_batch_is_written_with_a_constant_number_of_queries(api, world, item):
    other = make_item(world, "食品生产许可", department=world.market_dept)
    warm = body(application(item), application(other))  # the token, the items' rules
    assert api.post("/cases/intake", warm, as_="city_clerk").status_code == 201
    counts = []
    for size in (2, 12):
        apps = [application(item if k % 2 else other) for k in range(size)]
        with CaptureQueriesContext(connection) as queries:
            response = api.post("/cases/intake", body(*apps), as_="city_clerk")
        assert response.status_code == 201, response.json()
        assert response.json()["count"] == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert Case.objects.filter(status=Status.ACCEPTED).count() == 16


def test_immediate_cases_alert_each_departments_reviewers_in_constant_queries(api, world):
    """A 即办件 is yellow on acceptance; the reviewers of every department in the batch are
    told with one read and one insert, however many departments and cases there are."""
    health_reviewer = make_user("health_reviewer")
    assign(health_reviewer, Role.REVIEWER, department=world.health_dept)
    market = make_item(world, "即办甲", department=world.market_dept, promised=0)
    health = make_item(world, "即办乙", department=world.health_dept, promised=0)
    warm = body(application(market), application(health))
    assert api.post("/cases/intake", warm, as_="city_clerk").status_code == 201
    counts = []
    for size in (2, 12):
        apps = [application(market if k % 2 else health) for k in range(size)]
        with CaptureQueriesContext(connection) as queries:
            response = api.post("/cases/intake", body(*apps), as_="city_clerk")
        assert response.status_code == 201, response.json()
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    alerts = Notification.objects.filter(kind="case_yellow", channel="inbox")
    assert alerts.filter(user=world.user("reviewer")).count() == 8  # 1 + 1 + 6 market cases
    assert alerts.filter(user=health_reviewer).count() == 8
    assert not alerts.exclude(user__in=[world.user("reviewer"), health_reviewer]).exists()
    case = alerts.filter(user=health_reviewer).first().case
    assert case.department == world.health_dept and case.colour == "yellow"


def test_a_batch_with_problems_writes_nothing_and_names_each_one(api, world, item):
    apps = [
        application(item),
        application(item, identity="91110000600037341X"),  # check character wrong
        application(item, paper_checked=[]),  # no originals checked
        application(item, identity=RESIDENT_ID, form={"description": ""}),
        {**application(item), "item": "NO-SUCH-ITEM"},
    ]
    response = api.post("/cases/intake", body(*apps), as_="city_clerk")
    assert response.status_code == 422
    answer = response.json()
    assert answer["code"] == "invalid_applications"
    fields = {d["field"] for d in answer["details"]}
    assert "applications[0]" not in " ".join(fields)
    assert {
        "applications[1].applicant_identity",
        "applications[2].paper",
        "applications[4].item",
    } <= fields
    assert any(f.startswith("applications[3].form.") for f in fields)
    assert not Case.objects.exists() and not AuditEvent.objects.filter(action="case.create")


def test_unknown_applicant_and_foreign_material_are_refused(api, world, item):
    other = make_item(world, "食品生产许可", department=world.market_dept)
    apps = [
        application(item, identity="440304199001011233"),  # valid, but nobody registered
        application(item, paper_checked=required(item) + required(other)),
    ]
    response = api.post("/cases/intake", body(*apps), as_="city_clerk")
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["details"]}
    assert fields == {"applications[0].applicant_identity", "applications[1].paper"}


@pytest.mark.parametrize("who", ["citizen", "enterprise", "reviewer", "agent", "supervisor"])
def test_only_window_clerks_may_take_in(api, world, item, who):
    response = api.post("/cases/intake", body(application(item)), as_=who)
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_anonymous_is_401(api, item):
    assert api.post("/cases/intake", body(application(item))).status_code == 401


def test_a_clerk_takes_in_only_at_their_own_center(api, world, item):
    response = api.post(
        "/cases/intake",
        body(application(item), center=world.town_center.code),
        as_="city_clerk",
    )
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_an_item_the_center_may_not_accept_is_refused(api, world, item):
    response = api.post("/cases/intake", body(application(item)), as_="village_clerk")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "applications[0].item"
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"applications": []},
        {"applications": "x"},
        {"channel": "web", "applications": [{"item": "X", "applicant_identity": USCC, "form": {}}]},
        {"applications": [{"item": "X", "applicant_identity": USCC}]},
        {
            "applications": [
                {"item": "X", "applicant_identity": USCC, "form": {}, "paper_checked": [0]}
            ]
        },
        {"window": 999999, "applications": [{"item": "X", "applicant_identity": USCC, "form": {}}]},
    ],
)
def test_malformed_requests_are_422(api, item, payload):
    response = api.post("/cases/intake", payload, as_="city_clerk")
    assert response.status_code == 422
    assert response.json()["code"]
    assert not Case.objects.exists()


def test_too_many_applications_at_once_is_422(api, item):
    apps = [application(item)] * (intake.MAX_BATCH + 1)
    assert api.post("/cases/intake", body(*apps), as_="city_clerk").status_code == 422


def test_the_same_idempotency_key_twice_accepts_once(api, item):
    first = api.post(
        "/cases/intake", body(application(item)), as_="city_clerk", HTTP_IDEMPOTENCY_KEY="in-1"
    )
    second = api.post(
        "/cases/intake", body(application(item)), as_="city_clerk", HTTP_IDEMPOTENCY_KEY="in-1"
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Case.objects.count() == 1


def test_each_application_counts_against_the_look_up_limit(api, settings, item):
    settings.CASE_LOOKUP_RATE = "3/h"
    apps = [application(item)] * 2
    assert api.post("/cases/intake", body(*apps), as_="city_clerk").status_code == 201
    response = api.post("/cases/intake", body(*apps), as_="city_clerk")
    assert response.status_code == 429
    assert Case.objects.count() == 2


def test_the_item_rules_are_kept_for_a_while_and_can_be_turned_off(settings, world, item):
    clerk = world.user("city_clerk")
    app = intake.Application(
        item=item.code, applicant_identity=USCC, form=dict(FORM), paper=required(item)
    )
    intake.intake([app], by=clerk)
    with CaptureQueriesContext(connection) as cached:
        intake.intake([app], by=clerk)
    settings.CASE_INTAKE_RULES_SECONDS = 0
    intake._ItemRules.forget()
    with CaptureQueriesContext(connection) as uncached:
        intake.intake([app], by=clerk)
    assert len(cached) < len(uncached)


def test_a_number_already_taken_is_drawn_again(monkeypatch, world, item):
    clerk = world.user("city_clerk")
    app = intake.Application(
        item=item.code, applicant_identity=USCC, form=dict(FORM), paper=required(item)
    )
    first = intake.intake([app], by=clerk)[0].case
    drawn = iter([first.number])
    real = intake.public_number

    def clashing(prefix, **kw):  # the first draw repeats the existing case's number
        return next(drawn, None) or real(prefix, **kw)

    monkeypatch.setattr(intake, "public_number", clashing)
    second = intake.intake([app], by=clerk)[0].case
    assert second.number != first.number
    assert Case.objects.count() == 2 and audit.verify().ok
