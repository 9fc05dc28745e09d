"""XLSX exports: the CSV's rows as typed cells, no formulas; on the pages, the API and `punch`."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from punchclock.invoicing import services as invoicing
from punchclock.payments.services import record_payment
from punchclock.projects.models import BudgetKind
from punchclock.reports.export import write_xlsx
from tests.api.openapi_walk import document
from tests.conftest import login
from tests.factories import make_client, make_project
from tests.invoicing.conftest import approved_expense, track
from tests.payments.conftest import paid
from tests.reports.test_reports_api import _get

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WINDOW = "from=2026-10-01&to=2026-11-30"
NUMBER = re.compile(r"-?\d+(\.\d+)?")
# Every report with an export: page path, query, API path.
REPORTS = [
    ("time", f"{WINDOW}&by=project&then=person", f"/reports/time?period=custom&{WINDOW}"),
    ("time", f"{WINDOW}&by=tag&then=week", None),
    ("unbilled", "", "/reports/unbilled?"),
    ("budgets", "", "/reports/budgets?"),
    ("revenue", WINDOW, f"/reports/revenue?{WINDOW}"),
    ("tax", WINDOW, f"/reports/tax?{WINDOW}"),
    ("utilisation", WINDOW, f"/reports/utilisation?{WINDOW}"),
    ("profitability", f"{WINDOW}&by=person", f"/reports/profitability?{WINDOW}&by=client"),
]
SHEETS = {
    "time": "Time report",
    "unbilled": "Unbilled work",
    "budgets": "Budgets",
    "revenue": "Revenue",
    "tax": "Tax summary",
    "utilisation": "Utilisation",
    "profitability": "Profitability",
}


@dataclass
class Workbook:
    sheet: Worksheet
    sheet_names: list[str]
    xml: str
    numbers: dict[str, str]  # cell -> the <v> text of every number cell, as written


def read_xlsx(content: bytes) -> Workbook:
    book = openpyxl.load_workbook(io.BytesIO(content))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    cells = re.findall(r'<c r="([A-Z]+\d+)"([^>]*)><v>([^<]*)</v></c>', xml)
    numbers = {ref: value for ref, attributes, value in cells if ' t="' not in attributes}
    return Workbook(book.worksheets[0], book.sheetnames, xml, numbers)


def assert_same_as_csv(csv_text: str, content: bytes) -> Workbook:
    """Every CSV cell in the same place: numbers as number cells with the very same digits,
    text as string cells with the same text (apostrophe included), nothing else."""
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    book = read_xlsx(content)
    sheet = book.sheet
    assert "<f>" not in book.xml
    assert (sheet.max_row, sheet.max_column) == (len(rows), len(rows[0]))
    for r, row in enumerate(rows, start=1):
        assert len(row) == len(rows[0])
        for c, text in enumerate(row, start=1):
            cell = sheet.cell(r, c)
            where = (cell.coordinate, text, cell.value)
            if text == "":
                assert cell.value is None, where
            elif r > 1 and NUMBER.fullmatch(text):
                assert cell.data_type == "n", where
                assert type(cell.value) in (int, float), where
                assert book.numbers[cell.coordinate] == text, where  # 1234.50, never 1234.4999…
                assert Decimal(str(cell.value)) == Decimal(text), where
                places = len(text.partition(".")[2])
                assert cell.number_format == "#,##0" + ("." + "0" * places if places else ""), where
            else:
                assert cell.data_type == "s", where
                assert cell.value == text, where
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    return book


@pytest.fixture
def ledger(world, frozen_today):
    """The report world with budgets, issued invoices, a credit note, a payment, expenses."""
    a = world.agency
    a.organization.vat_id = "DE811907980"  # issuing checks the e-invoice rules
    a.organization.save()
    a.project.budget_kind = BudgetKind.HOURS
    a.project.budget_hours = Decimal("12.5")
    a.project.save()
    a.other_project.budget_kind = BudgetKind.MONEY
    a.other_project.budget_amount = Decimal("1000.10")
    a.other_project.save()
    draft = invoicing.create_draft(
        a.client,
        by=a.owner,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        project=a.project,
    )
    invoice = invoicing.issue_invoice(draft, by=a.owner, issue_date=date(2026, 11, 6))
    free = invoicing.start_draft(a.client, by=a.owner)
    invoicing.add_line(
        free,
        by=a.owner,
        description="Books",
        quantity=Decimal("3.333"),
        unit_price=Decimal("33.33"),
        tax_category="S",
        tax_rate=Decimal(7),
    )
    free = invoicing.issue_invoice(free, by=a.owner, issue_date=date(2026, 11, 9))
    invoicing.credit_invoice(free, by=a.owner, issue_date=date(2026, 11, 10))
    record_payment(invoice, paid("100.10", on=date(2026, 11, 12)), by=a.owner)
    approved_expense(a.member, "12.30", project=a.project)
    approved_expense(a.member, "0.10", billable=False, project=a.project)
    return world


@pytest.mark.parametrize(("kind", "query", "api"), REPORTS)
def test_every_export_has_the_csvs_cells_as_typed_cells(ledger, client, kind, query, api):
    owner = ledger.agency.owner
    http = login(owner)
    as_csv = http.get(f"/reports/{kind}/export.csv?{query}")
    as_xlsx = http.get(f"/reports/{kind}/export.xlsx?{query}")
    assert as_xlsx.status_code == 200, as_xlsx.content[:300]
    assert as_xlsx["Content-Type"] == XLSX
    disposition = as_xlsx["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="{kind}')
    assert disposition.endswith('.xlsx"')
    csv_text = as_csv.content.decode()
    assert len(csv_text.splitlines()) > 1, "a report without rows proves little"
    book = assert_same_as_csv(csv_text, as_xlsx.content)
    assert book.numbers, "every report has figures"
    assert book.sheet_names == [SHEETS[kind]]
    if api is None:
        return
    from_api = _get(client, owner, f"/api/v1{api}&format=xlsx")
    assert from_api.status_code == 200, from_api.content[:300]
    assert from_api["Content-Type"] == XLSX
    assert from_api["Content-Disposition"].endswith('.xlsx"')
    api_csv = _get(client, owner, f"/api/v1{api}&format=csv&bom=0").content.decode()
    assert_same_as_csv(api_csv, from_api.content)


def test_decimals_are_written_with_their_own_digits_and_shown_with_their_places():
    content = write_xlsx(
        ["Name", "Amount", "Rate", "Count", "Note"],
        [
            ["a", Decimal("1234.56"), Decimal("0.10"), 3, None],
            ["b", Decimal("-0.01"), Decimal("97.3333"), 0, ""],
            ["c", Decimal("12345678901.23"), Decimal("100"), -2, "x"],
        ],
        sheet="Revenue: Q3/Q4 [EUR] and a name far longer than Excel allows",
    )
    book = read_xlsx(content)
    assert book.numbers == {
        "B2": "1234.56",
        "C2": "0.10",
        "D2": "3",
        "B3": "-0.01",
        "C3": "97.3333",
        "D3": "0",
        "B4": "12345678901.23",
        "C4": "100",
        "D4": "-2",
    }
    sheet = book.sheet
    assert sheet["B2"].value == pytest.approx(1234.56)
    assert Decimal(str(sheet["B4"].value)) == Decimal("12345678901.23")
    assert [sheet[ref].number_format for ref in ("B2", "C2", "C3", "C4", "D2")] == [
        "#,##0.00",
        "#,##0.00",
        "#,##0.0000",
        "#,##0",
        "#,##0",
    ]
    assert sheet["E2"].value is None
    assert sheet["E3"].value is None  # an empty text is no cell, as in the CSV
    # Excel refuses [ ] : * ? / \ in sheet names and anything past 31 characters.
    assert book.sheet_names == ["Revenue- Q3-Q4 -EUR- and a name"]
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABC"}
    assert widths["B"] > widths["A"]  # autofit: the long figures get the wider column


FORMULA_NAMES = ['=HYPERLINK("http://x")', "+1", "@SUM(A1)", "-2", "\tTAB", "=1+2"]


def test_formula_named_clients_come_out_as_text_with_an_apostrophe(billing, client):
    agency = billing
    for n, name in enumerate(FORMULA_NAMES):
        rogue = make_client(agency.organization, name)
        project = make_project(rogue, name, code=f"rogue{n}")
        track(agency.owner, project, datetime(2026, 11, 2 + n, 9, tzinfo=UTC), 30 + n)
    http = login(agency.owner)
    for url in (
        "/reports/time/export.xlsx?period=all&by=client",
        "/reports/unbilled/export.xlsx",
    ):
        book = read_xlsx(http.get(url).content)
        assert "<f>" not in book.xml, url
        cells = {c.value: c for row in book.sheet.iter_rows() for c in row if c.value}
        for name in FORMULA_NAMES:
            cell = cells["'" + name]
            assert cell.data_type == "s", (url, name)
        assert not any(
            isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t"))
            for value in cells
        ), url
    api = _get(client, agency.owner, "/api/v1/reports/time?period=all&by=client&format=xlsx")
    book = read_xlsx(api.content)
    assert "<f>" not in book.xml
    labels = {row[0].value: row[0] for row in book.sheet.iter_rows(min_row=2)}
    for name in FORMULA_NAMES:
        assert labels["'" + name].data_type == "s"


def test_members_get_no_money_columns_in_the_workbook_either(world):
    http = login(world.agency.member)
    book = read_xlsx(http.get(f"/reports/time/export.xlsx?{WINDOW}").content)
    header = [cell.value for cell in book.sheet[1]]
    assert header == ["Project", "Hours", "Billable hours", "Billed hours"]


def test_the_api_negotiates_and_documents_the_formats(world, client):
    owner = world.agency.owner
    accept = _get(client, owner, "/api/v1/reports/budgets", HTTP_ACCEPT=XLSX)
    assert accept["Content-Type"] == XLSX
    upper = _get(client, owner, f"/api/v1/reports/time?period=custom&{WINDOW}&format=XLSX")
    assert upper["Content-Type"] == XLSX
    for path in (
        "/reports/time?format=xls",
        "/reports/tax?format=pdf",
        "/reports/unbilled?format=x",
    ):
        bad = _get(client, owner, f"/api/v1{path}")
        assert bad.status_code == 422, (path, bad.status_code)
        error = bad.json()["errors"][0]
        assert error["field"] == "format"
        assert all(word in error["message"] for word in ("json", "csv", "xlsx")), error
    paths = document()["paths"]
    for kind in ("time", "unbilled", "budgets", "revenue", "tax", "utilisation", "profitability"):
        operation = paths[f"/api/v1/reports/{kind}"]["get"]
        (parameter,) = [p for p in operation["parameters"] if p["name"] == "format"]
        assert "xlsx" in str(parameter["schema"]), kind
        assert XLSX in operation["responses"]["200"]["content"], kind
        assert "text/csv" in operation["responses"]["200"]["content"], kind


def test_an_unknown_page_export_is_404_and_a_bad_period_400(world):
    http = login(world.agency.owner)
    assert http.get("/reports/tax/export.xls").status_code == 404
    assert http.get("/reports/tax/export.xlsx?period=custom&from=2026-13-01").status_code == 400


def test_the_time_reports_export_links_follow_the_filters(world):
    http = login(world.agency.owner)
    page = http.get(f"/reports/time/?{WINDOW}&by=client").content.decode()
    assert (
        'href="/reports/time/export.xlsx?from=2026-10-01&amp;to=2026-11-30&amp;by=client"' in page
    )
    fragment = http.get(f"/reports/time/?{WINDOW}&by=tag", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert '<div class="actions" id="report-exports" hx-swap-oob="true">' in html
    assert "export.xlsx?from=2026-10-01&amp;to=2026-11-30&amp;by=tag" in html
    assert "export.csv?from=2026-10-01&amp;to=2026-11-30&amp;by=tag" in html
    assert "<html" not in html


@pytest.mark.django_db(transaction=True)
def test_punch_report_writes_the_workbook_to_the_file_named(world, punch_as, tmp_path):
    punch = punch_as(world.agency.owner)
    target = tmp_path / "october.xlsx"
    time = punch(
        "report", "--from", "2026-10-01", "--to", "2026-10-31", "--by", "client",
        "--format", "xlsx", "-o", str(target),
    )  # fmt: skip
    assert time.exit_code == 0, time.output
    assert time.output.startswith(f"Wrote {target} (")
    csv_text = punch(
        "report", "--from", "2026-10-01", "--to", "2026-10-31", "--by", "client",
        "--format", "csv",
    ).output  # fmt: skip
    assert_same_as_csv(csv_text, target.read_bytes())
    budgets = tmp_path / "budgets.csv"
    as_file = punch("report", "budgets", "--format", "csv", "--output", str(budgets))
    assert as_file.exit_code == 0, as_file.output
    assert budgets.read_text().startswith("Client,Project,Kind")
    tax = tmp_path / "tax.xlsx"
    result = punch("report", "tax", "--period", "year", "--format", "xlsx", "-o", str(tax))
    assert result.exit_code == 0, result.output
    assert read_xlsx(tax.read_bytes()).sheet_names == ["Tax summary"]
    nowhere = tmp_path / "no" / "such.xlsx"
    refused = punch("report", "budgets", "--format", "xlsx", "-o", str(nowhere))
    assert refused.exit_code == 1
    assert f"Cannot write {nowhere}" in refused.output


def test_punch_report_xlsx_without_a_file_is_a_usage_error(tmp_path):
    from click.testing import CliRunner

    from punchclock.cli.main import main

    # No server at all: the refusal comes before any request.
    env = {"PUNCH_CONFIG": str(tmp_path / "none.json"), "PUNCH_URL": "http://127.0.0.1:9"}
    runner = CliRunner()
    for args in (["report", "--format", "xlsx"], ["report", "unbilled", "--format", "xlsx"]):
        result = runner.invoke(main, args, env=env)
        assert result.exit_code == 2, result.output
        assert "--output FILE" in result.output
    table = runner.invoke(main, ["report", "-o", str(tmp_path / "x.txt")], env=env)
    assert table.exit_code == 2
    assert "--format csv or --format xlsx" in table.output
    assert not (tmp_path / "x.txt").exists()
