"""Forms of the staff case workbench (办件工作台): finding or registering an applicant at the
window, starting a case, the application form, materials, every step's form, and the worklist
filters. (The applicant's forms are in ``forms_applicant.py``.)

The forms parse and check shapes only; the rules of the lifecycle (who, when, what is needed)
are ``services.py``'s, whose errors the pages show next to the field they name.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Applicant
from tongban.core.validators import validate_mobile, validate_resident_id, validate_uscc
from tongban.org.models import Region, ServiceCenter, Window

from . import services
from .models import Channel, Colour, Decision, DeliveryMode, Status

TEXT_ROWS = 3


def _textarea(rows: int = TEXT_ROWS, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def _date() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# ---- the window: applicant, item, start --------------------------------------------------------


class IdentityLookupForm(forms.Form):
    """查找申请人: a resident ID number (自然人) or a unified social credit code (法人)."""

    identity = forms.CharField(
        label=_("身份证号码或统一社会信用代码"),
        max_length=30,
        help_text=_("18位，可直接读卡或扫码录入。"),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}
        ),
    )

    def clean_identity(self) -> tuple[str, str]:
        value = self.cleaned_data["identity"].strip().upper().replace(" ", "")
        if len(value) == 18 and value[:17].isdigit():
            try:
                return Applicant.Kind.NATURAL, validate_resident_id(value)
            except ValidationError as exc:
                resident_error = exc
            try:  # a credit code may also start with 17 digits
                return Applicant.Kind.LEGAL, validate_uscc(value)
            except ValidationError:
                raise resident_error from None
        return Applicant.Kind.LEGAL, validate_uscc(value)


class WalkInForm(forms.Form):
    """登记申请人 at the window (no login account is created)."""

    kind = forms.ChoiceField(
        label=_("主体类型"),
        choices=Applicant.Kind.choices,
        initial=Applicant.Kind.NATURAL,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("姓名或单位名称"), max_length=200)
    id_number = forms.CharField(
        label=_("居民身份证号码"), max_length=18, required=False, help_text=_("自然人填写")
    )
    uscc = forms.CharField(
        label=_("统一社会信用代码"), max_length=18, required=False, help_text=_("法人填写")
    )
    legal_representative = forms.CharField(
        label=_("法定代表人"), max_length=100, required=False, help_text=_("法人填写")
    )
    mobile = forms.CharField(label=_("手机号码"), max_length=20)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Applicant.Kind.NATURAL:
            self._check("id_number", validate_resident_id, _("请填写居民身份证号码。"))
        elif kind == Applicant.Kind.LEGAL:
            self._check("uscc", validate_uscc, _("请填写统一社会信用代码。"))
            if not (data.get("legal_representative") or "").strip():
                self.add_error("legal_representative", _("请填写法定代表人姓名。"))
        if data.get("mobile"):
            try:
                data["mobile"] = validate_mobile(data["mobile"])
            except ValidationError as exc:
                self.add_error("mobile", exc)
        return data

    def _check(self, field: str, validator, missing) -> None:
        value = (self.cleaned_data.get(field) or "").strip()
        if not value:
            self.add_error(field, missing)
            return
        try:
            self.cleaned_data[field] = validator(value)
        except ValidationError as exc:
            self.add_error(field, exc)


class ItemSearchForm(forms.Form):
    q = forms.CharField(
        label=_("事项名称或实施编码"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


class StartCaseForm(forms.Form):
    item = forms.CharField(max_length=40, widget=forms.HiddenInput)
    channel = forms.ChoiceField(
        choices=[(Channel.WINDOW, Channel.WINDOW.label), (Channel.MAIL, Channel.MAIL.label)],
        initial=Channel.WINDOW,
    )
    center = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CenterChoiceForm(forms.Form):
    center = forms.ModelChoiceField(
        label=_("受理中心"), queryset=ServiceCenter.objects.none(), empty_label=None
    )

    def __init__(self, *args, centers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["center"].queryset = (
            centers if centers is not None else self.fields["center"].queryset
        )


# ---- the application form and materials --------------------------------------------------------


class CaseForm(forms.Form):
    """申请表: what the applicant asks for, contact and delivery (services._apply_form checks)."""

    description = forms.CharField(label=_("申请内容"), max_length=1000, widget=_textarea(4))
    address = forms.CharField(label=_("住所或经营场所"), max_length=1000, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=100, required=False)
    contact_mobile = forms.CharField(label=_("联系手机"), max_length=20)
    delivery_mode = forms.ChoiceField(
        label=_("结果送达方式"), choices=DeliveryMode.choices, widget=forms.RadioSelect
    )
    postal_address = forms.CharField(
        label=_("邮寄地址"), max_length=300, required=False, help_text=_("选择免费邮寄时填写")
    )
    remarks = forms.CharField(label=_("备注"), max_length=500, required=False, widget=_textarea(2))

    def __init__(self, *args, case=None, **kwargs):
        if case is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = {
                **{k: (case.form_data or {}).get(k, "") for k in services.FORM_FIELDS},
                "contact_name": case.contact_name,
                "contact_mobile": case.contact_mobile,
                "delivery_mode": case.delivery_mode,
                "postal_address": case.postal_address,
            }
        super().__init__(*args, **kwargs)
        if case is not None and not case.version.result_by_mail:
            self.fields["delivery_mode"].choices = [
                c for c in DeliveryMode.choices if c[0] != DeliveryMode.POST
            ]
            if not case.postal_address:
                del self.fields["postal_address"]

    def payload(self) -> dict:
        return dict(self.cleaned_data)


class PaperForm(forms.Form):
    """纸质原件已核验: the clerk ticks a checklist entry."""

    material = forms.IntegerField(widget=forms.HiddenInput)


class UploadForm(forms.Form):
    """扫描上传: a file for a checklist entry (or an extra file when ``material`` is empty)."""

    material = forms.IntegerField(required=False, widget=forms.HiddenInput)
    file = forms.FileField(label=_("扫描件（PDF、JPG、PNG）"))


class LicenceForm(forms.Form):
    """复用电子证照 the applicant holds."""

    material = forms.IntegerField(widget=forms.HiddenInput)
    licence = forms.IntegerField(label=_("电子证照"))


class RemoveForm(forms.Form):
    case_material = forms.IntegerField(widget=forms.HiddenInput)


# ---- the steps of the lifecycle -----------------------------------------------------------------


class EmptyForm(forms.Form):
    """A step that needs nothing but the click (认领)."""


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("说明（可选）"), max_length=2000, required=False, widget=_textarea(2)
    )


class AcceptForm(NoteForm):
    field_order = ["window", "note"]

    window = forms.ModelChoiceField(
        label=_("受理窗口"),
        queryset=Window.objects.none(),
        required=False,
        empty_label=_("（不指定）"),
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None and case.center_id:
            self.fields["window"].queryset = Window.objects.filter(
                center_id=case.center_id, active=True
            ).order_by("kind", "number")
            self.fields["window"].label_from_instance = window_label


def window_label(window: Window) -> str:
    """ "1 号窗口（综合受理1号窗）" rather than the center's name and a number."""
    detail = window.name or window.get_kind_display()
    return _("%(number)s 号窗口（%(detail)s）") % {"number": window.number, "detail": detail}


