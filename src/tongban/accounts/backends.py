"""Log in with a username, a resident ID number, a unified social credit code or a mobile; and
the key django-axes counts failed logins against."""

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


def normalize_identifier(identifier: str) -> str:
    value = (identifier or "").strip()
    return value.upper() if len(value) == 18 else value


def accounts_matching(identifier: str):
    """At most two accounts the identifier may name (two means it is ambiguous)."""
    User = get_user_model()
    value = normalize_identifier(identifier)
    return list(
        User.objects.filter(
            Q(username=value)
            | Q(applicant__id_number=value)
            | Q(applicant__uscc=value)
            | Q(mobile=value, kind=User.Kind.APPLICANT)
        ).distinct()[:2]
    )


class IdentifierBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        candidates = accounts_matching(username)
        if len(candidates) != 1:
            # Run the hasher anyway so unknown identifiers take as long as wrong passwords.
            get_user_model()().set_password(password)
            return None
        user = candidates[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def lockout_key(request, credentials) -> str:
    """What django-axes counts failures against (``AXES_USERNAME_CALLABLE``): the account the
    identifier resolves to, however it was typed (username, ID number, credit code, mobile, with
    spaces or a lower-case x), so retyping an identifier buys no fresh attempts; for identifiers
    that match no account, a keyed digest, so no ID number is stored in clear."""
    raw = (credentials or {}).get("username")
    if raw is None and request is not None:
        raw = request.POST.get("username", "")
    identifier = normalize_identifier(str(raw or ""))
    matches = accounts_matching(identifier)
    if len(matches) == 1:
        return f"user:{matches[0].pk}"
    digest = hmac.new(settings.SECRET_KEY.encode(), identifier.encode(), hashlib.sha256)
    return "unknown:" + digest.hexdigest()[:24]
