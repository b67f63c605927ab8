"""The unified supervision catalog (监管事项目录, 互联网+监管).

Names stay unified: before an item is created or renamed its name is compared with the names
already in the catalog, after normalization (:func:`normalize_name`):

- the same normalized name as an active item is a duplicate and is refused (409);
- a near name — SequenceMatcher ratio ≥ 0.85 on the normalized names, or one normalized name
  containing the other (the shorter having at least 4 characters) — is a near-duplicate: the
  write is refused with the similar names listed (422 ``similar_names``) unless the caller
  confirms with ``confirm_similar=True``; the created item then carries them in ``.similar``.

Normalization: full-width to half-width (NFKC), lower case, no spaces, punctuation or symbols,
and the phrasing "对X的监督检查" / "X的监督检查" reduced to "X监督检查" (likewise for 行政检查,
监督管理, 检查, 监管 ...). ``SupervisionItem.normalized_name`` holds the result, kept up to date
by the services here.

Writes need a catalog administrator whose data scope covers the item's department (or a
superuser); ``by=None`` marks a trusted system caller (seed, import).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tongban.org.models import Department

from .ledger import can_manage_power, has_control_chars, require_catalog_admin, safe_filter
from .models import ItemVersion, Power, SupervisionItem

SIMILARITY_THRESHOLD = 0.85
MIN_CONTAINED_LENGTH = 4
MAX_SIMILAR = 10
CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.\-]{0,39}$")

_SUFFIXES = (
    "日常监督检查",
    "监督检查",
    "行政检查",
    "执法检查",
    "监督抽查",
    "监督管理",
    "检查",
    "抽查",
    "监管",
    "监督",
)
_DE_SUFFIX_RE = re.compile(r"的(" + "|".join(_SUFFIXES) + r")$")


def normalize_name(name: str) -> str:
    """The comparable form of a supervision item's name (see the module docstring)."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZC")
    reduced = _DE_SUFFIX_RE.sub(r"\1", text)
    if reduced != text and reduced.startswith("对") and len(reduced) > 1:
        reduced = reduced[1:]
    return reduced[:200]


@dataclass(frozen=True)
class Similar:
    """An existing item whose name is the same (``duplicate``) or near (``near``)."""

    item: SupervisionItem
    kind: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.item.code,
            "name": self.item.name,
            "department": self.item.department.name,
            "kind": self.kind,
            "score": round(self.score, 3),
        }


def _compare(norm: str, other: str) -> tuple[str, float] | None:
    if not other:
        return None
    if other == norm:
        return "duplicate", 1.0
    shorter, longer = sorted((norm, other), key=len)
    # Cheap upper bound first: the ratio can never exceed 2·|shorter| / (|a| + |b|).
    contained = len(shorter) >= MIN_CONTAINED_LENGTH and shorter in longer
    if not contained and 2 * len(shorter) / (len(norm) + len(other)) < SIMILARITY_THRESHOLD:
        return None
    matcher = SequenceMatcher(None, norm, other, autojunk=False)
    if not contained and matcher.quick_ratio() < SIMILARITY_THRESHOLD:
        return None
    score = matcher.ratio()
    if contained or score >= SIMILARITY_THRESHOLD:
        return "near", score
    return None


def find_similar(
    name: str,
    department: Department | None = None,
    *,
    exclude: SupervisionItem | None = None,
    limit: int = MAX_SIMILAR,
) -> list[Similar]:
    """Active items whose normalized name equals or nears ``name``'s: duplicates first, then
    by similarity. ``department`` limits the comparison to one department's items."""
    norm = normalize_name(name)
    if not norm:
        return []
    qs = SupervisionItem.objects.filter(active=True)
    if department is not None:
        qs = qs.filter(department=department)
    if exclude is not None and exclude.pk:
        qs = qs.exclude(pk=exclude.pk)
    hits: list[tuple[int, str, float]] = []
    for pk, other in qs.values_list("pk", "normalized_name").iterator(chunk_size=2000):
        found = _compare(norm, other)
        if found:
            hits.append((pk, *found))
    hits.sort(key=lambda h: (h[1] != "duplicate", -h[2], h[0]))
    hits = hits[:limit]
    objects = SupervisionItem.objects.select_related("department").in_bulk([h[0] for h in hits])
    return [Similar(objects[pk], kind, score) for pk, kind, score in hits]


