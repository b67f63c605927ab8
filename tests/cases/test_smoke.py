from tests.cases.factories import online_case, walk_in_case
from tests.catalog.factories import make_item
from tongban.cases import services
from tongban.cases.models import Status


def test_online_happy_path(world):
    item = make_item(world, department=world.market_dept)
    case = online_case(world, item)
    assert case.status == Status.PRE_REVIEW
    clerk = world.user("city_clerk")
    services.accept(case, clerk)
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.due_date and case.tolerated_pending
    services.start_review(case, world.user("reviewer"))
    services.submit_for_approval(case, world.user("reviewer"), opinion="同意")
    services.decide(case, world.user("approver"), decision="approved_tolerated", reason="")
    services.issue_result(case, world.user("approver"))
    services.hand_out(case, clerk)
    case.refresh_from_db()
    assert case.status == Status.DELIVERED
    services.receive_tolerated(case, clerk)
    services.close(case, clerk)
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert [e.code for e in case.events.all() if e.code] == [1, 3, 8, 12]


def test_walk_in(world):
    item = make_item(world, department=world.market_dept)
    case = walk_in_case(world, item)
    assert case.status == Status.RECEIVED
