"""REST endpoints for invoices: drafts from unbilled work, issuing, credit notes, PDFs, chain."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can
from punchclock.api.auth import acting
from punchclock.api.errors import ERROR_RESPONSES, responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import Id, InputSchema, QuerySchema, amount_text, referenced
from punchclock.clients.models import Client
from punchclock.core.timeutil import PERIODS, TimeInputError, local_date, now, period_bounds
from punchclock.invoicing import sending, services
from punchclock.invoicing.models import (
    EventKind,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    TaxCategory,
    Unit,
)
from punchclock.invoicing.unbilled import ClientUnbilled, ProjectUnbilled, unbilled_work
from punchclock.payments.balances import balance_of, with_balances
from punchclock.projects.models import Project

router = Router(tags=["Invoices"])

# Dates far from today are no billing period; bounding them keeps date arithmetic (the day
# after the period, the due date) from overflowing instead of failing validation.
EARLIEST = date(1900, 1, 1)
LATEST = date(9000, 12, 31)


# Schemas ----------------------------------------------------------------------------------


class InvoiceLineOut(Schema):
    id: int
    position: int
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount_percent: str
    surcharge_percent: str
    tax_category: str
    tax_rate: str
    net_amount: str


class InvoiceOut(Schema):
    id: int
    kind: str
    status: str
    number: str | None
    client_id: int
    client: str
    currency: str
    issue_date: date | None
    due_date: date | None
    period_start: date | None
    period_end: date | None
    discount_percent: str
    surcharge_percent: str
    surcharge_reason: str
    net_total: str
    tax_total: str
    gross_total: str
    credits_id: int | None = Field(description="The invoice a credit note cancels")
    payment_status: str = Field(
        description="draft, open, sent, viewed, partially_paid, paid, overdue, credited or "
        "credit_note"
    )
    balance: str | None = Field(description="What is still owed; null for drafts")
    created_at: datetime
    issued_at: datetime | None
    sha256: str


class InvoiceEventOut(Schema):
    kind: str
    at: datetime
    by: str | None
    detail: dict[str, Any]


class InvoiceDetailOut(InvoiceOut):
    message: str
    tax_note: str
    time_appendix: bool
    purchase_order_reference: str
    contract_reference: str
    project_reference: str
    sent_at: datetime | None = Field(description="When it was last emailed")
    lines: list[InvoiceLineOut]
    events: list[InvoiceEventOut]


class DraftPatch(InputSchema):
    """A draft's message, references, appendix, discount and surcharge; only those sent."""

    message: str | None = Field(None, max_length=5000)
    tax_note: str | None = Field(None, max_length=300)
    time_appendix: bool | None = None
    purchase_order_reference: str | None = Field(None, max_length=100)
    contract_reference: str | None = Field(None, max_length=100)
    project_reference: str | None = Field(None, max_length=100)
    discount_percent: Decimal | None = Field(None, ge=0, le=100, max_digits=7, decimal_places=4)
    surcharge_percent: Decimal | None = Field(
        None, ge=0, le=1000, max_digits=7, decimal_places=4, description="On the whole invoice"
    )
    surcharge_reason: str | None = Field(
        None, max_length=100, description="Printed beside the surcharge; needed with one"
    )


class LineIn(InputSchema):
    description: str = Field(..., min_length=1, max_length=500)
    quantity: Decimal = Field(..., max_digits=12, decimal_places=4)
    unit_price: Decimal = Field(..., max_digits=14, decimal_places=4)
    unit: Unit = Unit.PIECE
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100, max_digits=7, decimal_places=4)
    surcharge_percent: Decimal = Field(Decimal(0), ge=0, le=1000, max_digits=7, decimal_places=4)
    tax_category: TaxCategory | None = Field(None, description="Default: the client's treatment")
    tax_rate: Decimal | None = Field(None, ge=0, le=100, max_digits=6, decimal_places=3)


class LinePatch(InputSchema):
    description: str | None = Field(None, min_length=1, max_length=500)
    quantity: Decimal | None = Field(None, max_digits=12, decimal_places=4)
    unit_price: Decimal | None = Field(None, max_digits=14, decimal_places=4)
    unit: Unit | None = None
    discount_percent: Decimal | None = Field(None, ge=0, le=100, max_digits=7, decimal_places=4)
    surcharge_percent: Decimal | None = Field(None, ge=0, le=1000, max_digits=7, decimal_places=4)
    tax_category: TaxCategory | None = None
    tax_rate: Decimal | None = Field(None, ge=0, le=100, max_digits=6, decimal_places=3)


