"""Every cell of every grouping equals the entries summed one by one, to the second and cent."""

from __future__ import annotations

import itertools

import pytest

from punchclock.reports.query import DIMENSIONS, TimeFilter
from punchclock.reports.timereport import TOTAL, time_report
from tests.reports.conftest import ZONE, oracle


def cells_of(report) -> dict[tuple, tuple]:
    out = {TOTAL: _figures(report.total)}
    for group in report.groups:
        out[(group.key,)] = _figures(group.figures)
        for child in group.children:
            out[(group.key, child.key)] = _figures(child.figures)
    return out


def _figures(f) -> tuple:
    return (f.seconds, f.billable_seconds, f.billed_seconds, f.amounts, f.cost)


def expected_cells(world, by, zone=ZONE, where=None) -> dict[tuple, tuple]:
    entries = [
        e
        for e in world.entries
        if world.start <= e.start < world.end and (where is None or where(e))
    ]
    found = oracle(entries, by, zone)
    cells = {
        key: (c.seconds, c.billable_seconds, c.billed_seconds, c.amounts(), c.cost())
        for key, c in found.items()
    }
    cells.setdefault(TOTAL, (0, 0, 0, {}, {}))  # an empty report still has its total
    return cells


COMBINATIONS = [(d,) for d in DIMENSIONS] + list(itertools.permutations(DIMENSIONS, 2))


def test_every_grouping_and_pair_equals_the_entries(world):
    window = TimeFilter(start=world.start, end=world.end)
    for by in COMBINATIONS:
        report = time_report(world.agency.owner, window, by=by, zone=ZONE)
        assert cells_of(report) == expected_cells(world, by), by


def test_the_total_does_not_depend_on_the_grouping(world):
    window = TimeFilter(start=world.start, end=world.end)
    totals = {
        by: _figures(time_report(world.agency.owner, window, by=by, zone=ZONE).total)
        for by in COMBINATIONS
    }
    assert len(set(map(repr, totals.values()))) == 1
    seconds = sum(e.duration_seconds for e in world.entries if world.start <= e.start < world.end)
    assert next(iter(totals.values()))[0] == seconds


def test_rounding_and_prices_are_really_exercised(world):
    report = time_report(
        world.agency.owner, TimeFilter(start=world.start, end=world.end), by=("project",), zone=ZONE
    )
    total = report.total
    assert total.billed_seconds > total.billable_seconds  # 15-minute rounding up dominates
    assert set(total.amounts) == {"EUR"}
    assert total.amounts["EUR"] > 0
    assert total.cost["EUR"] > 0


def test_days_are_cut_at_the_viewers_midnight_across_daylight_saving(world):
    report = time_report(
        world.agency.owner, TimeFilter(start=world.start, end=world.end), by=("day",), zone=ZONE
    )
    days = {g.key[0].isoformat(): g.figures.seconds for g in report.groups}
    # 21:59:30 UTC on 1 Oct is 23:59:30 in Berlin (1 Oct); 22:00 UTC is 2 Oct.
    first = next(e for e in world.entries if e.start.isoformat().startswith("2026-10-01T21:59"))
    second = next(e for e in world.entries if e.start.isoformat().startswith("2026-10-01T22:00"))
    assert days["2026-10-01"] >= first.duration_seconds
    assert "2026-10-02" in days
    assert days["2026-10-02"] >= second.duration_seconds
    assert "2026-09-30" not in days  # 21:59 UTC on 30 Sep is before the period
    # The same data in UTC days moves the boundary entries.
    utc = time_report(
        world.agency.owner, TimeFilter(start=world.start, end=world.end), by=("day",), zone="UTC"
    )
    assert {g.key[0].isoformat(): g.figures.seconds for g in utc.groups} != days
    assert cells_of(utc) == expected_cells(world, ("day",), zone="UTC")


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"])
def test_other_viewer_zones_cut_their_own_days_and_months(world, zone):
    window = TimeFilter(start=world.start, end=world.end)
    for by in (("month", "week"), ("week", "day")):
        report = time_report(world.agency.owner, window, by=by, zone=zone)
        assert cells_of(report) == expected_cells(world, by, zone=zone), (zone, by)
