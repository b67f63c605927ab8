"""The Celery application: background tasks and the periodic schedule (Celery beat).

Configuration comes from Django's settings, names prefixed ``CELERY_`` (settings.py, block
"Background tasks"): the broker is Redis (``REDIS_URL``, or ``CELERY_BROKER_URL``) in production;
without Redis — the embedded default — ``CELERY_TASK_ALWAYS_EAGER`` runs every ``.delay()``
in-process, so nothing waits for a worker.

Production runs a worker and beat beside the web processes::

    celery -A tongban.config worker --loglevel=INFO
    celery -A tongban.config beat --loglevel=INFO

``CELERY_BEAT_SCHEDULE`` lists the periodic jobs: the case clocks every 15 minutes
(``tongban.cases.tasks.refresh_clocks``; the same job is ``manage.py case_clocks``) and the
webhook deliveries every minute (``tongban.notify.deliver_webhooks``; ``manage.py
deliver_webhooks``). Without beat, run those commands from cron.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.config.settings")

app = Celery("tongban")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
