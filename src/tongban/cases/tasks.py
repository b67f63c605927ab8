"""Celery tasks of cases (scheduled by Celery beat in production; see config/celery.py)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task


@shared_task(name="tongban.cases.tasks.refresh_clocks")
def refresh_clocks(on: str | None = None) -> dict:
    """Move the clock lights of running cases and send the yellow/red alerts (every 15 minutes
    by beat). ``on``: an ISO date to run as of (default: today)."""
    from . import services

    day = dt.date.fromisoformat(on) if on else None
    run = services.refresh_clocks(day)
    return {
        "on": (day or services.today()).isoformat(),
        "checked": run.checked,
        "changed": run.changed,
        "yellow": run.turned_yellow,
        "red": run.turned_red,
    }
