"""Statements of account: opening balance, dated rows with a running balance, closing balance,
per currency; as a page, a PDF and a CSV file that no spreadsheet runs as formulas."""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from punchclock.invoicing.models import Invoice
from punchclock.payments import receivables, services
from punchclock.payments.balances import balance_of, client_credit
from punchclock.payments.documents import statement as documents
from punchclock.payments.models import Method, Payment
from tests.conftest import login
from tests.payments.conftest import TODAY, issued, paid
from tests.payments.receivables_factories import document
from tests.payments.test_receivables import pages_on_today  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("frozen_today", "pages_on_today")

YEAR = (date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture
def account(billing):
    """A year of Globex's account: a debt carried over from 2025, an invoice, a credit note,
    an overpayment kept as credit, a refund of part of it, and two invoices still open."""
    client, owner = billing.client, billing.owner
    old = document(client, "500.00", on=date(2025, 12, 1), due=date(2025, 12, 31))
    services.record_payment(old, paid("200.00", date(2025, 12, 20)), by=owner)
    big = document(client, "1190.00", on=date(2026, 3, 2), due=date(2026, 4, 1))
    services.record_payment(old, paid("300.00", date(2026, 3, 15)), by=owner)
    document(client, "-190.00", on=date(2026, 4, 10), credits=big)
    over = services.record_payment(
        big, paid("1500.00", date(2026, 5, 5), reference="ACME-77"), by=owner
    )
    services.refund_payment(over, by=owner, amount=Decimal("200.00"), on=date(2026, 6, 1))
    late = document(client, "238.00", on=date(2026, 10, 1), due=date(2026, 10, 31))
    recent = issued(billing)  # a real issued invoice: 119.00, 2 November
    services.record_payment(recent, paid("19.00", date(2026, 11, 18), method=Method.CASH), by=owner)
    return {"old": old, "big": big, "late": late, "recent": recent}


def test_the_running_balance_starts_at_the_opening_and_ends_at_the_closing(billing, account):
    found = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1])
    (euros,) = found.sections
    assert euros.currency == "EUR"
    assert euros.opening == Decimal("300.00")  # 500.00 invoiced in 2025, 200.00 paid
    rows = [(r.day, r.kind, r.debit, r.credit, r.balance) for r in euros.rows]
    assert rows == [
        (date(2026, 3, 2), "invoice", Decimal("1190.00"), 0, Decimal("1490.00")),
        (date(2026, 3, 15), "payment", 0, Decimal("300.00"), Decimal("1190.00")),
        (date(2026, 4, 10), "credit_note", 0, Decimal("190.00"), Decimal("1000.00")),
        (date(2026, 5, 5), "payment", 0, Decimal("1500.00"), Decimal("-500.00")),
        (date(2026, 6, 1), "refund", Decimal("200.00"), 0, Decimal("-300.00")),
        (date(2026, 10, 1), "invoice", Decimal("238.00"), 0, Decimal("-62.00")),
        (date(2026, 11, 2), "invoice", Decimal("119.00"), 0, Decimal("57.00")),
        (date(2026, 11, 18), "payment", 0, Decimal("19.00"), Decimal("38.00")),
    ]
    assert euros.closing == Decimal("38.00") == euros.opening + euros.debits - euros.credits
    assert found.credit == {"EUR": Decimal("300.00")}


def test_the_closing_balance_is_what_the_open_invoices_owe_less_the_credit(billing, account):
    found = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1])
    still_open = receivables.open_invoices(billing.organization.pk, today=TODAY)
    owed = sum(item.balance.balance for item in still_open)
    assert {item.invoice.pk for item in still_open} == {account["late"].pk, account["recent"].pk}
    assert owed == Decimal("338.00")
    assert found.sections[0].closing == owed - client_credit(billing.client.pk)["EUR"]
    assert balance_of(account["big"], TODAY).balance == 0


