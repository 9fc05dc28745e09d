"""Budget figures equal the entries counted one by one, in the viewer's zone or another.

The expected figures come from the report tests' oracle (tests/reports/conftest.py), which
walks the entries in Python and shares nothing with the report's SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from punchclock.core.timeutil import start_of_day
from punchclock.projects.models import BudgetKind
from punchclock.reports.budgets import PACE_DAYS, budget_report, budget_use
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from punchclock.tracking import services
from tests.reports.conftest import ZONE, oracle

TODAY = date(2026, 11, 20)  # the world's entries run to 30 November: some come after today


@pytest.fixture
def budgets(world):
    agency = world.agency
    hours, money = agency.project, agency.other_project  # 15 min up; a day per task, 6 min
    hours.budget_kind, hours.budget_hours, hours.budget_alert_percent = BudgetKind.HOURS, 9, 50
    hours.save()
    money.budget_kind, money.budget_amount = BudgetKind.MONEY, Decimal("400.00")
    money.save()
    # Six minutes in October at the four-decimal rate: that person's October and November
    # lines, rounded apart, add up to a cent less than the two months rounded as one line.
    world.entries.append(
        services.add_entry(
            agency.member,
            by=agency.owner,
            project=money,
            start=datetime(2026, 10, 14, 12, tzinfo=UTC),
            end=datetime(2026, 10, 14, 12, 6, tzinfo=UTC),
        )
    )
    # One person's Berlin day (1 November) on the per-day project that New York sees in two
    # months (31 October and 1 November): 8 + 8 minutes round to 18 as one day, 12 as two.
    for hour in (0, 10):
        world.entries.append(
            services.add_entry(
                agency.member,
                by=agency.owner,
                project=money,
                start=datetime(2026, 11, 1, hour, 30, tzinfo=UTC),
                end=datetime(2026, 11, 1, hour, 38, tzinfo=UTC),
            )
        )
    return world


def _expected(world, zone: str, months: list[date]) -> dict[int, dict]:
    """Per project: used seconds and money, the last 28 days' seconds and money, the burn."""
    end = start_of_day(TODAY + timedelta(days=1), zone)
    recent_start = start_of_day(TODAY - timedelta(days=PACE_DAYS - 1), zone)
    counted = [e for e in world.entries if e.start < end]
    used = oracle(counted, ("project",), zone)
    recent = oracle([e for e in counted if e.start >= recent_start], ("project",), zone)
    monthly = oracle(counted, ("project", "month"), zone)
    out = {}
    for project in (world.agency.project, world.agency.other_project):
        key = ((project.pk,),)  # the oracle's cells: (first key,) and (first key, second key)
        money = project.budget_kind == BudgetKind.MONEY

        def value(cell, money=money):
            return cell.amounts().get("EUR", Decimal(0)) if money else Decimal(cell.seconds) / 3600

        burn, running = (
            [],
            value(used[key])
            - sum(
                (value(monthly[(key[0], (m,))]) for m in months if (key[0], (m,)) in monthly),
                Decimal(0),
            ),
        )
        for month in months:
            if (key[0], (month,)) in monthly:
                running += value(monthly[(key[0], (month,))])
            burn.append(running)
        out[project.pk] = {
            "used_seconds": used[key].seconds,
            "used": value(used[key]),
            "recent": value(recent[key]) if key in recent else Decimal(0),
            "burn": burn,
        }
    return out


def test_budgets_equal_the_entries_counted_one_by_one(budgets):
    report = budget_report(budgets.agency.owner, today=TODAY, zone=ZONE)
    expected = _expected(budgets, ZONE, report.months)
    assert {row.project.pk for row in report.rows} == set(expected)
    for row in report.rows:
        want = expected[row.project.pk]
        assert row.used_seconds == want["used_seconds"]
        money = row.kind == BudgetKind.MONEY
        assert row.used == (want["used"] if money else want["used"].quantize(Decimal("0.01")))
        assert (
            row.pace_per_day
            == (want["recent"] if money else want["recent"].quantize(Decimal("0.01"))) / PACE_DAYS
        )
        assert row.burn == want["burn"], row.project.code
    # The figures are real: both budgets are used, the money one at per-day rounded prices.
    hours, money = (next(r for r in report.rows if r.kind == k) for k in ("hours", "money"))
    assert hours.used_seconds > 0
    assert hours.pace_per_day > 0
    assert hours.state == "over"
    assert money.used != money.used.quantize(Decimal(1))
    assert hours.burn[-1] == Decimal(hours.used_seconds) / 3600
    assert money.burn[-1] == money.used
    # A use to date summed from the months' money would be a cent off: the test would see it.
    end = start_of_day(TODAY + timedelta(days=1), ZONE)
    months = oracle([e for e in budgets.entries if e.start < end], ("project", "month"), ZONE)
    by_month = sum(
        (
            c.amounts().get("EUR", Decimal(0))
            for k, c in months.items()
            if k[0] == (money.project.pk,) and len(k) == 2
        ),
        Decimal(0),
    )
    assert by_month != money.used


def test_a_viewer_in_another_zone_gets_the_all_time_money_of_the_time_report(budgets):
    """Months cut in New York split a Berlin day in two; the use to date must not be."""
    zone = "America/New_York"
    owner = budgets.agency.owner
    report = budget_report(owner, today=TODAY, zone=zone)
    expected = _expected(budgets, zone, report.months)
    end = start_of_day(TODAY + timedelta(days=1), zone)
    by_project = time_report(owner, TimeFilter(end=end), by=("project",), zone=zone)
    reported = {g.key[0]: g.figures for g in by_project.groups}
    for row in report.rows:
        want = expected[row.project.pk]
        assert row.used_seconds == want["used_seconds"] == reported[row.project.pk].seconds
        assert row.burn[-1] == want["used"]
        if row.kind == BudgetKind.MONEY:
            assert row.used == want["used"] == reported[row.project.pk].amounts["EUR"]
            assert row.pace_per_day == want["recent"] / PACE_DAYS


@pytest.mark.parametrize("zone", [ZONE, "America/New_York"])
def test_the_dashboards_use_to_date_equals_the_full_report(budgets, zone):
    owner = budgets.agency.owner
    full = budget_report(owner, today=TODAY, zone=zone)
    card = budget_use(owner, today=TODAY, zone=zone)
    assert [(r.project.pk, r.used, r.percent, r.state) for r in card] == [
        (r.project.pk, r.used, r.percent, r.state) for r in full.rows
    ]
