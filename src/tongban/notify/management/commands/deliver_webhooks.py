"""Send the webhook deliveries that are due (``--loop`` keeps doing it every few seconds)."""

import time

from django.core.management.base import BaseCommand

from tongban.notify.webhooks import deliver_due


class Command(BaseCommand):
    help = "Send due webhook deliveries to department systems (retries with backoff)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, *args, loop=False, interval=5.0, **options):
        while True:
            run = deliver_due()
            if run.attempted or not loop:
                self.stdout.write(
                    f"attempted {run.attempted}, delivered {run.delivered}, failed {run.failed}"
                )
            if not loop:
                return
            time.sleep(interval)
