"""The home page per role: money for owners, budgets and approvals for managers, a week for all."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from punchclock.projects.models import BudgetKind
from punchclock.reports import dashboard as board_module
from punchclock.reports.dashboard import dashboard, unbilled_by_client
from punchclock.tracking.models import TimeEntry, Timesheet
from tests import factories
from tests.conftest import login
from tests.invoicing.conftest import approved_expense, track
from tests.payments.conftest import issued

NOW = datetime(2026, 11, 18, 15, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def frozen(monkeypatch):
    # Only the dashboard's own clock: patching core.timeutil.now would leak into every
    # module that imports it (by name) while the patch is on.
    monkeypatch.setattr(board_module, "now", lambda: NOW)


def test_unbilled_is_billable_time_and_expenses_not_on_an_issued_invoice(billing, frozen):
    agency = billing
    track(agency.member, agency.project, NOW - timedelta(days=1), 90)  # 150.00
    track(agency.member, agency.project, NOW - timedelta(days=2), 60, billable=False)
    approved_expense(agency.member, "42.50")
    (row,) = unbilled_by_client(agency.owner)
    assert row.time == {"EUR": Decimal("150.00")}
    assert row.total == {"EUR": Decimal("192.50")}


def test_a_client_with_unbilled_expenses_alone_is_on_the_card_by_name(billing, frozen):
    agency = billing
    track(agency.member, agency.project, NOW - timedelta(days=1), 60)  # Globex, 100.00
    initech = factories.make_client(agency.organization, "Initech", code="initech")
    approved_expense(agency.member, "12.30", client=initech)
    rows = unbilled_by_client(agency.owner)
    assert [(row.name, row.total) for row in rows] == [
        ("Globex", {"EUR": Decimal("100.00")}),
        ("Initech", {"EUR": Decimal("12.30")}),
    ]


def test_owner_sees_money_and_this_weeks_hours(billing, frozen):
    agency = billing
    track(agency.member, agency.project, NOW - timedelta(hours=5), 120)
    issued(agency, "100.00", on=date(2026, 10, 20))
    issued(agency, "300.00", on=date(2026, 11, 2))
    board = dashboard(agency.owner, zone="UTC")
    assert board.revenue == {"EUR": (Decimal("300.00"), Decimal("100.00"))}
    assert [g.label for g in board.team] == ["Max Member"]
    home = login(agency.owner).get("/").content.decode()
    assert 'hx-get="/reports/dashboard/"' in home
    assert "Unbilled" not in home  # the cards load after the page
    html = login(agency.owner).get("/reports/dashboard/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html
    assert "Unbilled" in html
    assert "€200.00" in html
    assert "Hours this week by person" in html


def test_member_sees_their_week_and_timer_and_no_money(billing, frozen):
    agency = billing
    track(agency.member, agency.project, datetime(2026, 11, 16, 8, tzinfo=UTC), 45)
    track(agency.owner, agency.project, datetime(2026, 11, 16, 8, tzinfo=UTC), 300)
    TimeEntry.objects.create(
        organization=agency.organization,
        membership=agency.member,
        project=agency.project,
        start=NOW - timedelta(minutes=10),
        description="Fixing login",
    )
    board = dashboard(agency.member, zone="UTC")
    assert board.week_hours == Decimal("0.75")
    assert board.running is not None
    assert board.running.description == "Fixing login"
    assert board.unbilled is None
    assert board.revenue is None
    assert board.budgets is None
    html = login(agency.member).get("/").content.decode()
    assert "/reports/dashboard/" not in html  # nothing more to load for a member
    assert "Timer running" in html
    assert "Fixing login" in html
    assert "Unbilled" not in html
    assert "€" not in html


def test_manager_sees_budgets_and_pending_timesheets(billing, frozen):
    agency = billing
    agency.project.budget_kind = BudgetKind.HOURS
    agency.project.budget_hours = Decimal(2)
    agency.project.save()
    track(agency.member, agency.project, NOW - timedelta(days=1), 150)
    Timesheet.objects.create(
        organization=agency.organization,
        membership=agency.member,
        period_start=date(2026, 11, 9),
        period_end=date(2026, 11, 15),
        submitted_at=NOW,
    )
    board = dashboard(agency.manager, zone="UTC")
    assert board.pending_timesheets == 1
    assert board.budgets is not None
    assert [(b.project.code, b.state) for b in board.budgets] == [("api", "over")]
    assert board.unbilled is None
    html = login(agency.manager).get("/reports/dashboard/").content.decode()
    assert "1</strong> timesheet waiting" in html
