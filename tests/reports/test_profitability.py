"""Profitability: invoiced lines, billable value of open work, cost and expenses, margin."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from punchclock.invoicing import services as invoicing
from punchclock.projects.models import RateKind
from punchclock.reports.profitability import _split, profitability
from punchclock.reports.query import TimeFilter
from tests.conftest import login
from tests.factories import make_rate
from tests.invoicing.conftest import approved_expense, track

NOVEMBER = TimeFilter(
    start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 12, 1, tzinfo=UTC)
)
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
def worked(billing, frozen_today):
    agency = billing
    make_rate(agency.organization, "40", kind=RateKind.COST, membership=agency.member)
    # API at 100/h: 2 h invoiced with a 10 % document discount, 1 h still open.
    track(agency.member, agency.project, datetime(2026, 11, 3, 9, tzinfo=UTC), 120)
    draft = invoicing.create_draft(
        agency.client, by=agency.owner, period_start=date(2026, 11, 1), period_end=date(2026, 11, 5)
    )
    draft.discount_percent = Decimal(10)
    draft.save()
    invoice = invoicing.issue_invoice(draft, by=agency.owner, issue_date=date(2026, 11, 6))
    track(agency.member, agency.project, datetime(2026, 11, 10, 9, tzinfo=UTC), 60)
    # Website at 80/h, not billable: cost only.
    track(
        agency.member,
        agency.other_project,
        datetime(2026, 11, 11, 9, tzinfo=UTC),
        30,
        billable=False,
    )
    approved_expense(agency.member, "25.00", billable=False, project=agency.project)
    return agency, invoice


def test_project_revenue_cost_and_margin(worked):
    agency, invoice = worked
    assert invoice.net_total == Decimal("180.00")
    report = profitability(agency.owner, NOVEMBER, by="project", first=FIRST, last=LAST, zone="UTC")
    rows = {r.key: r for r in report.rows}
    api = rows[agency.project.pk]
    assert api.invoiced == {"EUR": Decimal("180.00")}  # the line after the 10 % discount
    assert api.uninvoiced == {"EUR": Decimal("100.00")}
    assert api.cost == {"EUR": Decimal("120.00")}  # 3 h at 40
    assert api.expenses == {"EUR": Decimal("25.00")}
    assert api.margin == Decimal("135.00")
    web = rows[agency.other_project.pk]
    assert web.revenue == {}
    assert web.margin == Decimal("-20.00")
    assert report.total.margin == Decimal("115.00")


def test_a_credit_note_takes_the_revenue_back(worked):
    agency, invoice = worked
    line = invoice.lines.get()
    invoicing.credit_invoice(invoice, by=agency.owner, lines=[line], issue_date=date(2026, 11, 20))
    report = profitability(agency.owner, NOVEMBER, by="client", first=FIRST, last=LAST, zone="UTC")
    (row,) = report.rows
    # The line is credited: its work stays on the invoice, and its value is gone.
    assert row.invoiced == {"EUR": Decimal("0.00")}
    assert row.uninvoiced == {"EUR": Decimal("100.00")}


def test_split_keeps_every_cent():
    shares = _split(Decimal("100.00"), {1: 1, 2: 1, 3: 1}, "EUR")
    assert sum(shares.values()) == Decimal("100.00")
    assert sorted(shares.values()) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]


@pytest.mark.parametrize("role", ["manager", "member"])
def test_only_owners_and_admins(agency, role):
    with pytest.raises(PermissionDenied):
        profitability(
            getattr(agency, role), NOVEMBER, by="project", first=FIRST, last=LAST, zone="UTC"
        )
    assert login(getattr(agency, role)).get("/reports/profitability/").status_code == 403


def test_page_and_csv(worked):
    agency, _ = worked
    http = login(agency.owner)
    page = http.get("/reports/profitability/?from=2026-11-01&to=2026-11-30&by=person")
    assert page.status_code == 200
    assert "Max Member" in page.content.decode()
    csv = http.get("/reports/profitability/export.csv?from=2026-11-01&to=2026-11-30&bom=0")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("Project,Hours,Invoiced EUR,Not invoiced EUR,Cost EUR")
    assert lines[-1].startswith("Total,3.50,180.00,100.00,140.00,25.00")
    assert http.get("/reports/profitability/?by=task").status_code == 400


def test_a_fixed_fee_counts_once_whether_it_bills_time_or_not(billing, frozen_today):
    """A fee line that bills the project's entries is split over them; a milestone share
    without time counts by its issue date. Neither is counted twice."""
    from punchclock.projects.models import BillingMethod

    agency = billing
    project = agency.other_project
    project.billing_method = BillingMethod.FIXED_FEE
    project.fixed_fee = Decimal("1000.00")
    project.save()
    track(agency.member, project, datetime(2026, 11, 3, 9, tzinfo=UTC), 90)
    track(agency.owner, project, datetime(2026, 11, 4, 9, tzinfo=UTC), 30)
    with_time = invoicing.create_draft(
        agency.client,
        by=agency.owner,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 5),
        project=project,
        fee_percent=Decimal(40),
    )
    assert with_time.lines.filter(billed_entries__isnull=False).exists()
    invoicing.issue_invoice(with_time, by=agency.owner, issue_date=date(2026, 11, 6))
    milestone = invoicing.create_draft(
        agency.client,
        by=agency.owner,
        period_start=date(2026, 11, 20),
        period_end=date(2026, 11, 25),
        project=project,
        fee_percent=Decimal(25),
    )
    assert not milestone.lines.filter(billed_entries__isnull=False).exists()
    invoicing.issue_invoice(milestone, by=agency.owner, issue_date=date(2026, 11, 26))
    for by in ("project", "client"):
        report = profitability(agency.owner, NOVEMBER, by=by, first=FIRST, last=LAST, zone="UTC")
        key = project.pk if by == "project" else agency.client.pk
        row = {r.key: r for r in report.rows}[key]
        assert row.invoiced == {"EUR": Decimal("650.00")}, by  # 40 % + 25 % of 1,000
    people = profitability(agency.owner, NOVEMBER, by="person", first=FIRST, last=LAST, zone="UTC")
    split = {r.key: r.invoiced.get("EUR") for r in people.rows}
    # The 40 % with time goes to the people by their hours (90 and 30 minutes); the
    # milestone without time has no person.
    assert split[agency.member.pk] == Decimal("300.00")
    assert split[agency.owner.pk] == Decimal("100.00")