class CreditIn(InputSchema):
    line_ids: list[Id] | None = Field(
        None, max_length=500, description="Lines to credit; all remaining lines when omitted"
    )
    issue_date: date | None = Field(None, ge=EARLIEST, le=LATEST, description="Default: today")


class SendIn(InputSchema):
    """Omitted fields take the defaults: the client's billing email and copy list, the
    organization's blind copy, and the wording for the client's language."""

    to: list[str] | None = Field(None, max_length=20)
    cc: list[str] | None = Field(None, max_length=20)
    bcc: list[str] | None = Field(None, max_length=20)
    subject: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=20000)


class InvoiceFilter(PageQuery):
    status: str | None = Field(None, description=", ".join(InvoiceStatus.values))
    kind: str | None = Field(None, description=", ".join(InvoiceKind.values))
    client_id: Id | None = None
    number: str | None = Field(None, max_length=50, description="An issued document's number")


class DraftIn(InputSchema):
    client: str | None = Field(None, max_length=100, description="Client code, e.g. acme")
    client_id: Id | None = None
    period_start: date = Field(..., ge=EARLIEST, le=LATEST)
    period_end: date = Field(..., ge=EARLIEST, le=LATEST, description="Inclusive")
    project_id: Id | None = None
    group_by: str = Field("project", max_length=20, description=", ".join(services.GROUPINGS))
    fee_percent: Decimal | None = Field(
        None,
        max_digits=7,
        decimal_places=4,
        description="A fixed-fee project's milestone: this percent of its fee (needs project_id)",
    )


class IssueIn(InputSchema):
    issue_date: date | None = Field(None, ge=EARLIEST, le=LATEST, description="Default: today")


class EInvoiceQuery(QuerySchema):
    format: str = Field(
        "ubl", max_length=20, description="cii, ubl, xrechnung-ubl, xrechnung-cii or peppol"
    )


class FindingOut(Schema):
    rule: str
    message: str
    location: str


class EInvoiceCheckOut(Schema):
    format: str
    label: str
    valid: bool
    problem: str | None = Field(description="Why this document has no e-invoice in the format")
    errors: list[FindingOut]
    warnings: list[FindingOut]


class ChainBreakOut(Schema):
    position: int
    invoice_id: int | None
    number: str | None
    reason: str


class VerifyOut(Schema):
    intact: bool
    documents: int
    break_: ChainBreakOut | None = Field(..., alias="break")


class UnbilledQuery(QuerySchema):
    client: str | None = Field(None, max_length=100, description="Client id or code, e.g. acme")
    period: str | None = Field(None, description=f"One of {', '.join(PERIODS)}; default all")
    date_from: date | None = Field(None, alias="from", ge=EARLIEST, le=LATEST)
    date_to: date | None = Field(None, alias="to", ge=EARLIEST, le=LATEST, description="Inclusive")


class UnbilledFigures(Schema):
    entries: int
    seconds: int = Field(description="Tracked, as recorded")
    billed_seconds: int = Field(description="After each project's rounding rule")
    hours: str
    billed_hours: str
    missing_rate: bool = Field(description="Some hourly time has no bill rate in the currency")
    unpriced_entries: int
    time_amount: str | None = Field(description="Billed hours at the rates; null if missing_rate")
    expenses: int
    expenses_amount: str
    amount: str | None = Field(description="Time, fixed fee and expenses; null if missing_rate")
    oldest: date | None = Field(description="Day of the oldest unbilled entry or expense")


class UnbilledProjectOut(UnbilledFigures):
    project_id: int | None = Field(description="Null for expenses booked on no project")
    project: str | None = Field(description="Project code, e.g. acme/api")
    name: str | None
    billing_method: str | None
    fixed_fee: str | None = Field(description="What is left of a fixed fee to bill")


class UnbilledTotalOut(UnbilledFigures):
    fixed_fees: str


class UnbilledClientOut(Schema):
    client_id: int
    client: str
    code: str
    currency: str = Field(description="Every amount of this client is in it")
    projects: list[UnbilledProjectOut]
    total: UnbilledTotalOut


class UnbilledOut(Schema):
    period_start: date | None
    period_end: date | None = Field(description="Inclusive; both null for all time")
    clients: list[UnbilledClientOut]


# Helpers ----------------------------------------------------------------------------------


