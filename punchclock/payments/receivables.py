"""What clients owe: open invoices, aging, totals per currency, credit, payment history and
statements of account.

Nothing here writes. Balances come from `balances.with_balances`, whose sums are exact
integers of 1/10,000, and are added up here as Decimals, per currency: amounts in different
currencies are never added together. Every function runs a fixed number of queries, however
many invoices and payments an organization has.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from punchclock.clients.models import Client
from punchclock.core.money import round_money
from punchclock.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from punchclock.payments.balances import (
    ZERO,
    Balance,
    amounts,
    balance_of,
    client_credit,
    from_scaled,
    owing,
    scaled_sum,
)
from punchclock.payments.models import Allocation, Method, Payment

# Aging buckets, by days past the due date; an invoice due today is still current.
BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")
BUCKET_LABELS = {
    "current": "Current",
    "days_1_30": "1–30 days",
    "days_31_60": "31–60 days",
    "days_61_90": "61–90 days",
    "over_90": "Over 90 days",
}
_LAST_DAY_OF = (("current", 0), ("days_1_30", 30), ("days_31_60", 60), ("days_61_90", 90))


def bucket_of(days_overdue: int) -> str:
    """The aging bucket of an invoice so many days past its due date (0: not yet due)."""
    for bucket, last_day in _LAST_DAY_OF:
        if days_overdue <= last_day:
            return bucket
    return "over_90"


# Open invoices and aging -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    invoice: Invoice
    balance: Balance

    @property
    def days_overdue(self) -> int:
        return self.balance.days_overdue

    @property
    def bucket(self) -> str:
        return bucket_of(self.balance.days_overdue)


def open_invoices(
    organization_id: int, *, today: date, client_id: int | None = None
) -> list[OpenInvoice]:
    """Issued invoices with a balance left to pay, longest overdue first (one query)."""
    invoices = Invoice.objects.filter(organization_id=organization_id)
    if client_id is not None:
        invoices = invoices.filter(client_id=client_id)
    open_ones = owing(invoices).select_related("client")
    found = [OpenInvoice(i, balance_of(i, today)) for i in open_ones]
    return sorted(
        found,
        key=lambda o: (-o.days_overdue, o.invoice.due_date or date.min, o.invoice.number or ""),
    )


def _no_buckets() -> dict[str, Decimal]:
    return dict.fromkeys(BUCKETS, ZERO)


@dataclass
class Aging:
    """What one client (or, without client, everyone) owes in one currency, by age."""

    currency: str
    client: Client | None = None
    buckets: dict[str, Decimal] = field(default_factory=_no_buckets)
    invoices: int = 0
    credit: Decimal = ZERO  # paid but not used by any invoice; not taken off `outstanding`

    @property
    def outstanding(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def overdue(self) -> Decimal:
        return self.outstanding - self.buckets["current"]

    @property
    def by_age(self) -> list[Decimal]:
        """The buckets' amounts in BUCKETS order (templates cannot look keys up)."""
        return [self.buckets[bucket] for bucket in BUCKETS]

    def add(self, item: OpenInvoice) -> None:
        self.buckets[item.bucket] += item.balance.balance
        self.invoices += 1

    def merge(self, other: Aging) -> None:
        for bucket in BUCKETS:
            self.buckets[bucket] += other.buckets[bucket]
        self.invoices += other.invoices
        self.credit += other.credit


def totals(rows: list[Aging]) -> list[Aging]:
    """Per-client rows summed per currency, in currency order."""
    found: dict[str, Aging] = {}
    for row in rows:
        found.setdefault(row.currency, Aging(row.currency)).merge(row)
    return [found[code] for code in sorted(found)]


def owed_totals(organization_id: int, *, today: date) -> list[Aging]:
    """Outstanding and overdue per currency, for the home page: one query of plain values,
    with the balances `open_invoices` gives, so an agency with a thousand open invoices
    loads no invoice or client."""
    rows: dict[str, Aging] = {}
    open_ones = owing(Invoice.objects.filter(organization_id=organization_id)).values_list(  # type: ignore[misc]
        "currency", "gross_total", "credited_e4", "paid_e4", "due_date", "issue_date"
    )
    for currency, gross_total, credited_e4, paid_e4, due_date, issue_date in open_ones.order_by():
        balance = amounts(currency, gross_total, credited_e4, paid_e4)[3]
        due = due_date or issue_date
        overdue = (today - due).days if due is not None and due < today else 0
        row = rows.setdefault(currency, Aging(currency))
        row.buckets[bucket_of(overdue)] += balance
        row.invoices += 1
    return [rows[code] for code in sorted(rows)]


