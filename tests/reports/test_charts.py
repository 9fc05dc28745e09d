"""The SVG charts: labels stay inside the picture."""

from __future__ import annotations

import re
from decimal import Decimal

from punchclock.reports.charts import Series, lines


def test_a_line_charts_last_label_ends_at_the_edge_instead_of_being_cut_off():
    months = ["Sep 2026", "Oct 2026", "Nov 2026"]
    svg = str(
        lines(months, [Series("acme/api", [Decimal(1), Decimal(2), Decimal(3)])], title="Burn")
    )
    labels = re.findall(r'text-anchor="(\w+)"[^>]*>([^<]+)</text>', svg)
    anchors = {text: anchor for anchor, text in labels}
    assert anchors["Sep 2026"] == "middle"
    assert anchors["Nov 2026"] == "end"


def test_the_other_series_sums_money_exactly():
    from punchclock.reports.charts import top_series

    tenths = [Series(f"p{i}", [Decimal("0.10"), Decimal("0.20")]) for i in range(12)]
    other = top_series(tenths, limit=2)[-1]
    assert other.label == "Other"
    assert other.values == [Decimal("1.00"), Decimal("2.00")]  # floats give 0.9999999999999999


def test_series_of_seconds_rank_and_fold_as_integers_and_draw_as_exact_hours():
    """Time charts rank and fold their series in whole seconds and turn only the drawn
    ones into hours: the same bars as folding the hours themselves, the "Other" bar the
    exact hours of the seconds it holds."""
    from punchclock.reports.charts import in_hours, stacked_bars, top_series

    # Twelve series with thirds of an hour and odd seconds, which no float holds exactly.
    seconds = [Series(f"p{i}", [1200 * i + 1, 3599 * (i % 3), 7 * i]) for i in range(12)]
    days = ["Mon", "Tue", "Wed"]
    folded = top_series(seconds)
    # Totals 1,207 i + 1 + 3,599 (i mod 3): p11 20,476 s, p8 16,855, p10 15,670 and so on;
    # p6, p1, p3 and p0 are the smallest four.
    expected = ["p11", "p8", "p10", "p5", "p7", "p9", "p2", "p4", "Other"]
    assert [s.label for s in folded] == expected
    other = in_hours(folded)[-1].values
    assert other == [Decimal(12004) / 3600, Decimal(3599) / 3600, Decimal(70) / 3600]
    assert str(stacked_bars(days, in_hours(folded), title="t")) == str(
        stacked_bars(days, top_series(in_hours(seconds)), title="t")
    )


def test_the_axis_ends_near_the_largest_value_instead_of_doubling_it():
    from punchclock.reports.charts import axis

    assert axis(430) == (500, 5)  # four steps of 1, 2 or 5 × 10^n gave 800
    assert axis(99) == (100, 5)  # gave 200
    assert axis(29.6) == (30, 3)
    assert axis(0) == (3, 3)


def test_a_line_chart_names_its_unit_on_the_top_tick():
    svg = str(lines(["Oct", "Nov"], [Series("acme/api", [40, 154])], title="Burn", unit="%"))
    assert ">200%</text>" in svg


def test_the_time_chart_keeps_quiet_days_weeks_and_months_on_its_axis():
    from datetime import UTC, date, datetime

    from punchclock.reports.query import TimeFilter
    from punchclock.reports.views import _slots

    october = TimeFilter(
        start=datetime(2026, 9, 30, 22, tzinfo=UTC), end=datetime(2026, 10, 31, 23, tzinfo=UTC)
    )
    days = _slots("day", october, "Europe/Berlin", [date(2026, 10, 5), date(2026, 10, 9)])
    assert days[0] == date(2026, 10, 1)
    assert days[-1] == date(2026, 10, 31)
    assert len(days) == 31  # the weekends and idle days too
    weeks = _slots("week", october, "Europe/Berlin", [date(2026, 10, 5)])
    assert weeks == [
        date(2026, 9, 28),
        date(2026, 10, 5),
        date(2026, 10, 12),
        date(2026, 10, 19),
        date(2026, 10, 26),
    ]
    year = TimeFilter(
        start=datetime(2025, 12, 31, 23, tzinfo=UTC), end=datetime(2026, 12, 31, 23, tzinfo=UTC)
    )
    months = _slots("month", year, "Europe/Berlin", [date(2026, 5, 1)])
    assert months[0] == date(2026, 1, 1)  # January to April were quiet: still on the axis
    assert date(2026, 5, 1) in months
    assert months[-1] <= date(2026, 12, 1)
    assert months == sorted(set(months))


