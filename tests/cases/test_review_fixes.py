"""Rules tightened after the independent review: the approving department after a delegation,
four eyes on two-level decisions, internal opinions kept inside, the back office seeing cases
from acceptance on, and the window's receive-and-accept as one step."""

import datetime as dt

import pytest

from tests.cases.factories import online_case, upload, walk_in_case
from tests.catalog.factories import make_item
from tongban.cases import services
from tongban.cases.models import Case, Status
from tongban.cases.selectors import visible_to
from tongban.catalog.models import LedgerEntry, Power
from tongban.core.errors import Conflict, Forbidden, InvalidInput
from tongban.notify.models import Notification


def delegated_item(world, *, body: str, action: str = "delegate"):
    power = Power.objects.create(
        code="P-TEST-1", name="测试许可", category="01", department=world.market_dept
    )
    LedgerEntry.objects.create(
        power=power,
        action=action,
        region=world.town,
        receiving_body=body,
        effective_from=dt.date(2020, 1, 1),
        document_no="东府〔2020〕1号",
    )
    return make_item(world, department=world.market_dept, scope="any_town", power=power)


def accept_at_town(world, item) -> Case:
    case = online_case(world, item, center=world.town_center)
    return services.accept(case, world.user("town_clerk"))


def test_a_delegated_power_routes_the_case_to_the_receiving_department(world):
    item = delegated_item(world, body=world.town_dept.name)
    case = accept_at_town(world, item)
    assert case.department == world.town_dept
    assert case.approving_body == world.town_dept.name


def test_entrusted_power_is_handled_by_the_receiver_in_the_owners_name(world):
    item = delegated_item(world, body=world.town_dept.name, action="entrust")
    case = accept_at_town(world, item)
    assert case.department == world.town_dept
    assert case.decision_in_name_of == world.market_dept.name


def test_an_unregistered_receiving_body_stops_acceptance_instead_of_guessing(world):
    item = delegated_item(world, body="大朗镇不存在的分局")
    case = online_case(world, item, center=world.town_center)
    with pytest.raises(Conflict) as caught:
        services.accept(case, world.user("town_clerk"))
    assert caught.value.code == "approving_department_unknown"
    assert "大朗镇不存在的分局" in caught.value.message
    case.refresh_from_db()
    assert case.status == Status.PRE_REVIEW and case.accepted_at is None


def test_who_submits_for_approval_cannot_also_approve(world):
    from tests.factories import assign
    from tongban.org.roles import Role

    both = world.user("reviewer")
    assign(both, Role.APPROVER, department=world.market_dept)
    item = make_item(world, department=world.market_dept)
    case = services.accept(online_case(world, item), world.user("city_clerk"))
    services.start_review(case, both)
    services.submit_for_approval(case, both, opinion="同意")
    with pytest.raises(Forbidden) as caught:
        services.decide(case, both, decision="approved_tolerated")
    assert caught.value.code == "four_eyes"
    assert not services.feasible(case, both, "approve_tolerated")
    services.decide(case, world.user("approver"), decision="approved_tolerated")
    assert Case.objects.get(pk=case.pk).status == Status.APPROVED_TOLERATED


def test_internal_opinions_are_not_sent_to_the_applicant(world):
    item = make_item(world, department=world.market_dept)
    case = services.accept(online_case(world, item), world.user("city_clerk"))
    services.start_review(case, world.user("reviewer"))
    services.submit_for_approval(case, world.user("reviewer"), opinion="法人信用记录可疑")
    services.return_for_review(case, world.user("approver"), reason="重新核查法人背景")
    sent = " ".join(Notification.objects.filter(case=case).values_list("body", flat=True))
    assert "信用记录可疑" not in sent and "法人背景" not in sent
    assert case.events.filter(note__contains="信用记录可疑").exists()  # kept for staff


def test_the_back_office_sees_a_case_from_acceptance_on(world):
    item = make_item(world, department=world.market_dept)
    case = online_case(world, item)
    reviewer = world.user("reviewer")
    assert not visible_to(reviewer).filter(pk=case.pk).exists()
    services.accept(case, world.user("city_clerk"))
    assert visible_to(reviewer).filter(pk=case.pk).exists()


def test_receive_and_accept_is_one_step(world):
    item = make_item(world, department=world.market_dept)
    clerk = world.user("city_clerk")
    draft = walk_in_case(world, item, received=False)
    # take a required material back: acceptance fails, and the draft is not received either
    required = draft.materials.filter(material__necessity="required").first()
    services.remove_material(draft, clerk, case_material_id=required.pk)
    with pytest.raises(Conflict):
        services.receive_and_accept(draft, clerk)
    assert Case.objects.get(pk=draft.pk).status == Status.DRAFT
    services.add_upload(draft, clerk, material_id=required.material_id, upload=upload())
    assert services.receive_and_accept(draft, clerk).status == Status.ACCEPTED


def test_paper_and_licence_need_a_checklist_entry(world):
    item = make_item(world, department=world.market_dept)
    draft = walk_in_case(world, item, received=False)
    with pytest.raises(InvalidInput):
        services.check_paper(draft, world.user("city_clerk"), material_id=None)
    with pytest.raises(InvalidInput):
        services.attach_licence(draft, world.user("city_clerk"), material_id=None, licence_id=1)


def test_a_result_cannot_be_valid_until_a_past_day(world):
    item = make_item(world, department=world.market_dept, steps=None)
    case = services.accept(online_case(world, item), world.user("city_clerk"))
    services.start_review(case, world.user("reviewer"))
    services.submit_for_approval(case, world.user("reviewer"))
    services.decide(case, world.user("approver"), decision="approved_tolerated")
    with pytest.raises(InvalidInput):
        services.issue_result(case, world.user("approver"), valid_until=dt.date(2020, 1, 1))
