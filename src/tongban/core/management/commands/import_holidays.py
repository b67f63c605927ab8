"""``manage.py import_holidays``: load a year's official holiday schedule (节假日安排) into the
working-day calendar.

    manage.py import_holidays 2027.csv --year 2027 --document "国办发明电〔2026〕X号"
    manage.py import_holidays --from-package [--year 2026] [--force]

The CSV (UTF-8, a BOM is fine) has the header ``date,kind,name``: ``date`` as YYYY-MM-DD,
``kind`` ``holiday`` (or 休) for a day off and ``workday`` (or 班) for a make-up working day,
``name`` the festival (optional, at most 50 characters). List every day off of the schedule
(weekend ones may be listed too) and every weekend working day; any other date follows the
Monday-to-Friday rule. Every row is checked first — a valid date, a known kind, all rows in one
year (the ``--year`` one if given), no date twice — and every error is reported with its line;
on any error nothing is imported. Otherwise the year's rows are replaced in one transaction and
the year is marked official (source ``import``), so its dates are no longer provisional.

``--from-package`` re-syncs the years the ``chinesecalendar`` package knows (source ``package``);
years imported or maintained by hand are skipped unless ``--force`` is given.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tongban.core import workdays
from tongban.core.models import CalendarDay, CalendarYear

KINDS = {
    "holiday": CalendarDay.Kind.HOLIDAY,
    "休": CalendarDay.Kind.HOLIDAY,
    "workday": CalendarDay.Kind.WORKDAY,
    "班": CalendarDay.Kind.WORKDAY,
}
HEADER = ["date", "kind", "name"]
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NAME_MAX = CalendarDay._meta.get_field("name").max_length

# The regulation's names for the package's English ones.
PACKAGE_NAMES = {
    "New Year's Day": workdays.NEW_YEAR,
    "Spring Festival": workdays.SPRING_FESTIVAL,
    "Tomb-sweeping Day": workdays.QINGMING,
    "Labour Day": workdays.LABOUR_DAY,
    "Dragon Boat Festival": workdays.DRAGON_BOAT,
    "Mid-autumn Festival": workdays.MID_AUTUMN,
    "National Day": workdays.NATIONAL_DAY,
}


def parse_schedule(
    lines: list[str], year: int | None
) -> tuple[int | None, list[tuple[dt.date, str, str]], list[str]]:
    """Check a CSV schedule; return (year, rows, errors), errors as "line N: ..." strings."""
    errors: list[str] = []
    rows: list[tuple[dt.date, str, str]] = []
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return year, rows, ["line 1: the file is empty; expected the header date,kind,name"]
    header = [cell.strip().lower() for cell in header]
    if header[:2] != HEADER[:2] or header[2:] not in ([], ["name"]):
        return year, rows, [f"line 1: expected the header date,kind,name, got {','.join(header)}"]
    seen: dict[dt.date, int] = {}
    years: dict[int, int] = {}  # year -> first line
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            errors.append(f"line {line}: {len(cells)} columns, expected {len(header)}")
            continue
        cells = [cell.strip() for cell in cells] + [""] * (len(header) - len(cells))
        raw_date, raw_kind = cells[0], cells[1]
        name = cells[2] if len(cells) > 2 else ""
        try:
            if not ISO_DATE.fullmatch(raw_date):
                raise ValueError(raw_date)
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            errors.append(f"line {line}: invalid date {raw_date!r} (expected YYYY-MM-DD)")
            day = None
        kind = KINDS.get(raw_kind.lower())
        if kind is None:
            errors.append(f"line {line}: invalid kind {raw_kind!r} (holiday/休 or workday/班)")
        if len(name) > NAME_MAX:
            errors.append(f"line {line}: name longer than {NAME_MAX} characters")
        if day is None:
            continue
        if year is not None and day.year != year:
            errors.append(f"line {line}: {day} is not in {year}")
        years.setdefault(day.year, line)
        if day in seen:
            errors.append(f"line {line}: {day} already given on line {seen[day]}")
        else:
            seen[day] = line
        if kind is not None:
            rows.append((day, kind, name))
    if year is None and len(years) > 1:
        listed = ", ".join(f"{y} (from line {n})" for y, n in sorted(years.items()))
        errors.append(f"rows span several years: {listed}; a file holds one year")
    if year is None and len(years) == 1:
        year = next(iter(years))
    if not seen and not errors:
        errors.append("no rows: the file lists no dates")
    return year, rows, errors


def package_schedule() -> dict[int, list[tuple[dt.date, str, str]]]:
    """The ``chinesecalendar`` package's schedule, by year."""
    import chinese_calendar

    def name(value: str) -> str:
        if value in PACKAGE_NAMES:
            return PACKAGE_NAMES[value]
        try:
            return chinese_calendar.Holiday(value).chinese[:NAME_MAX]
        except ValueError:
            return str(value)[:NAME_MAX]

    days: dict[dt.date, tuple[str, str]] = {}
    for day, value in chinese_calendar.holidays.items():
        days[day] = (CalendarDay.Kind.HOLIDAY, name(value))
    for day, value in chinese_calendar.workdays.items():
        days[day] = (CalendarDay.Kind.WORKDAY, name(value))
    by_year: dict[int, list[tuple[dt.date, str, str]]] = {}
    for day, (kind, label) in sorted(days.items()):
        by_year.setdefault(day.year, []).append((day, kind, label))
    return by_year


