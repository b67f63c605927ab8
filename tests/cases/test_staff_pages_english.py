"""The staff case workbench in English has no untranslated interface text (run after the
English catalogue has the workbench's strings). Data — item and material names, case titles,
applicants, notes typed by staff — stays as it was written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.cases.factories import online_case, walk_in_case
from tests.catalog.factories import make_item
from tests.web.test_pages import assert_no_chinese, english, signed_in
from tongban.cases import services
from tongban.cases.models import Case, CaseNotice
from tongban.catalog.models import ItemVersion, Material

pytestmark = pytest.mark.django_db


def case_data() -> tuple[str, ...]:
    values: set[str] = set()
    values.update(ItemVersion.objects.values_list("name", flat=True))
    values.update(ItemVersion.objects.values_list("result_name", flat=True))
    values.update(Material.objects.values_list("name", flat=True))
    values.update(Material.objects.values_list("licence_type", flat=True))
    for case in Case.objects.all():
        values.update({case.title, case.contact_name, *case.form_data.values()})
        for e in case.events.all():
            values.update({e.note, e.actor_label})
    for n in CaseNotice.objects.all():
        values.update({n.reason, n.issued_in_name_of, *map(str, n.items)})
    names = Material.objects.values_list("name", flat=True)
    values.update(s + "（必要材料，未提供）" for s in names)
    return tuple(sorted((v for v in values if v), key=len, reverse=True))


@pytest.fixture
def cases(world):
    item = make_item(world, "食品经营许可", department=world.market_dept)
    received = walk_in_case(world, item)
    accepted = walk_in_case(world, item)
    services.accept(accepted, world.user("city_clerk"), note="窗口受理")
    services.start_review(accepted, world.user("reviewer"))
    services.submit_for_approval(accepted, world.user("reviewer"), opinion="同意")
    online = online_case(world, item)
    return {"received": received, "accepted": accepted, "online": online}


@pytest.mark.parametrize("key", ["city_clerk", "reviewer", "approver", "supervisor"])
def test_english_worklists(world, cases, key):
    client = english(signed_in(world, key))
    for tab in ("", "?tab=all", "?tab=open&colour=red", "?tab=all&q=NOTHING"):
        response = client.get(reverse("cases_staff:index") + tab)
        assert response.status_code == 200
        assert_no_chinese(response, case_data())
    response = client.get(reverse("web:workbench"))
    assert_no_chinese(response, case_data())


@pytest.mark.parametrize("key", ["city_clerk", "reviewer", "approver", "supervisor"])
def test_english_case_pages(world, cases, key):
    client = english(signed_in(world, key))
    back_office = key in ("reviewer", "approver")  # they see accepted cases only
    for case in cases.values():
        if back_office and case.accepted_at is None:
            continue
        response = client.get(reverse("cases_staff:detail", args=[case.number]))
        assert response.status_code == 200
        assert_no_chinese(response, case_data())


def test_english_intake_and_errors(world, cases):
    client = english(signed_in(world, "city_clerk"))
    assert_no_chinese(client.get(reverse("cases_staff:intake")), case_data())
    response = client.post(reverse("cases_staff:intake_find"), {"identity": "440304199001011233"})
    assert_no_chinese(response, case_data())
    response = client.post(
        reverse("cases_staff:act", args=[cases["received"].number, "refuse"]), {"reason": ""}
    )
    assert response.status_code == 422
    assert_no_chinese(response, case_data())
