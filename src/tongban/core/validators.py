"""Validators for Chinese identity numbers; the same checks back model, form and API fields.

- Resident ID number (居民身份证号码, GB 11643-1999): 18 characters — 6-digit address code,
  8-digit birth date, 3-digit sequence, check character from ISO 7064 MOD 11-2.
- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a 31-character
  set; the 18th is a MOD 31 check character over the first 17.
- Mainland mobile numbers: 11 digits starting 13–19.

Each validator raises Django's ``ValidationError`` whose message says what is wrong, and
returns the normalized value (upper-case check character) for callers that want it.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# --- Resident ID number (GB 11643-1999) --------------------------------------------------------
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"  # index: weighted sum mod 11

# First two digits of the address code: provinces, autonomous regions and municipalities
# (GB/T 2260), plus 81 Hong Kong, 82 Macao and 83 Taiwan used on residence permits.
PROVINCE_PREFIXES = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82", "83",
    }
)  # fmt: skip
# ASCII digits only: ``\d`` would also accept full-width and other Unicode digits.
_RESIDENT_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
EARLIEST_BIRTH = date(1880, 1, 1)


def resident_id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK[total % 11]


def validate_resident_id(value: str) -> str:
    """Check an 18-character resident ID number; return it with an upper-case check letter."""
    if not isinstance(value, str):
        raise ValidationError(_("身份证号码必须是文本。"), code="invalid_type")
    number = value.strip().upper()
    if len(number) != 18:
        raise ValidationError(
            _("身份证号码应为18位，当前为%(n)d位。") % {"n": len(number)}, code="length"
        )
    if not _RESIDENT_ID_SHAPE.match(number):
        raise ValidationError(
            _("身份证号码前17位必须是数字，最后一位是数字或X。"), code="characters"
        )
    # Only the province prefix is checked: county codes change over time, and residence permits
    # of Hong Kong, Macao and Taiwan residents use the whole-region codes 810000/820000/830000.
    address = number[:6]
    if address[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(
            _("身份证号码的地址码“%(code)s”不是有效的行政区划代码。") % {"code": address},
            code="region",
        )
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("身份证号码中的出生日期“%(d)s”不是有效日期。") % {"d": number[6:14]},
            code="birth_date",
        ) from None
    if birth > timezone.localdate():
        raise ValidationError(_("身份证号码中的出生日期晚于今天。"), code="birth_date_future")
    if birth < EARLIEST_BIRTH:
        raise ValidationError(_("身份证号码中的出生日期过早，不可信。"), code="birth_date_past")
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("身份证号码校验位错误：最后一位应为“%(c)s”，请核对号码。") % {"c": expected},
            code="checksum",
        )
    return number


def resident_id_birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def resident_id_is_male(number: str) -> bool:
    return int(number[16]) % 2 == 1


# --- Unified social credit code (GB 32100-2015) -------------------------------------------------
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
USCC_VALUES = {c: i for i, c in enumerate(USCC_CHARSET)}
USCC_WEIGHTS = tuple(
    pow(3, i, 31) for i in range(17)
)  # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_VALUES[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Check an 18-character unified social credit code; return it upper-cased."""
    if not isinstance(value, str):
        raise ValidationError(_("统一社会信用代码必须是文本。"), code="invalid_type")
    code = value.strip().upper()
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，当前为%(n)d位。") % {"n": len(code)}, code="length"
        )
    bad = sorted({c for c in code if c not in USCC_VALUES})
    if bad:
        raise ValidationError(
            _("统一社会信用代码含有不允许的字符：%(chars)s（不使用 I、O、S、V、Z）。")
            % {"chars": "、".join(bad)},
            code="characters",
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("统一社会信用代码校验位错误：最后一位应为“%(c)s”，请核对代码。") % {"c": expected},
            code="checksum",
        )
    return code


# --- Mobile numbers ----------------------------------------------------------------------------
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def validate_mobile(value: str) -> str:
    """Check a mainland mobile number (spaces, hyphens, +86 allowed); return its 11 digits."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(_("手机号码必须是文本。"), code="invalid_type")
    number = value.strip().replace(" ", "").replace("-", "")
    if number.startswith("+86"):
        number = number[3:]
    if not _MOBILE.match(number):
        raise ValidationError(_("手机号码应为以1开头的11位数字。"), code="mobile")
    return number
