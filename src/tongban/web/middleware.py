"""Elder-friendly mode (长辈版): a cookie remembered across pages; templates read
``request.elder_mode`` and the body carries the ``elder`` class. And the page language."""

from django.middleware.locale import LocaleMiddleware

ELDER_COOKIE = "tongban_elder"


class ElderModeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.elder_mode = request.COOKIES.get(ELDER_COOKIE) == "1"
        return self.get_response(request)


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Pages are Chinese unless the visitor chose English with the language switch (cookie);
    the browser's Accept-Language is not followed, so a foreign-language browser still gets the
    Chinese government portal first. API clients may ask for English with Accept-Language."""

    def process_request(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
