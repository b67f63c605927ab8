"""``manage.py verify_audit``: walk the hash-chained audit log and report the first broken link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tongban.core import audit


class Command(BaseCommand):
    help = "Verify the hash-chained audit log; exit non-zero at the first broken link."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Events fetched from the database per batch (default 5000).",
        )

    def handle(self, *args, **options):
        report = audit.verify(batch_size=options["batch_size"])
        if not report.ok:
            raise CommandError(
                f"audit chain broken at seq {report.broken_seq}: {report.reason} "
                f"({report.checked} events verified before it)"
            )
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {report.checked} events"))
