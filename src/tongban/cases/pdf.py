"""The written notices of a case (办件文书) and its result certificate, as A4 PDFs drawn with
``tongban.core.pdf.render_pdf`` (embedded Noto Sans CJK).

Each notice is rendered from its :class:`~tongban.cases.models.CaseNotice` row and from facts of
the case that do not change after the notice was issued (number, applicant, item version,
submission and acceptance dates), plus what the issuing step recorded in its event (the
deadline at acceptance, the supplement due date). So a reprint, later in the case's life, shows
the same text as the first print: nothing is taken from "now" (the footer carries the notice's
own number and date, not the printing date).

* 受理通知书 (acceptance): accepted on, promised limit and due date, 容缺 materials to follow,
  where the result is collected, how to query progress (with a QR code);
* 一次性告知书 (one_time): everything missing or wrong, listed from ``items``;
* 不予受理决定书 (refusal): the reason and the legal remedies;
* 补正材料通知书 (supplement): what to supplement, by when, and that the clock stops;
* 特别程序告知书 (special): which procedure (hearing, testing …) and why; its time is not counted;
* 准予 / 不予行政许可决定书 (decision): the decision, its reasons and the legal remedies;
* the result certificate (证照): licence number, holder, issuer, validity, with a QR code.

Personal data: the notices are addressed to the applicant, so the name is printed in full; a
natural person's resident ID and the contact mobile are masked (a legal person's credit code is
public and printed in full).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.accounts.models import Applicant
from tongban.core.masking import mask_mobile
from tongban.core.pdf import FONT_FAMILY, Block, _Document, render_pdf
from tongban.org.hours import describe

from .models import Case, CaseEvent, CaseNotice, Decision, DeliveryMode

SIGN_OFF_RIGHT = 10.0  # mm between the longest sign-off line and the right margin


def special_label(kind: str) -> str:
    """The name of a 特别程序 kind (services.SPECIAL_KINDS)."""
    labels = {
        "hearing": _("听证"),
        "inspection": _("现场检查"),
        "testing": _("检验、检测、检疫"),
        "appraisal": _("鉴定"),
        "expert_review": _("专家评审"),
        "other": _("其他特别程序"),
    }
    return labels.get(kind, kind)


def date_label(day: dt.date | None) -> str:
    if day is None:
        return "—"
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def _local(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(moment) if moment else None


def _parse_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _issuing_event(notice: CaseNotice, action: str) -> CaseEvent | None:
    """The event written by the step that issued ``notice``: the one naming it, or (events
    written before they named their notice) the first such step at or after its issue."""
    events = notice.case.events.filter(action=action)
    return (
        events.filter(data__notice=notice.number).first()
        or events.filter(at__gte=notice.issued_at).order_by("at", "pk").first()
    )


# --------------------------------------------------------------------------------------------
# Shared pieces


def applicant_rows(applicant: Applicant, *, holder: bool = False) -> list[tuple[str, str]]:
    label = _("持证人") if holder else _("申请人")
    if applicant.kind == Applicant.Kind.LEGAL:
        rows = [(label, applicant.name), (_("统一社会信用代码"), applicant.uscc or "—")]
        if holder and applicant.legal_representative:
            rows.append((_("法定代表人"), applicant.legal_representative))
        return rows
    return [(label, applicant.name), (_("身份证件号码"), applicant.masked_identity or "—")]


def _case_rows(case: Case) -> list[tuple[str, str]]:
    return [
        (_("办件编号"), case.number),
        (_("申请事项"), case.title),
        *applicant_rows(case.applicant),
    ]


def _you(case: Case) -> str:
    return _("你单位") if case.applicant.kind == Applicant.Kind.LEGAL else _("你")


def _addressee(case: Case) -> Block:
    return ("p", _("%(name)s：") % {"name": case.applicant.name})


def _applied(case: Case) -> str:
    """「你单位于2026年11月30日通过网上办事大厅提出的“…”申请」"""
    submitted = _local(case.submitted_at or case.accepted_at or case.created_at)
    return _("%(you)s于%(date)s通过%(channel)s提出的“%(title)s”申请（办件编号：%(number)s）") % {
        "you": _you(case),
        "date": date_label(submitted),
        "channel": case.get_channel_display(),
        "title": case.title,
        "number": case.number,
    }


def _center_line(case: Case) -> str:
    center = case.center
    if center is None:
        return case.department.name
    parts = [center.name]
    if center.address:
        parts.append(_("地址：%(a)s") % {"a": center.address})
    if center.phone:
        parts.append(_("咨询电话：%(p)s") % {"p": center.phone})
    return _("；").join(parts)


def _center_hours(case: Case) -> str:
    if case.center is None:
        return ""
    return _("；").join(describe(case.center.opening_hours or {}))


def sign_off(lines: list[str]) -> Block:
    """The closing 落款 (issuing body, date) set towards the right margin, each line centred
    under the longest, as on a printed notice. ``render_pdf`` aligns paragraphs left, so the
    lines are indented with ideographic and plain spaces measured in the document's font."""
    metrics = _Document("", "")
    metrics.set_font(FONT_FAMILY, size=10.5)
    width = metrics.get_string_width
    usable = metrics.body_width - 2 * metrics.c_margin - 1.0
    longest = max(width(line) for line in lines)
    right_edge = usable - SIGN_OFF_RIGHT
    em, space = width("\u3000"), width(" ")
    padded = []
    for line in lines:
        indent = max(0.0, right_edge - longest + (longest - width(line)) / 2)
        ems = int(indent // em)
        padded.append("\u3000" * ems + " " * int((indent - ems * em) // space) + line)
    return ("p", "\n".join(padded))


def _issuer_blocks(notice: CaseNotice) -> list[Block]:
    return [("p", ""), sign_off([notice.issued_in_name_of, _issued_on(notice)])]


def _issued_on(notice: CaseNotice) -> str:
    return date_label(_local(notice.issued_at))


REVIEW_LIMIT = re.compile(r"(六十|60)\s*日")
LITIGATION_LIMIT = re.compile(r"(六|6)\s*个月")


def remedies_text(case: Case) -> str:
    """The legal remedies (救济途径): the version's ``remedies`` text when filled (with the
    statutory time limits added if it omits them), otherwise the standard wording."""
    limits = _(
        "行政复议应当自知道该行政行为之日起六十日内提出；行政诉讼应当自知道作出行政行为之日起"
        "六个月内提起。"
    )
    custom = (case.version.remedies or "").strip()
    if custom:
        if REVIEW_LIMIT.search(custom) and LITIGATION_LIMIT.search(custom):
            return custom
        return custom.rstrip("。") + _("。") + limits
    return _(
        "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，或者自收到本决定书之日起"
        "六个月内依法向人民法院提起行政诉讼。"
    )


def _remedy_blocks(case: Case) -> list[Block]:
    return [("h2", _("救济途径")), ("p", remedies_text(case))]


def delivery_text(case: Case) -> str:
    mode = case.delivery_mode
    if mode == DeliveryMode.POST:
        address = case.postal_address or _("申请时填写的邮寄地址")
        return _("免费邮寄：办结后审批结果将邮寄至 %(address)s，请保持联系电话畅通。") % {
            "address": address
        }
    if mode == DeliveryMode.ELECTRONIC:
        return _(
            "电子证照：办结后审批结果自动发放至申请人的“我的证照”，可在线查看、下载和复用，无需到场领取。"
        )
    hours = _center_hours(case)
    text = _("窗口领取：%(center)s。") % {"center": _center_line(case)}
    if hours:
        text += _("办公时间：%(h)s。") % {"h": hours}
    return text + _("办结后将短信通知，请携带本通知书和有效身份证件领取。")


def _progress_blocks(case: Case, progress_url: str | None) -> list[Block]:
    mobile = mask_mobile(case.contact_mobile)
    where = progress_url.split("?")[0] if progress_url else _("通办平台")
    text = _(
        "扫描右上角二维码，或访问 %(where)s，在“办件进度查询”中输入办件编号 %(number)s 和"
        "申请时登记的联系手机号码%(mobile)s，即可查询办理进度。"
    ) % {
        "where": where,
        "number": case.number,
        "mobile": _("（%(m)s）") % {"m": mobile} if mobile else "",
    }
    return [("h2", _("进度查询")), ("p", text)]


def _items_table(items: list[str], heading: str) -> Block:
    rows = [[str(i), str(text)] for i, text in enumerate(items, start=1)]
    return ("table", [_("序号"), heading], rows, (8, 92))


# --------------------------------------------------------------------------------------------
# One builder per notice kind


def _acceptance(notice: CaseNotice, progress_url: str | None) -> list[Block]:
    case = notice.case
    event = _issuing_event(notice, "accept")
    data = event.data if event else {}
    due = _parse_date(data.get("due_date")) or case.due_date
    provisional = data.get("due_provisional", False)
    immediate = case.case_kind == "immediate" or case.limit_days == 0
    blocks: list[Block] = [
        _addressee(case),
        (
            "p",
            _("%(applied)s，申请材料齐全、符合法定形式，本机关决定予以受理。现将有关事项告知如下：")
            % {"applied": _applied(case)},
        ),
    ]
    limit = (
        _("即办件，当场办结")
        if immediate
        else _("%(n)d 个工作日（受理当日不计入）") % {"n": case.limit_days or 0}
    )
    due_text = date_label(due)
    if provisional:
        due_text += _("（暂定：该年度节假日安排公布后可能调整）")
    rows = [
        *_case_rows(case),
        (_("受理日期"), date_label(case.accepted_on)),
        (_("承诺办结时限"), limit),
        (_("办结期限"), due_text),
        (_("审批部门"), case.approving_body or case.department.name),
    ]
    blocks.append(("kv", rows))
    blocks.append(
        (
            "note",
            _("补正材料及听证、检验、鉴定等特别程序所需时间不计入办理时限，办结期限相应顺延。"),
        )
    )
    if notice.items:
        blocks += [
            ("h2", _("容缺后补材料")),
            (
                "p",
                _(
                    "以下材料按容缺受理机制先予受理，请在领取审批结果前补交（可在网上办件页面上传，或交至受理窗口）："
                ),
            ),
            ("list", list(notice.items)),
        ]
    blocks += [("h2", _("结果领取")), ("p", delivery_text(case))]
    blocks += _progress_blocks(case, progress_url)
    blocks += _issuer_blocks(notice)
    return blocks


def _one_time(notice: CaseNotice, progress_url: str | None) -> list[Block]:
    case = notice.case
    blocks: list[Block] = [
        _addressee(case),
        (
            "p",
            _(
                "%(applied)s，经审查，申请材料不齐全或者不符合法定形式。根据《中华人民共和国行政许可法》"
                "第三十二条，现一次性告知需要补齐或更正的全部内容如下："
            )
            % {"applied": _applied(case)},
        ),
        _items_table(notice.items, _("需补齐或更正的内容")),
    ]
    if notice.reason:
        blocks += [("h3", _("说明")), ("p", notice.reason)]
    blocks += [
        ("h2", _("补齐方式")),
        (
            "p",
            _(
                "请按上述要求一次性补齐后，在网上办件页面重新提交，或携带材料到受理窗口办理："
                "%(center)s。"
            )
            % {"center": _center_line(case)},
        ),
        ("note", _("补齐后本中心将重新审查；如对告知内容有疑问，请致电受理中心咨询。")),
        ("h2", _("申请信息")),
        ("kv", _case_rows(case)),
    ]
    blocks += _issuer_blocks(notice)
    return blocks


def _refusal(notice: CaseNotice, progress_url: str | None) -> list[Block]:
    case = notice.case
    blocks: list[Block] = [
        _addressee(case),
        (
            "p",
            _("%(applied)s，经审查，本机关决定不予受理。理由如下：") % {"applied": _applied(case)},
        ),
        ("p", notice.reason or "—"),
        ("h2", _("申请信息")),
        ("kv", _case_rows(case)),
    ]
    blocks += _remedy_blocks(case)
    blocks += _issuer_blocks(notice)
    return blocks


def _supplement(notice: CaseNotice, progress_url: str | None) -> list[Block]:
    case = notice.case
    event = _issuing_event(notice, "request_supplement")
    due = _parse_date((event.data if event else {}).get("supplement_due"))
    blocks: list[Block] = [
        _addressee(case),
        (
            "p",
            _("%(applied)s，本机关已于%(date)s受理。经审查，需要补正以下材料或内容：")
            % {"applied": _applied(case), "date": date_label(case.accepted_on)},
        ),
        _items_table(notice.items, _("需补正的材料或内容")),
        ("h2", _("补正要求")),
    ]
    rows = [(_("补正期限"), date_label(due) if due else _("请尽快补正"))]
    rows.append(
        (
            _("提交方式"),
            _("在网上办件页面上传补正材料，或交至受理窗口：%(center)s")
            % {"center": _center_line(case)},
        )
    )
    blocks.append(("kv", rows))
    blocks.append(
        (
            "note",
            _(
                "补正期间暂停计时，不计入办理时限；收到补正材料后恢复计时，办结期限相应顺延。"
                "如不能按期补正，请及时与我们联系。"
            ),
        )
    )
    blocks += [("h2", _("申请信息")), ("kv", _case_rows(case))]
    blocks += _issuer_blocks(notice)
    return blocks


def _special(notice: CaseNotice, progress_url: str | None) -> list[Block]:
    case = notice.case
    kind = special_label(notice.items[0]) if notice.items else _("特别程序")
    blocks: list[Block] = [
        _addressee(case),
        (
            "p",
            _(
                "%(applied)s，本机关已于%(date)s受理。经审查，该申请依法需要进行%(kind)s。根据"
                "《中华人民共和国行政许可法》第四十五条，%(kind)s所需时间不计算在行政许可期限内。"
                "现告知如下："
            )
            % {"applied": _applied(case), "date": date_label(case.accepted_on), "kind": kind},
        ),
        (
            "kv",
            [
                (_("特别程序"), kind),
                (_("事由"), notice.reason or "—"),
                (_("开始日期"), _issued_on(notice)),
            ],
        ),
        (
            "note",
            _("特别程序期间暂停计时；程序结束后恢复计时，办结期限相应顺延，届时将另行告知。"),
        ),
        ("h2", _("申请信息")),
        ("kv", _case_rows(case)),
    ]
    blocks += _issuer_blocks(notice)
    return blocks


def _decision_value(notice: CaseNotice) -> str:
    return notice.items[0] if notice.items else notice.case.decision


def _decision(notice: CaseNotice, progress_url: str | None) -> list[Block]:
    case = notice.case
    decision = _decision_value(notice)
    accepted = _("本机关于%(date)s受理") % {"date": date_label(case.accepted_on)}
    blocks: list[Block] = [_addressee(case)]
    if decision == Decision.DENIED:
        blocks += [
            (
                "p",
                _(
                    "%(applied)s，%(accepted)s。经审查，该申请不符合法定条件、标准，根据"
                    "《中华人民共和国行政许可法》第三十八条第二款，决定不予行政许可。理由如下："
                )
                % {"applied": _applied(case), "accepted": accepted},
            ),
            ("p", notice.reason or "—"),
        ]
    else:
        blocks.append(
            (
                "p",
                _(
                    "%(applied)s，%(accepted)s。经审查，该申请符合法定条件、标准，根据"
                    "《中华人民共和国行政许可法》第三十八条第一款，决定准予行政许可。"
                )
                % {"applied": _applied(case), "accepted": accepted},
            )
        )
        if notice.reason:
            blocks += [("h3", _("审查意见")), ("p", notice.reason)]
        result = case.version.result_name or case.version.result_type or _("行政许可决定")
        blocks += [
            ("h2", _("许可结果")),
            ("kv", [(_("审批结果"), result), (_("送达方式"), case.get_delivery_mode_display())]),
            ("p", delivery_text(case)),
        ]
        if decision == Decision.APPROVED_TOLERATED:
            acceptance = case.notices.filter(kind=CaseNotice.Kind.ACCEPTANCE).first()
            to_follow = list(acceptance.items) if acceptance else []
            blocks += [
                ("h2", _("容缺后补材料")),
                (
                    "p",
                    _(
                        "本决定为容缺准予。请在领取审批结果前补交以下材料；未按承诺补交的，本机关将依法"
                        "处理。"
                    ),
                ),
            ]
            if to_follow:
                blocks.append(("list", to_follow))
    blocks += [("h2", _("申请信息")), ("kv", _case_rows(case))]
    blocks += _remedy_blocks(case)
    blocks += _issuer_blocks(notice)
    return blocks


BUILDERS = {
    CaseNotice.Kind.ACCEPTANCE: _acceptance,
    CaseNotice.Kind.ONE_TIME: _one_time,
    CaseNotice.Kind.REFUSAL: _refusal,
    CaseNotice.Kind.SUPPLEMENT: _supplement,
    CaseNotice.Kind.SPECIAL: _special,
    CaseNotice.Kind.DECISION: _decision,
}


def notice_title(notice: CaseNotice) -> str:
    if notice.kind == CaseNotice.Kind.DECISION:
        if _decision_value(notice) == Decision.DENIED:
            return _("不予行政许可决定书")
        return _("准予行政许可决定书")
    return str(notice.get_kind_display())


def notice_blocks(notice: CaseNotice, *, progress_url: str | None = None) -> list[Block]:
    return BUILDERS[CaseNotice.Kind(notice.kind)](notice, progress_url)


def _footer(number: str, label: str, day: dt.date | None) -> str:
    return _("%(label)s %(number)s · %(date)s") % {
        "label": label,
        "number": number,
        "date": date_label(day),
    }


def render_notice_pdf(notice: CaseNotice, *, progress_url: str | None = None) -> bytes:
    """The notice as an A4 PDF; ``progress_url`` (the public progress query for the case) goes
    into a QR code."""
    subtitle = _("%(issuer)s · 文书编号 %(number)s") % {
        "issuer": notice.issued_in_name_of,
        "number": notice.number,
    }
    return render_pdf(
        notice_title(notice),
        notice_blocks(notice, progress_url=progress_url),
        qr_url=progress_url,
        qr_caption=_("扫码查询办理进度") if progress_url else None,
        subtitle=subtitle,
        footer_note=_footer(notice.number, _("文书编号"), _local(notice.issued_at)),
    )


# --------------------------------------------------------------------------------------------
# The result certificate


def result_blocks(case: Case, *, progress_url: str | None = None) -> list[Block]:
    licence = case.licences.order_by("pk").first()
    issued_on = licence.issued_on if licence else _local(case.issued_at)
    valid_until = licence.valid_until if licence else None
    issuer = (licence.issuer if licence else "") or case.decision_in_name_of
    blocks: list[Block] = []
    if licence is not None and licence.status != licence.Status.VALID:
        blocks.append(
            (
                "h3",
                _("【注意】本证照状态为“%(status)s”，不再具有效力。")
                % {"status": licence.get_status_display()},
            )
        )
    rows = [
        (_("证照名称"), _result_name(case)),
        (_("证照编号"), case.licence_number),
        *applicant_rows(case.applicant, holder=True),
        (_("许可事项"), case.title),
        (_("发证机关"), issuer),
        (_("发证日期"), date_label(issued_on)),
        (_("有效期至"), date_label(valid_until) if valid_until else _("长期")),
        (_("办件编号"), case.number),
    ]
    if case.decision == Decision.APPROVED_TOLERATED:
        rows.append((_("审批方式"), str(Decision.APPROVED_TOLERATED.label)))
    statement = (
        _("经审查，持证人的申请符合法定条件、标准，准予行政许可，特发此证。")
        if case.decision
        else _("特发此证。")
    )
    blocks += [
        ("p", statement),
        ("kv", rows),
        (
            "note",
            _(
                "本证照同时以电子证照形式存入持证人的“我的证照”，与纸质证照具有同等效力，"
                "办理其他事项时可直接复用，无需重复提交。扫描右上角二维码可查询该办件。"
            ),
        ),
        ("p", ""),
        sign_off([issuer, date_label(issued_on)]),
    ]
    return blocks


def _result_name(case: Case) -> str:
    return case.version.result_name or case.version.result_type or _("行政许可证")


def render_result_pdf(case: Case, *, progress_url: str | None = None) -> bytes:
    subtitle = _("%(issuer)s · 证照编号 %(number)s") % {
        "issuer": case.decision_in_name_of or case.department.name,
        "number": case.licence_number,
    }
    return render_pdf(
        _result_name(case),
        result_blocks(case, progress_url=progress_url),
        qr_url=progress_url,
        qr_caption=_("扫码查询办件") if progress_url else None,
        subtitle=subtitle,
        footer_note=_footer(case.licence_number, _("证照编号"), _local(case.issued_at)),
    )
