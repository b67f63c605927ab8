"""Roles and the data scopes they may hold — the table that permissions, docs and UI read.

A staff member holds one or more :class:`~tongban.org.models.StaffAssignment` rows; each gives a
role and exactly one scope: a region subtree, a center or a department. ``ROLE_RULES`` says, per
role, which scope kinds are allowed and whether the role only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ScopeKind(StrEnum):
    REGION = "region"
    CENTER = "center"
    DEPARTMENT = "department"

    @property
    def label(self) -> Promise:
        return {
            ScopeKind.REGION: _("区划"),
            ScopeKind.CENTER: _("服务中心"),
            ScopeKind.DEPARTMENT: _("部门"),
        }[self]


class Role(StrEnum):
    APPLICANT = "applicant"
    WINDOW_CLERK = "window_clerk"
    REVIEWER = "reviewer"
    APPROVER = "approver"
    CENTER_ADMIN = "center_admin"
    AGENT = "agent"
    CATALOG_ADMIN = "catalog_admin"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"

    @property
    def rule(self) -> RoleRule:
        return ROLE_RULES[self]

    @property
    def label(self) -> Promise:
        return self.rule.label

    @property
    def is_staff(self) -> bool:
        return self is not Role.APPLICANT

    @property
    def scope_kinds(self) -> frozenset[ScopeKind]:
        return self.rule.scope_kinds


@dataclass(frozen=True)
class RoleRule:
    label: Promise
    scope_kinds: frozenset[ScopeKind]
    read_only: bool
    duty: Promise


R, C, D = ScopeKind.REGION, ScopeKind.CENTER, ScopeKind.DEPARTMENT

ROLE_RULES: dict[Role, RoleRule] = {
    Role.APPLICANT: RoleRule(
        _("申请人"), frozenset(), False, _("查找事项、申请、预约、查询进度、领取结果、评价")
    ),
    Role.WINDOW_CLERK: RoleRule(
        _("综合窗口人员"),
        frozenset({C}),
        False,
        _("受理各渠道申请、核验材料、一次性告知、叫号、发放结果"),
    ),
    Role.REVIEWER: RoleRule(_("审核人员"), frozenset({D}), False, _("在后台审核已受理的办件")),
    Role.APPROVER: RoleRule(_("审批人员"), frozenset({D}), False, _("作出审批决定、批准延期")),
    Role.CENTER_ADMIN: RoleRule(
        _("中心管理员"),
        frozenset({C, R}),
        False,
        _("管理窗口、办公时间、预约容量、排队和人员；镇街管理员管理本镇街各服务点"),
    ),
    Role.AGENT: RoleRule(
        _("代办员"), frozenset({C, R}), False, _("为企业和重大项目代办手续，记录服务时长")
    ),
    Role.CATALOG_ADMIN: RoleRule(
        _("事项管理员"),
        frozenset({D, R}),
        False,
        _("维护事项目录、实施清单、权力下放与收回、监管事项"),
    ),
    Role.SUPERVISOR: RoleRule(
        _("督查人员"), frozenset({R}), True, _("查看实时指标、超期预警、评价及整改（只读）")
    ),
    Role.AUDITOR: RoleRule(
        _("审计人员"), frozenset({R}), True, _("查阅审计日志、核验审计链（只读）")
    ),
}

STAFF_ROLES: tuple[Role, ...] = tuple(r for r in Role if r.is_staff)
