"""Import and export of the catalog (目录导入导出) as XLSX and CSV.

Three kinds, each a set of sheets linked by codes:

* ``items``: 事项 (one row per item or sub-item: the item's identity and its published
  version's implementation-list elements), 材料, 环节 and 常见问题 (rows linked by 实施编码),
  and 受理范围 (the item's acceptance-scope history).
* ``powers``: 权力 (the power list) and 调整台账 (its delegation ledger, linked by 权力编码).
* ``supervision``: 监管事项.

Formats. XLSX: one workbook, one worksheet per sheet, named as above (plus a 填表说明 sheet
describing every column; it is ignored on import). CSV: UTF-8 with BOM (Excel opens it), one
file per sheet; a kind with one sheet exports a plain ``.csv``, a kind with several exports a
``.zip`` of CSV files (``items.csv``, ``materials.csv``, ``steps.csv``, ``faqs.csv``,
``acceptance.csv``; ``powers.csv``, ``ledger.csv``). An import takes the XLSX, the ZIP, or a
single CSV (its sheet is recognized by its header row). Text cells that Excel would run as a
formula (``= + - @``) are written to CSV with a leading apostrophe, which the import removes.

Columns. Headers are the Chinese element names of GLOSSARY.md; ``SHEETS`` maps each header to a
field and is the stable format (a test pins it). Choice fields are written as their Chinese
labels and read as label or code; yes/no as 是/否; dates as 2020-06-01; themes and life events
as labels separated by "；" (a label that exists for both 个人 and 法人 is written
"社会保障（个人）"). Departments are read by full name or code, regions by division code.

Import rules (our decisions):

* Every row of every sheet is checked first (types, required fields, choices, references, codes
  repeated in the file, the cross-field rules of ``tongban.catalog.rules``). All errors are
  reported as ``{sheet, row, column, message}`` (row as the spreadsheet shows it, header = 1).
  When any error exists nothing is written. Otherwise everything is written in one transaction
  through the catalog's services; an error a service raises there rolls the whole import back
  and is reported against its row as well.
* A missing column keeps the current value (a new item gets the model default); an empty cell
  means empty. A missing 材料 / 环节 / 常见问题 / 受理范围 sheet keeps the item's current rows; a
  present sheet is the complete list for every item of the 事项 sheet.
* Items: a new code creates the item; an item whose content differs from its published version
  gets a new version in state *submitted*: import never bypasses four eyes. ``publish=True``
  (management command ``--publish --approved-by USER``, never the web or the API) is for
  migrating a catalog that was already reviewed elsewhere: the version is submitted by the
  importer, approved by ``approved_by`` — a different catalog administrator or superuser, who is
  recorded as the second person — and published. Changes to an item's identity fields
  (department, type, power, status, high frequency, parent) apply directly. A row equal to an
  open (submitted / draft) version counts as unchanged; a row that differs from both the
  published and an open version is refused (finish the open review first). Acceptance rules
  are appended, never rewritten; rows of one batch (批量调整 = 是, same 文号, 标题, 受理范围 and
  date) become one AcceptanceBatch.
* Powers through ``tongban.catalog.ledger``: new powers with ``create_power``; ledger rows are
  appended with ``record_entry`` in date order (every overlap and recovery rule applies); a
  ledger row that already exists (same power, 调整方式, region and date) must be identical:
  the ledger is append-only.
* Supervision items: created or updated with normalized names; two items whose normalized names
  are equal are refused (names stay unified), near-duplicates are listed as warnings.
* Rows the importer may not write (outside the data scope of their catalog-administrator role)
  are refused; rows that change nothing need no permission.
* Import never deletes: rows missing from the file stay as they are.

Uploads are checked by content (a real XLSX zip or UTF-8 text, matching the extension), limited
to ``MAX_UPLOAD_BYTES`` (and ``MAX_UNZIPPED_BYTES`` once unzipped), and stored under a generated
name. ``create_job`` records an ImportJob; ``process_import(job_id)`` does the work (a Celery
task can call it; the embedded setup runs it in a background thread, tests call it directly)
and keeps ``processed_rows`` up to date for the progress page.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import threading
import unicodedata
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.core import audit
from tongban.core.errors import DomainError, Forbidden, InvalidInput
from tongban.org.models import Department, Region
from tongban.org.roles import ROLE_RULES, STAFF_ROLES, Role
from tongban.org.scopes import has_role, scope_for

from . import services as catalog_services
from .models import (
    POWER_CATEGORIES,
    AcceptanceRule,
    AcceptanceScope,
    BusinessKind,
    Faq,
    ImportJob,
    ItemType,
    ItemVersion,
    LedgerEntry,
    Material,
    Power,
    ProcessStep,
    ServiceItem,
    Subject,
    SupervisionItem,
)

logger = logging.getLogger(__name__)

KINDS = ("items", "powers", "supervision")
FORMATS = ("xlsx", "csv")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_MEMBERS = 64
MAX_DATA_ROWS = 200_000
MAX_CELL_CHARS = 32_767  # Excel's own limit
PROGRESS_EVERY = 100

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {
    "xlsx": XLSX_CONTENT_TYPE,
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
}
INFO_SHEET = "填表说明"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XLSX_CHARS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_LIST_SEPARATORS = re.compile(r"[；;，,、\n]+")


class ExchangeError(InvalidInput):
    """A file that cannot be read at all (wrong type, too large, broken)."""

    code = "invalid_file"


class CellError(Exception):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = str(message)


# --------------------------------------------------------------------------------------------
# Columns and sheets (the stable format)


def _zh(value) -> str:
    """A lazy label resolved in Chinese, whatever the request's language: files are data."""
    with translation.override("zh-hans"):
        return str(value)


@dataclass(frozen=True)
class Column:
    """One column: ``header`` (the format), ``key`` (field or logical name) and how a cell is
    read. ``kind``: text, int, bool, choice, date, themes, life_events, info (written on export,
    ignored on import)."""

    header: str
    key: str
    kind: str = "text"
    required: bool = False
    max_length: int | None = None
    choices: Callable[[], Sequence[tuple[Any, Any]]] | None = None
    aliases: Callable[[], dict[str, Any]] | None = None
    min_value: int | None = None
    max_value: int | None = None
    empty: Any = ""
    note: str = ""


@dataclass(frozen=True)
class SheetSpec:
    name: str
    slug: str
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def by_header(self, header: str) -> Column | None:
        return next((c for c in self.columns if c.header == header), None)

    def header_of(self, key: str) -> str:
        col = next((c for c in self.columns if c.key == key), None)
        return col.header if col else ""


def _choices(enum) -> Callable[[], list[tuple[Any, Any]]]:
    return lambda: list(enum.choices)


def _power_categories() -> list[tuple[str, Any]]:
    return [(c.value, c.label) for c in POWER_CATEGORIES]


def _staff_roles() -> list[tuple[str, Any]]:
    return [(r.value, ROLE_RULES[r].label) for r in STAFF_ROLES]


_ROMAN = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "I": 1, "II": 2, "III": 3, "IV": 4}


def _depth_aliases() -> dict[str, int]:
    out: dict[str, int] = {}
    for roman, n in _ROMAN.items():
        out[roman] = n
        out[f"{roman}级"] = n
    out["全程网办"] = 4
    return out


def _yes_no() -> list[tuple[bool, str]]:
    return [(True, "是"), (False, "否")]


def C(header, key, kind="text", **kw) -> Column:
    return Column(header, key, kind, **kw)


V = ItemVersion
ITEM_COLUMNS: tuple[Column, ...] = (
    C("实施编码", "code", required=True, max_length=40),
    C("基本编码", "base_code", required=True, max_length=12),
    C("事项名称", "name", required=True, max_length=200),
    C("事项类型", "item_type", "choice", required=True, choices=_choices(ItemType)),
    C("所属基本事项", "parent", max_length=40, note="所属基本事项的实施编码；基本事项留空"),
    C("业务办理项类型", "business_kind", "choice", choices=_choices(BusinessKind)),
    C("实施主体", "department", required=True, max_length=100, note="部门全称或部门编码"),
    C("实施主体编码", "department_code", max_length=30),
    C("对应行政权力编码", "power", max_length=40),
    C("事项状态", "status", "choice", choices=_choices(ServiceItem.Status), empty="in_use"),
    C("高频事项", "high_frequency", "bool", empty=False),
    C("事项版本", "version_number", "info", note="导出时的现行版本号，导入时忽略"),
    C("服务对象", "subject", "choice", required=True, choices=_choices(Subject)),
    C("别名", "aliases", note="每行一个"),
    C("关键词", "keywords", note="每行一个"),
    C("主题分类", "themes", "themes", empty=[]),
    C("人生事件/企业事件", "life_events", "life_events", empty=[]),
    C("设定依据", "basis"),
    C("权力来源", "power_source", "choice", choices=_choices(V.PowerSource), empty="1"),
    C("行使层级", "exercise_level", "choice", choices=_choices(V.Level), empty="city"),
    C(
        "实施主体性质",
        "implementer_nature",
        "choice",
        choices=_choices(V.ImplementerNature),
        empty="1",
    ),
    C("委托部门", "entrusting_department", max_length=100),
    C("法定办结时限（工作日）", "legal_limit_days", "int", min_value=0, empty=None),
    C("法定时限说明", "legal_limit_note", max_length=300),
    C("承诺办结时限（工作日）", "promised_limit_days", "int", required=True, min_value=0),
    C("承诺时限说明", "promised_limit_note", max_length=300),
    C("办件类型", "case_kind", "choice", required=True, choices=_choices(V.CaseKind)),
    C("绿色通道", "green_channel", "bool", empty=False),
    C("受理条件", "conditions"),
    C("特别程序", "special_procedures"),
    C("窗口办理", "handled_at_window", "bool", empty=True),
    C("是否网办", "handled_online", "bool", empty=False),
    C("邮寄办理", "handled_by_mail", "bool", empty=False),
    C(
        "网上办理深度",
        "online_depth",
        "choice",
        choices=_choices(V.OnlineDepth),
        aliases=_depth_aliases,
        empty=1,
    ),
    C("到办事现场次数", "max_visits", "int", min_value=0, max_value=2, empty=1),
    C("是否进驻大厅", "in_hall", "bool", empty=True),
    C("通办范围", "tongban_scope", "choice", choices=_choices(V.TongbanScope)),
    C("数量限制", "quantity_limit", max_length=200),
    C("审批结果类型", "result_type", max_length=50),
    C("审批结果名称", "result_name", max_length=200),
    C("结果邮寄", "result_by_mail", "bool", empty=False),
    C("材料邮寄", "materials_by_mail", "bool", empty=False),
    C("自助终端办理", "self_service_terminal", "bool", empty=False),
    C("支持预约", "appointment_supported", "bool", empty=False),
    C("每日预约名额", "appointment_daily_quota", "int", min_value=0, empty=None),
    C("网上支付", "online_payment", "bool", empty=False),
    C("中介服务", "intermediary_service", max_length=300),
    C("是否收费", "charges_fee", "bool", empty=False),
    C("收费项目及标准", "fee_items"),
    C("收费依据", "fee_basis"),
    C("减免政策", "fee_reduction"),
    C("咨询方式", "consultation", max_length=300),
    C("投诉方式", "complaint", max_length=300),
    C("行政复议或行政诉讼", "remedies", max_length=300),
    C("修订说明", "change_note", max_length=300, note="导入形成新版本时作为修订说明"),
)

MATERIAL_COLUMNS: tuple[Column, ...] = (
    C("实施编码", "item", required=True, max_length=40),
    C("序号", "order", "int", min_value=1, empty=None),
    C("材料名称", "name", required=True, max_length=200),
    C("材料类型", "kind", "choice", choices=_choices(Material.Kind), empty="original"),
    C("材料形式", "form", "choice", choices=_choices(Material.Form), empty="both"),
    C("必要性", "necessity", "choice", choices=_choices(Material.Necessity), empty="required"),
    C("来源渠道", "source", "choice", choices=_choices(Material.Source), empty="applicant"),
    C("可复用的电子证照", "licence_type", max_length=100),
    C("份数", "copies", "int", min_value=0, max_value=999, empty=1),
    C("受理标准", "standard", max_length=300),
    C("依据", "basis", max_length=300),
    C("空白表格", "blank_form", max_length=100, note="已上传文件的存储路径"),
    C("示例样表", "sample", max_length=100, note="已上传文件的存储路径"),
)

STEP_COLUMNS: tuple[Column, ...] = (
    C("实施编码", "item", required=True, max_length=40),
    C("序号", "order", "int", min_value=1, empty=None),
    C("环节", "kind", "choice", required=True, choices=_choices(ProcessStep.Kind)),
    C("环节名称", "name", required=True, max_length=100),
    C("办理人岗位", "role", "choice", required=True, choices=_staff_roles),
    C("办理处室", "office", max_length=100),
    C("时限（工作日）", "days", "int", min_value=0, max_value=999, empty=0),
)

FAQ_COLUMNS: tuple[Column, ...] = (
    C("实施编码", "item", required=True, max_length=40),
    C("序号", "order", "int", min_value=1, empty=None),
    C("问题", "question", required=True, max_length=300),
    C("解答", "answer", required=True),
)

ACCEPTANCE_COLUMNS: tuple[Column, ...] = (
    C("实施编码", "item", required=True, max_length=40),
    C("受理范围", "scope", "choice", required=True, choices=_choices(AcceptanceScope)),
    C("生效日期", "effective_from", "date", required=True),
    C("文号", "document_no", max_length=100),
    C("批量调整", "in_batch", "bool", empty=False, note="是：同文号、标题、范围、日期的行为一批"),
    C("批次标题", "batch_title", max_length=200),
)

