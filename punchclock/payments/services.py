"""Recording payments, refunds and the use of client credit.

Every change runs in one transaction that locks the invoice row with FOR NO KEY UPDATE:
two payments for one invoice are allocated one after the other, never over the balance,
and nothing here touches the number series, so recording a payment never waits for an
invoice being issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.automation import notifications
from punchclock.core.money import is_currency, round_money
from punchclock.core.services import field_error
from punchclock.core.timeutil import local_date, now
from punchclock.expenses.services import conversion
from punchclock.invoicing.models import EventKind, Invoice, InvoiceEvent, InvoiceKind
from punchclock.payments.balances import (
    ZERO,
    allocated,
    balance_of,
    unallocated,
    with_balances,
)
from punchclock.payments.models import Allocation, BankLine, Method, Payment

LONGEST_REFERENCE = 200


@dataclass(frozen=True)
class PaymentInput:
    amount: Decimal
    received_on: date
    method: str = Method.TRANSFER
    currency: str = ""  # "" = the invoice's
    exchange_rate: Decimal | None = None
    reference: str = ""
    note: str = ""


def _require_manager(by: Membership | None, organization_id: int) -> None:
    if by is not None:
        require(by, "payments.manage")
        if by.organization_id != organization_id:
            raise ValidationError("This invoice belongs to another organization.")


def _locked_invoice(invoice: Invoice) -> Invoice:
    """The invoice locked for this transaction, with its balance.

    Lock first, then read the balance in a second statement: PostgreSQL computes a
    statement's subqueries from the snapshot it started with, so a balance read in the
    locking statement would miss the payment whose commit it waited for."""
    Invoice.objects.select_for_update(no_key=True).filter(pk=invoice.pk).values_list("pk").get()
    return (
        with_balances(Invoice.objects.filter(pk=invoice.pk))
        .select_related("client", "organization")
        .get()
    )


def _check_payable(invoice: Invoice) -> None:
    if invoice.is_draft:
        raise ValidationError("A draft cannot be paid: issue it first.")
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        raise ValidationError(
            f"{invoice.number} is a credit note; record the money you return as a refund "
            "of a payment."
        )


def _checked(given: PaymentInput, invoice: Invoice) -> tuple[Decimal, str, Decimal | None]:
    """Amount, currency and exchange rate to the invoice's currency, or clear errors."""
    if not given.amount.is_finite() or given.amount <= 0:
        raise field_error("amount", "Enter an amount above zero.")
    currency = (given.currency or invoice.currency).upper()
    if not is_currency(currency):
        raise field_error("currency", f"“{currency}” is not a currency code.")
    amount = round_money(given.amount, currency)
    if amount != given.amount:
        raise field_error(
            "amount", f"{currency} amounts have at most {len(str(amount).split('.')[-1])} decimals."
        )
    today = local_date(now(), invoice.organization.timezone)
    if given.received_on > today + timedelta(days=1):
        raise field_error("received_on", "A payment cannot be received in the future.")
    if invoice.issue_date and given.received_on < invoice.issue_date - timedelta(days=366):
        raise field_error("received_on", "That date is more than a year before the invoice.")
    if len(given.reference) > LONGEST_REFERENCE:
        raise field_error("reference", f"At most {LONGEST_REFERENCE} characters.")
    if given.method not in Method.values:
        raise field_error("method", f"Choose one of {', '.join(Method.values)}.")
    rate = None
    if currency != invoice.currency:
        if given.exchange_rate is not None:
            if given.exchange_rate <= 0:
                raise field_error("exchange_rate", "An exchange rate is above zero.")
            rate = given.exchange_rate
        else:
            try:
                rate = conversion(
                    invoice.organization, currency, invoice.currency, given.received_on
                ).rate
            except ValidationError as exc:
                raise field_error(
                    "exchange_rate",
                    f"No exchange rate from {currency} to {invoice.currency} on "
                    f"{given.received_on}: enter the rate the bank used.",
                ) from exc
    return amount, currency, rate


