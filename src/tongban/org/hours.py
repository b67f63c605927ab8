"""Opening hours shown to people: consecutive days with the same periods are grouped
(``周一至周五 09:00–12:00、13:30–17:30``)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

DAY_NAMES = {
    "1": gettext_lazy("周一"),
    "2": gettext_lazy("周二"),
    "3": gettext_lazy("周三"),
    "4": gettext_lazy("周四"),
    "5": gettext_lazy("周五"),
    "6": gettext_lazy("周六"),
    "7": gettext_lazy("周日"),
}

STANDARD_HOURS = {
    **{d: [["09:00", "12:00"], ["13:30", "17:30"]] for d in "12345"},
    "6": [["09:00", "12:00"]],
    "7": [],
}
VILLAGE_HOURS = {
    **{d: [["08:30", "12:00"], ["14:00", "17:30"]] for d in "12345"},
    "6": [],
    "7": [],
}


def describe(hours: dict) -> list[str]:
    """Human lines for a weekly schedule; days without periods are left out."""
    lines: list[str] = []
    days = [str(d) for d in range(1, 8)]
    i = 0
    while i < 7:
        periods = hours.get(days[i]) or []
        j = i
        while j + 1 < 7 and (hours.get(days[j + 1]) or []) == periods:
            j += 1
        if periods:
            span = (
                str(DAY_NAMES[days[i]])
                if i == j
                else _("%(a)s至%(b)s") % {"a": DAY_NAMES[days[i]], "b": DAY_NAMES[days[j]]}
            )
            times = _("、").join(f"{a}–{b}" for a, b in periods)
            lines.append(f"{span} {times}")
        i = j + 1
    return lines
