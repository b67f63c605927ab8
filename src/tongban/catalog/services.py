"""Writes of the service catalog: items and their versions (实施清单), one function per business
action, each in a transaction, checking permission and rules, and recording an audit event.

Permission (lifecycle.can_manage): a catalog administrator (事项管理员) whose scope covers the
item's department, or a superuser; everybody else gets ``Forbidden`` (403).

Versions follow lifecycle.TRANSITIONS. Illegal moves raise ``Conflict`` (409, code
``illegal_transition``); approving one's own work raises ``Forbidden`` (403, ``four_eyes``); rule
failures raise ``InvalidInput`` (422) with every error in ``details``.

Immutability: a published or retired version is never written by this module except for the
state change that retires it. Its materials, steps and FAQs are only replaced by
``update_draft``, which refuses anything but a draft. The model itself has no save() guard (it is
not ours to change), so services and the read-only admin are the only writers — imports must
come through here too, or write new versions, never update old ones.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import Conflict, Forbidden, InvalidInput

from . import acceptance
from .lifecycle import Action, Actor, can_manage, is_second_person, transition_for
from .models import (
    AcceptanceScope,
    Faq,
    ItemVersion,
    Material,
    ProcessStep,
    ServiceItem,
)
from .rules import check_version

_NOT_EDITABLE = {
    "id",
    "item",
    "number",
    "state",
    "created_by",
    "submitted_by",
    "approved_by",
    "created_at",
    "published_at",
    "retired_at",
}
VERSION_FIELDS: tuple[str, ...] = tuple(
    f.name for f in ItemVersion._meta.concrete_fields if f.name not in _NOT_EDITABLE
)
MATERIAL_FIELDS: tuple[str, ...] = (
    "name",
    "kind",
    "form",
    "necessity",
    "source",
    "licence_type",
    "copies",
    "standard",
    "basis",
    "blank_form",
    "sample",
)
STEP_FIELDS: tuple[str, ...] = ("kind", "name", "role", "office", "days")
FAQ_FIELDS: tuple[str, ...] = ("question", "answer")
CHILDREN = {
    "materials": (Material, MATERIAL_FIELDS),
    "steps": (ProcessStep, STEP_FIELDS),
    "faqs": (Faq, FAQ_FIELDS),
}
ITEM_UPDATE_FIELDS: tuple[str, ...] = ("high_frequency", "status", "power")


# ---------------------------------------------------------------------------- helpers


def _require_manage(user, department) -> None:
    if not can_manage(user, department):
        raise Forbidden(
            _("只有负责该部门事项的事项管理员可以维护此事项。"), code="catalog_forbidden"
        )


def _invalid(errors: list[dict[str, str]]) -> InvalidInput:
    if len(errors) == 1:
        message = errors[0]["message"]
    else:
        message = _("事项信息有%(n)d处需要修改。") % {"n": len(errors)}
    return InvalidInput(message, details=errors)


def _field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": f"{prefix}{name}" if name != "__all__" else prefix.rstrip("."), "message": m}
            for name, messages in exc.message_dict.items()
            for m in messages
        ]
    return [{"field": prefix.rstrip("."), "message": m} for m in exc.messages]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(isinstance(v, str) and "\x00" in v for v in value)
    return False


def _nul_errors(data: dict[str, Any], prefix: str = "") -> list[dict[str, str]]:
    """NUL characters are refused (PostgreSQL cannot store them)."""
    return [
        {"field": f"{prefix}{k}", "message": _("内容含有不允许的控制字符。")}
        for k, v in data.items()
        if _has_nul(v)
    ]


def _build_children(
    version: ItemVersion, key: str, rows, allowed_files: set[str]
) -> tuple[list, list[dict[str, str]]]:
    model, fields = CHILDREN[key]
    objects, errors = [], []
    if not isinstance(rows, list | tuple):
        return [], [{"field": key, "message": _("须为列表。")}]
    existing = {}
    if key == "materials" and version.pk:
        existing = {m.pk: m for m in Material.objects.filter(version=version)}
    for i, row in enumerate(rows):
        prefix = f"{key}[{i}]."
        if not isinstance(row, dict):
            errors.append({"field": prefix.rstrip("."), "message": _("每一项须为对象。")})
            continue
        unknown = sorted(set(row) - set(fields) - {"order", "id"})
        if unknown:
            errors.append(
                {
                    "field": prefix + unknown[0],
                    "message": _("未知字段：%(f)s。") % {"f": "、".join(unknown)},
                }
            )
            continue
        errors += _nul_errors(row, prefix)
        values = {f: row[f] for f in fields if f in row and row[f] is not None}
        kept = existing.get(row.get("id")) if isinstance(row.get("id"), int) else None
        if kept is not None:  # an existing material keeps its uploaded files unless replaced
            for file_field in ("blank_form", "sample"):
                if file_field not in row:
                    values[file_field] = getattr(kept, file_field).name
                    allowed_files = allowed_files | {values[file_field]}
        for file_field in ("blank_form", "sample"):
            name = str(values.get(file_field) or "")
            if name and name not in allowed_files:
                errors.append(
                    {
                        "field": prefix + file_field,
                        "message": _("附件须通过上传添加，不能引用其他文件。"),
                    }
                )
                values.pop(file_field)
        obj = model(version=version, order=i + 1, **values)
        try:
            obj.full_clean(exclude=["version"])
        except ValidationError as exc:
            errors += _field_errors(exc, prefix)
        objects.append(obj)
    return objects, errors


def _item_files(item: ServiceItem) -> set[str]:
    names: set[str] = set()
    for blank, sample in Material.objects.filter(version__item=item).values_list(
        "blank_form", "sample"
    ):
        names.update(n for n in (blank, sample) if n)
    return names


def _apply_version_data(
    version: ItemVersion, data: dict[str, Any]
) -> tuple[list[str], dict[str, list], list[dict[str, str]]]:
    """Set fields and build children from ``data``; return (changed fields, children, errors)."""
    errors: list[dict[str, str]] = []
    unknown = sorted(set(data) - set(VERSION_FIELDS) - set(CHILDREN))
    if unknown:
        errors.append(
            {"field": unknown[0], "message": _("未知字段：%(f)s。") % {"f": "、".join(unknown)}}
        )
    errors += _nul_errors(data)
    changed = []
    for name in VERSION_FIELDS:
        if name in data:
            value = data[name]
            if value is None and not ItemVersion._meta.get_field(name).null:
                field = ItemVersion._meta.get_field(name)
                value = field.get_default()
            if getattr(version, name) != value:
                changed.append(name)
            setattr(version, name, value)
    try:
        version.full_clean(exclude=list(_NOT_EDITABLE), validate_unique=False)
    except ValidationError as exc:
        errors += _field_errors(exc)
    children: dict[str, list] = {}
    files = _item_files(version.item) if version.item_id and version.item.pk else set()
    for key in CHILDREN:
        if key in data:
            objs, child_errors = _build_children(version, key, data[key], files)
            children[key] = objs
            errors += child_errors
    return changed, children, errors


def _replace_children(version: ItemVersion, children: dict[str, list]) -> None:
    for key, objs in children.items():
        model, _fields = CHILDREN[key]
        model.objects.filter(version=version).delete()
        for obj in objs:
            obj.version = version
        model.objects.bulk_create(objs)


def _copy_children(source: ItemVersion, target: ItemVersion) -> None:
    for key, (model, fields) in CHILDREN.items():
        model.objects.bulk_create(
            model(version=target, order=obj.order, **{f: getattr(obj, f) for f in fields})
            for obj in getattr(source, key).all()
        )


def _locked(version: ItemVersion) -> ItemVersion:
    return (
        ItemVersion.objects.select_for_update()
        .select_related("item", "item__department", "item__department__region")
        .get(pk=version.pk)
    )


def _sync(original: ItemVersion, fresh: ItemVersion) -> ItemVersion:
    """Bring the caller's instance up to date with what was written (callers keep using it)."""
    if original is not fresh:
        for f in ItemVersion._meta.concrete_fields:
            setattr(original, f.attname, getattr(fresh, f.attname))
        original.item = fresh.item
    return original