def record_payment(
    invoice: Invoice,
    given: PaymentInput,
    *,
    by: Membership | None,
    bank_line: BankLine | None = None,
    stripe_payment_intent: str | None = None,
) -> Payment:
    """Money received for an invoice: what exceeds its balance becomes the client's credit.

    `by` is None only for the Stripe webhook, which acts for the organization."""
    _require_manager(by, invoice.organization_id)
    with transaction.atomic():
        locked = _locked_invoice(invoice)
        _check_payable(locked)
        today = local_date(now(), locked.organization.timezone)
        balance = balance_of(locked, today)
        if balance.state == "credited":
            raise ValidationError(f"{locked.number} was credited in full; nothing is owed on it.")
        amount, currency, rate = _checked(given, locked)
        payment = Payment.objects.create(
            organization_id=locked.organization_id,
            client_id=locked.client_id,
            amount=amount,
            currency=currency,
            received_on=given.received_on,
            method=given.method,
            reference=given.reference.strip(),
            note=given.note.strip(),
            exchange_rate=rate,
            bank_line=bank_line,
            stripe_payment_intent=stripe_payment_intent,
            created_by=by.user if by else None,
        )
        if balance.balance > 0:
            _allocate(payment, locked, amount, rate, balance.balance)
        if bank_line is not None:
            BankLine.objects.filter(pk=bank_line.pk).update(status=BankLine.Status.MATCHED)
        # In this transaction: the payment and the news of it commit together, once.
        notifications.payment_received(payment, locked, by=by)
    return payment


def _allocate(
    payment: Payment,
    invoice: Invoice,
    available: Decimal,
    rate: Decimal | None,
    balance: Decimal,
) -> Allocation:
    """Allocate up to `available` (payment currency) of a payment to an invoice's balance."""
    converted = available if rate is None else round_money(available * rate, invoice.currency)
    amount = min(converted, balance)
    if rate is None:
        payment_amount = amount
    elif amount == converted:
        payment_amount = available
    else:
        # Only part of it fits: the rest stays as credit in the payment's currency.
        payment_amount = min(available, round_money(amount / rate, payment.currency))
    return Allocation.objects.create(
        payment=payment, invoice=invoice, amount=amount, payment_amount=payment_amount
    )


def apply_credit(
    invoice: Invoice, *, by: Membership, amount: Decimal | None = None
) -> list[Allocation]:
    """Pay an invoice from the client's credit in its currency, oldest payments first."""
    _require_manager(by, invoice.organization_id)
    if amount is not None and amount <= 0:
        raise field_error("amount", "Enter an amount above zero.")
    with transaction.atomic():
        locked = _locked_invoice(invoice)
        _check_payable(locked)
        balance = balance_of(locked, local_date(now(), locked.organization.timezone))
        if balance.balance <= 0:
            raise ValidationError(f"{locked.number} has nothing left to pay.")
        wanted = balance.balance if amount is None else min(amount, balance.balance)
        # Lock the client's payments so two invoices cannot spend the same credit.
        credit = Payment.objects.filter(
            client_id=locked.client_id, currency=locked.currency, amount__gt=0
        ).order_by("received_on", "pk")
        list(credit.select_for_update(no_key=True).values_list("pk"))  # lock, then read
        sources = unallocated(credit)
        refunded = _refunded_by_payment(locked.client_id)
        allocations = []
        for source in sources:
            free = source.amount - allocated(source) - refunded.get(source.pk, ZERO)
            if free <= 0 or wanted <= 0:
                continue
            take = min(free, wanted)
            allocations.append(
                Allocation.objects.create(
                    payment=source, invoice=locked, amount=take, payment_amount=take
                )
            )
            wanted -= take
        if not allocations:
            raise ValidationError(
                f"{locked.client.name} has no credit in {locked.currency} to use."
            )
    return allocations


def _refunded_by_payment(client_id: int) -> dict[int, Decimal]:
    """What refunds returned from each payment's credit (their unallocated part)."""
    refunded: dict[int, Decimal] = {}
    refunds = unallocated(
        Payment.objects.filter(client_id=client_id, amount__lt=0, refund_of__isnull=False)
    )
    for refund in refunds:
        from_credit = -(refund.amount - allocated(refund))
        source_id = refund.refund_of_id
        if from_credit and source_id is not None:
            refunded[source_id] = refunded.get(source_id, ZERO) + from_credit
    return refunded


