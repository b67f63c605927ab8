"""Cross-field rules of an implementation list: each rule with a failing and a passing case,
every error reported at once, with field and a Chinese message."""

from __future__ import annotations

import pytest

from tests.catalog.factories import DEFAULT_MATERIALS, FIVE_STEPS, make_item, version_defaults
from tongban.catalog import rules
from tongban.catalog.models import ItemVersion, Material, ProcessStep, ServiceItem
from tongban.catalog.rules import check_version
from tongban.catalog.services import validate_version
from tongban.core.errors import InvalidInput


def _steps(days=1, kinds=None):
    rows = [(k, n, r, days) for k, n, r, _d in FIVE_STEPS]
    if kinds is not None:
        rows = [row for row in rows if row[0] in kinds]
    return [
        ProcessStep(order=i, kind=k, name=n, role=r, days=d) for i, (k, n, r, d) in enumerate(rows)
    ]


def _materials(rows=None):
    return [Material(order=i, **m) for i, m in enumerate(rows or DEFAULT_MATERIALS)]


def check(version=None, item=None, materials=None, steps=None, **fields):
    """Errors of a version built from the valid defaults plus ``fields`` (no database)."""
    item = item or ServiceItem(code="X1", base_code="X1", item_type="01", department_id=1)
    version = version or ItemVersion(item=item, number=1, **version_defaults(**fields))
    return check_version(
        version,
        item=item,
        materials=_materials() if materials is None else materials,
        steps=_steps() if steps is None else steps,
    )


def fields_of(errors):
    return {(e["rule"], e["field"]) for e in errors}


def test_defaults_pass():
    assert check() == []


# (rule, failing overrides, passing overrides, field expected in the failure)
CASES = [
    ("name_required", {"name": "  "}, {"name": "食品经营许可"}, "name"),
    ("subject_required", {"subject": ""}, {"subject": "both"}, "subject"),
    (
        "case_kind",
        {"promised_limit_days": 0, "case_kind": "promised"},
        {"promised_limit_days": 0, "case_kind": "immediate"},
        "case_kind",
    ),
    (
        "case_kind",
        {"promised_limit_days": 3, "case_kind": "immediate"},
        {"promised_limit_days": 3, "case_kind": "promised"},
        "promised_limit_days",
    ),
    (
        "promised_within_legal",
        {"promised_limit_days": 25, "legal_limit_days": 20},
        {"promised_limit_days": 20, "legal_limit_days": 20},
        "promised_limit_days",
    ),
    (
        "licensing_legal_limit",
        {"legal_limit_days": None},
        {"legal_limit_days": 20},
        "legal_limit_days",
    ),
    (
        "ranges",
        {"max_visits": 3, "online_depth": 2, "handled_online": True},
        {"max_visits": 2, "online_depth": 2, "handled_online": True},
        "max_visits",
    ),
    (
        "depth_four",
        {"online_depth": 4, "max_visits": 1},
        {"online_depth": 4, "max_visits": 0},
        "max_visits",
    ),
    (
        "depth_four",
        {"online_depth": 4, "handled_online": False, "handled_by_mail": True},
        {"online_depth": 4, "handled_online": True},
        "handled_online",
    ),
    (
        "depth_online",
        {"online_depth": 3, "max_visits": 2},
        {"online_depth": 3, "max_visits": 1},
        "max_visits",
    ),
    (
        "depth_online",
        {"online_depth": 3, "max_visits": 1, "handled_online": False},
        {"online_depth": 3, "max_visits": 1, "handled_online": True},
        "handled_online",
    ),
    (
        "depth_online",
        {"online_depth": 1, "max_visits": 1, "handled_online": True},
        {"online_depth": 1, "max_visits": 1, "handled_online": False},
        "online_depth",
    ),
    (
        "zero_visits_mail",
        {"online_depth": 1, "max_visits": 0, "handled_online": False, "handled_by_mail": False},
        {"online_depth": 1, "max_visits": 0, "handled_online": False, "handled_by_mail": True},
        "handled_by_mail",
    ),
    (
        "handling_form",
        {
            "online_depth": 1,
            "max_visits": 1,
            "handled_online": False,
            "handled_by_mail": False,
            "handled_at_window": False,
        },
        {
            "online_depth": 1,
            "max_visits": 1,
            "handled_online": False,
            "handled_by_mail": False,
            "handled_at_window": True,
        },
        "handled_at_window",
    ),
    (
        "fees",
        {"charges_fee": True, "fee_items": "工本费10元", "fee_basis": "", "online_payment": True},
        {
            "charges_fee": True,
            "fee_items": "工本费10元",
            "fee_basis": "粤价〔2020〕1号",
            "online_payment": True,
        },
        "fee_basis",
    ),
    (
        "fees",
        {
            "charges_fee": True,
            "fee_items": "工本费10元",
            "fee_basis": "粤价〔2020〕1号",
            "online_payment": False,
        },
        {"charges_fee": False, "online_payment": False},
        "online_payment",
    ),
    (
        "fees",
        {"charges_fee": True, "fee_items": "", "fee_basis": "x", "online_payment": True},
        {"charges_fee": True, "fee_items": "10元", "fee_basis": "x", "online_payment": True},
        "fee_items",
    ),
    (
        "appointment",
        {"appointment_supported": False, "appointment_daily_quota": 50},
        {"appointment_supported": True, "appointment_daily_quota": 50},
        "appointment_daily_quota",
    ),
    (
        "appointment",
        {"appointment_supported": True, "appointment_daily_quota": 0},
        {"appointment_supported": True, "appointment_daily_quota": None},
        "appointment_daily_quota",
    ),
    (
        "entrusted",
        {"implementer_nature": "3", "entrusting_department": ""},
        {"implementer_nature": "3", "entrusting_department": "东莞市市场监督管理局"},
        "entrusting_department",
    ),
    (
        "entrusted",
        {"power_source": "5"},
        {"power_source": "5", "entrusting_department": "广东省药品监督管理局"},
        "entrusting_department",
    ),
    ("vocabularies", {"themes": ["no_such_theme"]}, {"themes": ["b_food_drug"]}, "themes"),
    ("vocabularies", {"life_events": ["birth", "nope"]}, {"life_events": ["birth"]}, "life_events"),
]


