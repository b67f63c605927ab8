"""Shared kernel data: the audit chain, the working-day calendar, idempotency records."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit log (审计日志).

    ``hash`` = SHA-256 over the previous entry's hash and this entry's canonical content, so
    changing, inserting or deleting any row breaks every later link (`manage.py verify_audit`).
    """

    seq = models.BigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(_("操作人标识"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=80, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=80, blank=True)
    target_id = models.CharField(_("对象标识"), max_length=80, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    data = models.JSONField(_("内容"), default=dict, blank=True)
    prev_hash = models.CharField(_("上一条哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class AuditChainHead(models.Model):
    """A single row locked while appending, so concurrent writers extend the chain one at a time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.seq}"


class CalendarYear(models.Model):
    """A year whose holiday schedule the calendar knows (法定节假日安排).

    ``official`` years come from a published schedule (the chinesecalendar package or an imported
    State Council notice); a year without a row, or with ``official=False``, is provisional and
    the calendar falls back to the statutory holidays it can compute.
    """

    class Source(models.TextChoices):
        PACKAGE = "package", _("chinesecalendar 软件包")
        IMPORT = "import", _("导入的官方安排")
        MANUAL = "manual", _("人工维护")

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    official = models.BooleanField(_("已发布的正式安排"), default=True)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    document = models.CharField(_("文件"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历年度")
        verbose_name_plural = _("日历年度")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A date that differs from the plain Monday-to-Friday rule: a holiday on a weekday, or a
    make-up working day (调休上班) on a weekend. Holidays falling on weekends may be stored too."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("休息日（节假日）")
        WORKDAY = "workday", _("工作日（调休上班）")

    date = models.DateField(_("日期"), primary_key=True)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class IdempotencyRecord(models.Model):
    """The stored answer to a creating POST sent with an ``Idempotency-Key`` header."""

    key = models.CharField(max_length=200)
    principal = models.CharField(max_length=100)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")
        constraints = [
            models.UniqueConstraint(
                fields=["principal", "method", "path", "key"], name="idempotency_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.key}"
