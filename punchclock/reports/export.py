"""Reports as CSV: plain decimals, UTF-8 with a byte-order mark, no live formulas.

Spreadsheet programs run a cell that begins with = + - @ (or a tab or carriage return
that hides one) as a formula, so a client called "=HYPERLINK(...)" would become a link in
the accountant's sheet. Such text cells get a leading apostrophe, which the programs show
as text. Numbers are written by us, with a dot and no grouping, and are left alone.
The byte-order mark makes Excel read UTF-8 (umlauts in names) instead of the local code
page; `bom=False` leaves it out for scripts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from punchclock.core.money import quantum
from punchclock.reports.query import TIME_DIMENSIONS
from punchclock.reports.timereport import Figures, Group, TimeReport, hours

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def safe_cell(value: object) -> str:
    """A cell's text, neutralised when a spreadsheet would run it as a formula."""
    if isinstance(value, int | Decimal):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = True) -> str:
    buffer = io.StringIO()
    if bom:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


def _money(amount: Decimal | None, currency: str) -> Decimal | str:
    return "" if amount is None else amount.quantize(quantum(currency))


def time_report_csv(report: TimeReport, *, bom: bool = True) -> str:
    """One line per group (per pair with two groupings) and a total line."""
    currencies = sorted({c for g in _all_figures(report) for c in g.amounts})
    cost_currencies = sorted({c for g in _all_figures(report) for c in g.cost})
    header = [name.capitalize() for name in report.by]
    header += ["Hours", "Billable hours", "Billed hours"]
    if report.shows_amounts:
        header += [f"Amount {c}" for c in currencies]
    if report.shows_cost:
        header += [f"Cost {c}" for c in cost_currencies]

    def numbers(figures: Figures) -> list[object]:
        cells: list[object] = [
            hours(figures.seconds),
            hours(figures.billable_seconds),
            hours(figures.billed_seconds),
        ]
        if report.shows_amounts:
            cells += [_money(figures.amounts.get(c), c) for c in currencies]
        if report.shows_cost:
            cells += [_money(figures.cost.get(c), c) for c in cost_currencies]
        return cells

    def label(group: Group) -> str:
        # Periods as ISO dates of their first day: spreadsheets sort and parse those.
        return group.key[0].isoformat() if group.dimension in TIME_DIMENSIONS else group.label

    rows: list[list[object]] = []
    for group in report.groups:
        if group.children:
            for child in group.children:
                rows.append([label(group), label(child), *numbers(child.figures)])
        else:
            rows.append([label(group), *numbers(group.figures)])
    rows.append(["Total", *[""] * (len(report.by) - 1), *numbers(report.total)])
    return write_csv(header, rows, bom=bom)


def _all_figures(report: TimeReport) -> list[Figures]:
    found = [report.total]
    for group in report.groups:
        found.append(group.figures)
        found.extend(child.figures for child in group.children)
    return found
