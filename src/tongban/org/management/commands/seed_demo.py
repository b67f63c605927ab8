"""``manage.py seed_demo --profile dongguan``: build the demo world, or bring it up to date.

Safe to run again: rows are matched on their natural keys and a second run changes nothing.
The builder lives in :mod:`tongban.org.demo` so that tests and this command share it.
"""

from __future__ import annotations

import time
import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tongban.cases import demo as cases_demo
from tongban.catalog import demo as catalog_demo
from tongban.org import demo


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return [line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in rows)]


class Command(BaseCommand):
    help = (
        "Build the demo world (regions, centers, windows, departments, staff, applicants), its "
        "service catalog and a year of cases."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--profile",
            required=True,
            help=f"Demo world to build; available: {', '.join(demo.PROFILES)}.",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print nothing unless something goes wrong."
        )
        parser.add_argument(
            "--cases",
            type=int,
            default=getattr(settings, "DEMO_CASES", cases_demo.DEFAULT_SIZE),
            help=(
                "Random cases of the demo year (plus the showcase cases of the demo accounts); "
                f"default {cases_demo.DEFAULT_SIZE} (setting DEMO_CASES); 0 builds none. Only "
                "the first run builds them."
            ),
        )

    def handle(self, *args, **options):
        profile = options["profile"]
        started = time.perf_counter()
        try:
            result = demo.seed(profile)
        except demo.UnknownProfile:
            raise CommandError(
                f"Unknown demo profile “{profile}”; available: {', '.join(demo.PROFILES)}."
            ) from None
        # The service catalog (tongban.catalog.demo) is built on the organization.
        catalog_started = time.perf_counter()
        catalog = catalog_demo.seed(profile)
        catalog_elapsed = time.perf_counter() - catalog_started
        # A year of cases (tongban.cases.demo) on the catalog.
        cases = None
        if options["cases"] > 0:
            cases = cases_demo.seed(profile, size=options["cases"])
        elapsed = time.perf_counter() - started
        if options["quiet"]:
            return
        out = self.stdout.write
        out(self.style.SUCCESS(f"Demo world “{result.profile}” ready in {elapsed:.1f} s."))
        out("  " + " · ".join(f"{label} {total}" for label, total in result.totals.items()))
        created, updated = sum(result.created.values()), sum(result.updated.values())
        out(f"  this run: {created} rows created, {updated} updated")
        if not result.changed:
            out("  Nothing changed: the demo world was already up to date.")
        out(
            f"  Catalog in {catalog_elapsed:.1f} s: "
            + " · ".join(f"{label} {total}" for label, total in catalog.totals.items())
            + f"; this run {sum(catalog.created.values())} rows created"
        )
        staff = [a for a in result.accounts if not a.applicant]
        applicants = [a for a in result.accounts if a.applicant]
        shown = [a for a in applicants if a.username in ("citizen", "enterprise")]
        rows = [(a.username, a.role, a.scope, result.password) for a in [*staff, *shown]]
        out("")
        out("Demo accounts:")
        for line in _table(("username", "role", "scope", "password"), rows):
            out("  " + line)
        others = [a.username for a in applicants if a not in shown]
        if others:
            out(
                f"  … and {len(others)} more applicants ({others[0]} … {others[-1]}), "
                "same password; applicants can also log in with their ID number, credit code "
                "or mobile."
            )
        if cases is not None:
            self._print_cases(cases)
        base = f"http://{settings.HOST}:{settings.PORT}"
        out("")
        out(f"Site:         {base}/")
        out(f"Django admin: {base}/admin/  (admin / {result.password})")

    def _print_cases(self, cases: cases_demo.CasesSeedResult) -> None:
        out = self.stdout.write
        out("")
        total = sum(cases.statuses.values())
        if cases.skipped:
            out(f"Cases: {total} (already built; this run created none).")
        else:
            out(
                f"Cases in {cases.seconds.get('total', 0):.1f} s: {total} cases · "
                + " · ".join(f"{k} {v}" for k, v in cases.created.items() if k != "cases")
            )
        out(
            f"  online share {cases.online_share:.1%}; "
            f"overdue (red) {cases.colours.get('red', 0)}, yellow {cases.colours.get('yellow', 0)}"
        )
        for number, mobile, status in cases.progress_examples:
            out(f"  Progress query (办件进度查询): case {number}, mobile {mobile} ({status})")
        with_cases = [u for u in ("citizen", "enterprise") if cases.applicants.get(u)]
        for username in with_cases:
            statuses = ", ".join(status for _n, status, _m in cases.applicants[username])
            out(f"  {username} owns {len(cases.applicants[username])} cases: {statuses}")
        others = len(cases.applicants) - len(with_cases)
        if others > 0:
            out(f"  … and {others} more demo applicants own a few cases each.")
        waiting = sorted(cases.waiting.items(), key=lambda kv: (-kv[1], kv[0]))
        if waiting:
            shown = [u for u, _n in waiting if u.startswith(("reviewer_", "approver_"))] + [
                u for u, _n in waiting if u.startswith("clerk_")
            ][:6]
            more = len(waiting) - len(shown)
            out(
                "  Work waiting: "
                + ", ".join(f"{u} {cases.waiting[u]}" for u in shown)
                + (f", and {more} more clerks" if more > 0 else "")
            )
