"""The scope matrix: every case endpoint × every role of the world fixture.

Cases live at the city center (one for each city department), the town center, the village point,
and one was filed by the agent (see ``scoped_cases``). A clerk sees the cases of their center, a
reviewer or approver those of their department, the town administrator those of the town center
and its village point, an applicant their own, the agent what they filed, the supervisor all of
them read-only, the catalog administrator and the auditor none. Outside the scope: 404, never
403 (numbers cannot be probed); in scope but not an actor of the step: 403.
"""

# ruff: noqa: F811  (the api and media fixtures are imported from test_api_support)
from __future__ import annotations

import pytest

from tests.cases.test_api_support import (  # noqa: F401
    ACTORS,
    CASE_KEYS,
    ROLES,
    actor,
    api,
    give_licence,
    media,
    pdf_file,
    scoped_cases,
    sees,
)
from tongban.cases.models import Case, CaseMaterial, Status
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def scoped(world, media):
    return scoped_cases(world)


def test_the_matrix_covers_every_role_of_the_world(world):
    assert set(ACTORS) == set(ROLES) == set(world.users)


@pytest.mark.parametrize("role", ROLES)
def test_list_shows_exactly_the_cases_in_scope(api, scoped, role):
    response = api.get("/cases?limit=200", as_=role)
    assert response.status_code == 200, response.content
    body = response.json()
    expected = {scoped.number(k) for k in CASE_KEYS if sees(role, k)}
    assert {row["number"] for row in body["items"]} == expected
    assert body["count"] == len(expected)


@pytest.mark.parametrize("role", ROLES)
def test_detail_is_404_outside_the_scope(api, scoped, role):
    for key in CASE_KEYS:
        response = api.get(f"/cases/{scoped.number(key)}", as_=role)
        if sees(role, key):
            assert response.status_code == 200, (key, response.content)
            assert response.json()["number"] == scoped.number(key)
        else:
            assert response.status_code == 404, (key, response.status_code)
            assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("role", ROLES)
def test_detail_actions_are_empty_for_whoever_is_no_actor(api, scoped, role):
    for key in CASE_KEYS:
        if not sees(role, key):
            continue
        actions = {
            a["action"] for a in api.get(f"/cases/{scoped.number(key)}", as_=role).json()["actions"]
        }
        kind = actor(role, key)
        if kind == "C":
            assert {"refuse", "withdraw", "notify", "add_material"} <= actions, (key, actions)
        elif kind == "A":
            assert actions == {"withdraw"}, (key, actions)
        else:  # read-only viewers, and reviewers/approvers before acceptance
            assert actions == set(), (key, actions)


def _expected_write(role: str, key: str, allowed: str, *, ok: int, other_actor: int = 403) -> int:
    """404 outside the scope; ``ok`` for an actor in ``allowed``; ``other_actor`` for another
    actor of the case; 403 for a read-only viewer."""
    if not sees(role, key):
        return 404
    kind = actor(role, key)
    if kind and kind in allowed:
        return ok
    if kind:
        return other_actor
    return 403


@pytest.mark.parametrize("role", ROLES)
def test_withdraw_by_applicant_or_clerk_only(api, scoped, role):
    for key in CASE_KEYS:
        response = api.post(
            f"/cases/{scoped.number(key)}/actions/withdraw", {"reason": "不办了"}, as_=role
        )
        expected = _expected_write(role, key, "AC", ok=200)
        assert response.status_code == expected, (key, response.status_code, response.content)
        status = Case.objects.get(pk=scoped.cases[key].pk).status
        assert (status == Status.WITHDRAWN) == (expected == 200)


@pytest.mark.parametrize("role", ROLES)
def test_refuse_by_the_centers_clerk_only(api, scoped, role):
    for key in CASE_KEYS:
        response = api.post(
            f"/cases/{scoped.number(key)}/actions/refuse", {"reason": "不符合条件"}, as_=role
        )
        expected = _expected_write(role, key, "C", ok=200)
        assert response.status_code == expected, (key, response.status_code, response.content)
        if expected == 200:
            assert response.json()["status"] == Status.REFUSED


@pytest.mark.parametrize("role", ROLES)
def test_accept_by_the_centers_clerk_only(api, scoped, role):
    for key in CASE_KEYS:
        response = api.post(f"/cases/{scoped.number(key)}/actions/accept", {}, as_=role)
        expected = _expected_write(role, key, "C", ok=200)
        assert response.status_code == expected, (key, response.status_code, response.content)


