"""The case transition table (lifecycle.py), proved from the table itself.

For every (status, action) pair in ``TRANSITIONS + ACTIONS`` a case is walked to that status
through the services and the step is taken: as each allowed actor it works (status, event with the
provincial code, audit event, the applicant told); as anyone else it is Forbidden. For every status
and every action *not* in the table the step is a Conflict (409 ``illegal_transition``) and nothing
changes. Then every Need is exercised both ways, and the table's own consistency is checked.

``walk(world, status, ...)`` (used by the clock tests too) reaches any status through the
services; the only direct setup is a 容缺 material outstanding on an ``approved`` case, a state
the services cannot produce (see ``test_receive_tolerated_on_approved_needs_direct_setup``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from tests.cases.factories import FORM, upload
from tests.catalog.factories import make_item
from tongban.accounts.models import Applicant
from tongban.cases import lifecycle, services
from tongban.cases.lifecycle import (
    ACTION_NAMES,
    ACTIONS,
    ALL_STEPS,
    TERMINAL,
    TRANSITIONS,
    Actor,
    Need,
    Transition,
)
from tongban.cases.models import Case, CaseEvent, CaseMaterial, Status
from tongban.catalog.models import AcceptanceRule
from tongban.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from tongban.core.models import AuditEvent
from tongban.notify.models import Notification

pytestmark = pytest.mark.django_db

S = Status

# A one-level item: the reviewer decides (no decide step taken by an approver).
ONE_LEVEL_STEPS = [
    ("accept", "受理", "window_clerk", 1),
    ("review", "审核", "reviewer", 1),
    ("decide", "审核决定", "reviewer", 1),
    ("conclude", "办结", "reviewer", 1),
    ("deliver", "送达", "window_clerk", 1),
]

ACTOR_USER = {
    Actor.APPLICANT: "enterprise",
    Actor.CLERK: "city_clerk",
    Actor.REVIEWER: "reviewer",
    Actor.APPROVER: "approver",
}
# Staff and applicants who hold no actor on a case of the city center / market department
# filed by the enterprise.
OUTSIDERS = ("town_clerk", "citizen", "supervisor", "center_admin")


# --------------------------------------------------------------------------------------------
# Walking a case to any status


def enterprise(world) -> Applicant:
    return Applicant.objects.get(user=world.user("enterprise"))


def new_case(
    world,
    *,
    levels: int = 2,
    window: bool = False,
    delivery: str = "pickup",
    item=None,
    **item_kw,
) -> Case:
    """A draft filed on the web by the enterprise (or registered at the city window)."""
    if item is None:
        item = make_item(world, steps=None if levels == 2 else ONE_LEVEL_STEPS, **item_kw)
    form = {**FORM, "delivery_mode": delivery}
    if delivery == "post":
        form["postal_address"] = "东莞市南城街道鸿福路 1 号"
    if window:
        return services.start_case(
            item=item,
            by=world.user("city_clerk"),
            channel="window",
            applicant=enterprise(world),
            form=form,
        )
    return services.start_case(item=item, by=world.user("enterprise"), channel="web", form=form)


def provide(case: Case, by, *, tolerated: bool) -> None:
    """Upload every required material (and the 容缺 one too when ``tolerated``)."""
    for m in case.version.materials.all():
        if m.necessity == "tolerated" and not tolerated:
            continue
        services.add_upload(case, by, material_id=m.pk, upload=upload(f"{m.name}.pdf"))


def _decide(world, case: Case, decision: str, levels: int) -> None:
    if levels == 2:
        services.submit_for_approval(case, world.user("reviewer"), opinion="同意")
        decider = world.user("approver")
    else:
        decider = world.user("reviewer")
    reason = "不符合许可条件" if decision == "denied" else ""
    services.decide(case, decider, decision=decision, reason=reason)


# Which statuses need which setting of "a 容缺 material outstanding" by default.
FOLLOW_DEFAULT = {S.APPROVED: False, S.CLOSED: False}


def walk(
    world,
    to: str,
    *,
    levels: int = 2,
    window: bool = False,
    follow: bool | None = None,
    delivery: str = "pickup",
    item=None,
    **item_kw,
) -> Case:
    """A case in status ``to``, reached through the services only.

    ``window``: registered at the window (else filed on the web); ``levels``: 2 = the approver
    decides, 1 = the reviewer decides; ``follow``: a 容缺 material is outstanding after
    acceptance (default: yes, except for approved / closed); ``delivery``: the result's delivery
    mode."""
    follow = FOLLOW_DEFAULT.get(to, True) if follow is None else follow
    if to in (S.APPROVED, S.CLOSED) and follow:
        raise ValueError(f"{to} cannot be reached with a 容缺 material outstanding")
    case = new_case(world, levels=levels, window=window, delivery=delivery, item=item, **item_kw)
    clerk, reviewer, approver = (world.user(k) for k in ("city_clerk", "reviewer", "approver"))
    filer = clerk if window else world.user("enterprise")
    if to == S.DRAFT:
        return _fresh(case)
    provide(case, filer, tolerated=not follow)
    if window:
        services.receive(case, clerk)
        if to == S.PRE_REVIEW:
            raise ValueError("a window case never is in online pre-review")
    else:
        services.submit(case, filer)
        if to == S.PRE_REVIEW:
            return _fresh(case)
        if to == S.RECEIVED:
            services.pass_pre_review(case, clerk)
    if to == S.RECEIVED:
        return _fresh(case)
    if to in (S.NOTIFIED, S.REFUSED, S.WITHDRAWN):
        if to == S.NOTIFIED:
            services.notify_missing(case, clerk, items=["营业执照复印件不清晰"])
        elif to == S.REFUSED:
            services.refuse(case, clerk, reason="不属于本机关职权范围")
        else:
            services.withdraw(case, world.user("enterprise"), reason="不再申请")
        return _fresh(case)
    services.accept(case, clerk)
    if to == S.ACCEPTED:
        return _fresh(case)
    services.start_review(case, reviewer)
    if to == S.IN_REVIEW:
        return _fresh(case)
    if to == S.SUPPLEMENT:
        services.request_supplement(case, reviewer, items=["补充场地平面图"])
        return _fresh(case)
    if to == S.SPECIAL:
        services.start_special(case, reviewer, kind="inspection", reason="需现场核查")
        return _fresh(case)
    if to == S.APPROVAL:
        if levels != 2:
            raise ValueError("a one-level item has no approval step")
        services.submit_for_approval(case, reviewer, opinion="同意")
        return _fresh(case)
    if to == S.DENIED:
        _decide(world, case, "denied", levels)
        return _fresh(case)
    _decide(world, case, "approved_tolerated" if follow else "approved", levels)
    if to in (S.APPROVED, S.APPROVED_TOLERATED):
        return _fresh(case)
    services.issue_result(case, approver)
    if to == S.ISSUED:
        return _fresh(case)
    if to == S.REVOKED:
        services.revoke(case, approver, reason="以欺骗手段取得许可")
        return _fresh(case)
    services.hand_out(case, clerk if delivery == "pickup" else approver)
    if to == S.DELIVERED:
        return _fresh(case)
    services.close(case, clerk)
    assert to == S.CLOSED, to
    return _fresh(case)


def _fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def test_walk_reaches_every_status(world):
    for status in Status.values:
        kw = {"window": True} if status == S.DRAFT else {}
        case = walk(world, status, **kw)
        assert case.status == status


# --------------------------------------------------------------------------------------------
# Taking a step with valid arguments


def take(action: str, case: Case, by, world):
    """Call the service for ``action`` with arguments that satisfy its own input rules."""
    if action == "submit":
        return services.submit(case, by)
    if action == "receive":
        return services.receive(case, by)
    if action == "resubmit":
        return services.resubmit(case, by, note="已补齐")
    if action == "pass_pre_review":
        return services.pass_pre_review(case, by)
    if action == "accept":
        return services.accept(case, by)
    if action == "notify":
        return services.notify_missing(case, by, items=["营业执照复印件不清晰"])
    if action == "refuse":
        return services.refuse(case, by, reason="不属于本机关职权范围")
    if action == "withdraw":
        return services.withdraw(case, by, reason="不再申请")
    if action == "start_review":
        return services.start_review(case, by)
    if action == "assign":
        return services.assign(case, by, assignee=world.user("reviewer"))
    if action == "request_supplement":
        return services.request_supplement(case, by, items=["补充场地平面图"])
    if action == "supplement":
        return services.supplement(case, by, note="已补充")
    if action == "start_special":
        return services.start_special(case, by, kind="hearing", reason="申请人要求听证")
    if action == "end_special":
        return services.end_special(case, by)
    if action == "submit_for_approval":
        return services.submit_for_approval(case, by, opinion="同意")
    if action == "return_for_review":
        return services.return_for_review(case, by, reason="请核实场地")
    if action == "approve":
        return services.decide(case, by, decision="approved")
    if action == "approve_tolerated":
        return services.decide(case, by, decision="approved_tolerated")
    if action == "deny":
        return services.decide(case, by, decision="denied", reason="不符合许可条件")
    if action == "issue_result":
        return services.issue_result(case, by)
    if action == "hand_out":
        return services.hand_out(case, by)
    if action == "close":
        return services.close(case, by)
    if action == "revoke":
        return services.revoke(case, by, reason="以欺骗手段取得许可")
    if action == "extend":
        return services.extend(case, by, days=5, reason="需组织专家论证")
    if action == "receive_tolerated":
        return services.receive_tolerated(case, by)
    if action == "edit":
        return services.update_form(case, by, {"remarks": "补充说明"})
    if action == "add_material":
        return services.add_upload(case, by, material_id=None, upload=upload("补充说明.pdf"))
    raise AssertionError(f"no service call for {action}")


def prepare(action: str, case: Case, world) -> None:
    """What a step needs besides the actor: a 补正 needs a material handed in since the
    request (uploaded by the applicant, who may add materials during 补正); submitting online
    needs the required materials uploaded."""
    if action == "submit":
        provide(case, world.user("enterprise"), tolerated=False)
    if action == "supplement":
        services.add_upload(
            case, world.user("enterprise"), material_id=None, upload=upload("补正材料.pdf")
        )


def setup_kw(row: Transition, actor: Actor | None = None) -> dict:
    """``walk`` options that satisfy the row's needs (for ``actor`` taking it)."""
    kw: dict = {}
    needs = set(row.needs)
    if Need.SELF_FILED in needs:
        kw["window"] = False
    if Need.WINDOW_FILED in needs:
        kw["window"] = True
    if Need.ONE_LEVEL in needs:
        kw["levels"] = 1
    if Need.NOTHING_TO_FOLLOW in needs:
        kw["follow"] = False
    if Need.SOMETHING_TO_FOLLOW in needs:
        kw["follow"] = True
    if Need.PICKUP_BY_CLERK in needs and actor not in (None, Actor.CLERK):
        kw["delivery"] = "electronic"
    return kw