class ListForm(NoteForm):
    """一次性告知 / 补正: every item, one per line."""

    field_order = ["items", "note"]

    items = forms.CharField(
        label=_("需补齐或更正的内容（每行一项）"),
        max_length=20000,
        widget=_textarea(5),
        help_text=_("请一次性列明全部内容，申请人将收到书面告知。"),
    )

    def clean_items(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["items"].splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise ValidationError(_("请至少列明一项。"))
        return lines


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=2000, widget=_textarea(3))


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("理由（可选）"), max_length=2000, required=False, widget=_textarea(2)
    )


SPECIAL_KIND_LABELS = {
    "hearing": _("听证"),
    "inspection": _("检验、检疫"),
    "testing": _("检测"),
    "appraisal": _("鉴定"),
    "expert_review": _("专家评审"),
    "other": _("其他（招标、拍卖等）"),
}


class SpecialForm(ReasonForm):
    kind = forms.ChoiceField(
        label=_("特别程序类型"),
        choices=[(k, SPECIAL_KIND_LABELS.get(k, k)) for k in services.SPECIAL_KINDS],
    )
    field_order = ["kind", "reason"]


class OpinionForm(forms.Form):
    opinion = forms.CharField(
        label=_("审核意见"), max_length=2000, required=False, widget=_textarea(3)
    )


