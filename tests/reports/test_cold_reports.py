"""A report that finds many kept periods to build scans its range and asks the worker to
build them (decision 0026); a few stale periods it builds itself, and periods older than
what the worker keeps it always builds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from punchclock.automation import tasks
from punchclock.reports import monthly
from punchclock.reports.models import MonthState
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from punchclock.tracking.models import TimeEntry
from tests.reports.conftest import ZONE
from tests.reports.test_keep_built import PERIODS, _builds
from tests.reports.test_kept_months import LATER
from tests.reports.test_totals_match_entries import cells_of, expected_cells


@pytest.fixture
def limited(monkeypatch):
    """The limit as it is outside the tests, on a day when the world's periods are closed."""
    monkeypatch.setattr(monthly, "LIMIT_BUILDS", True)
    monkeypatch.setattr(monthly, "now", lambda: LATER)


def _asked(org: int) -> list[DBTaskResult]:
    return [
        job
        for job in DBTaskResult.objects.filter(task_path=tasks.keep_reports.module_path)
        if (job.args_kwargs.get("kwargs") or {}).get("organization_id") == org
    ]


def _refreshes(monkeypatch) -> list[int | None]:
    """What each refresh() of a report returned: None where it left the build to the worker."""
    answers: list[int | None] = []
    real = monthly.refresh

    def spy(*args, **kwargs):
        answers.append(real(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(monthly, "refresh", spy)
    return answers


def test_a_report_with_many_periods_to_build_scans_and_the_worker_builds(
    world, limited, monkeypatch
):
    org = world.agency.organization.pk
    window = TimeFilter(start=world.start, end=world.end)
    by = ("person", "week")
    builds, refreshes = _builds(monkeypatch), _refreshes(monkeypatch)
    report = cells_of(time_report(world.agency.owner, window, by=by, zone=ZONE))
    assert report == expected_cells(world, by)
    assert builds == []  # nine weeks to build: more than a request builds
    assert None in refreshes
    assert not MonthState.objects.filter(organization_id=org).exists()
    [job] = _asked(org)
    assert job.status == "READY"
    # The next report scans too, and finds the job still waiting: it asks nothing more.
    assert cells_of(time_report(world.agency.owner, window, by=by, zone=ZONE)) == report
    assert [j.pk for j in _asked(org)] == [job.pk]

    assert tasks.keep_reports.call(organization_id=org) == {"built": sum(PERIODS.values())}
    builds.clear()
    refreshes.clear()
    assert cells_of(time_report(world.agency.owner, window, by=by, zone=ZONE)) == report
    assert builds == []
    assert refreshes
    assert None not in refreshes  # read from the kept weeks


def test_a_report_builds_a_few_stale_periods_itself(world, limited, monkeypatch):
    org = world.agency.organization.pk
    assert monthly.keep_built(org) == sum(PERIODS.values())
    entry = TimeEntry.objects.get(pk=world.entries[5].pk)  # 25 October
    TimeEntry.objects.filter(pk=entry.pk).update(
        duration_seconds=entry.duration_seconds + 3600, end=entry.end + timedelta(hours=1)
    )
    world.entries[5] = TimeEntry.objects.get(pk=entry.pk)
    builds = _builds(monkeypatch)
    window = TimeFilter(start=world.start, end=world.end)
    for by in (("client", "month"), ("person", "week")):
        report = cells_of(time_report(world.agency.owner, window, by=by, zone=ZONE))
        assert report == expected_cells(world, by), by
    # October, then the two weeks the mark reaches (25 and 26 October): within the limits.
    october = [("week", date(2026, 10, 19)), ("week", date(2026, 10, 26))]
    assert builds == [("month", date(2026, 10, 1)), *october]
    assert _asked(org) == []


def test_periods_older_than_the_worker_keeps_are_built_by_the_report(world, limited, monkeypatch):
    # With the worker keeping the last two months and three weeks of the history, a report
    # by week finds nine weeks to build but only three the worker would: it builds them all.
    monkeypatch.setattr(monthly, "KEEP_MONTHS_BACK", 2)
    monkeypatch.setattr(monthly, "KEEP_WEEKS_BACK", 3)
    org = world.agency.organization.pk
    assert monthly.worker_keeps_from(org, ZONE, monthly.WEEK) == date(2026, 11, 9)
    builds = _builds(monkeypatch)
    window = TimeFilter(start=world.start, end=world.end)
    report = cells_of(time_report(world.agency.owner, window, by=("person", "week"), zone=ZONE))
    assert report == expected_cells(world, ("person", "week"))
    assert len([grain for grain, _ in builds if grain == "week"]) == 8  # whole weeks of the range
    assert _asked(org) == []


def test_a_range_reaching_before_the_worker_counts_only_the_worker_s_periods(
    world, limited, monkeypatch
):
    # The worker keeps the last seven weeks of the history, from 12 October: more than a
    # request builds. The report's first whole week, of 5 October, is its own to build.
    monkeypatch.setattr(monthly, "KEEP_WEEKS_BACK", 7)
    org = world.agency.organization.pk
    assert monthly.worker_keeps_from(org, ZONE, monthly.WEEK) == date(2026, 10, 12)
    window = TimeFilter(start=world.start, end=world.end)
    by = ("person", "week")
    builds = _builds(monkeypatch)
    expected = expected_cells(world, by)
    assert cells_of(time_report(world.agency.owner, window, by=by, zone=ZONE)) == expected
    assert builds == []
    assert len(_asked(org)) == 1
    tasks.keep_reports.call(organization_id=org)
    assert ("week", date(2026, 10, 5)) not in builds  # the worker builds only its own
    assert ("week", date(2026, 10, 12)) in builds
    builds.clear()
    assert cells_of(time_report(world.agency.owner, window, by=by, zone=ZONE)) == expected
    assert builds == [("week", date(2026, 10, 5))]


def test_the_limit_counts_the_periods_the_worker_keeps(world, limited, monkeypatch):
    org = world.agency.organization.pk
    # The history's closed periods: September to November, the weeks of 28 September to
    # 23 November; the worker keeps them all.
    assert monthly.worker_keeps_from(org, ZONE, monthly.MONTH) == date(2026, 9, 1)
    assert monthly.worker_keeps_from(org, ZONE, monthly.WEEK) == date(2026, 9, 28)
    months = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert monthly._leaves_to_worker(org, months, ZONE, monthly.MONTH)
    assert not monthly._leaves_to_worker(org, months[1:], ZONE, monthly.MONTH)
    older = [date(2026, month, 1) for month in range(1, 9)]
    assert not monthly._leaves_to_worker(org, [*older, *months[1:]], ZONE, monthly.MONTH)
    weeks = [date(2026, 9, 28) + timedelta(weeks=n) for n in range(5)]
    assert monthly._leaves_to_worker(org, weeks, ZONE, monthly.WEEK)
    assert not monthly._leaves_to_worker(org, weeks[1:], ZONE, monthly.WEEK)
    monkeypatch.setattr(monthly, "LIMIT_BUILDS", False)
    assert not monthly._leaves_to_worker(org, weeks, ZONE, monthly.WEEK)
    TimeEntry.objects.filter(organization_id=org).delete()
    monkeypatch.setattr(monthly, "LIMIT_BUILDS", True)
    assert monthly.worker_keeps_from(org, ZONE, monthly.WEEK) is None
    assert not monthly._leaves_to_worker(org, weeks, ZONE, monthly.WEEK)
