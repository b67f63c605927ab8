"""Generate N realistic load cases (COPY on PostgreSQL): ``seed_load --cases 10000000``."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tongban.cases.load import generate, writer_for_connection
from tongban.catalog.models import ServiceItem


class Command(BaseCommand):
    help = (
        "Generate N load cases with events and material records (bulk COPY on PostgreSQL, "
        "indexes rebuilt at the end). Needs the demo world: run seed_demo first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, required=True)
        parser.add_argument("--batch", type=int, default=20000)
        parser.add_argument("--seed", type=int, default=20261128)
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
        parser.add_argument("--keep-indexes", action="store_true")

    def handle(self, *args, cases, batch, seed, today, keep_indexes, **options):
        if cases < 1:
            raise CommandError("--cases must be at least 1")
        if not ServiceItem.objects.filter(published_version__isnull=False).exists():
            raise CommandError("no published items: run `manage.py seed_demo` first")
        started = time.monotonic()
        result = generate(
            cases,
            writer=writer_for_connection(keep_indexes=keep_indexes, log=self.stdout.write),
            today=today or timezone.localdate(),
            seed=seed,
            batch=batch,
            log=self.stdout.write,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.cases:,} cases, {result.events:,} events, {result.materials:,} "
                f"material records in {time.monotonic() - started:.0f} s"
            )
        )
