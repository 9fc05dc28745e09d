"""The worker keeps report periods built (monthly.keep_built, queued hourly by the tick), so a
long report reads them instead of building them in its request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from punchclock.automation import tasks
from punchclock.reports import monthly
from punchclock.reports.models import DirtyDay, MonthState
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from punchclock.tracking.models import TimeEntry
from tests.reports.conftest import ZONE
from tests.reports.test_kept_months import later  # noqa: F401 - a fixture
from tests.reports.test_totals_match_entries import cells_of, expected_cells

# The world's closed periods in January 2027: its entries run from Wednesday 30 September
# to 1 December (Berlin). Nothing lies before the first entry, so the periods that hold it
# are the history's own (query.kept_span): September, October and November, and the nine
# weeks from the one of 28 September to the one of 23 November.
PERIODS = {"month": 3, "week": 9}


def _built() -> dict[str, int]:
    return {grain: MonthState.objects.filter(grain=grain).count() for grain in ("month", "week")}


def _builds(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    real = monthly._build

    def spy(organization_id, plan, month, print_, scan, grain, prices):
        calls.append((grain.name, month))
        return real(organization_id, plan, month, print_, scan, grain, prices)

    monkeypatch.setattr(monthly, "_build", spy)
    return calls


def test_the_hourly_job_builds_what_reports_then_only_read(world, later, monkeypatch):  # noqa: F811
    org = world.agency.organization.pk
    assert org in monthly.organizations_due()  # entries, nothing built
    at = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
    assert f"keep_reports:{org}" in tasks.tick(at=at)
    assert f"keep_reports:{org}" not in tasks.tick(at=at + timedelta(minutes=5))  # that hour's
    job = tasks.keep_reports.call(organization_id=org)  # what the worker runs for that line
    assert job == {"built": sum(PERIODS.values())}
    assert _built() == PERIODS
    assert org not in monthly.organizations_due()
    builds = _builds(monkeypatch)
    window = TimeFilter(start=world.start, end=world.end)
    for by in (("client", "month"), ("person", "week")):
        report = cells_of(time_report(world.agency.owner, window, by=by, zone=ZONE))
        assert report == expected_cells(world, by), by
    assert builds == []  # the reports built nothing: the job had


def test_a_changed_entry_is_built_again_by_the_job_alone(world, later, monkeypatch):  # noqa: F811
    org = world.agency.organization.pk
    assert monthly.keep_built(org) == sum(PERIODS.values())
    assert monthly.keep_built(org) == 0
    entry = TimeEntry.objects.get(pk=world.entries[5].pk)  # 25 October
    TimeEntry.objects.filter(pk=entry.pk).update(
        duration_seconds=entry.duration_seconds + 3600, end=entry.end + timedelta(hours=1)
    )
    assert org in monthly.organizations_due()
    builds = _builds(monkeypatch)
    # A UTC day's mark reaches the local days it can hold: 25 and 26 October in Berlin, a
    # Sunday and a Monday, so October and both weeks are built again.
    assert monthly.keep_built(org) == 3
    assert sorted(grain for grain, _ in builds) == ["month", "week", "week"]
    assert not DirtyDay.objects.filter(organization_id=org).exists()
    assert org not in monthly.organizations_due()


def test_marks_of_an_organization_without_entries_are_taken_away(world, later):  # noqa: F811
    org = world.agency.organization.pk
    TimeEntry.objects.filter(organization_id=org).delete()
    assert org in monthly.organizations_due()  # the deletions' marks
    assert monthly.keep_built(org) == 0
    assert org not in monthly.organizations_due()


def test_the_job_gives_sqlites_planner_statistics_of_what_it_built(world, later):  # noqa: F811
    """Without statistics SQLite's planner read a month's kept rows through the wrong index
    (2.4 times as long at 1,000,000 entries): a job that built periods refreshes them."""
    import pytest
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps its own statistics")

    def kept_stats() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if not cursor.fetchall():
                return 0
            cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'reports_monthtotal'")
            return int(cursor.fetchone()[0])

    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchall():
            cursor.execute("DELETE FROM sqlite_stat1")
    assert kept_stats() == 0
    org = world.agency.organization.pk
    assert tasks.keep_reports.call(organization_id=org) == {"built": sum(PERIODS.values())}
    assert kept_stats() > 0
