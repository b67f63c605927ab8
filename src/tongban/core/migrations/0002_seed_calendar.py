"""Seed the working-day calendar from the ``chinesecalendar`` package (2004–2026 in v1.11).

Every year the package knows becomes ``CalendarYear(official=True, source="package")`` and every
date it lists (holidays, including those on weekends, and make-up working days) a ``CalendarDay``.
Self-contained on purpose: a data migration must not depend on application code that may change.
Reversing removes the package years and their days (years imported or maintained by hand are
left alone).
"""

import datetime

from django.db import migrations

# The regulation's names (全国年节及纪念日放假办法) for the package's English keys.
NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
}


def _package_schedule():
    import chinese_calendar

    def name(value):
        if value in NAMES:
            return NAMES[value]
        try:
            return chinese_calendar.Holiday(value).chinese[:50]
        except ValueError:
            return str(value)[:50]

    days = {}
    for day, value in chinese_calendar.holidays.items():
        days[day] = ("holiday", name(value))
    for day, value in chinese_calendar.workdays.items():
        days[day] = ("workday", name(value))
    years = sorted({day.year for day in days})
    return years, days


def seed(apps, schema_editor):
    CalendarYear = apps.get_model("core", "CalendarYear")
    CalendarDay = apps.get_model("core", "CalendarDay")
    db = schema_editor.connection.alias
    years, days = _package_schedule()
    taken = set(
        CalendarYear.objects.using(db).filter(year__in=years).values_list("year", flat=True)
    )
    todo = [year for year in range(years[0], years[-1] + 1) if year not in taken]
    CalendarYear.objects.using(db).bulk_create(
        [
            CalendarYear(year=year, official=True, source="package", document="chinesecalendar")
            for year in todo
        ]
    )
    CalendarDay.objects.using(db).bulk_create(
        [
            CalendarDay(date=day, kind=kind, name=name)
            for day, (kind, name) in sorted(days.items())
            if day.year in todo
        ],
        batch_size=500,
    )


def unseed(apps, schema_editor):
    CalendarYear = apps.get_model("core", "CalendarYear")
    CalendarDay = apps.get_model("core", "CalendarDay")
    db = schema_editor.connection.alias
    years = list(
        CalendarYear.objects.using(db).filter(source="package").values_list("year", flat=True)
    )
    for year in years:
        CalendarDay.objects.using(db).filter(
            date__gte=datetime.date(year, 1, 1), date__lte=datetime.date(year, 12, 31)
        ).delete()
    CalendarYear.objects.using(db).filter(year__in=years).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