def credit_by_client(
    organization_id: int, *, client_id: int | None = None
) -> dict[tuple[int, str], Decimal]:
    """Every client's unused credit per currency, as balances.client_credit, in two queries."""
    payments = Payment.objects.filter(organization_id=organization_id)
    allocations = Allocation.objects.filter(payment__organization_id=organization_id)
    if client_id is not None:
        payments = payments.filter(client_id=client_id)
        allocations = allocations.filter(payment__client_id=client_id)
    scaled: dict[tuple[int, str], int] = defaultdict(int)
    received = payments.values("client_id", "currency").annotate(total=scaled_sum("amount"))
    for row in received.order_by():
        scaled[row["client_id"], row["currency"]] += row["total"]
    used = allocations.values("payment__client_id", "payment__currency").annotate(
        total=scaled_sum("payment_amount")
    )
    for spent in used.order_by():
        scaled[spent["payment__client_id"], spent["payment__currency"]] -= spent["total"]
    return {key: from_scaled(total) for key, total in scaled.items() if total}


@dataclass(frozen=True)
class Receivables:
    today: date
    invoices: list[OpenInvoice]  # longest overdue first
    clients: list[Aging]  # per client and currency, by client name
    totals: list[Aging]  # per currency


def receivables(organization_id: int, *, today: date, client_id: int | None = None) -> Receivables:
    """Open invoices, aging per client and currency, and totals per currency."""
    items = open_invoices(organization_id, today=today, client_id=client_id)
    rows: dict[tuple[int, str], Aging] = {}
    for item in items:
        key = (item.invoice.client_id, item.balance.currency)
        rows.setdefault(key, Aging(item.balance.currency, item.invoice.client)).add(item)
    credit = credit_by_client(organization_id, client_id=client_id)
    # Clients with credit but nothing owed still get a row: their money is waiting.
    known = {pk: row.client for (pk, _), row in rows.items()}
    known |= Client.objects.in_bulk({pk for pk, _ in credit if pk not in known})
    for key, amount in credit.items():
        rows.setdefault(key, Aging(key[1], known[key[0]])).credit = amount
    by_client = sorted(
        rows.values(),
        key=lambda r: (r.client.name.lower() if r.client else "", r.currency),
    )
    return Receivables(today, items, by_client, totals(by_client))


# Payment history -----------------------------------------------------------------------------


def payment_history(organization_id: int, *, client_id: int | None = None) -> QuerySet[Payment]:
    """Payments and refunds, newest first, each with the invoices it paid (three queries)."""
    allocations = Allocation.objects.select_related("invoice").order_by("pk")
    payments = (
        Payment.objects.filter(organization_id=organization_id)
        .select_related("client")
        .prefetch_related(Prefetch("allocations", queryset=allocations))
    )
    if client_id is not None:
        payments = payments.filter(client_id=client_id)
    return payments.order_by("-received_on", "-pk")


# Statement of account -----------------------------------------------------------------------

# On one day, documents come before the money that settles them.
KIND_ORDER = {"invoice": 0, "credit_note": 1, "payment": 2, "refund": 3}
KIND_LABELS = {
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "payment": "Payment",
    "refund": "Refund",
}


@dataclass(frozen=True, slots=True)
class StatementRow:
    day: date
    kind: str  # one of KIND_ORDER
    currency: str
    amount: Decimal  # positive: owed more (a debit); negative: owed less (a credit)
    reference: str = ""  # the document's number, or the payment's reference
    due_date: date | None = None
    invoices: tuple[str, ...] = ()  # what a credit note corrects, what a payment paid
    method: str = ""
    # A payment in another currency: what was received, and at which rate.
    received: Decimal | None = None
    received_currency: str = ""
    rate: Decimal | None = None
    invoice_id: int | None = None
    payment_id: int | None = None
    balance: Decimal = ZERO  # running, after this row

    @property
    def debit(self) -> Decimal:
        return max(self.amount, ZERO)

    @property
    def credit(self) -> Decimal:
        return max(-self.amount, ZERO)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def details(self) -> str:
        return describe(self)


ENGLISH = {
    "due": "due {date}",
    "corrects": "corrects {numbers}",
    "for": "for {numbers}",
    "reference": "ref. {reference}",
    "converted": "{amount} {currency} at {rate}",
    "kept": "kept as credit",
    "taken_back": "taken back from {numbers}",
    "from_credit": "from the credit",
    **dict(Method.choices),
}


