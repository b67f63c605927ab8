"""Celery tasks of notify (scheduled by Celery beat in production; see config/celery.py)."""

from celery import shared_task


@shared_task(name="tongban.notify.deliver_webhooks")
def deliver_webhooks() -> dict:
    from .webhooks import deliver_due

    run = deliver_due()
    return {"attempted": run.attempted, "delivered": run.delivered, "failed": run.failed}
