"""Where items may be accepted: scope on dates around a batch, the rule for city, town and
village centers, batch delegation (permissions, conflicts, audit), and agreement between the
item view (accepting_centers) and the center view (selectors.items_accepted_at)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.catalog.factories import make_catalog_admin, make_item
from tongban.catalog import acceptance, selectors
from tongban.catalog.acceptance import accepting_centers, can_accept_at, delegate_acceptance
from tongban.catalog.models import AcceptanceRule, AcceptanceScope, ServiceItem
from tongban.core.errors import Conflict, Forbidden, InvalidInput
from tongban.core.models import AuditEvent
from tongban.org.models import Region, ServiceCenter, Window

JUNE_2020 = date(2020, 6, 15)
DEPT, TOWN, CITY = (
    AcceptanceScope.DEPARTMENT_CENTER,
    AcceptanceScope.ANY_TOWN,
    AcceptanceScope.CITYWIDE,
)


def codes(centers) -> set[str]:
    return {c.code for c in centers}


def test_scope_on_dates_around_the_batch(world):
    item = make_item(world, "第一类医疗器械生产备案")
    batch = delegate_acceptance(
        [item], TOWN, "东府办〔2020〕40号", JUNE_2020, world.user("catalog_admin"), "就近办第一批"
    )
    assert acceptance.scope_on(item, JUNE_2020 - timedelta(days=1)) == DEPT
    assert acceptance.scope_on(item, JUNE_2020) == TOWN
    assert acceptance.scope_on(item, JUNE_2020 + timedelta(days=400)) == TOWN
    assert acceptance.scope_on(item, date(2018, 1, 1)) == DEPT  # before any rule
    assert acceptance.rule_on(item, JUNE_2020).batch == batch
    # 大朗镇 accepts it from the effective date on, not the day before
    assert not can_accept_at(item, world.town_center, JUNE_2020 - timedelta(days=1))
    assert can_accept_at(item, world.town_center, JUNE_2020)
    assert can_accept_at(item, world.city_center, JUNE_2020 - timedelta(days=1))


def test_city_item_department_center_only(world):
    item = make_item(world)
    assert codes(accepting_centers(item)) == {world.city_center.code}
    assert can_accept_at(item, world.city_center)
    assert not can_accept_at(item, world.town_center)
    assert not can_accept_at(item, world.village_point)


def test_department_window_makes_a_home_center(world):
    item = make_item(world)
    Window.objects.create(
        center=world.other_town_center, number="8", kind="department", department=world.market_dept
    )
    assert codes(accepting_centers(item)) == {world.city_center.code, world.other_town_center.code}
    assert not can_accept_at(item, world.town_center)


def test_any_town_reaches_every_town_center_but_not_villages(world):
    item = make_item(world, scope=TOWN)
    assert codes(accepting_centers(item)) == {
        world.city_center.code,
        world.town_center.code,
        world.other_town_center.code,
    }
    assert not can_accept_at(item, world.village_point)


def test_high_frequency_reaches_village_points(world):
    item = make_item(world, scope=TOWN, high_frequency=True)
    assert can_accept_at(item, world.village_point)
    city_only = make_item(world, high_frequency=True)  # department_center: city center only
    assert not can_accept_at(city_only, world.village_point)


def test_citywide_everywhere(world):
    item = make_item(world, scope=CITY)
    everything = codes(ServiceCenter.objects.all())
    assert codes(accepting_centers(item)) == everything
    assert can_accept_at(item, world.village_point)


def test_town_item_is_accepted_at_its_town_center(world):
    item = make_item(world, department=world.town_dept)
    assert codes(accepting_centers(item)) == {world.town_center.code}
    assert not can_accept_at(item, world.city_center)
    assert not can_accept_at(item, world.other_town_center)
    assert not can_accept_at(item, world.village_point)
    frequent = make_item(world, department=world.town_dept, high_frequency=True)
    assert codes(accepting_centers(frequent)) == {
        world.town_center.code,
        world.village_point.code,  # 水口村 is in 大朗镇
    }


def test_inactive_center_and_suspended_item_accept_nothing(world):
    item = make_item(world, scope=CITY)
    world.town_center.active = False
    world.town_center.save()
    assert not can_accept_at(item, world.town_center)
    item.status = "suspended"
    item.save()
    assert accepting_centers(item).count() == 0


def test_delegate_acceptance_creates_one_rule_per_item_and_audits(world):
    items = [make_item(world, f"事项{i}") for i in range(3)]
    batch = delegate_acceptance(
        items, TOWN, " 东府办〔2020〕40号 ", JUNE_2020, world.user("catalog_admin")
    )
    assert batch.document_no == "东府办〔2020〕40号"
    assert batch.rules.count() == 3
    assert set(AcceptanceRule.objects.filter(batch=batch).values_list("item_id", flat=True)) == {
        i.pk for i in items
    }
    event = AuditEvent.objects.get(action="catalog.acceptance_batch")
    assert event.data["items"] == [i.code for i in items]
    assert selectors.count_town_acceptance_items(JUNE_2020) == 3
    assert selectors.count_town_acceptance_items(JUNE_2020 - timedelta(days=1)) == 0


def test_delegate_acceptance_is_all_or_nothing(world):
    a, b = make_item(world, "甲"), make_item(world, "乙")
    delegate_acceptance([b], CITY, "文1", JUNE_2020, world.user("catalog_admin"))
    with pytest.raises(Conflict) as exc:
        delegate_acceptance([a, b], TOWN, "文2", JUNE_2020, world.user("catalog_admin"))
    assert b.code in exc.value.message
    assert not AcceptanceRule.objects.filter(item=a, effective_from=JUNE_2020).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"document_no": ""}, "document_no"),
        ({"scope": "everywhere"}, "scope"),
        ({"items": []}, "items"),
    ],
)
def test_delegate_acceptance_validates(world, kwargs, field):
    args = {
        "items": [make_item(world)],
        "scope": TOWN,
        "document_no": "文号",
        "effective_from": JUNE_2020,
        "by": world.user("catalog_admin"),
    }
    args.update(kwargs)
    with pytest.raises(InvalidInput) as exc:
        delegate_acceptance(**args)
    assert field in {d["field"] for d in exc.value.details}


@pytest.mark.parametrize("who", ["town_clerk", "citizen", "supervisor", "health_admin"])
def test_delegate_acceptance_needs_a_catalog_admin_in_scope(world, who):
    if who == "health_admin":
        user = make_catalog_admin(world, who, department=world.health_dept)
    else:
        user = world.user(who)
    item = make_item(world)
    with pytest.raises(Forbidden):
        delegate_acceptance([item], TOWN, "文号", JUNE_2020, user)
    assert not item.acceptance_rules.filter(effective_from=JUNE_2020).exists()


def test_set_initial_scope_corrects_the_same_day(world):
    item = make_item(world)
    rule = acceptance.set_initial_scope(item, CITY, date(2019, 1, 1))
    assert item.acceptance_rules.count() == 1 and rule.scope == CITY
    with pytest.raises(InvalidInput):
        acceptance.set_initial_scope(item, "nowhere", date(2019, 1, 1))


def test_item_view_and_center_view_agree(world):
    """For every item × center × date, can_accept_at and items_accepted_at give one answer."""
    Window.objects.create(
        center=world.other_town_center, number="9", kind="department", department=world.health_dept
    )
    # a village point in 虎门 (where health has a window) and one in 东城 with a market window
    for code, parent, name in (
        ("441900121201", world.other_town, "虎门某社区"),
        ("441900003201", world.street, "东城某社区"),
    ):
        region = Region.objects.create(code=code, name=name, level="community", parent=parent)
        ServiceCenter.objects.create(
            code=f"SC{code}", name=f"{name}党群服务中心", level="village", region=region
        )
    Window.objects.create(
        center=ServiceCenter.objects.get(code="SC441900003201"),
        number="1",
        kind="department",
        department=world.market_dept,
    )
    items = []
    for dept in (world.market_dept, world.health_dept, world.town_dept):
        for scope in (DEPT, TOWN, CITY):
            for hf in (False, True):
                items.append(make_item(world, department=dept, scope=scope, high_frequency=hf))
    delegate_acceptance(items[:6], CITY, "文号", JUNE_2020, world.user("catalog_admin"))
    suspended = make_item(world, scope=CITY, status="suspended")
    items.append(suspended)
    centers = list(ServiceCenter.objects.select_related("region"))
    for on_date in (JUNE_2020 - timedelta(days=1), JUNE_2020):
        for center in centers:
            from_center = set(
                selectors.items_accepted_at(center, on_date=on_date).values_list("pk", flat=True)
            )
            from_items = {i.pk for i in items if can_accept_at(i, center, on_date)}
            assert from_center == from_items, (center.code, on_date)
    assert not can_accept_at(suspended, world.city_center)


def test_published_items_center_filter(world):
    near = make_item(world, "就近办事项", scope=TOWN)
    make_item(world, "市级事项")
    assert list(selectors.published_items(center=world.town_center.code)) == [near]
    assert list(selectors.published_items(center="NO-SUCH")) == []


def test_counts_for_statistics(world):
    make_item(world, "全程网办许可")  # licensing, Ⅳ, 0 visits, result by post
    make_item(
        world, "全程网办许可（变更）", parent=ServiceItem.objects.first(), business_kind="change"
    )
    make_item(world, "网办一次", depth=3, visits=1, result_by_mail=False)
    make_item(world, "窗口办理", depth=1, visits=2, handled_online=False, result_by_mail=False)
    make_item(world, "就近办不见面", item_type="20", legal=None, scope=TOWN)
    make_item(world, "草稿", published=False)
    make_item(world, "暂停", status="suspended")
    assert selectors.count_items(item_type="01") == 4  # sub-items count
    assert selectors.count_items(item_type="01", online=True) == 3
    assert selectors.count_items(item_type="01", depth=4, visits=0) == 2
    assert selectors.count_items(max_visits=1) == 4
    assert selectors.count_items(no_meeting=True) == 3
    assert selectors.count_no_meeting() == 3
    assert selectors.count_no_meeting(center=world.city_center) == 3
    assert selectors.count_no_meeting(center=world.town_center) == 1
    assert selectors.counts_by_type() == {"01": 4, "20": 1}
