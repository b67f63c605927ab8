"""Portal shell pages: landing, the role workbench, elder mode, health and error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tongban.org import selectors as org_selectors
from tongban.org.scopes import roles_of

from . import homes
from .middleware import ELDER_COOKIE


def landing(request):
    return render(
        request,
        "web/landing.html",
        {"center_counts": org_selectors.counts_by_level(), "towns": org_selectors.town_regions()},
    )


@login_required
def workbench(request):
    """The home page of the signed-in user's role (``?role=`` picks one of several)."""
    roles = roles_of(request.user)
    if not roles:
        return render(request, "web/no_role.html", status=403)
    wanted = request.GET.get("role")
    role = next((r for r in roles if r.value == wanted), roles[0])
    context = homes.build(role, request)
    context.update({"role": role, "roles": roles})
    return render(request, f"web/home/{role.value}.html", context)


@login_required
def my_scope(request):
    return render(request, "web/my_scope.html", homes.scope_context(request.user))


@require_POST
def toggle_elder_mode(request):
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if request.COOKIES.get(ELDER_COOKIE) == "1":
        response.delete_cookie(ELDER_COOKIE)
    else:
        response.set_cookie(ELDER_COOKIE, "1", max_age=365 * 24 * 3600, samesite="Lax")
    return response


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def error_403(request, exception=None):
    return render(request, "web/error.html", {"status": 403}, status=403)


def error_404(request, exception=None):
    return render(request, "web/error.html", {"status": 404}, status=404)


def error_500(request):
    return render(request, "web/error.html", {"status": 500}, status=500)


