"""Confirming bank lines as payments: exactly once, only money received, only where owed."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from punchclock.invoicing import services as invoicing
from punchclock.payments import bank
from punchclock.payments.balances import State, balance_of
from punchclock.payments.models import BankLine, Method, Payment
from tests import factories
from tests.payments.conftest import ISSUED, TODAY, issued
from tests.payments.test_bank_samples import Entry, camt

pytestmark = pytest.mark.usefixtures("frozen_today")


def lines_of(agency, *entries: Entry) -> list[BankLine]:
    statement = bank.import_statement(
        agency.organization, by=agency.owner, data=camt(*entries), filename="s.xml", mapping=None
    )
    return list(statement.lines.order_by("pk"))


def test_confirming_records_one_payment_and_marks_the_line(billing):
    invoice = issued(billing)
    (line,) = lines_of(billing, Entry("119.00", "Invoice 2026-0001", bank_id="TX-1"))

    payment = bank.confirm(line, invoice, by=billing.admin)

    assert (payment.amount, payment.currency, payment.received_on) == (
        Decimal("119.00"),
        "EUR",
        line.booking_date,
    )
    assert (payment.method, payment.reference, payment.bank_line) == (Method.TRANSFER, "TX-1", line)
    assert payment.created_by == billing.admin.user
    line.refresh_from_db()
    assert line.status == BankLine.Status.MATCHED
    assert balance_of(invoice, TODAY).state == State.PAID


def test_confirming_twice_is_refused_and_leaves_one_payment(billing):
    invoice = issued(billing)
    (line,) = lines_of(billing, Entry("50.00", "part"))
    bank.confirm(line, invoice, by=billing.owner)

    stale = BankLine.objects.get(pk=line.pk)
    stale.status = BankLine.Status.OPEN  # as a page loaded before the first confirmation
    with pytest.raises(ValidationError, match="already recorded as a payment"):
        bank.confirm(stale, invoice, by=billing.owner)

    assert Payment.objects.count() == 1
    assert balance_of(invoice, TODAY).balance == Decimal("69.00")


def test_without_a_bank_id_the_payment_carries_the_shortened_text(billing):
    invoice = issued(billing)
    (line,) = lines_of(billing, Entry("119.00", "x" * 250))
    payment = bank.confirm(line, invoice, by=billing.owner)
    assert len(payment.reference) == 200
    assert payment.reference.endswith("…")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda agency: invoicing.start_draft(agency.client, by=agency.owner), "draft"),
        (
            lambda agency: (
                invoicing.credit_invoice(issued(agency), by=agency.owner, issue_date=ISSUED).credits
            ),
            "credited in full",
        ),
        (
            lambda agency: invoicing.credit_invoice(
                issued(agency), by=agency.owner, issue_date=ISSUED
            ),
            "is a credit note",
        ),
    ],
    ids=["draft", "credited", "credit note"],
)
def test_drafts_and_credited_invoices_cannot_be_paid(billing, make, message):
    invoice = make(billing)
    (line,) = lines_of(billing, Entry("119.00", "x"))

    with pytest.raises(ValidationError, match=message):
        bank.confirm(line, invoice, by=billing.owner)

    assert not Payment.objects.exists()
    line.refresh_from_db()
    assert line.status == BankLine.Status.OPEN


def test_money_paid_out_is_not_a_payment(billing):
    invoice = issued(billing)
    (line,) = lines_of(billing, Entry("-119.00", "refund"))
    with pytest.raises(ValidationError, match="money paid out"):
        bank.confirm(line, invoice, by=billing.owner)
    assert not Payment.objects.exists()


def test_a_line_in_another_currency_is_refused_with_a_way_out(billing):
    invoice = issued(billing)
    (line,) = lines_of(billing, Entry("130.00", "x", currency="USD"))
    with pytest.raises(ValidationError, match="The line is in USD and 2026-0001 in EUR"):
        bank.confirm(line, invoice, by=billing.owner)
    assert not Payment.objects.exists()


def test_ignored_lines_must_be_reopened_first(billing):
    invoice = issued(billing)
    (line,) = lines_of(billing, Entry("119.00", "x"))
    bank.ignore(line, by=billing.owner)
    with pytest.raises(ValidationError, match="reopen it"):
        bank.confirm(line, invoice, by=billing.owner)

    reopened = bank.reopen(line, by=billing.owner)
    assert reopened.status == BankLine.Status.OPEN
    bank.confirm(reopened, invoice, by=billing.owner)
    with pytest.raises(ValidationError, match="delete that payment"):
        bank.ignore(reopened, by=billing.owner)


def test_another_organizations_lines_and_invoices_are_refused(billing, outsider):
    ours = issued(billing)
    (line,) = lines_of(billing, Entry("119.00", "x"))
    rival_client = factories.make_client(outsider.organization, "Rival")
    rival_draft = invoicing.start_draft(rival_client, by=outsider)

    with pytest.raises(ValidationError, match="another organization"):
        bank.confirm(line, ours, by=outsider)
    with pytest.raises(ValidationError, match="another organization"):
        bank.confirm(line, rival_draft, by=billing.owner)
    with pytest.raises(ValidationError, match="another organization"):
        bank.ignore(line, by=outsider)
    assert not Payment.objects.exists()
    line.refresh_from_db()
    assert line.status == BankLine.Status.OPEN


def test_confirming_several_records_the_good_ones_and_reports_the_others(billing):
    first, second = issued(billing), issued(billing, "50.00")
    good, paid_out, other = lines_of(
        billing, Entry("119.00", "a"), Entry("-5.00", "b"), Entry("59.50", "c")
    )

    payments, errors = bank.confirm_many(
        [(good, first), (paid_out, second), (other, second)], by=billing.owner
    )

    assert [p.bank_line_id for p in payments] == [good.pk, other.pk]
    assert errors == {paid_out.pk: "This line is money paid out, not a payment received."}
    assert Payment.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_record_one_payment(billing, wipe_invoices_after):
    invoice = issued(billing)
    (line,) = lines_of(billing, Entry("50.00", "x"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm() -> None:
        try:
            barrier.wait()
            bank.confirm(line, invoice, by=billing.owner)
            outcomes.append("recorded")
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["This bank line is already recorded as a payment.", "recorded"]
    assert Payment.objects.filter(bank_line=line).count() == 1


def test_a_line_booked_more_than_a_year_before_the_invoice_is_refused(billing):
    invoice = issued(billing)
    (line,) = lines_of(billing, Entry("119.00", "x", booked=date(2025, 1, 2)))
    with pytest.raises(ValidationError) as caught:
        bank.confirm(line, invoice, by=billing.owner)
    assert caught.value.messages == ["That date is more than a year before the invoice."]
    assert not hasattr(caught.value, "error_dict")  # no field the user could have sent
    assert not Payment.objects.exists()
