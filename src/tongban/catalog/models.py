"""The service catalog: items and their versioned implementation lists (实施清单), materials,
steps and FAQs; where items may be accepted; powers (行政权力) and their delegation ledger;
supervision items (监管事项).

A ServiceItem is the stable identity of an item (codes, department, type, parent for a
sub-item 业务办理项); every element people read lives on an ItemVersion, which moves through
draft → submitted → approved → published → retired (lifecycle.py) and never changes once
published. ``ServiceItem.published_version`` points at the version in force; cases keep the
version they were filed under.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.org.models import Department, Region


class ItemType(models.TextChoices):
    """事项类型: the ten categories of administrative power, plus 公共服务 and 行政备案."""

    LICENSING = "01", _("行政许可")
    PENALTY = "02", _("行政处罚")
    COERCION = "03", _("行政强制")
    LEVY = "04", _("行政征收")
    PAYMENT = "05", _("行政给付")
    INSPECTION = "06", _("行政检查")
    CONFIRMATION = "07", _("行政确认")
    REWARD = "08", _("行政奖励")
    ADJUDICATION = "09", _("行政裁决")
    OTHER_POWER = "10", _("其他行政权力")
    PUBLIC_SERVICE = "20", _("公共服务")
    FILING = "21", _("行政备案")


POWER_CATEGORIES = [c for c in ItemType if int(c.value) <= 10]


class Subject(models.TextChoices):
    NATURAL = "natural", _("自然人")
    LEGAL = "legal", _("法人")
    BOTH = "both", _("自然人、法人")


class BusinessKind(models.TextChoices):
    """业务办理项: how a sub-item differs from its base item."""

    NEW = "new", _("新办")
    CHANGE = "change", _("变更")
    RENEW = "renew", _("延续")
    CANCEL = "cancel", _("注销")
    REISSUE = "reissue", _("补证")
    OTHER = "other", _("其他")


class AcceptanceScope(models.TextChoices):
    """Where an item may be accepted (受理地点范围)."""

    DEPARTMENT_CENTER = "department_center", _("仅在实施部门所在中心受理")
    ANY_TOWN = "any_town", _("任一镇街中心可受理（就近办）")
    CITYWIDE = "citywide", _("全市各中心及村（社区）服务点可受理（全市通办）")


class ServiceItem(models.Model):
    """事项: the stable identity of a service item or of one of its sub-items."""

    class Status(models.TextChoices):
        IN_USE = "in_use", _("在用")
        SUSPENDED = "suspended", _("暂停")
        CANCELLED = "cancelled", _("取消")

    code = models.CharField(_("实施编码"), max_length=40, unique=True)
    base_code = models.CharField(_("基本编码"), max_length=12, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("所属基本事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sub_items",
    )
    business_kind = models.CharField(
        _("业务办理项类型"), max_length=10, choices=BusinessKind.choices, blank=True
    )
    item_type = models.CharField(
        _("事项类型"), max_length=2, choices=ItemType.choices, db_index=True
    )
    department = models.ForeignKey(
        Department, verbose_name=_("实施主体"), on_delete=models.PROTECT, related_name="items"
    )
    power = models.ForeignKey(
        "Power",
        verbose_name=_("对应行政权力"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
    )
    status = models.CharField(
        _("事项状态"), max_length=10, choices=Status.choices, default=Status.IN_USE, db_index=True
    )
    high_frequency = models.BooleanField(_("高频事项"), default=False, db_index=True)
    published_version = models.OneToOneField(
        "ItemVersion",
        verbose_name=_("现行版本"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("事项")
        verbose_name_plural = _("事项")
        ordering = ["code"]

    def __str__(self) -> str:
        version = self.published_version
        return version.name if version else self.code


class ItemVersion(models.Model):
    """One version of an item's implementation list (实施清单). Published versions are frozen."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("已审核")
        PUBLISHED = "published", _("已发布")
        RETIRED = "retired", _("已停用")

    class CaseKind(models.TextChoices):
        IMMEDIATE = "immediate", _("即办件")
        PROMISED = "promised", _("承诺件")

    class PowerSource(models.TextChoices):
        STATUTORY = "1", _("法定本级行使")
        DELEGATED_FROM_ABOVE = "2", _("上级下放")
        AUTHORIZED_FROM_ABOVE = "3", _("上级授权")
        AUTHORIZED_SAME_LEVEL = "4", _("同级授权")
        ENTRUSTED_FROM_ABOVE = "5", _("上级委托")
        ENTRUSTED_SAME_LEVEL = "6", _("同级委托")

    class ImplementerNature(models.TextChoices):
        STATUTORY_ORGAN = "1", _("法定机关")
        AUTHORIZED_ORG = "2", _("授权组织")
        ENTRUSTED_ORG = "3", _("受委托组织")

    class Level(models.TextChoices):
        NATIONAL = "national", _("国家级")
        PROVINCIAL = "provincial", _("省级")
        CITY = "city", _("市级")
        COUNTY = "county", _("县级")
        TOWN = "town", _("镇级")
        TIERED = "tiered", _("分级管理")

    class OnlineDepth(models.IntegerChoices):
        INFORMATION = 1, _("Ⅰ级：网上咨询")
        PRE_REVIEW = 2, _("Ⅱ级：网上预审")
        ONLINE_HANDLING = 3, _("Ⅲ级：网上受理办理，到场一次")
        FULL_ONLINE = 4, _("Ⅳ级：全程网办")

    class TongbanScope(models.TextChoices):
        NATIONAL = "1", _("全国")
        PROVINCE = "2", _("全省")
        CITY = "3", _("全市")
        COUNTY = "4", _("全县")
        TOWN = "5", _("全镇")
        CROSS_VILLAGE = "6", _("跨村（社区）")

    item = models.ForeignKey(
        ServiceItem, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    state = models.CharField(
        _("版本状态"), max_length=10, choices=State.choices, default=State.DRAFT, db_index=True
    )
    # identity and basis
    name = models.CharField(_("事项名称"), max_length=200, db_index=True)
    aliases = models.TextField(_("别名"), blank=True, help_text=_("每行一个，用于搜索"))
    keywords = models.TextField(_("关键词"), blank=True, help_text=_("每行一个，用于搜索"))
    themes = models.JSONField(_("主题分类"), default=list, blank=True)
    life_events = models.JSONField(_("人生事件 / 企业事件"), default=list, blank=True)
    basis = models.TextField(_("设定依据"), blank=True)
    power_source = models.CharField(
        _("权力来源"), max_length=1, choices=PowerSource.choices, default=PowerSource.STATUTORY
    )
    exercise_level = models.CharField(
        _("行使层级"), max_length=10, choices=Level.choices, default=Level.CITY
    )
    implementer_nature = models.CharField(
        _("实施主体性质"),
        max_length=1,
        choices=ImplementerNature.choices,
        default=ImplementerNature.STATUTORY_ORGAN,
    )
    entrusting_department = models.CharField(_("委托部门"), max_length=100, blank=True)
    subject = models.CharField(_("服务对象"), max_length=10, choices=Subject.choices)
    # time
    legal_limit_days = models.PositiveIntegerField(
        _("法定办结时限（工作日）"), null=True, blank=True
    )
    legal_limit_note = models.CharField(_("法定时限说明"), max_length=300, blank=True)
    promised_limit_days = models.PositiveIntegerField(_("承诺办结时限（工作日）"))
    promised_limit_note = models.CharField(_("承诺时限说明"), max_length=300, blank=True)
    case_kind = models.CharField(_("办件类型"), max_length=10, choices=CaseKind.choices)
    green_channel = models.BooleanField(_("绿色通道"), default=False)
    # how
    conditions = models.TextField(_("受理条件"), blank=True)
    special_procedures = models.TextField(_("特别程序"), blank=True)
    handled_at_window = models.BooleanField(_("窗口办理"), default=True)
    handled_online = models.BooleanField(_("是否网办"), default=False)
    handled_by_mail = models.BooleanField(_("邮寄办理"), default=False)
    online_depth = models.PositiveSmallIntegerField(
        _("网上办理深度"), choices=OnlineDepth.choices, default=OnlineDepth.INFORMATION
    )
    max_visits = models.PositiveSmallIntegerField(_("到办事现场次数"), default=1)
    in_hall = models.BooleanField(_("是否进驻大厅"), default=True)
    tongban_scope = models.CharField(
        _("通办范围"), max_length=1, choices=TongbanScope.choices, blank=True
    )
    quantity_limit = models.CharField(_("数量限制"), max_length=200, blank=True)
    result_type = models.CharField(_("审批结果类型"), max_length=50, blank=True)
    result_name = models.CharField(_("审批结果名称"), max_length=200, blank=True)
    result_by_mail = models.BooleanField(_("结果邮寄"), default=False)
    materials_by_mail = models.BooleanField(_("材料邮寄"), default=False)
    self_service_terminal = models.BooleanField(_("自助终端办理"), default=False)
    appointment_supported = models.BooleanField(_("支持预约"), default=False)
    appointment_daily_quota = models.PositiveIntegerField(_("每日预约名额"), null=True, blank=True)
    online_payment = models.BooleanField(_("网上支付"), default=False)
    intermediary_service = models.CharField(_("中介服务"), max_length=300, blank=True)
    # fees
    charges_fee = models.BooleanField(_("是否收费"), default=False)
    fee_items = models.TextField(_("收费项目及标准"), blank=True)
    fee_basis = models.TextField(_("收费依据"), blank=True)
    fee_reduction = models.TextField(_("减免政策"), blank=True)
    # help and remedies
    consultation = models.CharField(_("咨询方式"), max_length=300, blank=True)
    complaint = models.CharField(_("投诉方式"), max_length=300, blank=True)
    remedies = models.CharField(_("行政复议或行政诉讼"), max_length=300, blank=True)
    # workflow
    change_note = models.CharField(_("修订说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("事项版本")
        verbose_name_plural = _("事项版本")
        ordering = ["item", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="version_unique_number"),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(state__in=["draft", "submitted", "approved"]),
                name="version_one_open_per_item",
            ),
            models.CheckConstraint(
                condition=Q(online_depth__gte=1, online_depth__lte=4), name="version_depth_range"
            ),
            models.CheckConstraint(condition=Q(max_visits__lte=2), name="version_visits_range"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def frozen(self) -> bool:
        return self.state in (self.State.PUBLISHED, self.State.RETIRED)

    @property
    def no_meeting(self) -> bool:
        """不见面审批: can be handled with no visit and the result goes out by post."""
        return self.max_visits == 0 and self.result_by_mail


class Material(models.Model):
    """申请材料 of an item version."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("原件")
        COPY = "copy", _("复印件")
        ELECTRONIC = "electronic", _("电子材料")

    class Form(models.TextChoices):
        PAPER = "paper", _("纸质")
        ELECTRONIC = "electronic", _("电子")
        BOTH = "both", _("纸质或电子")

    class Necessity(models.TextChoices):
        REQUIRED = "required", _("必要")
        OPTIONAL = "optional", _("非必要")
        TOLERATED = "tolerated", _("容缺（可后补）")

    class Source(models.TextChoices):
        APPLICANT = "applicant", _("申请人自备")
        GOVERNMENT = "government", _("政府部门核发")

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="materials")
    order = models.PositiveSmallIntegerField(_("序号"), default=1)
    name = models.CharField(_("材料名称"), max_length=200)
    kind = models.CharField(
        _("材料类型"), max_length=12, choices=Kind.choices, default=Kind.ORIGINAL
    )
    form = models.CharField(_("材料形式"), max_length=12, choices=Form.choices, default=Form.BOTH)
    necessity = models.CharField(
        _("必要性"), max_length=10, choices=Necessity.choices, default=Necessity.REQUIRED
    )
    source = models.CharField(
        _("来源渠道"), max_length=12, choices=Source.choices, default=Source.APPLICANT
    )
    licence_type = models.CharField(
        _("可复用的电子证照"), max_length=100, blank=True, help_text=_("政府部门核发时填写证照名称")
    )
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    standard = models.CharField(_("受理标准"), max_length=300, blank=True)
    basis = models.CharField(_("依据"), max_length=300, blank=True)
    blank_form = models.FileField(_("空白表格"), upload_to="catalog/forms/", blank=True)
    sample = models.FileField(_("示例样表"), upload_to="catalog/samples/", blank=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["version", "order"]

    def __str__(self) -> str:
        return self.name


class ProcessStep(models.Model):
    """办理环节 of an item version (a licensing item has 受理, 审核, 审批/决定, 办结, 送达)."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", _("受理")
        REVIEW = "review", _("审核")
        DECIDE = "decide", _("审批/决定")
        CONCLUDE = "conclude", _("办结")
        DELIVER = "deliver", _("送达")
        OTHER = "other", _("其他")

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("序号"), default=1)
    kind = models.CharField(_("环节"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("环节名称"), max_length=100)
    role = models.CharField(_("办理人岗位"), max_length=20)
    office = models.CharField(_("办理处室"), max_length=100, blank=True)
    days = models.PositiveSmallIntegerField(_("时限（工作日）"), default=0)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["version", "order"]

    def __str__(self) -> str:
        return self.name


class Faq(models.Model):
    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="faqs")
    order = models.PositiveSmallIntegerField(_("序号"), default=1)
    question = models.CharField(_("问题"), max_length=300)
    answer = models.TextField(_("解答"))

    class Meta:
        verbose_name = _("常见问题")
        verbose_name_plural = _("常见问题")
        ordering = ["version", "order"]

    def __str__(self) -> str:
        return self.question


class AcceptanceBatch(models.Model):
    """A decision that changes where a set of items may be accepted (e.g. the June 2020 notice
    delegating the acceptance of 40 city items to the town centers)."""

    document_no = models.CharField(_("文号"), max_length=100)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    scope = models.CharField(_("受理范围"), max_length=20, choices=AcceptanceScope.choices)
    effective_from = models.DateField(_("生效日期"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("受理权限调整批次")
        verbose_name_plural = _("受理权限调整批次")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.document_no} {self.title}"


class AcceptanceRule(models.Model):
    """Where ``item`` may be accepted from ``effective_from`` on; the latest rule in effect on a
    date wins. Every item has one rule from its creation."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="acceptance_rules")
    scope = models.CharField(_("受理范围"), max_length=20, choices=AcceptanceScope.choices)
    effective_from = models.DateField(_("生效日期"))
    batch = models.ForeignKey(
        AcceptanceBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="rules"
    )
    document_no = models.CharField(_("文号"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("受理范围")
        verbose_name_plural = _("受理范围")
        ordering = ["item", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "effective_from"], name="acceptance_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.scope} {self.effective_from}"


class Power(models.Model):
    """行政权力 in the power list (权责清单), held by a department at a level."""

    code = models.CharField(_("权力编码"), max_length=40, unique=True)
    name = models.CharField(_("权力名称"), max_length=200, db_index=True)
    category = models.CharField(
        _("权力类别"), max_length=2, choices=[(c.value, c.label) for c in POWER_CATEGORIES]
    )
    department = models.ForeignKey(
        Department, verbose_name=_("行使部门"), on_delete=models.PROTECT, related_name="powers"
    )
    level = models.CharField(
        _("行使层级"), max_length=10, choices=ItemVersion.Level.choices, default="city"
    )
    basis = models.TextField(_("实施依据"), blank=True)
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("行政权力")
        verbose_name_plural = _("行政权力")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class LedgerEntry(models.Model):
    """An entry of a power's delegation ledger: 下放 / 委托 / 授权 to a region's body, or 收回
    ending an earlier one. See ledger.py for "who exercises power P in region R on date D"."""

    class Action(models.TextChoices):
        DELEGATE = "delegate", _("下放")
        ENTRUST = "entrust", _("委托")
        AUTHORIZE = "authorize", _("授权")
        RECOVER = "recover", _("收回")

    power = models.ForeignKey(Power, on_delete=models.PROTECT, related_name="ledger")
    action = models.CharField(_("调整方式"), max_length=10, choices=Action.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("承接区域"),
        on_delete=models.PROTECT,
        related_name="power_entries",
        help_text=_("镇街或功能区：该区域（含下辖区域）由承接主体行使"),
    )
    receiving_body = models.CharField(_("承接主体"), max_length=100, blank=True)
    effective_from = models.DateField(_("生效日期"), db_index=True)
    document_no = models.CharField(_("文号"), max_length=100)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    ends = models.OneToOneField(
        "self",
        verbose_name=_("收回的条目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ended_by",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("权力调整台账")
        verbose_name_plural = _("权力调整台账")
        ordering = ["power", "effective_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action="recover", ends__isnull=False)
                | (~Q(action="recover") & Q(ends__isnull=True)),
                name="ledger_recover_ends_an_entry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.power_id} {self.action} {self.region_id} {self.effective_from}"


class SupervisionItem(models.Model):
    """监管事项 of the unified supervision catalog (互联网+监管)."""

    code = models.CharField(_("监管事项编码"), max_length=40, unique=True)
    name = models.CharField(_("监管事项名称"), max_length=200)
    normalized_name = models.CharField(max_length=200, db_index=True, editable=False)
    department = models.ForeignKey(
        Department,
        verbose_name=_("监管部门"),
        on_delete=models.PROTECT,
        related_name="supervision_items",
    )
    level = models.CharField(
        _("监管层级"), max_length=10, choices=ItemVersion.Level.choices, default="city"
    )
    basis = models.TextField(_("监管依据"), blank=True)
    measures = models.TextField(_("监管措施"), blank=True)
    object = models.CharField(_("监管对象"), max_length=200, blank=True)
    powers = models.ManyToManyField(
        Power, verbose_name=_("关联行政权力"), blank=True, related_name="supervision_items"
    )
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("监管事项")
        verbose_name_plural = _("监管事项")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SearchTerm(models.Model):
    """The search index (search.py): a segmented term of a published item and its weight
    (name terms weigh most, then aliases and everyday phrases, keywords, materials)."""

    term = models.CharField(max_length=50)
    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="search_terms")
    weight = models.FloatField()

    class Meta:
        verbose_name = _("检索词")
        verbose_name_plural = _("检索词")
        constraints = [models.UniqueConstraint(fields=["term", "item"], name="search_term_unique")]
        indexes = [models.Index(fields=["term", "weight"])]

    def __str__(self) -> str:
        return self.term


class ImportJob(models.Model):
    """An import of catalog rows from XLSX or CSV (exchange.py). Every row is checked first;
    nothing is written when any row is wrong. ``processed_rows`` lets the page show progress."""

    class Kind(models.TextChoices):
        ITEMS = "items", _("事项（含材料、环节）")
        POWERS = "powers", _("行政权力及调整台账")
        SUPERVISION = "supervision", _("监管事项")

    class Status(models.TextChoices):
        PENDING = "pending", _("等待处理")
        CHECKING = "checking", _("校验中")
        IMPORTING = "importing", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("有错误，未导入")

    kind = models.CharField(_("导入内容"), max_length=12, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to="catalog/imports/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    summary = models.JSONField(_("结果"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"
