"""Portal shell pages: landing, the role workbench, elder mode, health and error pages."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.org import selectors as org_selectors
from tongban.org.models import ServiceCenter
from tongban.org.scopes import roles_of

from . import homes
from .middleware import ELDER_COOKIE

logger = logging.getLogger(__name__)


def landing(request):
    counts = org_selectors.counts_by_level()
    network = [
        {"level": value, "label": label, "count": counts.get(value, 0)}
        for value, label in ServiceCenter.Level.choices
    ]
    return render(
        request,
        "web/landing.html",
        {
            "network": network,
            "network_total": sum(counts.values()),
            "towns": org_selectors.town_regions(),
        },
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
        response.delete_cookie(ELDER_COOKIE, samesite="Lax")
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
    """The 500 page must render even when the database is what failed: the shell's context
    processor copes with that, and a last-resort plain page covers a failing template."""
    try:
        html = render_to_string("web/error.html", {"status": 500}, request=request)
    except Exception:  # the error page itself must not fail
        logger.exception("the 500 page could not be rendered")
        message = _("服务暂时不可用，请稍后再试。")
        html = (
            f'<!doctype html><html lang="{get_language() or "zh-hans"}"><meta charset="utf-8">'
            f"<title>500</title><h1>{message}</h1></html>"
        )
    return HttpResponse(html, status=500)
