"""Public identifiers: case numbers and booking codes."""

from __future__ import annotations

import re
from datetime import date

from django.utils import timezone

from tongban.core.identifiers import ALPHABET, booking_code, public_number, random_code

AMBIGUOUS = set("01OIL")


def test_alphabet_excludes_ambiguous_characters():
    assert not AMBIGUOUS & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET)
    assert ALPHABET.upper() == ALPHABET
    assert len(ALPHABET) >= 30


def test_public_number_format_on_a_given_day():
    number = public_number("TB", on=date(2026, 11, 27))
    assert re.fullmatch(rf"TB20261127-[{ALPHABET}]{{6}}", number)


def test_public_number_defaults_to_the_local_date():
    number = public_number("YY")
    assert number.startswith(f"YY{timezone.localdate():%Y%m%d}-")


def test_public_number_length_is_configurable():
    number = public_number("Q", on=date(2026, 1, 5), length=10)
    assert re.fullmatch(rf"Q20260105-[{ALPHABET}]{{10}}", number)


def test_public_numbers_are_unique_over_many_draws():
    numbers = [public_number("TB", on=date(2026, 11, 27)) for _ in range(5000)]
    # 31**6 ≈ 8.9e8 possibilities: a collision among 5000 draws has probability ≈ 1.4%.
    # Allow at most one so the test is not flaky, and check the random part really varies.
    assert len(set(numbers)) >= len(numbers) - 1
    assert len({n[-6:] for n in numbers}) >= len(numbers) - 1


def test_random_parts_use_only_the_alphabet_and_every_character_of_it():
    drawn = "".join(random_code(8) for _ in range(2000))
    assert set(drawn) == set(ALPHABET)
    assert not AMBIGUOUS & set(drawn)


def test_booking_code_format_and_uniqueness():
    codes = [booking_code() for _ in range(5000)]
    assert all(re.fullmatch(rf"[{ALPHABET}]{{8}}", c) for c in codes)
    assert len(set(codes)) == len(codes)  # 31**8 ≈ 8.5e11: a collision here is ~1e-5


def test_random_code_custom_alphabet():
    assert set(random_code(50, alphabet="AB")) <= {"A", "B"}
