"""What every page's shell needs: the user's roles, navigation and the elder-mode flag."""

from tongban.org.scopes import roles_of

from .navigation import navigation_for


def shell(request):
    user = getattr(request, "user", None)
    roles = roles_of(user) if user is not None else []
    return {
        "elder_mode": getattr(request, "elder_mode", False),
        "user_roles": roles,
        "nav_items": navigation_for(request, roles),
    }
