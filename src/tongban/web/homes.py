"""What each role's home page shows, built from the records in the user's scope."""

from __future__ import annotations

from tongban.accounts.selectors import applicant_of
from tongban.org.roles import Role
from tongban.org.scopes import active_assignments, scope_for


def scope_context(user) -> dict:
    return {"assignments": list(active_assignments(user)), "scope": scope_for(user)}


def build(role: Role, request) -> dict:
    user = request.user
    if role is Role.APPLICANT:
        return {"applicant": applicant_of(user)}
    scope = scope_for(user, role)
    return {
        "assignments": list(active_assignments(user, role)),
        "centers": scope.centers().select_related("region")[:20],
        "departments": scope.departments().select_related("region")[:20],
    }
