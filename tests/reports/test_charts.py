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
