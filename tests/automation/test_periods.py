"""Billing periods: contiguous, month ends and leap years, weeks, quarters, project end."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from punchclock.automation.periods import Rule, next_period, periods


def spans(rule: Rule, through: date) -> list[tuple[str, str]]:
    return [(p.start.isoformat(), p.end.isoformat()) for p in periods(rule, through=through)]


def test_monthly_on_the_first_bills_calendar_months():
    rule = Rule("monthly", starts_on=date(2026, 1, 1), day_of_month=1)
    assert spans(rule, date(2026, 4, 1)) == [
        ("2026-01-01", "2026-01-31"),
        ("2026-02-01", "2026-02-28"),
        ("2026-03-01", "2026-03-31"),
    ]


def test_monthly_on_the_31st_runs_on_each_months_last_day_through_a_leap_february():
    rule = Rule("monthly", starts_on=date(2028, 1, 1), day_of_month=31)
    found = periods(rule, through=date(2028, 5, 1))
    assert [p.run_on for p in found] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
    ]
    assert spans(rule, date(2028, 3, 1))[1] == ("2028-01-31", "2028-02-28")


def test_every_two_weeks_from_the_first_day():
    rule = Rule("weekly", starts_on=date(2026, 11, 2), interval_weeks=2)
    assert spans(rule, date(2026, 12, 1)) == [
        ("2026-11-02", "2026-11-15"),
        ("2026-11-16", "2026-11-29"),
    ]


def test_quarterly_starts_with_the_rest_of_the_current_quarter():
    rule = Rule("quarterly", starts_on=date(2026, 11, 15))
    assert spans(rule, date(2027, 7, 1)) == [
        ("2026-11-15", "2026-12-31"),
        ("2027-01-01", "2027-03-31"),
        ("2027-04-01", "2027-06-30"),
    ]


def test_project_end_is_one_period_billed_the_day_after():
    rule = Rule("project_end", starts_on=date(2026, 9, 1), ends_on=date(2026, 11, 20))
    assert spans(rule, date(2026, 11, 20)) == []
    assert spans(rule, date(2030, 1, 1)) == [("2026-09-01", "2026-11-20")]


def test_the_next_period_is_the_one_to_come():
    rule = Rule("monthly", starts_on=date(2026, 1, 1), day_of_month=15)
    upcoming = next_period(rule, after=date(2026, 11, 26))
    assert upcoming is not None
    assert (upcoming.start, upcoming.end, upcoming.run_on) == (
        date(2026, 11, 15),
        date(2026, 12, 14),
        date(2026, 12, 15),
    )


@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    frequency=st.sampled_from(["monthly", "weekly", "quarterly"]),
    day=st.integers(1, 31),
    weeks=st.integers(1, 8),
)
def test_periods_are_contiguous_and_cover_every_day(start, frequency, day, weeks):
    rule = Rule(frequency, starts_on=start, day_of_month=day, interval_weeks=weeks)
    found = periods(rule, through=start + timedelta(days=800))
    assert found, "a schedule bills within 800 days"
    assert found[0].start == start
    for before, after in itertools.pairwise(found):
        assert after.start == before.end + timedelta(days=1)
    assert all(p.start <= p.end and p.run_on == p.end + timedelta(days=1) for p in found)