@pytest.mark.parametrize(("rule", "failing", "passing", "field"), CASES)
def test_version_field_rules(rule, failing, passing, field):
    errors = check(**failing)
    assert (rule, field) in fields_of(errors), errors
    message = next(e["message"] for e in errors if e["rule"] == rule and e["field"] == field)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)  # a Chinese message
    assert not [e for e in check(**passing) if e["rule"] == rule], check(**passing)


def test_licensing_needs_the_five_steps():
    errors = check(steps=_steps(kinds={"accept", "review", "decide"}))
    failure = [e for e in errors if e["rule"] == "licensing_steps"]
    assert failure and "办结" in failure[0]["message"] and "送达" in failure[0]["message"]
    assert not [e for e in check(steps=_steps()) if e["rule"] == "licensing_steps"]


def test_other_types_need_no_five_steps():
    item = ServiceItem(code="X2", base_code="X2", item_type="20", department_id=1)
    errors = check(item=item, steps=_steps(kinds={"accept"}), legal_limit_days=None)
    assert not [e for e in errors if e["rule"] in ("licensing_steps", "licensing_legal_limit")]


def test_licensing_steps_in_order():
    steps = _steps()
    steps[1], steps[2] = steps[2], steps[1]  # decide before review
    assert "licensing_steps" in {e["rule"] for e in check(steps=steps)}


def test_every_step_has_a_role_and_name():
    steps = _steps()
    steps[2].role = ""
    steps[3].name = ""
    errors = check(steps=steps)
    assert ("steps_named", "steps[2].role") in fields_of(errors)
    assert ("steps_named", "steps[3].name") in fields_of(errors)
    assert not [e for e in check(steps=_steps()) if e["rule"] == "steps_named"]


def test_step_days_within_promised_limit():
    errors = check(steps=_steps(days=2), promised_limit_days=5)  # 10 > 5
    failure = [e for e in errors if e["rule"] == "step_days"]
    assert failure and "10" in failure[0]["message"]
    assert not [
        e for e in check(steps=_steps(days=2), promised_limit_days=10) if e["rule"] == "step_days"
    ]