class Command(BaseCommand):
    help = (
        "Import a year's official holiday schedule from a CSV with the header date,kind,name "
        "(kind: holiday/休 or workday/班), replacing that year's rows and marking it official; "
        "or re-sync from the chinesecalendar package with --from-package."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="CSV file with the header date,kind,name")
        parser.add_argument("--year", type=int, help="the year the file must cover")
        parser.add_argument("--document", default="", help="the notice, e.g. 国办发明电〔2025〕7号")
        parser.add_argument(
            "--from-package",
            action="store_true",
            help="re-sync the years the chinesecalendar package knows",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="with --from-package: also overwrite years imported or maintained by hand",
        )

    def handle(self, *args, **options):
        if options["from_package"]:
            if options["path"]:
                raise CommandError("give either a CSV path or --from-package, not both")
            self._from_package(options["year"], options["force"])
            return
        if not options["path"]:
            raise CommandError("give a CSV path (or --from-package)")
        self._from_csv(Path(options["path"]), options["year"], options["document"])

    def _from_csv(self, path: Path, year: int | None, document: str) -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        year, rows, errors = parse_schedule(text.splitlines(), year)
        if errors:
            raise CommandError(
                f"{path}: {len(errors)} error(s), nothing imported:\n" + "\n".join(errors)
            )
        assert year is not None
        for day, kind, _name in rows:
            if kind == CalendarDay.Kind.WORKDAY and day.weekday() < 5:
                self.stderr.write(f"warning: {day} is a weekday; a workday row changes nothing")
        count = workdays.replace_year(
            year, rows, source=CalendarYear.Source.IMPORT, document=document
        )
        holidays = sum(1 for _day, kind, _name in rows if kind == CalendarDay.Kind.HOLIDAY)
        self.stdout.write(
            self.style.SUCCESS(
                f"{year}: imported {count} rows ({holidays} days off, {count - holidays} "
                f"make-up working days); the year is official"
                + (f" ({document})" if document else "")
            )
        )

    def _from_package(self, only_year: int | None, force: bool) -> None:
        schedule = package_schedule()
        if only_year is not None:
            if only_year not in schedule:
                raise CommandError(f"the chinesecalendar package does not know {only_year}")
            schedule = {only_year: schedule[only_year]}
        sources = dict(CalendarYear.objects.values_list("year", "source"))
        synced, skipped = [], []
        for year, rows in sorted(schedule.items()):
            source = sources.get(year)
            if source not in (None, CalendarYear.Source.PACKAGE) and not force:
                skipped.append(year)
                continue
            workdays.replace_year(
                year, rows, source=CalendarYear.Source.PACKAGE, document="chinesecalendar"
            )
            synced.append(year)
        if skipped:
            self.stderr.write(
                "skipped (imported or maintained by hand; --force overwrites): "
                + ", ".join(map(str, skipped))
            )
        self.stdout.write(self.style.SUCCESS(f"synced {len(synced)} year(s) from the package"))