POWER_COLUMNS: tuple[Column, ...] = (
    C("权力编码", "code", required=True, max_length=40),
    C("权力名称", "name", required=True, max_length=200),
    C("权力类别", "category", "choice", required=True, choices=_power_categories),
    C("行使部门", "department", required=True, max_length=100, note="部门全称或部门编码"),
    C("行使部门编码", "department_code", max_length=30),
    C("行使层级", "level", "choice", choices=_choices(V.Level), empty="city"),
    C("实施依据", "basis"),
    C("有效", "active", "bool", empty=True),
)

LEDGER_COLUMNS: tuple[Column, ...] = (
    C("权力编码", "power", required=True, max_length=40),
    C("调整方式", "action", "choice", required=True, choices=_choices(LedgerEntry.Action)),
    C("承接区域代码", "region", required=True, max_length=20),
    C("承接区域", "region_name", max_length=100, note="区域名称，仅供核对"),
    C("承接主体", "receiving_body", max_length=100),
    C("生效日期", "effective_from", "date", required=True),
    C("文号", "document_no", required=True, max_length=100),
    C("备注", "note", max_length=300),
)

SUPERVISION_COLUMNS: tuple[Column, ...] = (
    C("监管事项编码", "code", required=True, max_length=40),
    C("监管事项名称", "name", required=True, max_length=200),
    C("监管部门", "department", required=True, max_length=100, note="部门全称或部门编码"),
    C("监管部门编码", "department_code", max_length=30),
    C("监管层级", "level", "choice", choices=_choices(V.Level), empty="city"),
    C("监管依据", "basis"),
    C("监管措施", "measures"),
    C("监管对象", "object", max_length=200),
    C("关联行政权力编码", "powers", note="多个编码以“；”分隔"),
    C("有效", "active", "bool", empty=True),
)

ITEM_SHEET = SheetSpec("事项", "items", ITEM_COLUMNS)
MATERIAL_SHEET = SheetSpec("材料", "materials", MATERIAL_COLUMNS)
STEP_SHEET = SheetSpec("环节", "steps", STEP_COLUMNS)
FAQ_SHEET = SheetSpec("常见问题", "faqs", FAQ_COLUMNS)
ACCEPTANCE_SHEET = SheetSpec("受理范围", "acceptance", ACCEPTANCE_COLUMNS)
POWER_SHEET = SheetSpec("权力", "powers", POWER_COLUMNS)
LEDGER_SHEET = SheetSpec("调整台账", "ledger", LEDGER_COLUMNS)
SUPERVISION_SHEET = SheetSpec("监管事项", "supervision", SUPERVISION_COLUMNS)

SHEETS: dict[str, tuple[SheetSpec, ...]] = {
    "items": (ITEM_SHEET, MATERIAL_SHEET, STEP_SHEET, FAQ_SHEET, ACCEPTANCE_SHEET),
    "powers": (POWER_SHEET, LEDGER_SHEET),
    "supervision": (SUPERVISION_SHEET,),
}

KIND_LABELS: dict[str, Promise] = dict(ImportJob.Kind.choices)
FILE_STEMS = {"items": "catalog-items", "powers": "catalog-powers", "supervision": "supervision"}

# Version fields that are workflow, not content (never compared or exported as content).
NON_CONTENT_VERSION_FIELDS = frozenset(
    {
        "id",
        "item",
        "number",
        "state",
        "change_note",
        "created_by",
        "submitted_by",
        "approved_by",
        "created_at",
        "published_at",
        "retired_at",
    }
)
VERSION_FIELDS: tuple[str, ...] = tuple(
    f.name for f in ItemVersion._meta.concrete_fields if f.name not in NON_CONTENT_VERSION_FIELDS
)
# The editable content of a version's rows (services.py), plus their order in the sheet.
MATERIAL_FIELDS = ("order", *catalog_services.MATERIAL_FIELDS)
STEP_FIELDS = ("order", *catalog_services.STEP_FIELDS)
FAQ_FIELDS = ("order", *catalog_services.FAQ_FIELDS)
ITEM_IDENTITY_FIELDS = (
    "base_code",
    "parent",
    "business_kind",
    "item_type",
    "department",
    "power",
    "status",
    "high_frequency",
)


# --------------------------------------------------------------------------------------------
# Vocabularies (themes and life events) — labels may repeat across 个人 / 法人


def _vocabularies() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    try:
        from . import themes
    except ImportError:  # pragma: no cover - the module ships with the catalog
        return {}, {}, {}, {}
    return (
        getattr(themes, "PERSONAL_THEMES", {}),
        getattr(themes, "BUSINESS_THEMES", {}),
        getattr(themes, "PERSONAL_LIFE_EVENTS", {}),
        getattr(themes, "BUSINESS_LIFE_EVENTS", {}),
    )


@dataclass
class Vocabulary:
    """Codes ↔ labels of one vocabulary split by audience, with label qualification."""

    personal: dict[str, str]
    business: dict[str, str]
    _memo: dict[tuple[str, str | None], Any] = field(default_factory=dict)

    @classmethod
    def build(cls, personal, business) -> Vocabulary:
        return cls(
            {k: _zh(v) for k, v in personal.items()}, {k: _zh(v) for k, v in business.items()}
        )

    @property
    def codes(self) -> dict[str, str]:
        return {**self.personal, **self.business}

    def _ambiguous(self) -> set[str]:
        return set(self.personal.values()) & set(self.business.values())

    def label(self, code: str) -> str:
        if code in self.personal:
            label = self.personal[code]
            return f"{label}（个人）" if label in self._ambiguous() else label
        if code in self.business:
            label = self.business[code]
            return f"{label}（法人）" if label in self._ambiguous() else label
        return code

    def resolve(self, token: str, subject: str | None) -> str:
        key = (token, subject)
        if key not in self._memo:
            try:
                self._memo[key] = self._resolve(token, subject)
            except CellError as exc:
                self._memo[key] = exc
        found = self._memo[key]
        if isinstance(found, CellError):
            raise CellError(found.message)
        return found

    def _resolve(self, token: str, subject: str | None) -> str:
        token = _normalize_label(token)
        if token in self.codes:
            return token
        m = re.fullmatch(r"(.+)[(（](个人|法人)[)）]", token)
        pools: list[dict[str, str]]
        if m:
            token = _normalize_label(m.group(1))
            pools = [self.personal if m.group(2) == "个人" else self.business]
        elif subject == Subject.NATURAL:
            pools = [self.personal, self.business]
        elif subject == Subject.LEGAL:
            pools = [self.business, self.personal]
        else:
            pools = [self.personal, self.business]
        matches = [
            [c for c, label in pool.items() if _normalize_label(label) == token] for pool in pools
        ]
        if m or subject in (Subject.NATURAL, Subject.LEGAL):
            for found in matches:
                if found:
                    return found[0]
        else:
            flat = [c for found in matches for c in found]
            if len(flat) == 1:
                return flat[0]
            if len(flat) > 1:
                raise CellError(
                    _("“%(t)s”在个人和法人中都有，请写作“%(t)s（个人）”或“%(t)s（法人）”。")
                    % {"t": token}
                )
        raise CellError(_("“%(t)s”不是已知的分类。") % {"t": token})


def _normalize_label(text: str) -> str:
    """Spaces dropped, half-width brackets and colons made full-width (as the labels are)."""
    text = re.sub(r"\s+", "", str(text))
    return text.replace("(", "（").replace(")", "）").replace(":", "：")


# --------------------------------------------------------------------------------------------
# Cells


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