# --------------------------------------------------------------------------------------------
# Reads


def supervision_items(
    *,
    department: str | None = None,
    q: str = "",
    power: str | None = None,
    active: bool | None = True,
) -> QuerySet[SupervisionItem]:
    qs = SupervisionItem.objects.select_related("department")
    if active is not None:
        qs = qs.filter(active=active)
    department, power, q = safe_filter(department), safe_filter(power), safe_filter(q)
    if department:
        qs = qs.filter(department__code=department)
    if power:
        qs = qs.filter(powers__code=power)
    if q:
        norm = normalize_name(q)
        cond = Q(name__icontains=q) | Q(code__istartswith=q) | Q(object__icontains=q)
        if norm:
            cond |= Q(normalized_name__contains=norm)
        qs = qs.filter(cond)
    return qs.distinct().order_by("code")


def supervision_by_code(code: str) -> SupervisionItem:
    item = (
        SupervisionItem.objects.select_related("department")
        .prefetch_related("powers")
        .filter(code=code)
        .first()
        if not has_control_chars(code)
        else None
    )
    if item is None:
        raise NotFound(_("未找到编码为“%(code)s”的监管事项。") % {"code": code})
    return item


# --------------------------------------------------------------------------------------------
# Writes


def _check_department(by, department: Department) -> None:
    require_catalog_admin(by)
    if by is not None and not can_manage_power(by, department):
        raise Forbidden(_("只有数据范围覆盖该部门的事项管理员可以维护其监管事项。"))


def _text(data: dict, key: str, max_length: int, label: str, problems: list) -> str:
    value = data.get(key)
    value = "" if value is None else str(value).strip()
    if has_control_chars(value, multiline=key in ("basis", "measures")):
        problems.append({"field": key, "message": _("含有不可见的控制字符，请删除后重试。")})
    if max_length and len(value) > max_length:
        problems.append(
            {
                "field": key,
                "message": _("%(label)s不能超过%(n)s个字符。") % {"label": label, "n": max_length},
            }
        )
    return value


def _clean(data: dict, *, creating: bool) -> dict:
    problems: list[dict] = []
    out: dict[str, Any] = {}
    if creating or "code" in data:
        code = _text(data, "code", 0, "", problems)
        if not code:
            problems.append({"field": "code", "message": _("请填写监管事项编码。")})
        elif not CODE_RE.match(code):
            problems.append(
                {
                    "field": "code",
                    "message": _("监管事项编码只能由字母、数字、“-”“_”“.”组成，最长40个字符。"),
                }
            )
        out["code"] = code
    if creating or "name" in data:
        name = _text(data, "name", 200, _("监管事项名称"), problems)
        if not name or not normalize_name(name):
            problems.append({"field": "name", "message": _("请填写监管事项名称。")})
        out["name"] = name
    for key, length, label in (
        ("basis", 0, _("监管依据")),
        ("measures", 0, _("监管措施")),
        ("object", 200, _("监管对象")),
    ):
        if creating or key in data:
            out[key] = _text(data, key, length, label, problems)
    if creating or "level" in data:
        level = data.get("level") or ItemVersion.Level.CITY
        if level not in ItemVersion.Level.values:
            problems.append({"field": "level", "message": _("监管层级无效。")})
        out["level"] = level
    if "active" in data:
        out["active"] = bool(data["active"])
    if problems:
        raise InvalidInput(problems[0]["message"], details=problems)
    return out


