"""The printable service guide (办事指南 PDF), drawn from the same ``Guide`` the page shows
(``tongban.catalog.views.build_guide``) with ``tongban.core.pdf.render_pdf``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.pdf import Block, render_pdf

from .models import Material

if TYPE_CHECKING:
    from .views import Guide


def _date_label(day) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def guide_blocks(guide: Guide) -> list[Block]:
    from .views import days_label, role_label

    v = guide.version
    blocks: list[Block] = [("h2", _("办理须知")), ("kv", guide.summary())]

    blocks += [("h2", _("受理条件")), ("p", v.conditions or _("无特别条件。"))]

    blocks.append(("h2", _("申请材料")))
    if guide.materials:
        rows = []
        for i, m in enumerate(guide.materials, start=1):
            source = m.get_source_display()
            if m.source == Material.Source.GOVERNMENT:
                source += _("（可复用电子证照：%(l)s）") % {"l": m.licence_type or _("电子证照")}
            name = m.name
            extras = []
            if m.blank_form:
                extras.append(_("有空白表格"))
            if m.sample:
                extras.append(_("有示例样表"))
            if extras:
                name += "（" + "、".join(extras) + "）"
            rows.append(
                [
                    str(i),
                    name,
                    m.get_necessity_display(),
                    m.get_kind_display(),
                    m.get_form_display(),
                    str(m.copies),
                    source,
                ]
            )
        blocks.append(
            (
                "table",
                [_("序号"), _("材料名称"), _("必要性"), _("类型"), _("形式"), _("份数"), _("来源")],
                rows,
                (7, 29, 16, 11, 14, 7, 26),
            )
        )
        if any(m.necessity == Material.Necessity.TOLERATED for m in guide.materials):
            blocks.append(("note", _("“容缺”材料可先受理、后补交，补交期限以窗口一次性告知为准。")))
        if any(m.blank_form or m.sample for m in guide.materials):
            blocks.append(("note", _("空白表格和示例样表可在网上办事指南页面下载。")))
    else:
        blocks.append(("p", _("无需提交申请材料。")))

    blocks.append(("h2", _("办理流程")))
    if guide.steps:
        rows = [
            [
                str(i),
                s.get_kind_display(),
                s.name,
                role_label(s.role),
                s.office,
                days_label(s.days) if s.days else _("当场"),
            ]
            for i, s in enumerate(guide.steps, start=1)
        ]
        blocks.append(
            (
                "table",
                [_("序号"), _("环节"), _("环节名称"), _("办理人岗位"), _("办理处室"), _("时限")],
                rows,
                (7, 14, 25, 20, 20, 14),
            )
        )
    if v.special_procedures:
        blocks += [("h3", _("特别程序")), ("p", v.special_procedures)]

    blocks += [("h2", _("办理时限")), ("kv", guide.limits())]

    blocks.append(("h2", _("收费标准")))
    if v.charges_fee:
        fees = [(_("收费项目及标准"), v.fee_items or "—"), (_("收费依据"), v.fee_basis or "—")]
        if v.fee_reduction:
            fees.append((_("减免政策"), v.fee_reduction))
        fees.append((_("网上支付"), _("支持") if v.online_payment else _("不支持")))
        blocks.append(("kv", fees))
    else:
        blocks.append(("p", _("不收费。")))

    blocks.append(("h2", _("办理地点")))
    blocks.append(("p", _("受理范围：") + guide.scope_label))
    if guide.centers:
        rows = [
            [
                c.center.name,
                c.center.get_level_display(),
                c.center.address or "—",
                "\n".join(c.hours) or _("未登记"),
                c.center.phone or "—",
            ]
            for c in guide.centers
        ]
        blocks.append(
            (
                "table",
                [_("服务中心"), _("层级"), _("地址"), _("办公时间"), _("电话")],
                rows,
                (26, 10, 23, 29, 12),
            )
        )
    if guide.village_count:
        blocks.append(
            (
                "p",
                _("另有 %(n)d 个村（社区）党群服务中心可办理，可在平台“服务网点”中查询。")
                % {"n": guide.village_count},
            )
        )
    if not guide.centers and not guide.village_count:
        blocks.append(("p", _("暂无可受理的服务中心，请先电话咨询。")))

    if guide.sub_items:
        blocks.append(("h2", _("业务办理项")))
        blocks.append(
            (
                "table",
                [_("实施编码"), _("办理项"), _("类型")],
                [
                    [s.code, s.published_version.name, s.get_business_kind_display() or "—"]
                    for s in guide.sub_items
                ],
                (34, 50, 16),
            )
        )

    if guide.faqs:
        blocks.append(("h2", _("常见问题")))
        for f in guide.faqs:
            blocks += [("h3", _("问：") + f.question), ("p", _("答：") + f.answer)]

    blocks += [("h2", _("基本信息")), ("kv", guide.basics())]
    if guide.themes or guide.life_events:
        blocks.append(("note", _("主题：") + "、".join(guide.themes + guide.life_events)))
    if v.basis:
        blocks += [("h3", _("设定依据")), ("p", v.basis)]

    help_rows = [
        (label, value)
        for label, value in (
            (_("咨询方式"), v.consultation),
            (_("投诉方式"), v.complaint),
            (_("行政复议或行政诉讼"), v.remedies),
        )
        if value
    ]
    if help_rows:
        blocks += [("h2", _("咨询与投诉")), ("kv", help_rows)]

    published = timezone.localdate(v.published_at) if v.published_at else None
    note = _("本指南依据第 %(n)d 版实施清单生成") % {"n": v.number}
    if published:
        note += _("（%(d)s 发布）") % {"d": _date_label(published)}
    note += _("；办理地点按 %(d)s 的受理范围列出。") % {"d": _date_label(guide.on_date)}
    blocks.append(("note", note))
    return blocks


def render_guide_pdf(guide: Guide, *, url: str | None = None) -> bytes:
    """The guide as an A4 PDF; ``url`` (the online guide) goes into a QR code."""
    v = guide.version
    subtitle = " · ".join(
        x
        for x in (
            _("实施编码 %(c)s") % {"c": guide.item.code},
            guide.item.department.name,
            _("第 %(n)d 版") % {"n": v.number},
        )
        if x
    )
    return render_pdf(
        _("%(name)s 办事指南") % {"name": v.name},
        guide_blocks(guide),
        qr_url=url,
        subtitle=subtitle,
    )
