"""Electronic licences (电子证照): results that cases issue and later applications reuse.

A licence belongs to an applicant (its holder) — the "licence wallet". An item's material whose
source is 政府部门核发 names a ``licence_type``; an applicant holding a valid licence of that
type can attach it instead of uploading a copy (cases/materials.py).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Licence(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        REVOKED = "revoked", _("已撤销")
        EXPIRED = "expired", _("已过期")

    holder = models.ForeignKey(
        "accounts.Applicant",
        verbose_name=_("持证人"),
        on_delete=models.PROTECT,
        related_name="licences",
    )
    licence_type = models.CharField(_("证照类型"), max_length=100, db_index=True)
    number = models.CharField(_("证照编号"), max_length=60, unique=True)
    issuer = models.CharField(_("发证机关"), max_length=200)
    issued_on = models.DateField(_("发证日期"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.VALID, db_index=True
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("来源办件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="licences",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-issued_on", "-pk"]
        indexes = [models.Index(fields=["holder", "licence_type"], name="licence_holder_type")]

    def __str__(self) -> str:
        return f"{self.licence_type} {self.number}"

    def usable_on(self, day=None) -> bool:
        day = day or timezone.localdate()
        return self.status == self.Status.VALID and (
            self.valid_until is None or self.valid_until >= day
        )
