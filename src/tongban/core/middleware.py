"""Request guards shared by pages and the API."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class RejectControlCharactersMiddleware:
    """A NUL or other control character in the path or a query parameter is never meaningful
    and PostgreSQL refuses to store or compare NUL: answer 400 before any view runs, as JSON
    for the API and as a readable page otherwise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        values = [request.path, *(v for _k, vs in request.GET.lists() for v in vs)]
        if any(ch < " " and ch not in "\t\n\r" for value in values for ch in value):
            message = _("请求中含有不允许的控制字符。")
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "bad_request", "message": message, "details": None}, status=400
                )
            return render(
                request, "web/error.html", {"status": 400, "message": message}, status=400
            )
        return self.get_response(request)