def _biller(request: HttpRequest) -> Membership:
    me = acting(request)
    if not can(me, "invoices.manage"):
        raise PermissionDenied("Your role does not allow invoicing.")
    return me


def _invoices(me: Membership) -> QuerySet[Invoice]:
    invoices = Invoice.objects.filter(organization_id=me.organization_id)
    return with_balances(invoices).select_related("client", "organization")


def _invoice(me: Membership, invoice_id: int) -> Invoice:
    invoice = _invoices(me).select_related("organization", "credits").filter(pk=invoice_id).first()
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def invoice_out(invoice: Invoice) -> dict[str, Any]:
    currency = invoice.currency
    balance = balance_of(invoice, local_date(now(), invoice.organization.timezone))
    return {
        "id": invoice.pk,
        "kind": invoice.kind,
        "status": invoice.status,
        "number": invoice.number,
        "client_id": invoice.client_id,
        "client": invoice.client.name,
        "currency": currency,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "discount_percent": _decimal_text(invoice.discount_percent),
        "surcharge_percent": _decimal_text(invoice.surcharge_percent),
        "surcharge_reason": invoice.surcharge_reason,
        "net_total": amount_text(invoice.net_total, currency),
        "tax_total": amount_text(invoice.tax_total, currency),
        "gross_total": amount_text(invoice.gross_total, currency),
        "credits_id": invoice.credits_id,
        "payment_status": balance.state,
        "balance": None if invoice.is_draft else amount_text(balance.balance, currency),
        "created_at": invoice.created_at,
        "issued_at": invoice.issued_at,
        "sha256": invoice.sha256,
    }


def _line_out(line: InvoiceLine, currency: str) -> dict[str, Any]:
    return {
        "id": line.pk,
        "position": line.position,
        "description": line.description,
        "quantity": _decimal_text(line.quantity),
        "unit": line.unit,
        "unit_price": amount_text(line.unit_price, currency),
        "discount_percent": _decimal_text(line.discount_percent),
        "surcharge_percent": _decimal_text(line.surcharge_percent),
        "tax_category": line.tax_category,
        "tax_rate": _decimal_text(line.tax_rate),
        "net_amount": amount_text(line.net_amount, currency),
    }


def invoice_detail(invoice: Invoice) -> dict[str, Any]:
    lines = invoice.lines.order_by("position")
    events = list(invoice.events.select_related("by"))
    sent = [e.at for e in events if e.kind == EventKind.SENT]
    return {
        **invoice_out(invoice),
        "message": invoice.message,
        "tax_note": invoice.tax_note,
        "time_appendix": invoice.time_appendix,
        "purchase_order_reference": invoice.purchase_order_reference,
        "contract_reference": invoice.contract_reference,
        "project_reference": invoice.project_reference,
        "sent_at": max(sent) if sent else None,
        "lines": [_line_out(x, invoice.currency) for x in lines],
        "events": [
            {
                "kind": e.kind,
                "at": e.at,
                "by": e.by.display_name if e.by else None,
                "detail": e.detail,
            }
            for e in events
        ],
    }


def _line(me: Membership, line_id: int) -> InvoiceLine:
    line = (
        InvoiceLine.objects.filter(invoice__organization_id=me.organization_id, pk=line_id)
        .select_related("invoice__client", "invoice__organization")
        .first()
    )
    if line is None:
        raise Http404("No such invoice line.")
    return line


def _client(me: Membership, payload: DraftIn) -> Client:
    clients = Client.objects.filter(organization_id=me.organization_id)
    if payload.client_id is not None:
        found = referenced(clients, payload.client_id, "client_id", "client")
        assert found is not None
        return found
    if payload.client:
        by_code = clients.filter(code=payload.client.strip().lower()).first()
        if by_code is None:
            raise ValidationError({"client": [f"There is no client “{payload.client}”."]})
        return by_code
    raise ValidationError({"client": ["Name the client by client_id or client (its code)."]})


def _unbilled_period(me: Membership, query: UnbilledQuery) -> tuple[date | None, date | None]:
    first, last = query.date_from, query.date_to
    if query.period:
        zone = me.organization.timezone
        try:
            start, end = period_bounds(query.period, zone)
        except TimeInputError as exc:
            raise ValidationError({"period": [str(exc)]}) from exc
        if start is not None and end is not None:
            named = local_date(start, zone), local_date(end, zone) - timedelta(days=1)
            first = max(first, named[0]) if first else named[0]
            last = min(last, named[1]) if last else named[1]
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationError({"to": ["The period ends before it starts."]})
    return first, last


