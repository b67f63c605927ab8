"""Masking of personal data (脱敏) for lists, exports, logs and the audit trail.

Rules (UI.md): resident ID 440***********1230 (first 3 and last 4 kept), mobile 138****5678
(first 3 and last 4), names keep the family name (张*, 欧阳**), credit codes keep the first 4 and
last 4. The log filter masks ID and mobile numbers wherever they appear in a message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

_RESIDENT_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[\dXx])(?![0-9A-Za-z])")
# A mobile number may follow a country code written without a separator (+8613800138000) and may
# be grouped 3-4-4 with spaces or hyphens (138 0013 8000).
_MOBILE_RE = re.compile(r"(?:(?<!\d)|(?<=86))(1[3-9]\d)([- ]?)\d{4}\2(\d{4})(?!\d)")

# Two-character family names, so that 欧阳娜娜 masks as 欧阳** rather than 欧***.
COMPOUND_SURNAMES = frozenset(
    (
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "令狐", "端木", "西门", "南宫", "独孤", "澹台", "轩辕",
    )
)  # fmt: skip

PII_KEYS = {
    "id_number": "id",
    "resident_id": "id",
    "mobile": "mobile",
    "phone": "mobile",
    "name": "name",
    "real_name": "name",
    "uscc": "uscc",
}


def mask_resident_id(value: str | None) -> str:
    if not value:
        return ""
    value = str(value)
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_mobile(value: str | None) -> str:
    if not value:
        return ""
    value = str(value)
    if len(value) <= 7:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    if not value:
        return ""
    value = str(value).strip()
    if len(value) <= 1:
        return value
    if value[:2] in COMPOUND_SURNAMES and len(value) > 2:
        return value[:2] + "*" * (len(value) - 2)
    if value.isascii():
        parts = value.split()
        return " ".join(p[0] + "*" * (len(p) - 1) for p in parts)
    return value[0] + "*" * (len(value) - 1)


def mask_uscc(value: str | None) -> str:
    if not value:
        return ""
    value = str(value)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


_MASKERS = {"id": mask_resident_id, "mobile": mask_mobile, "name": mask_name, "uscc": mask_uscc}


def mask_text(text: str) -> str:
    """Mask every resident ID and mobile number found in free text."""
    text = _RESIDENT_ID_RE.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)
    return _MOBILE_RE.sub(
        lambda m: m.group(1) + m.group(2) + "****" + m.group(2) + m.group(3), text
    )


def _mask_value(value: Any, kind: str | None) -> Any:
    if isinstance(value, Mapping):
        return mask_mapping(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask_value(item, kind) for item in value]
    if kind and isinstance(value, str | int) and not isinstance(value, bool):
        return _MASKERS[kind](str(value))
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    """Mask known personal-data keys (and numbers inside strings) of a mapping, descending into
    nested mappings and lists; a number stored as an int under a personal-data key is masked too."""
    return {key: _mask_value(value, PII_KEYS.get(str(key).lower())) for key, value in data.items()}


class MaskingLogFilter(logging.Filter):
    """Logging filter that masks ID and mobile numbers in every record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        # Exception text can carry values too (PostgreSQL: "Key (id_number)=(...) already
        # exists"). Render it now, masked; formatters use a record's exc_text when it is set.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True
