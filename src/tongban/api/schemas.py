"""Schemas shared by every router."""

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    details: object | None = None


ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}


def errors(*statuses: int) -> dict:
    return dict.fromkeys(statuses, ErrorOut)


def choice_label(choices, value) -> str:
    """The label of ``value`` in a TextChoices/IntegerChoices class ("" for an unknown value)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return ""


def url_or_none(name: str, *args) -> str | None:
    """``reverse(name, args)``, or None when the page is not installed."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None
