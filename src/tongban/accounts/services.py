"""Writes of identity: applicant registration, API tokens. Each action is audited."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, RateLimited
from tongban.core.identifiers import random_code
from tongban.core.validators import validate_mobile, validate_resident_id, validate_uscc

from .models import ApiToken, Applicant
from .selectors import token_digest

User = get_user_model()


@dataclass(frozen=True)
class Registration:
    kind: str  # "natural" | "legal"
    name: str
    mobile: str
    password: str
    id_number: str = ""
    uscc: str = ""
    legal_representative: str = ""


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details=[{"field": field, "message": message}])


def _check(reg: Registration) -> tuple[str, str, str]:
    """Validate a registration; return (name, identity number, mobile) normalized."""
    name, number, mobile = _check_identity(reg)
    try:
        validate_password(reg.password, User(username=name, display_name=name))
    except ValidationError as exc:
        raise InvalidInput(
            exc.messages[0], details=[{"field": "password", "message": m} for m in exc.messages]
        ) from None
    return name, number, mobile


def _check_identity(reg: Registration) -> tuple[str, str, str]:
    """The identity part of a registration (no password): (name, identity number, mobile)."""
    name = reg.name.strip()
    if not name or len(name) > 200:
        raise _field_error("name", _("请填写姓名或单位名称（不超过200字）。"))
    try:
        mobile = validate_mobile(reg.mobile)
    except ValidationError as exc:
        raise _field_error("mobile", exc.messages[0]) from None
    try:
        if reg.kind == Applicant.Kind.NATURAL:
            number = validate_resident_id(reg.id_number)
        elif reg.kind == Applicant.Kind.LEGAL:
            number = validate_uscc(reg.uscc)
            if not reg.legal_representative.strip():
                raise _field_error("legal_representative", _("请填写法定代表人姓名。"))
        else:
            raise _field_error("kind", _("主体类型只能是自然人（natural）或法人（legal）。"))
    except ValidationError as exc:
        field = "id_number" if reg.kind == Applicant.Kind.NATURAL else "uscc"
        raise _field_error(field, exc.messages[0]) from None
    return name, number, mobile


@transaction.atomic
def register_applicant(reg: Registration, *, request=None) -> User:
    """Register an applicant account (自然人 or 法人) and its applicant record."""
    name, number, mobile = _check(reg)
    natural = reg.kind == Applicant.Kind.NATURAL
    existing = Applicant.objects.filter(
        **(
            {"kind": "natural", "id_number": number}
            if natural
            else {"kind": "legal", "uscc": number}
        )
    ).first()
    if existing is not None and existing.user_id is not None:
        raise Conflict(
            _("该身份证号码已注册，请直接登录。")
            if natural
            else _("该统一社会信用代码已注册，请直接登录。"),
            code="already_registered",
        )
    if existing is not None and existing.name != name:
        # A record a window registered for a walk-in applicant: linking it to an account needs
        # the same name, so knowing someone's ID number does not take over their record.
        raise Conflict(
            _("填写的信息与窗口登记的申请人信息不一致，请核对，或携带证件到窗口办理。"),
            code="identity_mismatch",
        )
    user = User(
        username=f"u{random_code(10).lower()}",
        kind=User.Kind.APPLICANT,
        display_name=name,
        mobile=mobile,
    )
    user.set_password(reg.password)
    user.save()
    applicant = existing or Applicant(kind=reg.kind)
    applicant.user = user
    applicant.name = name
    applicant.mobile = mobile
    if natural:
        applicant.id_number = number
    else:
        applicant.uscc = number
        applicant.legal_representative = reg.legal_representative.strip()
    try:
        with transaction.atomic():
            applicant.save()
    except IntegrityError:
        raise Conflict(_("该主体已注册，请直接登录。"), code="already_registered") from None
    audit.record(
        "accounts.register",
        actor=user,
        target=applicant,
        request=request,
        data={"kind": reg.kind, "id_number" if natural else "uscc": number, "mobile": mobile},
    )
    return user


@transaction.atomic
def register_walk_in(reg: Registration, *, by, request=None) -> Applicant:
    """A window clerk registers a walk-in applicant (窗口登记申请人) — a record without a login
    (no password). The same person registered again is the same record (same identity number
    and name); a different name under a known number is refused, as in register_applicant."""
    from tongban.org.roles import Role
    from tongban.org.scopes import has_role

    if not (getattr(by, "is_superuser", False) or has_role(by, Role.WINDOW_CLERK)):
        raise Forbidden(_("只有综合窗口人员可以登记申请人。"), code="not_allowed")
    name, number, mobile = _check_identity(reg)
    natural = reg.kind == Applicant.Kind.NATURAL
    lookup = (
        {"kind": "natural", "id_number": number} if natural else {"kind": "legal", "uscc": number}
    )
    existing = Applicant.objects.select_for_update().filter(**lookup).first()
    if existing is not None:
        if existing.name != name:
            raise Conflict(
                _("该证件号码已登记为其他申请人，请核对姓名或单位名称。"),
                code="identity_mismatch",
                details=[{"field": "name", "message": _("与已登记的名称不一致")}],
            )
        return existing
    applicant = Applicant(kind=reg.kind, name=name, mobile=mobile)
    if natural:
        applicant.id_number = number
    else:
        applicant.uscc = number
        applicant.legal_representative = reg.legal_representative.strip()[:100]
    try:
        with transaction.atomic():
            applicant.save()
    except IntegrityError:
        raise Conflict(_("该申请人已登记，请直接查找。"), code="already_registered") from None
    audit.record(
        "accounts.walk_in_registered",
        actor=by,
        target=applicant,
        request=request,
        data={"kind": reg.kind, "id_number" if natural else "uscc": number, "mobile": mobile},
    )
    return applicant


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    record: ApiToken


def issue_token(request, username: str, password: str, *, label: str = "api") -> IssuedToken:
    """Check credentials (through django-axes, which counts failures and locks out) and issue a
    bearer token. Only the token's digest is stored."""
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        # django-axes' middleware answers with tongban.accounts.lockout (429) on the way out.
        raise RateLimited(_("登录失败次数过多，账户已暂时锁定。"), code="locked_out")
    if user is None:
        raise NotAuthenticated(_("账号或密码错误。"), code="invalid_credentials")
    token = secrets.token_urlsafe(32)
    ttl = settings.API_TOKEN_TTL
    record = ApiToken.objects.create(
        user=user, digest=token_digest(token), label=label[:100], expires_at=timezone.now() + ttl
    )
    audit.record("auth.login", actor=user, target=user, request=request, data={"channel": "api"})
    return IssuedToken(token=token, expires_in=int(ttl.total_seconds()), record=record)


def revoke_token(token: str, *, request=None) -> bool:
    updated = ApiToken.objects.filter(digest=token_digest(token), revoked_at__isnull=True)
    record = updated.select_related("user").first()
    if record is None:
        return False
    record.revoked_at = timezone.now()
    record.save(update_fields=["revoked_at"])
    audit.record("auth.token_revoked", actor=record.user, target=record.user, request=request)
    return True


def revoke_all_tokens(user, *, request=None) -> int:
    count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    audit.record(
        "auth.tokens_revoked", actor=user, target=user, request=request, data={"count": count}
    )
    return count
