"""Idempotent writes of the case API: intake, uploads, licence reuse, paper checks, the steps of
the lifecycle and taking a material back."""

# ruff: noqa: F811  (the api and media fixtures are imported from test_api_support)
from __future__ import annotations

import pytest

from tests.cases.factories import FORM, pdf_bytes, upload
from tests.cases.test_api_support import (  # noqa: F401
    api,
    give_licence,
    media,
    paper_case,
)
from tests.catalog.factories import make_item
from tests.factories import USCC
from tongban.cases import services
from tongban.cases.models import Case, CaseEvent, CaseMaterial
from tongban.core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def item(world):
    return make_item(world, "食品经营许可", department=world.market_dept)


def key(value: str) -> dict[str, str]:
    return {"HTTP_IDEMPOTENCY_KEY": value}


def intake(item, **form):
    return {"item": item.code, "channel": "web", "form": {**FORM, **form}}


def test_the_same_key_twice_creates_one_case_and_replays_the_answer(api, item):
    first = api.post("/cases", intake(item), as_="enterprise", **key("case-0001"))
    second = api.post("/cases", intake(item), as_="enterprise", **key("case-0001"))
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(action="create").count() == 1
    assert AuditEvent.objects.filter(action="case.create").count() == 1


def test_a_different_body_with_the_same_key_is_422(api, item):
    assert api.post("/cases", intake(item), as_="enterprise", **key("case-0002")).status_code == 201
    other = api.post("/cases", intake(item, remarks="另一份"), as_="enterprise", **key("case-0002"))
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_without_a_key_each_post_creates(api, item):
    api.post("/cases", intake(item), as_="enterprise")
    api.post("/cases", intake(item), as_="enterprise")
    assert Case.objects.count() == 2


def test_keys_belong_to_their_caller(api, item):
    mine = api.post("/cases", intake(item), as_="enterprise", **key("shared-key"))
    theirs = api.post("/cases", intake(item), as_="citizen", **key("shared-key"))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["number"] != theirs.json()["number"]
    assert Case.objects.count() == 2


def test_a_refused_request_does_not_burn_its_key(api, world, item):
    bad = api.post("/cases", intake(item, contact_mobile="1"), as_="enterprise", **key("k-3"))
    assert bad.status_code == 422
    forbidden = api.post(
        "/cases",
        {"item": item.code, "channel": "window", "applicant_identity": USCC},
        as_="enterprise",
        **key("k-4"),
    )
    assert forbidden.status_code == 403
    good = api.post("/cases", intake(item, contact_mobile="1"), as_="enterprise", **key("k-3"))
    assert good.status_code == 422  # the same wrong body is checked again, not replayed
    fixed = api.post("/cases", intake(item), as_="enterprise", **key("k-3"))
    assert fixed.status_code == 201
    assert Case.objects.count() == 1


@pytest.mark.parametrize("value", ["", "k" * 201, "tab\there"])
def test_malformed_keys_are_422(api, item, value):
    response = api.post("/cases", intake(item), as_="enterprise", **key(value))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Case.objects.exists()


