"""Elder-friendly mode (长辈版): a cookie remembered across pages; templates read
``request.elder_mode`` and the body carries the ``elder`` class."""

ELDER_COOKIE = "tongban_elder"


class ElderModeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.elder_mode = request.COOKIES.get(ELDER_COOKIE) == "1"
        return self.get_response(request)