def test_rows_before_the_period_only_count_in_the_opening_and_later_ones_not_at_all(
    billing, account
):
    spring = receivables.statement(billing.client, start=date(2026, 3, 10), end=date(2026, 5, 31))
    (euros,) = spring.sections
    assert euros.opening == Decimal("1490.00")
    assert [r.kind for r in euros.rows] == ["payment", "credit_note", "payment"]
    assert euros.closing == Decimal("-500.00")  # the client's money, waiting
    empty = receivables.statement(billing.client, start=date(2027, 1, 1), end=date(2027, 1, 31))
    assert [(s.opening, s.rows, s.closing) for s in empty.sections] == [
        (Decimal("38.00"), [], Decimal("38.00"))
    ]
    before_anything = receivables.statement(
        billing.client, start=date(2020, 1, 1), end=date(2020, 12, 31)
    )
    assert before_anything.sections == []


def test_details_name_what_each_row_paid_or_corrected(billing, account):
    (euros,) = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1]).sections
    by_day = {row.day: row for row in euros.rows}
    assert by_day[date(2026, 3, 2)].details == "due 2026-04-01"
    assert by_day[date(2026, 4, 10)].details == f"corrects {account['big'].number}"
    assert (
        by_day[date(2026, 5, 5)].details
        == f"Bank transfer, ref. ACME-77, for {account['big'].number}"
    )
    assert by_day[date(2026, 11, 18)].details == f"Cash, for {account['recent'].number}"


def test_a_refund_beyond_the_credit_reopens_the_invoice_it_takes_back_from(billing):
    invoice = document(billing.client, "100.00", on=date(2026, 11, 2))
    payment = services.record_payment(invoice, paid("100.00"), by=billing.owner)
    services.refund_payment(payment, by=billing.owner, amount=Decimal("40.00"), on=TODAY)
    (euros,) = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1]).sections
    refund = euros.rows[-1]
    assert (refund.kind, refund.debit, refund.balance) == ("refund", Decimal("40.00"), 40)
    assert refund.details == f"Bank transfer, taken back from {invoice.number}"
    assert euros.closing == balance_of(invoice, TODAY).balance


# What happens to an account, step by step: (kind, amount in cents, days after 1 October).
steps = st.lists(
    st.tuples(
        st.sampled_from(["invoice", "payment", "refund", "credit_note"]),
        st.integers(1, 500_000),
        st.integers(0, 50),
    ),
    min_size=1,
    max_size=10,
)


def _play(billing, step: tuple[str, int, int]) -> None:
    """One step on the latest invoice or payment; a step the services refuse writes nothing."""
    kind, cents, days = step
    amount = Decimal(cents).scaleb(-2)
    day = date(2026, 10, 1) + timedelta(days=days)
    latest = Invoice.objects.filter(client=billing.client, kind="invoice").order_by("pk").last()
    if kind == "invoice" or latest is None:
        document(billing.client, f"{amount}", on=day, due=day + timedelta(days=14))
    elif kind == "payment":
        services.record_payment(latest, paid(f"{amount}", day), by=billing.owner)
    elif kind == "refund":
        payment = Payment.objects.filter(amount__gt=0).order_by("pk").last()
        if payment is not None and services.refundable(payment) > 0:
            back = min(amount, services.refundable(payment))
            services.refund_payment(payment, by=billing.owner, amount=back, on=day)
    else:
        left = balance_of(latest, TODAY)
        if left.gross - left.credited > 0:
            part = min(amount, left.gross - left.credited)
            document(billing.client, f"{-part}", on=day, credits=latest)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=steps)