def refundable(payment: Payment) -> Decimal:
    """What of a received payment has not been returned yet."""
    returned = sum((refund.amount for refund in payment.refunds.all()), ZERO)
    return payment.amount + returned


def refund_payment(
    payment: Payment,
    *,
    by: Membership | None,
    amount: Decimal,
    on: date,
    reference: str = "",
    note: str = "",
    stripe_refund: str | None = None,
) -> Payment:
    """Return money from a payment: first from the credit it left, then from its invoices.

    Taking it back from an invoice reopens that invoice's balance."""
    _require_manager(by, payment.organization_id)
    if not amount.is_finite() or amount <= 0:
        raise field_error("amount", "Enter the amount to return, above zero.")
    with transaction.atomic():
        Payment.objects.select_for_update(no_key=True).filter(pk=payment.pk).values_list(
            "pk"
        ).get()  # lock, then read (see _locked_invoice)
        source = unallocated(Payment.objects.filter(pk=payment.pk)).get()
        if source.amount < 0:
            raise ValidationError("A refund cannot be refunded.")
        left = refundable(source)
        if amount > left:
            raise field_error(
                "amount",
                f"At most {round_money(left, source.currency)} {source.currency} of this "
                "payment can be returned.",
            )
        credit_left = (
            source.amount
            - allocated(source)
            - _refunded_by_payment(source.client_id).get(source.pk, ZERO)
        )
        refund = Payment.objects.create(
            organization_id=source.organization_id,
            client_id=source.client_id,
            amount=-amount,
            currency=source.currency,
            received_on=on,
            method=source.method,
            reference=reference.strip() or source.reference,
            note=note.strip(),
            exchange_rate=source.exchange_rate,
            refund_of=source,
            stripe_refund=stripe_refund,
            created_by=by.user if by else None,
        )
        remaining = amount - min(amount, max(credit_left, ZERO))
        # Per invoice, what the payment still pays there (its allocations less earlier
        # refunds'), taken back from the invoice paid last first.
        open_parts: dict[int, list[Any]] = {}
        for allocation in source.allocations.select_related("invoice").order_by("pk"):
            part = open_parts.setdefault(allocation.invoice_id, [allocation.invoice, ZERO, ZERO])
            part[1] += allocation.payment_amount
            part[2] += allocation.amount
        for earlier in Allocation.objects.filter(payment__refund_of=source).exclude(payment=refund):
            if earlier.invoice_id in open_parts:
                open_parts[earlier.invoice_id][1] += earlier.payment_amount
                open_parts[earlier.invoice_id][2] += earlier.amount
        for invoice, still_paid, still_paid_invoice in reversed(list(open_parts.values())):
            take = min(still_paid, remaining)
            if take <= 0:
                continue
            invoice_amount = (
                take
                if source.exchange_rate is None
                else round_money(take * source.exchange_rate, invoice.currency)
            )
            Allocation.objects.create(
                payment=refund,
                invoice=invoice,
                amount=-min(invoice_amount, still_paid_invoice),
                payment_amount=-take,
            )
            remaining -= take
            if remaining <= 0:
                break
    return refund


def delete_payment(payment: Payment, *, by: Membership) -> None:
    """Remove a payment entered by mistake (not an online one, and not one with refunds)."""
    _require_manager(by, payment.organization_id)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.stripe_payment_intent or locked.stripe_refund:
            raise ValidationError("Online payments follow Stripe; refund them in Stripe.")
        if locked.refunds.exists():
            raise ValidationError("Delete its refunds first.")
        if locked.bank_line_id:
            BankLine.objects.filter(pk=locked.bank_line_id).update(status=BankLine.Status.OPEN)
        locked.delete()


def record_event(invoice: Invoice, kind: str, **detail: Any) -> None:
    InvoiceEvent.objects.create(invoice=invoice, kind=kind, at=now(), by=None, detail=detail)


def payment_failed(invoice: Invoice, **detail: Any) -> None:
    record_event(invoice, EventKind.PAYMENT_FAILED, **detail)
