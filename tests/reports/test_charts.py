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