def test_immediate_item_needs_zero_day_steps():
    errors = check(steps=_steps(days=1), promised_limit_days=0, case_kind="immediate")
    assert "step_days" in {e["rule"] for e in errors}
    assert check(steps=_steps(days=0), promised_limit_days=0, case_kind="immediate") == []


def test_licensing_needs_a_required_material():
    optional = [
        {"name": "说明", "necessity": "optional"},
        {"name": "后补", "necessity": "tolerated"},
    ]
    assert "licensing_material" in {e["rule"] for e in check(materials=_materials(optional))}
    assert check(materials=_materials([{"name": "申请表", "necessity": "required"}])) == []


def test_material_rules():
    rows = [
        {"name": "", "necessity": "required"},
        {"name": "营业执照", "source": "government", "licence_type": ""},
        {"name": "电子照片", "kind": "electronic", "form": "paper"},
        {"name": "身份证复印件", "kind": "copy", "form": "paper", "copies": 0},
    ]
    errors = fields_of(check(materials=_materials(rows)))
    assert {
        ("materials", "materials[0].name"),
        ("materials", "materials[1].licence_type"),
        ("materials", "materials[2].form"),
        ("materials", "materials[3].copies"),
    } <= errors
    fixed = [
        {"name": "申请表", "necessity": "required"},
        {"name": "营业执照", "source": "government", "licence_type": "营业执照"},
        {"name": "电子照片", "kind": "electronic", "form": "electronic", "copies": 0},
        {"name": "身份证复印件", "kind": "copy", "form": "paper", "copies": 1},
    ]
    assert check(materials=_materials(fixed)) == []


def test_sub_item_rules():
    parent = ServiceItem(code="P", base_code="P", item_type="01", department_id=1)
    parent.pk = 10
    bad = ServiceItem(code="P-1", base_code="P", item_type="07", department_id=2, parent=parent)
    errors = fields_of(check(item=bad))
    assert ("sub_item", "business_kind") in errors
    assert ("sub_item", "parent") in errors  # another department
    assert ("sub_item", "item_type") in errors
    good = ServiceItem(
        code="P-1",
        base_code="P",
        item_type="01",
        department_id=1,
        parent=parent,
        business_kind="change",
    )
    assert check(item=good) == []
    grandchild = ServiceItem(
        code="P-1-1",
        base_code="P",
        item_type="01",
        department_id=1,
        parent=good,
        business_kind="new",
    )
    good.parent_id = 10
    assert ("sub_item", "parent") in fields_of(check(item=grandchild))
    lone = ServiceItem(
        code="Q", base_code="Q", item_type="01", department_id=1, business_kind="new"
    )
    assert ("sub_item", "business_kind") in fields_of(check(item=lone))


def test_all_errors_at_once():
    errors = check(
        name="",
        promised_limit_days=30,
        legal_limit_days=20,
        charges_fee=True,
        online_depth=4,
        max_visits=2,
        steps=_steps(kinds={"accept"}),
    )
    found = {e["rule"] for e in errors}
    assert {
        "name_required",
        "promised_within_legal",
        "fees",
        "depth_four",
        "licensing_steps",
    } <= found
    assert all(set(e) == {"field", "message", "rule"} for e in errors)


def test_every_rule_has_a_case():
    covered = {c[0] for c in CASES} | {
        "licensing_steps",
        "steps_named",
        "step_days",
        "licensing_material",
        "materials",
        "sub_item",
    }
    assert {r.code for r in rules.RULES} == covered


def test_validate_version_raises_every_error(world):
    item = make_item(world, published=False, promised=0, case_kind="promised", name="")
    with pytest.raises(InvalidInput) as exc:
        validate_version(item.versions.get())
    assert exc.value.status == 422
    rules_hit = {d["rule"] for d in exc.value.details}
    assert {"name_required", "case_kind"} <= rules_hit
    ok = make_item(world, published=False)
    validate_version(ok.versions.get())  # no error