def _state_label(state: str) -> str:
    return str(ItemVersion.State(state).label)


def _check_transition(version: ItemVersion, action: Action, by):
    _require_manage(by, version.item.department)
    transition = transition_for(version.state, action)
    if transition is None:
        if version.frozen and action == Action.EDIT:
            message = _("已发布或已停用的版本不能修改，请新建版本后再编辑。")
        else:
            message = _("第%(n)d版当前为“%(state)s”状态，不能执行此操作。") % {
                "n": version.number,
                "state": _state_label(version.state),
            }
        raise Conflict(
            message,
            code="illegal_transition",
            details={"state": version.state, "action": str(action)},
        )
    if transition.actor == Actor.SECOND_PERSON and not is_second_person(version, by):
        raise Forbidden(
            _("四眼原则：起草、修改或提交该版本的人员不能审核同一版本，请由另一位事项管理员审核。"),
            code="four_eyes",
        )
    return transition


def _audit(action: str, version: ItemVersion, by, request, **data) -> None:
    audit.record(
        f"catalog.{action}",
        actor=by,
        target=version,
        request=request,
        data={"item": version.item.code, "number": version.number, **data},
    )


def _index(item: ServiceItem) -> None:
    from . import search  # written by the search engineer; imported when needed

    search.index_item(item)


