"""Kept month totals (reports.monthly): the same report as the entries give, and never stale.

Every test runs a report twice, from kept months and from a scan of the entries
(query.KEEP_MONTHS off), and against the entry-by-entry oracle where it can; then it
changes the entries behind a kept month in every way a writer can, and checks that the
next report shows the change.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from punchclock.projects.models import RoundingDirection, RoundingScope
from punchclock.reports import monthly, query
from punchclock.reports.models import DirtyDay, MonthState, MonthTotal
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from punchclock.tracking.models import TimeEntry
from tests.concurrency import at_once
from tests.factories import make_rate
from tests.reports.conftest import ZONE
from tests.reports.test_totals_match_entries import cells_of, expected_cells

KEPT = ["client", "project", "task", "person", "month"]
GROUPINGS = [(d,) for d in KEPT] + list(itertools.permutations(KEPT, 2))
LATER = datetime(2027, 1, 10, 12, tzinfo=UTC)  # October and November have ended


@pytest.fixture
def later(monkeypatch):
    """Today is in January 2027, so both months of the world are closed and kept."""
    monkeypatch.setattr(monthly, "now", lambda: LATER)


def both(viewer, where, by, monkeypatch, zone=ZONE):
    """The report from kept months, and the same report scanned from the entries."""
    kept = cells_of(time_report(viewer, where, by=by, zone=zone))
    monkeypatch.setattr(query, "KEEP_MONTHS", False)
    try:
        scanned = cells_of(time_report(viewer, where, by=by, zone=zone))
    finally:
        monkeypatch.setattr(query, "KEEP_MONTHS", True)
    return kept, scanned


def test_kept_months_give_every_grouping_as_the_entries_do(world, later, monkeypatch):
    window = TimeFilter(start=world.start, end=world.end)
    for by in GROUPINGS:
        kept, scanned = both(world.agency.owner, window, by, monkeypatch)
        assert kept == expected_cells(world, by), by
        assert kept == scanned, by
    months = set(MonthTotal.objects.values_list("month", flat=True))
    assert months == {date(2026, 10, 1), date(2026, 11, 1)}  # the report did read them


@pytest.mark.parametrize(
    "where",
    [
        {"billable": True},
        {"billable": False},
        {"people": "member"},
        {"projects": "project"},
        {"clients": "client"},
        {"tasks": "task"},
    ],
)
def test_filters_on_kept_months_match_the_scan(world, later, monkeypatch, where):
    agency = world.agency
    value = where.popitem()
    name, chosen = value
    ids = {
        "member": (agency.member.pk,),
        "project": (agency.project.pk,),
        "client": (agency.client.pk,),
        "task": (agency.task.pk,),
    }
    filters = {name: ids[chosen] if isinstance(chosen, str) else chosen}
    window = TimeFilter(start=world.start, end=world.end, **filters)
    for by in (("project",), ("client", "person"), ("month", "task")):
        kept, scanned = both(agency.owner, window, by, monkeypatch)
        assert kept == scanned, (filters, by)
        assert kept[("total",)][0] > 0, "the filter should leave some time"


def test_each_role_sees_on_kept_months_what_the_scan_shows_it(world, later, monkeypatch):
    window = TimeFilter(start=world.start, end=world.end)
    agency = world.agency
    for viewer in (agency.member, agency.manager, agency.admin):
        for by in (("project",), ("person", "month")):
            kept, scanned = both(viewer, window, by, monkeypatch)
            assert kept == scanned, (viewer.role, by)


def test_a_range_starting_mid_month_scans_the_rest(world, later, monkeypatch):
    start = datetime(2026, 10, 14, 22, tzinfo=UTC)  # 15 Oct in Berlin
    window = TimeFilter(start=start, end=world.end)
    for by in (("project",), ("month", "person")):
        kept, scanned = both(world.agency.owner, window, by, monkeypatch)
        assert kept == scanned, by
    assert MonthTotal.objects.filter(month=date(2026, 10, 1)).count() == 0  # not a whole month


def test_the_running_month_is_never_kept(world, monkeypatch):
    monkeypatch.setattr(monthly, "now", lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))
    window = TimeFilter(start=world.start, end=world.end)
    kept, scanned = both(world.agency.owner, window, ("month",), monkeypatch)
    assert kept == scanned
    assert set(MonthState.objects.values_list("month", flat=True)) == {date(2026, 10, 1)}


def test_a_viewer_in_another_zone_gets_a_scan(world, later, monkeypatch):
    window = TimeFilter(start=world.start, end=world.end)
    report = time_report(world.agency.owner, window, by=("month",), zone="America/New_York")
    assert cells_of(report) == expected_cells(world, ("month",), zone="America/New_York")
    assert not MonthTotal.objects.exists()


def _kept_then(world, monkeypatch, change, by=("project", "month")) -> None:
    """Keep both months, change the entries, and check the next report sees the change."""
    window = TimeFilter(start=world.start, end=world.end)
    viewer = world.agency.owner
    before, _ = both(viewer, window, by, monkeypatch)
    assert MonthState.objects.count() == 2
    change()
    after, scanned = both(viewer, window, by, monkeypatch)
    assert after == scanned
    assert after != before, f"the change should show in the report ({by})"


def longer_through_the_orm(entry: TimeEntry) -> None:
    entry.end = entry.end + timedelta(minutes=37)
    entry.save()


def an_hour_more_in_raw_sql(entry: TimeEntry) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tracking_timeentry SET duration_seconds = duration_seconds + 3600, "
            '"end" = %s WHERE id = %s',
            [entry.end + timedelta(hours=1), entry.pk],
        )


def round_days_down(project) -> None:
    project.rounding_minutes = 30
    project.rounding_direction = RoundingDirection.DOWN
    project.rounding_scope = RoundingScope.DAY_TASK
    project.save()


def _an_october_entry(world) -> TimeEntry:
    return next(
        e
        for e in sorted(world.entries, key=lambda e: e.pk)
        if datetime(2026, 10, 5, tzinfo=UTC) < e.start < datetime(2026, 10, 25, tzinfo=UTC)
    )


def test_an_entry_edited_through_the_orm_shows(world, later, monkeypatch):
    entry = _an_october_entry(world)

    _kept_then(world, monkeypatch, lambda: longer_through_the_orm(entry))


def test_an_entry_moved_to_the_other_month_shows(world, later, monkeypatch):
    entry = _an_october_entry(world)
    moved = timedelta(days=30)
    _kept_then(
        world,
        monkeypatch,
        lambda: TimeEntry.objects.filter(pk=entry.pk).update(
            start=entry.start + moved, end=entry.end + moved
        ),
    )


def test_a_deleted_and_a_new_entry_show(world, later, monkeypatch):
    entry = _an_october_entry(world)

    def replace_it():
        entry.delete()
        copy = TimeEntry.objects.get(pk=world.entries[-1].pk)
        copy.pk = None
        copy.start = datetime(2026, 11, 3, 9, tzinfo=UTC)
        copy.end = datetime(2026, 11, 3, 12, 30, tzinfo=UTC)
        copy.save()

    _kept_then(world, monkeypatch, replace_it)


def test_billable_project_and_person_changes_show(world, later, monkeypatch):
    entry = _an_october_entry(world)
    agency = world.agency
    someone_else = next(m for m in (agency.admin, agency.manager) if m.pk != entry.membership_id)
    other = next(p for p in (agency.project, agency.other_project) if p.pk != entry.project_id)
    for change in (
        {"billable": not entry.billable},
        {"project_id": other.pk, "task_id": None},
        {"membership_id": someone_else.pk},
    ):
        _kept_then(
            world,
            monkeypatch,
            lambda c=change: TimeEntry.objects.filter(pk=entry.pk).update(**c),
            by=("person", "project"),
        )


def test_raw_sql_behind_the_orms_back_shows(world, later, monkeypatch):
    entry = _an_october_entry(world)

    _kept_then(world, monkeypatch, lambda: an_hour_more_in_raw_sql(entry))


def test_a_changed_rounding_rule_shows(world, later, monkeypatch):
    project = world.agency.project

    _kept_then(world, monkeypatch, lambda: round_days_down(project))


def test_a_backdated_rate_reprices_and_a_future_one_keeps_the_months(world, later, monkeypatch):
    agency = world.agency
    window = TimeFilter(start=world.start, end=world.end)
    both(agency.owner, window, ("project",), monkeypatch)
    built = dict(MonthState.objects.values_list("month", "fingerprint"))
    make_rate(agency.organization, "150", project=agency.project, effective_from=date(2027, 3, 1))
    kept, scanned = both(agency.owner, window, ("project",), monkeypatch)
    assert kept == scanned
    assert dict(MonthState.objects.values_list("month", "fingerprint")) == built
    # A rate from 20 October on splits October's rate periods: both months are rebuilt.
    make_rate(agency.organization, "99", project=agency.project, effective_from=date(2026, 10, 20))
    kept, scanned = both(agency.owner, window, ("project", "person"), monkeypatch)
    assert kept == scanned
    assert kept == expected_cells(world, ("project", "person"))
    assert dict(MonthState.objects.values_list("month", "fingerprint")) != built


def test_a_priced_reports_rate_periods_are_those_of_every_rate(world):
    """A priced report takes its rate periods from the rate book it loads: the days on
    which any rate, bill or cost, of any scope takes effect, as local midnights."""
    from punchclock.projects.models import RateKind
    from punchclock.projects.ratebook import RateBook
    from punchclock.reports.timereport import book_boundaries, rate_boundaries

    organization = world.agency.organization
    make_rate(organization, "99", project=world.agency.project, effective_from=date(2026, 10, 20))
    member = world.agency.member
    for amount, day in (("40", date(2026, 10, 20)), ("45", date(2026, 11, 3))):
        make_rate(organization, amount, kind=RateKind.COST, membership=member, effective_from=day)
    expected = rate_boundaries(organization.pk, organization.timezone)
    found = book_boundaries(RateBook.load(organization))
    assert found == expected
    # Berlin midnight: 23:00 UTC in winter.
    assert datetime(2026, 11, 2, 23, tzinfo=UTC) in found
    assert len([b for b in found if b.date() == date(2026, 10, 19)]) == 1  # one day, once


def test_marks_are_taken_away_and_months_are_not_built_twice(world, later, monkeypatch):
    window = TimeFilter(start=world.start, end=world.end)
    assert DirtyDay.objects.exists()  # the world's entries were written
    time_report(world.agency.owner, window, by=("project",), zone=ZONE)
    assert not DirtyDay.objects.filter(organization_id=world.agency.organization.pk).exists()
    rows = MonthTotal.objects.count()
    states = list(MonthState.objects.order_by("month").values_list("pk", "built_at"))
    for _ in range(3):
        time_report(world.agency.owner, window, by=("client", "month"), zone=ZONE)
    assert MonthTotal.objects.count() == rows
    assert list(MonthState.objects.order_by("month").values_list("pk", "built_at")) == states


@pytest.mark.django_db(transaction=True)
def test_two_reports_at_once_build_each_month_once(world, later, monkeypatch):
    window = TimeFilter(start=world.start, end=world.end)
    # No marks to take: nothing but the lock keeps the two builders apart (the marks' row
    # locks would otherwise queue the second one behind the first).
    DirtyDay.objects.all().delete()
    _, failures = at_once(
        lambda: time_report(world.agency.owner, window, by=("project",), zone=ZONE)
    )
    assert failures == []
    keys = list(
        MonthTotal.objects.values_list("month", "membership_id", "project_id", "task_id", "period")
    )
    assert keys
    assert len(keys) == len(set(keys))
    assert MonthState.objects.count() == 2
    kept, scanned = both(world.agency.owner, window, ("project", "month"), monkeypatch)
    assert kept == scanned


@pytest.mark.django_db
def test_the_marking_triggers_survive_every_migration():
    """SQLite drops a table's triggers when a migration remakes the table: the triggers'
    migration must come after every such migration of entries and projects."""
    from punchclock.reports.triggers import SQLITE_DROP

    names = {statement.rsplit(" ", 1)[-1] for statement in SQLITE_DROP}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        found = {row[0] for row in cursor.fetchall()}
    assert names <= found


def test_an_hours_only_caller_builds_months_a_priced_report_can_read(world, later, monkeypatch):
    """Budgets of hours and charts ask without prices, rate periods or per-day rounding;
    the months they make kept must still be right for the priced report, and the two
    callers must not rebuild each other's months."""
    from punchclock.reports.query import Plan, aggregate, scope_for

    agency = world.agency
    bare = Plan(
        by=("project",),
        pricing=False,
        rate_boundaries=[],
        viewer_zone=ZONE,
        org_zone=ZONE,
        day_rounding=False,
    )
    window = TimeFilter(start=world.start, end=world.end)
    aggregate(scope_for(agency.owner), window, bare)
    built = list(MonthState.objects.order_by("month").values_list("pk", "built_at"))
    assert len(built) == 2
    kept, scanned = both(agency.owner, window, ("project", "person"), monkeypatch)
    assert kept == scanned
    assert kept == expected_cells(world, ("project", "person"))
    aggregate(scope_for(agency.owner), window, bare)
    assert list(MonthState.objects.order_by("month").values_list("pk", "built_at")) == built


