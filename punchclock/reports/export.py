"""Reports as CSV and XLSX: plain decimals, UTF-8 with a byte-order mark, no live formulas.

Spreadsheet programs run a cell that begins with = + - @ (or a tab or carriage return
that hides one) as a formula, so a client called "=HYPERLINK(...)" would become a link in
the accountant's sheet. Such text cells get a leading apostrophe, which the programs show
as text. Numbers are written by us, with a dot and no grouping, and are left alone.
The byte-order mark makes Excel read UTF-8 (umlauts in names) instead of the local code
page; `bom=False` leaves it out for scripts.

The same table is written as an Excel workbook (XLSX, through XlsxWriter): numbers become
number cells with the Decimal's own digits, text becomes string cells, never formulas, with
the same apostrophe as in the CSV, since accountants copy cells from one file to another.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import xlsxwriter
from django.http import HttpResponse

from punchclock.core.money import quantum
from punchclock.reports.query import TIME_DIMENSIONS
from punchclock.reports.timereport import Figures, Group, TimeReport, hours

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
FileFormat = Literal["csv", "xlsx"]
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Excel refuses these in a sheet's name, and names longer than 31 characters.
_SHEET_NAME_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "-"))
# Autofit stops here (pixels, about 60 characters): a long project name should not push
# the figures off the screen.
_MAX_COLUMN_PIXELS = 420


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


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str) -> bytes:
    """One worksheet: a bold, frozen header row, number cells for numbers, text for the rest."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        # write_string/write_number below never guess; these keep write() from guessing too.
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    worksheet = workbook.add_worksheet(_sheet_name(sheet))
    bold = workbook.add_format({"bold": True})
    places: dict[int, object] = {}

    def number_format(value: int | Decimal) -> object:
        # A Decimal's own places (2 for euros, 0 for yen) become its display format, so
        # 0.10 shows as 0.10 as in the CSV, not as 0.1. The value is the same either way.
        exponent = value.as_tuple().exponent if isinstance(value, Decimal) else 0
        count = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if count not in places:
            pattern = "#,##0" + ("." + "0" * count if count else "")
            places[count] = workbook.add_format({"num_format": pattern})
        return places[count]

    for col, title in enumerate(header):
        worksheet.write_string(0, col, safe_cell(title), bold)
    for row_no, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int | Decimal):
                text = safe_cell(value)
                if text:
                    worksheet.write_string(row_no, col, text)
            else:
                # The Decimal goes in as it is: XlsxWriter writes "{:.16G}", which for a
                # Decimal prints its own digits (1234.56, 0.10), so the file holds the CSV's
                # text; float(value) would pass through binary and drop the trailing zero.
                worksheet.write_number(row_no, col, value, number_format(value))
    worksheet.freeze_panes(1, 0)
    worksheet.autofit(max_width=_MAX_COLUMN_PIXELS)
    workbook.close()
    return buffer.getvalue()


def _sheet_name(title: str) -> str:
    return title.translate(_SHEET_NAME_FORBIDDEN).strip("'")[:31] or "Report"


@dataclass(frozen=True)
class Table:
    """A report as one sheet: the tab's name, a header, and rows of text and numbers."""

    sheet: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]

    def csv(self, *, bom: bool = True) -> str:
        return write_csv(self.header, self.rows, bom=bom)

    def xlsx(self) -> bytes:
        return write_xlsx(self.header, self.rows, sheet=self.sheet)


def export_response(table: Table, file_format: FileFormat, name: str, *, bom: bool) -> HttpResponse:
    """The table as a download, NAME.csv or NAME.xlsx (the pages' and the API's exports)."""
    body: str | bytes = table.xlsx() if file_format == "xlsx" else table.csv(bom=bom)
    response = HttpResponse(body, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response


def _money(amount: Decimal | None, currency: str) -> Decimal | str:
    return "" if amount is None else amount.quantize(quantum(currency))


def time_report_table(report: TimeReport) -> Table:
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
    return Table("Time report", header, rows)


def _all_figures(report: TimeReport) -> list[Figures]:
    found = [report.total]
    for group in report.groups:
        found.append(group.figures)
        found.extend(child.figures for child in group.children)
    return found
