"""The inbound API of connected department systems (部门业务系统).

``notify.systems.connect(department, ...)`` gives a department system an account of its own
(``sys-<code>``, reviewer + approver of that department only) and a bearer token. With that token
the system calls ``POST /api/v1/cases/{number}/actions/{action}`` like a reviewer would. These
tests prove, against the database rather than status codes alone, that:

* the system takes the review steps and posts the decision on its department's accepted cases,
  every step recorded (case event, audit event, webhook delivery) with the system as the actor;
  on a two-level item the four-eyes rule still holds — the system cannot approve what it
  submitted for approval, a human approver of the department decides;
* a step retried with its ``Idempotency-Key`` is taken once and replays the first answer; the key
  with another body is 422 ``idempotency_key_reused``; a refused step (409 / 422) leaves its key
  unused;
* the token is scoped: another department's cases are 404 to read, act on and absent from the
  list; cases before acceptance belong to the window (404); window steps are refused (403 on a
  visible case, 409 where the table has no such step); window intake is 403; a revoked or expired
  token is 401.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.cases.factories import FORM, online_case, upload
from tests.cases.test_api_support import paper_case
from tests.catalog.factories import DEFAULT_MATERIALS, FIVE_STEPS, make_item
from tests.conftest import bearer
from tests.factories import USCC
from tongban.accounts.models import ApiToken
from tongban.accounts.selectors import token_digest
from tongban.cases import services
from tongban.cases.models import Case, CaseEvent, CaseNotice
from tongban.core.models import AuditEvent, IdempotencyRecord
from tongban.notify.models import WebhookDelivery
from tongban.notify.systems import connect

pytestmark = pytest.mark.django_db

API = "/api/v1"
JSON = "application/json"
SYSTEM_NAME = "市场监管审批系统"

# The reviewer decides (no decide step taken by an approver): approve / deny from in_review.
ONE_LEVEL_STEPS = [
    (kind, name, "reviewer" if kind in ("decide", "conclude") else role, days)
    for kind, name, role, days in FIVE_STEPS
]
# Without a 容缺 material nothing is left to follow after acceptance, so approve is allowed.
NO_TOLERATED = [m for m in DEFAULT_MATERIALS if m["necessity"] != "tolerated"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class System:
    """A department system calling the API with its bearer token."""

    def __init__(self, client, connected):
        self.client = client
        self.user = connected.user
        self.token = connected.token
        self.subscription = connected.subscription

    @property
    def auth(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def get(self, path: str):
        return self.client.get(API + path, **self.auth)

    def post(self, path: str, body: dict | None = None, *, key: str | None = None):
        extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
        return self.client.post(
            API + path, body if body is not None else {}, content_type=JSON, **self.auth, **extra
        )

    def act(self, case: Case, action: str, body: dict | None = None, *, key: str | None = None):
        return self.post(f"/cases/{case.number}/actions/{action}", body, key=key)


@pytest.fixture
def system(world, client) -> System:
    """The market department's system, subscribed to all of the department's case events."""
    return System(
        client, connect(world.market_dept, name=SYSTEM_NAME, url="https://scjg.example.test/hook")
    )


def item_of(world, *, department=None, one_level: bool = True):
    return make_item(
        world,
        "食品经营许可",
        department=department or world.market_dept,
        scope="citywide",
        materials=NO_TOLERATED,
        steps=ONE_LEVEL_STEPS if one_level else None,
    )


def accepted_case(world, *, department=None, one_level: bool = True) -> Case:
    """A window case at the city center, accepted by the clerk: the department's work now."""
    case = paper_case(
        world,
        item_of(world, department=department, one_level=one_level),
        "city_clerk",
        "enterprise",
    )
    services.accept(case, world.user("city_clerk"))
    case.refresh_from_db()
    return case


def in_review_case(world, system: System, **kw) -> Case:
    case = accepted_case(world, **kw)
    services.start_review(case, system.user)
    case.refresh_from_db()
    return case


def steps_by(case: Case, user) -> list[tuple[str, str]]:
    return list(
        CaseEvent.objects.filter(case=case, actor=user)
        .order_by("at", "pk")
        .values_list("action", "role")
    )


def deliveries(system: System, case: Case, event: str | None = None):
    qs = WebhookDelivery.objects.filter(subscription=system.subscription, case=case)
    return qs.filter(event=event) if event else qs


# ------------------------------------------------------------------------------ review steps


