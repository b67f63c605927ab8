"""API authentication: bearer tokens (``POST /api/v1/auth/token``), or the web session."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from tongban.accounts import selectors as account_selectors


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; the token's digest is looked up, expiry and
    revocation are checked, and the user must be active."""

    def authenticate(self, request, token: str):
        user = account_selectors.user_for_token(token)
        if user is not None:
            request.user = user
        return user


class OptionalAuth(BearerToken):
    """For public endpoints: a valid token identifies the caller, none is required."""

    def __call__(self, request):
        result = super().__call__(request)
        return result or True


# Token first; the session (with CSRF) lets the web pages call the API too.
STAFF_OR_APPLICANT = [BearerToken(), SessionAuth()]
PUBLIC = [OptionalAuth()]
