"""Connect a department system: its scoped API token and, with --url, a webhook subscription.
The token and the signing secret are printed once and stored only as a digest / for signing."""

from django.core.management.base import BaseCommand, CommandError

from tongban.notify.systems import connect
from tongban.org.models import Department


class Command(BaseCommand):
    help = "Create a department system account with a department-scoped API token (+ webhook)."

    def add_arguments(self, parser):
        parser.add_argument("--department", required=True, help="department code, e.g. D-SCJG")
        parser.add_argument("--name", required=True, help="the system's name")
        parser.add_argument("--url", default="", help="webhook URL (optional)")
        parser.add_argument("--events", default="", help="comma-separated actions; empty: all")

    def handle(self, *args, department, name, url, events, **options):
        dept = Department.objects.filter(code=department).first()
        if dept is None:
            raise CommandError(f"no department with code {department!r}")
        result = connect(
            dept, name=name, url=url, events=[e.strip() for e in events.split(",") if e.strip()]
        )
        self.stdout.write(f"account: {result.user.get_username()}")
        self.stdout.write(f"API token (shown once): {result.token}")
        if result.subscription is not None:
            self.stdout.write(f"webhook secret (shown once): {result.subscription.secret}")
