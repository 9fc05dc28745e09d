"""Billable time that finds no rate is named on the time report, not passed off as no money."""

from __future__ import annotations

from datetime import UTC, datetime

from punchclock.projects.models import BillingMethod
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from punchclock.tracking import services
from tests.conftest import login
from tests.factories import make_project, make_rate

JUNE = TimeFilter(start=datetime(2026, 6, 1, tzinfo=UTC), end=datetime(2026, 7, 1, tzinfo=UTC))


def _work(agency, project, hours: int, *, day: int, billable: bool = True, person=None):
    start = datetime(2026, 6, day, 8, tzinfo=UTC)
    services.add_entry(
        person or agency.owner,
        by=agency.owner,
        project=project,
        start=start,
        end=start.replace(hour=8 + hours),
        billable=billable,
    )


def _world(agency):
    """2 h priced, 3 h billable without a rate, and time that has no hourly price by design."""
    make_rate(agency.organization, "100", project=agency.project)
    fixed = make_project(
        agency.client, "Audit", code="audit", billing_method=BillingMethod.FIXED_FEE
    )
    _work(agency, agency.project, 2, day=1)
    _work(agency, agency.other_project, 3, day=2)  # hourly, no rate anywhere
    _work(agency, agency.other_project, 4, day=3, billable=False)
    _work(agency, fixed, 5, day=4)


def test_billable_hours_without_a_rate_are_counted_apart(agency):
    _world(agency)
    report = time_report(agency.owner, JUNE, by=("project",), zone="UTC")
    assert report.total.amounts == {"EUR": 200}
    assert report.unpriced_seconds == 3 * 3600


def test_grouping_by_tag_counts_unpriced_time_once(agency):
    _world(agency)
    report = time_report(agency.owner, JUNE, by=("tag", "person"), zone="UTC")
    assert report.unpriced_seconds == 3 * 3600


def test_a_manager_hears_only_of_the_projects_whose_money_they_see(agency):
    _world(agency)
    # The manager manages the priced project only; the unpriced one is not theirs to price.
    _work(agency, agency.other_project, 1, day=5, person=agency.manager)
    report = time_report(agency.manager, JUNE, by=("project",), zone="UTC")
    assert report.shows_amounts
    assert report.unpriced_seconds == 0


def test_the_time_report_page_says_how_much_time_has_no_rate(agency):
    _world(agency)
    page = login(agency.owner).get("/reports/time/?from=2026-06-01&to=2026-06-30")
    html = page.content.decode()
    assert "3.00 h of billable time has no rate" in html
    assert 'href="/projects/rates/"' in html
    # A member sees no money, so no word about rates either.
    member_page = login(agency.member).get("/reports/time/?from=2026-06-01&to=2026-06-30")
    assert "has no rate" not in member_page.content.decode()


def test_the_unbilled_report_names_unpriced_time_too(agency):
    from datetime import date

    from punchclock.reports.unbilled import unbilled_report

    _world(agency)
    report = unbilled_report(agency.owner, today=date(2026, 7, 1), zone="UTC")
    assert report.unpriced_seconds == 3 * 3600
    page = login(agency.owner).get("/reports/unbilled/").content.decode()
    assert "3.00 h of billable time has no rate" in page
