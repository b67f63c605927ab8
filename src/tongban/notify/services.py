"""Sending notifications: one row per message (the outbox), SMS handed to the configured sender.

Messages never carry ID numbers; SMS goes to the case's contact mobile; the inbox to the
applicant's account. Staff alerts (clock turning yellow / red) go to the case's assignee, or,
when nobody has claimed it, to the department's reviewers.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from tongban.core.masking import mask_mobile
from tongban.org.roles import Role

from .models import Notification

log = logging.getLogger("tongban.notify")


def log_sender(notification: Notification) -> bool:
    """The default SMS sender: there is no gateway here, so log a masked line."""
    log.info("SMS to %s: %s", mask_mobile(notification.mobile), notification.subject)
    return True


def _send_sms(notification: Notification) -> None:
    sender = import_string(
        getattr(settings, "NOTIFY_SMS_SENDER", "tongban.notify.services.log_sender")
    )
    try:
        ok = sender(notification)
    except Exception:
        log.exception("SMS sender failed")
        ok = False
    notification.status = Notification.Status.SENT if ok else Notification.Status.FAILED
    notification.sent_at = timezone.now() if ok else None
    notification.save(update_fields=["status", "sent_at"])


def send(*, kind: str, subject: str, body: str, user=None, mobile: str = "", case=None) -> None:
    if user is not None:
        Notification.objects.create(
            channel=Notification.Channel.INBOX,
            user=user,
            subject=subject[:200],
            body=body,
            kind=kind,
            case=case,
            status=Notification.Status.SENT,
            sent_at=timezone.now(),
        )
    if mobile:
        sms = Notification.objects.create(
            channel=Notification.Channel.SMS,
            mobile=mobile,
            subject=subject[:200],
            body=body,
            kind=kind,
            case=case,
        )
        _send_sms(sms)


def _case_status_text(case, label: str, note: str = "") -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("您的办件%(number)s：%(step)s") % {"number": case.number, "step": str(label)}
        body = _("事项：%(title)s。当前状态：%(status)s。") % {
            "title": case.title,
            "status": case.get_status_display(),
        }
        if note:
            body += _("说明：%(note)s") % {"note": note[:300]}
    return subject, body


def case_status_changed(case, label: str, note: str = "") -> None:
    """Messages are written in the platform's language (Chinese), whatever the language of the
    staff member whose step sent them. Tell the applicant that their case moved (inbox and SMS)."""
    subject, body = _case_status_text(case, label, note)
    send(
        kind="case_status",
        subject=subject,
        body=body,
        user=case.applicant.user,
        mobile=case.contact_mobile,
        case=case,
    )


def cases_status_changed(cases, label: str) -> None:
    """``case_status_changed`` for many cases at once (a batch intake): the same messages,
    written with one insert; the SMS handed to the sender once the transaction commits."""
    now = timezone.now()
    inbox, sms = [], []
    for case in cases:
        subject, body = _case_status_text(case, label)
        common = {"subject": subject[:200], "body": body, "kind": "case_status", "case": case}
        if case.applicant.user_id is not None:
            inbox.append(
                Notification(
                    channel=Notification.Channel.INBOX,
                    user_id=case.applicant.user_id,
                    status=Notification.Status.SENT,
                    sent_at=now,
                    **common,
                )
            )
        if case.contact_mobile:
            sms.append(
                Notification(channel=Notification.Channel.SMS, mobile=case.contact_mobile, **common)
            )
    Notification.objects.bulk_create(inbox + sms, batch_size=500)
    if sms:
        transaction.on_commit(lambda: _send_many(sms))


def _send_many(sms: list[Notification]) -> None:
    """Hand SMS rows to the sender once the intake is committed; record the outcomes with
    one update per outcome."""
    sender = import_string(
        getattr(settings, "NOTIFY_SMS_SENDER", "tongban.notify.services.log_sender")
    )
    sent, failed = [], []
    for notification in sms:
        try:
            ok = sender(notification)
        except Exception:
            log.exception("SMS sender failed")
            ok = False
        (sent if ok else failed).append(notification.pk)
    Notification.objects.filter(pk__in=sent).update(
        status=Notification.Status.SENT, sent_at=timezone.now()
    )
    Notification.objects.filter(pk__in=failed).update(status=Notification.Status.FAILED)


def case_clock_alert(case, colour: str) -> None:
    """Tell the people responsible that a case is about to be or is overdue."""
    cases_clock_alert([(case, colour)])


def cases_clock_alert(alerts) -> None:
    """``case_clock_alert`` for many ``(case, colour)`` pairs at once (a batch intake, the
    clock job): the assignee of each case, or else every active reviewer of its department,
    gets an inbox message — the reviewers of all the departments read with one query and the
    messages written with one insert."""
    from tongban.org.models import StaffAssignment

    alerts = list(alerts)
    unassigned = {case.department_id for case, _colour in alerts if not case.assignee_id}
    reviewers: dict[int, list[int]] = {}
    if unassigned:
        for department_id, user_id in StaffAssignment.objects.filter(
            department_id__in=unassigned, role=Role.REVIEWER.value, active=True
        ).values_list("department_id", "user_id"):
            reviewers.setdefault(department_id, []).append(user_id)
    now = timezone.now()
    rows = []
    with translation.override(settings.LANGUAGE_CODE):
        for case, colour in alerts:
            if colour == "red":
                subject = _("办件%(number)s已超期") % {"number": case.number}
            else:
                subject = _("办件%(number)s即将到期") % {"number": case.number}
            body = _("事项：%(title)s，办结期限：%(due)s。") % {
                "title": case.title,
                "due": case.due_date,
            }
            recipients = (
                [case.assignee_id] if case.assignee_id else reviewers.get(case.department_id, [])
            )
            rows.extend(
                Notification(
                    channel=Notification.Channel.INBOX,
                    user_id=user_id,
                    subject=subject[:200],
                    body=body,
                    kind=f"case_{colour}",
                    case=case,
                    status=Notification.Status.SENT,
                    sent_at=now,
                )
                for user_id in recipients
            )
    Notification.objects.bulk_create(rows, batch_size=500)


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


MAX_ID = 2**63 - 1  # the largest database id (bigint); beyond it a query overflows


def valid_id(value) -> int | None:
    """``value`` as a message id (1 ≤ id ≤ 2**63 − 1), or None when it cannot be one."""
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None


def mark_read(user, ids=None) -> int:
    """Mark the user's inbox messages as read (``ids``: some of them; None: all). Returns how
    many changed; another user's messages are never touched, and ids that cannot be messages
    (not numbers, out of range) are ignored — they never mean "all"."""
    qs = Notification.objects.filter(
        user=user, channel=Notification.Channel.INBOX, read_at__isnull=True
    )
    if ids is not None:
        wanted = {n for n in (valid_id(i) for i in ids) if n is not None}
        if not wanted:
            return 0
        qs = qs.filter(pk__in=sorted(wanted))
    return qs.update(read_at=timezone.now())
