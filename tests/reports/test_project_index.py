"""A filter on projects reads the project-led covering index and counts exactly the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from punchclock.reports import query
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from tests.reports.conftest import ZONE
from tests.reports.test_totals_match_entries import cells_of, expected_cells

SPANS = {
    "all history": (None, None),
    "a month": (datetime(2026, 10, 31, 23, tzinfo=UTC), datetime(2026, 11, 30, 23, tzinfo=UTC)),
}


@pytest.mark.parametrize("span", SPANS)
@pytest.mark.parametrize("by", [("project",), ("project", "month"), ("person", "day"), ("tag",)])
def test_a_project_filter_counts_the_same_through_either_index(world, monkeypatch, span, by):
    start, end = SPANS[span]
    # Only the per-day project: its rounding runs the second, day-grouped query too.
    only = world.agency.other_project.pk
    where = TimeFilter(start=start, end=end, projects=(only,))
    owner = world.agency.owner
    project_led = cells_of(time_report(owner, where, by=by, zone=ZONE))
    monkeypatch.setattr(query, "SQLITE_PROJECT_INDEX", query.SQLITE_INDEX)
    organization_led = cells_of(time_report(owner, where, by=by, zone=ZONE))
    first, last = start or datetime(2000, 1, 1, tzinfo=UTC), end or datetime(2100, 1, 1, tzinfo=UTC)
    world.start, world.end = first, last
    expected = expected_cells(world, by, where=lambda e: e.project_id == only)
    assert project_led == organization_led == expected
    assert project_led[("total",)][0] > 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite is told the index")
def test_a_project_filter_reads_the_project_led_index_and_no_table_row(world, monkeypatch):
    from punchclock.reports import query

    # The scan's plan: kept months (reports.monthly) would read October from its totals
    # and build it with an organization-wide scan first.
    monkeypatch.setattr(query, "KEEP_MONTHS", False)
    where = TimeFilter(projects=(world.agency.project.pk,))
    with CaptureQueriesContext(connection) as queries:
        time_report(world.agency.owner, where, by=("project",), zone=ZONE)
    report_sql = [
        q["sql"] for q in queries.captured_queries if "SUM(e.duration_seconds)" in q["sql"]
    ]
    assert report_sql
    for sql in report_sql:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "COVERING INDEX entry_project_report_cover (project_id=?" in plan, plan
        assert "entry_report_cover" not in plan, plan