def test_an_upload_retried_with_its_key_is_stored_once(api, item):
    number = api.post("/cases", intake(item), as_="enterprise").json()["number"]
    material = item.published_version.materials.get(name="申请表")
    url = f"/cases/{number}/materials"
    content = pdf_bytes("same")

    def send(k):
        data = {"material": material.pk, "file": upload("申请表.pdf", content)}
        return api.upload(url, data, as_="enterprise", **key(k))

    first, second = send("up-1"), send("up-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert first.json() == second.json()
    assert CaseMaterial.objects.filter(case__number=number).count() == 1
    assert send("up-2").status_code == 201  # a new key: a second copy
    assert CaseMaterial.objects.filter(case__number=number).count() == 2


def test_licence_reuse_and_paper_checks_are_idempotent(api, world, item):
    licence = give_licence(world, "enterprise")
    number = api.post("/cases", intake(item), as_="enterprise").json()["number"]
    material = item.published_version.materials.get(name="营业执照")
    body = {"material": material.pk, "licence": licence.pk}
    for _ in range(2):
        response = api.post(
            f"/cases/{number}/materials/licence", body, as_="enterprise", **key("lic-1")
        )
        assert response.status_code == 201
    assert CaseMaterial.objects.filter(case__number=number, source="licence").count() == 1

    walk_in = api.post(
        "/cases",
        {"item": item.code, "channel": "window", "applicant_identity": USCC},
        as_="city_clerk",
    ).json()["number"]
    for _ in range(2):
        response = api.post(
            f"/cases/{walk_in}/materials/paper",
            {"material": material.pk},
            as_="city_clerk",
            **key("paper-1"),
        )
        assert response.status_code == 201
    assert CaseMaterial.objects.filter(case__number=walk_in, source="paper").count() == 1


def test_a_keyed_body_over_the_memory_limit_is_refused_not_500(api, item, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = api.post(
        "/cases", intake(item, remarks="长" * 5000), as_="enterprise", **key("big-1")
    )
    assert response.status_code in (400, 413)
    assert not Case.objects.exists()


@pytest.fixture
def in_review(world, item):
    case = paper_case(world, item, "city_clerk", "enterprise")
    services.accept(case, world.user("city_clerk"))
    services.start_review(case, world.user("reviewer"))
    case.refresh_from_db()
    return case


def test_a_step_retried_with_its_key_is_taken_once(api, in_review):
    number = in_review.number
    url = f"/cases/{number}/actions/assign"
    first = api.post(url, {"assignee": "approver"}, as_="reviewer", **key("assign-1"))
    second = api.post(url, {"assignee": "approver"}, as_="reviewer", **key("assign-1"))
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true" and first.json() == second.json()
    assert first.json()["assignee"] == "approver"
    assert CaseEvent.objects.filter(case=in_review, action="assign").count() == 1
    assert AuditEvent.objects.filter(action="case.assign").count() == 1

    url = f"/cases/{number}/actions/submit_for_approval"
    first = api.post(url, {"note": "拟准予"}, as_="reviewer", **key("submit-1"))
    second = api.post(url, {"note": "拟准予"}, as_="reviewer", **key("submit-1"))
    assert first.status_code == second.status_code == 200  # not 409: replayed, not retaken
    assert second["Idempotent-Replayed"] == "true" and first.json() == second.json()
    assert first.json()["status"] == "approval"
    assert CaseEvent.objects.filter(case=in_review, action="submit_for_approval").count() == 1
    # without the key, the second try is the step again, refused from the new status
    again = api.post(url, {"note": "拟准予"}, as_="reviewer")
    assert again.status_code == 409
    # the same key with another body is refused
    other = api.post(url, {"note": "另一意见"}, as_="reviewer", **key("submit-1"))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_a_refused_step_does_not_burn_its_key(api, in_review):
    url = f"/cases/{in_review.number}/actions/request_supplement"
    refused = api.post(url, {"items": []}, as_="reviewer", **key("supp-1"))
    assert refused.status_code == 422
    done = api.post(url, {"items": ["营业执照过期"]}, as_="reviewer", **key("supp-1"))
    assert done.status_code == 200 and done.json()["status"] == "supplement"
    again = api.post(url, {"items": ["营业执照过期"]}, as_="reviewer", **key("supp-1"))
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert CaseEvent.objects.filter(case=in_review, action="request_supplement").count() == 1


def test_removing_a_material_retried_with_its_key_is_done_once(api, item):
    number = api.post("/cases", intake(item), as_="enterprise").json()["number"]
    material = item.published_version.materials.get(name="申请表")
    for name in ("a.pdf", "b.pdf"):
        data = {"material": material.pk, "file": upload(name, pdf_bytes(name))}
        assert api.upload(f"/cases/{number}/materials", data, as_="enterprise").status_code == 201
    first_id, second_id = (
        CaseMaterial.objects.filter(case__number=number).values_list("pk", flat=True).order_by("pk")
    )
    url = f"/cases/{number}/materials/{first_id}"
    first = api.delete(url, as_="enterprise", **key("rm-1"))
    second = api.delete(url, as_="enterprise", **key("rm-1"))
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true" and first.json() == second.json()
    events = CaseEvent.objects.filter(case__number=number, action="add_material")
    assert [e.data["removed"] for e in events if "removed" in e.data] == ["申请表"]
    live = CaseMaterial.objects.filter(case__number=number, removed_at__isnull=True)
    assert list(live.values_list("pk", flat=True)) == [second_id]
    assert api.delete(url, as_="enterprise").status_code in (404, 409)  # without the key: again
