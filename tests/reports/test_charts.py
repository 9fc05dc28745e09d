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


def test_the_axis_ends_near_the_largest_value_instead_of_doubling_it():
    from punchclock.reports.charts import axis

    assert axis(430) == (500, 5)  # four steps of 1, 2 or 5 × 10^n gave 800
    assert axis(99) == (100, 5)  # gave 200
    assert axis(29.6) == (30, 3)
    assert axis(0) == (3, 3)


def test_a_line_chart_names_its_unit_on_the_top_tick():
    svg = str(lines(["Oct", "Nov"], [Series("acme/api", [40, 154])], title="Burn", unit="%"))
    assert ">200%</text>" in svg
