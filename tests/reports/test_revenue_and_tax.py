"""Revenue per month and the tax summary add up to the issued documents, to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from punchclock.expenses.models import ExchangeRate
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import Invoice, InvoiceStatus
from punchclock.payments.services import record_payment
from punchclock.reports.revenue import RevenueForbidden, revenue_report, tax_report
from tests.conftest import login
from tests.payments.conftest import paid

OCTOBER = date(2026, 10, 15)
NOVEMBER = date(2026, 11, 3)


def _issue(agency, lines, *, on, discount="0"):
    draft = invoicing.start_draft(agency.client, by=agency.owner)
    for description, quantity, price, rate in lines:
        invoicing.add_line(
            draft,
            by=agency.owner,
            description=description,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            tax_category="S",
            tax_rate=Decimal(rate),
        )
    if discount != "0":
        draft.discount_percent = Decimal(discount)
        draft.save()
    return invoicing.issue_invoice(draft, by=agency.owner, issue_date=on)


@pytest.fixture
def documents(billing, frozen_today):
    """Two EUR invoices (19 % and 7 %, one with a discount), a credit note, a payment."""
    agency = billing
    first = _issue(
        agency,
        [("Development", "3.333", "101.17", "19"), ("Books", "1", "33.33", "7")],
        on=OCTOBER,
        discount="2.5",
    )
    second = _issue(agency, [("Support", "7.25", "88.88", "19")], on=NOVEMBER)
    note = invoicing.credit_invoice(second, by=agency.owner, issue_date=date(2026, 11, 10))
    record_payment(first, paid("50.00", on=date(2026, 11, 5)), by=agency.owner)
    return agency, first, second, note


def test_revenue_months_equal_the_issued_documents(documents):
    agency, first, second, note = documents
    report = revenue_report(agency.owner, first=date(2026, 1, 1), last=date(2026, 12, 31))
    by_month = {(r.month, r.currency): r for r in report.rows}
    october = by_month[(date(2026, 10, 1), "EUR")]
    november = by_month[(date(2026, 11, 1), "EUR")]
    assert october.gross == first.gross_total
    assert october.net == first.net_total
    assert november.documents == 2
    # The credit note cancels the November invoice: it counts negative.
    assert note.gross_total < 0
    assert november.gross == second.gross_total + note.gross_total == 0
    assert november.received == Decimal("50.00")
    issued = Invoice.objects.filter(organization=agency.organization, status=InvoiceStatus.ISSUED)
    assert report.totals["EUR"].tax == sum(i.tax_total for i in issued)
    assert report.home_total is not None
    assert report.home_total.net == sum(i.net_total for i in issued)


def test_the_tax_summary_adds_up_to_each_document_to_the_cent(documents):
    agency, first, second, note = documents
    report = tax_report(agency.owner, first=date(2026, 10, 1), last=date(2026, 11, 30))
    rows = {(r.rate, r.currency): r for r in report.rows}
    assert set(rows) == {(Decimal(19), "EUR"), (Decimal(7), "EUR")}
    documents = [first, second, note]
    assert sum(r.tax for r in report.rows) == sum(d.tax_total for d in documents)
    assert sum(r.basis for r in report.rows) == sum(d.net_total for d in documents)
    assert report.document_tax["EUR"] == sum(d.tax_total for d in documents)
    # October alone: the 7 % group of the discounted invoice, net of its allowance.
    october = tax_report(agency.owner, first=date(2026, 10, 1), last=date(2026, 10, 31))
    seven = next(r for r in october.rows if r.rate == 7)
    assert seven.basis == Decimal("32.50")  # 33.33 less 2.5 % (0.83)
    assert seven.tax == Decimal("2.28")
    assert seven.home_tax == seven.tax


def test_foreign_currency_converts_with_the_rate_the_invoice_recorded(billing, frozen_today):
    agency = billing
    ExchangeRate.objects.create(
        organization=agency.organization,
        currency="USD",
        rate=Decimal("1.25"),
        on=OCTOBER,
        source="manual",
    )
    usd = _issue_usd(agency)
    recorded = Decimal(usd.snapshot["tax_currency"]["rate"])
    # A later rate in the table changes nothing: the invoice's own rate counts.
    ExchangeRate.objects.filter(organization=agency.organization).update(rate=Decimal("2"))
    report = revenue_report(agency.owner, first=date(2026, 10, 1), last=date(2026, 10, 31))
    (month,) = report.months
    assert month.net == (usd.net_total * recorded).quantize(Decimal("0.01"))
    taxes = tax_report(agency.owner, first=date(2026, 10, 1), last=date(2026, 10, 31))
    (row,) = taxes.rows
    assert row.currency == "USD"
    assert row.home_tax == Decimal(usd.snapshot["tax_currency"]["tax_total"])


def _issue_usd(agency):
    agency.client.currency = "USD"
    agency.client.save()
    return _issue(agency, [("Work", "10", "123.45", "19")], on=OCTOBER)


@pytest.mark.parametrize("role", ["manager", "member"])
def test_money_reports_are_for_owners_and_admins(agency, role):
    with pytest.raises(RevenueForbidden):
        revenue_report(getattr(agency, role), first=OCTOBER, last=NOVEMBER)
    http = login(getattr(agency, role))
    for url in ("/reports/revenue/", "/reports/tax/", "/reports/tax/export.csv"):
        assert http.get(url).status_code == 403
    assert isinstance(RevenueForbidden("x"), PermissionError)


def test_pages_csv_and_api_show_the_same_figures(documents, client):
    agency, first, _, _ = documents
    http = login(agency.owner)
    page = http.get("/reports/revenue/?period=custom&from=2026-10-01&to=2026-10-31")
    assert page.status_code == 200
    assert "October 2026" in page.content.decode()
    csv = http.get("/reports/tax/export.csv?from=2026-10-01&to=2026-10-31&bom=0").content.decode()
    assert csv.splitlines()[0].startswith("Tax,Category,Category code,Rate percent")
    assert ",19," in csv
    assert ",7," in csv
    bad = http.get("/reports/tax/?period=custom&from=2026-10-31&to=2026-10-01")
    assert bad.status_code == 400
    assert "ends before it starts" in bad.content.decode()
    from punchclock.accounts.services import create_api_token

    _, secret = create_api_token(membership=agency.owner, name="reports", scope="read")
    api = client.get(
        "/api/v1/reports/tax?from=2026-10-01&to=2026-10-31",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert api.status_code == 200, api.content
    body = api.json()
    assert body["document_tax"]["EUR"] == str(first.tax_total.quantize(Decimal("0.01")))
    wrong = client.get("/api/v1/reports/revenue?period=soon", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert wrong.status_code in (400, 422)
