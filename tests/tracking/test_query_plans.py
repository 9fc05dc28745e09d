"""Period queries use the indexes that lead with the entry's start, not the project index.

With only Django's foreign-key index on project, SQLite walks a project's whole history for
a month's sum (seconds at a million entries, against milliseconds on a start-led index).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection
from django.db.models import Sum

from punchclock.tracking.models import TimeEntry


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        # PostgreSQL prefers a sequential scan on a tiny table; forbid it to see whether an
        # index can serve the query at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return " ".join(row[0] for row in cursor.fetchall())


def test_a_months_sum_per_project_uses_the_start_led_index(agency):
    month = (
        TimeEntry.objects.filter(
            organization=agency.organization,
            start__gte=datetime(2026, 11, 1, tzinfo=UTC),
            start__lt=datetime(2026, 12, 1, tzinfo=UTC),
        )
        .values("project_id")
        .annotate(total=Sum("duration_seconds"))
        .order_by()
    )
    plan = _plan(month)
    # Either start-led index bounds the scan by the month (SQLite prefers the project one as
    # a skip-scan once ANALYZE has run); what must never appear is a walk of all history.
    assert "entry_report_cover" in plan or "entry_project_report_cover" in plan, plan


def test_a_persons_week_uses_the_person_and_start_index(agency):
    week = TimeEntry.objects.filter(
        membership=agency.member,
        start__gte=datetime(2026, 11, 23, tzinfo=UTC),
        start__lt=datetime(2026, 11, 30, tzinfo=UTC),
    )
    plan = _plan(week)
    assert "entry_person_start" in plan, plan
