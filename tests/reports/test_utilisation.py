"""Utilisation: billable hours against capacity, split by project, within the viewer's role."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from punchclock.reports.query import TimeFilter
from punchclock.reports.utilisation import counted_days, utilisation_report
from tests.conftest import login
from tests.invoicing.conftest import track

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
WHERE = TimeFilter(start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 12, 1, tzinfo=UTC))


def _setup(agency):
    agency.member.weekly_capacity_hours = Decimal(35)
    agency.member.save()
    track(agency.member, agency.project, datetime(2026, 11, 3, 9, tzinfo=UTC), 600)
    track(agency.member, agency.other_project, datetime(2026, 11, 4, 9, tzinfo=UTC), 300)
    track(
        agency.member,
        agency.other_project,
        datetime(2026, 11, 5, 9, tzinfo=UTC),
        120,
        billable=False,
    )
    track(agency.owner, agency.other_project, datetime(2026, 11, 5, 9, tzinfo=UTC), 60)
    track(agency.member, agency.project, datetime(2026, 10, 31, 9, tzinfo=UTC), 600)  # outside


def test_capacity_counts_the_days_up_to_today():
    assert counted_days(FIRST, LAST, date(2026, 11, 14)) == 14
    assert counted_days(FIRST, LAST, date(2026, 12, 5)) == 30
    assert counted_days(FIRST, LAST, date(2026, 10, 5)) == 0


def test_billable_hours_against_capacity_and_split(agency):
    _setup(agency)
    report = utilisation_report(
        agency.owner, WHERE, first=FIRST, last=LAST, today=date(2026, 11, 14), zone="UTC"
    )
    member = next(p for p in report.people if p.membership_id == agency.member.pk)
    assert member.hours == Decimal("17.00")
    assert member.billable_hours == Decimal("15.00")
    assert member.capacity_hours == Decimal("70.00")  # 35 h a week over 14 days
    assert member.utilisation == Decimal(21)  # 15 / 70
    assert {s.key: s.seconds for s in member.projects} == {
        agency.project.pk: 36000,
        agency.other_project.pk: 25200,
    }
    web = next(p for p in report.projects if p.project_id == agency.other_project.pk)
    assert [s.key for s in web.people] == [agency.member.pk, agency.owner.pk]
    assert report.total_seconds == 17 * 3600 + 3600


def test_members_see_only_themselves(agency):
    _setup(agency)
    report = utilisation_report(
        agency.member, WHERE, first=FIRST, last=LAST, today=LAST, zone="UTC"
    )
    assert [p.membership_id for p in report.people] == [agency.member.pk]
    page = login(agency.member).get(
        "/reports/utilisation/?period=custom&from=2026-11-01&to=2026-11-30"
    )
    assert page.status_code == 200
    assert "Olivia Owner" not in page.content.decode()
    csv = (
        login(agency.owner)
        .get("/reports/utilisation/export.csv?from=2026-11-01&to=2026-11-30&bom=0")
        .content.decode()
    )
    assert "Max Member,,17.00,15.00" in csv