# ---------------------------------------------------------------------------- rules


def validate_version(version: ItemVersion) -> None:
    """Raise InvalidInput listing every cross-field error of ``version`` (rules.py)."""
    errors = check_version(version)
    if errors:
        raise _invalid(errors)


# ---------------------------------------------------------------------------- items


@transaction.atomic
def create_item(
    *,
    code: str,
    base_code: str,
    item_type: str,
    department,
    by,
    version: dict[str, Any] | None = None,
    parent: ServiceItem | None = None,
    business_kind: str = "",
    power=None,
    high_frequency: bool = False,
    acceptance_scope: str = AcceptanceScope.DEPARTMENT_CENTER,
    acceptance_from: date | None = None,
    request=None,
) -> ServiceItem:
    """A new item (or sub-item 业务办理项 when ``parent`` is given) with draft version 1 built
    from ``version`` (version fields plus ``materials``, ``steps``, ``faqs`` lists) and its
    initial acceptance rule. The draft is checked field by field now and against the
    cross-field rules on submit. ``case_kind`` defaults from the promised limit (0 → 即办件)."""
    _require_manage(by, department)
    data = dict(version or {})
    if "case_kind" not in data and data.get("promised_limit_days") is not None:
        data["case_kind"] = (
            ItemVersion.CaseKind.IMMEDIATE
            if data["promised_limit_days"] == 0
            else ItemVersion.CaseKind.PROMISED
        )
    item = ServiceItem(
        code=(code or "").strip(),
        base_code=(base_code or "").strip(),
        item_type=item_type,
        department=department,
        parent=parent,
        business_kind=business_kind or "",
        power=power,
        high_frequency=bool(high_frequency),
    )
    errors = _nul_errors({"code": item.code, "base_code": item.base_code})
    try:
        item.full_clean(exclude=["published_version"])
    except ValidationError as exc:
        errors += _field_errors(exc)
    if acceptance_scope not in AcceptanceScope.values:
        errors.append({"field": "acceptance_scope", "message": _("受理范围无效。")})
    draft = ItemVersion(item=item, number=1, state=ItemVersion.State.DRAFT, created_by=by)
    _changed, children, version_errors = _apply_version_data(draft, data)
    errors += [e for e in version_errors if e["field"] != "item"]
    if errors:
        raise _invalid(errors)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise _invalid([{"field": "code", "message": _("实施编码已存在。")}]) from None
    draft.item = item
    draft.save()
    _replace_children(draft, children)
    acceptance.set_initial_scope(item, acceptance_scope, acceptance_from or acceptance.today())
    audit.record(
        "catalog.item_create",
        actor=by,
        target=item,
        request=request,
        data={"code": item.code, "name": draft.name, "acceptance_scope": acceptance_scope},
    )
    _audit("version_create", draft, by, request)
    return item


