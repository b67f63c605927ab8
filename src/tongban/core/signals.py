"""Receivers of the shared kernel: every login, failed login and logout goes to the audit chain;
holiday-table edits invalidate the working-day calendar's caches."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import audit, workdays
from .models import CalendarDay, CalendarYear


@receiver(user_logged_in)
def _audit_login(sender, request, user, **kwargs):
    audit.record("auth.login", actor=user, target=user, request=request, data={"channel": "web"})


@receiver(user_logged_out)
def _audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record("auth.logout", actor=user, target=user, request=request)


@receiver(user_login_failed)
def _audit_login_failed(sender, credentials, request=None, **kwargs):
    identifier = str(credentials.get("username", ""))[:150]
    audit.record(
        "auth.login_failed",
        actor_label=audit.mask_identifier(identifier),
        request=request,
        data={"identifier": audit.mask_identifier(identifier)},
    )


# The working-day calendar: any change to the holiday table drops the cached year tables here and
# bumps the shared version so other processes reload them (see tongban.core.workdays).
for _model in (CalendarDay, CalendarYear):
    for _signal, _kind in ((post_save, "save"), (post_delete, "delete")):
        _signal.connect(
            workdays.on_calendar_change,
            sender=_model,
            dispatch_uid=f"workdays.{_kind}.{_model.__name__}",
        )