_TRUE = {"是", "y", "yes", "true", "t", "1", "√", "✓", "✔", "有"}
_FALSE = {"否", "n", "no", "false", "f", "0", "×", "✗", "无"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


class ChoiceMap:
    """Code or label → code for one choice column (built once per import)."""

    def __init__(self, column: Column) -> None:
        pairs = column.choices() if column.choices else []
        self.labels: dict[Any, str] = {code: _zh(label) for code, label in pairs}
        self.lookup: dict[str, Any] = {}
        for code, label in self.labels.items():
            self.lookup[str(code).lower()] = code
            self.lookup[_normalize_label(label).lower()] = code
        if column.aliases:
            for alias, code in column.aliases().items():
                self.lookup.setdefault(_normalize_label(alias).lower(), code)
        self._memo: dict[str, Any] = {}
        self.zero_padded = all(
            isinstance(c, str) and c.isdigit() and len(c) == 2 for c in self.labels
        )

    def resolve(self, text: str) -> Any:
        if text in self._memo:
            return self._memo[text]
        value = self._resolve(text)
        self._memo[text] = value
        return value

    def _resolve(self, text: str) -> Any:
        key = _normalize_label(text).lower()
        if key in self.lookup:
            return self.lookup[key]
        if self.zero_padded and key.isdigit() and len(key) == 1:
            padded = key.zfill(2)
            if padded in self.lookup:
                return self.lookup[padded]
        allowed = "、".join(self.labels.values())
        raise CellError(
            _("“%(v)s”不是有效的选项，可填：%(allowed)s。") % {"v": text, "allowed": allowed}
        )

    def label(self, code: Any) -> str:
        return self.labels.get(code, "" if code in (None, "") else str(code))


class Codec:
    """Reads and writes the cells of one import or export (choice maps built lazily)."""

    def __init__(self) -> None:
        self._maps: dict[int, ChoiceMap] = {}
        p_themes, b_themes, p_events, b_events = _vocabularies()
        self.themes = Vocabulary.build(p_themes, b_themes)
        self.life_events = Vocabulary.build(p_events, b_events)

    def choice_map(self, column: Column) -> ChoiceMap:
        key = id(column)
        if key not in self._maps:
            self._maps[key] = ChoiceMap(column)
        return self._maps[key]

    # reading ---------------------------------------------------------------------------------

    def parse(self, column: Column, raw, *, subject: str | None = None) -> Any:
        text = _cell_text(raw)
        if text == "":
            if column.required:
                raise CellError(_("此项必填。"))
            return list(column.empty) if isinstance(column.empty, list) else column.empty
        if len(text) > MAX_CELL_CHARS:
            raise CellError(_("内容过长（超过 %(n)s 个字符）。") % {"n": MAX_CELL_CHARS})
        kind = column.kind
        if kind == "text":
            if column.max_length and len(text) > column.max_length:
                raise CellError(
                    _("不能超过 %(n)s 个字符（现有 %(m)s 个）。")
                    % {"n": column.max_length, "m": len(text)}
                )
            return text
        if kind == "int":
            return self._int(column, raw, text)
        if kind == "bool":
            low = text.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise CellError(_("应填“是”或“否”。"))
        if kind == "choice":
            return self.choice_map(column).resolve(text)
        if kind == "date":
            return self._date(raw, text)
        if kind in ("themes", "life_events"):
            vocabulary = self.themes if kind == "themes" else self.life_events
            codes: list[str] = []
            for token in _LIST_SEPARATORS.split(text):
                token = token.strip()
                if token:
                    code = vocabulary.resolve(token, subject)
                    if code not in codes:
                        codes.append(code)
            return codes
        return text

    @staticmethod
    def _int(column: Column, raw, text: str) -> int:
        if isinstance(raw, bool):
            raise CellError(_("应填整数。"))
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        elif re.fullmatch(r"[+-]?\d+", text):
            value = int(text)
        else:
            raise CellError(_("应填整数，现为“%(v)s”。") % {"v": text})
        if column.min_value is not None and value < column.min_value:
            raise CellError(_("不能小于 %(n)s。") % {"n": column.min_value})
        if column.max_value is not None and value > column.max_value:
            raise CellError(_("不能大于 %(n)s。") % {"n": column.max_value})
        return value

    @staticmethod
    def _date(raw, text: str) -> dt.date:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        for fmt in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise CellError(_("日期“%(v)s”无效，请写作 2020-06-01。") % {"v": text})

    # writing ---------------------------------------------------------------------------------

    def format(self, column: Column, value) -> Any:
        kind = column.kind
        if value is None:
            return ""
        if kind == "bool":
            return "是" if value else "否"
        if kind == "choice":
            return self.choice_map(column).label(value)
        if kind == "themes":
            return "；".join(self.themes.label(c) for c in value or [])
        if kind == "life_events":
            return "；".join(self.life_events.label(c) for c in value or [])
        if kind in ("int", "info"):
            return value
        if kind == "date":
            return value
        return str(value)


# --------------------------------------------------------------------------------------------
# Reading uploads


@dataclass
class Row:
    number: int  # as the spreadsheet shows it: the header is row 1
    cells: dict[str, Any]


@dataclass
class Table:
    sheet: str
    headers: list[str]
    rows: list[Row]
    header_row: int = 1


Book = dict[str, Table]


def safe_filename(name: str, default: str = "upload") -> str:
    """The last path component, without control characters, at most 200 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    name = name.strip(" .")
    return (name or default)[-200:]


def detect_format(filename: str, data: bytes) -> str:
    """``xlsx``, ``zip`` (of CSV files) or ``csv``, checked against the content; refuse lies."""
    ext = safe_filename(filename).rsplit(".", 1)[-1].lower() if "." in filename else ""
    is_zip = data[:4] == b"PK\x03\x04"
    if ext == "xlsx":
        if not is_zip:
            raise ExchangeError(
                _("文件扩展名是 .xlsx，但内容不是 Excel 工作簿，请上传真正的 XLSX 文件。")
            )
        return "xlsx"
    if ext == "zip":
        if not is_zip:
            raise ExchangeError(_("文件扩展名是 .zip，但内容不是 ZIP 压缩包。"))
        return "zip"
    if ext == "csv":
        if is_zip or b"\x00" in data[:4096]:
            raise ExchangeError(
                _("文件扩展名是 .csv，但内容不是文本，请上传 UTF-8 编码的 CSV 文件。")
            )
        return "csv"
    raise ExchangeError(_("只能导入 .xlsx、.csv 或装有 CSV 文件的 .zip 文件。"))


def _open_zip(data: bytes, what: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ExchangeError(_("%(what)s已损坏或不完整，无法打开。") % {"what": what}) from None
    if len(infos) > 5000 or sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        raise ExchangeError(_("%(what)s解压后过大，不予处理。") % {"what": what})
    return archive


def _decode_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel on Chinese Windows saves "CSV" as GBK; accept it rather than garble it.
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ExchangeError(_("CSV 文件须为 UTF-8 编码的文本。")) from None
    if "\x00" in text or re.search(r"[\x01-\x08\x0e-\x1f]", text[:65536]):
        raise ExchangeError(_("CSV 文件含有二进制内容，不是文本文件。"))
    return text


def _unquote_formula(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def read_csv_table(text: str, sheet: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = list(reader)
    except csv.Error as exc:
        raise ExchangeError(_("CSV 文件格式有误：%(e)s") % {"e": exc}) from None
    if not records:
        return Table(sheet, [], [])
    headers = [_cell_text(h) for h in records[0]]
    rows = []
    for index, record in enumerate(records[1:], start=2):
        values = [_unquote_formula(v) for v in record]
        if not any(v.strip() for v in values):
            continue
        rows.append(Row(index, dict(zip(headers, values, strict=False))))
        if len(rows) > MAX_DATA_ROWS:
            raise ExchangeError(_("文件行数超过上限（%(n)s 行）。") % {"n": MAX_DATA_ROWS})
    return Table(sheet, headers, rows)


def read_xlsx(data: bytes) -> Book:
    archive = _open_zip(data, _("工作簿"))
    names = set(archive.namelist())
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ExchangeError(_("文件不是 Excel 工作簿（XLSX）。"))
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a broken file
        raise ExchangeError(
            _("无法读取该工作簿，请用 Excel 或 WPS 另存为 .xlsx 后重试。")
        ) from None
    book: Book = {}
    try:
        for ws in workbook.worksheets:
            title = str(ws.title).strip()
            headers: list[str] | None = None
            rows: list[Row] = []
            for index, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if headers is None:
                    if not any(_cell_text(v) for v in values):
                        continue
                    headers = [_cell_text(v) for v in values]
                    while headers and not headers[-1]:
                        headers.pop()
                    header_row = index
                    continue
                if not any(_cell_text(v) for v in values):
                    continue
                rows.append(Row(index, dict(zip(headers, values, strict=False))))
                if len(rows) > MAX_DATA_ROWS:
                    raise ExchangeError(_("文件行数超过上限（%(n)s 行）。") % {"n": MAX_DATA_ROWS})
            if headers is not None:
                book[title] = Table(title, headers, rows, header_row)
    finally:
        workbook.close()
    return book


def _sheet_for_headers(headers: Sequence[str], kind: str | None) -> SheetSpec | None:
    """Which sheet a lone CSV file is, by its header row."""
    present = {h for h in headers if h}
    candidates = SHEETS[kind] if kind else tuple(s for specs in SHEETS.values() for s in specs)
    best, best_score = None, 0
    for spec in candidates:
        required = {c.header for c in spec.columns if c.required}
        if not required <= present:
            continue
        score = len(present & set(spec.headers))
        if score > best_score:
            best, best_score = spec, score
    return best


def read_zip_of_csv(data: bytes, kind: str | None) -> Book:
    archive = _open_zip(data, _("压缩包"))
    members = [i for i in archive.infolist() if not i.is_dir()]
    members = [i for i in members if not i.filename.rsplit("/", 1)[-1].startswith((".", "__"))]
    if len(members) > MAX_ZIP_MEMBERS:
        raise ExchangeError(_("压缩包中的文件过多。"))
    book: Book = {}
    for info in members:
        name = safe_filename(info.filename)
        if not name.lower().endswith(".csv"):
            raise ExchangeError(_("压缩包中只能有 CSV 文件，发现“%(n)s”。") % {"n": name})
        stem = name[:-4]
        with archive.open(info) as handle:
            text = _decode_text(handle.read(MAX_UNZIPPED_BYTES + 1))
        spec = next(
            (s for specs in SHEETS.values() for s in specs if stem in (s.slug, s.name)), None
        )
        table = read_csv_table(text, spec.name if spec else stem)
        if spec is None:
            spec = _sheet_for_headers(table.headers, kind)
            if spec is None:
                raise ExchangeError(
                    _("无法识别压缩包中的“%(n)s”：文件名或表头须与导出的文件一致。") % {"n": name}
                )
            table.sheet = spec.name
        if table.sheet in book:
            raise ExchangeError(_("压缩包中有两个“%(s)s”文件。") % {"s": table.sheet})
        book[table.sheet] = table
    return book


def read_upload(filename: str, data: bytes, kind: str | None = None) -> Book:
    """Parse an uploaded file into sheets; raise ExchangeError when it cannot be read."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ExchangeError(
            _("文件过大：上限为 %(n)s MB。") % {"n": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    if not data:
        raise ExchangeError(_("文件是空的。"))
    fmt = detect_format(filename, data)
    if fmt == "xlsx":
        return read_xlsx(data)
    if fmt == "zip":
        return read_zip_of_csv(data, kind)
    table = read_csv_table(_decode_text(data), "")
    spec = _sheet_for_headers(table.headers, kind)
    if spec is None:
        main = SHEETS[kind][0] if kind else None
        raise ExchangeError(
            _("无法识别该 CSV 文件的表头，请使用导出的“%(s)s”文件作为模板。")
            % {"s": main.name if main else _("目录")}
        )
    table.sheet = spec.name
    return {spec.name: table}


# --------------------------------------------------------------------------------------------
# Export


@dataclass
class ExportFile:
    filename: str
    content_type: str
    data: bytes
    rows: int = 0


def _scope_departments(user) -> Any:
    """Departments whose catalog ``user`` may export (None: everything)."""
    if user is None or getattr(user, "is_superuser", False):
        return None
    scope = scope_for(user, Role.CATALOG_ADMIN)
    return scope.departments()


def _export_items(codec: Codec, user) -> dict[str, list[list[Any]]]:
    items = (
        ServiceItem.objects.filter(published_version__isnull=False)
        .select_related("published_version", "department", "parent", "power")
        .order_by("code")
    )
    departments = _scope_departments(user)
    if departments is not None:
        items = items.filter(department__in=departments)
    items = list(items)
    version_ids = [i.published_version_id for i in items]
    by_version: dict[str, dict[int, list]] = {"materials": defaultdict(list)}
    by_version["steps"] = defaultdict(list)
    by_version["faqs"] = defaultdict(list)
    for chunk in _chunks(version_ids, 500):
        for m in Material.objects.filter(version_id__in=chunk).order_by(
            "version_id", "order", "id"
        ):
            by_version["materials"][m.version_id].append(m)
        for s in ProcessStep.objects.filter(version_id__in=chunk).order_by(
            "version_id", "order", "id"
        ):
            by_version["steps"][s.version_id].append(s)
        for f in Faq.objects.filter(version_id__in=chunk).order_by("version_id", "order", "id"):
            by_version["faqs"][f.version_id].append(f)
    rules: dict[int, list[AcceptanceRule]] = defaultdict(list)
    item_ids = [i.pk for i in items]
    for chunk in _chunks(item_ids, 500):
        for r in (
            AcceptanceRule.objects.filter(item_id__in=chunk)
            .select_related("batch")
            .order_by("item_id", "effective_from")
        ):
            rules[r.item_id].append(r)

    sheets: dict[str, list[list[Any]]] = {s.name: [] for s in SHEETS["items"]}
    for item in items:
        version = item.published_version
        values = item_values(item, version)
        values["version_number"] = version.number
        values["change_note"] = version.change_note
        sheets[ITEM_SHEET.name].append([codec.format(c, values.get(c.key)) for c in ITEM_COLUMNS])
        for m in by_version["materials"][version.pk]:
            values = {"item": item.code, **_material_values(m)}
            sheets[MATERIAL_SHEET.name].append(
                [codec.format(c, values.get(c.key)) for c in MATERIAL_COLUMNS]
            )
        for s in by_version["steps"][version.pk]:
            values = {"item": item.code, **{f: getattr(s, f) for f in STEP_FIELDS}}
            sheets[STEP_SHEET.name].append(
                [codec.format(c, values.get(c.key)) for c in STEP_COLUMNS]
            )
        for f in by_version["faqs"][version.pk]:
            values = {"item": item.code, **{k: getattr(f, k) for k in FAQ_FIELDS}}
            sheets[FAQ_SHEET.name].append([codec.format(c, values.get(c.key)) for c in FAQ_COLUMNS])
        for r in rules[item.pk]:
            values = {"item": item.code, **_rule_values(r)}
            sheets[ACCEPTANCE_SHEET.name].append(
                [codec.format(c, values.get(c.key)) for c in ACCEPTANCE_COLUMNS]
            )
    return sheets


def item_values(item: ServiceItem, version: ItemVersion | None) -> dict[str, Any]:
    """The 事项 row of ``item`` (identity fields by natural key) and ``version``'s content."""
    values: dict[str, Any] = {
        "code": item.code,
        "base_code": item.base_code,
        "parent": item.parent.code if item.parent_id else "",
        "business_kind": item.business_kind,
        "item_type": item.item_type,
        "department": item.department.name,
        "department_code": item.department.code,
        "power": item.power.code if item.power_id else "",
        "status": item.status,
        "high_frequency": item.high_frequency,
    }
    if version is not None:
        values.update({f: _field_value(version, f) for f in VERSION_FIELDS})
    return values


def _field_value(obj, name: str):
    value = getattr(obj, name)
    if hasattr(value, "name") and name in ("blank_form", "sample"):
        return value.name or ""
    if isinstance(value, list):
        return list(value)
    return value


def _material_values(m: Material) -> dict[str, Any]:
    return {f: _field_value(m, f) for f in MATERIAL_FIELDS}


def _rule_values(r: AcceptanceRule) -> dict[str, Any]:
    return {
        "scope": r.scope,
        "effective_from": r.effective_from,
        "document_no": r.batch.document_no if r.batch_id else r.document_no,
        "in_batch": r.batch_id is not None,
        "batch_title": r.batch.title if r.batch_id else "",
    }


def _export_powers(codec: Codec, user) -> dict[str, list[list[Any]]]:
    powers = Power.objects.select_related("department").order_by("code")
    departments = _scope_departments(user)
    if departments is not None:
        powers = powers.filter(department__in=departments)
    sheets: dict[str, list[list[Any]]] = {POWER_SHEET.name: [], LEDGER_SHEET.name: []}
    power_ids = []
    for p in powers:
        power_ids.append(p.pk)
        values = {
            "code": p.code,
            "name": p.name,
            "category": p.category,
            "department": p.department.name,
            "department_code": p.department.code,
            "level": p.level,
            "basis": p.basis,
            "active": p.active,
        }
        sheets[POWER_SHEET.name].append([codec.format(c, values.get(c.key)) for c in POWER_COLUMNS])
    for chunk in _chunks(power_ids, 500):
        for e in (
            LedgerEntry.objects.filter(power_id__in=chunk)
            .select_related("power", "region")
            .order_by("power__code", "effective_from", "id")
        ):
            values = {
                "power": e.power.code,
                "action": e.action,
                "region": e.region.code,
                "region_name": e.region.name,
                "receiving_body": e.receiving_body,
                "effective_from": e.effective_from,
                "document_no": e.document_no,
                "note": e.note,
            }
            sheets[LEDGER_SHEET.name].append(
                [codec.format(c, values.get(c.key)) for c in LEDGER_COLUMNS]
            )
    sheets[LEDGER_SHEET.name].sort(key=lambda r: (r[0], str(r[5])))
    return sheets


def _export_supervision(codec: Codec, user) -> dict[str, list[list[Any]]]:
    qs = SupervisionItem.objects.select_related("department").prefetch_related("powers")
    departments = _scope_departments(user)
    if departments is not None:
        qs = qs.filter(department__in=departments)
    rows = []
    for s in qs.order_by("code"):
        values = {
            "code": s.code,
            "name": s.name,
            "department": s.department.name,
            "department_code": s.department.code,
            "level": s.level,
            "basis": s.basis,
            "measures": s.measures,
            "object": s.object,
            "powers": "；".join(sorted(p.code for p in s.powers.all())),
            "active": s.active,
        }
        rows.append([codec.format(c, values.get(c.key)) for c in SUPERVISION_COLUMNS])
    return {SUPERVISION_SHEET.name: rows}


def _chunks(values: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _xlsx_bytes(kind: str, sheets: dict[str, list[list[Any]]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for spec in SHEETS[kind]:
        ws = workbook.create_sheet(spec.name)
        ws.freeze_panes = "A2"
        header = []
        for h in spec.headers:
            cell = WriteOnlyCell(ws, value=h)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in sheets.get(spec.name, []):
            out = []
            for value in row:
                if value == "":
                    value = None  # an empty cell is not written at all (a third of them)
                elif isinstance(value, str):
                    value = _ILLEGAL_XLSX_CHARS.sub("", value)
                    if value.startswith("="):
                        cell = WriteOnlyCell(ws, value=value)
                        cell.data_type = "s"  # text that merely starts with "=", not a formula
                        value = cell
                elif isinstance(value, dt.date):
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = "yyyy-mm-dd"
                    value = cell
                out.append(value)
            ws.append(out)
    info = workbook.create_sheet(INFO_SHEET)
    info.append(
        [
            _zh(gettext_lazy("工作表")),
            _zh(gettext_lazy("列")),
            _zh(gettext_lazy("必填")),
            _zh(gettext_lazy("说明")),
        ]
    )
    codec = Codec()
    for spec in SHEETS[kind]:
        for col in spec.columns:
            info.append(
                [spec.name, col.header, "是" if col.required else "", _column_note(codec, col)]
            )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column_note(codec: Codec, col: Column) -> str:
    if col.note:
        return col.note
    if col.kind == "choice":
        return "、".join(codec.choice_map(col).labels.values())
    if col.kind == "bool":
        return "是／否"
    if col.kind == "date":
        return "2020-06-01"
    if col.kind == "int":
        return _zh(gettext_lazy("整数"))
    if col.kind in ("themes", "life_events"):
        return _zh(gettext_lazy("多个以“；”分隔"))
    return ""


def _csv_bytes(spec: SheetSpec, rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(spec.headers)
    for row in rows:
        out = []
        for value in row:
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, str) and value.startswith(FORMULA_START):
                value = "'" + value  # keep Excel from running it as a formula
            out.append(value)
        writer.writerow(out)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_catalog(kind: str, fmt: str = "xlsx", *, user=None, request=None) -> ExportFile:
    """The catalog of ``kind`` as an XLSX workbook or CSV (a .zip when the kind has several
    sheets). ``user`` limits it to the departments of their catalog-administrator scope."""
    if kind not in KINDS:
        raise InvalidInput(_("导出内容须为事项、行政权力或监管事项。"))
    if fmt not in FORMATS:
        raise InvalidInput(_("导出格式须为 xlsx 或 csv。"))
    codec = Codec()
    builder = {"items": _export_items, "powers": _export_powers, "supervision": _export_supervision}
    sheets = builder[kind](codec, user)
    rows = sum(len(r) for r in sheets.values())
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    stem = f"{FILE_STEMS[kind]}-{stamp}"
    if fmt == "xlsx":
        result = ExportFile(f"{stem}.xlsx", XLSX_CONTENT_TYPE, _xlsx_bytes(kind, sheets), rows)
    elif len(SHEETS[kind]) == 1:
        spec = SHEETS[kind][0]
        result = ExportFile(
            f"{stem}.csv", CONTENT_TYPES["csv"], _csv_bytes(spec, sheets[spec.name]), rows
        )
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for spec in SHEETS[kind]:
                archive.writestr(f"{spec.slug}.csv", _csv_bytes(spec, sheets[spec.name]))
        result = ExportFile(f"{stem}.zip", CONTENT_TYPES["zip"], buffer.getvalue(), rows)
    # Every export is recorded; without a user it is a system export (manage.py).
    audit.record(
        "catalog.export",
        actor=user,
        actor_label="" if user is not None else "system",
        target_type="catalog.export",
        target_id=kind,
        request=request,
        data={"kind": kind, "format": fmt, "rows": rows, "file": result.filename},
    )
    return result


# --------------------------------------------------------------------------------------------
# Import: reports and row parsing


@dataclass
class Problem:
    sheet: str
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class ImportResult:
    kind: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changes(self) -> int:
        return int(self.summary.get("changes", 0))


@dataclass
class Parsed:
    """One data row: parsed values by key, the keys whose column exists, and the raw row."""

    sheet: SheetSpec
    number: int
    values: dict[str, Any]
    present: frozenset[str]
    bad: set[str] = field(default_factory=set)

    def ok(self, *keys: str) -> bool:
        return not (set(keys) & self.bad)


ProgressFn = Callable[[str, int, int], None]


class _Rollback(Exception):
    """Raised inside the import transaction to undo everything after a service refused a row."""


class Importer:
    """The shared machinery of the three kinds: header checks, row parsing, error collection,
    references and the two phases (check, then write in one transaction)."""

    kind = ""

    def __init__(self, book: Book, by, *, progress: ProgressFn | None = None) -> None:
        self.book = book
        self.by = by
        self.codec = Codec()
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self._progress = progress
        self.total_rows = sum(len(t.rows) for name, t in book.items() if self._spec(name))
        self.processed = 0
        self._departments: dict[str, list[Department]] | None = None
        self._may_write: dict[int, bool] = {}
        self._department_codes: dict[str, Department] | None = None

    # errors and progress -----------------------------------------------------------------------

    def error(self, sheet: SheetSpec | str, row: int, column: str, message) -> None:
        name = sheet.name if isinstance(sheet, SheetSpec) else sheet
        self.problems.append(Problem(name, row, column, str(message)))

    def warn(self, sheet: SheetSpec, row: int, column: str, message) -> None:
        self.warnings.append(Problem(sheet.name, row, column, str(message)))

    def tick(self, phase: str, n: int = 1) -> None:
        before = self.processed
        self.processed += n
        crossed = before // PROGRESS_EVERY != self.processed // PROGRESS_EVERY
        if self._progress and n and (crossed or self.processed >= self.total_rows):
            self._progress(phase, min(self.processed, self.total_rows), self.total_rows)

    def _spec(self, name: str) -> SheetSpec | None:
        return next((s for s in SHEETS[self.kind] if s.name == name), None)

    # sheets -------------------------------------------------------------------------------------

    def check_sheets(self) -> None:
        main = SHEETS[self.kind][0]
        for name, table in self.book.items():
            if name == INFO_SHEET or self._spec(name):
                continue
            if not table.rows:
                continue
            other = next(
                (k for k, specs in SHEETS.items() if any(s.name == name for s in specs)), None
            )
            if other:
                self.error(
                    name,
                    table.header_row,
                    "",
                    _("“%(s)s”属于“%(k)s”导入，不能在“%(this)s”导入中使用。")
                    % {
                        "s": name,
                        "k": _zh(KIND_LABELS[other]),
                        "this": _zh(KIND_LABELS[self.kind]),
                    },
                )
            else:
                self.error(
                    name,
                    table.header_row,
                    "",
                    _("无法识别的工作表“%(s)s”，可用的工作表：%(all)s。")
                    % {"s": name, "all": "、".join(s.name for s in SHEETS[self.kind])},
                )
        if main.name not in self.book:
            self.error(
                main, 1, "", _("文件中没有“%(s)s”工作表（或 CSV 文件）。") % {"s": main.name}
            )
        for spec in SHEETS[self.kind]:
            table = self.book.get(spec.name)
            if table is None:
                continue
            seen: set[str] = set()
            for header in table.headers:
                if not header:
                    continue
                if header in seen:
                    self.error(spec, table.header_row, header, _("列“%(h)s”重复。") % {"h": header})
                seen.add(header)
                if spec.by_header(header) is None:
                    self.error(
                        spec, table.header_row, header, _("无法识别的列“%(h)s”。") % {"h": header}
                    )
            for col in spec.columns:
                if col.required and col.header not in seen:
                    if col.key == "department" and any(
                        c.key == "department_code" and c.header in seen for c in spec.columns
                    ):
                        continue
                    self.error(
                        spec,
                        table.header_row,
                        col.header,
                        _("缺少必填列“%(h)s”。") % {"h": col.header},
                    )

    def rows(
        self, spec: SheetSpec, *, subject_of: Callable[[Row], str | None] | None = None
    ) -> list[Parsed]:
        table = self.book.get(spec.name)
        if table is None:
            return []
        present_cols = [c for c in spec.columns if c.header in table.headers and c.kind != "info"]
        has_code_col = any(c.key == "department_code" for c in present_cols)
        out = []
        for row in table.rows:
            values: dict[str, Any] = {}
            bad: set[str] = set()
            subject = subject_of(row) if subject_of else None
            for col in present_cols:
                raw = row.cells.get(col.header)
                if col.key == "department" and has_code_col and _cell_text(raw) == "":
                    values[col.key] = ""  # the code column identifies the department
                    continue
                try:
                    values[col.key] = self.codec.parse(col, raw, subject=subject)
                except CellError as exc:
                    self.error(spec, row.number, col.header, exc.message)
                    bad.add(col.key)
            out.append(
                Parsed(spec, row.number, values, frozenset(c.key for c in present_cols), bad)
            )
            self.tick("checking")
        return out

    def duplicates(self, rows: list[Parsed], key: str, label: str) -> list[Parsed]:
        """Rows whose ``key`` repeats an earlier row's are reported and dropped."""
        first: dict[Any, int] = {}
        kept = []
        for r in rows:
            value = r.values.get(key)
            if value in (None, "") or not r.ok(key):
                kept.append(r)
                continue
            if value in first:
                self.error(
                    r.sheet,
                    r.number,
                    r.sheet.header_of(key),
                    _("%(label)s“%(v)s”在文件中重复（第 %(n)s 行已有）。")
                    % {"label": label, "v": value, "n": first[value]},
                )
                continue
            first[value] = r.number
            kept.append(r)
        return kept

    # references -------------------------------------------------------------------------------

    def department(
        self, r: Parsed, name_key: str = "department", code_key: str = "department_code"
    ) -> Department | None:
        if self._departments is None:
            self._departments = defaultdict(list)
            self._department_codes = {}
            for d in Department.objects.select_related("region"):
                self._departments[d.name].append(d)
                self._department_codes[d.code] = d
        assert self._department_codes is not None
        name = r.values.get(name_key) or ""
        code = r.values.get(code_key) or ""
        name_header = r.sheet.header_of(name_key)
        code_header = r.sheet.header_of(code_key)
        if not r.ok(name_key, code_key):
            return None
        if code:
            found = self._department_codes.get(code)
            if found is None:
                self.error(
                    r.sheet, r.number, code_header, _("未找到部门编码“%(c)s”。") % {"c": code}
                )
                return None
            if name and name not in (found.name, found.code):
                self.error(
                    r.sheet,
                    r.number,
                    name_header,
                    _("部门“%(n)s”与部门编码“%(c)s”（%(real)s）不一致。")
                    % {"n": name, "c": code, "real": found.name},
                )
                return None
            return found
        if not name:
            self.error(r.sheet, r.number, name_header, _("此项必填。"))
            return None
        if name in self._department_codes:
            return self._department_codes[name]
        matches = self._departments.get(name, [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            self.error(
                r.sheet,
                r.number,
                name_header,
                _("部门名称“%(n)s”对应多个部门，请填写部门编码。") % {"n": name},
            )
        else:
            self.error(
                r.sheet,
                r.number,
                name_header,
                _("未找到部门“%(n)s”，请填写部门全称或部门编码。") % {"n": name},
            )
        return None

    def may_write(self, department: Department) -> bool:
        """lifecycle.can_manage, remembered per department for this import (``by=None`` is a
        trusted system caller)."""
        from .lifecycle import can_manage

        if self.by is None:
            return True
        if department.pk not in self._may_write:
            self._may_write[department.pk] = can_manage(self.by, department)
        return self._may_write[department.pk]

    def refuse_scope(self, r: Parsed, column: str, department: Department) -> None:
        self.error(
            r.sheet,
            r.number,
            column,
            _("您的数据范围不包括“%(d)s”，不能导入该行的修改。") % {"d": department.name},
        )

    def service_error(self, r: Parsed, exc: Exception, *, column: str = "") -> None:
        """Report a service's refusal against the row (each detail with a field, if any)."""
        if isinstance(exc, DomainError):
            details = exc.details if isinstance(exc.details, list) else []
            reported = False
            for d in details:
                if isinstance(d, dict) and d.get("message"):
                    self.error(
                        r.sheet,
                        r.number,
                        self.column_for(r.sheet, d.get("field", "")) or column,
                        d["message"],
                    )
                    reported = True
            if not reported:
                self.error(r.sheet, r.number, column, exc.message)
        elif isinstance(exc, ValidationError):
            for message in exc.messages:
                self.error(r.sheet, r.number, column, message)
        else:
            self.error(r.sheet, r.number, column, _("数据库拒绝了该行：%(e)s") % {"e": exc})

    @staticmethod
    def column_for(spec: SheetSpec, field_name: str) -> str:
        return spec.header_of(field_name or "")

    # phases ---------------------------------------------------------------------------------

    def check(self) -> None:
        raise NotImplementedError

    def apply(self) -> dict[str, Any]:
        raise NotImplementedError

    def run(self) -> ImportResult:
        result = ImportResult(self.kind)
        self.check_sheets()
        if not self.problems:
            self.check()
        if self.problems:
            result.errors = [
                p.as_dict() for p in sorted(self.problems, key=_problem_order(self.kind))
            ]
            result.warnings = [w.as_dict() for w in self.warnings]
            result.summary = {"rows": self.total_rows, "changes": 0, "errors": len(result.errors)}
            return result
        self.processed = 0
        if self._progress:
            self._progress("importing", 0, self.total_rows)
        try:
            with transaction.atomic():
                summary = self.apply()
                if self.problems:
                    raise _Rollback
        except _Rollback:
            summary = {"changes": 0}
        else:
            if self._progress and self.processed < self.total_rows:
                self._progress("importing", self.total_rows, self.total_rows)
        result.errors = [p.as_dict() for p in sorted(self.problems, key=_problem_order(self.kind))]
        result.warnings = [w.as_dict() for w in self.warnings]
        summary["rows"] = self.total_rows
        if result.errors:
            summary = {"rows": self.total_rows, "changes": 0, "errors": len(result.errors)}
        result.summary = summary
        return result


def _problem_order(kind: str) -> Callable[[Problem], tuple]:
    order = {s.name: i for i, s in enumerate(SHEETS[kind])}
    return lambda p: (order.get(p.sheet, -1), p.row, p.column)


# --------------------------------------------------------------------------------------------
# Import: items


@dataclass
class ItemPlan:
    row: Parsed
    code: str
    item: ServiceItem | None
    identity: dict[str, Any]
    version: dict[str, Any]
    materials: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    faqs: list[dict[str, Any]] = field(default_factory=list)
    child_rows: dict[str, list[Parsed]] = field(default_factory=dict)
    acceptance: list[Parsed] = field(default_factory=list)
    change_note: str = ""
    identity_changes: dict[str, Any] = field(default_factory=dict)
    content_changed: bool = False
    open_version: ItemVersion | None = None
    result: ServiceItem | None = None


_DEFAULTS: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}


def _model_defaults(model, names: Iterable[str]) -> dict[str, Any]:
    """The model's default for each field (a fresh copy of list defaults every time)."""
    key = (model._meta.label, tuple(names))
    if key not in _DEFAULTS:
        out = {}
        for name in key[1]:
            f = model._meta.get_field(name)
            if f.has_default():
                out[name] = f.get_default()
            else:
                out[name] = None if f.null else ""
        _DEFAULTS[key] = out
    return {k: (list(v) if isinstance(v, list) else v) for k, v in _DEFAULTS[key].items()}


def _norm(value) -> Any:
    """Comparable form of a stored or imported value (text without edge whitespace)."""
    if isinstance(value, Department | Power | ServiceItem):
        return value.pk
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _rows_equal(
    a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]], keys: Sequence[str]
) -> bool:
    return len(a) == len(b) and all(
        _norm(x.get(k)) == _norm(y.get(k)) for x, y in zip(a, b, strict=True) for k in keys
    )


def version_content(version: ItemVersion) -> dict[str, Any]:
    """The comparable content of a version: its elements, materials, steps and FAQs."""
    return {
        "fields": {f: _field_value(version, f) for f in VERSION_FIELDS},
        "materials": [_material_values(m) for m in version.materials.order_by("order", "id")],
        "steps": [
            {f: getattr(s, f) for f in STEP_FIELDS} for s in version.steps.order_by("order", "id")
        ],
        "faqs": [
            {f: getattr(q, f) for f in FAQ_FIELDS} for q in version.faqs.order_by("order", "id")
        ],
    }


class _Snapshot:
    """What the check needs to know about the items of a file, loaded in a few bulk queries
    (one query per item would dominate the time of a large import)."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.items: dict[str, ServiceItem] = {}
        for chunk in _chunks(sorted(set(codes)), 500):
            for item in ServiceItem.objects.filter(code__in=chunk).select_related(
                "published_version", "department", "parent", "power"
            ):
                self.items[item.code] = item
        ids = [i.pk for i in self.items.values()]
        self.open: dict[int, ItemVersion] = {}
        self.rules: dict[int, list[AcceptanceRule]] = defaultdict(list)
        self.files: dict[int, set[str]] = defaultdict(set)
        for chunk in _chunks(ids, 500):
            for v in ItemVersion.objects.filter(item_id__in=chunk, state__in=OPEN_STATES).order_by(
                "number"
            ):
                self.open[v.item_id] = v
            for r in AcceptanceRule.objects.filter(item_id__in=chunk).select_related("batch"):
                self.rules[r.item_id].append(r)
            for item_id, blank, sample in Material.objects.filter(
                version__item_id__in=chunk
            ).values_list("version__item_id", "blank_form", "sample"):
                self.files[item_id].update(n for n in (blank, sample) if n)
        version_ids = [
            i.published_version_id for i in self.items.values() if i.published_version_id
        ]
        version_ids += [v.pk for v in self.open.values()]
        self.children: dict[str, dict[int, list]] = {
            "materials": defaultdict(list),
            "steps": defaultdict(list),
            "faqs": defaultdict(list),
        }
        for chunk in _chunks(version_ids, 500):
            for key, model in (("materials", Material), ("steps", ProcessStep), ("faqs", Faq)):
                for obj in model.objects.filter(version_id__in=chunk).order_by(
                    "version_id", "order", "id"
                ):
                    self.children[key][obj.version_id].append(obj)

    def content(self, version: ItemVersion) -> dict[str, Any]:
        """version_content() from the loaded rows."""
        return {
            "fields": {f: _field_value(version, f) for f in VERSION_FIELDS},
            "materials": [_material_values(m) for m in self.children["materials"][version.pk]],
            "steps": [
                {f: getattr(s, f) for f in STEP_FIELDS} for s in self.children["steps"][version.pk]
            ],
            "faqs": [
                {f: getattr(q, f) for f in FAQ_FIELDS} for q in self.children["faqs"][version.pk]
            ],
        }


def _same_content(current: dict[str, Any], plan: ItemPlan) -> bool:
    return (
        all(_norm(current["fields"][k]) == _norm(plan.version[k]) for k in VERSION_FIELDS)
        and _rows_equal(current["materials"], plan.materials, MATERIAL_FIELDS)
        and _rows_equal(current["steps"], plan.steps, STEP_FIELDS)
        and _rows_equal(current["faqs"], plan.faqs, FAQ_FIELDS)
    )


# Identity fields an import may change on an existing item (through services.update_item);
# the others identify the item and are refused when they differ.
UPDATABLE_IDENTITY = ("status", "high_frequency", "power")
OPEN_STATES = (ItemVersion.State.DRAFT, ItemVersion.State.SUBMITTED, ItemVersion.State.APPROVED)


class ItemImporter(Importer):
    kind = "items"

    def __init__(
        self, book: Book, by, *, publish: bool = False, approved_by=None, progress=None
    ) -> None:
        super().__init__(book, by, progress=progress)
        self.publish = publish
        self.approved_by = approved_by
        self.plans: list[ItemPlan] = []

    # check ------------------------------------------------------------------------------------

    def check(self) -> None:
        subject_col = ITEM_SHEET.by_header("服务对象")
        assert subject_col is not None

        def subject_of(row: Row) -> str | None:
            try:
                return self.codec.parse(subject_col, row.cells.get(subject_col.header))
            except CellError:
                return None

        item_rows = self.duplicates(
            self.rows(ITEM_SHEET, subject_of=subject_of), "code", _("实施编码")
        )
        in_file = {r.values["code"] for r in item_rows if r.values.get("code")}
        self.snapshot = _Snapshot(in_file)
        existing = self.snapshot.items
        children: dict[str, dict[str, list[Parsed]]] = {}
        for spec in (MATERIAL_SHEET, STEP_SHEET, FAQ_SHEET, ACCEPTANCE_SHEET):
            if spec.name not in self.book:
                continue
            by_code: dict[str, list[Parsed]] = defaultdict(list)
            for r in self.rows(spec):
                code = r.values.get("item")
                if not code:
                    continue
                if code not in in_file:
                    self.error(
                        spec,
                        r.number,
                        spec.header_of("item"),
                        _("实施编码“%(c)s”不在“事项”表中，请把该事项一并列入“事项”表。")
                        % {"c": code},
                    )
                    continue
                by_code[code].append(r)
            children[spec.name] = by_code

        power_codes = {r.values.get("power") for r in item_rows} - {"", None}
        powers = {p.code: p for p in Power.objects.filter(code__in=list(power_codes))}
        plans: dict[str, ItemPlan] = {}
        for r in item_rows:
            plan = self._plan(r, existing.get(r.values.get("code") or ""), powers, children)
            if plan is not None:
                plans[plan.code] = plan

        unsaved = self._unsaved_items(plans)
        for code, plan in plans.items():
            self._compare(plan)
            # The cross-field rules judge what would be written; a row equal to the version
            # in force writes nothing and is not judged again.
            if plan.content_changed:
                self._check_rules(plan, unsaved[code])
        # Base items first, so that a sub-item's parent exists when the sub-item is created.
        self.plans = sorted(
            plans.values(), key=lambda p: (bool(p.identity["parent"]), p.row.number)
        )

    def _plan(self, r: Parsed, item: ServiceItem | None, powers, children) -> ItemPlan | None:
        code = r.values.get("code")
        if not code:
            return None
        department = self.department(r)
        power = None
        if "power" in r.present:
            power_code = r.values.get("power") or ""
            if power_code and r.ok("power"):
                power = powers.get(power_code)
                if power is None:
                    self.error(
                        ITEM_SHEET,
                        r.number,
                        ITEM_SHEET.header_of("power"),
                        _("未找到权力编码“%(c)s”，请先导入行政权力。") % {"c": power_code},
                    )
                    return None
        elif item is not None:
            power = item.power
        if department is None:
            return None
        open_version = None
        if item is not None:
            open_version = self.snapshot.open.get(item.pk)
        # Absent columns keep the current values: those of the published version (or of the
        # open version of an item never published), else the model defaults.
        base = (item.published_version or open_version) if item else None
        current = item_values(item, base) if item else {}
        defaults = _model_defaults(ServiceItem, ("business_kind", "status", "high_frequency"))

        def pick(key: str, fallback: Any) -> Any:
            if key in r.present and key not in r.bad:
                return r.values[key]
            return current.get(key, fallback)

        identity = {
            "base_code": pick("base_code", ""),
            "parent": pick("parent", ""),
            "business_kind": pick("business_kind", defaults["business_kind"]),
            "item_type": pick("item_type", ""),
            "department": department,
            "power": power,
            "status": pick("status", defaults["status"]),
            "high_frequency": pick("high_frequency", defaults["high_frequency"]),
        }
        version = _model_defaults(ItemVersion, VERSION_FIELDS)
        if base is not None:
            version.update({f: current[f] for f in VERSION_FIELDS})
        for name in VERSION_FIELDS:
            if name in r.present and name not in r.bad:
                version[name] = r.values[name]
        if item is None:
            for key in ("name", "subject", "promised_limit_days", "case_kind", "item_type"):
                header = ITEM_SHEET.header_of(key)
                value = identity.get(key) if key == "item_type" else version.get(key)
                if key not in r.present and value in (None, ""):
                    self.error(
                        ITEM_SHEET, r.number, header, _("新事项须填写“%(c)s”。") % {"c": header}
                    )
        plan = ItemPlan(
            row=r,
            code=code,
            item=item,
            identity=identity,
            version=version,
            change_note=r.values.get("change_note") or "",
            open_version=open_version,
        )
        content = self.snapshot.content(base) if base is not None else None
        for spec, key, fields_ in (
            (MATERIAL_SHEET, "materials", MATERIAL_FIELDS),
            (STEP_SHEET, "steps", STEP_FIELDS),
            (FAQ_SHEET, "faqs", FAQ_FIELDS),
        ):
            if spec.name in children:
                rows = children[spec.name].get(code, [])
                plan.child_rows[spec.name] = rows
                setattr(plan, key, self._children(spec, rows, fields_, item))
            else:
                setattr(plan, key, content[key] if content else [])
        if ACCEPTANCE_SHEET.name in children:
            plan.acceptance = [
                x for x in children[ACCEPTANCE_SHEET.name].get(code, []) if not x.bad
            ]
        return plan

    def _children(
        self, spec: SheetSpec, rows: list[Parsed], fields_: Sequence[str], item
    ) -> list[dict[str, Any]]:
        model = {MATERIAL_SHEET.name: Material, STEP_SHEET.name: ProcessStep}.get(spec.name, Faq)
        defaults = _model_defaults(model, [f for f in fields_ if f != "order"])
        files = self.snapshot.files[item.pk] if item is not None else set()
        used: dict[int, int] = {}
        ordered = []
        for position, r in enumerate(rows, start=1):
            order = r.values.get("order") or position
            if order in used:
                self.error(
                    spec,
                    r.number,
                    spec.header_of("order"),
                    _("同一事项的序号“%(n)s”重复（第 %(r)s 行已有）。")
                    % {"n": order, "r": used[order]},
                )
            used[order] = r.number
            values = {f: r.values.get(f, defaults[f]) for f in fields_ if f != "order"}
            if spec is MATERIAL_SHEET:
                for name in ("blank_form", "sample"):
                    self._check_file(r, name, values[name], item, files)
            ordered.append((order, position, r, values))
        ordered.sort(key=lambda t: (t[0], t[1]))
        # Stored in file order (by 序号), numbered 1..n as the services store them.
        rows[:] = [t[2] for t in ordered]
        return [{"order": i, **t[3]} for i, t in enumerate(ordered, start=1)]

    def _check_file(self, r: Parsed, name: str, path: str, item, files: set[str]) -> None:
        if not path:
            return
        header = r.sheet.header_of(name)
        if item is None:
            self.error(
                r.sheet,
                r.number,
                header,
                _("新事项的空白表格和示例样表须在导入后于事项编辑页上传，此处请留空。"),
            )
        elif path not in files:
            self.error(
                r.sheet,
                r.number,
                header,
                _("文件“%(p)s”不是该事项已上传的附件；新附件请在事项编辑页上传。") % {"p": path},
            )

    def _unsaved_items(self, plans: dict[str, ItemPlan]) -> dict[str, ServiceItem]:
        """Unsaved ServiceItems for the rules, with parents from the file or the catalog."""
        parent_codes = {p.identity["parent"] for p in plans.values()} - {""}
        in_db = {
            i.code: i
            for i in ServiceItem.objects.filter(code__in=list(parent_codes)).select_related(
                "department"
            )
        }
        unsaved = {
            code: ServiceItem(
                code=code,
                base_code=p.identity["base_code"],
                business_kind=p.identity["business_kind"],
                item_type=p.identity["item_type"],
                department=p.identity["department"],
                power=p.identity["power"],
                status=p.identity["status"],
                high_frequency=p.identity["high_frequency"],
            )
            for code, p in plans.items()
        }
        header = ITEM_SHEET.header_of("parent")
        for code, plan in plans.items():
            parent_code = plan.identity["parent"]
            if not parent_code:
                continue
            if parent_code == code:
                self.error(ITEM_SHEET, plan.row.number, header, _("事项不能以自身为所属基本事项。"))
                continue
            parent = unsaved.get(parent_code) or in_db.get(parent_code)
            if parent is None:
                self.error(
                    ITEM_SHEET,
                    plan.row.number,
                    header,
                    _("所属基本事项“%(c)s”既不在文件中，也不在目录中。") % {"c": parent_code},
                )
                continue
            if parent_code in plans and plans[parent_code].identity["parent"]:
                # The rules only look one level up; mark the parent as a sub-item itself.
                grand = plans[parent_code].identity["parent"]
                unsaved[parent_code].parent = unsaved.get(grand) or in_db.get(grand)
            unsaved[code].parent = parent
        return unsaved

    def _check_rules(self, plan: ItemPlan, item: ServiceItem) -> None:
        from . import rules

        version = ItemVersion(item=item, number=1, **plan.version)
        materials = [Material(**m) for m in plan.materials]
        steps = [ProcessStep(**s) for s in plan.steps]
        for problem in rules.check_version(version, item=item, materials=materials, steps=steps):
            if problem.get("field", "") in plan.row.bad:
                continue  # the cell itself is already reported
            sheet, row, column = self._locate(plan, problem.get("field", ""))
            self.error(sheet, row, column, problem["message"])

    def _locate(self, plan: ItemPlan, field_name: str) -> tuple[SheetSpec, int, str]:
        """Where a rule's field lives in the file: ``steps[2].role`` → 环节 sheet, that row."""
        m = re.fullmatch(r"(materials|steps|faqs)(?:\[(\d+)\](?:\.(\w+))?)?", field_name or "")
        if m:
            spec = {"materials": MATERIAL_SHEET, "steps": STEP_SHEET, "faqs": FAQ_SHEET}[m.group(1)]
            rows = plan.child_rows.get(spec.name, [])
            index = int(m.group(2)) if m.group(2) is not None else 0
            if index < len(rows):
                header = spec.header_of(m.group(3)) if m.group(3) else ""
                return spec, rows[index].number, header or spec.columns[2].header
            return ITEM_SHEET, plan.row.number, spec.name
        if field_name == "acceptance_scope":
            return ITEM_SHEET, plan.row.number, ACCEPTANCE_SHEET.name
        return ITEM_SHEET, plan.row.number, ITEM_SHEET.header_of(field_name)

    def _compare(self, plan: ItemPlan) -> None:
        item = plan.item
        if item is None:
            plan.content_changed = True
            self._check_scope(plan, plan.identity["department"])
            self._check_publisher(plan)
            self._check_acceptance(plan)
            return
        current = {
            "base_code": item.base_code,
            "parent": item.parent.code if item.parent_id else "",
            "business_kind": item.business_kind,
            "item_type": item.item_type,
            "department": item.department,
            "power": item.power,
            "status": item.status,
            "high_frequency": item.high_frequency,
        }
        for key in ITEM_IDENTITY_FIELDS:
            if _norm(plan.identity[key]) == _norm(current[key]):
                continue
            if key in UPDATABLE_IDENTITY:
                plan.identity_changes[key] = plan.identity[key]
                continue
            shown = current[key].name if isinstance(current[key], Department) else current[key]
            self.error(
                ITEM_SHEET,
                plan.row.number,
                ITEM_SHEET.header_of(key),
                _("已登记事项的“%(c)s”不能通过导入修改（目录中为“%(v)s”）。")
                % {"c": ITEM_SHEET.header_of(key), "v": shown or "—"},
            )
        published = item.published_version
        same_as_published = published is not None and _same_content(
            self.snapshot.content(published), plan
        )
        same_as_open = plan.open_version is not None and _same_content(
            self.snapshot.content(plan.open_version), plan
        )
        plan.content_changed = not (same_as_published or same_as_open)
        if plan.content_changed and plan.open_version is not None:
            self.error(
                ITEM_SHEET,
                plan.row.number,
                ITEM_SHEET.header_of("code"),
                _("该事项已有“%(state)s”的第 %(n)s 版，与本行内容不同；请先在工作台处理该版本。")
                % {
                    "state": _zh(plan.open_version.get_state_display()),
                    "n": plan.open_version.number,
                },
            )
        if plan.identity_changes or plan.content_changed:
            self._check_scope(plan, item.department)
        if plan.content_changed:
            self._check_publisher(plan)
        self._check_acceptance(plan)

    def _check_scope(self, plan: ItemPlan, department: Department) -> None:
        if not self.may_write(department):
            self.refuse_scope(plan.row, ITEM_SHEET.header_of("department"), department)

    def _check_publisher(self, plan: ItemPlan) -> None:
        if not self.publish:
            return
        from .lifecycle import can_manage

        if not can_manage(self.approved_by, plan.identity["department"]):
            self.error(
                ITEM_SHEET,
                plan.row.number,
                ITEM_SHEET.header_of("department"),
                _("审核人的数据范围不包括“%(d)s”，不能直接发布。")
                % {"d": plan.identity["department"].name},
            )

    def _check_acceptance(self, plan: ItemPlan) -> None:
        """Acceptance rows are appended; an existing rule on the same date must be identical."""
        existing: dict[dt.date, AcceptanceRule] = {}
        if plan.item is not None:
            existing = {r.effective_from: r for r in self.snapshot.rules[plan.item.pk]}
        seen: dict[dt.date, int] = {}
        new_rows = []
        for r in sorted(plan.acceptance, key=lambda x: (x.values["effective_from"], x.number)):
            day = r.values["effective_from"]
            if day in seen:
                self.error(
                    ACCEPTANCE_SHEET,
                    r.number,
                    ACCEPTANCE_SHEET.header_of("effective_from"),
                    _("同一事项同一生效日期只能有一条受理范围（第 %(n)s 行已有）。")
                    % {"n": seen[day]},
                )
                continue
            seen[day] = r.number
            if r.values.get("in_batch") and not r.values.get("document_no"):
                self.error(
                    ACCEPTANCE_SHEET,
                    r.number,
                    ACCEPTANCE_SHEET.header_of("document_no"),
                    _("批量调整须填写文号。"),
                )
                continue
            rule = existing.get(day)
            if rule is None:
                new_rows.append(r)
                continue
            stored = _rule_values(rule)
            if any(
                _norm(stored[k]) != _norm(r.values.get(k, stored[k]))
                for k in ("scope", "document_no", "in_batch", "batch_title")
            ):
                self.error(
                    ACCEPTANCE_SHEET,
                    r.number,
                    ACCEPTANCE_SHEET.header_of("scope"),
                    _(
                        "该事项在 %(d)s 已有受理范围调整，内容与本行不同；"
                        "已登记的调整不能通过导入修改。"
                    )
                    % {"d": day.isoformat()},
                )
        plan.acceptance = new_rows
        department = plan.item.department if plan.item else plan.identity["department"]
        if new_rows and not self.may_write(department):
            self.refuse_scope(new_rows[0], ACCEPTANCE_SHEET.header_of("scope"), department)

    # apply ------------------------------------------------------------------------------------

    def apply(self) -> dict[str, Any]:
        counts = {
            "created": 0,
            "new_versions": 0,
            "attributes_updated": 0,
            "unchanged": 0,
            "published": 0,
        }
        done: dict[str, ServiceItem] = {}
        for plan in self.plans:
            if plan.item is not None and not (plan.identity_changes or plan.content_changed):
                counts["unchanged"] += 1  # nothing to write: no savepoint, no query
                plan.result = done[plan.code] = plan.item
                self.tick("importing", 1 + sum(len(v) for v in plan.child_rows.values()))
                continue
            try:
                with transaction.atomic():
                    plan.result = self._apply_item(plan, done, counts)
                    done[plan.code] = plan.result
            except (DomainError, ValidationError, IntegrityError) as exc:
                self.item_error(plan, exc)
            self.tick("importing", 1 + sum(len(v) for v in plan.child_rows.values()))
        if self.problems:
            return {}
        rules_created, batches = self._apply_acceptance()
        changed = counts["created"] + counts["new_versions"] + counts["attributes_updated"]
        return {
            "kind": self.kind,
            "items": counts,
            "acceptance_rules_created": rules_created,
            "acceptance_batches_created": batches,
            "changes": changed + rules_created,
            "published": self.publish,
        }

    def item_error(self, plan: ItemPlan, exc: Exception) -> None:
        if isinstance(exc, DomainError) and isinstance(exc.details, list) and exc.details:
            for d in exc.details:
                if isinstance(d, dict) and d.get("message"):
                    sheet, row, column = self._locate(plan, str(d.get("field", "")))
                    self.error(sheet, row, column, d["message"])
            return
        self.service_error(plan.row, exc, column=ITEM_SHEET.header_of("code"))

    def _version_data(self, plan: ItemPlan) -> dict[str, Any]:
        data = dict(plan.version)
        data["change_note"] = plan.change_note or _("批量导入")
        data["materials"] = [dict(m) for m in plan.materials]
        data["steps"] = [dict(s) for s in plan.steps]
        data["faqs"] = [dict(f) for f in plan.faqs]
        return data

    def _apply_item(
        self, plan: ItemPlan, done: dict[str, ServiceItem], counts: dict[str, int]
    ) -> ServiceItem:
        from . import services

        if plan.item is None:
            identity = plan.identity
            parent_code = identity["parent"]
            parent = None
            if parent_code:
                parent = done.get(parent_code) or ServiceItem.objects.get(code=parent_code)
            first = next((r for r in plan.acceptance if not r.values.get("in_batch")), None)
            item = services.create_item(
                code=plan.code,
                base_code=identity["base_code"],
                item_type=identity["item_type"],
                department=identity["department"],
                by=self.by,
                version=self._version_data(plan),
                parent=parent,
                business_kind=identity["business_kind"],
                power=identity["power"],
                high_frequency=identity["high_frequency"],
                acceptance_scope=first.values["scope"]
                if first
                else AcceptanceScope.DEPARTMENT_CENTER,
                acceptance_from=first.values["effective_from"] if first else None,
            )
            if first is not None:
                plan.acceptance.remove(first)
                if first.values.get("document_no"):
                    from . import acceptance

                    acceptance.set_initial_scope(
                        item,
                        first.values["scope"],
                        first.values["effective_from"],
                        document_no=first.values["document_no"],
                    )
            if identity["status"] != ServiceItem.Status.IN_USE:
                services.update_item(item, {"status": identity["status"]}, self.by)
            counts["created"] += 1
            self._submit(item.versions.get(number=1), counts)
            return item
        item = plan.item
        if plan.identity_changes:
            services.update_item(item, dict(plan.identity_changes), self.by)
            counts["attributes_updated"] += 1
        if plan.content_changed:
            draft = services.start_new_version(item, self.by)
            services.update_draft(draft, self._version_data(plan), self.by)
            counts["new_versions"] += 1
            self._submit(draft, counts)
        return item

    def _submit(self, version: ItemVersion, counts: dict[str, int]) -> None:
        from . import services

        version = services.submit(version, self.by)
        if self.publish:
            version = services.approve(version, self.approved_by)
            services.publish(version, self.by)
            counts["published"] += 1

    def _apply_acceptance(self) -> tuple[int, int]:
        from . import acceptance

        created = 0
        batches: dict[tuple, list[tuple[ItemPlan, Parsed]]] = defaultdict(list)
        for plan in self.plans:
            for r in plan.acceptance:
                v = r.values
                if v.get("in_batch"):
                    key = (
                        v["effective_from"],
                        v["document_no"],
                        v.get("batch_title") or "",
                        v["scope"],
                    )
                    batches[key].append((plan, r))
                    continue
                try:
                    with transaction.atomic():
                        acceptance.set_initial_scope(
                            plan.result,
                            v["scope"],
                            v["effective_from"],
                            document_no=v.get("document_no") or "",
                        )
                        created += 1
                except (DomainError, ValidationError, IntegrityError) as exc:
                    self.service_error(r, exc, column=ACCEPTANCE_SHEET.header_of("scope"))
            self.tick("importing", len(plan.acceptance))
        for (day, document_no, title, scope), members in sorted(batches.items(), key=_batch_key):
            try:
                with transaction.atomic():
                    acceptance.delegate_acceptance(
                        [p.result for p, _r in members], scope, document_no, day, self.by, title
                    )
                    created += len(members)
            except (DomainError, ValidationError, IntegrityError) as exc:
                for _p, r in members:
                    self.service_error(r, exc, column=ACCEPTANCE_SHEET.header_of("document_no"))
        if created:
            for plan in self.plans:
                if plan.acceptance and plan.result is not None:
                    audit.record(
                        "catalog.acceptance_import",
                        actor=self.by,
                        target=plan.result,
                        data={
                            "rules": [
                                {
                                    "scope": r.values["scope"],
                                    "effective_from": r.values["effective_from"].isoformat(),
                                    "document_no": r.values.get("document_no") or "",
                                }
                                for r in plan.acceptance
                            ]
                        },
                    )
        return created, len(batches)


def _batch_key(kv) -> tuple:
    (day, document_no, title, scope), _members = kv
    return (day, document_no, title, scope)


# --------------------------------------------------------------------------------------------
# Import: powers and their ledger


@dataclass
class PowerPlan:
    row: Parsed
    code: str
    power: Power | None
    values: dict[str, Any]
    changes: dict[str, Any] = field(default_factory=dict)


class PowerImporter(Importer):
    kind = "powers"

    def check(self) -> None:

        rows = self.duplicates(self.rows(POWER_SHEET), "code", _("权力编码"))
        codes = [r.values["code"] for r in rows if r.values.get("code")]
        existing = {
            p.code: p for p in Power.objects.filter(code__in=codes).select_related("department")
        }
        self.power_plans: list[PowerPlan] = []
        for r in rows:
            code = r.values.get("code")
            department = self.department(r)
            if not code or department is None or r.bad:
                continue
            power = existing.get(code)
            values = {
                "name": r.values.get("name", power.name if power else ""),
                "category": r.values.get("category", power.category if power else ""),
                "department": department,
                "level": r.values["level"]
                if "level" in r.present
                else (power.level if power else "city"),
                "basis": r.values["basis"]
                if "basis" in r.present
                else (power.basis if power else ""),
                "active": r.values["active"]
                if "active" in r.present
                else (power.active if power else True),
            }
            plan = PowerPlan(r, code, power, values)
            if power is None:
                plan.changes = dict(values)
            else:
                plan.changes = {
                    k: v for k, v in values.items() if _norm(v) != _norm(getattr(power, k))
                }
            if plan.changes:
                for dept in {department, *([power.department] if power else [])}:
                    if not self.may_write(dept):
                        self.refuse_scope(r, POWER_SHEET.header_of("department"), dept)
            self.power_plans.append(plan)

        # Ledger rows: references, identity (power, action, region, date), append-only.
        entries = self.rows(LEDGER_SHEET)
        known = {p.code: p for p in self.power_plans}
        ledger_codes = {r.values.get("power") for r in entries} - {"", None}
        in_db = {
            p.code: p
            for p in Power.objects.filter(code__in=list(ledger_codes)).select_related("department")
        }
        region_codes = {r.values.get("region") for r in entries} - {"", None}
        regions = {g.code: g for g in Region.objects.filter(code__in=list(region_codes))}
        stored: dict[tuple, LedgerEntry] = {}
        for e in LedgerEntry.objects.filter(power__code__in=list(ledger_codes)).select_related(
            "power", "region"
        ):
            stored[(e.power.code, e.action, e.region.code, e.effective_from)] = e
        seen: dict[tuple, int] = {}
        self.entry_rows: list[tuple[Parsed, str, Region]] = []
        for r in entries:
            if r.bad:
                continue
            v = r.values
            code, region_code = v["power"], v["region"]
            if code not in known and code not in in_db:
                self.error(
                    LEDGER_SHEET,
                    r.number,
                    LEDGER_SHEET.header_of("power"),
                    _("权力编码“%(c)s”既不在“权力”表中，也不在权力清单中。") % {"c": code},
                )
                continue
            region = regions.get(region_code)
            if region is None:
                self.error(
                    LEDGER_SHEET,
                    r.number,
                    LEDGER_SHEET.header_of("region"),
                    _("未找到区划代码“%(c)s”。") % {"c": region_code},
                )
                continue
            if v.get("region_name") and v["region_name"] != region.name:
                self.error(
                    LEDGER_SHEET,
                    r.number,
                    LEDGER_SHEET.header_of("region_name"),
                    _("承接区域“%(n)s”与区划代码“%(c)s”（%(real)s）不一致。")
                    % {"n": v["region_name"], "c": region_code, "real": region.name},
                )
                continue
            key = (code, v["action"], region_code, v["effective_from"])
            if key in seen:
                self.error(
                    LEDGER_SHEET,
                    r.number,
                    LEDGER_SHEET.header_of("effective_from"),
                    _("同一权力、调整方式、区域和生效日期的条目在文件中重复（第 %(n)s 行已有）。")
                    % {"n": seen[key]},
                )
                continue
            seen[key] = r.number
            entry = stored.get(key)
            if entry is not None:
                differs = [
                    LEDGER_SHEET.header_of(k)
                    for k in ("document_no", "receiving_body", "note")
                    if k in r.present
                    and (k != "receiving_body" or v.get(k))
                    and _norm(v.get(k)) != _norm(getattr(entry, k))
                ]
                if differs:
                    self.error(
                        LEDGER_SHEET,
                        r.number,
                        differs[0],
                        _("该台账条目已登记，“%(c)s”与已登记的不同；台账只能追加，不能修改。")
                        % {"c": "、".join(differs)},
                    )
                continue
            owner = known[code].values["department"] if code in known else in_db[code].department
            if not self.may_write(owner):
                self.refuse_scope(r, LEDGER_SHEET.header_of("power"), owner)
                continue
            self.entry_rows.append((r, code, region))

    def apply(self) -> dict[str, Any]:
        from . import ledger

        created = updated = unchanged = 0
        powers: dict[str, Power] = {}
        for plan in self.power_plans:
            try:
                with transaction.atomic():
                    if plan.power is None:
                        v = plan.values
                        power = ledger.create_power(
                            code=plan.code,
                            name=v["name"],
                            category=v["category"],
                            department=v["department"],
                            level=v["level"],
                            basis=v["basis"],
                            by=self.by,
                        )
                        if not v["active"]:
                            _update_power(power, {"active": False}, self.by)
                        created += 1
                    elif plan.changes:
                        power = _update_power(plan.power, plan.changes, self.by)
                        updated += 1
                    else:
                        power = plan.power
                        unchanged += 1
                    powers[plan.code] = power
            except (DomainError, ValidationError, IntegrityError) as exc:
                self.service_error(plan.row, exc, column=POWER_SHEET.header_of("code"))
            self.tick("importing")
        entries_created = 0
        # Date order; on one date recoveries first, so a new grant may follow a recovery.
        ordered = sorted(
            self.entry_rows,
            key=lambda t: (
                t[0].values["effective_from"],
                t[0].values["action"] != LedgerEntry.Action.RECOVER,
                t[0].number,
            ),
        )
        for r, code, region in ordered:
            v = r.values
            try:
                with transaction.atomic():
                    power = powers.get(code) or Power.objects.select_related(
                        "department", "department__region"
                    ).get(code=code)
                    ledger.record_entry(
                        power,
                        v["action"],
                        region,
                        v["effective_from"],
                        v["document_no"],
                        v.get("receiving_body") or "",
                        v.get("note") or "",
                        by=self.by,
                    )
                    entries_created += 1
            except (DomainError, ValidationError, IntegrityError) as exc:
                self.service_error(r, exc, column=LEDGER_SHEET.header_of("effective_from"))
        self.tick("importing", len(self.book.get(LEDGER_SHEET.name, Table("", [], [])).rows))
        return {
            "kind": self.kind,
            "powers": {"created": created, "updated": updated, "unchanged": unchanged},
            "ledger": {"created": entries_created},
            "changes": created + updated + entries_created,
        }

    @staticmethod
    def column_for(spec: SheetSpec, field_name: str) -> str:
        return spec.header_of(field_name or "") or spec.header_of("effective_from")


def _update_power(power: Power, changes: dict[str, Any], by) -> Power:
    """Change a power's attributes. Adapter: tongban.catalog.ledger has no update service yet,
    so this writes here with the same permission rule and an audit event; it defers to
    ``ledger.update_power`` once that exists."""
    from . import ledger

    if hasattr(ledger, "update_power"):
        return ledger.update_power(power, changes, by=by)
    if by is not None:
        for department in {power.department, changes.get("department", power.department)}:
            if not ledger.can_manage_power(by, department):
                raise Forbidden(_("只有数据范围覆盖该部门的事项管理员可以调整行政权力。"))
    before = {
        k: (
            getattr(power, k).code
            if isinstance(getattr(power, k), Department)
            else getattr(power, k)
        )
        for k in changes
    }
    for key, value in changes.items():
        setattr(power, key, value)
    power.full_clean()
    power.save()
    audit.record(
        "catalog.power.update",
        actor=by,
        target=power,
        data={
            "code": power.code,
            "before": before,
            "after": {k: (v.code if isinstance(v, Department) else v) for k, v in changes.items()},
        },
    )
    return power


# --------------------------------------------------------------------------------------------
# Import: supervision items


class SupervisionImporter(Importer):
    kind = "supervision"

    def check(self) -> None:
        from . import supervision

        rows = self.duplicates(self.rows(SUPERVISION_SHEET), "code", _("监管事项编码"))
        codes = [r.values["code"] for r in rows if r.values.get("code")]
        existing = {
            s.code: s
            for s in SupervisionItem.objects.filter(code__in=codes)
            .select_related("department")
            .prefetch_related("powers")
        }
        power_codes: set[str] = set()
        for r in rows:
            power_codes.update(_split_codes(r.values.get("powers") or ""))
        powers = {p.code: p for p in Power.objects.filter(code__in=list(power_codes))}
        names_in_db: dict[str, SupervisionItem] = {
            s.normalized_name: s
            for s in SupervisionItem.objects.filter(active=True).exclude(code__in=codes)
        }
        names_in_file: dict[str, tuple[int, str]] = {}
        self.plans: list[tuple[Parsed, SupervisionItem | None, dict[str, Any]]] = []
        for r in rows:
            code = r.values.get("code")
            department = self.department(r)
            if not code or department is None or r.bad:
                continue
            if not supervision.CODE_RE.match(code):
                self.error(
                    SUPERVISION_SHEET,
                    r.number,
                    SUPERVISION_SHEET.header_of("code"),
                    _("监管事项编码只能由字母、数字、“-”“_”“.”组成，最长40个字符。"),
                )
                continue
            item = existing.get(code)
            linked = []
            if "powers" in r.present:
                missing = []
                for c in _split_codes(r.values.get("powers") or ""):
                    if c in powers:
                        linked.append(powers[c])
                    else:
                        missing.append(c)
                if missing:
                    self.error(
                        SUPERVISION_SHEET,
                        r.number,
                        SUPERVISION_SHEET.header_of("powers"),
                        _("未找到权力编码：%(c)s。") % {"c": "、".join(missing)},
                    )
            elif item is not None:
                linked = list(item.powers.all())

            def pick(key: str, fallback: Any, r=r, item=item) -> Any:
                if key in r.present:
                    return r.values[key]
                return getattr(item, key) if item is not None else fallback

            values = {
                "name": r.values.get("name", item.name if item else ""),
                "department": department,
                "level": pick("level", "city"),
                "basis": pick("basis", ""),
                "measures": pick("measures", ""),
                "object": pick("object", ""),
                "active": pick("active", True),
                "powers": sorted(linked, key=lambda p: p.code),
            }
            norm = supervision.normalize_name(values["name"])
            if values["active"] and norm:
                if norm in names_in_file:
                    row, other = names_in_file[norm]
                    self.error(
                        SUPERVISION_SHEET,
                        r.number,
                        SUPERVISION_SHEET.header_of("name"),
                        _(
                            "名称与第 %(n)s 行的监管事项（%(code)s）相同（统一名称后），"
                            "请勿重复登记。"
                        )
                        % {"n": row, "code": other},
                    )
                    continue
                names_in_file[norm] = (r.number, code)
                twin = names_in_db.get(norm)
                if twin is not None:
                    self.error(
                        SUPERVISION_SHEET,
                        r.number,
                        SUPERVISION_SHEET.header_of("name"),
                        _("名称与已有监管事项“%(name)s”（%(code)s）相同，请勿重复登记。")
                        % {"name": twin.name, "code": twin.code},
                    )
                    continue
            changes: dict[str, Any]
            if item is None:
                changes = dict(values)
            else:
                changes = {
                    k: v
                    for k, v in values.items()
                    if k != "powers" and _norm(v) != _norm(getattr(item, k))
                }
                if [p.code for p in values["powers"]] != sorted(p.code for p in item.powers.all()):
                    changes["powers"] = values["powers"]
            if changes:
                for dept in {department, *([item.department] if item else [])}:
                    if not self.may_write(dept):
                        self.refuse_scope(r, SUPERVISION_SHEET.header_of("department"), dept)
            self.plans.append((r, item, changes))

    def apply(self) -> dict[str, Any]:
        from . import supervision

        created = updated = unchanged = 0
        for r, item, changes in self.plans:
            try:
                with transaction.atomic():
                    if item is None:
                        obj = supervision.create_supervision_item(
                            code=r.values["code"],
                            name=changes["name"],
                            department=changes["department"],
                            basis=changes["basis"],
                            measures=changes["measures"],
                            object=changes["object"],
                            level=changes["level"],
                            powers=changes["powers"],
                            confirm_similar=True,
                            by=self.by,
                        )
                        if not changes["active"]:
                            supervision.update_supervision_item(obj, {"active": False}, by=self.by)
                        created += 1
                    elif changes:
                        data = {
                            k: v for k, v in changes.items() if k not in ("department", "powers")
                        }
                        obj = supervision.update_supervision_item(
                            item,
                            data,
                            department=changes.get("department"),
                            powers=changes.get("powers"),
                            confirm_similar=True,
                            by=self.by,
                        )
                        updated += 1
                    else:
                        obj = item
                        unchanged += 1
                    for s in getattr(obj, "similar", []) or []:
                        self.warn(
                            SUPERVISION_SHEET,
                            r.number,
                            SUPERVISION_SHEET.header_of("name"),
                            _("名称与“%(name)s”（%(code)s）相近，请核对是否为同一事项。")
                            % {"name": s.item.name, "code": s.item.code},
                        )
            except (DomainError, ValidationError, IntegrityError) as exc:
                self.service_error(r, exc, column=SUPERVISION_SHEET.header_of("code"))
            self.tick("importing")
        return {
            "kind": self.kind,
            "supervision": {"created": created, "updated": updated, "unchanged": unchanged},
            "changes": created + updated,
            "warnings": len(self.warnings),
        }


def _split_codes(text: str) -> list[str]:
    out: list[str] = []
    for token in _LIST_SEPARATORS.split(text or ""):
        token = token.strip()
        if token and token not in out:
            out.append(token)
    return out


IMPORTERS: dict[str, type[Importer]] = {
    "items": ItemImporter,
    "powers": PowerImporter,
    "supervision": SupervisionImporter,
}


# --------------------------------------------------------------------------------------------
# Running an import


def _require_importer(by) -> None:
    if by is None:
        return
    if not getattr(by, "is_authenticated", False):
        raise Forbidden(_("请先登录。"))
    if not (by.is_superuser or has_role(by, Role.CATALOG_ADMIN)):
        raise Forbidden(_("只有事项管理员可以导入目录。"))


def import_book(
    book: Book,
    kind: str,
    by,
    *,
    publish: bool = False,
    approved_by=None,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Check every row of ``book``; when none is wrong, write everything in one transaction."""
    if kind not in KINDS:
        raise InvalidInput(_("导入内容须为事项、行政权力或监管事项。"))
    _require_importer(by)
    if publish:
        if kind != "items":
            raise InvalidInput(_("只有事项导入可以直接发布。"))
        if approved_by is None or by is None or approved_by.pk == by.pk:
            raise Forbidden(
                _("直接发布须指定另一位事项管理员作为审核人（四眼原则）。"), code="four_eyes"
            )
    if kind == "items":
        importer: Importer = ItemImporter(
            book, by, publish=publish, approved_by=approved_by, progress=progress
        )
    else:
        importer = IMPORTERS[kind](book, by, progress=progress)
    return importer.run()


def import_file(
    filename: str,
    data: bytes,
    kind: str,
    by,
    *,
    publish: bool = False,
    approved_by=None,
    progress: ProgressFn | None = None,
) -> ImportResult:
    """Read and import a file; an unreadable file is one error at row 0."""
    try:
        book = read_upload(filename, data, kind)
    except ExchangeError as exc:
        return ImportResult(
            kind,
            errors=[{"sheet": "", "row": 0, "column": "", "message": exc.message}],
            summary={"rows": 0, "changes": 0, "errors": 1},
        )
    return import_book(book, kind, by, publish=publish, approved_by=approved_by, progress=progress)


# --------------------------------------------------------------------------------------------
# Import jobs (the page and the API)


def _progress_key(job_id: int) -> str:
    return f"catalog-import-progress:{job_id}"


def create_job(*, kind: str, filename: str, data: bytes, by, request=None) -> ImportJob:
    """Check the upload (kind, size, content) and store it as a pending ImportJob."""
    _require_importer(by)
    if by is None:
        raise Forbidden(_("请先登录。"))
    if kind not in KINDS:
        raise InvalidInput(
            _("导入内容须为事项、行政权力或监管事项。"),
            details=[{"field": "kind", "message": _("导入内容无效。")}],
        )
    name = safe_filename(filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ExchangeError(
            _("文件过大：上限为 %(n)s MB。") % {"n": MAX_UPLOAD_BYTES // (1024 * 1024)},
            details=[{"field": "file", "message": _("文件过大。")}],
        )
    if not data:
        raise ExchangeError(
            _("文件是空的。"), details=[{"field": "file", "message": _("文件是空的。")}]
        )
    try:
        fmt = detect_format(name, data)
        if fmt in ("xlsx", "zip"):
            _open_zip(data, _("文件"))
        else:
            _decode_text(data)
    except ExchangeError as exc:
        raise ExchangeError(
            exc.message, details=[{"field": "file", "message": exc.message}]
        ) from None
    job = ImportJob(kind=kind, original_name=name, created_by=by)
    job.file.save(
        f"{timezone.localdate():%Y%m}/{uuid.uuid4().hex}.{fmt}", ContentFile(data), save=False
    )
    job.save()
    audit.record(
        "catalog.import_upload",
        actor=by,
        target=job,
        request=request,
        data={"kind": kind, "file": name, "bytes": len(data)},
    )
    return job


def record_import(
    by, kind: str, filename: str, result: ImportResult, *, publish: bool = False, job=None
) -> None:
    """The audit event of one import, successful or not."""
    audit.record(
        "catalog.import",
        actor=by,
        target=job,
        target_type="" if job is not None else "catalog.import",
        target_id="" if job is not None else kind,
        data={
            "kind": kind,
            "file": filename,
            "status": "done" if result.ok else "failed",
            "rows": result.summary.get("rows", 0),
            "changes": result.summary.get("changes", 0),
            "errors": len(result.errors),
            "published": publish,
        },
    )


def dispatch(job: ImportJob) -> None:
    """Run the job: inline when ``CATALOG_IMPORT_INLINE`` is set (tests), else in a background
    thread once the current transaction commits (the embedded setup; a Celery task calling
    ``process_import`` replaces it in production)."""
    if getattr(settings, "CATALOG_IMPORT_INLINE", False):
        process_import(job.pk)
        return
    job_id = job.pk

    def run() -> None:
        close_old_connections()
        try:
            process_import(job_id)
        finally:
            close_old_connections()

    def start() -> None:
        threading.Thread(target=run, name=f"catalog-import-{job_id}", daemon=True).start()

    transaction.on_commit(start)


def process_import(job_id: int, *, publish: bool = False, approved_by=None) -> ImportJob:
    """Do an ImportJob: read, check, import; record progress, errors, summary and an audit
    event. Safe to call twice: only a pending job runs."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.CHECKING
    )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job

    def progress(phase: str, processed: int, total: int) -> None:
        cache.set(
            _progress_key(job_id), {"phase": phase, "processed": processed, "total": total}, 3600
        )
        if phase == "checking" or processed == 0:
            status = (
                ImportJob.Status.CHECKING if phase == "checking" else ImportJob.Status.IMPORTING
            )
            ImportJob.objects.filter(pk=job_id).update(
                status=status, processed_rows=processed, total_rows=total
            )

    try:
        with job.file.open("rb") as handle:
            data = handle.read(MAX_UPLOAD_BYTES + 1)
        stored_ext = job.file.name.rsplit(".", 1)[-1]
        book = read_upload(f"upload.{stored_ext}", data, job.kind)
        total = sum(len(t.rows) for t in book.values())
        ImportJob.objects.filter(pk=job_id).update(total_rows=total)
        result = import_book(
            book,
            job.kind,
            job.created_by,
            publish=publish,
            approved_by=approved_by,
            progress=progress,
        )
    except ExchangeError as exc:
        result = ImportResult(
            job.kind,
            errors=[{"sheet": "", "row": 0, "column": "", "message": exc.message}],
            summary={"rows": 0, "changes": 0, "errors": 1},
        )
    except DomainError as exc:
        result = ImportResult(
            job.kind,
            errors=[{"sheet": "", "row": 0, "column": "", "message": exc.message}],
            summary={"rows": 0, "changes": 0, "errors": 1},
        )
    except Exception:  # the job must end in a state the page can show
        logger.exception("catalog import %s failed", job_id)
        result = ImportResult(
            job.kind,
            errors=[
                {
                    "sheet": "",
                    "row": 0,
                    "column": "",
                    "message": _(
                        "导入时发生内部错误，未导入任何内容；错误已记录，请联系系统管理员。"
                    ),
                }
            ],
            summary={"rows": 0, "changes": 0, "errors": 1},
        )
    job.refresh_from_db()
    job.status = ImportJob.Status.DONE if result.ok else ImportJob.Status.FAILED
    job.errors = result.errors
    job.summary = {**result.summary, "warnings": result.warnings}
    job.total_rows = result.summary.get("rows", job.total_rows) or job.total_rows
    if result.ok:
        job.processed_rows = job.total_rows
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "errors", "summary", "total_rows", "processed_rows", "finished_at"]
    )
    cache.delete(_progress_key(job_id))
    record_import(job.created_by, job.kind, job.original_name, result, publish=publish, job=job)
    return job


@dataclass(frozen=True)
class JobProgress:
    status: str
    status_label: str
    total: int
    processed: int
    finished: bool

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return int(100 * self.processed / self.total) if self.total else 0


def job_progress(job: ImportJob) -> JobProgress:
    """The job's state for the page: the database row, with the live counter from the cache
    while the import's own transaction is still open."""
    status, processed, total = job.status, job.processed_rows, job.total_rows
    finished = status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
    if not finished:
        live = cache.get(_progress_key(job.pk))
        if live:
            total = live.get("total") or total
            processed = live.get("processed", processed)
            if live.get("phase") == "importing":
                status = ImportJob.Status.IMPORTING
    label = str(ImportJob.Status(status).label)
    return JobProgress(
        status, label, total, min(processed, total) if total else processed, finished
    )


INTERRUPTED_AFTER = dt.timedelta(hours=6)


def expire_interrupted_jobs() -> int:
    """Mark jobs that have not finished hours after their upload as failed: their process
    ended (a restart) before committing, so nothing of them was written. Returns how many."""
    stale = ImportJob.objects.filter(
        status__in=[
            ImportJob.Status.PENDING,
            ImportJob.Status.CHECKING,
            ImportJob.Status.IMPORTING,
        ],
        created_at__lt=timezone.now() - INTERRUPTED_AFTER,
    )
    message = _("导入被中断（服务重启或任务丢失），未导入任何内容，请重新上传。")
    return stale.update(
        status=ImportJob.Status.FAILED,
        errors=[{"sheet": "", "row": 0, "column": "", "message": message}],
        finished_at=timezone.now(),
    )


def jobs_for(user):
    """Import jobs the user may see: their own; a superuser sees all."""
    expire_interrupted_jobs()
    qs = ImportJob.objects.select_related("created_by").order_by("-created_at", "-pk")
    if user.is_superuser:
        return qs
    return qs.filter(created_by=user)


# --------------------------------------------------------------------------------------------
# Canonical dump (for comparing catalogs: round trips, migrations)


def _plain(value) -> Any:
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _fields_of(obj, exclude: set[str]) -> dict[str, Any]:
    out = {}
    for f in obj._meta.concrete_fields:
        if f.name in exclude or f.is_relation:
            continue
        out[f.name] = _plain(getattr(obj, f.name))
    return out


def canonical_dump(kind: str) -> dict[str, Any]:
    """The catalog of ``kind`` as plain data keyed by natural keys: every stored field except
    ids, timestamps, users and version numbers (generic over the models' fields, so a field
    the exchange forgets shows up as a difference)."""
    if kind == "items":
        out: dict[str, Any] = {}
        items = ServiceItem.objects.select_related(
            "published_version", "department", "parent", "power"
        ).order_by("code")
        for item in items:
            v = item.published_version
            entry: dict[str, Any] = {
                "item": {
                    **_fields_of(item, {"id", "created_at"}),
                    "parent": item.parent.code if item.parent_id else None,
                    "department": item.department.code,
                    "power": item.power.code if item.power_id else None,
                },
                "version": None,
                "acceptance": [
                    {
                        **_fields_of(r, {"id"}),
                        "batch": (
                            {
                                "document_no": r.batch.document_no,
                                "title": r.batch.title,
                                "scope": r.batch.scope,
                                "effective_from": r.batch.effective_from.isoformat(),
                            }
                            if r.batch_id
                            else None
                        ),
                    }
                    for r in item.acceptance_rules.select_related("batch").order_by(
                        "effective_from"
                    )
                ],
            }
            if v is not None:
                skip = NON_CONTENT_VERSION_FIELDS - {"state"}
                entry["version"] = {
                    **_fields_of(v, skip | {"change_note"}),
                    "materials": [_fields_of(m, {"id"}) for m in v.materials.order_by("order")],
                    "steps": [_fields_of(s, {"id"}) for s in v.steps.order_by("order")],
                    "faqs": [_fields_of(q, {"id"}) for q in v.faqs.order_by("order")],
                }
            out[item.code] = entry
        return out
    if kind == "powers":
        out = {}
        for p in Power.objects.select_related("department").order_by("code"):
            ledger_rows = []
            for e in p.ledger.select_related("region", "ends", "ends__region").order_by(
                "effective_from", "id"
            ):
                ledger_rows.append(
                    {
                        **_fields_of(e, {"id", "created_at"}),
                        "region": e.region.code,
                        "ends": (
                            [e.ends.action, e.ends.region.code, e.ends.effective_from.isoformat()]
                            if e.ends_id
                            else None
                        ),
                    }
                )
            out[p.code] = {
                **_fields_of(p, {"id"}),
                "department": p.department.code,
                "ledger": ledger_rows,
            }
        return out
    if kind == "supervision":
        return {
            s.code: {
                **_fields_of(s, {"id"}),
                "department": s.department.code,
                "powers": sorted(p.code for p in s.powers.all()),
            }
            for s in SupervisionItem.objects.select_related("department")
            .prefetch_related("powers")
            .order_by("code")
        }
    raise InvalidInput(_("导出内容须为事项、行政权力或监管事项。"))