def _unbilled_clients(me: Membership, wanted: str | None) -> QuerySet[Client]:
    clients = Client.objects.filter(organization_id=me.organization_id)
    if wanted is None:
        return clients
    text = wanted.strip().lower()
    # A numeric code is possible, so an id that matches nothing is tried as a code.
    if text.isdigit() and len(text) <= 18 and clients.filter(pk=int(text)).exists():
        return clients.filter(pk=int(text))
    if not clients.filter(code=text).exists():
        raise Http404(f"There is no client “{wanted}”.")
    return clients.filter(code=text)


def _figures(work: ProjectUnbilled | ClientUnbilled, currency: str) -> dict[str, Any]:
    return {
        "entries": work.entries,
        "seconds": work.raw_seconds,
        "billed_seconds": work.billed_seconds,
        "hours": _hours_text(work.raw_seconds),
        "billed_hours": _hours_text(work.billed_seconds),
        "missing_rate": work.missing_rate,
        "unpriced_entries": work.unpriced,
        "time_amount": amount_text(work.time_amount, currency),
        "expenses": work.expense_count,
        "expenses_amount": amount_text(work.expense_amount, currency),
        "amount": amount_text(work.amount, currency),
        "oldest": work.oldest,
    }


def _hours_text(seconds: int) -> str:
    return str((Decimal(seconds) / 3600).quantize(Decimal("0.01")))


def _unbilled_client_out(work: ClientUnbilled) -> dict[str, Any]:
    currency = work.currency
    projects = []
    for row in work.projects:
        project = row.project
        projects.append(
            {
                **_figures(row, currency),
                "project_id": project.pk if project else None,
                "project": project.full_code if project else None,
                "name": project.name if project else None,
                "billing_method": project.billing_method if project else None,
                "fixed_fee": amount_text(row.fixed_fee, currency),
            }
        )
    return {
        "client_id": work.client.pk,
        "client": work.client.name,
        "code": work.client.code,
        "currency": currency,
        "projects": projects,
        "total": {**_figures(work, currency), "fixed_fees": amount_text(work.fixed_fees, currency)},
    }


# Endpoints --------------------------------------------------------------------------------


@router.get("/invoices", response=responses(page_of(InvoiceOut)), summary="Invoices, newest first")
def list_invoices(request: HttpRequest, filters: Query[InvoiceFilter]) -> dict[str, Any]:
    me = _biller(request)
    invoices = _invoices(me)
    if filters.status:
        invoices = invoices.filter(status=filters.status)
    if filters.kind:
        invoices = invoices.filter(kind=filters.kind)
    if filters.client_id:
        invoices = invoices.filter(client_id=filters.client_id)
    if filters.number:
        invoices = invoices.filter(number=filters.number)
    page = paginate(invoices.order_by("-created_at", "-pk"), filters)
    page["items"] = [invoice_out(i) for i in page["items"]]
    return page


@router.get(
    "/invoices/verify",
    response=responses(VerifyOut),
    summary="Recompute the hash chain of every issued document",
    by_alias=True,
)
def verify_invoices(request: HttpRequest) -> dict[str, Any]:
    me = _biller(request)
    broken = services.verify_chain(me.organization)
    documents = Invoice.objects.filter(
        organization_id=me.organization_id, status=InvoiceStatus.ISSUED
    ).count()
    found = None
    if broken is not None:
        found = {
            "position": broken.position,
            "invoice_id": broken.invoice.pk if broken.invoice else None,
            "number": broken.invoice.number if broken.invoice else None,
            "reason": broken.reason,
        }
    return {"intact": broken is None, "documents": documents, "break": found}


@router.get(
    "/invoices/unbilled",
    response=responses(UnbilledOut),
    summary="Unbilled time, fixed fees and expenses per client and project, priced",
)
def unbilled_invoices(request: HttpRequest, query: Query[UnbilledQuery]) -> dict[str, Any]:
    me = _biller(request)
    first, last = _unbilled_period(me, query)
    clients = _unbilled_clients(me, query.client)
    found = unbilled_work(clients, first=first, last=last)
    return {
        "period_start": first,
        "period_end": last,
        "clients": [_unbilled_client_out(work) for work in found],
    }