def _check_names(
    name: str, exclude, confirm_similar: bool, check_similar: bool = True
) -> list[Similar]:
    norm = normalize_name(name)
    same = SupervisionItem.objects.filter(active=True, normalized_name=norm)
    if exclude is not None and exclude.pk:
        same = same.exclude(pk=exclude.pk)
    first = same.select_related("department").order_by("code").first()
    if first is not None:
        raise Conflict(
            _("监管事项名称与已有事项“%(name)s”（%(code)s，%(dept)s）相同，请勿重复登记。")
            % {"name": first.name, "code": first.code, "dept": first.department.name},
            code="duplicate_name",
            details=[Similar(first, "duplicate", 1.0).as_dict()],
        )
    if not check_similar:
        return []
    similar = find_similar(name, exclude=exclude)
    if similar and not confirm_similar:
        raise InvalidInput(
            _(
                "已有%(n)s个名称相近的监管事项（如“%(name)s”），请核对是否为同一事项并统一名称；"
                "确认不同后可勾选“确认名称不同”再提交。"
            )
            % {"n": len(similar), "name": similar[0].item.name},
            code="similar_names",
            details=[s.as_dict() for s in similar],
        )
    return similar


def _check_powers(powers: Iterable[Power] | None) -> list[Power] | None:
    if powers is None:
        return None
    return list({p.pk: p for p in powers}.values())


@transaction.atomic
def create_supervision_item(
    *,
    code: str,
    name: str,
    department: Department,
    basis: str = "",
    measures: str = "",
    object: str = "",
    level: str = ItemVersion.Level.CITY,
    powers: Iterable[Power] = (),
    confirm_similar: bool = False,
    check_similar: bool = True,
    by=None,
    request=None,
) -> SupervisionItem:
    """Add a supervision item. Refuses a duplicate code or name (409) and near names (422)
    unless ``confirm_similar``; the returned item's ``similar`` lists the near names.
    ``check_similar=False`` (bulk seed and import) checks exact duplicates only."""
    _check_department(by, department)
    data = _clean(
        {
            "code": code,
            "name": name,
            "basis": basis,
            "measures": measures,
            "object": object,
            "level": level,
        },
        creating=True,
    )
    if SupervisionItem.objects.filter(code=data["code"]).exists():
        raise Conflict(
            _("监管事项编码“%(code)s”已存在。") % {"code": data["code"]},
            code="duplicate_code",
            details=[{"field": "code", "message": _("编码已存在。")}],
        )
    similar = _check_names(data["name"], None, confirm_similar, check_similar)
    item = SupervisionItem.objects.create(
        department=department, normalized_name=normalize_name(data["name"]), **data
    )
    linked = _check_powers(powers) or []
    if linked:
        item.powers.set(linked)
    audit.record(
        "catalog.supervision.create",
        actor=by,
        target=item,
        request=request,
        data={
            "code": item.code,
            "name": item.name,
            "department": department.code,
            "powers": sorted(p.code for p in linked),
            "confirmed_similar": [s.item.code for s in similar],
        },
    )
    item.similar = similar
    return item


@transaction.atomic
def update_supervision_item(
    item: SupervisionItem,
    data: dict[str, Any],
    *,
    department: Department | None = None,
    powers: Iterable[Power] | None = None,
    confirm_similar: bool = False,
    by=None,
    request=None,
) -> SupervisionItem:
    """Change an item's fields (name, basis, measures, object, level, active), department or
    linked powers. A new name goes through the same duplicate / near-name checks."""
    _check_department(by, item.department)
    if department is not None and department.pk != item.department_id:
        _check_department(by, department)
    data = {k: v for k, v in data.items() if k != "code"}
    clean = _clean(data, creating=False)
    similar: list[Similar] = []
    if "name" in clean and normalize_name(clean["name"]) != item.normalized_name:
        similar = _check_names(clean["name"], item, confirm_similar)
    before = {k: getattr(item, k) for k in clean}
    for key, value in clean.items():
        setattr(item, key, value)
    if department is not None:
        before["department"] = item.department.code
        item.department = department
    item.normalized_name = normalize_name(item.name)
    item.save()
    linked = _check_powers(powers)
    if linked is not None:
        before["powers"] = sorted(item.powers.values_list("code", flat=True))
        item.powers.set(linked)
    audit.record(
        "catalog.supervision.update",
        actor=by,
        target=item,
        request=request,
        data={
            "before": before,
            "after": {
                **clean,
                **({"department": department.code} if department is not None else {}),
                **({"powers": sorted(p.code for p in linked)} if linked is not None else {}),
            },
            "confirmed_similar": [s.item.code for s in similar],
        },
    )
    item.similar = similar
    return item
