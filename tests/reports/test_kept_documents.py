"""Revenue and tax read issued documents as kept once in minor units (decision 0023).

Each report is checked against the documents totalled again one by one from their lines,
converted with conversion() as issuing converts: the way the reports worked before the
documents were kept. Exchange rates written later, in any way, convert them again."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from punchclock.automation import tasks
from punchclock.expenses.models import ExchangeRate
from punchclock.expenses.services import RateTable, conversion
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import Invoice, InvoiceStatus
from punchclock.invoicing.services import invoice_totals
from punchclock.payments.services import record_payment
from punchclock.reports.documents import keep_documents
from punchclock.reports.models import KeptDocument, KeptTax
from punchclock.reports.revenue import revenue_report, tax_report
from tests import factories
from tests.payments.conftest import paid

YEAR = (date(2026, 1, 1), date(2026, 12, 31))
CENT = Decimal("0.01")


def _rate(organization, currency, rate, on, source="manual"):
    return ExchangeRate.objects.create(
        organization=organization, currency=currency, rate=Decimal(rate), on=on, source=source
    )


def _issue(agency, client, lines, *, on, discount="0", surcharge="0"):
    draft = invoicing.start_draft(client, by=agency.owner)
    for quantity, price, category, rate, extra in lines:
        invoicing.add_line(
            draft,
            by=agency.owner,
            description="Work",
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            tax_category=category,
            tax_rate=Decimal(rate),
            additional_tax_name="City tax" if extra else "",
            additional_tax_rate=Decimal(extra) if extra else None,
        )
    draft.discount_percent = Decimal(discount)
    draft.surcharge_percent = Decimal(surcharge)
    draft.save()
    return invoicing.issue_invoice(draft, by=agency.owner, issue_date=on)


@pytest.fixture
def documents(billing, frozen_today):
    """Fourteen documents in EUR, USD and GBP over October and November: discounts,
    surcharges, an extra tax, zero-rated exports, credit notes, and a GBP export issued
    with no rate within reach (unconverted)."""
    agency = billing
    org = agency.organization
    usd = factories.make_client(org, "Initech", currency="USD", country="US")
    gbp = factories.make_client(org, "Hooli", currency="GBP", country="GB")
    _rate(org, "USD", "1.0712", date(2026, 9, 28), source="ecb")
    _rate(org, "USD", "1.0811", date(2026, 10, 9), source="ecb")
    _rate(org, "USD", "1.0799", date(2026, 10, 9))  # manual wins over the ECB's on its day
    _rate(org, "USD", "1.1003", date(2026, 11, 2), source="ecb")
    _rate(org, "GBP", "0.8612", date(2026, 10, 1), source="ecb")
    eur = agency.client
    issued = []
    plan = [
        (
            eur,
            date(2026, 10, 1),
            [("3.333", "101.17", "S", "19", None), ("1", "33.33", "S", "7", None)],
            "2.5",
            "0",
        ),
        (usd, date(2026, 10, 2), [("10", "123.45", "S", "19", None)], "0", "0"),
        (gbp, date(2026, 10, 6), [("7.5", "88.10", "G", "0", None)], "0", "0"),
        (
            usd,
            date(2026, 10, 9),
            [("2.75", "99.99", "S", "19", "1.5"), ("1", "12.34", "S", "7", None)],
            "0",
            "10",
        ),
        (
            eur,
            date(2026, 10, 20),
            [("12.25", "97.50", "S", "19", None), ("3", "41.17", "S", "7", None)],
            "5",
            "0",
        ),
        (usd, date(2026, 10, 30), [("4", "150", "G", "0", None)], "0", "0"),
        (gbp, date(2026, 10, 31), [("1", "999.99", "G", "0", None)], "0", "0"),  # no rate: 30 days
        (
            eur,
            date(2026, 11, 2),
            [("0.1", "0.05", "S", "19", None), ("7.25", "88.88", "S", "19", None)],
            "0",
            "0",
        ),
        (usd, date(2026, 11, 3), [("1.5", "80", "S", "19", None)], "12.5", "3"),
        (
            eur,
            date(2026, 11, 5),
            [("2", "55.55", "Z", "0", None), ("1", "19.99", "S", "19", "2")],
            "0",
            "0",
        ),
    ]
    for client, on, lines, discount, surcharge in plan:
        issued.append(_issue(agency, client, lines, on=on, discount=discount, surcharge=surcharge))
    for which, on in ((4, date(2026, 11, 6)), (1, date(2026, 11, 6)), (5, date(2026, 11, 9))):
        issued.append(invoicing.credit_invoice(issued[which], by=agency.owner, issue_date=on))
    record_payment(issued[0], paid("50.00", on=date(2026, 11, 5)), by=agency.owner)
    record_payment(issued[3], paid("100.00", on=date(2026, 11, 5)), by=agency.owner)
    return agency, issued


def _expected(organization):
    """Every issued document totalled and converted one by one, as issuing does."""
    home = organization.default_currency
    months = defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0)])
    home_months = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    taxes = defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0), Decimal(0)])
    for invoice in Invoice.objects.filter(organization=organization, status=InvoiceStatus.ISSUED):
        currency, day = invoice.currency, invoice.issue_date
        recorded = invoice.snapshot.get("tax_currency")
        if recorded and recorded.get("code") == home:
            rate = Decimal(recorded["rate"])
        else:
            try:
                rate = conversion(organization, currency, home, day).rate
            except ValidationError:
                rate = None
        month = months[day.replace(day=1), currency]
        month[0] += 1
        for at, value in ((1, invoice.net_total), (2, invoice.tax_total), (3, invoice.gross_total)):
            month[at] += value.quantize(CENT)
        home_month = home_months[day.replace(day=1)]
        if rate is None:
            home_month[2] += 1
        else:
            home_month[0] += (invoice.net_total.quantize(CENT) * rate).quantize(CENT)
            home_month[1] += (invoice.gross_total.quantize(CENT) * rate).quantize(CENT)
        for group in invoice_totals(invoice).groups:
            row = taxes[group.tax.name, group.tax.category, group.tax.rate, currency]
            row[0] += 1
            row[1] += group.basis
            row[2] += group.amount
            if rate is None or row[3] is None:
                row[3] = row[4] = None
            else:
                row[3] += (group.basis * rate).quantize(CENT)
                row[4] += (group.amount * rate).quantize(CENT)
    return dict(months), dict(home_months), {k: tuple(v) for k, v in taxes.items()}


def _read(viewer, first=YEAR[0], last=YEAR[1]):
    revenue = revenue_report(viewer, first=first, last=last)
    months = {
        (r.month, r.currency): [r.documents, r.net, r.tax, r.gross]
        for r in revenue.rows
        if r.documents
    }
    home = {m.month: [m.net, m.gross, m.unconverted] for m in revenue.months}
    tax = tax_report(viewer, first=first, last=last)
    rows = {
        (r.name, r.category, r.rate, r.currency): (
            r.documents,
            r.basis,
            r.tax,
            r.home_basis,
            r.home_tax,
        )
        for r in tax.rows
    }
    return months, home, rows, revenue, tax


def test_the_kept_documents_give_what_each_document_totalled_again_gives(documents):
    agency, issued = documents
    org = agency.organization
    months, home, taxes = _expected(org)
    assert KeptDocument.objects.count() == 0  # kept by the first report, not by issuing
    got_months, got_home, got_taxes, revenue, tax = _read(agency.owner)
    assert KeptDocument.objects.count() == len(issued) == 13
    assert got_months == months
    # Payments are converted on their day: 50 EUR, and 100 USD with the 2 November rate.
    usd_rate = conversion(org, "USD", "EUR", date(2026, 11, 5)).rate
    assert usd_rate == Decimal("0.90884304")  # 1 / 1.1003
    received = {m.month: m.received for m in revenue.months if m.received}
    assert received == {date(2026, 11, 1): Decimal("50.00") + Decimal("90.88")}
    assert got_home == home
    assert got_taxes == taxes
    # The cases the documents were chosen for are there.
    # Exports with no rate in reach: GBP on 31 October, USD on 30 October (21 days).
    assert got_home[date(2026, 10, 1)][2] == 2
    assert ("City tax", "S", Decimal("1.5"), "USD") in got_taxes
    assert got_taxes["VAT", "S", Decimal(19), "USD"][3] is not None
    assert got_taxes["VAT", "G", Decimal(0), "GBP"][3] is None  # one of the two unconverted
    for currency, total in tax.document_tax.items():
        assert total == sum(r.tax for r in tax.rows if r.currency == currency)
        assert tax.document_net[currency] == sum(
            r.basis for r in tax.rows if r.currency == currency and r.name == "VAT"
        )
    # Half a period reads only its documents.
    october = _read(agency.owner, date(2026, 10, 1), date(2026, 10, 31))
    assert october[0] == {k: v for k, v in months.items() if k[0] == date(2026, 10, 1)}
    assert october[4].documents == 7


def _converted(invoice):
    kept = KeptDocument.objects.filter(invoice_id=invoice.pk).first()
    return None if kept is None else kept.home_net_minor


def test_an_exchange_rate_written_later_converts_the_documents_again(documents):
    agency, issued = documents
    org = agency.organization
    usd_export = issued[5]  # 30 October, no USD rate within 14 days
    _read(agency.owner)
    assert _converted(usd_export) is None
    eur_only = {i.pk: _converted(i) for i in issued if i.currency == "EUR"}
    rate = _rate(org, "USD", "1.0900", date(2026, 10, 25))
    # The trigger forgot the documents in other currencies from 25 October to 8 November.
    assert not KeptDocument.objects.filter(invoice_id=usd_export.pk).exists()
    assert KeptDocument.objects.filter(invoice_id=issued[1].pk).exists()  # 2 October
    got_months, got_home, got_taxes, _, _ = _read(agency.owner)
    months, home, taxes = _expected(org)
    assert (got_months, got_home, got_taxes) == (months, home, taxes)
    assert _converted(usd_export) == 55046  # 600 USD / 1.09 = 550.46 EUR
    # A raw update, which no Django signal sees, and a delete.
    ExchangeRate.objects.filter(pk=rate.pk).update(rate=Decimal("1.2"))
    assert _read(agency.owner)[:3] == _expected(org)
    assert _converted(usd_export) == 50000
    rate.delete()
    assert _read(agency.owner)[:3] == _expected(org)
    assert _converted(usd_export) is None
    assert {i.pk: _converted(i) for i in issued if i.currency == "EUR"} == eur_only


def test_an_organization_in_another_currency_keeps_its_documents_again(documents):
    agency, _ = documents
    org = agency.organization
    _read(agency.owner)
    org.default_currency = "USD"
    org.save()
    agency.owner.refresh_from_db()
    got_months, got_home, got_taxes, revenue, tax = _read(agency.owner)
    assert revenue.home == tax.home == "USD"
    assert set(KeptDocument.objects.values_list("home", flat=True)) == {"USD"}
    assert (got_months, got_home, got_taxes) == _expected(org)
    assert got_home[date(2026, 10, 1)][2] == 1  # GBP on 31 October: still no rate


def test_a_report_over_kept_documents_writes_nothing(documents):
    agency, _ = documents
    _read(agency.owner)
    with CaptureQueriesContext(connection) as queries:
        _read(agency.owner)
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements
    assert set(statements) == {"SELECT"}, statements
    # Revenue: missing, months, payments, rates; tax: missing, groups, totals.
    assert len(statements) <= 8


def test_the_hourly_job_keeps_the_documents(documents):
    agency, issued = documents
    org = agency.organization.pk
    assert tasks.keep_reports.call(organization_id=org) == {"documents": len(issued)}
    assert KeptDocument.objects.count() == len(issued)
    assert KeptTax.objects.filter(invoice_id=issued[0].pk).count() == 2  # 19 % and 7 %
    assert tasks.keep_reports.call(organization_id=org) == {}


def test_a_rate_table_answers_as_conversion_does(agency):
    org = agency.organization
    _rate(org, "USD", "1.0712", date(2026, 9, 28), source="ecb")
    _rate(org, "USD", "1.0811", date(2026, 10, 9), source="ecb")
    _rate(org, "USD", "1.0799", date(2026, 10, 9))
    _rate(org, "USD", "1.1003", date(2026, 11, 2), source="ecb")
    _rate(org, "GBP", "0.8612", date(2026, 10, 1), source="ecb")
    _rate(org, "GBP", "0.8701", date(2026, 10, 20))
    _rate(org, "CHF", "0.9400", date(2026, 10, 16), source="ecb")
    first, last = date(2026, 9, 20), date(2026, 11, 30)
    table = RateTable(org, ["USD", "GBP", "CHF", "EUR"], first, last)
    pairs = [(a, b) for a in ("EUR", "USD", "GBP", "CHF") for b in ("EUR", "USD", "GBP", "CHF")]
    seen = set()
    day = first
    while day <= last:
        for source, target in pairs:
            try:
                expected = conversion(org, source, target, day)
            except ValidationError:
                expected = None
            assert table.conversion(source, target, day) == expected, (source, target, day)
            seen.add(expected is None)
        day += timedelta(days=1)
    assert seen == {True, False}
    with pytest.raises(ValueError, match="outside the rates read"):
        table.conversion("USD", "EUR", date(2026, 12, 1))


def test_a_document_issued_after_the_others_were_kept_is_kept_by_the_next_report(documents):
    agency, issued = documents
    _read(agency.owner)
    late = _issue(agency, agency.client, [("2", "50", "S", "19", None)], on=date(2026, 11, 12))
    assert not KeptDocument.objects.filter(invoice_id=late.pk).exists()
    assert _read(agency.owner)[:3] == _expected(agency.organization)
    assert KeptDocument.objects.filter(invoice_id=late.pk).exists()
    assert len(issued) + 1 == KeptDocument.objects.count()


def test_keeping_all_history_drops_rows_of_documents_that_are_gone(documents):
    agency, issued = documents
    org = agency.organization
    assert keep_documents(org) == len(issued)
    stray = {"organization": org, "issue_date": date(2026, 10, 1), "currency": "EUR"}
    stray["home"] = "EUR"
    KeptDocument.objects.create(
        invoice_id=10**9, month=date(2026, 10, 1), net_minor=1, tax_minor=0, gross_minor=1, **stray
    )
    KeptTax.objects.create(
        invoice_id=10**9, name="VAT", category="S", rate="19", basis_minor=1, tax_minor=0, **stray
    )
    # As many rows as documents no more: the next keep looks, and the stray row goes.
    assert keep_documents(org) == 0
    assert not KeptDocument.objects.filter(invoice_id=10**9).exists()
    assert not KeptTax.objects.filter(invoice_id=10**9).exists()
    assert _read(agency.owner)[:3] == _expected(org)