@router.get(
    "/invoices/{id:invoice_id}",
    response=responses(InvoiceDetailOut),
    summary="An invoice or credit note with its lines and totals",
)
def get_invoice(request: HttpRequest, invoice_id: int) -> dict[str, Any]:
    return invoice_detail(_invoice(_biller(request), invoice_id))


@router.post(
    "/invoices/drafts",
    response=responses(InvoiceDetailOut, 201),
    summary="A draft invoice from a client's unbilled time and expenses in a period",
)
def create_draft(request: HttpRequest, payload: DraftIn) -> Status:
    me = _biller(request)
    client = _client(me, payload)
    project = referenced(
        Project.objects.filter(client__organization_id=me.organization_id),
        payload.project_id,
        "project_id",
        "project",
    )
    invoice = services.create_draft(
        client,
        by=me,
        period_start=payload.period_start,
        period_end=payload.period_end,
        project=project,
        group_by=payload.group_by,
        fee_percent=payload.fee_percent,
    )
    return Status(201, invoice_detail(_invoice(me, invoice.pk)))


@router.patch(
    "/invoices/{id:invoice_id}",
    response=responses(InvoiceDetailOut),
    summary="Change a draft's message, references, time appendix, discount or surcharge",
)
def update_draft(request: HttpRequest, invoice_id: int, payload: DraftPatch) -> dict[str, Any]:
    me = _biller(request)
    invoice = _invoice(me, invoice_id)
    fields = payload.model_dump(exclude_unset=True)
    discount = fields.pop("discount_percent", None)
    surcharge = fields.pop("surcharge_percent", None)
    reason = fields.pop("surcharge_reason", None)
    if any(value is None for value in fields.values()):
        raise ValidationError("Fields cannot be null; omit them to keep them.")
    with transaction.atomic():
        if discount is not None:
            services.set_discount(invoice, by=me, discount_percent=discount)
        if surcharge is not None or reason is not None:
            services.set_surcharge(
                invoice,
                by=me,
                surcharge_percent=invoice.surcharge_percent if surcharge is None else surcharge,
                reason=invoice.surcharge_reason if reason is None else reason,
            )
        if fields:
            services.update_details(invoice, by=me, **fields)
    return invoice_detail(_invoice(me, invoice_id))


@router.delete(
    "/invoices/{id:invoice_id}",
    response=responses(None, 204),
    summary="Delete a draft; its time and expenses become unbilled again",
)
def delete_draft(request: HttpRequest, invoice_id: int) -> Status:
    me = _biller(request)
    services.delete_draft(_invoice(me, invoice_id), by=me)
    return Status(204, None)


@router.post(
    "/invoices/{id:invoice_id}/lines",
    response=responses(InvoiceDetailOut, 201),
    summary="Add a free line to a draft (fixed items, milestones, corrections)",
)
def add_line(request: HttpRequest, invoice_id: int, payload: LineIn) -> Status:
    me = _biller(request)
    invoice = _invoice(me, invoice_id)
    services.add_line(invoice, by=me, **payload.model_dump())
    return Status(201, invoice_detail(_invoice(me, invoice_id)))


@router.patch(
    "/invoices/lines/{id:line_id}",
    response=responses(InvoiceDetailOut),
    summary="Change a line of a draft",
)
def update_line(request: HttpRequest, line_id: int, payload: LinePatch) -> dict[str, Any]:
    me = _biller(request)
    line = _line(me, line_id)
    fields = payload.model_dump(exclude_unset=True)
    if any(value is None for value in fields.values()):
        raise ValidationError("Fields cannot be null; omit them to keep them.")
    services.update_line(line, by=me, **fields)
    return invoice_detail(_invoice(me, line.invoice_id))


@router.delete(
    "/invoices/lines/{id:line_id}",
    response=responses(None, 204),
    summary="Remove a line from a draft; the work it billed becomes unbilled again",
)
def delete_line(request: HttpRequest, line_id: int) -> Status:
    me = _biller(request)
    services.delete_line(_line(me, line_id), by=me)
    return Status(204, None)


@router.post(
    "/invoices/{id:invoice_id}/issue",
    response=responses(InvoiceDetailOut),
    summary="Issue a draft: number, snapshot, hash chain and stored PDF; final from then on",
)
def issue_invoice(request: HttpRequest, invoice_id: int, payload: IssueIn) -> dict[str, Any]:
    me = _biller(request)
    invoice = _invoice(me, invoice_id)
    if not invoice.is_draft:
        raise ValidationError(f"Invoice {invoice.number} is already issued.")
    issued = services.issue_invoice(invoice, by=me, issue_date=payload.issue_date)
    return invoice_detail(_invoice(me, issued.pk))


