"""The supervision catalog: name normalization, duplicates and near-duplicates, power links."""

from __future__ import annotations

import pytest

from tests.catalog.factories import make_catalog_admin
from tongban.catalog import supervision
from tongban.catalog.models import Power, SupervisionItem
from tongban.core.errors import Conflict, Forbidden, InvalidInput
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db

NAME = "对食品生产经营者的监督检查"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("对食品生产经营者的监督检查", "食品生产经营者监督检查"),
        ("食品生产经营者的监督检查", "食品生产经营者监督检查"),
        ("对 食品生产经营者 的监督检查。", "食品生产经营者监督检查"),
        ("对（药品）零售企业的行政检查", "(药品)零售企业行政检查"),
        ("对ＡＢＣ企业的检查", "abc企业检查"),
    ],
)
def test_normalized_forms_agree(a, b):
    assert supervision.normalize_name(a) == supervision.normalize_name(b)


def test_normalization_keeps_meaningful_differences():
    n = supervision.normalize_name
    assert n("对外贸易经营者备案") == "对外贸易经营者备案"  # a leading 对 that is part of a word
    assert n("食品生产监督检查") != n("药品生产监督检查")
    assert n("") == ""


def create(world, code="JG-001", name=NAME, by=None, **kw):
    return supervision.create_supervision_item(
        code=code, name=name, department=kw.pop("department", world.market_dept), by=by, **kw
    )


def test_create_fills_normalized_name_links_powers_and_audits(world):
    power = Power.objects.create(
        code="P-1", name="食品经营许可", category="01", department=world.market_dept
    )
    item = create(
        world,
        by=world.user("catalog_admin"),
        basis="《中华人民共和国食品安全法》",
        measures="双随机抽查",
        object="食品生产经营者",
        powers=[power, power],
    )
    item.refresh_from_db()
    assert item.normalized_name == "食品生产经营者监督检查"
    assert list(item.powers.all()) == [power]
    event = AuditEvent.objects.get(action="catalog.supervision.create")
    assert event.data["powers"] == ["P-1"]
    assert event.actor == world.user("catalog_admin")


def test_exact_duplicate_name_is_refused_even_written_differently(world):
    create(world)
    with pytest.raises(Conflict) as exc:
        create(world, code="JG-002", name="食品生产经营者监督检查", confirm_similar=True)
    assert exc.value.code == "duplicate_name"
    assert exc.value.details[0]["code"] == "JG-001"
    assert "JG-001" in exc.value.message
    # Also across departments: names of the unified catalog are unique.
    with pytest.raises(Conflict):
        create(world, code="JG-003", name=NAME, department=world.health_dept)
    assert SupervisionItem.objects.count() == 1


def test_duplicate_code_is_refused(world):
    create(world)
    with pytest.raises(Conflict) as exc:
        create(world, name="完全不同的监管事项名称")
    assert exc.value.code == "duplicate_code"


@pytest.mark.parametrize(
    "near",
    [
        "对食品生产经营者的日常监督检查",  # one contains the other
        "对食品生产经营企业的监督检查",  # ratio ≥ 0.85
        "食品生产经营者",  # contained, at least 4 characters
    ],
)
def test_near_names_need_confirmation(world, near):
    create(world)
    with pytest.raises(InvalidInput) as exc:
        create(world, code="JG-009", name=near)
    assert exc.value.code == "similar_names"
    assert exc.value.details[0]["code"] == "JG-001"
    assert exc.value.details[0]["kind"] == "near"
    assert SupervisionItem.objects.count() == 1
    item = create(world, code="JG-009", name=near, confirm_similar=True)
    assert [s.item.code for s in item.similar] == ["JG-001"]


def test_unrelated_names_pass_without_confirmation(world):
    create(world)
    item = create(world, code="JG-002", name="对医疗机构依法执业的监督检查")
    assert item.similar == []
    assert supervision.find_similar("药品零售企业检查") == []


def test_find_similar_orders_duplicates_first_and_filters_by_department(world):
    create(world)
    create(world, code="JG-002", name="对食品生产经营者的日常监督检查", confirm_similar=True)
    found = supervision.find_similar("食品生产经营者监督检查")
    assert [(s.item.code, s.kind) for s in found] == [("JG-001", "duplicate"), ("JG-002", "near")]
    assert supervision.find_similar(NAME, world.health_dept) == []


def test_inactive_items_do_not_block_a_name(world):
    item = create(world)
    item.active = False
    item.save()
    create(world, code="JG-002")


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("code", {"code": ""}),
        ("code", {"code": "has space"}),
        ("name", {"name": "  "}),
        ("name", {"name": "。。。"}),
        ("level", {"level": "galactic"}),
    ],
)
def test_invalid_input_is_refused_with_the_field(world, field, kw):
    with pytest.raises(InvalidInput) as exc:
        create(world, **kw)
    assert exc.value.details[0]["field"] == field


def test_permissions(world):
    for key in ("city_clerk", "approver", "citizen"):
        with pytest.raises(Forbidden):
            create(world, by=world.user(key))
    health_admin = make_catalog_admin(world, "health_admin", department=world.health_dept)
    with pytest.raises(Forbidden):
        create(world, by=health_admin)
    assert create(world, by=health_admin, department=world.health_dept).pk


def test_update_renames_with_the_same_checks_and_keeps_normalized_name(world):
    a = create(world)
    b = create(world, code="JG-002", name="对医疗机构依法执业的监督检查")
    with pytest.raises(Conflict):
        supervision.update_supervision_item(b, {"name": "食品生产经营者监督检查"})
    with pytest.raises(InvalidInput):
        supervision.update_supervision_item(b, {"name": "对食品生产经营企业的监督检查"})
    # Renaming an item to a variant of its own name is not a conflict with itself.
    supervision.update_supervision_item(a, {"name": "食品生产经营者的监督检查"})
    a.refresh_from_db()
    assert a.name == "食品生产经营者的监督检查"
    assert a.normalized_name == "食品生产经营者监督检查"
    power = Power.objects.create(
        code="P-2", name="医疗机构执业登记", category="01", department=world.health_dept
    )
    supervision.update_supervision_item(
        b, {"measures": "现场检查"}, department=world.health_dept, powers=[power]
    )
    b.refresh_from_db()
    assert b.department == world.health_dept and list(b.powers.all()) == [power]
    event = AuditEvent.objects.filter(action="catalog.supervision.update").order_by("seq").last()
    assert event.data["before"]["department"] == "D-SCJG"
    assert event.data["after"]["powers"] == ["P-2"]


def test_supervision_items_selector_filters(world):
    create(world)
    create(world, code="JG-002", name="对医疗机构依法执业的监督检查", department=world.health_dept)
    assert [i.code for i in supervision.supervision_items(department="D-WJ")] == ["JG-002"]
    assert [i.code for i in supervision.supervision_items(q="食品生产经营者的")] == ["JG-001"]
    assert [i.code for i in supervision.supervision_items(q="JG-00")] == ["JG-001", "JG-002"]


def test_bulk_mode_checks_exact_duplicates_only(world):
    create(world)
    item = create(world, code="JG-002", name="对食品生产经营企业的监督检查", check_similar=False)
    assert item.similar == []
    with pytest.raises(Conflict):
        create(world, code="JG-003", name="食品生产经营者监督检查", check_similar=False)