def case_for(world, row: Transition, source: str, actor: Actor | None = None) -> Case:
    kw = setup_kw(row, actor)
    if source == S.DRAFT and "window" not in kw:
        kw["window"] = False
    if source == S.APPROVED and Need.SOMETHING_TO_FOLLOW in row.needs:
        # An approved case has no 容缺 material outstanding (approve needs nothing to follow and
        # only acceptance records one): direct setup for the table's receive_tolerated row.
        kw["follow"] = False
        case = walk(world, source, **kw)
        Case.objects.filter(pk=case.pk).update(tolerated_pending=True)
        return _fresh(case)
    return walk(world, source, **kw)


def snapshot(case: Case) -> tuple:
    case = _fresh(case)
    return (
        case.status,
        case.due_date,
        case.paused_since,
        case.extension_days,
        case.tolerated_pending,
        case.assignee_id,
        CaseEvent.objects.filter(case=case).count(),
        CaseMaterial.objects.filter(case=case).count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


# --------------------------------------------------------------------------------------------
# The table, generated


def _allowed_params():
    params = []
    for row in ALL_STEPS:
        for source in row.sources:
            for actor in sorted(row.actors):
                params.append(
                    pytest.param(row, source, actor, id=f"{row.action}-{source}-{actor.value}")
                )
    return params


def _pairs() -> dict[tuple[str, str], list[Transition]]:
    pairs: dict[tuple[str, str], list[Transition]] = defaultdict(list)
    for row in ALL_STEPS:
        for source in row.sources:
            pairs[(row.action, source)].append(row)
    return pairs


PAIRS = _pairs()


def expected_code(row: Transition, case_before: Case) -> int | None:
    if row.action == "withdraw" and case_before.accepted_at is None:
        return 2  # 已撤件: withdrawn before acceptance
    return row.code


def refused_users(world, action: str, source: str) -> list:
    """Everyone who may not take ``action`` from ``source``: the actor kinds of no row for the
    pair, and users who hold no actor on the case at all."""
    allowed = frozenset().union(*(r.actors for r in PAIRS[(action, source)]))
    kinds = [a for a in Actor if a not in allowed]
    assert kinds, (action, source)
    return [world.user(ACTOR_USER[a]) for a in kinds] + [world.user(k) for k in OUTSIDERS]


@pytest.mark.parametrize(("row", "source", "actor"), _allowed_params())
def test_step_works_for_its_actors_and_is_forbidden_to_others(world, row, source, actor):
    case = case_for(world, row, source, actor)
    assert case.status == source
    prepare(row.action, case, world)
    # first everyone else: 403 and nothing changes
    unchanged = snapshot(case)
    for user in refused_users(world, row.action, source):
        with pytest.raises(Forbidden) as caught:
            take(row.action, case, user, world)
        assert caught.value.status == 403, user
        assert snapshot(case) == unchanged, user
    # then the allowed actor
    before = _fresh(case)
    events_before = case.events.count()
    status_notes = Notification.objects.filter(case=case, kind="case_status")
    notes_before = status_notes.count()
    audit_before = AuditEvent.objects.count()
    by = world.user(ACTOR_USER[actor])

    take(row.action, case, by, world)

    case = _fresh(case)
    assert case.status == (row.target or source)
    event = case.events.order_by("-at", "-pk").first()
    assert case.events.count() == events_before + 1
    assert event.action == row.action
    assert event.code == expected_code(row, before)
    assert event.actor_id == by.pk
    if row.target is not None:
        assert (event.from_status, event.to_status) == (source, row.target)
    else:
        assert (event.from_status, event.to_status) == ("", "")
    assert event.role == services.ROLE_OF_ACTOR[actor].value
    # the audit chain holds the step
    audit = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() > audit_before
    step_audit = AuditEvent.objects.filter(
        seq__gt=audit_before, action=f"case.{row.action}", target_id=str(case.pk)
    ).get()
    assert step_audit.target_type == "cases.case"
    assert step_audit.data["number"] == case.number
    if row.target is not None:
        assert (step_audit.data["from"], step_audit.data["to"]) == (source, row.target)
    assert audit.seq == AuditEvent.objects.count()
    # the applicant is told of every status change, in the inbox and by SMS
    if row.target is not None and row.target != source:
        new = status_notes.order_by("pk")[notes_before:]
        channels = {(n.channel, n.user_id, n.mobile) for n in new}
        assert channels == {
            (Notification.Channel.INBOX, world.user("enterprise").pk, ""),
            (Notification.Channel.SMS, None, case.contact_mobile),
        }
        assert all(case.number in n.subject for n in new)
    else:
        assert status_notes.count() == notes_before


@pytest.mark.parametrize("status", Status.values)
def test_every_action_outside_the_table_is_a_conflict(world, status):
    kw = {"window": False} if status == S.DRAFT else {}
    case = walk(world, status, **kw)
    before = snapshot(case)
    users = [world.user(ACTOR_USER[a]) for a in Actor]
    illegal = [a for a in ACTION_NAMES if (a, status) not in PAIRS]
    assert illegal, status
    for action in illegal:
        for user in users:
            with pytest.raises(Conflict) as caught:
                take(action, case, user, world)
            error = caught.value
            assert (error.status, error.code) == (409, "illegal_transition"), (action, user)
            assert error.details == {"status": status, "action": action}
            assert snapshot(case) == before, (action, user)


def test_an_unknown_action_is_a_conflict(world):
    case = walk(world, S.IN_REVIEW)
    with pytest.raises(Conflict) as caught:
        services.perform(case, "teleport", world.user("reviewer"))
    assert caught.value.code == "illegal_transition"


# --------------------------------------------------------------------------------------------
# Every Need, both ways


def _raises(exc_type, code: str | None, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(exc_type) as caught:
        fn(*args, **kwargs)
    if code is not None:
        assert caught.value.code == code, caught.value.as_dict()
    return caught.value


def test_self_filed_and_window_filed(world):
    window_draft = walk(world, S.DRAFT, window=True)
    # the applicant of a window registration cannot submit it themselves
    _raises(Conflict, "illegal_transition", services.submit, window_draft, world.user("enterprise"))
    web_draft = walk(world, S.DRAFT)
    _raises(Conflict, "illegal_transition", services.receive, web_draft, world.user("city_clerk"))
    assert _fresh(window_draft).status == _fresh(web_draft).status == S.DRAFT
    services.receive(window_draft, world.user("city_clerk"))
    provide(web_draft, world.user("enterprise"), tolerated=False)
    services.submit(web_draft, world.user("enterprise"))
    assert _fresh(window_draft).status == S.RECEIVED
    assert _fresh(web_draft).status == S.PRE_REVIEW
    # a web case that was told what is missing is resubmitted online; a window one is not
    notified_window = walk(world, S.NOTIFIED, window=True)
    _raises(
        Conflict,
        "illegal_transition",
        services.resubmit,
        notified_window,
        world.user("enterprise"),
    )
    services.receive(notified_window, world.user("city_clerk"))
    assert _fresh(notified_window).status == S.RECEIVED


def test_submit_and_accept_need_every_required_material(world):
    item = make_item(world)
    applicant, clerk = world.user("enterprise"), world.user("city_clerk")
    form = item.published_version.materials.get(name="申请表")
    licence = item.published_version.materials.get(name="营业执照")
    # online: the applicant cannot send the application without the required materials
    case = new_case(world, item=item)
    services.add_upload(case, applicant, material_id=form.pk, upload=upload())
    error = _raises(Conflict, "materials_missing", services.submit, case, applicant)
    assert [d["name"] for d in error.details] == ["营业执照"]
    assert _fresh(case).status == S.DRAFT
    # at the window: received incomplete, acceptance is refused until it is complete
    walk_in = new_case(world, item=item, window=True)
    services.add_upload(walk_in, clerk, material_id=form.pk, upload=upload())
    services.receive(walk_in, clerk)
    error = _raises(Conflict, "materials_missing", services.accept, walk_in, clerk)
    assert error.status == 409
    assert [d["name"] for d in error.details] == ["营业执照"]
    assert "营业执照" in error.message
    assert _fresh(walk_in).status == S.RECEIVED and _fresh(walk_in).due_date is None
    # the clerk tells the applicant, who brings it; then it is accepted
    services.notify_missing(walk_in, clerk, items=["营业执照"])
    services.check_paper(walk_in, clerk, material_id=licence.pk)
    services.receive(walk_in, clerk)
    services.accept(walk_in, clerk)
    assert _fresh(walk_in).status == S.ACCEPTED


def test_accept_only_at_a_center_in_the_acceptance_scope(world):
    item = make_item(world, scope="citywide")
    case = services.start_case(
        item=item,
        by=world.user("enterprise"),
        channel="web",
        center=world.town_center,
        form=FORM,
    )
    provide(case, world.user("enterprise"), tolerated=False)
    services.submit(case, world.user("enterprise"))
    # the city takes the item back to the department's center from today on
    AcceptanceRule.objects.create(
        item=item, scope="department_center", effective_from=services.today()
    )
    error = _raises(
        Conflict, "not_in_acceptance_scope", services.accept, case, world.user("town_clerk")
    )
    assert world.town_center.name in error.message
    assert _fresh(case).status == S.PRE_REVIEW
    # the city center's clerk has no hand in a town center's case
    _raises(Forbidden, "not_allowed", services.accept, case, world.user("city_clerk"))
    # within the scope the town center accepts
    other = make_item(world, scope="citywide")
    ok = services.start_case(
        item=other,
        by=world.user("enterprise"),
        channel="web",
        center=world.town_center,
        form=FORM,
    )
    provide(ok, world.user("enterprise"), tolerated=False)
    services.submit(ok, world.user("enterprise"))
    services.accept(ok, world.user("town_clerk"))
    assert _fresh(ok).status == S.ACCEPTED


def test_pre_review_only_item_is_accepted_after_the_window_check(world):
    item = make_item(world, depth=2, handled_online=True, visits=1)
    case = walk(world, S.PRE_REVIEW, item=item)
    clerk = world.user("city_clerk")
    _raises(Conflict, "pre_review_only", services.accept, case, clerk)
    assert _fresh(case).status == S.PRE_REVIEW
    services.pass_pre_review(case, clerk)
    services.accept(case, clerk)
    assert _fresh(case).status == S.ACCEPTED
    # a depth Ⅲ item is accepted straight from pre-review
    direct = walk(world, S.PRE_REVIEW, depth=3, visits=1)
    services.accept(direct, clerk)
    assert _fresh(direct).status == S.ACCEPTED


@pytest.mark.parametrize(
    ("status", "call"),
    [
        (S.PRE_REVIEW, lambda c, w: services.notify_missing(c, w.user("city_clerk"), items=[])),
        (
            S.RECEIVED,
            lambda c, w: services.notify_missing(c, w.user("city_clerk"), items=["  ", ""]),
        ),
        (S.IN_REVIEW, lambda c, w: services.request_supplement(c, w.user("reviewer"), items=[])),
    ],
    ids=["notify-empty", "notify-blank", "supplement-empty"],
)
def test_a_list_is_needed(world, status, call):
    case = walk(world, status)
    before = snapshot(case)
    error = _raises(InvalidInput, "list_required", call, case, world)
    assert error.status == 422
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("status", "call"),
    [
        (S.RECEIVED, lambda c, w: services.refuse(c, w.user("city_clerk"), reason="")),
        (
            S.IN_REVIEW,
            lambda c, w: services.start_special(c, w.user("reviewer"), kind="hearing", reason=" "),
        ),
        (S.APPROVAL, lambda c, w: services.return_for_review(c, w.user("approver"), reason="")),
        (
            S.APPROVAL,
            lambda c, w: services.decide(c, w.user("approver"), decision="denied", reason=""),
        ),
        (S.ISSUED, lambda c, w: services.revoke(c, w.user("approver"), reason="")),
        (S.IN_REVIEW, lambda c, w: services.extend(c, w.user("approver"), days=5, reason="")),
    ],
    ids=["refuse", "start_special", "return_for_review", "deny", "revoke", "extend"],
)
def test_a_reason_is_needed(world, status, call):
    case = walk(world, status)
    before = snapshot(case)
    error = _raises(InvalidInput, "reason_required", call, case, world)
    assert error.status == 422
    assert error.details[0]["field"] == "reason"
    assert snapshot(case) == before


def test_deny_with_a_reason_works_and_reports_13(world):
    case = walk(world, S.APPROVAL)
    _raises(
        InvalidInput,
        "reason_required",
        services.decide,
        case,
        world.user("approver"),
        decision="denied",
    )
    services.decide(case, world.user("approver"), decision="denied", reason="场地不符合要求")
    case = _fresh(case)
    assert case.status == S.DENIED and case.decision_reason == "场地不符合要求"
    assert case.events.get(action="deny").code == 13


def test_supplement_needs_a_material_handed_in_after_the_request(world):
    case = walk(world, S.IN_REVIEW)
    applicant = world.user("enterprise")
    # a material of the original application does not count
    assert case.materials.exists()
    services.request_supplement(case, world.user("reviewer"), items=["补充场地平面图"])
    _raises(Conflict, "materials_missing", services.supplement, case, applicant)
    assert _fresh(case).status == S.SUPPLEMENT
    services.add_upload(case, applicant, material_id=None, upload=upload("平面图.pdf"))
    services.supplement(case, applicant)
    case = _fresh(case)
    assert case.status == S.IN_REVIEW
    assert case.materials.filter(supplement=True).count() == 1
    # a second round needs a new material again
    services.request_supplement(case, world.user("reviewer"), items=["平面图需盖章"])
    _raises(Conflict, "materials_missing", services.supplement, case, world.user("city_clerk"))
    services.add_upload(case, world.user("city_clerk"), material_id=None, upload=upload("章.pdf"))
    services.supplement(case, world.user("city_clerk"))
    assert _fresh(case).status == S.IN_REVIEW


def test_one_level_item_is_decided_by_the_reviewer(world):
    case = walk(world, S.IN_REVIEW, levels=1, follow=False)
    reviewer = world.user("reviewer")
    _raises(Conflict, "one_level", services.submit_for_approval, case, reviewer)
    _raises(
        Forbidden, "not_allowed", services.decide, case, world.user("approver"), decision="approved"
    )
    services.decide(case, reviewer, decision="approved")
    case = _fresh(case)
    assert case.status == S.APPROVED and case.decided_by == reviewer
    assert case.events.get(action="approve").code == 11


def test_two_level_item_needs_the_approver(world):
    case = walk(world, S.IN_REVIEW, follow=False)
    reviewer, approver = world.user("reviewer"), world.user("approver")
    for decision, reason in (("approved", ""), ("denied", "不符合条件")):
        _raises(
            Conflict, "needs_approval", services.decide, case, reviewer, decision=decision,
            reason=reason,
        )  # fmt: skip
    _raises(Forbidden, "not_allowed", services.decide, case, approver, decision="approved")
    services.submit_for_approval(case, reviewer, opinion="同意")
    # at the approval step the reviewer has no say
    _raises(Forbidden, "not_allowed", services.decide, case, reviewer, decision="approved")
    services.return_for_review(case, approver, reason="请补充核查意见")
    assert _fresh(case).status == S.IN_REVIEW
    services.submit_for_approval(case, reviewer, opinion="已核查")
    services.decide(case, approver, decision="approved")
    case = _fresh(case)
    assert case.status == S.APPROVED and case.decided_by == approver


def test_approve_with_tolerated_material_outstanding(world):
    case = walk(world, S.APPROVAL, follow=True)
    assert case.tolerated_pending
    approver = world.user("approver")
    error = _raises(
        Conflict, "materials_to_follow", services.decide, case, approver, decision="approved"
    )
    assert error.status == 409
    services.decide(case, approver, decision="approved_tolerated")
    case = _fresh(case)
    assert case.status == S.APPROVED_TOLERATED
    assert case.events.get(action="approve_tolerated").code == 12


def test_approve_tolerated_with_nothing_to_follow(world):
    case = walk(world, S.APPROVAL, follow=False)
    assert not case.tolerated_pending
    approver = world.user("approver")
    _raises(
        Conflict,
        "nothing_to_follow",
        services.decide,
        case,
        approver,
        decision="approved_tolerated",
    )
    _raises(Conflict, "nothing_to_follow", services.receive_tolerated, case, approver)
    services.decide(case, approver, decision="approved")
    assert _fresh(case).status == S.APPROVED


def test_tolerated_material_received_then_plain_approval(world):
    case = walk(world, S.IN_REVIEW, follow=True)
    services.receive_tolerated(case, world.user("reviewer"))
    assert not _fresh(case).tolerated_pending
    services.submit_for_approval(case, world.user("reviewer"))
    services.decide(case, world.user("approver"), decision="approved")
    assert _fresh(case).status == S.APPROVED


def test_close_needs_the_tolerated_material(world):
    case = walk(world, S.DELIVERED, follow=True)
    clerk = world.user("city_clerk")
    _raises(Conflict, "materials_to_follow", services.close, case, clerk)
    services.receive_tolerated(case, clerk)
    services.close(case, clerk)
    assert _fresh(case).status == S.CLOSED
    # a denied case closes without further ado
    denied = walk(world, S.DENIED)
    services.close(denied, world.user("reviewer"))
    assert _fresh(denied).status == S.CLOSED


def test_pickup_is_handed_out_by_the_clerk(world):
    case = walk(world, S.ISSUED, delivery="pickup")
    for key in ("reviewer", "approver"):
        _raises(Forbidden, "not_allowed", services.hand_out, case, world.user(key))
    assert _fresh(case).status == S.ISSUED
    services.hand_out(case, world.user("city_clerk"))
    assert _fresh(case).status == S.DELIVERED
    posted = walk(world, S.ISSUED, delivery="post")
    services.hand_out(posted, world.user("reviewer"))
    event = _fresh(posted).events.get(action="hand_out")
    assert event.role == "reviewer" and event.data["delivery_mode"] == "post"


def test_extension_once_within_ten_days(world):
    case = walk(world, S.IN_REVIEW)
    approver = world.user("approver")
    for days in (11, 0, -1, None):
        error = _raises(
            InvalidInput, None, services.extend, case, approver, days=days, reason="专家论证"
        )
        assert error.status == 422 and error.details[0]["field"] == "days"
    assert _fresh(case).extension_days == 0
    _raises(Forbidden, "not_allowed", services.extend, case, world.user("reviewer"), days=5,
            reason="专家论证")  # fmt: skip
    services.extend(case, approver, days=10, reason="专家论证")
    case = _fresh(case)
    assert case.extension_days == 10 and case.extension_reason == "专家论证"
    error = _raises(
        Conflict, "already_extended", services.extend, case, approver, days=1, reason="再延"
    )
    assert error.status == 409
    assert _fresh(case).extension_days == 10


def test_extension_limit_follows_the_setting(world, settings):
    settings.CASE_MAX_EXTENSION_DAYS = 15  # §42: joint handling may extend by 15
    case = walk(world, S.IN_REVIEW)
    services.extend(case, world.user("approver"), days=15, reason="联合办理")
    assert _fresh(case).extension_days == 15


def test_withdraw_reports_2_before_and_14_after_acceptance(world):
    early = walk(world, S.RECEIVED)
    services.withdraw(early, world.user("enterprise"), reason="不再申请")
    late = walk(world, S.SUPPLEMENT)
    assert late.paused_since is not None
    services.withdraw(late, world.user("city_clerk"), reason="申请人书面撤回")
    early, late = _fresh(early), _fresh(late)
    assert early.status == late.status == S.WITHDRAWN
    assert early.events.get(action="withdraw").code == 2
    assert late.events.get(action="withdraw").code == 14
    assert late.paused_since is None and late.assignee is None


def test_revoke_revokes_the_electronic_licence(world):
    from tongban.registry.models import Licence

    case = walk(world, S.CLOSED)
    licence = Licence.objects.get(case=case)
    assert licence.status != Licence.Status.REVOKED
    services.revoke(case, world.user("approver"), reason="以欺骗手段取得许可")
    licence.refresh_from_db()
    assert licence.status == Licence.Status.REVOKED
    assert _fresh(case).events.get(action="revoke").code == 15


def test_receive_tolerated_on_approved_needs_direct_setup(world):
    """``approved`` is a source of receive_tolerated in the table, but approve needs nothing to
    follow and only acceptance records a 容缺 material: the services never produce it."""
    case = walk(world, S.APPROVED)
    assert not case.tolerated_pending
    _raises(Conflict, "nothing_to_follow", services.receive_tolerated, case, world.user("approver"))


# --------------------------------------------------------------------------------------------
# The table's own consistency


def _reachable() -> set[str]:
    seen, frontier = {S.DRAFT.value}, [S.DRAFT.value]
    while frontier:
        status = frontier.pop()
        for row in TRANSITIONS:
            if status in row.sources and row.target not in seen:
                seen.add(row.target)
                frontier.append(row.target)
    return seen


def test_targets_and_sources_are_statuses():
    for row in TRANSITIONS:
        assert row.target in Status.values, row
        assert set(row.sources) <= set(Status.values), row
        assert row.actors and set(row.actors) <= set(Actor), row
        assert row.code is None or 1 <= row.code <= 15, row
    for row in ACTIONS:
        assert row.target is None, row
        assert set(row.sources) <= set(Status.values), row


def test_every_status_and_every_action_is_reachable():
    reachable = _reachable()
    assert reachable == set(Status.values)
    for row in ALL_STEPS:
        assert set(row.sources) & reachable, row
    assert set(ACTION_NAMES) == {r.action for r in ALL_STEPS}


def test_terminal_statuses_have_no_way_out_but_revoke_from_closed():
    for status in TERMINAL:
        out = [(t.action, t.target) for t in lifecycle.actions_from(status)]
        if status == S.CLOSED:
            assert out == [("revoke", S.REVOKED)]
        else:
            assert out == [], status
    for status in Status.values:
        if status not in TERMINAL:
            assert lifecycle.actions_from(status), f"{status} is a dead end"


def test_rows_of_one_step_never_share_an_actor():
    """Two rows for the same (action, status) differ by actor, so the row an actor takes is
    determined (needs may still differ)."""
    for (action, source), rows in PAIRS.items():
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                assert not (a.actors & b.actors), (action, source)


def test_clock_flags_match_the_clock_statuses():
    for row in TRANSITIONS:
        if row.stops_clock:
            assert row.target in lifecycle.CLOCK_STOPPED, row
        if row.restarts_clock:
            assert set(row.sources) <= set(lifecycle.CLOCK_STOPPED), row
            assert row.target in lifecycle.CLOCK_RUNNING, row
    entering_pause = {r.target for r in TRANSITIONS if r.target in lifecycle.CLOCK_STOPPED}
    assert entering_pause == {r.target for r in TRANSITIONS if r.stops_clock}


def test_every_need_and_actor_has_a_label():
    for need in Need:
        assert str(need.label)
    for actor in Actor:
        assert str(actor.label)


def test_available_actions_follow_the_table(world):
    case = walk(world, S.IN_REVIEW)
    names = {t.action for t in lifecycle.available_actions(world.user("reviewer"), case)}
    expected = {r.action for r in lifecycle.actions_from(S.IN_REVIEW) if Actor.REVIEWER in r.actors}
    assert names == expected
    assert "request_supplement" in names and "extend" not in names
    approver = {t.action for t in lifecycle.available_actions(world.user("approver"), case)}
    assert "extend" in approver and "approve" not in approver
    assert lifecycle.available_actions(world.user("citizen"), case) == []


def test_dates_are_on_the_walked_case(world):
    """Acceptance fixes the clock: the walker's cases carry a due date from then on."""
    case = walk(world, S.IN_REVIEW)
    assert case.accepted_on is not None and case.due_date is not None
    assert case.due_date > case.accepted_on
    assert isinstance(case.due_date, dt.date)
