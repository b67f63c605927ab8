"""Forms of the catalog administrator's workbench (事项管理): a draft version's main fields,
its materials, process steps and FAQs, and the reason of a rejection.

The forms only parse and check shapes (types, lengths, choices); every business rule — the
cross-field rules of GLOSSARY.md, four eyes, frozen published versions — belongs to
``tongban.catalog.services`` and comes back as a DomainError that the page shows next to the
field it names.
"""

from __future__ import annotations

from pathlib import PurePath

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from tongban.org.roles import STAFF_ROLES, Role

from .models import ItemVersion, Material, ProcessStep

VISIT_CHOICES = [(0, _("0 次（不见面）")), (1, _("1 次")), (2, _("2 次"))]

# The editor's sections, in page order: (legend, field names).
FIELDSETS: list[tuple[object, list[str]]] = [
    (
        _("基本信息"),
        ["name", "subject", "aliases", "keywords", "themes", "life_events", "basis"],
    ),
    (
        _("办理时限"),
        [
            "legal_limit_days",
            "legal_limit_note",
            "promised_limit_days",
            "promised_limit_note",
            "case_kind",
        ],
    ),
    (
        _("办理方式"),
        [
            "conditions",
            "handled_at_window",
            "handled_online",
            "handled_by_mail",
            "online_depth",
            "max_visits",
            "tongban_scope",
            "materials_by_mail",
            "result_by_mail",
            "appointment_supported",
            "appointment_daily_quota",
        ],
    ),
    (_("审批结果"), ["result_type", "result_name"]),
    (_("收费"), ["charges_fee", "fee_items", "fee_basis", "fee_reduction", "online_payment"]),
    (_("咨询、投诉与救济"), ["consultation", "complaint", "remedies"]),
    (_("本次修订"), ["change_note"]),
]

VERSION_FIELDS: list[str] = [name for _legend, names in FIELDSETS for name in names]

_TEXTAREAS = {
    "aliases": 3,
    "keywords": 3,
    "basis": 3,
    "conditions": 4,
    "fee_items": 3,
    "fee_basis": 2,
    "fee_reduction": 2,
    "change_note": 2,
}


def _themes():
    from . import themes

    return [(code, label) for code, label in themes.THEMES.items()]


def _life_events():
    from . import themes

    return [(code, label) for code, label in themes.LIFE_EVENTS.items()]


class VersionForm(forms.ModelForm):
    """The main fields of a draft version. Bound to a throw-away copy of the version (the
    caller passes the cleaned data to ``services.update_draft``)."""

    themes = forms.MultipleChoiceField(
        label=_("主题分类"), required=False, choices=_themes, widget=forms.CheckboxSelectMultiple
    )
    life_events = forms.MultipleChoiceField(
        label=_("人生事件 / 企业事件"),
        required=False,
        choices=_life_events,
        widget=forms.CheckboxSelectMultiple,
    )
    max_visits = forms.TypedChoiceField(
        label=_("到办事现场次数"), choices=VISIT_CHOICES, coerce=int
    )

    class Meta:
        model = ItemVersion
        fields = VERSION_FIELDS
        widgets = {name: forms.Textarea(attrs={"rows": rows}) for name, rows in _TEXTAREAS.items()}
        help_texts = {
            "promised_limit_days": _("填 0 表示即办（当场办结），办件类型应为即办件。"),
            "legal_limit_days": _("法律法规规定的时限；没有规定的留空。"),
            "appointment_daily_quota": _("仅在支持预约时填写，须大于 0。"),
            "change_note": _("简要说明本版本改了什么，供审核人参考。"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("legal_limit_days", "promised_limit_days", "appointment_daily_quota"):
            self.fields[name].widget.attrs.update({"min": 0, "inputmode": "numeric"})

    def _post_clean(self) -> None:
        # The model's own checks (constraints on the whole row) run in the services; the form
        # only vouches for each field on its own.
        return

    def payload(self) -> dict:
        return {name: self.cleaned_data[name] for name in VERSION_FIELDS}


MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# extension → accepted leading bytes (checked by content, not only by name)
_ZIP, _OLE = (b"PK\x03\x04",), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
ATTACHMENT_TYPES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".ofd": _ZIP,
    ".docx": _ZIP,
    ".xlsx": _ZIP,
    ".doc": _OLE,
    ".xls": _OLE,
    ".wps": _OLE,
    ".et": _OLE,
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}


def validate_attachment(upload) -> None:
    """A blank form or sample: an office document, PDF/OFD or image, at most 10 MB, whose
    content matches its extension."""
    suffix = PurePath(upload.name or "").suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise ValidationError(
            _("只能上传 PDF、OFD、Word、Excel、WPS 文档或 JPG、PNG 图片。"), code="type"
        )
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("文件不能超过 %(max)s。") % {"max": filesizeformat(MAX_ATTACHMENT_BYTES)},
            code="size",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in ATTACHMENT_TYPES[suffix]):
        raise ValidationError(_("文件内容与扩展名不符，请检查后重新上传。"), code="content")


