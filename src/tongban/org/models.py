"""Organization: regions, service centers, windows, departments and staff assignments."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .roles import Role, ScopeKind


class Region(models.Model):
    """An administrative division (行政区划): city → street / town / functional area →
    village / community. ``path`` holds the codes from the root (``441900/441900113/``) so
    that a region subtree is one prefix query."""

    class Level(models.TextChoices):
        CITY = "city", _("市")
        STREET = "street", _("街道")
        TOWN = "town", _("镇")
        FUNCTIONAL_AREA = "functional_area", _("功能区")
        VILLAGE = "village", _("村")
        COMMUNITY = "community", _("社区")

    code = models.CharField(_("区划代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=20, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    functional_area = models.ForeignKey(
        "self",
        verbose_name=_("所属功能区"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member_regions",
        limit_choices_to={"level": "functional_area"},
    )
    path = models.CharField(_("路径"), max_length=255, db_index=True, editable=False)
    official_code = models.BooleanField(
        _("统计用区划代码"),
        default=True,
        help_text=_("否：平台自编代码（如功能区、片区）。"),
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.path = (self.parent.path if self.parent_id else "") + f"{self.code}/"
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("上级区划不能是自身。")})
        if self.functional_area_id and self.functional_area.level != self.Level.FUNCTIONAL_AREA:
            raise ValidationError({"functional_area": _("所属功能区必须是功能区层级的区划。")})


WEEKDAYS = ("1", "2", "3", "4", "5", "6", "7")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def validate_opening_hours(value) -> None:
    """``{"1": [["09:00", "12:00"], ["13:30", "17:30"]], ..., "7": []}`` (ISO weekdays)."""
    if not isinstance(value, dict) or set(value) - set(WEEKDAYS):
        raise ValidationError(_("办公时间须按星期一（1）至星期日（7）填写。"))
    for periods in value.values():
        if not isinstance(periods, list):
            raise ValidationError(_("每天的办公时间须为时段列表。"))
        last_close = ""
        for period in periods:
            if (
                not isinstance(period, list | tuple)
                or len(period) != 2
                or not all(isinstance(t, str) and _HHMM.match(t) for t in period)
            ):
                raise ValidationError(_('办公时段须写作 ["09:00", "12:00"]。'))
            opens, closes = period
            if opens >= closes or opens < last_close:
                raise ValidationError(_("办公时段须先开后关，且按时间顺序互不重叠。"))
            last_close = closes


class ServiceCenter(models.Model):
    """A government service center (政务服务中心) or village/community service point
    (党群服务中心)."""

    class Level(models.TextChoices):
        CITY = "city", _("市级")
        TOWN = "town", _("镇街级")
        VILLAGE = "village", _("村（社区）级")

    code = models.CharField(_("中心编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, db_index=True)
    region = models.ForeignKey(
        Region, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="centers"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=30, blank=True)
    opening_hours = models.JSONField(
        _("办公时间"), default=dict, blank=True, validators=[validate_opening_hours]
    )
    has_self_service_area = models.BooleanField(_("设有24小时自助服务区"), default=False)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务中心")
        verbose_name_plural = _("服务中心")
        ordering = ["level", "code"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A government department (部门) at city or town level."""

    class Level(models.TextChoices):
        CITY = "city", _("市级")
        TOWN = "town", _("镇街级")

    code = models.CharField(_("部门编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, db_index=True)
    region = models.ForeignKey(
        Region, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="departments"
    )

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["level", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Window(models.Model):
    """A service window (窗口) in a center."""

    class Kind(models.TextChoices):
        COMPREHENSIVE = "comprehensive", _("综合窗口")
        DEPARTMENT = "department", _("专业窗口")
        AGENCY = "agency", _("帮代办窗口")
        ENQUIRY = "enquiry", _("咨询窗口")

    center = models.ForeignKey(
        ServiceCenter, verbose_name=_("服务中心"), on_delete=models.CASCADE, related_name="windows"
    )
    number = models.CharField(_("窗口号"), max_length=10)
    kind = models.CharField(_("窗口类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("进驻部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="windows",
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        ordering = ["center", "number"]
        constraints = [
            models.UniqueConstraint(fields=["center", "number"], name="window_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.center.name} {self.number}"


class StaffAssignment(models.Model):
    """One role of a staff member with its data scope (数据范围): exactly one of a region
    subtree, a center or a department. Which scope kinds a role may have is in roles.py."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账户"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    role = models.CharField(
        _("角色"), max_length=20, choices=[(r.value, r.label) for r in Role if r.is_staff]
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划范围"), null=True, blank=True, on_delete=models.PROTECT
    )
    center = models.ForeignKey(
        ServiceCenter,
        verbose_name=_("服务中心"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("岗位与数据范围")
        verbose_name_plural = _("岗位与数据范围")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(region__isnull=False, center__isnull=True, department__isnull=True)
                    | Q(region__isnull=True, center__isnull=False, department__isnull=True)
                    | Q(region__isnull=True, center__isnull=True, department__isnull=False)
                ),
                name="assignment_exactly_one_scope",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region", "center", "department"],
                name="assignment_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.scope_label}"

    @property
    def scope_kind(self) -> ScopeKind:
        if self.center_id:
            return ScopeKind.CENTER
        if self.department_id:
            return ScopeKind.DEPARTMENT
        return ScopeKind.REGION

    @property
    def scope_label(self) -> str:
        return str(self.center or self.department or self.region)

    def clean(self) -> None:
        role = Role(self.role)
        scopes = [x for x in (self.region_id, self.center_id, self.department_id) if x]
        if len(scopes) != 1:
            raise ValidationError(_("每个岗位须且只须指定一个数据范围：区划、服务中心或部门。"))
        if self.scope_kind not in role.scope_kinds:
            raise ValidationError(
                _("角色“%(role)s”的数据范围不能是%(kind)s。")
                % {"role": role.label, "kind": self.scope_kind.label}
            )
