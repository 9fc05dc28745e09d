"""Kept week totals (reports.monthly, grain "week"): reports by week read whole closed
weeks from their totals and give what the entries give, and every change shows.

Like the month tests beside it, each report runs from kept weeks and from a scan
(query.KEEP_MONTHS off), and against the entry-by-entry oracle where it can. The world's
two months hold the change to winter time (25 October in Berlin) inside a kept week, and
begin and end mid-week, so both edges are scanned.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from punchclock.reports import query
from punchclock.reports.models import MonthState, MonthTotal
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import time_report
from punchclock.tracking.models import TimeEntry
from tests.factories import make_rate
from tests.reports.conftest import ZONE
from tests.reports.test_kept_months import (  # noqa: F401 - later is a fixture
    _an_october_entry,
    an_hour_more_in_raw_sql,
    both,
    later,
    longer_through_the_orm,
    round_days_down,
)
from tests.reports.test_totals_match_entries import cells_of, expected_cells

KEYS = ["client", "project", "task", "person"]
GROUPINGS = [("week",)] + [("week", k) for k in KEYS] + [(k, "week") for k in KEYS]
# Whole weeks of October and November 2026 (Berlin) that ended before January 2027.
MONDAYS = {date(2026, 10, 5) + timedelta(weeks=n) for n in range(8)}


def _weeks() -> set[date]:
    return set(MonthTotal.objects.filter(grain="week").values_list("month", flat=True))


def test_kept_weeks_give_every_grouping_as_the_entries_do(world, later, monkeypatch):  # noqa: F811
    window = TimeFilter(start=world.start, end=world.end)
    for by in GROUPINGS:
        kept, scanned = both(world.agency.owner, window, by, monkeypatch)
        assert kept == expected_cells(world, by), by
        assert kept == scanned, by
    assert _weeks() == MONDAYS  # read from kept weeks; the edges (1–4 Oct, 30 Nov) scanned
    assert set(MonthState.objects.filter(grain="week").values_list("month", flat=True)) == MONDAYS
    # The range is two whole months: the lines that span it come from them (decision 0022).
    months = set(MonthTotal.objects.filter(grain="month").values_list("month", flat=True))
    assert months == {date(2026, 10, 1), date(2026, 11, 1)}


def test_weeks_and_months_kept_side_by_side_stay_apart(world, later, monkeypatch):  # noqa: F811
    window = TimeFilter(start=world.start, end=world.end)
    viewer = world.agency.owner
    for by in (("project", "week"), ("project", "month"), ("week",), ("client",)):
        kept, scanned = both(viewer, window, by, monkeypatch)
        assert kept == expected_cells(world, by), by
        assert kept == scanned, by
    assert _weeks() == MONDAYS
    months = set(MonthTotal.objects.filter(grain="month").values_list("month", flat=True))
    assert months == {date(2026, 10, 1), date(2026, 11, 1)}


@pytest.mark.parametrize("where", [{"billable": True}, {"billable": False}, "member", "project"])
def test_filters_and_roles_on_kept_weeks_match_the_scan(world, later, monkeypatch, where):  # noqa: F811
    agency = world.agency
    filters = {
        "member": {"people": (agency.member.pk,)},
        "project": {"projects": (agency.project.pk,)},
    }
    chosen = filters[where] if isinstance(where, str) else where
    window = TimeFilter(start=world.start, end=world.end, **chosen)
    for viewer in (agency.owner, agency.manager, agency.member):
        kept, scanned = both(viewer, window, ("person", "week"), monkeypatch)
        assert kept == scanned, (chosen, viewer.role)


def test_the_running_week_is_never_kept(world, monkeypatch):
    from punchclock.reports import monthly

    # Wednesday 18 November: the weeks up to Monday 9 November have ended.
    monkeypatch.setattr(monthly, "now", lambda: datetime(2026, 11, 18, 12, tzinfo=UTC))
    window = TimeFilter(start=world.start, end=world.end)
    kept, scanned = both(world.agency.owner, window, ("week",), monkeypatch)
    assert kept == scanned
    assert max(_weeks()) == date(2026, 11, 9)


def _kept_weeks_then(world, monkeypatch, change, by=("project", "week")) -> None:
    window = TimeFilter(start=world.start, end=world.end)
    viewer = world.agency.owner
    before, _ = both(viewer, window, by, monkeypatch)
    assert _weeks() == MONDAYS
    change()
    after, scanned = both(viewer, window, by, monkeypatch)
    assert after == scanned
    assert after != before, f"the change should show in the report ({by})"


def test_an_entry_edited_or_moved_to_another_week_shows(world, later, monkeypatch):  # noqa: F811
    entry = _an_october_entry(world)

    _kept_weeks_then(world, monkeypatch, lambda: longer_through_the_orm(entry))
    moved = timedelta(days=9)
    _kept_weeks_then(
        world,
        monkeypatch,
        lambda: TimeEntry.objects.filter(pk=entry.pk).update(
            start=entry.start + moved, end=entry.end + moved
        ),
        by=("week",),
    )


def test_raw_sql_and_a_deleted_entry_show(world, later, monkeypatch):  # noqa: F811
    entry = _an_october_entry(world)

    _kept_weeks_then(world, monkeypatch, lambda: an_hour_more_in_raw_sql(entry))
    _kept_weeks_then(world, monkeypatch, lambda: TimeEntry.objects.filter(pk=entry.pk).delete())


def test_a_changed_rounding_rule_shows_in_weeks_kept_alone(world, later, monkeypatch):  # noqa: F811
    """Only weeks are kept (no month report ran): the rounding trigger still finds them."""
    from punchclock.reports import timereport

    project = world.agency.project
    # Reports by week over whole months read their lines from kept months: not here.
    monkeypatch.setattr(timereport, "whole_months", lambda *args: None)
    _kept_weeks_then(world, monkeypatch, lambda: round_days_down(project))
    assert not MonthTotal.objects.filter(grain="month").exists()
    window = TimeFilter(start=world.start, end=world.end)
    kept, _ = both(world.agency.owner, window, ("project", "week"), monkeypatch)
    assert kept == expected_cells(world, ("project", "week"))


def test_a_backdated_rate_reprices_kept_weeks(world, later, monkeypatch):  # noqa: F811
    agency = world.agency
    window = TimeFilter(start=world.start, end=world.end)
    both(agency.owner, window, ("person", "week"), monkeypatch)
    built = dict(MonthState.objects.filter(grain="week").values_list("month", "fingerprint"))
    make_rate(agency.organization, "99", project=agency.project, effective_from=date(2026, 10, 21))
    kept, scanned = both(agency.owner, window, ("person", "week"), monkeypatch)
    assert kept == scanned
    assert kept == expected_cells(world, ("person", "week"))
    now_built = dict(MonthState.objects.filter(grain="week").values_list("month", "fingerprint"))
    # Weeks that ended before the new rate keep their totals; the rest were rebuilt.
    assert {m for m in built if now_built[m] == built[m]} == {
        m for m in MONDAYS if m + timedelta(days=7) <= date(2026, 10, 21)
    }


NOVEMBER_20 = datetime(2026, 11, 19, 23, tzinfo=UTC)  # 20 Nov, Berlin midnight


def test_a_month_edge_reads_its_kept_weeks_when_they_are_fresh(world, later, monkeypatch):  # noqa: F811
    """October is a kept month; 1–19 November is the edge. In a priced report its whole
    weeks (2–8 and 9–15 November) come from kept weeks once a week report has built them,
    the days around them from the entries; never built for the edge, and scanned while
    marked."""
    from punchclock.reports import monthly
    from tests.reports.test_kept_amounts import three_ways

    viewer = world.agency.owner
    calls: list[list[date]] = []
    real = monthly.read_weeks_of_month

    def spy(scope, where, plan, weeks, month):
        calls.append(weeks)
        return real(scope, where, plan, weeks, month)

    monkeypatch.setattr(monthly, "read_weeks_of_month", spy)
    window = TimeFilter(start=world.start, end=NOVEMBER_20)
    before_november_20 = lambda e: e.start < NOVEMBER_20  # noqa: E731
    kept, _ = both(viewer, window, ("project", "month"), monkeypatch)
    assert kept == expected_cells(world, ("project", "month"), where=before_november_20)
    assert calls == []  # no kept weeks yet, and the edge builds none
    assert not MonthState.objects.filter(grain="week").exists()
    both(viewer, TimeFilter(start=world.start, end=world.end), ("week",), monkeypatch)
    groupings = [
        ("project", "month"),
        ("month",),
        ("client",),
        ("person", "task"),
        ("month", "person"),
    ]
    for by in groupings:
        calls.clear()
        amounts, priced, scanned = three_ways(viewer, window, by, monkeypatch)
        assert amounts == expected_cells(world, by, where=before_november_20), by
        assert amounts == priced == scanned, by
        assert calls[:1] == [[date(2026, 11, 2), date(2026, 11, 9)]], by
    for where in (
        TimeFilter(start=world.start, end=NOVEMBER_20, billable=True, invoiced=False),
        TimeFilter(start=world.start, end=NOVEMBER_20, projects=(world.agency.project.pk,)),
    ):
        amounts, priced, scanned = three_ways(viewer, where, ("client", "month"), monkeypatch)
        assert amounts == priced == scanned
    # Hours alone (a chart): its scan is cheap, the edge is scanned.
    calls.clear()
    hours = time_report(viewer, window, by=("month",), zone=ZONE, hours_only=True)
    monkeypatch.setattr(query, "KEEP_MONTHS", False)
    scanned_hours = time_report(viewer, window, by=("month",), zone=ZONE, hours_only=True)
    monkeypatch.setattr(query, "KEEP_MONTHS", True)
    assert calls == []
    assert [(g.key, g.figures.seconds) for g in hours.groups] == [
        (g.key, g.figures.seconds) for g in scanned_hours.groups
    ]
    # An hour more on 10 November, in raw SQL: that week is marked, the edge is scanned.
    entry = next(
        e
        for e in sorted(world.entries, key=lambda e: e.pk)
        if datetime(2026, 11, 9, 23, tzinfo=UTC) < e.start < datetime(2026, 11, 14, tzinfo=UTC)
        and e.end is not None
    )
    an_hour_more_in_raw_sql(entry)
    calls.clear()
    kept, scanned = both(viewer, window, ("project", "month"), monkeypatch)
    assert calls == []
    assert kept == scanned


def test_without_costs_an_edges_kept_weeks_are_read_with_the_months_lines(
    world,
    later,  # noqa: F811
    monkeypatch,
):
    """The unbilled views (no cost, not by the period): October is a kept month, 1–19
    November the edge, and once kept its whole weeks (2–8 and 9–15 November) are summed
    per line in the same read as October's lines, not read again as rows to price. The
    days around them are scanned. A rate whose amount changed after the weeks were priced
    makes them stale, and then the edge is scanned."""
    import itertools

    from punchclock.projects.models import Rate, RateKind
    from punchclock.reports import monthly
    from tests.reports import conftest
    from tests.reports.test_kept_amounts import three_ways_without_cost

    viewer = world.agency.owner
    with_lines: list[tuple[date, ...]] = []
    as_rows: list[list[date]] = []
    real_lines, real_rows = monthly.read_lines, monthly.read_weeks_of_month

    def lines_spy(*args, **kwargs):
        with_lines.append(tuple(kwargs.get("weeks", ())))
        return real_lines(*args, **kwargs)

    def rows_spy(scope, where, plan, weeks, month):
        as_rows.append(weeks)
        return real_rows(scope, where, plan, weeks, month)

    monkeypatch.setattr(monthly, "read_lines", lines_spy)
    monkeypatch.setattr(monthly, "read_weeks_of_month", rows_spy)
    both(viewer, TimeFilter(start=world.start, end=world.end), ("week",), monkeypatch)
    november = (date(2026, 11, 2), date(2026, 11, 9))
    groupings = [(k,) for k in KEYS] + list(itertools.permutations(KEYS, 2))
    for where, keeps in (
        (TimeFilter(start=world.start, end=NOVEMBER_20), lambda e: e.start < NOVEMBER_20),
        (
            TimeFilter(start=world.start, end=NOVEMBER_20, billable=True, invoiced=False),
            lambda e: e.start < NOVEMBER_20 and e.billable and not e.invoiced,
        ),
    ):
        for by in groupings:
            with_lines.clear()
            as_rows.clear()
            lines = cells_of(time_report(viewer, where, by=by, zone=ZONE, cost=False))
            assert with_lines == [november], (where, by)
            assert as_rows == [], (where, by)
            expected = expected_cells(world, by, where=keeps)
            assert lines == {key: (*cell[:4], {}) for key, cell in expected.items()}, (where, by)
            again, priced, scanned = three_ways_without_cost(viewer, where, by, monkeypatch)
            assert again == lines == priced == scanned, (where, by)
    # The rate in force in November costs a euro more, and a report of October alone has
    # repriced October since: the kept weeks still hold the old rate.
    rate = (
        Rate.objects.filter(organization=world.agency.organization, kind=RateKind.BILL)
        .order_by("-effective_from")
        .first()
    )
    Rate.objects.filter(pk=rate.pk).update(amount=rate.amount + 1)
    conftest._QUOTES.clear()  # the oracle's rates, as they are now
    october = TimeFilter(start=world.start, end=datetime(2026, 10, 31, 23, tzinfo=UTC))
    time_report(viewer, october, by=("project", "month"), zone=ZONE)
    with_lines.clear()
    where = TimeFilter(start=world.start, end=NOVEMBER_20)
    lines = cells_of(time_report(viewer, where, by=("client", "project"), zone=ZONE, cost=False))
    assert with_lines == [()]  # the weeks' rates no longer hold: not read as lines
    monkeypatch.setattr(query, "KEEP_MONTHS", False)
    scanned = cells_of(time_report(viewer, where, by=("client", "project"), zone=ZONE, cost=False))
    assert lines == scanned
    expected = expected_cells(world, ("client", "project"), where=lambda e: e.start < NOVEMBER_20)
    assert lines == {key: (*cell[:4], {}) for key, cell in expected.items()}
