"""The Dongguan demo catalog: the published figures counted from records with plain ORM queries,
cross-field rules on every version, the June 2020 acceptance batch, the delegation ledger, the
supervision catalog, and a second run that changes nothing."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.test import override_settings
from django.utils import timezone

from tongban.catalog import acceptance, ledger, rules
from tongban.catalog import demo as catalog_demo
from tongban.catalog.models import (
    AcceptanceBatch,
    AcceptanceRule,
    Faq,
    ItemVersion,
    LedgerEntry,
    Material,
    Power,
    ProcessStep,
    ServiceItem,
    SupervisionItem,
)
from tongban.catalog.supervision import find_similar, normalize_name
from tongban.catalog.themes import LIFE_EVENTS, THEMES
from tongban.org import demo as org_demo
from tongban.org.models import Region, ServiceCenter

pytestmark = pytest.mark.django_db

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEVICE_FILING = "第一类医疗器械生产备案"


@pytest.fixture(scope="module", autouse=True)
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    """Seed the organization and the catalog once for the module inside a transaction that is
    rolled back at the end; each test runs in a savepoint inside it. Form files go to a
    temporary media directory."""
    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")))
    media.enable()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        with override_settings(PASSWORD_HASHERS=FAST_HASHER):
            org_demo.seed("dongguan")
        result = catalog_demo.seed("dongguan", index=False)  # search has its own tests
    try:
        yield result
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
        media.disable()


# --- Plain ORM definitions (the module docstring of catalog/demo.py) ----------------------------
def plain_entries():
    """In use, published, and no sub-item of its own in use with a published version."""
    live_sub = ServiceItem.objects.filter(
        parent=OuterRef("pk"), status="in_use", published_version__state="published"
    )
    return ServiceItem.objects.filter(
        status="in_use", published_version__state="published"
    ).exclude(Exists(live_sub))


def plain_no_meeting():
    return plain_entries().filter(
        published_version__max_visits=0, published_version__result_by_mail=True
    )


def city_scope_today(item_ids) -> dict[int, str]:
    """The scope in force today per item, from the AcceptanceRule rows (latest date ≤ today)."""
    today = timezone.localdate()
    scope: dict[int, tuple[date, str]] = {}
    for item_id, effective, value in AcceptanceRule.objects.filter(
        item_id__in=list(item_ids), effective_from__lte=today
    ).values_list("item_id", "effective_from", "scope"):
        if item_id not in scope or effective > scope[item_id][0]:
            scope[item_id] = (effective, value)
    return {k: v for k, (_d, v) in scope.items()}


# --- Published figures ---------------------------------------------------------------------------
def test_licensing_entries_online_and_full_online():
    licensing = plain_entries().filter(item_type="01")
    assert licensing.count() == 1478
    assert licensing.filter(published_version__handled_online=True).count() == 1478
    full = licensing.filter(published_version__online_depth=4, published_version__max_visits=0)
    assert full.count() == 1417
    assert round(full.count() / licensing.count(), 4) == 0.9587
    # Sub-items count, their base items do not.
    assert licensing.filter(parent__isnull=False).count() > 1000
    with_subs = ServiceItem.objects.filter(item_type="01", sub_items__isnull=False).distinct()
    assert not licensing.filter(pk__in=with_subs).exists()


def test_entries_helper_matches_the_plain_definition():
    assert set(catalog_demo.entries().values_list("pk", flat=True)) == set(
        plain_entries().values_list("pk", flat=True)
    )
    assert catalog_demo.figures() == catalog_demo.FIGURES


def test_every_type_is_in_the_catalog_with_sub_items():
    per_type = Counter(plain_entries().values_list("item_type", flat=True))
    assert set(per_type) >= {"01", "05", "06", "07", "08", "09", "10", "20", "21"}
    assert sum(per_type.values()) > 4000
    assert sum(n for t, n in per_type.items() if t != "01") > 2500
    for item_type in ("07", "20", "21"):
        assert ServiceItem.objects.filter(item_type=item_type, parent__isnull=False).exists()


def test_no_meeting_entries_and_those_at_the_citizen_service_center():
    no_meeting = plain_no_meeting()
    assert no_meeting.count() == 2878
    # Two-way free post: the same entries by every reading of the flags.
    assert set(no_meeting.values_list("pk", flat=True)) == set(
        plain_entries()
        .filter(published_version__materials_by_mail=True, published_version__handled_by_mail=True)
        .values_list("pk", flat=True)
    )
    rows = list(no_meeting.values_list("pk", "department__level"))
    scope = city_scope_today(pk for pk, _level in rows)
    at_city = [pk for pk, level in rows if level == "city" or scope[pk] == "citywide"]
    assert len(at_city) == 619
    # The acceptance module agrees, on a sample from both sides.
    city_center = ServiceCenter.objects.get(code=catalog_demo.CITY_CENTER_CODE)
    others = sorted({pk for pk, _level in rows} - set(at_city))
    assert len(others) == 2878 - 619
    for pk in sorted(at_city)[::41]:
        assert acceptance.can_accept_at(ServiceItem.objects.get(pk=pk), city_center)
    for pk in others[::97]:
        item = ServiceItem.objects.select_related("department__region").get(pk=pk)
        assert not acceptance.can_accept_at(item, city_center)
        town_center = ServiceCenter.objects.get(code=f"SC{item.department.region.code}")
        assert acceptance.can_accept_at(item, town_center)


def test_every_street_and_town_implements_items_of_its_own():
    towns = Region.objects.filter(level__in=["street", "town"], parent__code="441900")
    assert towns.count() == 32
    for town in towns:
        items = ServiceItem.objects.filter(department__region=town)
        assert items.count() >= 80, town.name
        assert items.filter(published_version__exercise_level="town").count() == items.count()
        assert items.filter(power__isnull=True).count() == items.count()


# --- Acceptance ----------------------------------------------------------------------------------
def test_june_2020_batch_delegates_40_city_items_to_the_towns():
    batch = AcceptanceBatch.objects.get()
    assert batch.scope == "any_town"
    assert batch.effective_from == date(2020, 6, 1)
    assert "〔2020〕" in batch.document_no and "虚构" in batch.document_no
    rules_ = AcceptanceRule.objects.filter(batch=batch)
    assert rules_.count() == 40
    assert rules_.values("item").distinct().count() == 40
    assert not rules_.exclude(item__department__level="city").exists()
    assert AcceptanceRule.objects.filter(scope="any_town").count() == 40
    names = set(rules_.values_list("item__published_version__name", flat=True))
    assert DEVICE_FILING in names


def test_first_class_medical_device_filing_moves_to_the_towns_in_june_2020():
    item = ServiceItem.objects.get(published_version__name=DEVICE_FILING)
    assert item.item_type == "21" and item.department.code == "D-SCJG"
    assert not item.sub_items.exists()
    assert acceptance.scope_on(item, date(2020, 5, 1)) == "department_center"
    assert acceptance.scope_on(item, date(2020, 6, 30)) == "any_town"
    dalang = ServiceCenter.objects.get(code="SC441900113")
    assert not acceptance.can_accept_at(item, dalang, date(2020, 5, 1))
    assert acceptance.can_accept_at(item, dalang, date(2020, 6, 30))
    city_center = ServiceCenter.objects.get(code="SC441900")
    assert acceptance.can_accept_at(item, city_center, date(2020, 5, 1))


def test_every_item_has_an_acceptance_rule_and_high_frequency_items_are_citywide():
    assert not ServiceItem.objects.filter(acceptance_rules__isnull=True).exists()
    assert not AcceptanceRule.objects.exclude(
        effective_from__in=[date(2019, 1, 1), date(2020, 6, 1)]
    ).exists()
    frequent = plain_entries().filter(high_frequency=True)
    assert frequent.count() == 150
    assert not frequent.exclude(department__level="city").exists()
    assert not frequent.exclude(acceptance_rules__scope="citywide").exists()
    item = frequent.get(published_version__name="社会保障卡申领")
    village = ServiceCenter.objects.filter(level="village").order_by("code").first()
    assert acceptance.can_accept_at(item, village)


# --- Versions and the cross-field rules ----------------------------------------------------------
def test_every_item_has_one_published_version():
    assert not ServiceItem.objects.filter(published_version__isnull=True).exists()
    assert ItemVersion.objects.count() == ServiceItem.objects.count()
    assert not ItemVersion.objects.exclude(state="published").exists()
    assert not ItemVersion.objects.exclude(number=1).exists()
    assert not ItemVersion.objects.filter(published_at__isnull=True).exists()
    assert not ServiceItem.objects.exclude(status="in_use").exists()


def test_every_version_passes_the_cross_field_rules():
    versions = ItemVersion.objects.select_related("item", "item__parent").prefetch_related(
        "materials", "steps"
    )
    failures = []
    for version in versions.iterator(chunk_size=500):
        errors = rules.check_version(
            version,
            item=version.item,
            materials=list(version.materials.all()),
            steps=list(version.steps.all()),
        )
        if errors:
            failures.append((version.name, errors[:2]))
    assert not failures, failures[:5]


def test_time_limits_and_case_kinds():
    versions = ItemVersion.objects.all()
    assert not versions.filter(promised_limit_days=0).exclude(case_kind="immediate").exists()
    assert not versions.filter(case_kind="immediate").exclude(promised_limit_days=0).exists()
    assert not versions.filter(legal_limit_days__lt=F("promised_limit_days")).exists()
    assert not versions.filter(item__item_type="01", legal_limit_days__isnull=True).exists()
    assert not versions.filter(online_depth=4).exclude(max_visits=0).exists()
    assert (
        not versions.filter(charges_fee=True)
        .filter(Q(online_payment=False) | Q(fee_basis=""))
        .exists()
    )
    assert versions.filter(charges_fee=True).count() >= 20


def test_green_channel_for_domestic_commercial_performances():
    item = ServiceItem.objects.get(published_version__name="国内营业性演出审批", parent=None)
    version = item.published_version
    assert version.green_channel and version.promised_limit_days == 1
    assert "营业性演出审批（国内）" in version.aliases.splitlines()
    for sub in item.sub_items.select_related("published_version"):
        assert sub.published_version.green_channel
        assert sub.published_version.promised_limit_days == 1


def test_materials_steps_and_faqs():
    per_version = Counter(Material.objects.values_list("version_id", flat=True))
    assert set(per_version) == set(ItemVersion.objects.values_list("pk", flat=True))
    assert min(per_version.values()) >= 3 and max(per_version.values()) <= 6
    assert Material.objects.filter(necessity="tolerated").count() > 1000
    reused = Material.objects.filter(source="government")
    assert reused.filter(licence_type="营业执照").exists()
    assert reused.filter(licence_type="居民身份证").exists()
    assert not reused.filter(licence_type="").exists()
    licensing = ItemVersion.objects.filter(item__item_type="01").annotate(n=Count("steps"))
    assert not licensing.exclude(n=5).exists()
    for version in licensing.filter(promised_limit_days__gte=3)[:200]:
        steps = list(version.steps.order_by("order"))
        assert [s.kind for s in steps] == ["accept", "review", "decide", "conclude", "deliver"]
        assert [s.role for s in steps] == [
            "window_clerk", "reviewer", "approver", "approver", "window_clerk",
        ]  # fmt: skip
        assert sum(s.days for s in steps) <= version.promised_limit_days
    assert (
        ProcessStep.objects.count() > 4 * ItemVersion.objects.filter(item__item_type="01").count()
    )
    food = ServiceItem.objects.get(published_version__name="食品经营许可证核发", parent=None)
    assert Faq.objects.filter(version=food.published_version).count() >= 2


def test_popular_items_offer_a_blank_form_and_a_sample():
    from django.core.files.storage import default_storage

    food = ItemVersion.objects.get(name="食品经营许可证核发")
    form = food.materials.get(order=1)
    assert form.name == "食品经营许可证核发申请表" and form.blank_form and form.sample
    assert "legal" in form.blank_form.name
    residence = ItemVersion.objects.get(name="居住证申领").materials.get(order=1)
    assert "natural" in residence.blank_form.name
    for name in (form.blank_form.name, form.sample.name, residence.sample.name):
        assert default_storage.exists(name)
        with default_storage.open(name, "rb") as f:
            assert f.read(5) == b"%PDF-"
    with_forms = Material.objects.exclude(blank_form="")
    assert 300 < with_forms.count() < Material.objects.count() / 4
    assert not with_forms.exclude(order=1).exists()


def test_everyday_words_themes_and_life_events():
    food = ItemVersion.objects.get(name="食品经营许可证核发")
    for phrase in ("开饭店", "开餐馆", "卖吃的"):
        assert phrase in food.aliases.splitlines()
    birth = ItemVersion.objects.get(name="出生登记")
    assert "生孩子" in birth.aliases.splitlines()
    assert "birth" in birth.life_events and "household" in birth.life_events
    for version in ItemVersion.objects.filter(name="生育登记"):  # the city's and the towns'
        assert "birth" in version.life_events and "生孩子" in version.aliases
    for version in ItemVersion.objects.only("themes", "life_events").iterator(chunk_size=1000):
        assert version.themes and set(version.themes) <= set(THEMES)
        assert set(version.life_events) <= set(LIFE_EVENTS)
    company = ItemVersion.objects.get(name="公司登记")
    assert "start_business" in company.life_events and "b_establish" in company.themes
    closing = ItemVersion.objects.get(name="公司登记（注销登记）")
    assert "closure" in closing.life_events


def test_codes():
    for code, base_code, parent_code, parent_base in ServiceItem.objects.values_list(
        "code", "base_code", "parent__code", "parent__base_code"
    ):
        assert len(base_code) == 12 and base_code.startswith("441900"), code
        assert code.startswith(base_code)
        if parent_code:
            assert base_code == parent_base
            assert code.startswith(parent_code) and len(code) == 18
        else:
            assert len(code) == 15
    assert ServiceItem.objects.filter(department__level="town", code__endswith="113").exists()


# --- Powers and the delegation ledger ------------------------------------------------------------
def test_items_link_to_their_power():
    city_power_items = ServiceItem.objects.filter(
        department__level="city", item_type__in=[f"{n:02d}" for n in range(1, 11)]
    )
    assert not city_power_items.filter(power__isnull=True).exists()
    for item in city_power_items.filter(parent=None).select_related("power", "published_version"):
        assert item.power.department_id == item.department_id
        assert item.power.category == item.item_type
        assert item.power.name == item.published_version.name
    subs = ServiceItem.objects.filter(parent__isnull=False, parent__power__isnull=False)
    assert subs.count() > 1000
    assert not subs.exclude(power=F("parent__power")).exists()
    categories = set(Power.objects.values_list("category", flat=True))
    assert categories == {f"{n:02d}" for n in range(1, 11)}


def test_ledger_counts():
    delegated = LedgerEntry.objects.filter(action="delegate")
    assert delegated.count() == 785
    assert delegated.values("power").distinct().count() == 785
    fa = delegated.filter(region__code__in=["DG-FA-SSH", "DG-FA-SX"])
    assert fa.count() == 168
    assert fa.filter(region__code="DG-FA-SSH").count() == 108
    assert (
        not delegated.exclude(region__code__in=["DG-FA-SSH", "DG-FA-SX"])
        .exclude(region__level__in=["street", "town"])
        .exists()
    )
    assert delegated.values("power__department").distinct().count() >= 30
    assert LedgerEntry.objects.filter(action="recover").count() == 99
    assert not LedgerEntry.objects.exclude(action__in=["delegate", "recover"]).exists()
    stats = ledger.ledger_statistics()
    assert stats == {
        "entries_granted": 785,
        "entries_recovered": 99,
        "powers_granted": 785,
        "powers_granted_to_functional_areas": 168,
    }
    for entry in LedgerEntry.objects.all():
        assert date(2019, 1, 1) <= entry.effective_from <= date(2020, 12, 31)
        assert "〔" in entry.document_no and entry.note


def test_recoveries_end_earlier_delegations_of_the_same_power_and_region():
    for recovery in LedgerEntry.objects.filter(action="recover").select_related("ends"):
        ended = recovery.ends
        assert ended.action == "delegate"
        assert (ended.power_id, ended.region_id) == (recovery.power_id, recovery.region_id)
        assert ended.effective_from < recovery.effective_from
    # One granting entry per power: nothing overlaps.
    granting = LedgerEntry.objects.exclude(action="recover").values("power")
    assert not granting.annotate(n=Count("id")).filter(n__gt=1).exists()


def test_who_exercises_around_a_recovered_delegation():
    recovery = LedgerEntry.objects.filter(action="recover").select_related(
        "ends", "power", "region"
    )[0]
    entry, power, town = recovery.ends, recovery.power, recovery.region
    day = timedelta(days=1)
    assert ledger.who_exercises(power, town, entry.effective_from - day).mode == "own"
    during = ledger.who_exercises(power, town, entry.effective_from)
    assert during.mode == "delegate" and during.body == entry.receiving_body
    assert during.body.startswith(town.name)
    village = town.children.first()
    assert ledger.who_exercises(power, village, recovery.effective_from - day).mode == "delegate"
    after = ledger.who_exercises(power, town, recovery.effective_from)
    assert after.mode == "own" and after.department == power.department


def test_functional_area_delegation_reaches_member_towns_and_approving_body():
    entry = (
        LedgerEntry.objects.filter(region__code="DG-FA-SSH", power__items__isnull=False)
        .select_related("power", "region")
        .first()
    )
    assert entry is not None
    dalang = Region.objects.get(code="441900113")  # a member of 松山湖功能区
    humen = Region.objects.get(code="441900121")  # in no functional area
    on = entry.effective_from
    exercise = ledger.who_exercises(entry.power, dalang, on)
    assert exercise.mode == "delegate" and exercise.body == "松山湖功能区管理委员会"
    assert ledger.who_exercises(entry.power, humen, on).mode == "own"
    item = entry.power.items.first()
    assert ledger.approving_body(item, dalang, on).body == "松山湖功能区管理委员会"
    before = ledger.approving_body(item, dalang, on - timedelta(days=1))
    assert before.mode == "own" and before.department == item.department


# --- Supervision catalog -------------------------------------------------------------------------
def test_supervision_catalog():
    items = SupervisionItem.objects.all()
    assert items.filter(level="city", active=True).count() == 825
    normalized = list(items.values_list("name", "normalized_name"))
    assert all(norm == normalize_name(name) for name, norm in normalized)
    assert len({norm for _n, norm in normalized}) == 825
    assert all(name.startswith("对") and name.endswith("的监督检查") for name, _n in normalized)
    assert not items.filter(Q(basis="") | Q(measures="") | Q(object="")).exists()
    assert items.values("department").distinct().count() >= 30
    without_powers = items.annotate(n=Count("powers")).filter(n=0)
    assert not without_powers.exists()
    assert not items.exclude(powers__department=F("department")).exists()


def test_supervision_names_have_no_near_duplicates():
    for item in SupervisionItem.objects.order_by("code")[::33]:
        assert find_similar(item.name, exclude=item) == [], item.name


# --- Idempotency, the command, the plan ----------------------------------------------------------
def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            ServiceItem, ItemVersion, Material, ProcessStep, Faq, AcceptanceRule,
            AcceptanceBatch, Power, LedgerEntry, SupervisionItem,
        )
    }  # fmt: skip


def test_second_run_changes_nothing():
    before = _counts()
    result = catalog_demo.seed("dongguan")
    assert not result.changed, result.created
    assert _counts() == before
    assert catalog_demo.figures() == catalog_demo.FIGURES


def test_seed_completes_a_partial_catalog_without_touching_the_rest():
    victim = LedgerEntry.objects.filter(action="recover").first()
    victim_key = (victim.power_id, victim.region_id, victim.effective_from)
    victim.delete()
    ServiceItem.objects.filter(published_version__name="医疗广告审查").update(high_frequency=True)
    before = _counts()
    result = catalog_demo.seed("dongguan", index=False)
    assert result.created == Counter({"ledger": 1})
    assert _counts()["LedgerEntry"] == before["LedgerEntry"] + 1
    restored = LedgerEntry.objects.get(action="recover", power_id=victim_key[0])
    assert (restored.region_id, restored.effective_from) == victim_key[1:]
    # Existing rows are left as they are (catalog administrators own them after the seed).
    assert ServiceItem.objects.get(published_version__name="医疗广告审查").high_frequency


def test_seed_recreates_a_deleted_item_and_rebuilds_the_search_index(monkeypatch):
    from tongban.catalog import search

    calls = []
    monkeypatch.setattr(search, "rebuild_index", lambda: calls.append(1))
    item = ServiceItem.objects.filter(department__code="D-113-GGFW").order_by("code").first()
    code, rules_before = item.code, item.acceptance_rules.count()
    item.delete()
    result = catalog_demo.seed("dongguan")
    assert result.created["items"] == 1 and result.created["versions"] == 1
    assert calls == [1]
    again = ServiceItem.objects.get(code=code)
    assert again.published_version.state == "published"
    assert again.published_version.materials.count() >= 3
    assert again.acceptance_rules.count() == rules_before
    assert catalog_demo.figures() == catalog_demo.FIGURES
    calls.clear()
    assert not catalog_demo.seed("dongguan").changed
    assert calls == []


def test_seed_demo_command_reports_the_catalog():
    out = io.StringIO()
    call_command("seed_demo", profile="dongguan", stdout=out)
    text = out.getvalue()
    assert "Catalog in" in text and "entries" in text
    assert "this run 0 rows created" in text


def test_plan_is_deterministic():
    first = catalog_demo.build_plan()
    catalog_demo.build_plan.cache_clear()
    again = catalog_demo.build_plan()
    assert again is not first

    def digest(plan):
        return (
            [
                (i.code, i.version, i.materials, i.steps, i.power, i.high_frequency)
                for i in plan.items
            ],
            [(p.code, p.name) for p in plan.powers],
            [(e.key, e.document_no, e.ends) for e in plan.ledger],
            [(s.code, s.name, s.powers) for s in plan.supervision],
        )

    assert digest(again) == digest(first)
    assert {i.code for i in again.items} == set(ServiceItem.objects.values_list("code", flat=True))
