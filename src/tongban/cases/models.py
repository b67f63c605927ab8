"""Cases (办件): one application for one published item version.

A case is filed through a channel, accepted at a center the item's acceptance scope allows,
reviewed and decided by the department that exercises the power on the acceptance date, and its
result handed out at the accepting center or posted. ``status`` moves only through the
transition table in ``lifecycle.py``; every move is a :class:`CaseEvent` (and an audit event).
The clock fields (``accepted_on`` … ``due_date``) are kept by ``clock.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WEB = "web", _("网上办事大厅")
    MOBILE = "mobile", _("移动端")
    WINDOW = "window", _("窗口")
    KIOSK = "kiosk", _("自助终端")
    MAIL = "mail", _("邮寄")
    AGENCY = "agency", _("代办")


# 网办: submitted by the applicant through a screen (GLOSSARY: online share).
ONLINE_CHANNELS = frozenset({Channel.WEB, Channel.MOBILE, Channel.KIOSK})


class Status(models.TextChoices):
    """Case statuses. ``PROVINCIAL_CODES`` maps them to the provincial exchange codes."""

    DRAFT = "draft", _("草稿")
    PRE_REVIEW = "pre_review", _("网上预审中")
    RECEIVED = "received", _("已接件")
    NOTIFIED = "notified", _("一次性告知待补齐")
    ACCEPTED = "accepted", _("已受理")
    REFUSED = "refused", _("不予受理")
    IN_REVIEW = "in_review", _("部门审查中")
    SUPPLEMENT = "supplement", _("补正中")
    SPECIAL = "special", _("特别程序中")
    APPROVAL = "approval", _("待审批")
    APPROVED = "approved", _("办结（准予）")
    APPROVED_TOLERATED = "approved_tolerated", _("办结（容缺准予）")
    DENIED = "denied", _("办结（不予许可）")
    ISSUED = "issued", _("已出证")
    DELIVERED = "delivered", _("已送达/领取")
    CLOSED = "closed", _("已归档")
    WITHDRAWN = "withdrawn", _("已撤回")
    REVOKED = "revoked", _("已撤销")


# Accepted and not yet decided: the clock runs or is paused (clock.RUNNING + clock.PAUSED).
OPEN_STATUSES = ("accepted", "in_review", "approval", "supplement", "special")


class DeliveryMode(models.TextChoices):
    PICKUP = "pickup", _("窗口领取")
    POST = "post", _("免费邮寄")
    ELECTRONIC = "electronic", _("电子证照（无需领取）")


class Decision(models.TextChoices):
    APPROVED = "approved", _("准予许可")
    APPROVED_TOLERATED = "approved_tolerated", _("容缺准予（材料后补）")
    DENIED = "denied", _("不予许可")


class Colour(models.TextChoices):
    """The clock's light (红黄绿灯)."""

    NONE = "", _("未计时")
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("临近到期")
    RED = "red", _("已超期")
    PAUSED = "paused", _("暂停计时")