DECISION_ACTION = {v: k for k, v in services.DECISION_ACTIONS.items()}  # action → decision


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审批决定"), choices=Decision.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("决定理由"),
        max_length=2000,
        required=False,
        widget=_textarea(3),
        help_text=_("不予许可时必须说明理由，并告知申请复议或提起诉讼的权利。"),
    )

    def __init__(self, *args, actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        allowed = {DECISION_ACTION[a] for a in actions if a in DECISION_ACTION}
        if allowed:
            self.fields["decision"].choices = [c for c in Decision.choices if c[0] in allowed]
            if len(self.fields["decision"].choices) == 1:
                self.fields["decision"].initial = self.fields["decision"].choices[0][0]


class ExtendForm(ReasonForm):
    days = forms.IntegerField(
        label=_("延长工作日数"),
        min_value=1,
        max_value=60,
        help_text=_("只能延长一次，不超过法定上限。"),
    )
    field_order = ["days", "reason"]


class IssueForm(forms.Form):
    valid_until = forms.DateField(label=_("证照有效期至（可选）"), required=False, widget=_date())


User = get_user_model()


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("承办人"), queryset=User.objects.none(), empty_label=None
    )

    def __init__(self, *args, colleagues=None, **kwargs):
        super().__init__(*args, **kwargs)
        if colleagues is not None:
            self.fields["assignee"].queryset = colleagues
            self.fields["assignee"].label_from_instance = lambda u: str(u)


# ---- worklist filters ----------------------------------------------------------------------------

SORTS = {
    "due": _("办结期限（最早在前）"),
    "-due": _("办结期限（最晚在前）"),
    "-submitted": _("提交时间（最新在前）"),
    "submitted": _("提交时间（最早在前）"),
}


class CaseFilterForm(forms.Form):
    q = forms.CharField(
        label=_("办件编号或事项"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(label=_("办件状态"), required=False)
    channel = forms.ChoiceField(label=_("申请渠道"), required=False)
    colour = forms.ChoiceField(label=_("时限状态"), required=False)
    center = forms.ChoiceField(label=_("受理中心"), required=False)
    region = forms.ChoiceField(label=_("所属区划"), required=False)
    submitted_from = forms.DateField(label=_("提交日期从"), required=False, widget=_date())
    submitted_to = forms.DateField(label=_("提交日期至"), required=False, widget=_date())
    due_from = forms.DateField(label=_("办结期限从"), required=False, widget=_date())
    due_to = forms.DateField(label=_("办结期限至"), required=False, widget=_date())
    sort = forms.ChoiceField(label=_("排序"), required=False)

    def __init__(self, *args, centers=(), regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        every = [("", _("全部"))]
        self.fields["status"].choices = (
            every
            + [c for c in Status.choices if c[0] != Status.DRAFT]
            + [(Status.DRAFT, Status.DRAFT.label)]
        )
        self.fields["channel"].choices = every + list(Channel.choices)
        self.fields["colour"].choices = every + [
            (str(c), c.label) for c in (Colour.RED, Colour.YELLOW, Colour.GREEN, Colour.PAUSED)
        ]
        self.fields["center"].choices = every + [(c.code, c.name) for c in centers]
        self.fields["region"].choices = every + [(r.code, r.name) for r in regions]
        self.fields["sort"].choices = [("", _("默认")), *SORTS.items()]

    def clean(self):
        data = super().clean()
        for start, end in (("submitted_from", "submitted_to"), ("due_from", "due_to")):
            if data.get(start) and data.get(end) and data[start] > data[end]:
                self.add_error(end, _("结束日期不能早于开始日期。"))
        return data


def region_choices(paths: list[str]) -> list[Region]:
    """Streets, towns and functional areas above the given region paths (for the filter)."""
    codes = {code for path in paths for code in path.strip("/").split("/") if code}
    return list(
        Region.objects.filter(
            code__in=codes,
            level__in=(Region.Level.STREET, Region.Level.TOWN, Region.Level.FUNCTIONAL_AREA),
        ).order_by("code")
    )
