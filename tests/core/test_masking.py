"""Masking of personal data (脱敏) in values, free text, mappings and log records."""

from __future__ import annotations

import io
import logging

import pytest

from tongban.core.masking import (
    MaskingLogFilter,
    mask_mapping,
    mask_mobile,
    mask_name,
    mask_resident_id,
    mask_text,
    mask_uscc,
)

ID = "440304199001011230"
ID_X = "11010519491231002X"
MOBILE = "13812345678"
USCC = "91110000600037341L"


def test_mask_resident_id_keeps_first_3_and_last_4():
    assert mask_resident_id(ID) == "440***********1230"
    assert mask_resident_id(ID_X) == "110***********002X"
    assert len(mask_resident_id(ID)) == 18


@pytest.mark.parametrize(("value", "expected"), [(None, ""), ("", ""), ("1234", "****")])
def test_mask_resident_id_short_and_empty(value, expected):
    assert mask_resident_id(value) == expected


def test_mask_mobile_keeps_first_3_and_last_4():
    assert mask_mobile(MOBILE) == "138****5678"
    assert mask_mobile(None) == ""
    assert mask_mobile("12345") == "1****"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳修", "欧阳*"),
        ("司马相如", "司马**"),
        ("诸葛亮", "诸葛*"),
        ("欧阳", "欧*"),  # a two-character name is not all family name
        ("王", "王"),
        (" 李四 ", "李*"),
        ("John Smith", "J*** S****"),
        ("Alice", "A****"),
        ("Mary Jane Watson", "M*** J*** W*****"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(name, expected):
    assert mask_name(name) == expected


def test_mask_uscc_keeps_first_4_and_last_4():
    assert mask_uscc(USCC) == "9111**********341L"
    assert mask_uscc("") == ""
    assert mask_uscc("12345678") == "********"


def test_mask_text_masks_numbers_inside_free_text():
    text = f"申请人身份证号{ID}，联系电话{MOBILE}。备用：{ID_X.lower()}"
    masked = mask_text(text)
    assert ID not in masked and MOBILE not in masked and ID_X.lower() not in masked
    assert "身份证号440***********1230，" in masked
    assert "联系电话138****5678。" in masked
    assert "备用：110***********002x" in masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +8613812345678 now", "call +86138****5678 now"),
        ("call +86 138 1234 5678", "call +86 138 **** 5678"),
        ("tel: 138-1234-5678", "tel: 138-****-5678"),
        (f"id={ID}&m={MOBILE}", "id=440***********1230&m=138****5678"),
    ],
)
def test_mask_text_handles_prefixes_separators_and_delimiters(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "case TB20260101-7KQ4M9 took 12 days",
        "order 1234567890123",  # 13 digits: neither an ID nor a mobile
        "12345678901",  # 11 digits not starting 1[3-9]
        "ref 4403041990010112301",  # 19 digits
        "ABC440304199001011230",  # part of a longer code
        USCC,
    ],
)
def test_mask_text_leaves_other_numbers_alone(text):
    assert mask_text(text) == text


def test_mask_mapping_masks_known_keys_nested_and_free_text():
    data = {
        "kind": "natural",
        "id_number": ID,
        "mobile": MOBILE,
        "name": "欧阳娜娜",
        "uscc": USCC,
        "count": 3,
        "ok": True,
        "note": f"请致电 {MOBILE}",
        "applicant": {"real_name": "张三", "phone": "13900139000", "resident_id": ID_X},
        "members": [{"name": "李四", "mobile": "13700137000"}, f"证件 {ID}"],
    }
    masked = mask_mapping(data)
    assert masked == {
        "kind": "natural",
        "id_number": "440***********1230",
        "mobile": "138****5678",
        "name": "欧阳**",
        "uscc": "9111**********341L",
        "count": 3,
        "ok": True,
        "note": "请致电 138****5678",
        "applicant": {
            "real_name": "张*",
            "phone": "139****9000",
            "resident_id": "110***********002X",
        },
        "members": [{"name": "李*", "mobile": "137****7000"}, "证件 440***********1230"],
    }
    assert data["mobile"] == MOBILE  # the input is not changed


def test_mask_mapping_masks_numbers_stored_as_ints_under_personal_keys():
    assert mask_mapping({"mobile": 13812345678, "phone": None}) == {
        "mobile": "138****5678",
        "phone": None,
    }


def test_mask_mapping_key_match_ignores_case():
    assert mask_mapping({"Mobile": MOBILE}) == {"Mobile": "138****5678"}


# --- The logging filter -------------------------------------------------------------------------


@pytest.fixture
def masked_logger():
    """A real logger with a real handler carrying the filter, as settings.LOGGING wires it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(MaskingLogFilter())
    logger = logging.getLogger("tests.masking")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_log_filter_masks_id_and_mobile_in_args(masked_logger):
    logger, stream = masked_logger
    logger.info("applicant %s registered with mobile %s", ID, MOBILE)
    output = stream.getvalue()
    assert ID not in output and MOBILE not in output
    assert "applicant 440***********1230 registered with mobile 138****5678" in output


def test_log_filter_masks_numbers_in_the_message_itself(masked_logger):
    logger, stream = masked_logger
    logger.warning(f"login failed for {ID_X}")
    assert "login failed for 110***********002X" in stream.getvalue()
    assert ID_X not in stream.getvalue()


def test_log_filter_masks_exception_text(masked_logger):
    logger, stream = masked_logger
    try:
        raise ValueError(f"Key (id_number)=({ID}) already exists; mobile {MOBILE}")
    except ValueError:
        logger.exception("save failed")
    output = stream.getvalue()
    assert "Traceback" in output
    assert ID not in output and MOBILE not in output
    assert "Key (id_number)=(440***********1230)" in output


def test_log_filter_leaves_other_messages_and_args_untouched(masked_logger):
    logger, stream = masked_logger
    logger.info("processed %d cases in %s", 12, "TB20260101-7KQ4M9")
    assert "processed 12 cases in TB20260101-7KQ4M9" in stream.getvalue()


def test_log_filter_with_caplog(caplog):
    caplog.handler.addFilter(MaskingLogFilter())
    try:
        with caplog.at_level(logging.INFO, logger="tests.masking.caplog"):
            logging.getLogger("tests.masking.caplog").info("mobile=%s id=%s", MOBILE, ID)
    finally:
        caplog.handler.filters.clear()
    assert caplog.messages == ["mobile=138****5678 id=440***********1230"]
    assert MOBILE not in caplog.text and ID not in caplog.text


def test_log_filter_never_drops_a_record():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "broken %s %s", ("one",), None)
    assert MaskingLogFilter().filter(record) is True  # the bad format is logged as it is


def test_the_project_logging_config_wires_the_filter(settings):
    config = settings.LOGGING
    assert config["filters"]["mask_pii"]["()"] == "tongban.core.masking.MaskingLogFilter"
    assert "mask_pii" in config["handlers"]["console"]["filters"]
