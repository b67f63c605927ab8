"""Cross-field rules of an implementation list (实施清单), as catalog data-quality checkers apply
them (GLOSSARY.md), plus our own where the glossary is silent (marked *ours*).

``RULES`` is the table: each rule has a stable code, a Chinese description and a check that
yields ``(field, message)`` pairs. ``check_version`` runs every rule and returns every error at
once as ``[{"field", "message", "rule"}]``; services.validate_version raises them as one
InvalidInput (422). The rules run on submit, approve and publish, and the workbench shows them
while a draft is being edited.

``check_version`` also works on unsaved objects (pass ``item``, ``materials``, ``steps``), so an
import can check every row before it writes anything.

Field names are the model's; a material's or step's field is ``materials[i].name`` /
``steps[i].role`` (0-based i, in order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ItemType, ItemVersion, Material, ProcessStep, ServiceItem, Subject
from .themes import LIFE_EVENTS, THEMES

LICENSING_STEP_KINDS: tuple[str, ...] = (
    ProcessStep.Kind.ACCEPT,
    ProcessStep.Kind.REVIEW,
    ProcessStep.Kind.DECIDE,
    ProcessStep.Kind.CONCLUDE,
    ProcessStep.Kind.DELIVER,
)


@dataclass
class Facts:
    """What a rule looks at: the version, its item, materials and steps (saved or not)."""

    version: ItemVersion
    item: ServiceItem
    materials: Sequence[Material] = field(default_factory=list)
    steps: Sequence[ProcessStep] = field(default_factory=list)

    @property
    def licensing(self) -> bool:
        return self.item.item_type == ItemType.LICENSING


Errors = Iterable[tuple[str, str]]


@dataclass(frozen=True)
class Rule:
    code: str
    description: Promise
    check: Callable[[Facts], Errors]


def _blank(value) -> bool:
    return value is None or not str(value).strip()


def _name_required(s: Facts) -> Errors:
    if _blank(s.version.name):
        yield "name", _("事项名称不能为空。")


def _subject_required(s: Facts) -> Errors:
    if s.version.subject not in Subject.values:
        yield "subject", _("请选择服务对象：自然人、法人或两者。")


def _case_kind(s: Facts) -> Errors:
    v = s.version
    if v.promised_limit_days is None:
        yield "promised_limit_days", _("请填写承诺办结时限（工作日，当场办结填0）。")
        return
    if v.promised_limit_days == 0 and v.case_kind != ItemVersion.CaseKind.IMMEDIATE:
        yield (
            "case_kind",
            _("承诺办结时限为0个工作日（当场办结）的事项，办件类型须为即办件。"),
        )
    if v.case_kind == ItemVersion.CaseKind.IMMEDIATE and v.promised_limit_days != 0:
        yield "promised_limit_days", _("即办件的承诺办结时限须为0个工作日。")
    if v.case_kind not in ItemVersion.CaseKind.values:
        yield "case_kind", _("请选择办件类型：即办件或承诺件。")


def _promised_within_legal(s: Facts) -> Errors:
    v = s.version
    if (
        v.legal_limit_days is not None
        and v.promised_limit_days is not None
        and v.promised_limit_days > v.legal_limit_days
    ):
        yield (
            "promised_limit_days",
            _("承诺办结时限（%(p)d个工作日）不能超过法定办结时限（%(l)d个工作日）。")
            % {"p": v.promised_limit_days, "l": v.legal_limit_days},
        )


def _licensing_legal_limit(s: Facts) -> Errors:
    if s.licensing and s.version.legal_limit_days is None:
        yield "legal_limit_days", _("行政许可事项须填写法定办结时限（《行政许可法》第四十二条）。")


def _ranges(s: Facts) -> Errors:
    v = s.version
    if v.online_depth not in ItemVersion.OnlineDepth.values:
        yield "online_depth", _("网上办理深度须为Ⅰ至Ⅳ级。")
    if v.max_visits is None or v.max_visits > 2:
        yield "max_visits", _("到办事现场次数只能是0、1或2次。")


def _depth_four(s: Facts) -> Errors:
    v = s.version
    if v.online_depth == ItemVersion.OnlineDepth.FULL_ONLINE:
        if v.max_visits != 0:
            yield "max_visits", _("网上办理深度为Ⅳ级（全程网办）的事项，到办事现场次数须为0。")
        if not v.handled_online:
            yield "handled_online", _("网上办理深度为Ⅳ级（全程网办）的事项须支持网上办理。")


def _depth_online(s: Facts) -> Errors:
    """*ours*: Ⅲ means online acceptance (so 是否网办) with at most one visit; 是否网办 needs at
    least Ⅱ (online submission)."""
    v = s.version
    if v.online_depth == ItemVersion.OnlineDepth.ONLINE_HANDLING:
        if not v.handled_online:
            yield "handled_online", _("网上办理深度为Ⅲ级的事项须支持网上办理。")
        if v.max_visits is not None and v.max_visits > 1:
            yield "max_visits", _("网上办理深度为Ⅲ级的事项最多到办事现场一次。")
    if v.handled_online and v.online_depth == ItemVersion.OnlineDepth.INFORMATION:
        yield (
            "online_depth",
            _("支持网上办理的事项，网上办理深度至少为Ⅱ级（网上预审）。"),
        )


def _zero_visits_mail(s: Facts) -> Errors:
    v = s.version
    if v.max_visits == 0 and not v.handled_online and not v.handled_by_mail:
        yield (
            "handled_by_mail",
            _("到办事现场次数为0且不支持网上办理的事项，办理形式须包含邮寄。"),
        )


def _handling_form(s: Facts) -> Errors:
    v = s.version
    if not (v.handled_at_window or v.handled_online or v.handled_by_mail):
        yield "handled_at_window", _("请至少选择一种办理形式：窗口办理、网上办理或邮寄办理。")


def _fees(s: Facts) -> Errors:
    v = s.version
    if not v.charges_fee:
        return
    if _blank(v.fee_items):
        yield "fee_items", _("收费事项须填写收费项目及标准。")
    if _blank(v.fee_basis):
        yield "fee_basis", _("收费事项须填写收费依据。")
    if not v.online_payment:
        yield "online_payment", _("收费事项须支持网上支付。")


def _appointment(s: Facts) -> Errors:
    v = s.version
    if v.appointment_daily_quota is None:
        return
    if not v.appointment_supported:
        yield "appointment_daily_quota", _("未开通预约的事项不能设置每日预约名额。")
    if v.appointment_daily_quota <= 0:
        yield "appointment_daily_quota", _("每日预约名额须大于0；不限名额时请留空。")


def _steps_named(s: Facts) -> Errors:
    for i, step in enumerate(s.steps):
        label = step.name or str(step.get_kind_display() if step.kind else i + 1)
        if _blank(step.name):
            yield f"steps[{i}].name", _("第%(n)d个办理环节须填写环节名称。") % {"n": i + 1}
        if _blank(step.role):
            yield (
                f"steps[{i}].role",
                _("第%(n)d个办理环节“%(name)s”须指定办理人岗位。") % {"n": i + 1, "name": label},
            )
        if step.kind not in ProcessStep.Kind.values:
            yield f"steps[{i}].kind", _("第%(n)d个办理环节的环节类型无效。") % {"n": i + 1}


def _licensing_steps(s: Facts) -> Errors:
    if not s.licensing:
        return
    kinds = [step.kind for step in s.steps]
    missing = [k for k in LICENSING_STEP_KINDS if k not in kinds]
    if missing:
        names = "、".join(str(ProcessStep.Kind(k).label) for k in missing)
        yield (
            "steps",
            _("行政许可事项须至少包含受理、审核、审批/决定、办结、送达五个环节，缺少：%(m)s。")
            % {"m": names},
        )
        return
    firsts = [kinds.index(k) for k in LICENSING_STEP_KINDS]
    if firsts != sorted(firsts):
        yield "steps", _("办理环节须按受理、审核、审批/决定、办结、送达的先后顺序排列。")


def _step_days(s: Facts) -> Errors:
    promised = s.version.promised_limit_days
    if promised is None or not s.steps:
        return
    total = sum(step.days or 0 for step in s.steps)
    if total > promised:
        yield (
            "steps",
            _("各办理环节时限合计%(t)d个工作日，超过承诺办结时限%(p)d个工作日。")
            % {"t": total, "p": promised},
        )


def _licensing_material(s: Facts) -> Errors:
    if s.licensing and not any(m.necessity == Material.Necessity.REQUIRED for m in s.materials):
        yield "materials", _("行政许可事项须至少有一项必要材料。")


def _materials(s: Facts) -> Errors:
    for i, m in enumerate(s.materials):
        n = i + 1
        if _blank(m.name):
            yield f"materials[{i}].name", _("第%(n)d项材料须填写材料名称。") % {"n": n}
        if m.source == Material.Source.GOVERNMENT and _blank(m.licence_type):
            yield (
                f"materials[{i}].licence_type",
                _("第%(n)d项材料“%(name)s”由政府部门核发，须填写可复用的电子证照名称。")
                % {"n": n, "name": m.name},
            )
        if m.kind == Material.Kind.ELECTRONIC and m.form == Material.Form.PAPER:
            yield (
                f"materials[{i}].form",
                _("第%(n)d项材料“%(name)s”是电子材料，材料形式不能是纸质。")
                % {"n": n, "name": m.name},
            )
        if m.form == Material.Form.PAPER and not m.copies:
            yield (
                f"materials[{i}].copies",
                _("第%(n)d项材料“%(name)s”是纸质材料，份数至少为1。") % {"n": n, "name": m.name},
            )


def _sub_item(s: Facts) -> Errors:
    item = s.item
    parent = item.parent
    if parent is None:
        if item.business_kind:
            yield "business_kind", _("只有业务办理项（子项）可以填写业务办理项类型。")
        return
    if not item.business_kind:
        yield (
            "business_kind",
            _("业务办理项须选择业务办理项类型（新办、变更、延续、注销、补证等）。"),
        )
    if parent.parent_id:
        yield "parent", _("所属基本事项本身不能是业务办理项。")
    if parent.department_id != item.department_id:
        yield "parent", _("业务办理项须与所属基本事项属于同一实施部门。")
    if parent.item_type != item.item_type:
        yield "item_type", _("业务办理项的事项类型须与所属基本事项一致。")


def _entrusted(s: Facts) -> Errors:
    v = s.version
    entrusted = v.implementer_nature == ItemVersion.ImplementerNature.ENTRUSTED_ORG or (
        v.power_source
        in (
            ItemVersion.PowerSource.ENTRUSTED_FROM_ABOVE,
            ItemVersion.PowerSource.ENTRUSTED_SAME_LEVEL,
        )
    )
    if entrusted and _blank(v.entrusting_department):
        yield "entrusting_department", _("受委托实施的事项须填写委托部门。")


def _as_list(value) -> list:
    if isinstance(value, list):
        return value
    return [value] if value else []


def _vocabularies(s: Facts) -> Errors:
    v = s.version
    themes = _as_list(v.themes)
    unknown = [c for c in themes if not isinstance(c, str) or c not in THEMES]
    if unknown:
        yield "themes", _("未知的主题分类：%(c)s。") % {"c": "、".join(map(str, unknown))}
    events = _as_list(v.life_events)
    unknown = [c for c in events if not isinstance(c, str) or c not in LIFE_EVENTS]
    if unknown:
        yield (
            "life_events",
            _("未知的人生事件或企业事件：%(c)s。") % {"c": "、".join(map(str, unknown))},
        )


RULES: tuple[Rule, ...] = (
    Rule("name_required", gettext_lazy("事项名称不能为空"), _name_required),
    Rule("subject_required", gettext_lazy("须选择服务对象"), _subject_required),
    Rule("case_kind", gettext_lazy("承诺时限为0 ⇔ 即办件"), _case_kind),
    Rule("promised_within_legal", gettext_lazy("承诺时限不超过法定时限"), _promised_within_legal),
    Rule("licensing_legal_limit", gettext_lazy("行政许可须有法定时限"), _licensing_legal_limit),
    Rule("ranges", gettext_lazy("网办深度Ⅰ–Ⅳ级，到现场0–2次"), _ranges),
    Rule("depth_four", gettext_lazy("Ⅳ级全程网办 ⇒ 0次到现场且网办"), _depth_four),
    Rule("depth_online", gettext_lazy("Ⅲ级 ⇒ 网办且最多到现场一次；网办 ⇒ 至少Ⅱ级"), _depth_online),
    Rule("zero_visits_mail", gettext_lazy("0次到现场且不网办 ⇒ 邮寄办理"), _zero_visits_mail),
    Rule("handling_form", gettext_lazy("至少一种办理形式"), _handling_form),
    Rule("fees", gettext_lazy("收费 ⇒ 收费标准、依据和网上支付"), _fees),
    Rule("appointment", gettext_lazy("预约名额仅在支持预约时填写且大于0"), _appointment),
    Rule("steps_named", gettext_lazy("每个环节有名称和办理人岗位"), _steps_named),
    Rule("licensing_steps", gettext_lazy("行政许可至少五个环节且顺序正确"), _licensing_steps),
    Rule("step_days", gettext_lazy("环节时限合计不超过承诺时限"), _step_days),
    Rule("licensing_material", gettext_lazy("行政许可至少一项必要材料"), _licensing_material),
    Rule("materials", gettext_lazy("材料名称、电子证照来源、形式与份数"), _materials),
    Rule("sub_item", gettext_lazy("业务办理项的类型、所属事项和部门"), _sub_item),
    Rule("entrusted", gettext_lazy("受委托实施 ⇒ 委托部门"), _entrusted),
    Rule("vocabularies", gettext_lazy("主题与人生事件须为已知代码"), _vocabularies),
)


def check_version(
    version: ItemVersion,
    *,
    item: ServiceItem | None = None,
    materials: Sequence[Material] | None = None,
    steps: Sequence[ProcessStep] | None = None,
) -> list[dict[str, str]]:
    """Every cross-field error of ``version``, in rule order: ``[{field, message, rule}]``."""
    item = item if item is not None else version.item
    if materials is None:
        materials = list(version.materials.all()) if version.pk else []
    if steps is None:
        steps = list(version.steps.all()) if version.pk else []
    subject = Facts(version=version, item=item, materials=materials, steps=steps)
    errors: list[dict[str, str]] = []
    for rule in RULES:
        for field_name, message in rule.check(subject):
            errors.append({"field": field_name, "message": str(message), "rule": rule.code})
    return errors
