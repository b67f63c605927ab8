"""Notifications (消息): what the platform tells applicants and staff.

Every message is one row (the outbox). ``channel`` says how it goes out: in the web inbox, by
SMS to a mobile number. A sender (notify/senders.py, chosen by the ``NOTIFY_SMS_SENDER``
setting) delivers SMS rows; the default sender only logs a masked line, since the machines have
no SMS gateway.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Channel(models.TextChoices):
        INBOX = "inbox", _("站内消息")
        SMS = "sms", _("短信")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收账户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    mobile = models.CharField(_("手机号码"), max_length=11, blank=True)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    kind = models.CharField(_("类型"), max_length=40, db_index=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("办件"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return self.subject


class WebhookSubscription(models.Model):
    """A department system (部门业务系统) subscribed to the events of the cases its department
    approves. Deliveries are signed with ``secret`` (HMAC-SHA256, see notify/webhooks.py)."""

    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("部门"),
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
    )
    name = models.CharField(_("系统名称"), max_length=100)
    url = models.URLField(_("接收地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=64)
    events = models.JSONField(
        _("订阅事件"), default=list, blank=True, help_text=_("办件操作名列表；留空表示全部")
    )
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("部门系统订阅")
        verbose_name_plural = _("部门系统订阅")
        ordering = ["department", "name"]

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"

    def wants(self, action: str) -> bool:
        return not self.events or action in self.events


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one subscription — the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        DELIVERED = "delivered", _("已送达")
        RETRYING = "retrying", _("等待重试")
        FAILED = "failed", _("已放弃")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    uid = models.CharField(_("投递编号"), max_length=36, unique=True)
    event = models.CharField(_("事件"), max_length=40)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), db_index=True)
    last_status_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    resent_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "retrying"]),
                name="webhook_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription.name} ({self.status})"
