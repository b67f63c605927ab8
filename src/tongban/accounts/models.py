"""Identity: login accounts, applicants (自然人 / 法人) and API tokens."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.core.masking import mask_mobile, mask_name, mask_resident_id, mask_uscc


class User(AbstractUser):
    """A login account. ``kind`` separates applicants from staff; staff roles live in
    :class:`tongban.org.models.StaffAssignment`."""

    class Kind(models.TextChoices):
        APPLICANT = "applicant", _("申请人")
        STAFF = "staff", _("工作人员")

    kind = models.CharField(_("账户类型"), max_length=10, choices=Kind.choices, default=Kind.STAFF)
    display_name = models.CharField(_("显示名称"), max_length=100, blank=True)
    mobile = models.CharField(_("手机号码"), max_length=11, blank=True, db_index=True)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_applicant(self) -> bool:
        return self.kind == self.Kind.APPLICANT


class Applicant(models.Model):
    """An applicant (申请人): a natural person by resident ID number, or a legal person by
    unified social credit code. A walk-in applicant registered at a window has no login."""

    class Kind(models.TextChoices):
        NATURAL = "natural", _("自然人")
        LEGAL = "legal", _("法人")

    kind = models.CharField(_("主体类型"), max_length=10, choices=Kind.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applicant",
    )
    name = models.CharField(_("姓名或单位名称"), max_length=200)
    id_number = models.CharField(_("居民身份证号码"), max_length=18, null=True, blank=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, null=True, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=100, blank=True)
    legal_representative_id_number = models.CharField(
        _("法定代表人身份证号码"), max_length=18, blank=True
    )
    mobile = models.CharField(_("手机号码"), max_length=11, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("申请人")
        verbose_name_plural = _("申请人")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=Q(kind="natural"),
                name="applicant_unique_resident_id",
            ),
            models.UniqueConstraint(
                fields=["uscc"], condition=Q(kind="legal"), name="applicant_unique_uscc"
            ),
            models.CheckConstraint(
                condition=(Q(kind="natural") & Q(id_number__isnull=False))
                | (Q(kind="legal") & Q(uscc__isnull=False)),
                name="applicant_identity_present",
            ),
        ]

    def __str__(self) -> str:
        return self.masked_name

    @property
    def identity_number(self) -> str:
        return (self.id_number if self.kind == self.Kind.NATURAL else self.uscc) or ""

    @property
    def masked_identity(self) -> str:
        if self.kind == self.Kind.NATURAL:
            return mask_resident_id(self.id_number)
        return mask_uscc(self.uscc)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name) if self.kind == self.Kind.NATURAL else self.name

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 digest is stored; it can be revoked."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(_("用途"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.user} · {self.label or self.pk}"