def test_a_report_that_holds_the_charts_cells_draws_the_same_chart_without_a_query(world):
    """A year by client and month is already the chart's "hours by client per month": the
    page draws it from the report; a year by client and person asks for it separately."""
    from datetime import UTC, datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from punchclock.reports.params import ReportRequest
    from punchclock.reports.query import TimeFilter
    from punchclock.reports.timereport import time_report
    from punchclock.reports.views import _chart
    from tests.reports.conftest import ZONE

    owner = world.agency.owner
    year = TimeFilter(
        start=datetime(2025, 12, 31, 23, tzinfo=UTC), end=datetime(2026, 12, 31, 23, tzinfo=UTC)
    )
    drawn = {}
    for by in (("client", "month"), ("client", "person")):
        report = time_report(owner, year, by=by, zone=ZONE)
        ask = ReportRequest(where=year, by=by, period="custom", first=None, last=None)
        with CaptureQueriesContext(connection) as queries:
            drawn[by] = str(_chart(owner, ask, report))
        drawn[(by, "queries")] = len(queries.captured_queries)
    assert drawn[("client", "month")] == drawn[("client", "person")]
    assert "Hours by client per month" in drawn[("client", "month")]
    assert drawn[(("client", "month"), "queries")] == 0
    assert drawn[(("client", "person"), "queries")] > 0


def test_the_charts_cells_are_the_hours_only_reports_finest_cells(world):
    """The page's chart reads hours_cells: per grouping, as owner and as a member, over
    kept months and the scanned rest, the same seconds as time_report(hours_only=True)
    gives its cells."""
    from datetime import UTC, datetime

    from punchclock.reports.query import TimeFilter
    from punchclock.reports.timereport import hours_cells, time_report
    from tests.reports.conftest import ZONE

    a = world.agency
    year = TimeFilter(
        start=datetime(2025, 12, 31, 23, tzinfo=UTC), end=datetime(2026, 12, 31, 23, tzinfo=UTC)
    )
    time_report(a.owner, year, by=("client", "month"), zone=ZONE)  # keeps the closed months
    checked = 0
    for viewer in (a.owner, a.member):
        for by in (
            ("month",),
            ("day",),
            ("month", "project"),
            ("week", "client"),
            ("day", "task"),
            ("month", "tag"),
            ("week", "person"),
        ):
            report = time_report(viewer, year, by=by, zone=ZONE, hours_only=True)
            if len(by) == 1:
                expected = {(g.key, None): g.figures.seconds for g in report.groups}
            else:
                expected = {
                    (g.key, c.key): c.figures.seconds for g in report.groups for c in g.children
                }
            expected = {k: v for k, v in expected.items() if v}
            found = {k: v for k, v in hours_cells(viewer, year, by=by, zone=ZONE).items() if v}
            assert found == expected, (viewer.role, by)
            checked += len(found)
    assert checked > 50


def test_a_weeks_bars_come_with_a_narrow_twin_whose_legend_fits_its_columns():
    from punchclock.reports.charts import fitted_bars

    days = ["Mon 23", "Tue 24", "Wed 25", "Thu 26", "Fri 27", "Sat 28", "Sun 29"]
    people = [Series(f"Person with a rather long name {i}", [Decimal(2)] * 7) for i in range(6)]
    svg = str(fitted_bars(days, people, title="Hours this week by person"))
    wide, narrow = re.findall(r'<svg class="([^"]+)"[^>]*viewBox="0 0 (\d+) ', svg)
    assert wide == ("chart chart-wide", "760")
    assert narrow == ("chart chart-narrow", "400")
    narrow_svg = svg[svg.index("chart-narrow") :]
    # Two columns of 170 units: every name is cut to what fits its column, and the x of the
    # second column's swatches is the first's plus that width.
    names = re.findall(r'font-size="11" fill="#374151">(Person[^<]*)</text>', narrow_svg)
    assert len(names) == 6
    assert all(len(name) <= 27 for name in names)
    xs = set(re.findall(r'<rect x="([\d.]+)"[^>]*width="10"', narrow_svg))
    assert xs == {"48.0", "218.0"}