@pytest.mark.parametrize("role", ROLES)
def test_reviewer_steps_are_illegal_before_acceptance(api, scoped, role):
    """start_review is a reviewer's step, but from received / pre_review it is 409 for every
    actor of the case; read-only viewers still get 403 and outsiders 404."""
    for key in CASE_KEYS:
        response = api.post(f"/cases/{scoped.number(key)}/actions/start_review", {}, as_=role)
        expected = _expected_write(role, key, "", ok=200, other_actor=409)
        assert response.status_code == expected, (key, response.status_code, response.content)


@pytest.mark.parametrize("role", ROLES)
def test_patch_form_only_in_draft(api, scoped, role):
    """None of these cases is a draft: actors get 409, read-only viewers 403, outsiders 404."""
    for key in CASE_KEYS:
        response = api.patch(f"/cases/{scoped.number(key)}", {"remarks": "补充"}, as_=role)
        expected = _expected_write(role, key, "ACRP", ok=409)
        assert response.status_code == expected, (key, response.status_code, response.content)


@pytest.mark.parametrize("role", ROLES)
def test_upload_by_the_centers_clerk_after_submission(api, scoped, role):
    for key in CASE_KEYS:
        before = CaseMaterial.objects.filter(case=scoped.cases[key]).count()
        response = api.upload(
            f"/cases/{scoped.number(key)}/materials", {"file": pdf_file()}, as_=role
        )
        expected = _expected_write(role, key, "C", ok=201)
        assert response.status_code == expected, (key, response.status_code, response.content)
        after = CaseMaterial.objects.filter(case=scoped.cases[key]).count()
        assert after == before + (expected == 201)


@pytest.mark.parametrize("role", ROLES)
def test_paper_check_by_the_centers_clerk_only(api, scoped, role):
    for key in CASE_KEYS:
        case = scoped.cases[key]
        material = case.version.materials.get(necessity="tolerated")
        response = api.post(
            f"/cases/{case.number}/materials/paper", {"material": material.pk}, as_=role
        )
        expected = _expected_write(role, key, "C", ok=201)
        assert response.status_code == expected, (key, response.status_code, response.content)


@pytest.mark.parametrize("role", ROLES)
def test_licence_reuse_by_the_centers_clerk_after_submission(api, scoped, world, role):
    licences = {k: give_licence(world, k) for k in ("citizen", "enterprise")}
    for key in CASE_KEYS:
        case = scoped.cases[key]
        holder = "citizen" if case.applicant.user == world.user("citizen") else "enterprise"
        material = case.version.materials.get(name="营业执照")
        response = api.post(
            f"/cases/{case.number}/materials/licence",
            {"material": material.pk, "licence": licences[holder].pk},
            as_=role,
        )
        expected = _expected_write(role, key, "C", ok=201)
        assert response.status_code == expected, (key, response.status_code, response.content)


@pytest.mark.parametrize("role", ROLES)
def test_removing_a_submitted_material_is_409_for_actors(api, scoped, role):
    for key in CASE_KEYS:
        case = scoped.cases[key]
        cm = case.materials.first()
        response = api.delete(f"/cases/{case.number}/materials/{cm.pk}", as_=role)
        expected = _expected_write(role, key, "C", ok=409)
        assert response.status_code == expected, (key, response.status_code, response.content)
        cm.refresh_from_db()
        assert cm.removed_at is None


def test_unauthenticated_is_401_everywhere(api, scoped):
    number = scoped.number("city_m")
    calls = [
        api.get("/cases"),
        api.get(f"/cases/{number}"),
        api.post("/cases", {"item": "x", "channel": "web"}),
        api.patch(f"/cases/{number}", {"remarks": "x"}),
        api.post(f"/cases/{number}/actions/withdraw", {"reason": "x"}),
        api.upload(f"/cases/{number}/materials", {"file": pdf_file()}),
        api.post(f"/cases/{number}/materials/paper", {"material": 1}),
        api.post(f"/cases/{number}/materials/licence", {"material": 1, "licence": 1}),
        api.delete(f"/cases/{number}/materials/1"),
        api.get("/licences"),
        api.get("/notifications"),
        api.post("/notifications/1/read"),
    ]
    assert [r.status_code for r in calls] == [401] * len(calls)
    assert {r.json()["code"] for r in calls} == {"not_authenticated"}


