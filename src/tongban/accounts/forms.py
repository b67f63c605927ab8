"""Forms for signing in and registering; validation is the services' (one rule, one place)."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Applicant


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("账号"),
        max_length=150,
        help_text=_("身份证号码、统一社会信用代码、手机号码或工作人员用户名"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _("账号或密码错误。连续失败5次将锁定15分钟。"),
        "inactive": _("该账户已停用，请联系管理员。"),
    }


class RegisterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("主体类型"),
        choices=Applicant.Kind.choices,
        initial=Applicant.Kind.NATURAL,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("姓名或单位名称"), max_length=200)
    id_number = forms.CharField(
        label=_("居民身份证号码"),
        max_length=18,
        required=False,
        help_text=_("自然人填写，18位"),
    )
    uscc = forms.CharField(
        label=_("统一社会信用代码"), max_length=18, required=False, help_text=_("法人填写，18位")
    )
    legal_representative = forms.CharField(
        label=_("法定代表人"), max_length=100, required=False, help_text=_("法人填写")
    )
    mobile = forms.CharField(label=_("手机号码"), max_length=20)
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少8位，不能全为数字，不能过于常见"),
    )
    password_again = forms.CharField(
        label=_("确认密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("两次输入的密码不一致。"))
        return data
