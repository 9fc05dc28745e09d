"""REST endpoints for bank statements: import, read, and reconcile their lines."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can
from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import Id, InputSchema, amount_text
from punchclock.invoicing.models import Invoice
from punchclock.payments import bank
from punchclock.payments.api import PaymentOut, payment_out
from punchclock.payments.models import BankLine, BankStatement, Payment
from punchclock.payments.statements import CsvMapping, StatementError, check_size, is_xml

router = Router(tags=["Bank import"])

COLUMN = Field(None, max_length=100)


class StatementOut(Schema):
    id: int
    filename: str
    sha256: str
    uploaded_at: datetime
    uploaded_by: str | None
    line_count: int = Field(description="Booked lines in the file")
    new_lines: int = Field(description="Lines not imported before: the statement's lines")
    duplicate_lines: int = Field(description="Lines imported before, by earlier statements")


class BankLineOut(Schema):
    id: int
    statement_id: int
    booking_date: date
    value_date: date | None
    amount: str = Field(description="Positive was received, negative was paid out")
    currency: str
    reference: str
    counterparty: str
    counterparty_iban: str
    bank_reference: str
    status: str = Field(description=", ".join(BankLine.Status.values))
    proposed_invoice_id: int | None
    proposed_invoice_number: str | None
    proposal_reason: str
    payment_id: int | None


class StatementDetailOut(StatementOut):
    lines: list[BankLineOut]


class MappingIn(InputSchema):
    """How to read a CSV export; without any column, the mapping of the last CSV import."""

    date_column: str | None = COLUMN
    amount_column: str | None = Field(None, max_length=100, description="One signed amount")
    credit_column: str | None = Field(None, max_length=100, description="With debit_column")
    debit_column: str | None = COLUMN
    reference_columns: str | None = Field(
        None, max_length=300, description="Payment text; several columns separated by commas"
    )
    counterparty_column: str | None = COLUMN
    iban_column: str | None = COLUMN
    bank_reference_column: str | None = Field(
        None, max_length=100, description="The bank's transaction id"
    )
    currency_column: str | None = COLUMN
    default_currency: str | None = Field(
        None, max_length=3, description="Default: the organization's"
    )
    date_format: str | None = Field(None, max_length=30, description="strftime, e.g. %d.%m.%Y")
    decimal_comma: bool = False
    delimiter: str | None = Field(None, max_length=1, description="Default: recognised")
    skip_rows: int = Field(0, ge=0, le=1000, description="Lines before the header row")


class ConfirmIn(InputSchema):
    invoice_id: Id


def _manager(request: HttpRequest) -> Membership:
    me = acting(request)
    if not can(me, "payments.manage"):
        raise PermissionDenied("Your role does not allow payments.")
    return me


def _statements(me: Membership) -> QuerySet[BankStatement]:
    return BankStatement.objects.filter(organization_id=me.organization_id).select_related(
        "uploaded_by"
    )


def _statement(me: Membership, statement_id: int) -> BankStatement:
    found = _statements(me).filter(pk=statement_id).first()
    if found is None:
        raise Http404("No such statement.")
    return found


def _line(me: Membership, line_id: int) -> BankLine:
    found = _lines(BankLine.objects.filter(organization_id=me.organization_id, pk=line_id)).first()
    if found is None:
        raise Http404("No such bank line.")
    return found


def _lines(lines: QuerySet[BankLine]) -> QuerySet[BankLine]:
    return lines.select_related("proposed_invoice", "payment")


def statement_out(statement: BankStatement) -> dict[str, Any]:
    user = statement.uploaded_by
    return {
        "id": statement.pk,
        "filename": statement.filename,
        "sha256": statement.sha256,
        "uploaded_at": statement.uploaded_at,
        "uploaded_by": user.display_name if user else None,
        "line_count": statement.line_count,
        "new_lines": statement.new_lines,
        "duplicate_lines": statement.line_count - statement.new_lines,
    }


def line_out(line: BankLine) -> dict[str, Any]:
    payment: Payment | None = getattr(line, "payment", None)
    proposed = line.proposed_invoice
    return {
        "id": line.pk,
        "statement_id": line.statement_id,
        "booking_date": line.booking_date,
        "value_date": line.value_date,
        "amount": amount_text(line.amount, line.currency),
        "currency": line.currency,
        "reference": line.reference,
        "counterparty": line.counterparty,
        "counterparty_iban": line.counterparty_iban,
        "bank_reference": line.bank_reference,
        "status": line.status,
        "proposed_invoice_id": line.proposed_invoice_id,
        "proposed_invoice_number": proposed.number if proposed else None,
        "proposal_reason": line.proposal_reason,
        "payment_id": payment.pk if payment else None,
    }


def _detail(statement: BankStatement) -> dict[str, Any]:
    lines = _lines(statement.lines.all())
    return {**statement_out(statement), "lines": [line_out(line) for line in lines]}


def _mapping(me: Membership, given: MappingIn, data: bytes) -> CsvMapping | None:
    if is_xml(data):
        return None
    fields = given.model_dump()
    found = bank.mapping_from_fields(fields, currency=me.organization.default_currency)
    return found or bank.saved_mapping(me.organization)


@router.post(
    "/bank/statements",
    response=responses(StatementOut, 201),
    summary="Import a CAMT.053 or CSV bank statement (multipart/form-data, field “file”)",
    description="Only lines not imported before are stored, and matched to open invoices. "
    "A CSV export needs a column mapping; without one, the last CSV import's is used. "
    "A file whose lines were all imported before is refused (422) and adds nothing.",
)
def import_statement(
    request: HttpRequest, mapping: Form[MappingIn], file: File[UploadedFile | None] = None
) -> Status:
    me = _manager(request)
    # ninja reads only the fields it knows from a form; a misspelt one must not pass silently.
    unknown = sorted(set(request.POST) - set(MappingIn.model_fields))
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
    if file is None:
        raise ValidationError({"file": ["Send the statement as multipart/form-data field “file”."]})
    try:
        check_size(file.size or 0)  # before reading it into memory
    except StatementError as exc:
        raise ValidationError({"file": [str(exc)]}) from exc
    data = file.read()
    statement = bank.import_statement(
        me.organization,
        by=me,
        data=data,
        filename=file.name or "statement",
        mapping=_mapping(me, mapping, data),
    )
    return Status(201, statement_out(statement))


@router.get(
    "/bank/statements",
    response=responses(page_of(StatementOut)),
    summary="Imported bank statements, newest first",
)
def list_statements(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    page = paginate(_statements(_manager(request)), query)
    page["items"] = [statement_out(s) for s in page["items"]]
    return page


@router.get(
    "/bank/statements/{id:statement_id}",
    response=responses(StatementDetailOut),
    summary="A bank statement with its lines, their status and proposed invoices",
)
def get_statement(request: HttpRequest, statement_id: int) -> dict[str, Any]:
    return _detail(_statement(_manager(request), statement_id))


@router.post(
    "/bank/lines/{id:bank_line_id}/confirm",
    response=responses(PaymentOut, 201),
    summary="Record a received bank line as a payment of an invoice (in the same currency)",
)
def confirm_line(request: HttpRequest, bank_line_id: int, payload: ConfirmIn) -> Status:
    me = _manager(request)
    line = _line(me, bank_line_id)  # first: another organization's line is a 404
    invoices = Invoice.objects.filter(organization_id=me.organization_id)
    invoice = invoices.filter(pk=payload.invoice_id).first()
    if invoice is None:
        raise ValidationError(
            {
                "invoice_id": [
                    f"There is no invoice with id {payload.invoice_id} in your organization."
                ]
            }
        )
    payment = bank.confirm(line, invoice, by=me)
    return Status(201, payment_out(Payment.objects.select_related("client").get(pk=payment.pk)))


@router.post(
    "/bank/lines/{id:bank_line_id}/ignore",
    response=responses(BankLineOut),
    summary="Set a bank line aside: it pays no invoice",
)
def ignore_line(request: HttpRequest, bank_line_id: int) -> dict[str, Any]:
    me = _manager(request)
    bank.ignore(_line(me, bank_line_id), by=me)
    return line_out(_line(me, bank_line_id))


@router.post(
    "/bank/lines/{id:bank_line_id}/reopen",
    response=responses(BankLineOut),
    summary="Take an ignored bank line back into reconciliation",
)
def reopen_line(request: HttpRequest, bank_line_id: int) -> dict[str, Any]:
    me = _manager(request)
    bank.reopen(_line(me, bank_line_id), by=me)
    return line_out(_line(me, bank_line_id))
