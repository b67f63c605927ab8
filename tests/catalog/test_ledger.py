"""The delegation ledger: overlaps, recovery, who exercises a power on a date, batches,
timelines and the approving body of an item."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.catalog.factories import make_catalog_admin, make_item
from tongban.catalog import ledger
from tongban.catalog.models import LedgerEntry, Power
from tongban.core.errors import Conflict, Forbidden, InvalidInput
from tongban.core.models import AuditEvent
from tongban.org.models import Region

pytestmark = pytest.mark.django_db

D0 = date(2020, 6, 1)  # delegation date
R0 = date(2021, 1, 1)  # recovery date
DOC = "东府〔2020〕50号"


def make_power(world, code="P-SCJG-001", name="第一类医疗器械生产备案", department=None, **kw):
    return Power.objects.create(
        code=code,
        name=name,
        category=kw.pop("category", "01"),
        department=department or world.market_dept,
        **kw,
    )


@pytest.fixture
def power(world):
    return make_power(world)


def delegate(power, region, on=D0, doc=DOC, action="delegate", by=None, **kw):
    return ledger.record_entry(power, action, region, on, doc, by=by, **kw)


def recover(power, region, on=R0, doc="东府〔2021〕1号", by=None):
    return ledger.record_entry(power, "recover", region, on, doc, by=by)


# ----------------------------------------------------------------------------- who exercises


def test_without_entries_the_department_exercises_its_power(world, power):
    ex = ledger.who_exercises(power, world.town, D0)
    assert ex.mode == "own"
    assert ex.body == "东莞市市场监督管理局"
    assert ex.department == world.market_dept
    assert ex.entry is None


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D0 - timedelta(days=1), "own"),
        (D0, "delegate"),
        (D0 + timedelta(days=1), "delegate"),
        (R0 - timedelta(days=1), "delegate"),
        (R0, "own"),
        (R0 + timedelta(days=1), "own"),
    ],
)
def test_functional_area_delegation_covers_area_member_town_and_its_villages(
    world, power, day, expected
):
    entry = delegate(power, world.functional_area)
    recover(power, world.functional_area)
    for region in (world.functional_area, world.town, world.village):
        ex = ledger.who_exercises(power, region, day)
        assert ex.mode == expected, (region.name, day)
        if expected == "delegate":
            assert ex.entry == entry
            assert ex.body == "松山湖管理委员会"
            assert ex.department is None  # exercised in the receiving body's own name
            assert ex.region == world.functional_area
    # A town outside the functional area and the city itself are never covered.
    assert ledger.who_exercises(power, world.other_town, day).mode == "own"
    assert ledger.who_exercises(power, world.city, day).mode == "own"


def test_town_delegation_does_not_cover_the_functional_area_or_other_towns(world, power):
    delegate(power, world.town, receiving_body="大朗镇人民政府")
    assert ledger.who_exercises(power, world.town, D0).body == "大朗镇人民政府"
    assert ledger.who_exercises(power, world.village, D0).mode == "delegate"
    assert ledger.who_exercises(power, world.functional_area, D0).mode == "own"
    assert ledger.who_exercises(power, world.other_town, D0).mode == "own"


def test_entrustment_keeps_the_entrusting_departments_name(world, power):
    delegate(power, world.other_town, action="entrust")
    ex = ledger.who_exercises(power, world.other_town, D0)
    assert ex.mode == "entrust"
    assert ex.body == "虎门镇人民政府"
    assert ex.department == world.market_dept
    assert ex.in_name_of == "东莞市市场监督管理局"
    assert str(ex.mode_label) == "委托"


def test_redelegation_after_recovery_is_followed(world, power):
    delegate(power, world.town)
    recover(power, world.town)
    again = delegate(power, world.town, on=date(2022, 3, 1), doc="东府〔2022〕9号")
    assert ledger.who_exercises(power, world.town, date(2021, 6, 1)).mode == "own"
    assert ledger.who_exercises(power, world.town, date(2022, 3, 1)).entry == again


# ----------------------------------------------------------------------------- overlaps


def test_same_region_twice_is_refused_naming_the_conflicting_document(world, power):
    delegate(power, world.town)
    with pytest.raises(Conflict) as exc:
        delegate(power, world.town, on=date(2020, 9, 1), doc="东府〔2020〕80号")
    assert exc.value.code == "ledger_overlap"
    assert DOC in exc.value.message
    assert exc.value.details[0]["document_no"] == DOC
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize("first", ["functional_area", "town"])
def test_functional_area_and_member_town_overlap_either_way(world, power, first):
    second = "town" if first == "functional_area" else "functional_area"
    delegate(power, getattr(world, first))
    with pytest.raises(Conflict, match="重叠"):
        delegate(power, getattr(world, second), doc="另一文号")
    # A town outside the area is a different region.
    delegate(power, world.other_town, doc="另一文号")


@pytest.mark.parametrize("order", ["ancestor_first", "descendant_first"])
def test_ancestor_and_descendant_regions_overlap(world, power, order):
    area = Region.objects.create(
        code="DG-FA-SX", name="水乡功能区", level="functional_area", parent=world.city
    )
    inner = Region.objects.create(code="441900199", name="测试镇", level="town", parent=area)
    first, second = (area, inner) if order == "ancestor_first" else (inner, area)
    delegate(power, first)
    with pytest.raises(Conflict) as exc:
        delegate(power, second, doc="另一文号")
    assert first.name in exc.value.message


def test_overlapping_dates_are_refused_and_adjacent_periods_allowed(world, power):
    delegate(power, world.functional_area)
    recover(power, world.functional_area)  # in force [2020-06-01, 2021-01-01)
    with pytest.raises(Conflict, match="东府〔2020〕50号"):
        delegate(power, world.town, on=date(2020, 10, 1), doc="X1")
    with pytest.raises(Conflict):  # open-ended from before the period
        delegate(power, world.town, on=date(2019, 1, 1), doc="X2")
    with pytest.raises(Conflict):
        delegate(power, world.town, on=R0 - timedelta(days=1), doc="X3")
    entry = delegate(power, world.town, on=R0, doc="X4")  # starts the day it was recovered
    assert ledger.who_exercises(power, world.village, R0).entry == entry


def test_other_powers_do_not_conflict(world, power):
    other = make_power(world, code="P-SCJG-002", name="食品经营许可")
    delegate(power, world.town)
    delegate(other, world.town)
    assert LedgerEntry.objects.count() == 2


# ----------------------------------------------------------------------------- recovery


def test_recovery_ends_the_entry_in_force(world, power):
    entry = delegate(power, world.functional_area)
    rec = recover(power, world.functional_area)
    assert rec.ends == entry
    assert rec.receiving_body == ""
    entry.refresh_from_db()
    assert entry.ended_by == rec


def test_recovery_before_or_on_the_delegation_date_is_refused(world, power):
    delegate(power, world.town)
    with pytest.raises(Conflict) as exc:
        recover(power, world.town, on=D0 - timedelta(days=10))
    assert exc.value.code == "recover_before_grant"
    with pytest.raises(Conflict) as exc:
        recover(power, world.town, on=D0)
    assert exc.value.code == "recover_before_grant"
    assert LedgerEntry.objects.filter(action="recover").count() == 0


def test_an_entry_is_recovered_once(world, power):
    delegate(power, world.town)
    recover(power, world.town)
    for day in (R0 + timedelta(days=30), R0 - timedelta(days=30)):
        with pytest.raises(Conflict) as exc:
            recover(power, world.town, on=day)
        assert exc.value.code == "already_recovered"
        assert "已于2021-01-01收回" in exc.value.message


def test_recovery_needs_something_in_force_in_exactly_that_region(world, power):
    with pytest.raises(Conflict) as exc:
        recover(power, world.town)
    assert exc.value.code == "nothing_to_recover"
    delegate(power, world.functional_area)
    with pytest.raises(Conflict) as exc:
        recover(power, world.town)  # the member town holds it through the functional area
    assert exc.value.code == "recover_wrong_region"
    assert "松山湖功能区" in exc.value.message


# ----------------------------------------------------------------------------- input and rights


@pytest.mark.parametrize(
    ("region_attr", "doc", "on", "field"),
    [
        ("town", "", D0, "document_no"),
        ("town", "   ", D0, "document_no"),
        ("village", DOC, D0, "region"),
        ("city", DOC, D0, "region"),
        ("town", DOC, date(1970, 1, 1), "effective_from"),
        ("town", DOC, date.today() + timedelta(days=365 * 20), "effective_from"),
    ],
)
def test_invalid_entries_are_refused_with_the_field(world, power, region_attr, doc, on, field):
    with pytest.raises(InvalidInput) as exc:
        delegate(power, getattr(world, region_attr), on=on, doc=doc)
    assert exc.value.details[0]["field"] == field
    assert LedgerEntry.objects.count() == 0


def test_unknown_action_is_refused(world, power):
    with pytest.raises(InvalidInput):
        delegate(power, world.town, action="sell")


def test_region_outside_the_departments_region_is_refused(world):
    town_power = make_power(world, code="P-113-1", name="镇级权力", department=world.town_dept)
    with pytest.raises(InvalidInput):
        delegate(town_power, world.other_town)


def test_an_inactive_power_cannot_be_delegated_but_can_be_recovered(world, power):
    delegate(power, world.town)
    power.active = False
    power.save()
    with pytest.raises(Conflict):
        delegate(power, world.other_town, doc="X")
    recover(power, world.town)


def test_only_catalog_admins_in_scope_write(world, power):
    for key in ("city_clerk", "reviewer", "supervisor", "citizen"):
        with pytest.raises(Forbidden):
            delegate(power, world.town, by=world.user(key))
    health_admin = make_catalog_admin(world, "health_admin", department=world.health_dept)
    with pytest.raises(Forbidden):
        delegate(power, world.town, by=health_admin)
    market_admin = make_catalog_admin(world, "market_admin", department=world.market_dept)
    entry = delegate(power, world.town, by=market_admin)
    assert entry.created_by == market_admin
    event = AuditEvent.objects.get(action="catalog.ledger.delegate")
    assert event.actor == market_admin
    assert event.data["document_no"] == DOC
    assert event.data["region"] == "441900113"
    recover(power, world.town, by=world.user("catalog_admin"))
    assert AuditEvent.objects.filter(action="catalog.ledger.recover").count() == 1


# ----------------------------------------------------------------------------- batches


@pytest.fixture
def powers(world):
    return [make_power(world, code=f"P-B-{i:03d}", name=f"批量权力{i}") for i in range(1, 6)]


def test_delegate_batch_to_a_functional_area(world, powers):
    admin = world.user("catalog_admin")
    entries = ledger.delegate_batch(powers, world.functional_area, D0, DOC, by=admin)
    assert len(entries) == 5
    assert all(e.pk for e in entries)
    assert {e.receiving_body for e in entries} == {"松山湖管理委员会"}
    for p in powers:
        assert ledger.who_exercises(p, world.village, D0).mode == "delegate"
    event = AuditEvent.objects.get(action="catalog.ledger.batch")
    assert event.data["powers"] == [p.code for p in powers]
    assert len(event.data["entries"]) == 5


def test_delegate_batch_is_all_or_nothing_and_reports_every_conflict(world, powers):
    delegate(powers[1], world.town, doc="甲")
    delegate(powers[3], world.functional_area, doc="乙")
    with pytest.raises(Conflict) as exc:
        ledger.delegate_batch(powers, world.functional_area, D0, DOC, by=None)
    assert exc.value.code == "ledger_batch_refused"
    assert [d["power"] for d in exc.value.details] == ["P-B-002", "P-B-004"]
    assert "甲" in exc.value.details[0]["message"]
    assert LedgerEntry.objects.count() == 2  # nothing written
    assert not AuditEvent.objects.filter(action="catalog.ledger.batch").exists()


def test_recover_batch_all_or_nothing(world, powers):
    ledger.delegate_batch(powers[:4], world.functional_area, D0, DOC)
    with pytest.raises(Conflict) as exc:
        ledger.recover_batch(powers, world.functional_area, R0, "收回文号")
    assert [d["power"] for d in exc.value.details] == ["P-B-005"]
    assert LedgerEntry.objects.filter(action="recover").count() == 0
    entries = ledger.recover_batch(powers[:4], world.functional_area, R0, "收回文号")
    assert len(entries) == 4
    assert all(e.ends.power_id == e.power_id for e in entries)
    assert ledger.who_exercises(powers[0], world.town, R0).mode == "own"


def test_batch_rejects_recover_as_a_grant_and_empty_lists(world, powers):
    with pytest.raises(InvalidInput):
        ledger.delegate_batch(powers, world.town, D0, DOC, action="recover")
    with pytest.raises(InvalidInput):
        ledger.delegate_batch([], world.town, D0, DOC)


def test_batch_forbidden_outside_scope(world, powers):
    health_admin = make_catalog_admin(world, "health_admin", department=world.health_dept)
    with pytest.raises(Forbidden):
        ledger.delegate_batch(powers, world.town, D0, DOC, by=health_admin)
    with pytest.raises(Forbidden):
        ledger.delegate_batch(powers, world.town, D0, DOC, by=world.user("town_clerk"))
    assert LedgerEntry.objects.count() == 0


# ----------------------------------------------------------------------------- timeline


def test_timeline_lists_entries_in_date_order_with_who_exercised(world, power):
    a = delegate(power, world.functional_area)
    r = recover(power, world.functional_area)
    b = delegate(power, world.other_town, on=date(2019, 3, 1), doc="早期文号", action="entrust")
    tl = ledger.timeline(power)
    assert tl.owner == "东莞市市场监督管理局"
    assert [row.entry for row in tl.rows] == [b, a, r]
    first, second, third = tl.rows
    assert first.effective_to is None and first.exercised_by == "虎门镇人民政府"
    assert first.action_label == "委托"
    assert second.effective_to == R0 and second.ended_by == r
    assert second.exercised_by == "松山湖管理委员会"
    assert third.recovers == a and third.exercised_by == "东莞市市场监督管理局"


# ----------------------------------------------------------------------------- approving body


def test_approving_body_follows_the_items_power_on_the_acceptance_date(world, power):
    item = make_item(world, power=power)
    plain = make_item(world, "无对应权力的事项")
    delegate(power, world.functional_area)
    before = ledger.approving_body(item, world.town, D0 - timedelta(days=1))
    assert before.mode == "own" and before.department == item.department
    on = ledger.approving_body(item, world.town, D0)
    assert on.body == "松山湖管理委员会" and on.mode == "delegate"
    assert ledger.approving_body(item, world.other_town, D0).body == "东莞市市场监督管理局"
    assert ledger.approving_body(plain, world.town, D0).department == world.market_dept


def test_statistics_count_grants_recoveries_and_functional_areas(world, powers):
    ledger.delegate_batch(powers[:3], world.functional_area, D0, DOC)
    ledger.delegate_batch(powers[3:], world.other_town, D0, DOC)
    ledger.recover_batch(powers[:1], world.functional_area, R0, "收回")
    stats = ledger.ledger_statistics()
    assert stats == {
        "entries_granted": 5,
        "entries_recovered": 1,
        "powers_granted": 5,
        "powers_granted_to_functional_areas": 3,
    }
    assert ledger.ledger_statistics(D0 - timedelta(days=1))["entries_granted"] == 0