@transaction.atomic
def update_item(item: ServiceItem, data: dict[str, Any], by, *, request=None) -> ServiceItem:
    """Item-level attributes that are not versioned: 高频事项, 事项状态 (在用/暂停/取消), the
    power the item implements. A status change re-indexes the item for search."""
    _require_manage(by, item.department)
    unknown = sorted(set(data) - set(ITEM_UPDATE_FIELDS))
    if unknown:
        raise _invalid(
            [{"field": unknown[0], "message": _("未知字段：%(f)s。") % {"f": "、".join(unknown)}}]
        )
    before = {f: getattr(item, f"{f}_id" if f == "power" else f) for f in data}
    for name, value in data.items():
        setattr(item, name, value)
    try:
        item.full_clean(exclude=["published_version", "parent", "department"])
    except ValidationError as exc:
        raise _invalid(_field_errors(exc)) from None
    item.save(update_fields=list(data))
    if "status" in data and before.get("status") != item.status:
        _index(item)
    audit.record(
        "catalog.item_update",
        actor=by,
        target=item,
        request=request,
        data={
            "before": before,
            "after": {f: getattr(item, f"{f}_id" if f == "power" else f) for f in data},
        },
    )
    return item


# ---------------------------------------------------------------------------- versions


@transaction.atomic
def start_new_version(item: ServiceItem, by, *, request=None) -> ItemVersion:
    """A new draft copying the published version (or, with none in force, the latest one):
    every field, materials (with their files), steps and FAQs. One open version per item."""
    _require_manage(by, item.department)
    open_version = item.versions.filter(
        state__in=[ItemVersion.State.DRAFT, ItemVersion.State.SUBMITTED, ItemVersion.State.APPROVED]
    ).first()
    if open_version is not None:
        raise Conflict(
            _("该事项已有未发布的第%(n)d版（%(state)s），请在该版本上继续。")
            % {"n": open_version.number, "state": _state_label(open_version.state)},
            code="open_version_exists",
            details={"number": open_version.number, "state": open_version.state},
        )
    source = item.published_version or item.versions.order_by("-number").first()
    if source is None:
        raise Conflict(_("该事项没有可复制的版本。"), code="no_version")
    number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = ItemVersion(
        item=item,
        number=number,
        state=ItemVersion.State.DRAFT,
        created_by=by,
        **{f: getattr(source, f) for f in VERSION_FIELDS},
    )
    draft.change_note = ""
    try:
        with transaction.atomic():
            draft.save()
    except IntegrityError:
        raise Conflict(
            _("该事项已有未发布的版本，请刷新后继续。"), code="open_version_exists"
        ) from None
    _copy_children(source, draft)
    _audit("version_create", draft, by, request, source=source.number)
    return draft


@transaction.atomic
def update_draft(version: ItemVersion, data: dict[str, Any], by, *, request=None) -> ItemVersion:
    """Edit a draft: any of VERSION_FIELDS; ``materials``, ``steps`` or ``faqs`` when present
    replace the whole list (rows are dicts of MATERIAL_FIELDS / STEP_FIELDS / FAQ_FIELDS, in
    order; a material row with the ``id`` of a material of this draft keeps its uploaded files;
    ``blank_form``/``sample`` may only name a file already uploaded for this item).
    Field errors are all reported at once and nothing is saved."""
    original, version = version, _locked(version)
    _check_transition(version, Action.EDIT, by)
    if not isinstance(data, dict):
        raise _invalid([{"field": "", "message": _("请求内容须为对象。")}])
    changed, children, errors = _apply_version_data(version, data)
    if errors:
        raise _invalid(errors)
    version.save()
    _replace_children(version, children)
    _audit(
        "version_update",
        version,
        by,
        request,
        fields=changed,
        replaced=sorted(children),
    )
    return _sync(original, version)


@transaction.atomic
def attach_material_file(material: Material, kind: str, upload, by, *, request=None) -> Material:
    """Upload a blank form (``kind="blank_form"``) or a sample (``"sample"``) for a material of
    a draft."""
    version = _locked(material.version)
    _check_transition(version, Action.EDIT, by)
    if kind not in ("blank_form", "sample"):
        raise _invalid([{"field": "kind", "message": _("附件类型无效。")}])
    getattr(material, kind).save(upload.name, upload, save=True)
    _audit("version_update", version, by, request, fields=[f"materials.{kind}"])
    return material


