"""What each issued invoice still owes, and the status that follows, derived and never stored.

An invoice's balance is its gross total, less its issued credit notes, less what payments
allocated to it. Sums run in the database as integers of 1/10,000 (every amount has at
most four decimals), so they are exact on SQLite too, where Django keeps decimals as
floating-point REAL: 10,000 payments of 0.10 sum to exactly 1,000.00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    BigIntegerField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Round

from punchclock.core.money import round_money
from punchclock.invoicing.models import (
    EventKind,
    Invoice,
    InvoiceEvent,
    InvoiceKind,
    InvoiceStatus,
)
from punchclock.payments.models import Allocation, Payment

SCALE = 10_000  # amounts are stored with four decimals
ZERO = Decimal(0)


class State:
    """An invoice's status for billing and payment (not its legal status, draft/issued)."""

    DRAFT = "draft"
    OPEN = "open"
    SENT = "sent"
    VIEWED = "viewed"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    CREDITED = "credited"
    CREDIT_NOTE = "credit_note"

    LABELS = {
        DRAFT: "Draft",
        OPEN: "Issued",
        SENT: "Sent",
        VIEWED: "Viewed",
        PARTIALLY_PAID: "Partially paid",
        PAID: "Paid",
        OVERDUE: "Overdue",
        CREDITED: "Credited",
        CREDIT_NOTE: "Credit note",
    }


def scaled_sum(field: str) -> Sum:
    """SUM of a decimal column as an integer count of 1/10,000: exact on every database."""
    return Sum(Cast(Round(F(field) * SCALE), BigIntegerField()))


def from_scaled(value: int | None) -> Decimal:
    return Decimal(value or 0).scaleb(-4)


def exact_total(queryset: QuerySet, field: str) -> Decimal:
    """The exact Decimal sum of a decimal column over a queryset."""
    return from_scaled(queryset.aggregate(total=scaled_sum(field))["total"])


def _subquery_sum(queryset: QuerySet, field: str, key: str) -> Coalesce:
    summed = queryset.values(key).annotate(total=scaled_sum(field)).values("total")
    return Coalesce(Subquery(summed, output_field=BigIntegerField()), Value(0))


def with_balances(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate `paid_e4`, `credited_e4` (integers, 1/10,000), `was_sent` and `was_viewed`."""
    allocations = Allocation.objects.filter(invoice=OuterRef("pk"))
    credit_notes = Invoice.objects.filter(
        credits=OuterRef("pk"), kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
    )
    events = InvoiceEvent.objects.filter(invoice=OuterRef("pk"))
    return invoices.annotate(
        paid_e4=_subquery_sum(allocations, "amount", "invoice"),
        credited_e4=_subquery_sum(credit_notes, "gross_total", "credits"),
        was_sent=Exists(events.filter(kind=EventKind.SENT)),
        was_viewed=Exists(events.filter(kind=EventKind.VIEWED)),
    )


@dataclass(frozen=True, slots=True)
class Balance:
    currency: str
    gross: Decimal
    credited: Decimal  # positive: what credit notes took off
    paid: Decimal  # net of refunds
    balance: Decimal  # still owed; negative when overpaid
    state: str
    days_overdue: int

    @property
    def label(self) -> str:
        return State.LABELS[self.state]

    @property
    def is_open(self) -> bool:
        return self.balance > 0


def amounts(
    currency: str, gross_total: Decimal, credited_e4: int, paid_e4: int
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Gross, credited (positive), paid and the balance still owed, each in whole units of
    the currency, from an invoice's gross total and `with_balances`' sums."""
    gross = round_money(gross_total, currency)
    credited = -round_money(from_scaled(credited_e4), currency)
    paid = round_money(from_scaled(paid_e4), currency)
    return gross, credited, paid, gross - credited - paid


def balance_of(invoice: Invoice, today: date) -> Balance:
    """The balance and state of an invoice annotated by `with_balances` (or queried here)."""
    if not hasattr(invoice, "paid_e4"):
        invoice = with_balances(Invoice.objects.filter(pk=invoice.pk)).get()
    currency = invoice.currency
    gross, credited, paid, balance = amounts(
        currency,
        invoice.gross_total,
        invoice.credited_e4,  # type: ignore[attr-defined]
        invoice.paid_e4,  # type: ignore[attr-defined]
    )
    overdue_days = 0
    if invoice.is_draft:
        state = State.DRAFT
    elif invoice.kind == InvoiceKind.CREDIT_NOTE:
        state = State.CREDIT_NOTE
    elif credited >= gross:
        state = State.CREDITED
    elif balance <= 0:
        state = State.PAID
    else:
        due = invoice.due_date or invoice.issue_date
        if due is not None and due < today:
            state, overdue_days = State.OVERDUE, (today - due).days
        elif paid > 0:
            state = State.PARTIALLY_PAID
        elif invoice.was_viewed:  # type: ignore[attr-defined]
            state = State.VIEWED
        elif invoice.was_sent:  # type: ignore[attr-defined]
            state = State.SENT
        else:
            state = State.OPEN
    return Balance(currency, gross, credited, paid, balance, state, overdue_days)


def owing(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """The issued invoices of `invoices` that still owe something, annotated as
    `with_balances` does. The filter runs in the database on the exact integer sums, so
    paid and credited invoices are never loaded."""
    issued = invoices.filter(status=InvoiceStatus.ISSUED, kind=InvoiceKind.INVOICE)
    gross_e4 = Cast(Round(F("gross_total") * SCALE), BigIntegerField())
    return (
        with_balances(issued)
        .alias(owed_e4=gross_e4 + F("credited_e4") - F("paid_e4"))
        .filter(owed_e4__gt=0)
    )


def unallocated(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """Annotate `allocated_e4`: how much of each payment went to invoices (1/10,000)."""
    allocations = Allocation.objects.filter(payment=OuterRef("pk"))
    return payments.annotate(allocated_e4=_subquery_sum(allocations, "payment_amount", "payment"))


def client_credit(client_id: int) -> dict[str, Decimal]:
    """Money the client paid that no invoice took, per currency (overpayments less refunds)."""
    credit: dict[str, Decimal] = {}
    for payment in unallocated(Payment.objects.filter(client_id=client_id)):
        free = payment.amount - allocated(payment)
        credit[payment.currency] = credit.get(payment.currency, ZERO) + free
    return {currency: value for currency, value in credit.items() if value}


def allocated(payment: Payment) -> Decimal:
    """What of a payment annotated by `unallocated` went to invoices."""
    return from_scaled(payment.allocated_e4)  # type: ignore[attr-defined]