def describe(
    row: StatementRow, words: dict[str, str] = ENGLISH, day: Callable[[date], str] = date.isoformat
) -> str:
    """What a statement row is about, in the given words (the PDF passes its language's)."""
    numbers = ", ".join(row.invoices)
    if row.kind == "invoice":
        return words["due"].format(date=day(row.due_date)) if row.due_date else ""
    if row.kind == "credit_note":
        return words["corrects"].format(numbers=numbers) if numbers else ""
    parts = [words.get(row.method, row.method)]
    if row.reference:
        parts.append(words["reference"].format(reference=row.reference))
    if row.kind == "refund":
        parts.append(
            words["taken_back"].format(numbers=numbers) if numbers else words["from_credit"]
        )
    else:
        parts.append(words["for"].format(numbers=numbers) if numbers else words["kept"])
    if row.received is not None and row.rate is not None:
        parts.append(
            words["converted"].format(
                amount=f"{abs(row.received):f}",  # already rounded to its currency
                currency=row.received_currency,
                rate=f"{row.rate.normalize():f}",
            )
        )
    return ", ".join(parts)


@dataclass(frozen=True)
class CurrencyStatement:
    currency: str
    opening: Decimal
    rows: list[StatementRow]
    closing: Decimal

    @property
    def debits(self) -> Decimal:
        return sum((row.debit for row in self.rows), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((row.credit for row in self.rows), ZERO)


@dataclass(frozen=True)
class Statement:
    client: Client
    start: date
    end: date  # inclusive
    sections: list[CurrencyStatement]  # one per currency, in currency order
    credit: dict[str, Decimal]  # the client's unused credit today, already in the balances


def statement(client: Client, *, start: date, end: date) -> Statement:
    """The client's account from `start` to `end`: per currency, the balance before the
    period, every document and payment in it with the running balance, and the balance
    after it. A positive balance is owed by the client; a negative one is their credit."""
    opening: dict[str, Decimal] = defaultdict(Decimal)
    within: dict[str, list[StatementRow]] = defaultdict(list)
    for row in sorted(_entries(client), key=_row_order):
        if row.day < start:
            opening[row.currency] += row.amount
        elif row.day <= end:
            within[row.currency].append(row)
    sections = []
    for currency in sorted(set(opening) | set(within)):
        balance = opening[currency]
        rows = []
        for row in within[currency]:
            balance += row.amount
            rows.append(replace(row, balance=balance))
        if rows or opening[currency]:
            sections.append(CurrencyStatement(currency, opening[currency], rows, balance))
    return Statement(client, start, end, sections, client_credit(client.pk))


def _row_order(row: StatementRow) -> tuple[date, int, int]:
    return row.day, KIND_ORDER[row.kind], row.invoice_id or row.payment_id or 0


def _entries(client: Client) -> Iterator[StatementRow]:
    """Every issued document and every payment of a client as rows (three queries)."""
    documents = Invoice.objects.filter(client=client, status=InvoiceStatus.ISSUED)
    for document in documents.select_related("credits").order_by():
        assert document.issue_date is not None  # issued documents always have one
        amount = round_money(document.gross_total, document.currency)
        if document.kind == InvoiceKind.CREDIT_NOTE:
            corrected = document.credits.number if document.credits else None
            yield StatementRow(
                document.issue_date,
                "credit_note",
                document.currency,
                amount,  # negative: credit notes carry negative totals
                reference=document.number or "",
                invoices=(corrected,) if corrected else (),
                invoice_id=document.pk,
            )
        else:
            yield StatementRow(
                document.issue_date,
                "invoice",
                document.currency,
                amount,
                reference=document.number or "",
                due_date=document.due_date,
                invoice_id=document.pk,
            )
    for payment in payment_history(client.organization_id, client_id=client.pk):
        yield from _payment_rows(payment)


def _payment_rows(payment: Payment) -> Iterator[StatementRow]:
    """A payment as one row per currency it counts in.

    What it paid on invoices counts in each invoice's currency; what it left as credit
    counts in its own. A payment in the invoice's currency is one row of its full amount."""
    parts: dict[str, Decimal] = defaultdict(Decimal)
    received: dict[str, Decimal] = defaultdict(Decimal)  # the same, in the payment's currency
    paid: dict[str, list[str]] = defaultdict(list)
    left = payment.amount
    for allocation in payment.allocations.all():
        currency = allocation.invoice.currency
        parts[currency] += allocation.amount
        received[currency] += allocation.payment_amount
        left -= allocation.payment_amount
        number = allocation.invoice.number or ""
        if number not in paid[currency]:
            paid[currency].append(number)
    if left:
        parts[payment.currency] += left
        received[payment.currency] += left
    for currency, amount in parts.items():
        if not amount:
            continue
        converted = currency != payment.currency
        yield StatementRow(
            payment.received_on,
            "payment" if payment.amount > 0 else "refund",
            currency,
            -round_money(amount, currency),  # money received lowers what is owed
            reference=payment.reference,
            invoices=tuple(paid[currency]),
            method=payment.method,
            received=round_money(received[currency], payment.currency) if converted else None,
            received_currency=payment.currency if converted else "",
            rate=payment.exchange_rate if converted else None,
            payment_id=payment.pk,
        )
