"""Public identifiers (case numbers, booking codes, ticket numbers) that are not database ids.

A public number is a readable prefix, the local date and a random part drawn from an
unambiguous alphabet (no 0/O, 1/I/L), e.g. ``TB20261127-7KQ4M9``; a booking code is a short
random code. Random parts come from :mod:`secrets`, so numbers cannot be enumerated.
"""

from __future__ import annotations

import secrets
from datetime import date

from django.utils import timezone

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def random_code(length: int = 6, alphabet: str = ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def public_number(prefix: str, *, on: date | None = None, length: int = 6) -> str:
    """``PREFIXyyyymmdd-XXXXXX``: sortable by day, unguessable within it."""
    on = on or timezone.localdate()
    return f"{prefix}{on:%Y%m%d}-{random_code(length)}"


def booking_code(length: int = 8) -> str:
    return random_code(length)
