"""Resident ID (GB 11643), unified social credit code (GB 32100) and mobile number validators."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tongban.core.validators import (
    PROVINCE_PREFIXES,
    RESIDENT_ID_WEIGHTS,
    USCC_CHARSET,
    USCC_WEIGHTS,
    resident_id_birth_date,
    resident_id_check_char,
    resident_id_is_male,
    uscc_check_char,
    validate_mobile,
    validate_resident_id,
    validate_uscc,
)


def with_id_check(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def with_uscc_check(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def error_of(validator, value) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validator(value)
    return info.value


# --- Resident ID number -------------------------------------------------------------------------


def test_weights_are_those_of_the_standard():
    assert RESIDENT_ID_WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    assert tuple(pow(2, 17 - i, 11) for i in range(17)) == RESIDENT_ID_WEIGHTS  # ISO 7064 MOD 11-2


def test_glossary_example_weighted_sum_and_check_char():
    number = "11010519491231002X"
    assert sum(int(c) * w for c, w in zip(number[:17], RESIDENT_ID_WEIGHTS, strict=True)) == 167
    assert resident_id_check_char(number[:17]) == "X"


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # GB 11643-1999 example (北京市朝阳区, female)
        "440524188001010014",  # GB 11643-1999 example (广东省汕头市潮阳县, born 1880-01-01)
        "440304199001011233",
        with_id_check("11010120000229001"),  # 29 February of a leap year
        with_id_check("65010119991231123"),
        with_id_check("83000019920130002"),  # Taiwan residents' residence permit (830000)
        with_id_check("81000019940823002"),  # Hong Kong residents' residence permit (810000)
        with_id_check("82000020000101001"),  # Macao residents' residence permit (820000)
        with_id_check("44999919900101001"),  # address code absent from any region table
    ],
)
def test_known_good_resident_ids(number):
    assert validate_resident_id(number) == number


def test_today_is_an_acceptable_birth_date():
    number = with_id_check(f"110105{timezone.localdate():%Y%m%d}001")
    assert validate_resident_id(number) == number


def test_lower_case_x_and_surrounding_spaces_are_accepted_and_normalized():
    assert validate_resident_id("11010519491231002x") == "11010519491231002X"
    assert validate_resident_id("  11010519491231002X \n") == "11010519491231002X"


def test_birth_date_and_sex_helpers():
    assert resident_id_birth_date("11010519491231002X") == date(1949, 12, 31)
    assert resident_id_is_male("11010519491231002X") is False  # sequence 002 is even
    assert resident_id_is_male("440524188001010014") is True  # sequence 001 is odd


def test_wrong_check_char_names_the_expected_one():
    error = error_of(validate_resident_id, "110105194912310021")
    assert error.code == "checksum"
    assert "校验位" in error.messages[0]
    assert "X" in error.messages[0]


def test_every_wrong_check_char_is_rejected():
    for c in "0123456789":
        error = error_of(validate_resident_id, "11010519491231002" + c)
        assert error.code == "checksum"


@pytest.mark.parametrize(
    "birth",
    [
        "19900230",
        "19900431",
        "19901301",
        "19900001",
        "19900100",
        "19000229",
        "20230229",
        "00000101",
    ],
)
def test_impossible_birth_dates_are_rejected(birth):
    error = error_of(validate_resident_id, with_id_check(f"110105{birth}001"))
    assert error.code == "birth_date"
    assert birth in error.messages[0]


def test_feb_30_is_rejected_even_with_a_correct_check_char():
    error = error_of(validate_resident_id, with_id_check("11010519900230001"))
    assert error.code == "birth_date"
    assert "出生日期" in error.messages[0]


def test_future_birth_date_is_rejected():
    tomorrow = timezone.localdate() + timedelta(days=1)
    error = error_of(validate_resident_id, with_id_check(f"110105{tomorrow:%Y%m%d}001"))
    assert error.code == "birth_date_future"
    assert "晚于今天" in error.messages[0]


def test_implausibly_early_birth_date_is_rejected():
    error = error_of(validate_resident_id, with_id_check("11010518791231001"))
    assert error.code == "birth_date_past"


@pytest.mark.parametrize(
    "prefix", ["00", "99", "10", "20", "30", "47", "55", "66", "72", "84", "91"]
)
def test_bad_province_prefix_is_rejected(prefix):
    error = error_of(validate_resident_id, with_id_check(f"{prefix}010519491231002"))
    assert error.code == "region"
    assert f"{prefix}0105" in error.messages[0]


@pytest.mark.parametrize(
    ("value", "length"),
    [("11010519491231002", 17), ("11010519491231002X1", 19), ("", 0), ("1101051949123100", 16)],
)
def test_wrong_length_is_rejected_with_the_length(value, length):
    error = error_of(validate_resident_id, value)
    assert error.code == "length"
    assert "18" in error.messages[0]
    assert str(length) in error.messages[0]


@pytest.mark.parametrize(
    "value",
    [
        "1101051949123100AX",  # letter in the body
        "X1010519491231002X",
        "11010519491231002Y",  # only X may stand in for 10
        "110105-9491231002X",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits (``\d`` would accept them)
    ],
)
def test_non_digit_characters_are_rejected(value):
    error = error_of(validate_resident_id, value)
    assert error.code == "characters"
    assert "数字" in error.messages[0]


@pytest.mark.parametrize("value", [None, 11010519491231002, b"11010519491231002X"])
def test_non_text_resident_id_is_rejected(value):
    assert error_of(validate_resident_id, value).code == "invalid_type"


_ID_BODIES = st.builds(
    lambda prefix, county, birth, seq: f"{prefix}{county:04d}{birth:%Y%m%d}{seq:03d}",
    st.sampled_from(sorted(PROVINCE_PREFIXES)),
    st.integers(0, 9999),
    st.dates(min_value=date(1880, 1, 1), max_value=date.today() - timedelta(days=2)),
    st.integers(0, 999),
)


@given(_ID_BODIES)
def test_property_computed_check_char_validates(body):
    number = body + resident_id_check_char(body)
    assert validate_resident_id(number) == number
    assert validate_resident_id(number.lower()) == number


@given(_ID_BODIES, st.sampled_from("0123456789X"))
def test_property_any_other_check_char_is_rejected(body, check):
    if check == resident_id_check_char(body):
        check = "X" if check != "X" else "0"
    assert error_of(validate_resident_id, body + check).code == "checksum"


@given(_ID_BODIES, st.integers(0, 16), st.integers(1, 9))
def test_property_any_single_digit_change_is_caught(body, position, delta):
    number = body + resident_id_check_char(body)
    digit = (int(number[position]) + delta) % 10
    changed = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(ValidationError):
        validate_resident_id(changed)


# --- Unified social credit code -----------------------------------------------------------------


def test_uscc_charset_and_weights():
    assert len(USCC_CHARSET) == 31
    assert not set("IOSVZ") & set(USCC_CHARSET)
    assert USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_uscc_glossary_example_sum():
    code = "91110000600037341L"
    values = [USCC_CHARSET.index(c) for c in code[:17]]
    assert sum(v * w for v, w in zip(values, USCC_WEIGHTS, strict=True)) == 538
    assert uscc_check_char(code[:17]) == "L"


@pytest.mark.parametrize(
    "code",
    [
        "91110000600037341L",  # GB 32100 glossary example
        "91350100M000100Y43",  # letters in the organization code
        "91310000MA1FL1MMXL",
        "91110108551385082Q",
        with_uscc_check("12100000400000398"),  # institution (机构编制)
        with_uscc_check("52100000500021222"),  # civil affairs (民政)
        with_uscc_check("Y1440300MA5DABCDE"),  # registering authority Y
        with_uscc_check("A1B2C3D4E5F6G7H8J"),  # first 8 characters need not be digits
        with_uscc_check("NAXXXXXXXXXXXXXXX"),
    ],
)
def test_known_good_usccs(code):
    assert validate_uscc(code) == code


def test_uscc_lower_case_and_spaces_are_normalized():
    assert validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_uscc_excluded_letters_are_rejected_and_named(letter):
    code = "9111000060003734" + letter + "L"
    error = error_of(validate_uscc, code)
    assert error.code == "characters"
    assert letter in error.messages[0]


def test_uscc_other_bad_characters_are_named():
    error = error_of(validate_uscc, "91110000-0003734*L")
    assert error.code == "characters"
    assert "-" in error.messages[0] and "*" in error.messages[0]


def test_uscc_wrong_check_char_names_the_expected_one():
    error = error_of(validate_uscc, "91110000600037341M")
    assert error.code == "checksum"
    assert "校验位" in error.messages[0]
    assert "“L”" in error.messages[0]


@pytest.mark.parametrize(
    ("value", "length"), [("91110000600037341", 17), ("91110000600037341LL", 19)]
)
def test_uscc_wrong_length(value, length):
    error = error_of(validate_uscc, value)
    assert error.code == "length"
    assert str(length) in error.messages[0]


def test_uscc_non_text_is_rejected():
    assert error_of(validate_uscc, None).code == "invalid_type"


_USCC_BODIES = st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17)


@given(_USCC_BODIES)
def test_property_uscc_computed_check_char_validates(body):
    code = body + uscc_check_char(body)
    assert validate_uscc(code) == code
    assert validate_uscc(code.lower()) == code


@given(_USCC_BODIES, st.sampled_from(USCC_CHARSET))
def test_property_uscc_any_other_check_char_is_rejected(body, check):
    if check == uscc_check_char(body):
        check = USCC_CHARSET[(USCC_CHARSET.index(check) + 1) % 31]
    assert error_of(validate_uscc, body + check).code == "checksum"


@given(_USCC_BODIES, st.integers(0, 16), st.integers(1, 30))
def test_property_uscc_any_single_character_change_is_caught(body, position, shift):
    code = body + uscc_check_char(body)
    replaced = USCC_CHARSET[(USCC_CHARSET.index(code[position]) + shift) % 31]
    with pytest.raises(ValidationError):
        validate_uscc(code[:position] + replaced + code[position + 1 :])


# --- Mobile numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13800138000", "13800138000"),
        ("19912345678", "19912345678"),
        (" 138 0013 8000 ", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
    ],
)
def test_good_mobiles_are_normalized(value, expected):
    assert validate_mobile(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        None,
        "12800138000",  # second digit 2
        "10800138000",
        "23800138000",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "1380013800a",
        "１３８００１３８０００",  # full-width digits
        "+8713800138000",
    ],
)
def test_bad_mobiles_are_rejected(value):
    error = error_of(validate_mobile, value)
    assert error.code == "mobile"
    assert "11位" in error.messages[0]


def test_non_text_mobile_is_a_validation_error_not_a_crash():
    assert error_of(validate_mobile, 13800138000).code == "invalid_type"


@given(st.integers(3, 9), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_property_mobile_valid_shape_accepted(second, rest):
    number = f"1{second}{rest}"
    assert validate_mobile(number) == number
    assert validate_mobile(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}") == number


@given(st.text(max_size=20))
def test_property_mobile_accepts_only_the_valid_shape(value):
    try:
        result = validate_mobile(value)
    except ValidationError as exc:
        assert exc.code == "mobile"
    else:
        assert len(result) == 11
        assert result[0] == "1" and result[1] in "3456789"
        assert result.isascii() and result.isdigit()