def test_any_account_closes_at_what_its_invoices_owe_less_the_credit(billing, story):
    with transaction.atomic():
        for step in story:
            # A refused step (paying a fully credited invoice, say) writes nothing.
            with contextlib.suppress(ValidationError):
                _play(billing, step)
        found = receivables.statement(billing.client, start=date(2026, 10, 15), end=YEAR[1])
        invoices = Invoice.objects.filter(client=billing.client, kind="invoice")
        each = [balance_of(invoice, TODAY).balance for invoice in invoices]
        balances = sum(each, Decimal(0))
        credit = client_credit(billing.client.pk).get("EUR", Decimal(0))
        closing = found.sections[0].closing if found.sections else Decimal(0)
        assert closing == balances - credit
        for section in found.sections:
            running = section.opening
            for row in section.rows:
                running += row.debit - row.credit
                assert row.balance == running
            assert section.closing == running
        owed = receivables.receivables(billing.organization.pk, today=TODAY)
        open_total = sum((b for b in each if b > 0), Decimal(0))
        assert sum((t.outstanding for t in owed.totals), Decimal(0)) == open_total
        transaction.set_rollback(True)


def test_a_payment_in_another_currency_counts_in_the_invoices_currency(billing):
    invoice = document(billing.client, "119.00", on=date(2026, 11, 2))
    services.record_payment(
        invoice,
        paid("50.00", currency="USD", exchange_rate=Decimal("0.9"), reference="wire"),
        by=billing.owner,
    )
    (euros,) = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1]).sections
    payment = euros.rows[-1]
    assert (payment.currency, payment.credit, payment.balance) == (
        "EUR",
        Decimal("45.00"),
        Decimal("74.00"),
    )
    assert payment.details.endswith("50.00 USD at 0.9")


def test_what_an_other_currency_payment_leaves_is_credit_in_its_own_currency(billing):
    invoice = document(billing.client, "90.00", on=date(2026, 11, 2))
    services.record_payment(
        invoice, paid("150.00", currency="USD", exchange_rate=Decimal("0.9")), by=billing.owner
    )
    found = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1])
    closing = {s.currency: s.closing for s in found.sections}
    assert closing == {"EUR": Decimal("0.00"), "USD": Decimal("-50.00")}
    assert client_credit(billing.client.pk) == {"USD": Decimal("50.00")}


# CSV ---------------------------------------------------------------------------------------


def test_the_csv_neutralises_formulas_and_keeps_amounts_plain(billing):
    invoice = document(billing.client, "119.00", on=date(2026, 11, 2))
    services.record_payment(
        invoice, paid("10.00", reference='=HYPERLINK("http://evil.test","x")'), by=billing.owner
    )
    services.record_payment(invoice, paid("200.00", reference="-1+1"), by=billing.owner)
    found = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1])
    rows = list(csv.reader(io.StringIO(documents.render_csv(found))))
    assert rows[0] == documents.CSV_HEADER
    assert rows[1] == ["2026-01-01", "Opening balance", "", "", "", "EUR", "", "", "0.00"]
    references = [row[2] for row in rows[3:5]]
    assert references == ['\'=HYPERLINK("http://evil.test","x")', "'-1+1"]
    for row in rows[1:]:
        for cell in row[:6]:
            assert not cell.startswith(documents.FORMULA_STARTS), row
    assert [row[6:] for row in rows[2:]] == [
        ["119.00", "", "119.00"],
        ["", "10.00", "109.00"],
        ["", "200.00", "-91.00"],  # a negative amount stays a number
        ["", "", "-91.00"],
    ]
    assert rows[-1][:2] == ["2026-12-31", "Closing balance"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("ACME-7", "ACME-7"),
        ("", ""),
    ],
)
def test_text_cells_that_start_like_a_formula_get_a_quote(value, cell):
    assert documents.text_cell(value) == cell


# PDF ---------------------------------------------------------------------------------------

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)


def _text(content: bytes, tmp_path) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_pdf_is_a_pdf(billing, account):
    found = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1])
    assert documents.render_pdf(found, today=TODAY).startswith(b"%PDF-")