@router.post(
    "/invoices/{id:invoice_id}/credit",
    response=responses(InvoiceDetailOut, 201),
    summary="Issue a credit note for some lines, or cancelling the whole invoice "
    "(then its work can be billed again)",
)
def credit_invoice(
    request: HttpRequest, invoice_id: int, payload: CreditIn | None = None
) -> Status:
    me = _biller(request)
    invoice = _invoice(me, invoice_id)
    lines = None
    if payload is not None and payload.line_ids is not None:
        wanted = set(payload.line_ids)
        lines = list(invoice.lines.filter(pk__in=wanted))
        if not wanted or len(lines) != len(wanted):
            raise ValidationError({"line_ids": ["Name lines of this invoice."]})
    note = services.credit_invoice(
        invoice,
        by=me,
        lines=lines,
        issue_date=payload.issue_date if payload is not None else None,
    )
    return Status(201, invoice_detail(_invoice(me, note.pk)))


@router.post(
    "/invoices/{id:invoice_id}/send",
    response=responses(InvoiceEventOut),
    summary="Email an issued document with its stored PDF; records who got it and when",
)
def send_invoice(request: HttpRequest, invoice_id: int, payload: SendIn) -> dict[str, Any]:
    me = _biller(request)
    invoice = _invoice(me, invoice_id)
    event = sending.send_invoice(invoice, by=me, **payload.model_dump())
    return {"kind": event.kind, "at": event.at, "by": me.user.display_name, "detail": event.detail}


@router.get(
    "/invoices/{id:invoice_id}/pdf",
    response=ERROR_RESPONSES,
    summary="The PDF: the stored bytes of an issued document, a live preview of a draft",
)
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    from punchclock.invoicing.documents.pdf import DocumentError, render_pdf

    invoice = _invoice(_biller(request), invoice_id)
    stored = services.stored_pdf(invoice) if invoice.number else None
    if stored is not None:
        content, name = bytes(stored.content), f"{invoice.number}.pdf"
    else:
        try:
            content = render_pdf(invoice)
        except DocumentError as exc:
            raise ValidationError(f"The invoice could not be rendered: {exc}") from exc
        name = f"draft-{invoice.pk}.pdf"
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@router.get(
    "/invoices/{id:invoice_id}/einvoice",
    response=ERROR_RESPONSES,
    summary="An issued document as EN 16931 XML: UBL, CII, XRechnung or Peppol",
)
def invoice_einvoice(
    request: HttpRequest, invoice_id: int, query: Query[EInvoiceQuery]
) -> HttpResponse:
    from punchclock.invoicing.documents.einvoice import formats
    from punchclock.invoicing.documents.einvoice.model import EInvoiceError

    invoice = _invoice(_biller(request), invoice_id)
    if invoice.is_draft:
        raise ValidationError("A draft has no e-invoice; issue it first.")
    if query.format not in formats.FORMATS:
        raise ValidationError({"format": [f"Use one of {', '.join(formats.FORMATS)}."]})
    try:
        content = formats.write(invoice, query.format)
    except EInvoiceError as exc:
        raise ValidationError(str(exc)) from exc
    response = HttpResponse(content, content_type="application/xml")
    name = formats.filename(invoice, query.format)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _findings(findings: list[Any]) -> list[dict[str, str]]:
    return [{"rule": f.rule, "message": f.message, "location": f.location} for f in findings]


@router.get(
    "/invoices/{id:invoice_id}/einvoice/validation",
    response=responses(list[EInvoiceCheckOut]),
    summary="Every e-invoice format of an issued document checked against the EN 16931 rules",
)
def invoice_einvoice_validation(request: HttpRequest, invoice_id: int) -> list[dict[str, Any]]:
    from punchclock.invoicing.documents.einvoice import formats

    invoice = _invoice(_biller(request), invoice_id)
    if invoice.is_draft:
        raise ValidationError("A draft has no e-invoice; issue it first.")
    results = []
    for check in formats.check_all(invoice):
        report = check.report
        results.append(
            {
                "format": check.code,
                "label": check.label,
                "valid": report is not None and report.valid,
                "problem": check.problem or None,
                "errors": _findings(report.errors if report else []),
                "warnings": _findings(report.warnings if report else []),
            }
        )
    return results
