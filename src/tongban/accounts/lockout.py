"""What a locked-out caller sees (django-axes ``AXES_LOCKOUT_CALLABLE``): the API's JSON error
envelope with 429 and ``Retry-After``, or a readable page that says when to try again."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request, original_response=None, credentials=None):
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    minutes = seconds // 60
    message = _("登录失败次数过多，账户已暂时锁定，请 %(m)d 分钟后再试。") % {"m": minutes}
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"code": "locked_out", "message": message, "details": {"retry_after": seconds}},
            status=429,
        )
    else:
        response = render(
            request,
            "accounts/locked_out.html",
            {"message": message, "minutes": minutes},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response