@needs_pdftotext
def test_the_pdf_shows_the_period_the_rows_and_the_closing_balance(billing, account, tmp_path):
    billing.client.address_line1 = "742 Evergreen Terrace"
    billing.client.city = "Springfield"
    found = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1])
    text = _text(documents.render_pdf(found, today=TODAY), tmp_path)
    assert "Statement of account" in text
    assert "Jan 1, 2026 – Dec 31, 2026" in text
    assert "742 Evergreen Terrace" in text
    assert "Opening balance" in text
    assert "€300.00" in text  # the opening balance
    assert "Closing balance" in text
    assert "€38.00" in text
    assert "ACME-77" in text
    assert account["big"].number in text


@needs_pdftotext
def test_a_client_in_credit_is_told_so_and_not_asked_to_pay(billing, tmp_path):
    billing.organization.iban = "DE89370400440532013000"
    billing.organization.save()
    invoice = document(billing.client, "100.00", on=date(2026, 11, 2))
    services.record_payment(invoice, paid("150.00"), by=billing.owner)
    found = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1])
    text = _text(documents.render_pdf(found, today=TODAY), tmp_path)
    assert "-€50.00" in text
    assert "in your favour" in text
    assert "Please quote" not in text
    assert "DE89 3704" not in text
    document(billing.client, "80.00", on=date(2026, 11, 20))
    owing = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1])
    text = _text(documents.render_pdf(owing, today=TODAY), tmp_path)
    assert "Please quote" in text
    assert "DE89 3704 0044 0532 0130 00" in text


@needs_pdftotext
def test_the_pdf_speaks_the_clients_language(billing, account, tmp_path):
    billing.client.language = "de"
    found = receivables.statement(billing.client, start=YEAR[0], end=YEAR[1])
    text = _text(documents.render_pdf(found, today=TODAY), tmp_path)
    assert "Kontoauszug" in text
    assert "Endsaldo" in text
    assert "38,00 €" in text
    assert "Überweisung" in text


# The page and its downloads ----------------------------------------------------------------


def test_the_page_shows_this_year_with_links_to_the_documents(billing, account, as_owner):
    response = as_owner.get(f"/payments/receivables/clients/{billing.client.pk}/statement/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Statement of account" in html
    assert f"/invoices/{account['late'].pk}/" in html
    assert "€38.00" in html
    assert "Opening balance" in html
    assert "format=pdf" in html
    assert "format=csv" in html


def test_the_downloads(billing, account, as_owner):
    url = f"/payments/receivables/clients/{billing.client.pk}/statement/"
    period = {"start": "2026-03-01", "end": "2026-06-30"}
    as_csv = as_owner.get(url, {**period, "format": "csv"})
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert "statement-globex-2026-03-01-2026-06-30.csv" in as_csv["Content-Disposition"]
    lines = as_csv.content.decode().splitlines()
    assert lines[1].endswith(",300.00")  # opening, 1 March
    assert lines[-1].endswith(",-300.00")  # closing, 30 June
    as_pdf = as_owner.get(url, {**period, "format": "pdf"})
    assert as_pdf.status_code == 200
    assert as_pdf["Content-Type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-12-01", "end": "2026-01-01"}, "The period ends before it starts."),
        ({"start": "someday"}, "Enter a valid date."),
        ({"format": "xlsx"}, "There is no “xlsx” format"),
    ],
)
def test_bad_periods_and_formats_get_a_clear_400(billing, as_owner, query, message):
    url = f"/payments/receivables/clients/{billing.client.pk}/statement/"
    response = as_owner.get(url, query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_members_get_403_and_other_organizations_404(billing, outsider):
    url = f"/payments/receivables/clients/{billing.client.pk}/statement/"
    for role in ("member", "manager"):
        assert login(getattr(billing, role)).get(url).status_code == 403
        assert login(getattr(billing, role)).get(url, {"format": "pdf"}).status_code == 403
    assert login(billing.admin).get(url).status_code == 200
    for fmt in ("html", "csv", "pdf"):
        assert login(outsider).get(url, {"format": fmt}).status_code == 404
