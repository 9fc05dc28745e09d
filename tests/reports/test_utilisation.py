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


def test_the_pages_rows_carry_each_persons_and_projects_figures_escaped(agency):
    """Both table bodies are written in Python (report_tags.utilisation_rows): each row
    has its person's or project's hours, capacity, utilisation and shares as the report
    has them, and names are escaped."""
    import re

    from django.utils.html import escape

    _setup(agency)
    agency.other_project.name = '<b>Web & "Shop"</b>'
    agency.other_project.save()
    page = login(agency.owner).get(
        "/reports/utilisation/?period=custom&from=2026-11-01&to=2026-11-30"
    )
    html = page.content.decode()
    assert "<b>Web" not in html
    report = page.context["report"]
    people, projects = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)

    def rows(body):
        return [
            (int(level), re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S))
            for level, cells in re.findall(r'<tr class="level-(\d)">(.*?)</tr>', body, re.S)
        ]

    def hours(seconds):
        return f"{Decimal(seconds) / 3600:,.2f}"

    expected = []
    for p in report.people:
        expected.append((0, p.name, p.seconds, p.billable_seconds))
        expected += [(1, s.label, s.seconds, s.billable_seconds) for s in p.projects]
    shown = rows(people)
    assert len(shown) == len(expected) > 3
    for (level, tds), (want_level, label, seconds, billable) in zip(shown, expected, strict=True):
        assert level == want_level
        assert escape(label) in tds[0]
        assert tds[1:3] == [hours(seconds), hours(billable)]
    for p in report.people:
        row = next(tds for level, tds in shown if level == 0 and escape(p.name) in tds[0])
        assert f"· {p.weekly_capacity} h/week" in row[0]
        assert row[3] == str(p.capacity_hours)
        if p.utilisation is None:
            assert "no capacity set" in row[4]
        else:
            assert f"<span>{p.utilisation} %</span>" in row[4]
            assert f"load {p.load} %" in row[4]
            assert f"--pct: {min(p.utilisation, 100)}%" in row[4]
    member = next(p for p in report.people if p.membership_id == agency.member.pk)
    assert member.utilisation is not None
    split = [tds[4] for level, tds in shown if level == 1][: len(member.projects)]
    for tds, s in zip(split, member.projects, strict=True):
        assert f"{round(100 * s.seconds / member.seconds)} % of their hours" in tds
    expected = []
    for pr in report.projects:
        expected.append((0, pr.label, pr.seconds, pr.billable_seconds, ""))
        expected += [
            (1, s.label, s.seconds, s.billable_seconds, f"{round(100 * s.seconds / pr.seconds)} %")
            for s in pr.people
        ]
    shown = rows(projects)
    assert len(shown) == len(expected) > 3
    for (level, tds), (want_level, label, seconds, billable, part) in zip(
        shown, expected, strict=True
    ):
        assert level == want_level
        assert escape(label) in tds[0]
        assert tds[1:4] == [hours(seconds), hours(billable), part]
