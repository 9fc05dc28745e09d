"""The periods of a recurring invoice, and the words its placeholders stand for.

Period boundaries are the chosen day of every Nth month from the first day on (29–31 mean
the month's last day when it is shorter, as for schedules), so periods follow each other
without gap or overlap through short months and leap years. In advance a period is billed
on its first day; in arrears on the day after its last. Pure functions on dates.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_date

from punchclock.automation.periods import Period, _add_months, month_day

MONTHS_OF = {"monthly": 1, "quarterly": 3, "yearly": 12}
LAST_YEAR = 9998  # the calendar's end: date arithmetic past it raises


@dataclass(frozen=True, slots=True)
class Plan:
    """What the arithmetic needs of a recurring invoice."""

    starts_on: date
    day_of_month: int = 1
    months: int = 1  # the step between issue days
    in_advance: bool = True
    ends_on: date | None = None
    cycles: int | None = None


@dataclass(frozen=True, slots=True)
class Cycle:
    number: int  # 1 for the first period
    period: Period  # run_on: the day it is issued


def issue_day_on_or_after(day: date, day_of_month: int) -> date:
    """The first day on or after `day` that is the chosen day of its month."""
    candidate = month_day(day.year, day.month, day_of_month)
    if candidate >= day:
        return candidate
    year, month = _add_months(day.year, day.month, 1)
    return month_day(year, month, day_of_month)


def _boundaries(plan: Plan) -> Iterator[date]:
    yield plan.starts_on
    step = 1
    while True:
        year, month = _add_months(plan.starts_on.year, plan.starts_on.month, step * plan.months)
        if year > LAST_YEAR:
            return
        yield month_day(year, month, plan.day_of_month)
        step += 1


def cycles(plan: Plan) -> Iterator[Cycle]:
    """Every period in order, up to the end (a date or a number of cycles) or forever."""
    days = _boundaries(plan)
    start = next(days)
    for number, following in enumerate(days, start=1):
        if plan.cycles is not None and number > plan.cycles:
            return
        if plan.ends_on is not None and start > plan.ends_on:
            return
        end = following - timedelta(days=1)
        yield Cycle(number, Period(start, end, start if plan.in_advance else following))
        start = following


def cycles_through(plan: Plan, *, through: date) -> list[Cycle]:
    """The periods whose issue day has come by `through` (inclusive), oldest first."""
    found = []
    for cycle in cycles(plan):
        if cycle.period.run_on > through:
            break
        found.append(cycle)
    return found


def next_cycle(plan: Plan, *, after: date) -> Cycle | None:
    """The first period issued after `after`; None when the recurring invoice has ended."""
    for cycle in cycles(plan):
        if cycle.period.run_on > after:
            return cycle
    return None


# Placeholders -----------------------------------------------------------------------------

PLACEHOLDERS = {
    "month": "the period's month by name, in the client's language (December, Dezember)",
    "month_number": "the period's month as two digits (12)",
    "year": "the period's year (2026)",
    "quarter": "the period's quarter (1–4)",
    "period_start": "the period's first day, written for the client's language",
    "period_end": "the period's last day, written for the client's language",
    "cycle": "which invoice of the series this is (1, 2, 3 …)",
}


def placeholder_values(cycle: Cycle, language: str) -> dict[str, str]:
    """What each placeholder stands for in this period, in the client's invoice language.

    The month and year are the period's first day's: billed in arrears on 1 January, the
    December period says December."""
    locale = language.replace("-", "_") or "en"
    start, end = cycle.period.start, cycle.period.end
    return {
        # "LLLL" is the month's name standing alone (a title), not inside a date.
        "month": format_date(start, format="LLLL", locale=locale),
        "month_number": f"{start.month:02}",
        "year": str(start.year),
        "quarter": str((start.month - 1) // 3 + 1),
        "period_start": format_date(start, format="medium", locale=locale),
        "period_end": format_date(end, format="medium", locale=locale),
        "cycle": str(cycle.number),
    }


def fill(text: str, values: dict[str, str]) -> str:
    """The text with its placeholders filled; it was checked on saving (check_wording)."""
    out = []
    for literal, name, _spec, _conversion in string.Formatter().parse(text):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return "".join(out)