@transaction.atomic
def submit(version: ItemVersion, by, *, request=None) -> ItemVersion:
    """草稿 → 待审核; every cross-field rule must hold."""
    original, version = version, _locked(version)
    _check_transition(version, Action.SUBMIT, by)
    validate_version(version)
    version.state = ItemVersion.State.SUBMITTED
    version.submitted_by = by
    version.approved_by = None
    version.save(update_fields=["state", "submitted_by", "approved_by"])
    _audit("version_submit", version, by, request)
    return _sync(original, version)


@transaction.atomic
def approve(version: ItemVersion, by, *, request=None) -> ItemVersion:
    """待审核 → 已审核, by a second person (four eyes: not the creator, an editor or the
    submitter of this version)."""
    original, version = version, _locked(version)
    _check_transition(version, Action.APPROVE, by)
    validate_version(version)
    version.state = ItemVersion.State.APPROVED
    version.approved_by = by
    version.save(update_fields=["state", "approved_by"])
    _audit("version_approve", version, by, request)
    return _sync(original, version)


@transaction.atomic
def reject(version: ItemVersion, by, reason: str, *, request=None) -> ItemVersion:
    """待审核 or 已审核 → 草稿 with a reason the editors read (kept in the audit chain)."""
    original, version = version, _locked(version)
    _check_transition(version, Action.REJECT, by)
    reason = (reason or "").strip()
    if not reason or "\x00" in reason:
        raise _invalid([{"field": "reason", "message": _("退回时须填写退回原因。")}])
    version.state = ItemVersion.State.DRAFT
    version.submitted_by = None
    version.approved_by = None
    version.save(update_fields=["state", "submitted_by", "approved_by"])
    _audit("version_reject", version, by, request, reason=reason[:1000])
    return _sync(original, version)


@transaction.atomic
def publish(version: ItemVersion, by, *, request=None) -> ItemVersion:
    """已审核 → 已发布: the version comes into force, the previous published version is
    retired, ``item.published_version`` moves, and the item is re-indexed for search."""
    original, version = version, _locked(version)
    _check_transition(version, Action.PUBLISH, by)
    validate_version(version)
    item = version.item
    now = timezone.now()
    previous = item.published_version
    if previous is not None and previous.pk != version.pk:
        previous.state = ItemVersion.State.RETIRED
        previous.retired_at = now
        previous.save(update_fields=["state", "retired_at"])
    version.state = ItemVersion.State.PUBLISHED
    version.published_at = now
    version.save(update_fields=["state", "published_at"])
    item.published_version = version
    item.save(update_fields=["published_version"])
    _index(item)
    _audit(
        "version_publish",
        version,
        by,
        request,
        retired=previous.number if previous is not None else None,
    )
    return _sync(original, version)


@transaction.atomic
def retire(version: ItemVersion, by, reason: str = "", *, request=None) -> ItemVersion:
    """已发布 → 已停用: the item has no version in force until another is published, so it
    disappears from search and guides (cases filed under it keep it)."""
    original, version = version, _locked(version)
    _check_transition(version, Action.RETIRE, by)
    version.state = ItemVersion.State.RETIRED
    version.retired_at = timezone.now()
    version.save(update_fields=["state", "retired_at"])
    item = version.item
    if item.published_version_id == version.pk:
        item.published_version = None
        item.save(update_fields=["published_version"])
    _index(item)
    _audit("version_retire", version, by, request, reason=(reason or "").strip()[:1000])
    return _sync(original, version)


ACTIONS = {
    Action.SUBMIT: submit,
    Action.APPROVE: approve,
    Action.PUBLISH: publish,
    Action.RETIRE: retire,
}


def apply_action(
    version: ItemVersion, action: str, by, *, reason: str = "", request=None
) -> ItemVersion:
    """Run a workflow action by name (submit, approve, reject, publish, retire)."""
    if action == Action.REJECT:
        return reject(version, by, reason, request=request)
    if action == Action.RETIRE:
        return retire(version, by, reason, request=request)
    try:
        func = ACTIONS[Action(action)]
    except (ValueError, KeyError):
        raise InvalidInput(
            _("未知的操作：%(a)s。") % {"a": action},
            details=[{"field": "action", "message": _("未知的操作。")}],
        ) from None
    return func(version, by, request=request)
