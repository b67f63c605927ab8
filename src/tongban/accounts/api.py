"""Accounts API: tokens, the current user, applicant registration."""

from typing import Literal

from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited
from ninja import Field, Router, Schema, Status
from ninja.decorators import decorate_view

from tongban.api.auth import STAFF_OR_APPLICANT
from tongban.api.schemas import errors
from tongban.core.errors import RateLimited
from tongban.core.idempotency import idempotent
from tongban.org.scopes import active_assignments, roles_of

from . import services
from .selectors import applicant_of

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str = Field(
        ...,
        min_length=1,
        max_length=150,
        description="用户名、身份证号码、统一社会信用代码或手机号",
    )
    password: str = Field(..., min_length=1, max_length=128)


class TokenOut(Schema):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(..., description="seconds")


@router.post("/auth/token", response={200: TokenOut, **errors(401, 422, 429)}, auth=None)
def obtain_token(request, payload: TokenIn):
    """Exchange a username and password for a bearer token. Failed attempts are counted;
    after 5 failures for one account from one address it is locked for 15 minutes (429)."""
    issued = services.issue_token(request, payload.username.strip(), payload.password)
    return TokenOut(access_token=issued.token, expires_in=issued.expires_in)


class RevokeIn(Schema):
    all: bool = Field(False, description="revoke every token of the caller, not only this one")


class RevokeOut(Schema):
    revoked: int


@router.post("/auth/revoke", response={200: RevokeOut, **errors(401)}, auth=STAFF_OR_APPLICANT)
def revoke_token(request, payload: RevokeIn | None = None):
    """Revoke the bearer token of this call (or all of the caller's tokens with ``all``)."""
    if payload is not None and payload.all:
        return RevokeOut(revoked=services.revoke_all_tokens(request.user, request=request))
    header = request.headers.get("Authorization", "")
    token = header.split(" ", 1)[1].strip() if header.lower().startswith("bearer ") else ""
    return RevokeOut(revoked=int(services.revoke_token(token, request=request)) if token else 0)


class AssignmentOut(Schema):
    role: str
    role_label: str
    scope_kind: str
    scope_name: str


class ApplicantOut(Schema):
    kind: str
    name: str
    identity_masked: str
    mobile_masked: str


class MeOut(Schema):
    username: str
    display_name: str
    kind: str
    roles: list[str]
    assignments: list[AssignmentOut]
    applicant: ApplicantOut | None = None


def _applicant_out(applicant) -> ApplicantOut | None:
    if applicant is None:
        return None
    return ApplicantOut(
        kind=applicant.kind,
        name=applicant.masked_name,
        identity_masked=applicant.masked_identity,
        mobile_masked=applicant.masked_mobile,
    )


@router.get("/auth/me", response={200: MeOut, **errors(401)}, auth=STAFF_OR_APPLICANT)
def me(request):
    """Who the caller is: roles and data scopes (staff) or the applicant record (masked)."""
    user = request.user
    return MeOut(
        username=user.get_username(),
        display_name=str(user),
        kind=user.kind,
        roles=[r.value for r in roles_of(user)],
        assignments=[
            AssignmentOut(
                role=a.role,
                role_label=str(a.get_role_display()),
                scope_kind=a.scope_kind.value,
                scope_name=a.scope_label,
            )
            for a in active_assignments(user)
        ],
        applicant=_applicant_out(applicant_of(user)),
    )


class RegisterIn(Schema):
    kind: Literal["natural", "legal"] = Field(..., description="natural 自然人 / legal 法人")
    name: str = Field(..., min_length=1, max_length=200, description="姓名或单位名称")
    mobile: str = Field(..., max_length=20)
    password: str = Field(..., min_length=1, max_length=128)
    id_number: str = Field("", max_length=18, description="居民身份证号码（自然人必填）")
    uscc: str = Field("", max_length=18, description="统一社会信用代码（法人必填）")
    legal_representative: str = Field("", max_length=100, description="法定代表人（法人必填）")


class RegisterOut(Schema):
    username: str
    applicant: ApplicantOut


REGISTER_RATE = "20/h"


@router.post(
    "/auth/register",
    response={201: RegisterOut, **errors(409, 422, 429)},
    auth=None,
    tags=["auth"],
)
@decorate_view(idempotent)
def register(request, payload: RegisterIn):
    """Register an applicant account. Supports ``Idempotency-Key``; at most 20 registrations
    an hour from one address."""
    if is_ratelimited(request, group="register", key="ip", rate=REGISTER_RATE, increment=True):
        raise RateLimited(_("注册请求过于频繁，请稍后再试。"), retry_after=3600)
    user = services.register_applicant(services.Registration(**payload.dict()), request=request)
    return Status(
        201, RegisterOut(username=user.username, applicant=_applicant_out(user.applicant))
    )
