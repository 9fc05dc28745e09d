"""Reports by month or week add up the kept periods' line amounts (decision 0021).

Each report runs three ways: from the kept line amounts, from the kept sums priced row by
row (timereport.KEEP_AMOUNTS off), and from a scan of the entries (query.KEEP_MONTHS off);
the entry-by-entry oracle checks them where it can. A spy on monthly.read_amounts proves
the first way was taken. Then the rates behind kept amounts change in ways no entry
trigger sees, and the next report must price with the new ones.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from punchclock.projects.models import BillingMethod, Rate
from punchclock.reports import monthly, query, timereport
from punchclock.reports.models import MonthState, MonthTotal
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import TOTAL, time_report
from punchclock.tracking import services
from tests.factories import make_client, make_project, make_rate
from tests.reports.conftest import _QUOTES, ZONE, keys_of, spy_calls
from tests.reports.test_kept_months import later  # noqa: F401 - a fixture
from tests.reports.test_totals_match_entries import cells_of, expected_cells

KEYS = ["client", "project", "task", "person"]
BY_MONTH = [("month",)] + [p for p in itertools.permutations([*KEYS, "month"], 2) if "month" in p]
BY_WEEK = [("week",)] + [("week", k) for k in KEYS] + [(k, "week") for k in KEYS]


@pytest.fixture
def reads(monkeypatch) -> list[tuple]:
    """The groupings monthly.read_amounts was asked for."""
    return spy_calls(monkeypatch, monthly, "read_amounts", lambda scope, where, plan, *_: plan.by)


def three_ways(viewer, where, by, monkeypatch):
    """The report from kept amounts, from kept sums priced row by row, and scanned."""
    amounts = cells_of(time_report(viewer, where, by=by, zone=ZONE))
    monkeypatch.setattr(timereport, "KEEP_AMOUNTS", False)
    try:
        priced = cells_of(time_report(viewer, where, by=by, zone=ZONE))
        monkeypatch.setattr(query, "KEEP_MONTHS", False)
        scanned = cells_of(time_report(viewer, where, by=by, zone=ZONE))
    finally:
        monkeypatch.setattr(timereport, "KEEP_AMOUNTS", True)
        monkeypatch.setattr(query, "KEEP_MONTHS", True)
    return amounts, priced, scanned


def test_every_grouping_by_period_adds_up_kept_amounts(world, later, monkeypatch, reads):  # noqa: F811
    window = TimeFilter(start=world.start, end=world.end)
    for by in BY_MONTH + BY_WEEK:
        amounts, priced, scanned = three_ways(world.agency.owner, window, by, monkeypatch)
        assert amounts == expected_cells(world, by), by
        assert amounts == priced == scanned, by
    assert reads == BY_MONTH + BY_WEEK
    # The world prices both currencies' worth of lines: the amounts really are money.
    assert MonthTotal.objects.filter(amount_minor__gt=0).exists()


@pytest.mark.parametrize(
    "chosen",
    [
        {"billable": True},
        {"billable": False},
        {"invoiced": False},
        "client",
        "project",
        "people",
    ],
)
def test_filters_on_kept_amounts_match_the_other_ways(world, later, monkeypatch, reads, chosen):  # noqa: F811
    agency = world.agency
    named = {
        "client": {"clients": (agency.project.client_id,)},
        "project": {"projects": (agency.other_project.pk,)},
        "people": {"people": (agency.member.pk, agency.admin.pk)},
    }
    where = TimeFilter(
        start=world.start,
        end=world.end,
        **(named[chosen] if isinstance(chosen, str) else chosen),
    )
    groupings = [("person", "month"), ("month", "project"), ("task", "week")]
    for by in groupings:
        amounts, priced, scanned = three_ways(agency.owner, where, by, monkeypatch)
        assert amounts == priced == scanned, (chosen, by)
    assert reads == groupings


def test_only_owners_and_admins_read_kept_amounts(world, later, monkeypatch, reads):  # noqa: F811
    agency = world.agency
    window = TimeFilter(start=world.start, end=world.end)
    for viewer in (agency.manager, agency.member):
        amounts, priced, scanned = three_ways(viewer, window, ("project", "month"), monkeypatch)
        assert amounts == priced == scanned, viewer.role
    assert reads == []  # managers see money of their projects alone: priced row by row


OCTOBER_END = datetime(2026, 10, 31, 23, tzinfo=UTC)  # 1 Nov, Berlin midnight


def test_a_report_by_week_over_whole_months_reads_its_lines_from_kept_months(
    world,
    later,  # noqa: F811
    monkeypatch,
):
    """October and November are whole kept months: the total's and the first level's
    lines, which span the range, come from them, and the partial weeks at both ends price
    only their own week cells. Half of November is no whole month: weeks give the lines."""
    grains: list[str] = []
    real = monthly.read_lines

    def spy(scope, where, plan, months, grain, **kwargs):
        grains.append(grain.name)
        return real(scope, where, plan, months, grain, **kwargs)

    monkeypatch.setattr(monthly, "read_lines", spy)
    mid_november = datetime(2026, 11, 15, 23, tzinfo=UTC)  # 16 Nov, Berlin midnight
    for end, lines_from in ((world.end, "month"), (mid_november, "week")):
        where = TimeFilter(start=world.start, end=end)
        for by in (("person", "week"), ("week", "client"), ("week",)):
            grains.clear()
            amounts, priced, scanned = three_ways(world.agency.owner, where, by, monkeypatch)
            assert amounts == expected_cells(world, by, where=lambda e, end=end: e.start < end)
            assert amounts == priced == scanned, (end, by)
            assert grains[0] == lines_from, (end, by)


def test_a_range_of_one_kept_month_adds_up_kept_amounts_in_every_grouping(
    world,
    later,  # noqa: F811
    monkeypatch,
    reads,
):
    """One kept month and nothing around it: every line lies inside it, so any grouping's
    cells, the total too, are sums of kept line amounts, with the same unpriced time."""
    agency = world.agency
    groupings = [(k,) for k in KEYS] + list(itertools.permutations(KEYS, 2)) + [("month",)]
    in_october = TimeFilter(start=world.start, end=OCTOBER_END)
    for by in groupings:
        amounts, priced, scanned = three_ways(agency.owner, in_october, by, monkeypatch)
        assert amounts == expected_cells(world, by, where=lambda e: e.start < OCTOBER_END), by
        assert amounts == priced == scanned, by
    assert reads == groupings
    for chosen in ({"billable": True}, {"billable": False}, {"invoiced": False}):
        where = TimeFilter(start=world.start, end=OCTOBER_END, **chosen)
        for by in (("client", "person"), ("task",)):
            amounts, priced, scanned = three_ways(agency.owner, where, by, monkeypatch)
            assert amounts == priced == scanned, (chosen, by)
    # A client in a currency no rate is in: its billable time is unpriced, the same each way.
    swiss = make_client(agency.organization, "Initech", currency="CHF")
    bare = make_project(swiss, "No rate yet")
    start = datetime(2026, 10, 14, 8, tzinfo=UTC)
    services.add_entry(
        agency.owner, by=agency.owner, project=bare, start=start, end=start + timedelta(hours=2)
    )
    unpriced = []
    for keep_amounts, keep_months in ((True, True), (False, True), (False, False)):
        monkeypatch.setattr(timereport, "KEEP_AMOUNTS", keep_amounts)
        monkeypatch.setattr(query, "KEEP_MONTHS", keep_months)
        report = time_report(agency.owner, in_october, by=("project",), zone=ZONE)
        unpriced.append(report.unpriced_seconds)
    assert unpriced[0] >= 7200
    assert unpriced == [unpriced[0]] * 3
    # A range that reaches outside its one kept month still rounds the first level's lines
    # across the whole range (the month amounts alone would be wrong there).
    reads.clear()
    monkeypatch.setattr(timereport, "KEEP_AMOUNTS", True)
    monkeypatch.setattr(query, "KEEP_MONTHS", True)
    time_report(agency.owner, TimeFilter(start=world.start, end=world.end), by=("project",))
    assert reads == []


TAGGED = (
    [("tag",)] + [("tag", k) for k in (*KEYS, "month")] + [(k, "tag") for k in (*KEYS, "month")]
)


def test_a_report_by_tag_takes_its_untagged_cells_from_the_same_report_without_the_tag(
    world,
    later,  # noqa: F811
    monkeypatch,
    reads,
):
    """An entry with two tags counts under both, but once in the total and in a first
    level that is not the tag: those cells are the report grouped without the tag
    (decision 0029), which adds up kept amounts over one kept month; the tag's cells are
    scanned. Every cell equals the entries and the other two ways."""
    assert any(len(keys_of(e, "tag", ZONE)) == 2 for e in world.entries)  # counted twice
    in_october = TimeFilter(start=world.start, end=OCTOBER_END)
    for window, where in ((in_october, lambda e: e.start < OCTOBER_END), (None, None)):
        window = window or TimeFilter(start=world.start, end=world.end)
        reads.clear()
        for by in TAGGED:
            amounts, priced, scanned = three_ways(world.agency.owner, window, by, monkeypatch)
            assert amounts == expected_cells(world, by, where=where), by
            assert amounts == priced == scanned, by
        untagged = [tuple(k for k in by if k != "tag") or ("person",) for by in TAGGED]
        if window is in_october:  # one kept month: every grouping reads its amounts
            assert reads == untagged
        else:  # two: the groupings by month
            assert reads == [by for by in untagged if "month" in by]


def test_time_written_between_a_tag_reports_two_reads_does_not_fail_it(world, monkeypatch):
    """The tag's cells are read after the report without the tag: an entry of a new
    client written in between gives a pair whose client the first read did not see."""
    agency = world.agency
    scan = timereport.aggregate

    def entry_written_first(*args, **kwargs):
        client = make_client(agency.organization, "Late Ltd")
        project = make_project(client, "Late project")
        start = datetime(2026, 10, 20, 9, tzinfo=UTC)
        services.add_entry(
            agency.owner,
            by=agency.owner,
            project=project,
            start=start,
            end=start + timedelta(hours=1),
        )
        monkeypatch.setattr(timereport, "aggregate", scan)
        return scan(*args, **kwargs)

    monkeypatch.setattr(timereport, "aggregate", entry_written_first)
    window = TimeFilter(start=world.start, end=world.end)
    report = time_report(agency.owner, window, by=("client", "tag"), zone=ZONE)
    late = next(group for group in report.groups if group.label == "Late Ltd")
    assert late.figures.seconds == 0  # the first read's figures: it was not there yet
    assert [child.figures.seconds for child in late.children] == [3600]
    again = time_report(agency.owner, window, by=("client", "tag"), zone=ZONE)
    assert next(g for g in again.groups if g.label == "Late Ltd").figures.seconds == 3600


def _priced(world, by, monkeypatch, *, oracle=True):
    window = TimeFilter(start=world.start, end=world.end)
    amounts, priced, scanned = three_ways(world.agency.owner, window, by, monkeypatch)
    assert amounts == priced == scanned
    if oracle:  # (the oracle prices every project by the hour)
        assert amounts == expected_cells(world, by)
    return amounts


def test_a_rate_changed_in_place_reprices_the_kept_periods(world, later, monkeypatch, reads):  # noqa: F811
    before = _priced(world, ("project", "month"), monkeypatch)
    # No new rate, no new rate period, no entry touched: only the amount of the rate.
    rate = Rate.objects.get(project=world.agency.project, effective_from=date(2026, 10, 26))
    Rate.objects.filter(pk=rate.pk).update(amount=Decimal("150.0000"))
    _QUOTES.clear()  # the oracle's own memory of rates
    window = TimeFilter(start=world.start, end=world.end)
    time_report(world.agency.owner, window, by=("project", "month"), zone=ZONE)
    # That one report found the moved price and built the periods again.
    assert MonthTotal.objects.filter(bill_rate=150 * timereport.SCALE).exists()
    after = _priced(world, ("project", "month"), monkeypatch)
    assert after[TOTAL][3] != before[TOTAL][3]


def test_a_project_turned_fixed_fee_drops_its_kept_amounts(world, later, monkeypatch, reads):  # noqa: F811
    _priced(world, ("month", "project"), monkeypatch)
    project = world.agency.other_project
    project.billing_method = BillingMethod.FIXED_FEE
    project.save(update_fields=["billing_method"])
    after = _priced(world, ("month", "project"), monkeypatch, oracle=False)
    for month in (date(2026, 10, 1), date(2026, 11, 1)):
        assert after[((month,), (project.pk,))][3] == {}
        assert after[((month,), (world.agency.project.pk,))][3] != {}


def test_a_client_moved_to_another_currency_reprices_the_kept_periods(
    world,
    later,  # noqa: F811
    monkeypatch,
    reads,
):
    make_rate(world.agency.organization, "120", currency="USD", effective_from=date(2026, 1, 1))
    before = _priced(world, ("client", "month"), monkeypatch)
    # Only the client's currency changes: no rate, no project, no entry.
    client = world.agency.other_project.client
    type(client).objects.filter(pk=client.pk).update(currency="USD")
    after = _priced(world, ("client", "month"), monkeypatch, oracle=False)
    assert "USD" in after[TOTAL][3]
    assert after[TOTAL][3] != before[TOTAL][3]
    assert MonthTotal.objects.filter(bill_currency="USD").exists()


def test_rate_periods_with_one_rate_are_one_line_rounded_once(agency, later, monkeypatch, reads):  # noqa: F811
    """Two 18-second entries at 1.00 an hour are half a cent each: one line of 36 seconds
    is 0.01, two lines would be 0.02. Rates of another project starting between them
    split the rate periods, not the line; the line's first period holds non-billable time
    alone, which a report of billable time leaves out, and the amount with it unless it
    sits where the billed time is."""
    org = agency.organization
    org.timezone = ZONE
    org.save(update_fields=["timezone"])
    project = agency.project
    other = make_project(project.client, "Other")
    make_rate(org, "1", project=project, effective_from=date(2026, 1, 1))
    make_rate(org, "70", project=other, effective_from=date(2026, 10, 15))
    make_rate(org, "75", project=other, effective_from=date(2026, 10, 25))
    for day, seconds, billable in ((3, 600, False), (20, 18, True), (28, 18, True)):
        start = datetime(2026, 10, day, 9, tzinfo=UTC)
        services.add_entry(
            agency.owner,
            by=agency.owner,
            project=project,
            start=start,
            end=start + timedelta(seconds=seconds),
            billable=billable,
        )
    start, end = datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 31, 23, tzinfo=UTC)
    cell = ((project.pk,), (date(2026, 10, 1),))
    for billable in (None, True):
        where = TimeFilter(start=start, end=end, billable=billable)
        amounts, priced, scanned = three_ways(
            agency.owner, where, ("project", "month"), monkeypatch
        )
        assert amounts == priced == scanned
        assert amounts[cell][3] == {project.client.currency: Decimal("0.01")}
    assert len(reads) == 2
    periods = MonthTotal.objects.filter(project_id=project.pk, grain="month")
    assert sorted(periods.values_list("period", "amount_minor")) == [(1, 0), (2, 1), (3, 0)]


def test_a_change_that_moves_no_price_is_checked_once_not_rebuilt(
    world,
    later,  # noqa: F811
    monkeypatch,
    reads,
):
    _priced(world, ("client", "month"), monkeypatch)
    built = sorted(MonthTotal.objects.values_list("pk", flat=True))
    states = MonthState.objects.filter(grain="month")
    first = set(states.values_list("prices", flat=True))
    assert len(first) == 1
    assert "" not in first
    checks: list[int] = []
    real = monthly.read_rates

    def spy(*args):
        checks.append(1)
        return real(*args)

    monkeypatch.setattr(monthly, "read_rates", spy)
    _priced(world, ("client", "month"), monkeypatch)
    assert checks == []  # nothing changed: no check
    # A new project with its own rate changes the prices' digest, not a kept price.
    fresh = make_project(world.agency.project.client, "Brand new")
    make_rate(world.agency.organization, "999", project=fresh, effective_from=date(2026, 1, 1))
    _priced(world, ("client", "month"), monkeypatch)
    assert len(checks) == 1
    assert sorted(MonthTotal.objects.values_list("pk", flat=True)) == built  # not rebuilt
    assert set(states.values_list("prices", flat=True)) not in ({""}, first)
    _priced(world, ("client", "month"), monkeypatch)
    assert len(checks) == 1  # checked once


def three_ways_without_cost(viewer, where, by, monkeypatch):
    def report():
        return cells_of(time_report(viewer, where, by=by, zone=ZONE, cost=False))

    lines = report()
    monkeypatch.setattr(timereport, "KEEP_AMOUNTS", False)
    try:
        priced = report()
        monkeypatch.setattr(query, "KEEP_MONTHS", False)
        scanned = report()
    finally:
        monkeypatch.setattr(timereport, "KEEP_AMOUNTS", True)
        monkeypatch.setattr(query, "KEEP_MONTHS", True)
    return lines, priced, scanned


def test_without_costs_any_grouping_reads_kept_lines_alone(world, later, monkeypatch):  # noqa: F811
    """The unbilled views show no cost: by client and project their cells' lines, read
    once across the periods with the rates they were priced with, are all they need."""
    calls: list[int] = []
    real = monthly.read_lines

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(monthly, "read_lines", spy)
    agency = world.agency
    groupings = [(k,) for k in KEYS] + list(itertools.permutations(KEYS, 2))
    for where in (
        TimeFilter(start=world.start, end=world.end),
        TimeFilter(start=world.start, end=world.end, billable=True, invoiced=False),
    ):
        for by in groupings:
            lines, priced, scanned = three_ways_without_cost(agency.owner, where, by, monkeypatch)
            assert lines == priced == scanned, (where, by)
            assert all(cell[4] == {} for cell in lines.values())  # no cost, for the owner too
    assert len(calls) == 2 * len(groupings)
    full = TimeFilter(start=world.start, end=world.end)
    assert cells_of(time_report(agency.owner, full, by=("client",), zone=ZONE, cost=False)) == {
        key: (*cell[:4], {}) for key, cell in expected_cells(world, ("client",)).items()
    }
    calls.clear()
    time_report(agency.owner, full, by=("client",), zone=ZONE)  # with costs: priced per row
    assert calls == []


def test_a_warm_report_reads_projects_and_states_once(world, later, monkeypatch, reads):  # noqa: F811
    """Up to date kept periods: the rounding rule, the pricing digest, the pricer and the
    labels share one read of the projects, and the price stamps come with the freshness
    check's read of the periods' states."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    window = TimeFilter(start=world.start, end=world.end)
    warm = time_report(world.agency.owner, window, by=("project", "month"), zone=ZONE)
    with CaptureQueriesContext(connection) as captured:
        again = time_report(world.agency.owner, window, by=("project", "month"), zone=ZONE)
    assert cells_of(again) == cells_of(warm)
    assert reads[-1] == ("project", "month")  # from the kept amounts, both times
    sql = [q["sql"].lower() for q in captured.captured_queries]
    projects = [q for q in sql if re.search(r'from "?projects_project"?\s', q)]
    states = [q for q in sql if "reports_monthstate" in q]
    assert len(projects) == 1, projects
    assert len(states) == 1, states


