"""Receivers of the shared kernel: every login, failed login and logout goes to the audit chain."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import audit


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
