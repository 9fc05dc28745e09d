"""The billing periods of a schedule: contiguous, each billed on the day after it ends.

A run day bills the span since the run day before it, up to the day before itself; the
first period starts on the schedule's first day. So the periods of a schedule never
overlap and leave no gap, whatever the month lengths: a schedule "monthly on the 31st"
runs on 31 January, 28 (or 29) February, 31 March, and bills 31 Jan – 27 Feb, 28 Feb –
30 Mar. Pure functions on dates; "today" is the organization's local date.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

MONTHLY, WEEKLY, QUARTERLY, PROJECT_END = "monthly", "weekly", "quarterly", "project_end"
# A run bills at most this many periods of one schedule, oldest first: a schedule switched
# off for five years does not bill a century at once (the rest follow on the next runs).
MOST_PERIODS = 60


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive
    run_on: date  # the day after `end`

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


@dataclass(frozen=True, slots=True)
class Rule:
    """What periods.py needs of a schedule (a BillingSchedule fits)."""

    frequency: str
    starts_on: date
    day_of_month: int = 1
    interval_weeks: int = 2
    ends_on: date | None = None


def month_day(year: int, month: int, day: int) -> date:
    """The day in that month, or the month's last day when the month is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def run_days(rule: Rule) -> Iterator[date]:
    """Every run day after the schedule's first day, in order (endless but for project end)."""
    start = rule.starts_on
    if rule.frequency == PROJECT_END:
        if rule.ends_on is not None and rule.ends_on >= start:
            yield rule.ends_on + timedelta(days=1)
        return
    if rule.frequency == WEEKLY:
        step = timedelta(weeks=rule.interval_weeks)
        day = start + step
        while True:
            yield day
            day += step
    if rule.frequency not in (MONTHLY, QUARTERLY):
        raise ValueError(f"unknown frequency {rule.frequency!r}")
    months = 3 if rule.frequency == QUARTERLY else 1
    year, month = start.year, start.month
    if rule.frequency == QUARTERLY:
        # Quarters start in January, April, July and October, on the chosen day.
        month -= (month - 1) % 3
    while True:
        day = month_day(year, month, rule.day_of_month)
        if day > start:
            yield day
        year, month = _add_months(year, month, months)


def periods(rule: Rule, *, through: date) -> list[Period]:
    """The periods whose run day has come by `through` (inclusive), oldest first: all of
    them (a weekly schedule ten years old has about 520), so a long-running schedule's new
    period is never cut off; `due` caps how many untaken ones one run bills."""
    found: list[Period] = []
    begin = rule.starts_on
    for run_on in run_days(rule):
        if run_on > through:
            break
        if rule.frequency == PROJECT_END:
            found.append(Period(begin, run_on - timedelta(days=1), run_on))
            break
        found.append(Period(begin, run_on - timedelta(days=1), run_on))
        begin = run_on
    return found


def next_period(rule: Rule, *, after: date) -> Period | None:
    """The first period whose run day is after `after` (the next one to come)."""
    begin = rule.starts_on
    for count, run_on in enumerate(run_days(rule)):
        if count > MOST_PERIODS * 10:
            return None
        if run_on > after:
            return Period(begin, run_on - timedelta(days=1), run_on)
        begin = run_on
    return None
