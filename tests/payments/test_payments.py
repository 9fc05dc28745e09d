"""Payments, partial payments, overpayment as credit, refunds and the statuses that follow."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from punchclock.expenses.services import set_manual_rate
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import EventKind, InvoiceEvent
from punchclock.payments import services
from punchclock.payments.balances import (
    State,
    balance_of,
    client_credit,
    exact_total,
)
from punchclock.payments.models import Allocation, Method, Payment
from tests.payments.conftest import TODAY, issued, paid

pytestmark = pytest.mark.usefixtures("frozen_today")


def test_a_partial_then_a_full_payment(billing):
    invoice = issued(billing)
    assert balance_of(invoice, TODAY).state == State.OPEN
    services.record_payment(invoice, paid("50.00"), by=billing.owner)
    first = balance_of(invoice, TODAY)
    assert (first.paid, first.balance, first.state) == (
        Decimal("50.00"),
        Decimal("69.00"),
        State.PARTIALLY_PAID,
    )
    services.record_payment(invoice, paid("69.00", method=Method.CASH), by=billing.owner)
    second = balance_of(invoice, TODAY)
    assert (second.balance, second.state) == (0, State.PAID)


def test_an_overpayment_becomes_credit_that_pays_the_next_invoice(billing):
    first, second = issued(billing), issued(billing, "50.00")
    services.record_payment(first, paid("200.00"), by=billing.owner)
    assert balance_of(first, TODAY).state == State.PAID
    assert client_credit(billing.client.pk) == {"EUR": Decimal("81.00")}
    allocations = services.apply_credit(second, by=billing.owner)
    assert [a.amount for a in allocations] == [Decimal("59.50")]
    assert balance_of(second, TODAY).state == State.PAID
    assert client_credit(billing.client.pk) == {"EUR": Decimal("21.50")}
    # No more credit than there is.
    third = issued(billing, "100.00")
    services.apply_credit(third, by=billing.owner)
    assert balance_of(third, TODAY).balance == Decimal("97.50")
    with pytest.raises(ValidationError, match="no credit in EUR"):
        services.apply_credit(third, by=billing.owner)


def test_a_refund_comes_from_the_credit_first_then_reopens_the_invoice(billing):
    invoice = issued(billing)
    payment = services.record_payment(invoice, paid("150.00"), by=billing.owner)
    services.refund_payment(payment, by=billing.owner, amount=Decimal("31.00"), on=TODAY)
    assert client_credit(billing.client.pk) == {}
    assert balance_of(invoice, TODAY).state == State.PAID
    services.refund_payment(payment, by=billing.owner, amount=Decimal("19.00"), on=TODAY)
    after = balance_of(invoice, TODAY)
    assert (after.paid, after.balance, after.state) == (
        Decimal("100.00"),
        Decimal("19.00"),
        State.PARTIALLY_PAID,
    )
    with pytest.raises(ValidationError, match=r"At most 100\.00 EUR"):
        services.refund_payment(payment, by=billing.owner, amount=Decimal("100.01"), on=TODAY)
    services.refund_payment(payment, by=billing.owner, amount=Decimal("100.00"), on=TODAY)
    assert balance_of(invoice, TODAY).balance == Decimal("119.00")
    assert services.refundable(payment) == 0


def test_a_payment_in_another_currency_keeps_its_rate(billing):
    invoice = issued(billing)  # 119.00 EUR
    payment = services.record_payment(
        invoice,
        paid("130.00", currency="USD", exchange_rate=Decimal("0.9")),
        by=billing.owner,
    )
    assert payment.exchange_rate == Decimal("0.9")
    allocation = payment.allocations.get()
    assert (allocation.amount, allocation.payment_amount) == (Decimal("117.00"), Decimal("130.00"))
    assert balance_of(invoice, TODAY).balance == Decimal("2.00")
    # Without a rate, the recorded one for that day is used …
    set_manual_rate(
        billing.organization, by=billing.owner, currency="USD", rate=Decimal("1.25"), on=TODAY
    )
    services.record_payment(invoice, paid("10.00", currency="USD"), by=billing.owner)
    assert balance_of(invoice, TODAY).state == State.PAID
    # … and 10 USD was 8 EUR: 2 EUR paid the rest, the other 7.50 USD is credit.
    assert client_credit(billing.client.pk) == {"USD": Decimal("7.50")}


def test_a_currency_without_a_rate_is_refused_and_nothing_is_written(billing):
    invoice = issued(billing)
    with pytest.raises(ValidationError) as error:
        services.record_payment(invoice, paid("10.00", currency="CHF"), by=billing.owner)
    assert "exchange_rate" in error.value.message_dict
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("amount", "field"),
    [("0", "amount"), ("-5.00", "amount"), ("10.001", "amount"), ("NaN", "amount")],
)
def test_bad_amounts_are_refused(billing, amount, field):
    invoice = issued(billing)
    with pytest.raises(ValidationError) as error:
        services.record_payment(invoice, paid(amount), by=billing.owner)
    assert field in error.value.message_dict
    assert not Payment.objects.exists()


def test_drafts_credit_notes_and_credited_invoices_take_no_payment(billing):
    draft = invoicing.start_draft(billing.client, by=billing.owner)
    with pytest.raises(ValidationError, match="draft"):
        services.record_payment(draft, paid("10.00"), by=billing.owner)
    invoice = issued(billing)
    note = invoicing.credit_invoice(invoice, by=billing.owner, issue_date=TODAY)
    with pytest.raises(ValidationError, match="credit note"):
        services.record_payment(note, paid("10.00"), by=billing.owner)
    with pytest.raises(ValidationError, match="credited in full"):
        services.record_payment(invoice, paid("10.00"), by=billing.owner)
    assert balance_of(invoice, TODAY).state == State.CREDITED
    assert balance_of(note, TODAY).state == State.CREDIT_NOTE
    assert not Payment.objects.exists()


def test_a_future_date_is_refused(billing):
    invoice = issued(billing)
    with pytest.raises(ValidationError) as error:
        services.record_payment(
            invoice, paid("10.00", on=TODAY + timedelta(days=5)), by=billing.owner
        )
    assert "received_on" in error.value.message_dict


def test_only_owners_and_admins_record_payments(billing, outsider):
    invoice = issued(billing)
    for membership in (billing.manager, billing.member):
        with pytest.raises(PermissionDenied):
            services.record_payment(invoice, paid("10.00"), by=membership)
    with pytest.raises((PermissionDenied, ValidationError)):
        services.record_payment(invoice, paid("10.00"), by=outsider)
    services.record_payment(invoice, paid("10.00"), by=billing.admin)
    assert Payment.objects.count() == 1


def test_statuses_follow_sending_viewing_and_the_due_date(billing):
    invoice = issued(billing, on=date(2026, 11, 10))
    assert invoice.due_date is not None
    ten_days_late = invoice.due_date + timedelta(days=10)
    assert balance_of(invoice, TODAY).state == State.OPEN
    InvoiceEvent.objects.create(invoice=invoice, kind=EventKind.SENT, at=invoice.issued_at)
    assert balance_of(invoice, TODAY).state == State.SENT
    InvoiceEvent.objects.create(invoice=invoice, kind=EventKind.VIEWED, at=invoice.issued_at)
    assert balance_of(invoice, TODAY).state == State.VIEWED
    late = balance_of(invoice, ten_days_late)
    assert (late.state, late.days_overdue) == (State.OVERDUE, 10)
    services.record_payment(invoice, paid("119.00"), by=billing.owner)
    assert balance_of(invoice, ten_days_late).state == State.PAID


def test_a_partial_credit_note_lowers_the_balance(billing):
    invoice = invoicing.issue_invoice(
        _two_lines(billing), by=billing.owner, issue_date=date(2026, 11, 2)
    )
    first_line = invoice.lines.order_by("position").first()
    invoicing.credit_invoice(invoice, by=billing.owner, lines=[first_line], issue_date=TODAY)
    state = balance_of(invoice, TODAY)
    assert (state.credited, state.balance) == (Decimal("119.00"), Decimal("59.50"))
    services.record_payment(invoice, paid("59.50"), by=billing.owner)
    assert balance_of(invoice, TODAY).state == State.PAID


def _two_lines(agency):
    draft = invoicing.start_draft(agency.client, by=agency.owner)
    for price in ("100.00", "50.00"):
        invoicing.add_line(
            draft,
            by=agency.owner,
            description="Work",
            quantity=Decimal(1),
            unit_price=Decimal(price),
            tax_category="S",
            tax_rate=Decimal(19),
        )
    return draft


def test_deleting_a_mistaken_payment_reopens_the_invoice(billing):
    invoice = issued(billing)
    payment = services.record_payment(invoice, paid("119.00"), by=billing.owner)
    services.delete_payment(payment, by=billing.owner)
    assert balance_of(invoice, TODAY).state == State.OPEN
    assert not Allocation.objects.exists()


def test_ten_thousand_payments_of_ten_cents_total_exactly_one_thousand(billing):
    invoice = issued(billing, "1000.00")
    payment = Payment.objects.create(
        organization=billing.organization,
        client=billing.client,
        amount=Decimal("0.10"),
        currency="EUR",
        received_on=TODAY,
    )
    Payment.objects.bulk_create(
        Payment(
            organization=billing.organization,
            client=billing.client,
            amount=Decimal("0.10"),
            currency="EUR",
            received_on=TODAY,
        )
        for _ in range(9_999)
    )
    Allocation.objects.bulk_create(
        Allocation(
            payment_id=pk, invoice=invoice, amount=Decimal("0.10"), payment_amount=Decimal("0.10")
        )
        for pk in Payment.objects.values_list("pk", flat=True)
    )
    total = exact_total(Payment.objects.filter(client=billing.client), "amount")
    assert str(total) == "1000.0000"
    assert balance_of(invoice, TODAY).paid == Decimal("1000.00")
    assert balance_of(invoice, TODAY).balance == Decimal("190.00")
    assert payment.pk


def test_the_database_refuses_zero_and_positive_refunds(billing):
    base = {
        "organization": billing.organization,
        "client": billing.client,
        "currency": "EUR",
        "received_on": TODAY,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(amount=Decimal(0), **base)
    original = Payment.objects.create(amount=Decimal(5), **base)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(amount=Decimal(5), refund_of=original, **base)


def test_one_payment_per_stripe_payment_intent(billing):
    invoice = issued(billing)
    services.record_payment(invoice, paid("10.00"), by=None, stripe_payment_intent="pi_1")
    with pytest.raises(IntegrityError), transaction.atomic():
        services.record_payment(invoice, paid("10.00"), by=None, stripe_payment_intent="pi_1")
    assert Payment.objects.count() == 1
