"""API: tokens, the current user, registration with idempotency, lockouts and rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests.conftest import bearer
from tests.factories import PASSWORD, RESIDENT_ID, RESIDENT_ID_2, USCC
from tongban.accounts.models import ApiToken, Applicant
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db
JSON = "application/json"


def post(client, url, data, **extra):
    return client.post(url, data, content_type=JSON, **extra)


def test_token_for_valid_credentials_has_the_documented_shape(client, world):
    response = post(client, "/api/v1/auth/token", {"username": "town_clerk", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 12 * 3600
    assert len(body["access_token"]) >= 40
    # Only the digest is stored.
    assert not ApiToken.objects.filter(digest=body["access_token"]).exists()
    assert AuditEvent.objects.filter(action="auth.login", actor=world.user("town_clerk")).exists()


@pytest.mark.parametrize("identifier", [RESIDENT_ID, RESIDENT_ID.lower(), "13800138000"])
def test_applicant_logs_in_with_id_number_or_mobile(client, world, identifier):
    response = post(client, "/api/v1/auth/token", {"username": identifier, "password": PASSWORD})
    assert response.status_code == 200, response.content


def test_enterprise_logs_in_with_credit_code(client, world):
    response = post(client, "/api/v1/auth/token", {"username": USCC, "password": PASSWORD})
    assert response.status_code == 200


def test_wrong_password_is_401_with_envelope(client, world):
    response = post(client, "/api/v1/auth/token", {"username": "town_clerk", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert response.json()["message"]
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 1


def test_five_failures_lock_the_account_for_a_while(client, world):
    for _ in range(5):
        post(client, "/api/v1/auth/token", {"username": "town_clerk", "password": "wrong"})
    response = post(client, "/api/v1/auth/token", {"username": "town_clerk", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert int(response["Retry-After"]) == 15 * 60
    # Another account from the same address is not locked.
    other = post(client, "/api/v1/auth/token", {"username": "reviewer", "password": PASSWORD})
    assert other.status_code == 200


def test_missing_fields_are_422_with_field_details(client, world):
    response = post(client, "/api/v1/auth/token", {"username": "x"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert any(d["field"] == "password" for d in body["details"])


def test_malformed_json_is_a_client_error_not_500(client, world):
    response = client.post("/api/v1/auth/token", "{not json", content_type=JSON)
    assert 400 <= response.status_code < 500
    assert "code" in response.json()


def test_me_requires_authentication(client, world):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    response = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401


def test_me_lists_roles_and_scopes(client, world):
    response = client.get("/api/v1/auth/me", **bearer(client, "town_admin"))
    assert response.status_code == 200
    body = response.json()
    assert body["roles"] == ["center_admin"]
    assert body["assignments"][0]["scope_kind"] == "region"
    assert body["assignments"][0]["scope_name"] == "大朗镇"


def test_me_masks_the_applicants_personal_data(client, world):
    body = client.get("/api/v1/auth/me", **bearer(client, "citizen")).json()
    assert body["roles"] == ["applicant"]
    assert body["applicant"]["identity_masked"] == "110***********002X"
    assert body["applicant"]["mobile_masked"] == "138****8000"
    assert body["applicant"]["name"] == "张*"
    assert RESIDENT_ID not in str(body)


def test_revoked_token_no_longer_works(client, world):
    auth = bearer(client, "reviewer")
    assert client.get("/api/v1/auth/me", **auth).status_code == 200
    response = client.post("/api/v1/auth/revoke", {}, content_type=JSON, **auth)
    assert response.json() == {"revoked": 1}
    assert client.get("/api/v1/auth/me", **auth).status_code == 401


def test_revoke_all_tokens(client, world):
    first, second = bearer(client, "reviewer"), bearer(client, "reviewer")
    response = client.post("/api/v1/auth/revoke", {"all": True}, content_type=JSON, **first)
    assert response.json() == {"revoked": 2}
    assert client.get("/api/v1/auth/me", **second).status_code == 401


def test_expired_token_is_refused(client, world):
    auth = bearer(client, "reviewer")
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/auth/me", **auth).status_code == 401


def test_inactive_user_token_is_refused(client, world):
    auth = bearer(client, "reviewer")
    get_user_model().objects.filter(username="reviewer").update(is_active=False)
    assert client.get("/api/v1/auth/me", **auth).status_code == 401


NATURAL = {
    "kind": "natural",
    "name": "王小明",
    "mobile": "13712345678",
    "password": "Qiang#Mima2026",
    "id_number": RESIDENT_ID_2,
}
LEGAL = {
    "kind": "legal",
    "name": "东莞示范制造有限公司",
    "mobile": "13712345679",
    "password": "Qiang#Mima2026",
    "uscc": "91441900MA4UJ9XY4X",
    "legal_representative": "陈大文",
}


def _valid_uscc() -> str:
    from tongban.core.validators import uscc_check_char

    body = "91441900MA4UJ9XY4"
    return body + uscc_check_char(body)


def test_register_natural_person(client, db):
    response = post(client, "/api/v1/auth/register", NATURAL)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["applicant"]["identity_masked"] == "440***********1233"
    applicant = Applicant.objects.get(id_number=RESIDENT_ID_2)
    assert applicant.user.kind == "applicant"
    assert applicant.user.check_password(NATURAL["password"])
    event = AuditEvent.objects.get(action="accounts.register")
    assert RESIDENT_ID_2 not in str(event.data)  # masked in the audit trail
    # The new account can sign in with its ID number.
    token = post(
        client, "/api/v1/auth/token", {"username": RESIDENT_ID_2, "password": NATURAL["password"]}
    )
    assert token.status_code == 200


def test_register_legal_person(client, db):
    payload = {**LEGAL, "uscc": _valid_uscc()}
    response = post(client, "/api/v1/auth/register", payload)
    assert response.status_code == 201, response.content
    assert Applicant.objects.get(uscc=payload["uscc"]).legal_representative == "陈大文"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id_number": "440304199001011234"}, "id_number"),  # wrong check character
        ({"id_number": "440304199002301233"}, "id_number"),  # 30 February
        ({"mobile": "12345"}, "mobile"),
        ({"password": "12345678"}, "password"),
        ({"name": "   "}, "name"),
    ],
)
def test_register_rejects_bad_input_with_the_field(client, db, change, field):
    response = post(client, "/api/v1/auth/register", {**NATURAL, **change})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["details"][0]["field"] == field
    assert not Applicant.objects.exists()


def test_register_legal_needs_valid_code_and_representative(client, db):
    response = post(client, "/api/v1/auth/register", {**LEGAL, "uscc": "91441900MA4UJ9XY4O"})
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "uscc"
    response = post(
        client,
        "/api/v1/auth/register",
        {**LEGAL, "uscc": _valid_uscc(), "legal_representative": ""},
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "legal_representative"


def test_register_twice_is_a_conflict(client, db):
    assert post(client, "/api/v1/auth/register", NATURAL).status_code == 201
    response = post(client, "/api/v1/auth/register", NATURAL)
    assert response.status_code == 409
    assert response.json()["code"] == "already_registered"


def test_register_is_idempotent_with_a_key(client, db):
    headers = {"HTTP_IDEMPOTENCY_KEY": "reg-0001"}
    first = post(client, "/api/v1/auth/register", NATURAL, **headers)
    second = post(client, "/api/v1/auth/register", NATURAL, **headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Applicant.objects.count() == 1
    assert get_user_model().objects.count() == 1


def test_same_key_with_another_body_is_refused(client, db):
    headers = {"HTTP_IDEMPOTENCY_KEY": "reg-0002"}
    assert post(client, "/api/v1/auth/register", NATURAL, **headers).status_code == 201
    other = post(client, "/api/v1/auth/register", {**NATURAL, "name": "王大明"}, **headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_a_failed_request_does_not_burn_its_key(client, db):
    headers = {"HTTP_IDEMPOTENCY_KEY": "reg-0003"}
    bad = post(client, "/api/v1/auth/register", {**NATURAL, "mobile": "1"}, **headers)
    assert bad.status_code == 422
    good = post(client, "/api/v1/auth/register", NATURAL, **headers)
    assert good.status_code == 201


def test_overlong_idempotency_key_is_refused(client, db):
    response = post(client, "/api/v1/auth/register", NATURAL, HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Applicant.objects.exists()


def test_registration_is_rate_limited_per_address(client, db):
    for _ in range(20):
        post(client, "/api/v1/auth/register", {**NATURAL, "mobile": "1"})  # invalid, still counted
    response = post(client, "/api/v1/auth/register", NATURAL)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"


def test_openapi_document_and_docs_are_served(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/auth/token", "/api/v1/centers", "/api/v1/regions", "/api/v1/departments"):
        assert path in spec["paths"]
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize(
    "variants",
    [
        ["town_clerk", " town_clerk", "town_clerk ", "  town_clerk  ", "town_clerk\t"],
        [RESIDENT_ID, RESIDENT_ID.lower(), f" {RESIDENT_ID}", "13800138000", " 13800138000"],
    ],
)
def test_retyping_the_identifier_buys_no_fresh_attempts(client, world, variants):
    for value in variants:
        post(client, "/api/v1/auth/token", {"username": value, "password": "wrong"})
    right = variants[0]
    response = post(client, "/api/v1/auth/token", {"username": right, "password": PASSWORD})
    assert response.status_code == 429


def test_lockout_records_hold_no_identity_numbers(client, world):
    from axes.models import AccessAttempt

    post(client, "/api/v1/auth/token", {"username": RESIDENT_ID, "password": "wrong"})
    post(client, "/api/v1/auth/token", {"username": "440304199001011233", "password": "wrong"})
    stored = " ".join(AccessAttempt.objects.values_list("username", flat=True))
    assert RESIDENT_ID not in stored and "440304199001011233" not in stored


def test_registering_links_a_walk_in_record_only_with_the_same_name(client, db):
    Applicant.objects.create(kind="natural", name="王小明", id_number=RESIDENT_ID_2, mobile="")
    other = post(client, "/api/v1/auth/register", {**NATURAL, "name": "冒名者"})
    assert other.status_code == 409
    assert other.json()["code"] == "identity_mismatch"
    assert Applicant.objects.get(id_number=RESIDENT_ID_2).name == "王小明"
    same = post(client, "/api/v1/auth/register", NATURAL)
    assert same.status_code == 201
    assert Applicant.objects.get(id_number=RESIDENT_ID_2).user is not None
