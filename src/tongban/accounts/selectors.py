"""Reads of identity data."""

from __future__ import annotations

import hashlib

from django.utils import timezone

from .models import ApiToken, Applicant


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_for_token(token: str):
    """The active user a live (unexpired, unrevoked) bearer token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    found = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(token), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if found is None or not found.user.is_active:
        return None
    now = timezone.now()
    if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user


def applicant_of(user) -> Applicant | None:
    if user is None or not user.is_authenticated:
        return None
    return Applicant.objects.filter(user=user).first()


def applicant_by_identity(number: str) -> Applicant | None:
    """The applicant with this resident ID number or unified social credit code (upper-cased,
    trimmed), natural persons first; None when unknown. Callers validate the number first."""
    number = (number or "").strip().upper()
    if not number:
        return None
    return (
        Applicant.objects.filter(kind=Applicant.Kind.NATURAL, id_number=number).first()
        or Applicant.objects.filter(kind=Applicant.Kind.LEGAL, uscc=number).first()
    )
