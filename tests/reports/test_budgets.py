"""Budgets: use against budget, alert state, forecast, burn, effective rate and who sees them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from punchclock.projects.models import BillingMethod, BudgetKind
from punchclock.reports.budgets import budget_report
from tests.conftest import login
from tests.invoicing.conftest import track

TODAY = date(2026, 11, 20)


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def budgeted(billing):
    agency = billing
    project = agency.project
    project.budget_kind = BudgetKind.HOURS
    project.budget_hours = Decimal(10)
    project.budget_alert_percent = 80
    project.save()
    # 8.5 hours: 6 in September, 2.5 in the last 28 days (one entry not billable).
    track(agency.member, project, _at(date(2026, 9, 1)), 360)
    track(agency.member, project, _at(TODAY - timedelta(days=3)), 90)
    track(agency.manager, project, _at(TODAY - timedelta(days=1)), 60, billable=False)
    other = agency.other_project
    other.budget_kind = BudgetKind.MONEY
    other.budget_amount = Decimal("1000.00")
    other.save()
    track(agency.member, other, _at(TODAY - timedelta(days=2)), 150)  # 2.5 h at 80 = 200.00
    return agency


def test_hours_used_alert_and_forecast(budgeted):
    report = budget_report(budgeted.owner, today=TODAY, zone="UTC")
    rows = {row.project.code: row for row in report.rows}
    api = rows["api"]
    assert api.used_hours == Decimal("8.50")
    assert api.percent == 85
    assert api.state == "alert"
    # 2.5 hours in 28 days: 1.5 hours left take 17 days at that pace (rounded up).
    assert api.runs_out(TODAY) == TODAY + timedelta(days=17)
    assert api.burn[-1] == Decimal("8.5")
    assert api.burn[report.months.index(date(2026, 9, 1))] == Decimal(6)
    web = rows["web"]
    assert web.used == Decimal("200.00")
    assert web.state == "ok"
    assert web.percent == 20


def test_a_page_of_reports_reads_the_rates_once_and_the_next_page_reads_them_again(budgeted):
    """Budgets make several reports (use, pace, burn) in one call: the rate book and the
    rate periods are read once for all of them; a rate changed before the next call shows
    in it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import make_rate

    with CaptureQueriesContext(connection) as seen:
        report = budget_report(budgeted.owner, today=TODAY, zone="UTC")
    rate_reads = [
        q["sql"]
        for q in seen.captured_queries
        if re.search(r'from "?projects_rate"?\s', q["sql"], re.IGNORECASE)
    ]
    assert len(rate_reads) == 1, rate_reads
    assert {r.project.code: r.used for r in report.rows}["web"] == Decimal("200.00")
    # 2.5 h at 120 from the day the money budget's work was tracked.
    web = budgeted.other_project
    make_rate(budgeted.organization, "120", project=web, effective_from=date(2026, 11, 1))
    again = budget_report(budgeted.owner, today=TODAY, zone="UTC")
    assert {r.project.code: r.used for r in again.rows}["web"] == Decimal("300.00")


def test_over_budget_and_effective_rate_of_a_fixed_fee(budgeted):
    project = budgeted.project
    project.billing_method = BillingMethod.FIXED_FEE
    project.fixed_fee = Decimal("850.00")
    project.budget_hours = Decimal(8)
    project.save()
    (row,) = [r for r in budget_report(budgeted.owner, today=TODAY).rows if r.project == project]
    assert row.state == "over"
    assert row.runs_out(TODAY) is None
    assert row.effective_rate == Decimal("100.00")  # 850 / 8.5 h


def test_managers_see_their_projects_and_members_none(budgeted):
    managed = budget_report(budgeted.manager, today=TODAY)
    assert [r.project.code for r in managed.rows] == ["api"]
    with pytest.raises(PermissionDenied):
        budget_report(budgeted.member, today=TODAY)
    assert login(budgeted.member).get("/reports/budgets/").status_code == 403
    page = login(budgeted.manager).get("/reports/budgets/")
    assert page.status_code == 200
    assert "Website</a>" not in page.content.decode()
    assert "API</a>" in page.content.decode()


def test_csv_lists_every_budget(budgeted):
    body = login(budgeted.owner).get("/reports/budgets/export.csv?bom=0").content.decode()
    lines = body.splitlines()
    assert lines[0].startswith("Client,Project,Kind,Currency,Budget,Used")
    assert len(lines) == 3
    assert any(",hours,,10.00,8.50,1.50,85,80,alert," in line for line in lines)
