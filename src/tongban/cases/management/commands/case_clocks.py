"""``manage.py case_clocks [--date YYYY-MM-DD]``: the periodic clock job, by hand or from cron."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from tongban.cases import services


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date must be YYYY-MM-DD, got {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Refresh the clock light (green / yellow / red / paused) of every running case and alert "
        "the assignee, or the department's reviewers when nobody has claimed the case, once when "
        "a case turns yellow or red (services.refresh_clocks). Prints what changed. In production "
        "Celery beat runs the same job every 15 minutes (task tongban.cases.tasks.refresh_clocks, "
        "CASE_CLOCKS_MINUTES; broker CELERY_BROKER_URL, by default REDIS_URL: run `celery -A "
        "tongban.config worker` and `celery -A tongban.config beat`). Without Redis tasks run "
        "in-process (CELERY_TASK_ALWAYS_EAGER): schedule this command with cron instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            default=None,
            help="Compute the lights as of this date (YYYY-MM-DD; default today).",
        )

    def handle(self, *args, date=None, **options):
        on = _date(date) if date else services.today()
        run = services.refresh_clocks(on)
        for number, old, new in run.changes:
            self.stdout.write(f"{number}: {old or '-'} -> {new or '-'}")
        self.stdout.write(
            f"{on.isoformat()}: checked {run.checked}, changed {run.changed} "
            f"(yellow {run.turned_yellow}, red {run.turned_red})"
        )