@pytest.mark.parametrize("role", ["supervisor", "center_admin", "town_admin"])
def test_read_only_viewers_are_refused_with_a_clear_code(api, scoped, role):
    key = next(k for k in CASE_KEYS if sees(role, k))
    response = api.post(f"/cases/{scoped.number(key)}/actions/withdraw", {"reason": "x"}, as_=role)
    assert response.status_code == 403
    assert response.json()["code"] == "read_only"
    assert response.json()["message"]


@pytest.mark.parametrize("role", ROLES)
def test_staff_reading_a_detail_is_audited_applicants_are_not(api, scoped, role):
    visible = [k for k in CASE_KEYS if sees(role, k)]
    for key in visible:
        api.get(f"/cases/{scoped.number(key)}", as_=role)
    events = AuditEvent.objects.filter(action="case.viewed")
    if role in ("citizen", "enterprise"):
        assert not events.exists()
    else:
        assert sorted(e.data["number"] for e in events) == sorted(scoped.number(k) for k in visible)
        assert {e.actor.get_username() for e in events} <= {role}


INTAKE = {  # channel → who may file through it (the item is citywide: every clerk's center)
    "web": {"citizen", "enterprise"},
    "mobile": {"citizen", "enterprise"},
    "kiosk": {"citizen", "enterprise"},
    "agency": {"agent"},
    "window": {"city_clerk", "town_clerk", "village_clerk"},
    "mail": {"city_clerk", "town_clerk", "village_clerk"},
}


@pytest.mark.parametrize("role", ROLES)
def test_intake_by_role_and_channel(api, world, role):
    from tests.catalog.factories import make_item
    from tests.factories import USCC

    item = make_item(world, "食品经营许可", scope="citywide", department=world.market_dept)
    for channel, allowed in INTAKE.items():
        body = {"item": item.code, "channel": channel}
        if role not in ("citizen", "enterprise"):
            body["applicant_identity"] = USCC
        response = api.post("/cases", body, as_=role)
        expected = 201 if role in allowed else 403
        assert response.status_code == expected, (channel, response.status_code, response.content)
        if expected == 201:
            number = response.json()["number"]
            # the one who filed sees the draft; it is theirs to act on
            assert api.get(f"/cases/{number}", as_=role).status_code == 200
    assert Case.objects.count() == sum(role in allowed for allowed in INTAKE.values())


@pytest.mark.parametrize("role", ROLES)
def test_wallet_and_inbox_by_role(api, world, role):
    wallet = api.get("/licences", as_=role)
    assert wallet.status_code == (200 if role in ("citizen", "enterprise") else 403)
    inbox = api.get("/notifications", as_=role)
    assert inbox.status_code == 200 and inbox.json()["count"] == 0


def test_back_office_scope_after_acceptance(api, world, scoped):
    """Once accepted, a case belongs to its approving department's reviewers and approvers
    (read, list, act) and stays invisible to other departments."""
    from tests.factories import assign
    from tongban.cases import services
    from tongban.org.roles import Role

    for key in ("city_m", "city_h", "town_m"):
        case = scoped.cases[key]
        clerk = world.user("town_clerk" if key == "town_m" else "city_clerk")
        services.accept(case, clerk)
    health = world.users["health_reviewer"] = __import__(
        "tests.factories", fromlist=["make_user"]
    ).make_user("health_reviewer")
    assign(health, Role.REVIEWER, department=world.health_dept)
    listed = {
        role: {row["number"] for row in api.get("/cases?limit=200", as_=role).json()["items"]}
        for role in ("reviewer", "approver", "health_reviewer")
    }
    market = {scoped.number("city_m"), scoped.number("town_m")}
    assert listed["reviewer"] == listed["approver"] == market
    assert listed["health_reviewer"] == {scoped.number("city_h")}
    assert api.get(f"/cases/{scoped.number('city_h')}", as_="reviewer").status_code == 404
    response = api.post(
        f"/cases/{scoped.number('city_m')}/actions/start_review", {}, as_="reviewer"
    )
    assert response.status_code == 200, response.content
    response = api.post(
        f"/cases/{scoped.number('city_h')}/actions/start_review", {}, as_="reviewer"
    )
    assert response.status_code == 404
