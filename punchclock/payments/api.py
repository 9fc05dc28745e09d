"""REST endpoints for payments: record, list, refund, delete, and paying from client credit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can
from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import Id, InputSchema, amount_text
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing.models import Invoice
from punchclock.payments import services
from punchclock.payments.balances import balance_of, client_credit, with_balances
from punchclock.payments.models import Allocation, Method, Payment

router = Router(tags=["Payments"])

EARLIEST, LATEST = date(1900, 1, 1), date(9000, 12, 31)


class AllocationOut(Schema):
    invoice_id: int
    number: str
    amount: str = Field(description="In the invoice's currency; negative for a refund")


class PaymentOut(Schema):
    id: int
    client_id: int
    client: str
    amount: str = Field(description="In `currency`; negative for a refund")
    currency: str
    received_on: date
    method: str
    reference: str
    note: str
    exchange_rate: str | None = Field(description="Invoice currency per unit of `currency`")
    refund_of_id: int | None
    online: bool = Field(description="Recorded from Stripe")
    bank_line_id: int | None
    allocations: list[AllocationOut]
    created_at: datetime


class PaymentIn(InputSchema):
    amount: Decimal = Field(..., gt=0, max_digits=14, decimal_places=4)
    received_on: date = Field(..., ge=EARLIEST, le=LATEST)
    method: Method = Method.TRANSFER
    currency: str | None = Field(
        None, min_length=3, max_length=3, description="Default: the invoice's"
    )
    exchange_rate: Decimal | None = Field(
        None, gt=0, max_digits=18, decimal_places=8, description="Default: the recorded rate"
    )
    reference: str = Field("", max_length=200)
    note: str = Field("", max_length=2000)


class RefundIn(InputSchema):
    amount: Decimal = Field(..., gt=0, max_digits=14, decimal_places=4)
    refunded_on: date = Field(..., ge=EARLIEST, le=LATEST)
    reference: str = Field("", max_length=200)
    note: str = Field("", max_length=2000)


class CreditIn(InputSchema):
    amount: Decimal | None = Field(
        None, gt=0, max_digits=14, decimal_places=4, description="Default: the whole balance"
    )


class BalanceOut(Schema):
    invoice_id: int
    number: str | None
    currency: str
    gross: str
    credited: str
    paid: str
    balance: str
    status: str
    days_overdue: int
    client_credit: dict[str, str] = Field(description="The client's unused credit per currency")


class PaymentFilter(PageQuery):
    client_id: Id | None = None
    invoice_id: Id | None = None
    method: Method | None = None


def _manager(request: HttpRequest) -> Membership:
    me = acting(request)
    if not can(me, "payments.manage"):
        raise PermissionDenied("Your role does not allow payments.")
    return me


def _payments(me: Membership) -> QuerySet[Payment]:
    allocations = Allocation.objects.select_related("invoice").order_by("pk")
    return (
        Payment.objects.filter(organization_id=me.organization_id)
        .select_related("client")
        .prefetch_related(Prefetch("allocations", queryset=allocations))
    )


def _payment(me: Membership, payment_id: int) -> Payment:
    found = _payments(me).filter(pk=payment_id).first()
    if found is None:
        raise Http404("No such payment.")
    return found


def _invoice(me: Membership, invoice_id: int) -> Invoice:
    found = Invoice.objects.filter(organization_id=me.organization_id, pk=invoice_id).first()
    if found is None:
        raise Http404("No such invoice.")
    return found


def payment_out(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.pk,
        "client_id": payment.client_id,
        "client": payment.client.name,
        "amount": amount_text(payment.amount, payment.currency),
        "currency": payment.currency,
        "received_on": payment.received_on,
        "method": payment.method,
        "reference": payment.reference,
        "note": payment.note,
        "exchange_rate": None
        if payment.exchange_rate is None
        else format(payment.exchange_rate.normalize(), "f"),
        "refund_of_id": payment.refund_of_id,
        "online": bool(payment.stripe_payment_intent or payment.stripe_refund),
        "bank_line_id": payment.bank_line_id,
        "allocations": [
            {
                "invoice_id": allocation.invoice_id,
                "number": allocation.invoice.number or "",
                "amount": amount_text(allocation.amount, allocation.invoice.currency),
            }
            for allocation in payment.allocations.all()
        ],
        "created_at": payment.created_at,
    }


def balance_out(invoice: Invoice) -> dict[str, Any]:
    today = local_date(now(), invoice.organization.timezone)
    balance = balance_of(invoice, today)
    currency = invoice.currency
    return {
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "currency": currency,
        "gross": amount_text(balance.gross, currency),
        "credited": amount_text(balance.credited, currency),
        "paid": amount_text(balance.paid, currency),
        "balance": amount_text(balance.balance, currency),
        "status": balance.state,
        "days_overdue": balance.days_overdue,
        "client_credit": {
            code: amount_text(value, code) or "0"
            for code, value in client_credit(invoice.client_id).items()
        },
    }


@router.get(
    "/payments",
    response=responses(page_of(PaymentOut)),
    summary="Payments and refunds, newest first",
)
def list_payments(request: HttpRequest, filters: Query[PaymentFilter]) -> dict[str, Any]:
    me = _manager(request)
    payments = _payments(me)
    if filters.client_id:
        payments = payments.filter(client_id=filters.client_id)
    if filters.invoice_id:
        payments = payments.filter(allocations__invoice_id=filters.invoice_id).distinct()
    if filters.method:
        payments = payments.filter(method=filters.method)
    page = paginate(payments.order_by("-received_on", "-pk"), filters)
    page["items"] = [payment_out(p) for p in page["items"]]
    return page


@router.get("/payments/{id:payment_id}", response=responses(PaymentOut), summary="One payment")
def get_payment(request: HttpRequest, payment_id: int) -> dict[str, Any]:
    return payment_out(_payment(_manager(request), payment_id))


@router.post(
    "/invoices/{id:invoice_id}/payments",
    response=responses(PaymentOut, 201),
    summary="Record money received for an issued invoice; any excess becomes client credit",
)
def add_payment(request: HttpRequest, invoice_id: int, payload: PaymentIn) -> Status:
    me = _manager(request)
    invoice = _invoice(me, invoice_id)
    payment = services.record_payment(
        invoice,
        services.PaymentInput(
            amount=payload.amount,
            received_on=payload.received_on,
            method=payload.method,
            currency=(payload.currency or "").upper(),
            exchange_rate=payload.exchange_rate,
            reference=payload.reference,
            note=payload.note,
        ),
        by=me,
    )
    return Status(201, payment_out(_payment(me, payment.pk)))


@router.get(
    "/invoices/{id:invoice_id}/balance",
    response=responses(BalanceOut),
    summary="What an invoice still owes, its payment status and the client's credit",
)
def invoice_balance(request: HttpRequest, invoice_id: int) -> dict[str, Any]:
    me = _manager(request)
    invoice = (
        with_balances(Invoice.objects.filter(organization_id=me.organization_id, pk=invoice_id))
        .select_related("organization")
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    return balance_out(invoice)


@router.post(
    "/invoices/{id:invoice_id}/apply-credit",
    response=responses(BalanceOut),
    summary="Pay an invoice from the client's credit in its currency",
)
def use_credit(request: HttpRequest, invoice_id: int, payload: CreditIn) -> dict[str, Any]:
    me = _manager(request)
    invoice = _invoice(me, invoice_id)
    services.apply_credit(invoice, by=me, amount=payload.amount)
    return invoice_balance(request, invoice_id)


@router.post(
    "/payments/{id:payment_id}/refund",
    response=responses(PaymentOut, 201),
    summary="Return money from a payment: from the credit it left first, then its invoices",
)
def refund(request: HttpRequest, payment_id: int, payload: RefundIn) -> Status:
    me = _manager(request)
    payment = _payment(me, payment_id)
    refunded = services.refund_payment(
        payment,
        by=me,
        amount=payload.amount,
        on=payload.refunded_on,
        reference=payload.reference,
        note=payload.note,
    )
    return Status(201, payment_out(_payment(me, refunded.pk)))


@router.delete(
    "/payments/{id:payment_id}",
    response=responses(None, 204),
    summary="Delete a payment entered by mistake (not an online one, not one with refunds)",
)
def delete(request: HttpRequest, payment_id: int) -> Status:
    me = _manager(request)
    services.delete_payment(_payment(me, payment_id), by=me)
    return Status(204, None)
