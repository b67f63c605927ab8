"""What every page's shell needs: the user's roles, navigation, the elder-mode flag, the name
shown in the header and the language the switch offers."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.utils.translation import get_language

from tongban.org.scopes import roles_of

from .navigation import navigation_for

logger = logging.getLogger(__name__)

# The switch offers the other language, named in that language (it is not translated).
OTHER_LANGUAGE = {"zh-hans": ("en", "English"), "en": ("zh-hans", "中文")}


def _user_label(user) -> str:
    """Applicants see their masked name (personal data masked by default); staff their name."""
    if getattr(user, "is_applicant", False):
        applicant = getattr(user, "applicant", None)
        if applicant is not None:
            return applicant.masked_name
    return str(user)


def shell(request):
    user = getattr(request, "user", None)
    language = (get_language() or "zh-hans").lower()
    other_code, other_name = OTHER_LANGUAGE.get(language, OTHER_LANGUAGE["en"])
    context = {
        "elder_mode": getattr(request, "elder_mode", False),
        "user_roles": [],
        "nav_items": [],
        "user_label": "",
        "other_language": {"code": other_code, "name": other_name},
    }
    try:
        roles = roles_of(user) if user is not None else []
        context["user_roles"] = roles
        context["nav_items"] = navigation_for(request, roles)
        if user is not None and user.is_authenticated:
            context["user_label"] = _user_label(user)
    except DatabaseError:
        # The 500 page still renders its shell when the database is what failed.
        logger.warning("shell context without the database", exc_info=True)
    return context