class _RowForm(forms.Form):
    """A row of a formset; ``id`` carries the row's existing database id (empty for new rows).
    Every select has an initial value: a browser posts the selected option of an untouched
    blank row, which must equal the initial value for the row to count as unchanged."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    uploads_fields: tuple[str, ...] = ()

    def row(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("DELETE", None)
        for name in self.uploads_fields:
            data.pop(name, None)
        if not data.get("id"):
            data.pop("id", None)
        return data

    def uploads(self) -> dict[str, object]:
        """Files chosen in this row, by material file field (``blank_form`` / ``sample``)."""
        return {
            name.removesuffix("_upload"): self.cleaned_data[name]
            for name in self.uploads_fields
            if self.cleaned_data.get(name)
        }


class MaterialForm(_RowForm):
    name = forms.CharField(label=_("材料名称"), max_length=200)
    kind = forms.ChoiceField(
        label=_("材料类型"), choices=Material.Kind.choices, initial=Material.Kind.ORIGINAL
    )
    form = forms.ChoiceField(
        label=_("材料形式"), choices=Material.Form.choices, initial=Material.Form.BOTH
    )
    necessity = forms.ChoiceField(
        label=_("必要性"), choices=Material.Necessity.choices, initial=Material.Necessity.REQUIRED
    )
    source = forms.ChoiceField(
        label=_("来源渠道"), choices=Material.Source.choices, initial=Material.Source.APPLICANT
    )
    licence_type = forms.CharField(label=_("可复用的电子证照"), max_length=100, required=False)
    copies = forms.IntegerField(label=_("份数"), min_value=1, max_value=99, initial=1)
    standard = forms.CharField(label=_("受理标准"), max_length=300, required=False)
    blank_form_upload = forms.FileField(
        label=_("上传空白表格"), required=False, validators=[validate_attachment]
    )
    sample_upload = forms.FileField(
        label=_("上传示例样表"), required=False, validators=[validate_attachment]
    )
    uploads_fields = ("blank_form_upload", "sample_upload")

    def clean(self):
        data = super().clean()
        if data.get("source") == Material.Source.GOVERNMENT and not data.get("licence_type"):
            self.add_error(
                "licence_type", _("来源为政府部门核发的材料，请填写可复用的电子证照名称。")
            )
        return data


STEP_ROLE_CHOICES = [(r.value, r.label) for r in STAFF_ROLES]


class StepForm(_RowForm):
    kind = forms.ChoiceField(
        label=_("环节"), choices=ProcessStep.Kind.choices, initial=ProcessStep.Kind.OTHER
    )
    name = forms.CharField(label=_("环节名称"), max_length=100)
    role = forms.ChoiceField(
        label=_("办理人岗位"), choices=STEP_ROLE_CHOICES, initial=Role.REVIEWER.value
    )
    office = forms.CharField(label=_("办理处室"), max_length=100, required=False)
    days = forms.IntegerField(label=_("时限（工作日）"), min_value=0, max_value=999, initial=1)


class FaqForm(_RowForm):
    question = forms.CharField(label=_("问题"), max_length=300)
    answer = forms.CharField(label=_("解答"), widget=forms.Textarea(attrs={"rows": 2}))


class _RowFormSet(forms.BaseFormSet):
    """Rows in page order: the existing rows (unless marked for deletion) and the extra rows
    someone filled in; untouched extra rows are left out."""

    def live_forms(self) -> list[forms.Form]:
        initial = self.initial_form_count()
        return [
            form
            for i, form in enumerate(self.forms)
            if (i < initial or form.has_changed()) and not self._should_delete_form(form)
        ]

    def rows(self) -> list[dict]:
        return [form.row() for form in self.live_forms()]


MaterialFormSet = forms.formset_factory(
    MaterialForm, formset=_RowFormSet, extra=2, can_delete=True, max_num=60, validate_max=True
)
StepFormSet = forms.formset_factory(
    StepForm, formset=_RowFormSet, extra=1, can_delete=True, max_num=30, validate_max=True
)
FaqFormSet = forms.formset_factory(
    FaqForm, formset=_RowFormSet, extra=1, can_delete=True, max_num=50, validate_max=True
)


def material_initial(version: ItemVersion) -> list[dict]:
    return [
        {
            "id": m.pk,
            "name": m.name,
            "kind": m.kind,
            "form": m.form,
            "necessity": m.necessity,
            "source": m.source,
            "licence_type": m.licence_type,
            "copies": m.copies,
            "standard": m.standard,
            "blank_form_name": PurePath(m.blank_form.name).name if m.blank_form else "",
            "sample_name": PurePath(m.sample.name).name if m.sample else "",
        }
        for m in version.materials.all()
    ]


def step_initial(version: ItemVersion) -> list[dict]:
    return [
        {
            "id": s.pk,
            "kind": s.kind,
            "name": s.name,
            "role": s.role,
            "office": s.office,
            "days": s.days,
        }
        for s in version.steps.all()
    ]


def faq_initial(version: ItemVersion) -> list[dict]:
    return [{"id": f.pk, "question": f.question, "answer": f.answer} for f in version.faqs.all()]


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("退回原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写明需要修改的地方，编辑人会在草稿中看到。"),
        error_messages={"required": _("请填写退回原因。")},
    )


class ItemFilterForm(forms.Form):
    """Filters of the workbench's item list (GET)."""

    q = forms.CharField(label=_("事项名称或编码"), max_length=50, required=False)
    state = forms.ChoiceField(
        label=_("版本状态"),
        required=False,
        choices=[
            ("", _("全部")),
            ("draft", _("有草稿")),
            ("submitted", _("待审核")),
            ("approved", _("待发布")),
            ("none", _("无在编版本")),
        ],
    )
    department = forms.ChoiceField(label=_("实施部门"), required=False, choices=[])

    def __init__(self, *args, departments=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("全部部门"))] + [
            (d.code, d.name) for d in departments
        ]