def test_a_project_made_during_a_page_is_priced_by_its_later_reports(world, later, monkeypatch):  # noqa: F811
    """The page reads the projects once; a project made after that read, whose entries a
    later report of the same page finds, is read on its own (no error, priced)."""
    from punchclock.reports.query import read_once

    window = TimeFilter(start=world.start, end=world.end)
    owner = world.agency.owner
    with read_once():
        time_report(owner, window, by=("project",), zone=ZONE)
        client = make_client(world.agency.organization, "Initech", currency="EUR")
        newer = make_project(client, "Migration", code="migration")
        start = datetime(2026, 11, 20, 9, tzinfo=UTC)
        services.add_entry(
            owner, by=owner, project=newer, start=start, end=start + timedelta(hours=2)
        )
        report = time_report(owner, window, by=("project",), zone=ZONE)
        by_client = time_report(owner, window, by=("client",), zone=ZONE)
    assert {group.key: group.label for group in by_client.groups}[(client.pk,)] == "Initech"
    cells = {group.key: group.figures for group in report.groups}
    # Two hours at the organization's default rate of 80 (the rate book as the page read it).
    assert cells[(newer.pk,)].amounts == {"EUR": Decimal("160.00")}
    labels = {group.key: group.label for group in report.groups}
    assert labels[(newer.pk,)] == f"{client.code}/migration · Migration"
