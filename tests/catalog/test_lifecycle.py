"""Version lifecycle: the transition table (each allowed step works, every other is refused),
four eyes, frozen published versions, new versions, permissions and audit."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from tests.catalog.factories import make_catalog_admin, make_item, version_defaults
from tests.factories import make_user
from tongban.catalog import lifecycle, selectors, services
from tongban.catalog.lifecycle import TRANSITIONS, Action
from tongban.catalog.models import ItemVersion, Material, ServiceItem
from tongban.core.errors import Conflict, Forbidden, InvalidInput
from tongban.core.models import AuditEvent

State = ItemVersion.State
ALL_ACTIONS = list(Action)
ALL_STATES = list(State)
ALLOWED = {(t.source, t.action): t.target for t in TRANSITIONS}


@pytest.fixture
def admins(world):
    """Three catalog administrators over the whole city (four eyes needs more than one)."""
    return (
        world.user("catalog_admin"),
        make_catalog_admin(world, "catalog_admin2"),
        make_catalog_admin(world, "catalog_admin3"),
    )


def _new_item(world, by, code="11441900TEST0001", **fields):
    data = version_defaults(**fields)
    data["materials"] = [{"name": "申请表", "necessity": "required"}]
    data["steps"] = [
        {"kind": "accept", "name": "受理", "role": "window_clerk", "days": 1},
        {"kind": "review", "name": "审核", "role": "reviewer", "days": 1},
        {"kind": "decide", "name": "决定", "role": "approver", "days": 1},
        {"kind": "conclude", "name": "办结", "role": "approver", "days": 1},
        {"kind": "deliver", "name": "送达", "role": "window_clerk", "days": 1},
    ]
    data["faqs"] = [{"question": "要多久？", "answer": "5个工作日。"}]
    return services.create_item(
        code=code,
        base_code="TEST00000001",
        item_type="01",
        department=world.market_dept,
        version=data,
        by=by,
    )


def _version_in(world, state: str) -> ItemVersion:
    """A version of a fresh item in ``state`` (written straight to the database)."""
    if state in (State.PUBLISHED, State.RETIRED):
        item = make_item(world)
        version = item.published_version
        if state == State.RETIRED:
            version.state = State.RETIRED
            version.save()
            item.published_version = None
            item.save()
        return version
    item = make_item(world, published=False)
    version = item.versions.get()
    version.state = state
    version.save()
    return version


def test_table_is_well_formed():
    assert len(ALLOWED) == len(TRANSITIONS)  # no duplicate (state, action)
    for t in TRANSITIONS:
        assert t.source in State.values and t.target in State.values
        assert str(t.label)
    # every state is reachable from draft
    reached, frontier = {State.DRAFT}, [State.DRAFT]
    while frontier:
        s = frontier.pop()
        for t in lifecycle.actions_from(s):
            if t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(State.values)
    assert lifecycle.actions_from(State.RETIRED) == []


def _apply(version, action, user):
    if action == Action.EDIT:
        return services.update_draft(version, {"change_note": "改"}, user)
    return services.apply_action(version, action, user, reason="材料清单不全")


@pytest.mark.parametrize("state", ALL_STATES)
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_every_state_action_pair(world, admins, state, action):
    version = _version_in(world, state)
    second = admins[1]  # not an author of any of these versions
    key = (state, action)
    if key in ALLOWED:
        assert lifecycle.can_transition(version, action, second)
        result = _apply(version, action, second)
        result.refresh_from_db()
        assert result.state == ALLOWED[key]
    else:
        assert not lifecycle.can_transition(version, action, second)
        with pytest.raises(Conflict) as exc:
            _apply(version, action, second)
        assert exc.value.status == 409
        assert exc.value.code == "illegal_transition"
        version.refresh_from_db()
        assert version.state == state


def test_full_workflow_with_four_eyes(world, admins):
    author, reviewer, _third = admins
    item = _new_item(world, author)
    draft = item.versions.get()
    assert draft.state == State.DRAFT and draft.number == 1
    assert item.acceptance_rules.count() == 1
    services.submit(draft, author)
    with pytest.raises(Forbidden) as exc:
        services.approve(draft, author)
    assert exc.value.code == "four_eyes"
    services.approve(draft, reviewer)
    services.publish(draft, author)
    item.refresh_from_db()
    draft.refresh_from_db()
    assert item.published_version_id == draft.pk
    assert draft.state == State.PUBLISHED and draft.published_at is not None
    assert draft.submitted_by == author and draft.approved_by == reviewer
    assert selectors.published_items().filter(pk=item.pk).exists()
    actions = list(
        AuditEvent.objects.filter(target_id=str(draft.pk), target_type="catalog.itemversion")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "catalog.version_create",
        "catalog.version_submit",
        "catalog.version_approve",
        "catalog.version_publish",
    ]
    assert AuditEvent.objects.filter(action="catalog.item_create", target_id=str(item.pk)).exists()


def test_editor_cannot_approve_even_if_someone_else_submitted(world, admins):
    author, editor, third = admins
    item = _new_item(world, author)
    draft = item.versions.get()
    services.update_draft(draft, {"conditions": "依法设立。"}, editor)
    services.submit(draft, author)
    for person in (author, editor):
        assert not lifecycle.can_transition(draft, Action.APPROVE, person)
        with pytest.raises(Forbidden):
            services.approve(draft, person)
    draft.refresh_from_db()
    assert draft.state == State.SUBMITTED
    services.approve(draft, third)
    draft.refresh_from_db()
    assert draft.state == State.APPROVED


def test_submitter_of_a_copied_version_cannot_approve(world, admins):
    author, reviewer, _ = admins
    item = make_item(world)
    draft = services.start_new_version(item, reviewer)  # reviewer created it
    services.submit(draft, author)
    with pytest.raises(Forbidden):
        services.approve(draft, author)  # submitter
    with pytest.raises(Forbidden):
        services.approve(draft, reviewer)  # creator


def test_superuser_is_bound_by_four_eyes(world, admins):
    root = make_user("root", is_superuser=True, is_staff=True)
    item = _new_item(world, root)
    draft = item.versions.get()
    services.submit(draft, root)
    with pytest.raises(Forbidden):
        services.approve(draft, root)
    services.approve(draft, admins[0])


def test_published_version_never_changes_and_edit_makes_new_version(world, admins):
    author, reviewer, _ = admins
    item = make_item(world, "食品经营许可")
    v1 = item.published_version
    materials_before = list(v1.materials.values_list("name", flat=True))
    with pytest.raises(Conflict) as exc:
        services.update_draft(v1, {"name": "改名"}, author)
    assert "新建版本" in exc.value.message

    v2 = services.start_new_version(item, author)
    assert (v2.number, v2.state) == (2, State.DRAFT)
    assert v2.name == v1.name and v2.online_depth == v1.online_depth
    assert list(v2.materials.values_list("name", flat=True)) == materials_before
    assert v2.steps.count() == 5 and v2.faqs.count() == 1
    with pytest.raises(Conflict):
        services.start_new_version(item, author)  # one open version at a time

    services.update_draft(
        v2,
        {"name": "食品经营许可（新办）", "materials": [{"name": "新申请表"}]},
        author,
    )
    v1.refresh_from_db()
    assert v1.name == "食品经营许可"
    assert list(v1.materials.values_list("name", flat=True)) == materials_before
    item.refresh_from_db()
    assert item.published_version_id == v1.pk  # the draft is not in force yet

    services.submit(v2, author)
    services.approve(v2, reviewer)
    services.publish(v2, author)
    v1.refresh_from_db()
    item.refresh_from_db()
    assert v1.state == State.RETIRED and v1.retired_at is not None
    assert item.published_version_id == v2.pk
    assert v1.name == "食品经营许可"  # the old version stays readable, unchanged
    assert list(v1.materials.values_list("name", flat=True)) == materials_before
    assert [v.number for v in selectors.versions_of(item)] == [2, 1]


def test_reject_needs_a_reason_and_returns_to_draft(world, admins):
    author, reviewer, _ = admins
    draft = _new_item(world, author).versions.get()
    services.submit(draft, author)
    with pytest.raises(InvalidInput):
        services.reject(draft, reviewer, "  ")
    services.reject(draft, reviewer, "收费依据缺失")
    draft.refresh_from_db()
    assert draft.state == State.DRAFT and draft.submitted_by is None
    assert selectors.last_rejection(draft)["reason"] == "收费依据缺失"
    services.update_draft(draft, {"change_note": "已补充"}, author)
    services.submit(draft, author)


def test_approved_version_can_be_sent_back(world, admins):
    author, reviewer, _ = admins
    draft = _new_item(world, author).versions.get()
    services.submit(draft, author)
    services.approve(draft, reviewer)
    services.reject(draft, author, "发布前发现错别字")
    draft.refresh_from_db()
    assert draft.state == State.DRAFT and draft.approved_by is None


def test_submit_checks_every_rule(world, admins):
    author = admins[0]
    draft = _new_item(world, author).versions.get()
    services.update_draft(draft, {"charges_fee": True, "promised_limit_days": 30}, author)
    with pytest.raises(InvalidInput) as exc:
        services.submit(draft, author)
    rules_hit = {d["rule"] for d in exc.value.details}
    assert {"fees", "promised_within_legal"} <= rules_hit
    draft.refresh_from_db()
    assert draft.state == State.DRAFT


def test_update_draft_reports_field_errors_and_saves_nothing(world, admins):
    author = admins[0]
    draft = _new_item(world, author).versions.get()
    with pytest.raises(InvalidInput) as exc:
        services.update_draft(
            draft,
            {
                "name": "x" * 300,
                "subject": "martian",
                "no_such_field": 1,
                "materials": [{"name": ""}, {"name": "ok", "kind": "weird"}],
            },
            author,
        )
    fields = {d["field"] for d in exc.value.details}
    assert {"name", "subject", "no_such_field", "materials[0].name", "materials[1].kind"} <= fields
    draft.refresh_from_db()
    assert draft.name == "测试事项" and draft.materials.count() == 1


def test_materials_keep_their_files_by_id(world, admins):
    author = admins[0]
    draft = _new_item(world, author).versions.get()
    material = draft.materials.get()
    services.attach_material_file(
        material, "blank_form", ContentFile(b"%PDF-1.4", "form.pdf"), author
    )
    material.refresh_from_db()
    stored = material.blank_form.name
    assert stored
    services.update_draft(
        draft, {"materials": [{"id": material.pk, "name": "申请表（2026版）"}]}, author
    )
    kept = draft.materials.get()
    assert kept.name == "申请表（2026版）" and kept.blank_form.name == stored
    with pytest.raises(InvalidInput):  # no referencing arbitrary files
        services.update_draft(
            draft, {"materials": [{"name": "x", "blank_form": "../../etc/passwd"}]}, author
        )
    # a new version carries the file along
    services.submit(draft, author)
    services.approve(draft, admins[1])
    services.publish(draft, author)
    v2 = services.start_new_version(draft.item, author)
    assert v2.materials.get().blank_form.name == stored
    Material.objects.filter(pk=kept.pk).first().blank_form.delete(save=False)


@pytest.mark.parametrize("who", ["city_clerk", "citizen", "reviewer", "center_admin", "other"])
def test_only_catalog_admins_in_scope_write(world, admins, who):
    if who == "other":
        user = make_catalog_admin(world, "health_catalog", department=world.health_dept)
    else:
        user = world.user(who)
    with pytest.raises(Forbidden):
        _new_item(world, user)
    item = make_item(world)
    with pytest.raises(Forbidden):
        services.start_new_version(item, user)
    draft = services.start_new_version(item, admins[0])
    with pytest.raises(Forbidden):
        services.update_draft(draft, {"name": "x"}, user)
    with pytest.raises(Forbidden):
        services.submit(draft, user)
    services.submit(draft, admins[0])
    assert not lifecycle.can_transition(draft, Action.APPROVE, user)
    with pytest.raises(Forbidden):
        services.approve(draft, user)
    with pytest.raises(Forbidden):
        services.reject(draft, user, "不行")


def test_department_scoped_admin_manages_own_department_only(world):
    market_admin = make_catalog_admin(world, "market_catalog", department=world.market_dept)
    own = make_item(world)
    other = make_item(world, department=world.health_dept)
    assert lifecycle.can_manage(market_admin, own.department)
    assert not lifecycle.can_manage(market_admin, other.department)
    services.start_new_version(own, market_admin)
    with pytest.raises(Forbidden):
        services.start_new_version(other, market_admin)
    assert set(selectors.manageable_items(market_admin)) == {own}


def test_retire_takes_the_item_out_of_force(world, admins):
    item = make_item(world)
    services.retire(item.published_version, admins[0], "事项取消")
    item.refresh_from_db()
    assert item.published_version is None
    assert not selectors.published_items().filter(pk=item.pk).exists()
    assert item.versions.get().state == State.RETIRED
    v2 = services.start_new_version(item, admins[0])  # can be revived from the last version
    assert v2.number == 2


def test_create_item_validates_and_defaults(world, admins):
    author = admins[0]
    with pytest.raises(InvalidInput) as exc:
        services.create_item(
            code="",
            base_code="1234567890123",  # 13 > 12
            item_type="99",
            department=world.market_dept,
            version={"name": "x", "subject": "legal", "promised_limit_days": 0},
            by=author,
        )
    fields = {d["field"] for d in exc.value.details}
    assert {"code", "base_code", "item_type"} <= fields
    assert not ServiceItem.objects.exists()
    item = services.create_item(
        code="C-1",
        base_code="C1",
        item_type="20",
        department=world.market_dept,
        version={"name": "即办查询", "subject": "natural", "promised_limit_days": 0},
        by=author,
    )
    assert item.versions.get().case_kind == ItemVersion.CaseKind.IMMEDIATE
    with pytest.raises(InvalidInput) as exc:
        services.create_item(
            code="C-1",
            base_code="C1",
            item_type="20",
            department=world.market_dept,
            version={"name": "重复", "subject": "natural", "promised_limit_days": 0},
            by=author,
        )
    assert exc.value.details[0]["field"] == "code"


def test_available_actions_follow_the_caller(world, admins):
    author, reviewer, _ = admins
    draft = _new_item(world, author).versions.get()
    assert [t.action for t in lifecycle.available_actions(draft, author)] == [Action.SUBMIT]
    services.submit(draft, author)
    assert [t.action for t in lifecycle.available_actions(draft, author)] == [Action.REJECT]
    assert {t.action for t in lifecycle.available_actions(draft, reviewer)} == {
        Action.APPROVE,
        Action.REJECT,
    }
    assert lifecycle.available_actions(draft, world.user("citizen")) == []
