"""REST endpoints for what is owed: receivables with aging, and statements of account."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can
from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.schemas import Id, QuerySchema, amount_text
from punchclock.clients.models import Client
from punchclock.core.timeutil import local_date, now
from punchclock.payments import receivables
from punchclock.payments.receivables import BUCKETS, Aging, OpenInvoice, Statement, StatementRow

router = Router(tags=["Receivables"])

EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(9000, 12, 31)

# Schemas ----------------------------------------------------------------------------------


class AgingOut(Schema):
    """Open balances by days past the due date."""

    current: str = Field(description="Not yet due (due today counts as current)")
    days_1_30: str
    days_31_60: str
    days_61_90: str
    over_90: str


class CurrencyTotalOut(Schema):
    currency: str
    outstanding: str = Field(description="The open balances of all invoices")
    overdue: str = Field(description="The part of `outstanding` past its due date")
    credit: str = Field(description="Payments no invoice has used yet, not taken off above")
    invoices: int = Field(description="Open invoices")
    aging: AgingOut


class ClientAgingOut(CurrencyTotalOut):
    client_id: int
    client: str
    code: str


class OpenInvoiceOut(Schema):
    invoice_id: int
    number: str
    client_id: int
    client: str
    code: str = Field(description="The client's code")
    currency: str
    issue_date: dt.date
    due_date: dt.date | None
    days_overdue: int = Field(description="0 until the day after the due date")
    bucket: str = Field(description=", ".join(BUCKETS))
    gross: str
    credited: str
    paid: str
    balance: str
    status: str


class ReceivablesOut(Schema):
    today: dt.date = Field(description="In the organization's time zone; days overdue count to it")
    totals: list[CurrencyTotalOut] = Field(description="Per currency; never added across them")
    clients: list[ClientAgingOut] = Field(description="Per client and currency, by client name")
    invoices: list[OpenInvoiceOut] = Field(description="Longest overdue first")


class ReceivablesQuery(QuerySchema):
    client_id: Id | None = None


class StatementRowOut(Schema):
    date: dt.date
    kind: str = Field(description="invoice, credit_note, payment or refund")
    reference: str = Field(description="The document's number, or the payment's reference")
    due_date: dt.date | None
    details: str
    invoice_id: int | None = Field(description="The invoice or credit note of this row")
    payment_id: int | None = Field(description="The payment or refund of this row")
    debit: str = Field(description="What the row adds to the balance (invoices, refunds)")
    credit: str = Field(description="What it takes off (credit notes, payments)")
    balance: str = Field(description="The running balance after this row")


class StatementCurrencyOut(Schema):
    currency: str
    opening: str = Field(description="The balance before the period")
    debits: str
    credits: str
    closing: str = Field(description="The balance at the end; negative: the client's credit")
    rows: list[StatementRowOut]


class StatementOut(Schema):
    client_id: int
    client: str
    code: str
    start: dt.date
    end: dt.date = Field(description="Inclusive")
    currencies: list[StatementCurrencyOut]
    credit: dict[str, str] = Field(description="Unused credit today, included in the balances")


class StatementQuery(QuerySchema):
    start: dt.date | None = Field(
        None, ge=EARLIEST, le=LATEST, description="Default: 1 January of this year"
    )
    end: dt.date | None = Field(
        None, ge=EARLIEST, le=LATEST, description="Inclusive; default: 31 December of this year"
    )
    format: Literal["json", "csv", "pdf"] = Field("json", description="json, csv or pdf")


# Helpers ----------------------------------------------------------------------------------


def _manager(request: HttpRequest) -> Membership:
    me = acting(request)
    if not can(me, "payments.manage"):
        raise PermissionDenied("Your role does not allow payments.")
    return me


def _today(me: Membership) -> dt.date:
    return local_date(now(), me.organization.timezone)


def _money(amount: Decimal, currency: str) -> str:
    return amount_text(amount, currency) or "0"


def _figures(row: Aging) -> dict[str, Any]:
    currency = row.currency
    return {
        "currency": currency,
        "outstanding": _money(row.outstanding, currency),
        "overdue": _money(row.overdue, currency),
        "credit": _money(row.credit, currency),
        "invoices": row.invoices,
        "aging": {bucket: _money(row.buckets[bucket], currency) for bucket in BUCKETS},
    }


def _client_row(row: Aging) -> dict[str, Any]:
    assert row.client is not None  # rows per client always name it
    return {
        **_figures(row),
        "client_id": row.client.pk,
        "client": row.client.name,
        "code": row.client.code,
    }


def _open_invoice(item: OpenInvoice) -> dict[str, Any]:
    invoice, balance = item.invoice, item.balance
    currency = balance.currency
    return {
        "invoice_id": invoice.pk,
        "number": invoice.number or "",
        "client_id": invoice.client_id,
        "client": invoice.client.name,
        "code": invoice.client.code,
        "currency": currency,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "days_overdue": item.days_overdue,
        "bucket": item.bucket,
        "gross": _money(balance.gross, currency),
        "credited": _money(balance.credited, currency),
        "paid": _money(balance.paid, currency),
        "balance": _money(balance.balance, currency),
        "status": balance.state,
    }


def _statement_row(row: StatementRow) -> dict[str, Any]:
    currency = row.currency
    return {
        "date": row.day,
        "kind": row.kind,
        "reference": row.reference,
        "due_date": row.due_date,
        "details": row.details,
        "invoice_id": row.invoice_id,
        "payment_id": row.payment_id,
        "debit": _money(row.debit, currency),
        "credit": _money(row.credit, currency),
        "balance": _money(row.balance, currency),
    }


def _statement_out(found: Statement) -> dict[str, Any]:
    client = found.client
    return {
        "client_id": client.pk,
        "client": client.name,
        "code": client.code,
        "start": found.start,
        "end": found.end,
        "currencies": [
            {
                "currency": s.currency,
                "opening": _money(s.opening, s.currency),
                "debits": _money(s.debits, s.currency),
                "credits": _money(s.credits, s.currency),
                "closing": _money(s.closing, s.currency),
                "rows": [_statement_row(row) for row in s.rows],
            }
            for s in found.sections
        ],
        "credit": {code: _money(amount, code) for code, amount in found.credit.items()},
    }


def _download(found: Statement, wanted: str, today: dt.date) -> HttpResponse:
    from punchclock.invoicing.documents.pdf import DocumentError
    from punchclock.payments.documents import statement

    if wanted == "csv":
        response = HttpResponse(statement.render_csv(found), content_type="text/csv; charset=utf-8")
    else:
        try:
            content = statement.render_pdf(found, today=today)
        except DocumentError as exc:
            raise ValidationError(f"The statement could not be drawn: {exc}") from exc
        response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.filename(found, wanted)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# Endpoints --------------------------------------------------------------------------------


@router.get(
    "/receivables",
    response=responses(ReceivablesOut),
    summary="What clients owe: totals per currency, aging per client, open invoices",
)
def get_receivables(request: HttpRequest, query: Query[ReceivablesQuery]) -> dict[str, Any]:
    me = _manager(request)
    if (
        query.client_id is not None
        and not Client.objects.filter(
            organization_id=me.organization_id, pk=query.client_id
        ).exists()
    ):
        raise Http404("No such client.")
    found = receivables.receivables(me.organization_id, today=_today(me), client_id=query.client_id)
    return {
        "today": found.today,
        "totals": [_figures(row) for row in found.totals],
        "clients": [_client_row(row) for row in found.clients],
        "invoices": [_open_invoice(item) for item in found.invoices],
    }


STATEMENT_FILES = {
    "text/csv": {"schema": {"type": "string"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
}


@router.get(
    "/clients/{id:client_id}/statement",
    response=responses(StatementOut),
    summary="A client's statement of account for a period: opening balance, documents and "
    "payments with the running balance, closing balance; as JSON, CSV or PDF",
    openapi_extra={"responses": {200: {"content": STATEMENT_FILES}}},
)
def client_statement(
    request: HttpRequest, client_id: int, query: Query[StatementQuery]
) -> dict[str, Any] | HttpResponse:
    me = _manager(request)
    client = (
        Client.objects.filter(organization_id=me.organization_id, pk=client_id)
        .select_related("organization")
        .first()
    )
    if client is None:
        raise Http404("No such client.")
    today = _today(me)
    start = query.start or today.replace(month=1, day=1)
    end = query.end or today.replace(month=12, day=31)
    if start > end:
        raise ValidationError({"end": ["The period ends before it starts."]})
    found = receivables.statement(client, start=start, end=end)
    if query.format == "json":
        return _statement_out(found)
    return _download(found, query.format, today)