class Case(models.Model):
    number = models.CharField(_("办件编号"), max_length=40, unique=True)
    item = models.ForeignKey(
        "catalog.ServiceItem", verbose_name=_("事项"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.ForeignKey(
        "catalog.ItemVersion",
        verbose_name=_("事项版本"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    applicant = models.ForeignKey(
        "accounts.Applicant",
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # indexed by (applicant, -created_at)
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(_("申请渠道"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("办件状态"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    title = models.CharField(_("申请事项名称"), max_length=200)
    form_data = models.JSONField(_("申请表内容"), default=dict, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=100, blank=True)
    contact_mobile = models.CharField(_("联系手机"), max_length=11, blank=True)
    delivery_mode = models.CharField(
        _("结果送达方式"), max_length=12, choices=DeliveryMode.choices, default=DeliveryMode.PICKUP
    )
    postal_address = models.CharField(_("邮寄地址"), max_length=300, blank=True)

    # where: the accepting center (chosen online, the clerk's for walk-ins) and its region
    center = models.ForeignKey(
        "org.ServiceCenter",
        verbose_name=_("受理中心"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    window = models.ForeignKey(
        "org.Window",
        verbose_name=_("受理窗口"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    region = models.ForeignKey(
        "org.Region",
        verbose_name=_("所属区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # who approves: followed through the power ledger at acceptance (the item's department
    # until then)
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("审批部门"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    approving_body = models.CharField(_("审批主体"), max_length=200, blank=True)
    decision_in_name_of = models.CharField(_("决定机关"), max_length=200, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # the clock (clock.py)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    accepted_on = models.DateField(_("受理日期（工作日）"), null=True, blank=True)
    case_kind = models.CharField(_("办件类型"), max_length=10, blank=True)
    limit_days = models.PositiveIntegerField(_("承诺时限（工作日）"), null=True, blank=True)
    green_channel = models.BooleanField(_("绿色通道"), default=False)
    paused_since = models.DateField(_("暂停计时起"), null=True, blank=True)
    paused_days = models.PositiveIntegerField(_("暂停工作日数"), default=0)
    extension_days = models.PositiveIntegerField(_("延长工作日数"), default=0)
    extension_reason = models.CharField(_("延期理由"), max_length=300, blank=True)
    due_date = models.DateField(_("办结期限"), null=True, blank=True)
    due_provisional = models.BooleanField(_("期限为暂定"), default=False)
    colour = models.CharField(
        _("时限状态"), max_length=10, choices=Colour.choices, default=Colour.NONE, blank=True
    )
    tolerated_pending = models.BooleanField(_("容缺材料待补"), default=False)
    supplement_due = models.DateField(_("补正期限"), null=True, blank=True)

    # outcome
    decision = models.CharField(_("审批决定"), max_length=20, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("决定人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    licence_number = models.CharField(_("证照编号"), max_length=60, blank=True)
    issued_at = models.DateTimeField(_("出证时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # clerk lists: a center's cases by status, newest first
            models.Index(fields=["center", "status", "-created_at"], name="case_center_status"),
            # department lists of every status, newest first
            models.Index(fields=["department", "-created_at"], name="case_department_created"),
            # reviewer worklist: a department's open cases by due date (small: open cases only)
            models.Index(
                fields=["department", "due_date", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="case_department_open_due",
            ),
            # a reviewer's own open cases by due date (GET /worklist?view=mine)
            models.Index(
                fields=["assignee", "due_date", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="case_assignee_open_due",
            ),
            # overdue and due-soon lists anywhere: open cases by due date
            models.Index(
                fields=["due_date", "id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="case_open_due",
            ),
            models.Index(fields=["applicant", "-created_at"], name="case_applicant"),
            models.Index(fields=["region", "status"], name="case_region_status"),
            models.Index(fields=["created_at"], name="case_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(paused_since__isnull=True) | Q(accepted_on__isnull=False),
                name="case_pause_needs_acceptance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_status_display(self) -> str:
        """The status's label in the active language. Django's generated version rebuilds a
        dict of every choice (translating each label) on each call; lists and batch intake call
        this once per case, so the label is looked up directly."""
        try:
            return str(Status(self.status).label)
        except ValueError:
            return self.status

    @property
    def online(self) -> bool:
        return self.channel in ONLINE_CHANNELS


class CaseEvent(models.Model):
    """One step in a case's life: a transition of the lifecycle table or an in-place action
    (claim, extension, a material received). Append-only; the audit chain holds a copy."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", db_index=False
    )  # indexed by (case, at)
    action = models.CharField(_("操作"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    code = models.PositiveSmallIntegerField(_("省级状态代码"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    role = models.CharField(_("角色"), max_length=20, blank=True)
    center = models.ForeignKey(
        "org.ServiceCenter",
        verbose_name=_("办理地点"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    at = models.DateTimeField(_("时间"))
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("办件过程")
        verbose_name_plural = _("办件过程")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"


def material_upload_to(instance: CaseMaterial, filename: str) -> str:
    # The stored name is ours (random); the applicant's name is kept in original_name.
    return f"cases/{instance.case.created_at:%Y/%m}/{instance.case.number}/{filename}"


class CaseMaterial(models.Model):
    """One material of a case: a file, an electronic licence reused, or a paper original the
    clerk checked at the window. ``material`` is the item version's checklist entry (None for
    an extra file)."""

    class Source(models.TextChoices):
        UPLOAD = "upload", _("上传")
        LICENCE = "licence", _("电子证照复用")
        PAPER = "paper", _("纸质材料已核验")

    class Scan(models.TextChoices):
        PENDING = "pending", _("待查毒")
        CLEAN = "clean", _("安全")
        INFECTED = "infected", _("发现病毒")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    material = models.ForeignKey(
        "catalog.Material",
        verbose_name=_("材料清单项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    name = models.CharField(_("材料名称"), max_length=200)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    file = models.FileField(_("文件"), upload_to=material_upload_to, blank=True, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    scan = models.CharField(_("查毒结果"), max_length=10, choices=Scan.choices, default=Scan.CLEAN)
    licence = models.ForeignKey(
        "registry.Licence",
        verbose_name=_("电子证照"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    supplement = models.BooleanField(_("补正材料"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # set by services from their clock (services.now), so "new since the supplement request"
    # compares times from one clock
    uploaded_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    removed_at = models.DateTimeField(_("删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        ordering = ["case", "material__order", "pk"]

    def __str__(self) -> str:
        return self.name


class CaseNotice(models.Model):
    """A written notice issued on a case (受理通知书, 一次性告知书, 不予受理决定书, 补正告知书,
    特别程序告知书, 准予/不予许可决定书). ``items`` holds what it lists (e.g. the missing
    materials); the PDF is rendered from the row, so a reprint shows the same text."""

    class Kind(models.TextChoices):
        ACCEPTANCE = "acceptance", _("受理通知书")
        ONE_TIME = "one_time", _("一次性告知书")
        REFUSAL = "refusal", _("不予受理决定书")
        SUPPLEMENT = "supplement", _("补正材料通知书")
        SPECIAL = "special", _("特别程序告知书")
        DECISION = "decision", _("行政许可决定书")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("文书类型"), max_length=12, choices=Kind.choices)
    number = models.CharField(_("文书编号"), max_length=60, unique=True)
    items = models.JSONField(_("告知事项"), default=list, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("出具人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    issued_in_name_of = models.CharField(_("出具机关"), max_length=200)
    issued_at = models.DateTimeField(_("出具时间"))

    class Meta:
        verbose_name = _("办件文书")
        verbose_name_plural = _("办件文书")
        ordering = ["case", "issued_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"