def _writes(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured
        if q["sql"].lstrip().upper().startswith(("BEGIN", "INSERT", "UPDATE", "DELETE"))
    ]


def test_a_report_over_fresh_kept_months_writes_nothing(world, later, monkeypatch):
    """Kept months up to date and no mark that touches them: the report only reads (on
    SQLite a write transaction would queue every report behind every writer). A mark
    elsewhere waits; a mark in a kept month sends the report through the lock again."""
    from django.test.utils import CaptureQueriesContext

    viewer, window = world.agency.owner, TimeFilter(start=world.start, end=world.end)
    both(viewer, window, ("project", "month"), monkeypatch)
    with CaptureQueriesContext(connection) as read_only:
        time_report(viewer, window, by=("project", "month"), zone=ZONE)
    assert _writes(read_only.captured_queries) == []
    # A mark in December, outside both months and the days next to them: still no write.
    DirtyDay.objects.create(organization_id=viewer.organization_id, day=date(2026, 12, 2))
    with CaptureQueriesContext(connection) as elsewhere:
        time_report(viewer, window, by=("project", "month"), zone=ZONE)
    assert _writes(elsewhere.captured_queries) == []
    assert DirtyDay.objects.filter(day=date(2026, 12, 2)).exists()
    # 1 December in UTC is still 30 November in a zone behind UTC: it touches November.
    DirtyDay.objects.create(organization_id=viewer.organization_id, day=date(2026, 12, 1))
    with CaptureQueriesContext(connection) as touched:
        time_report(viewer, window, by=("project", "month"), zone=ZONE)
    assert any("reports_dirtyday" in sql for sql in _writes(touched.captured_queries))
    assert not DirtyDay.objects.exists()  # every mark absorbed, December's too
    entry = _an_october_entry(world)
    an_hour_more_in_raw_sql(entry)
    kept, scanned = both(viewer, window, ("project", "month"), monkeypatch)
    assert kept == scanned
