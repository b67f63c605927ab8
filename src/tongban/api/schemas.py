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
