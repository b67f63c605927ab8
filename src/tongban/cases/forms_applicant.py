"""Forms of the applicant's pages (online application, my cases, progress query).

The forms only shape what the browser sent; every business rule (lengths, the mobile format,
post needs an address, the center must be in the item's acceptance scope) is checked by
``cases.services``, whose errors come back next to the fields (:func:`add_service_errors`).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tongban.core import validators
from tongban.core.errors import DomainError

from .models import DeliveryMode

UPLOAD_ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


def add_service_errors(form: forms.Form, exc: DomainError) -> None:
    """Put a service's error on the fields it names (``details``), or on top of the form."""
    details = exc.details if isinstance(exc.details, list) else []
    placed = False
    for d in details:
        field = d.get("field") if isinstance(d, dict) else None
        if field in form.fields:
            form.add_error(field, d.get("message") or exc.message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class FillForm(forms.Form):
    """Step 1 (填写申请表): the fields ``services._apply_form`` accepts."""

    description = forms.CharField(
        label=_("申请内容"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("简要写明要办理什么，例如：新办、变更哪些事项及原因。"),
    )
    address = forms.CharField(
        label=_("住所或经营场所"),
        max_length=1000,
        required=False,
        help_text=_("与申请有关的地址；没有可不填。"),
    )
    contact_name = forms.CharField(
        label=_("联系人"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_mobile = forms.CharField(
        label=_("联系手机"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("办理进度和结果会以短信通知此号码；查询进度也要用到。"),
    )
    remarks = forms.CharField(
        label=_("备注"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_contact_mobile(self) -> str:
        # the same validator the service uses, so every error shows at once
        return validators.validate_mobile(self.cleaned_data.get("contact_mobile", ""))


class DeliveryForm(forms.Form):
    """Step 3 (结果送达): where the case is accepted and how the result reaches the applicant."""

    center = forms.ModelChoiceField(
        label=_("受理中心"),
        queryset=None,
        empty_label=None,
        help_text=_("申请由该中心预审受理；选择窗口领取时，也在这里领取结果。"),
    )
    delivery_mode = forms.ChoiceField(
        label=_("结果送达方式"), choices=DeliveryMode.choices, widget=forms.RadioSelect
    )
    postal_address = forms.CharField(
        label=_("邮寄地址"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
        help_text=_("选择免费邮寄时必填：省、市、镇街、详细地址，收件人和电话同联系人。"),
    )

    def __init__(self, *args, centers, result_by_mail: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["center"].queryset = centers
        self.fields["center"].label_from_instance = lambda c: (
            _("%(name)s（%(level)s）")
            % {
                "name": c.name,
                "level": c.get_level_display(),
            }
        )
        choices = [(v, label) for v, label in DeliveryMode.choices]
        if not result_by_mail:
            choices = [(v, label) for v, label in choices if v != DeliveryMode.POST]
        self.fields["delivery_mode"].choices = choices


class ConfirmForm(forms.Form):
    pledge = forms.BooleanField(
        label=_("真实性承诺"),
        help_text=_("本人承诺所填写的内容和提交的材料真实、合法、有效，如有虚假愿承担相应责任。"),
        error_messages={"required": _("请阅读并勾选承诺后再提交。")},
    )


class UploadForm(forms.Form):
    """One file for one checklist material (or an extra material when ``material`` is empty)."""

    material = forms.IntegerField(required=False, widget=forms.HiddenInput)
    file = forms.FileField(
        label=_("选择文件"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_ACCEPT}),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回原因（选填）"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ProgressForm(forms.Form):
    """The public progress query (办件进度查询): both the number and the mobile must match."""

    number = forms.CharField(
        label=_("办件编号"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("见受理通知书或提交申请后的回执，例如 BJ2026…"),
    )
    mobile = forms.CharField(
        label=_("申请时填写的联系手机"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )


STATUS_FILTERS = (
    ("", _("全部")),
    ("todo", _("待我处理")),
    ("draft", _("草稿")),
    ("open", _("办理中")),
    ("done", _("已办结")),
    ("ended", _("已撤回或不予受理")),
)