def test_system_reviews_asks_for_supplement_and_approves_a_one_level_case(world, system):
    case = accepted_case(world)
    clerk = world.user("city_clerk")

    r = system.act(case, "start_review", {"note": "系统自动审查"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "in_review"
    r = system.act(case, "request_supplement", {"items": ["申请表签字不清晰"]})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "supplement"
    # the applicant's supplement is handed in at the window
    material = case.version.materials.get(name="申请表")
    services.add_upload(case, clerk, material_id=material.pk, upload=upload("补正.pdf"))
    services.supplement(case, clerk)

    r = system.act(case, "approve", {"reason": "材料齐全，符合法定条件"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "approved" and body["decision"] == "approved"
    assert body["events"][-1]["actor"] == SYSTEM_NAME

    case.refresh_from_db()
    assert case.status == "approved" and case.decision == "approved"
    assert case.decided_by == system.user
    assert case.decision_reason == "材料齐全，符合法定条件"
    assert CaseNotice.objects.filter(case=case, kind=CaseNotice.Kind.DECISION).count() == 1
    # the system's steps, as a reviewer of the department, and nobody else's in between
    assert steps_by(case, system.user) == [
        ("start_review", "reviewer"),
        ("request_supplement", "reviewer"),
        ("approve", "reviewer"),
    ]
    assert set(CaseEvent.objects.filter(case=case).values_list("actor", flat=True)) == {
        clerk.pk,
        system.user.pk,
    }
    audited = AuditEvent.objects.filter(actor=system.user, target_id=str(case.pk))
    assert sorted(audited.values_list("action", flat=True)) == [
        "case.approve",
        "case.request_supplement",
        "case.start_review",
    ]
    # and the department's subscription heard every step from acceptance on
    assert list(deliveries(system, case).order_by("pk").values_list("event", flat=True)) == [
        "case.accept",
        "case.start_review",
        "case.request_supplement",
        "case.add_material",
        "case.supplement",
        "case.approve",
    ]


def test_system_denies_with_a_reason_and_without_one_nothing_changes(world, system):
    case = in_review_case(world, system)

    missing = system.act(case, "deny", {})
    assert missing.status_code == 422 and missing.json()["code"] == "reason_required"
    case.refresh_from_db()
    assert case.status == "in_review" and case.decision == "" and case.decided_at is None
    assert not CaseEvent.objects.filter(case=case, action="deny").exists()
    assert not CaseNotice.objects.filter(case=case, kind=CaseNotice.Kind.DECISION).exists()
    assert not deliveries(system, case, "case.deny").exists()

    r = system.act(case, "deny", {"reason": "经营场所不符合食品安全要求"})
    assert r.status_code == 200, r.content
    case.refresh_from_db()
    assert case.status == "denied" and case.decision == "denied"
    assert case.decision_reason == "经营场所不符合食品安全要求"
    assert case.decided_by == system.user
    assert steps_by(case, system.user)[-1] == ("deny", "reviewer")
    assert deliveries(system, case, "case.deny").count() == 1


def test_two_level_item_the_system_submits_and_a_human_approver_decides(world, client, system):
    case = accepted_case(world, one_level=False)
    assert system.act(case, "start_review").status_code == 200

    # a two-level item is not decided at review
    direct = system.act(case, "approve", {"reason": "符合条件"})
    assert direct.status_code == 409 and direct.json()["code"] == "needs_approval"
    r = system.act(case, "submit_for_approval", {"note": "拟准予许可"})
    assert r.status_code == 200 and r.json()["status"] == "approval"

    # four eyes: holding the approver role too does not let the system approve its own submission
    own = system.act(case, "approve", {"reason": "符合条件"})
    assert own.status_code == 403 and own.json()["code"] == "four_eyes"
    case.refresh_from_db()
    assert case.status == "approval" and case.decision == "" and case.decided_by is None
    assert not CaseEvent.objects.filter(case=case, action="approve").exists()
    assert not deliveries(system, case, "case.approve").exists()

    human = client.post(
        f"{API}/cases/{case.number}/actions/approve",
        {"reason": "同意"},
        content_type=JSON,
        **bearer(client, "approver"),
    )
    assert human.status_code == 200, human.content
    case.refresh_from_db()
    assert case.status == "approved" and case.decided_by == world.user("approver")
    assert steps_by(case, system.user) == [
        ("start_review", "reviewer"),
        ("submit_for_approval", "reviewer"),
    ]
    assert steps_by(case, world.user("approver")) == [("approve", "approver")]


# ------------------------------------------------------------------------------ idempotency


def test_a_decision_posted_twice_with_its_key_is_taken_once(world, system):
    case = in_review_case(world, system)
    body = {"reason": "符合法定条件"}

    first = system.act(case, "approve", body, key="scjg-decision-0001")
    second = system.act(case, "approve", body, key="scjg-decision-0001")
    assert first.status_code == second.status_code == 200, second.content
    assert not first.has_header("Idempotent-Replayed")
    assert second["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert first.json()["status"] == "approved"

    assert CaseEvent.objects.filter(case=case, action="approve").count() == 1
    assert AuditEvent.objects.filter(action="case.approve", target_id=str(case.pk)).count() == 1
    assert deliveries(system, case, "case.approve").count() == 1
    assert CaseNotice.objects.filter(case=case, kind=CaseNotice.Kind.DECISION).count() == 1
    assert IdempotencyRecord.objects.filter(key="scjg-decision-0001").count() == 1
    # without the key the step is tried again — and refused from the new status
    again = system.act(case, "approve", body)
    assert again.status_code == 409
    assert CaseEvent.objects.filter(case=case, action="approve").count() == 1


def test_the_same_key_with_another_body_is_422_and_changes_nothing(world, system):
    case = in_review_case(world, system)
    assert system.act(case, "approve", {"reason": "符合"}, key="k-1").status_code == 200
    case.refresh_from_db()
    decided_at = case.decided_at

    other = system.act(case, "approve", {"reason": "另一个理由"}, key="k-1")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    case.refresh_from_db()
    assert case.decision_reason == "符合" and case.decided_at == decided_at
    assert CaseEvent.objects.filter(case=case, action="approve").count() == 1
    assert deliveries(system, case, "case.approve").count() == 1


def test_a_refused_step_does_not_burn_its_key(world, system):
    # 409: the case is accepted but nobody has started the review
    early = accepted_case(world)
    refused = system.act(early, "approve", {"reason": "符合"}, key="early-1")
    assert refused.status_code == 409 and refused.json()["code"] == "illegal_transition"
    assert not IdempotencyRecord.objects.filter(key="early-1").exists()
    early.refresh_from_db()
    assert early.status == "accepted"
    assert system.act(early, "start_review").status_code == 200
    taken = system.act(early, "approve", {"reason": "符合"}, key="early-1")
    assert taken.status_code == 200 and not taken.has_header("Idempotent-Replayed")
    early.refresh_from_db()
    assert early.status == "approved"

    # 422: a denial without its reason; the key then carries the corrected body
    case = in_review_case(world, system)
    assert system.act(case, "deny", {}, key="deny-1").status_code == 422
    assert not IdempotencyRecord.objects.filter(key="deny-1").exists()
    fixed = system.act(case, "deny", {"reason": "不符合条件"}, key="deny-1")
    assert fixed.status_code == 200, fixed.content
    assert not fixed.has_header("Idempotent-Replayed")
    case.refresh_from_db()
    assert case.status == "denied"
    assert CaseEvent.objects.filter(case=case, action="deny").count() == 1


# ------------------------------------------------------------------------------ token scope


def test_another_departments_case_is_404_to_read_and_to_act_on(world, system):
    theirs = accepted_case(world, department=world.health_dept)

    assert system.get(f"/cases/{theirs.number}").status_code == 404
    assert system.get(f"/cases/{theirs.number}/personal-data").status_code == 404
    for action, body in (("start_review", {}), ("deny", {"reason": "越权"})):
        r = system.act(theirs, action, body, key=f"other-{action}")
        assert r.status_code == 404 and r.json()["code"] == "not_found", r.content

    theirs.refresh_from_db()
    assert theirs.status == "accepted"
    assert not CaseEvent.objects.filter(case=theirs, actor=system.user).exists()
    # nothing read or written in the other department's name, no key kept
    assert not AuditEvent.objects.filter(actor=system.user, target_id=str(theirs.pk)).exists()
    assert not IdempotencyRecord.objects.filter(key__startswith="other-").exists()


def test_the_list_holds_only_the_departments_accepted_cases(world, system):
    mine = accepted_case(world)
    accepted_case(world, department=world.health_dept)
    paper_case(world, item_of(world), "city_clerk", "citizen")  # received, not accepted
    paper_case(world, item_of(world), "city_clerk", "citizen", received=False)  # window draft
    assert Case.objects.count() == 4

    r = system.get("/cases")
    assert r.status_code == 200
    assert r.json()["count"] == 1
    assert [row["number"] for row in r.json()["items"]] == [mine.number]
    other = system.get(f"/cases?department={world.health_dept.code}")
    assert other.status_code == 200 and other.json()["items"] == []


def test_cases_before_acceptance_belong_to_the_window(world, system):
    item = item_of(world)
    draft = paper_case(world, item, "city_clerk", "enterprise", received=False)
    received = paper_case(world, item, "city_clerk", "enterprise")
    online = online_case(world, item)  # pre_review, filed on the web
    before = {c.pk: c.status for c in (draft, received, online)}
    assert set(before.values()) == {"draft", "received", "pre_review"}

    for case in (draft, received, online):
        assert system.get(f"/cases/{case.number}").status_code == 404
        for action in ("receive", "accept", "pass_pre_review", "start_review"):
            r = system.act(case, action)
            assert r.status_code == 404, (case.status, action, r.content)
    assert dict(Case.objects.values_list("pk", "status")) == before
    assert not CaseEvent.objects.filter(actor=system.user).exists()
    assert not WebhookDelivery.objects.filter(subscription=system.subscription).exists()


def test_window_steps_on_the_departments_cases_are_refused(world, system):
    case = accepted_case(world)
    # no such step from "accepted": 409 before the actor is even asked
    again = system.act(case, "accept")
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"

    assert system.act(case, "start_review").status_code == 200
    # the window's (or the applicant's) steps: 403 for a reviewer / approver
    withdraw = system.act(case, "withdraw", {"reason": "申请人撤回"})
    assert withdraw.status_code == 403 and withdraw.json()["code"] == "not_allowed"
    assert system.act(case, "request_supplement", {"items": ["缺少签字"]}).status_code == 200
    material = case.version.materials.get(name="申请表")
    services.add_upload(
        case, world.user("city_clerk"), material_id=material.pk, upload=upload("补正.pdf")
    )
    supplement = system.act(case, "supplement", {"note": "已补正"})
    assert supplement.status_code == 403 and supplement.json()["code"] == "not_allowed"

    case.refresh_from_db()
    assert case.status == "supplement"
    assert not CaseEvent.objects.filter(case=case, action__in=("withdraw", "supplement")).exists()
    assert steps_by(case, system.user) == [
        ("start_review", "reviewer"),
        ("request_supplement", "reviewer"),
    ]


def test_the_system_cannot_take_in_cases(world, system):
    item = item_of(world)
    required = list(
        item.published_version.materials.filter(necessity="required").values_list("pk", flat=True)
    )
    application = {
        "item": item.code,
        "applicant_identity": USCC,
        "form": FORM,
        "paper_checked": required,
    }
    r = system.post("/cases/intake", {"applications": [application]}, key="intake-1")
    assert r.status_code == 403 and r.json()["code"] == "not_allowed", r.content
    # nor register a window case through the ordinary intake endpoint
    walk_in = system.post(
        "/cases", {"item": item.code, "channel": "window", "applicant_identity": USCC}
    )
    assert walk_in.status_code == 403, walk_in.content
    assert not Case.objects.exists()
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("dead", ["revoked", "expired"])
def test_a_revoked_or_expired_token_is_401(world, client, system, dead):
    case = accepted_case(world)
    token = ApiToken.objects.get(digest=token_digest(system.token))
    now = timezone.now()
    if dead == "revoked":
        token.revoked_at = now
    else:
        token.expires_at = now - dt.timedelta(seconds=1)
    token.save()

    assert system.get("/cases").status_code == 401
    assert system.get(f"/cases/{case.number}").status_code == 401
    r = system.act(case, "start_review", key="late-1")
    assert r.status_code == 401
    case.refresh_from_db()
    assert case.status == "accepted"
    assert not CaseEvent.objects.filter(actor=system.user).exists()
    assert not IdempotencyRecord.objects.exists()

    # the account itself is fine: a freshly issued token works
    fresh = System(client, connect(world.market_dept, name=SYSTEM_NAME))
    assert fresh.get(f"/cases/{case.number}").status_code == 200


def test_a_revoked_token_gets_no_replay_of_its_earlier_answers(world, system):
    case = in_review_case(world, system)
    assert system.act(case, "approve", {"reason": "符合"}, key="replay-1").status_code == 200
    ApiToken.objects.filter(digest=token_digest(system.token)).update(revoked_at=timezone.now())
    assert system.get(f"/cases/{case.number}").status_code == 401
    replay = system.act(case, "approve", {"reason": "符合"}, key="replay-1")
    assert replay.status_code == 401
    assert not replay.has_header("Idempotent-Replayed")
    # a different key with a revoked token is refused the same way (no 422/409 that would tell
    # whether a key exists)
    assert system.act(case, "approve", {"reason": "另一个"}, key="replay-1").status_code == 401


def test_the_replay_belongs_to_the_system_not_to_one_token(world, client, system):
    case = in_review_case(world, system)
    first = system.act(case, "approve", {"reason": "符合"}, key="rotate-1")
    assert first.status_code == 200
    # the department rotates its token (connecting again revokes the old one) and retries
    rotated = System(client, connect(world.market_dept, name=SYSTEM_NAME))
    again = rotated.act(case, "approve", {"reason": "符合"}, key="rotate-1")
    assert again.status_code == 200 and again.has_header("Idempotent-Replayed")
    assert again.json() == first.json()
    assert system.get(f"/cases/{case.number}").status_code == 401
