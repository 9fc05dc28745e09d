"""Bank statement import and reconciliation: new lines in, proposed invoices, confirmed payments.

A statement's lines are stored once per organization: the (organization, fingerprint) unique
constraint decides which lines are new (a look-up before writing only saves work), so two
uploads of one file at the same moment still store each line once. A line becomes a payment
only when a person confirms it (Payment.bank_line is one-to-one, so never twice).

Lines are matched only to invoices in their own currency: the bank line says what arrived
in that currency, and an exchange rate the bank applied is not in the statement. A payment
in another currency is recorded by hand on the invoice, with the rate the bank used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from punchclock.accounts.models import Membership, Organization
from punchclock.accounts.permissions import require
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing.models import Invoice
from punchclock.payments import matching, receivables
from punchclock.payments.models import BankLine, BankStatement, Method, Payment, PaymentSettings
from punchclock.payments.receivables import OpenInvoice
from punchclock.payments.services import LONGEST_REFERENCE, PaymentInput, record_payment
from punchclock.payments.statements import (
    CsvMapping,
    StatementError,
    StatementLine,
    is_xml,
    parse_statement,
)

# What the BankLine columns hold: amount is max_digits=14, decimal_places=4.
LARGEST_AMOUNT = Decimal(10) ** 10
AMOUNT_QUANTUM = Decimal("0.0001")
FINGERPRINT_BATCH = 500  # per IN (…): SQLite allows a limited number of parameters


class AlreadyImported(ValidationError):
    """Every line of the file is stored already; `statement` holds (some of) them."""

    def __init__(self, message: str, statement: BankStatement | None) -> None:
        super().__init__({"file": [message]})
        self.statement = statement


def _check_manager(by: Membership, organization_id: int) -> None:
    require(by, "payments.manage")
    if by.organization_id != organization_id:
        raise ValidationError("This belongs to another organization.")


# Import ----------------------------------------------------------------------------------


def import_statement(
    organization: Organization,
    *,
    by: Membership,
    data: bytes,
    filename: str,
    mapping: CsvMapping | None,
) -> BankStatement:
    """Store the lines of a statement not imported before and propose invoices for them."""
    _check_manager(by, organization.pk)
    try:
        lines = parse_statement(data, filename, mapping)
    except StatementError as exc:
        raise ValidationError({"file": [str(exc)]}) from exc
    if not lines:
        raise ValidationError(
            {"file": ["The statement holds no booked entries; nothing was imported."]}
        )
    for line in lines:
        _check_storable(line, "Entry" if is_xml(data) else "Row")
    known = _known_fingerprints(organization, [line.fingerprint for line in lines])
    new = [line for line in lines if line.fingerprint not in known]
    if not new:
        raise _already_imported(organization, lines)
    # Proposed before the lines are stored: one INSERT, instead of an UPDATE per line.
    proposals = _proposals(organization, new)
    with transaction.atomic():
        statement = BankStatement.objects.create(
            organization=organization,
            filename=_clean(filename, 255) or "statement",
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=by.user,
            line_count=len(lines),
        )
        # The check above is only a shortcut: a concurrent upload of the same lines may have
        # stored them since. The unique constraint skips those, so what this statement got
        # is what was new.
        BankLine.objects.bulk_create(
            [_bank_line(organization, statement, line, proposals) for line in new],
            ignore_conflicts=True,
        )
        statement.new_lines = statement.lines.count()
        if not statement.new_lines:
            raise _already_imported(organization, lines)  # rolls the statement back
        statement.save(update_fields=["new_lines"])
        if mapping is not None and not is_xml(data):
            remembered = PaymentSettings.of(organization.pk)
            remembered.csv_mapping = mapping.as_json()
            remembered.save(update_fields=["csv_mapping"])
    return statement


def saved_mapping(organization: Organization) -> CsvMapping | None:
    """The CSV column mapping of the organization's last CSV import, if it still works."""
    return CsvMapping.from_json(PaymentSettings.of(organization.pk).csv_mapping)


# The upload form and the API name a mapping with the same flat fields: field -> CsvMapping.
COLUMN_FIELDS = {
    "date_column": "date",
    "amount_column": "amount",
    "credit_column": "credit",
    "debit_column": "debit",
    "counterparty_column": "counterparty",
    "iban_column": "iban",
    "bank_reference_column": "bank_reference",
    "currency_column": "currency",
}


def mapping_from_fields(fields: Mapping[str, Any], *, currency: str) -> CsvMapping | None:
    """The mapping the flat fields describe; None when they name no column at all."""
    columns: dict[str, Any] = {
        name: fields.get(field) or None for field, name in COLUMN_FIELDS.items()
    }
    if not any(columns.values()):
        return None
    columns["date"] = columns["date"] or ""  # CsvMapping asks for it by name
    try:
        return CsvMapping(
            **columns,
            reference=tuple(c.strip() for c in (fields.get("reference_columns") or "").split(",")),
            default_currency=fields.get("default_currency") or currency,
            date_format=fields.get("date_format") or "%Y-%m-%d",
            decimal_comma=bool(fields.get("decimal_comma")),
            delimiter=fields.get("delimiter") or None,
            skip_rows=fields.get("skip_rows") or 0,
        )
    except StatementError as exc:
        raise ValidationError(str(exc)) from exc


def fields_of_mapping(mapping: CsvMapping) -> dict[str, Any]:
    """The flat fields of a mapping, to fill in the upload form."""
    return {field: getattr(mapping, name) or "" for field, name in COLUMN_FIELDS.items()} | {
        "reference_columns": ", ".join(mapping.reference),
        "default_currency": mapping.default_currency,
        "date_format": mapping.date_format,
        "decimal_comma": mapping.decimal_comma,
        "delimiter": mapping.delimiter or "",
        "skip_rows": mapping.skip_rows,
    }


def _check_storable(line: StatementLine, where: str) -> None:
    amount = line.amount
    if abs(amount) >= LARGEST_AMOUNT or amount != amount.quantize(AMOUNT_QUANTUM):
        raise ValidationError(
            {
                "file": [
                    f"{where} {line.source_line}: the amount {amount} cannot be a payment (at "
                    "most ten digits before the decimal point and four after it)."
                ]
            }
        )


def _clean(text: str, limit: int | None = None) -> str:
    # PostgreSQL refuses NUL in text, and the columns have a length.
    text = text.replace("\x00", "").strip()
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _known_fingerprints(organization: Organization, fingerprints: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(fingerprints), FINGERPRINT_BATCH):
        batch = fingerprints[start : start + FINGERPRINT_BATCH]
        found = BankLine.objects.filter(organization=organization, fingerprint__in=batch)
        known.update(found.values_list("fingerprint", flat=True))
    return known


def _bank_line(
    organization: Organization,
    statement: BankStatement,
    line: StatementLine,
    proposals: dict[str, matching.Proposal],
) -> BankLine:
    proposal = proposals.get(line.fingerprint)
    return BankLine(
        organization=organization,
        statement=statement,
        fingerprint=line.fingerprint,
        booking_date=line.booking_date,
        value_date=line.value_date,
        amount=line.amount,
        currency=line.currency,
        reference=_clean(line.reference),
        counterparty=_clean(line.counterparty, 200),
        counterparty_iban=_clean(line.counterparty_iban, 34),
        bank_reference=_clean(line.bank_reference, 200),
        proposed_invoice_id=proposal.invoice.id if proposal else None,
        proposal_reason=_clean(proposal.explanation, 200) if proposal else "",
    )


def _already_imported(organization: Organization, lines: list[StatementLine]) -> AlreadyImported:
    earlier = (
        BankLine.objects.filter(organization=organization, fingerprint=lines[0].fingerprint)
        .select_related("statement")
        .first()
    )
    if len(lines) == 1:
        message = "Its only line was imported before; nothing was added."
    else:
        message = f"All {len(lines):,} lines were imported before; nothing was added."
    return AlreadyImported(message, earlier.statement if earlier else None)


# Proposals -------------------------------------------------------------------------------


def open_invoices(organization: Organization) -> list[OpenInvoice]:
    """Issued invoices of the organization that still have something to pay, oldest first."""
    today = local_date(now(), organization.timezone)
    found = receivables.open_invoices(organization.pk, today=today)
    return sorted(found, key=lambda item: (item.invoice.issue_date or today, item.invoice.pk))


def _proposals(
    organization: Organization, lines: list[StatementLine]
) -> dict[str, matching.Proposal]:
    """The proposed invoice of each line that has one, by fingerprint."""
    incoming = [line for line in lines if line.amount > 0]
    if not incoming:
        return {}
    candidates = [
        matching.OpenInvoice(
            id=found.invoice.pk,
            number=found.invoice.number or "",
            client_name=found.invoice.client.name,
            currency=found.invoice.currency,
            balance=found.balance.balance,
        )
        for found in open_invoices(organization)
    ]
    proposals = matching.propose(incoming, candidates)
    return {p.line.fingerprint: p for p in proposals if p is not None}


# Reconciling -----------------------------------------------------------------------------


def confirm(line: BankLine, invoice: Invoice, *, by: Membership) -> Payment:
    """Record a received bank line as a payment of the invoice; a line pays only once."""
    _check_manager(by, line.organization_id)
    if invoice.organization_id != line.organization_id:
        raise ValidationError({"invoice_id": ["This invoice belongs to another organization."]})
    with transaction.atomic():
        # Locked so that two confirmations of one line run one after the other.
        locked = BankLine.objects.select_for_update().get(pk=line.pk)
        _check_confirmable(locked, invoice)
        given = PaymentInput(
            amount=locked.amount,
            received_on=locked.booking_date,
            method=Method.TRANSFER,
            currency=locked.currency,
            reference=locked.bank_reference or _clean(locked.reference, LONGEST_REFERENCE),
        )
        try:
            with transaction.atomic():
                payment = record_payment(invoice, given, by=by, bank_line=locked)
        except IntegrityError as exc:  # the one-to-one on Payment.bank_line, should a race win
            raise _already_recorded() from exc
        except ValidationError as exc:
            # Its fields (amount, received_on) are the line's, not anything the user sent.
            raise ValidationError(exc.messages) from exc
    line.status = BankLine.Status.MATCHED
    return payment


def _check_confirmable(line: BankLine, invoice: Invoice) -> None:
    if line.status == BankLine.Status.MATCHED or Payment.objects.filter(bank_line=line).exists():
        raise _already_recorded()
    if line.amount <= 0:
        raise ValidationError("This line is money paid out, not a payment received.")
    if line.status == BankLine.Status.IGNORED:
        raise ValidationError("This line is ignored; reopen it to record it as a payment.")
    if invoice.currency != line.currency:
        raise ValidationError(
            {
                "invoice_id": [
                    f"The line is in {line.currency} and {invoice.number or 'the invoice'} in "
                    f"{invoice.currency}: record this payment on the invoice by hand, with the "
                    "exchange rate the bank used."
                ]
            }
        )


def _already_recorded() -> ValidationError:
    return ValidationError("This bank line is already recorded as a payment.")


def confirm_many(
    choices: Sequence[tuple[BankLine, Invoice]], *, by: Membership
) -> tuple[list[Payment], dict[int, str]]:
    """Confirm several lines in one transaction; a line that fails is reported, not recorded.

    Returns the payments recorded and an error message per bank line id that failed."""
    payments, errors = [], {}
    with transaction.atomic():
        for line, invoice in choices:
            try:
                # A savepoint per line: a failure undoes that line alone.
                with transaction.atomic():
                    payments.append(confirm(line, invoice, by=by))
            except ValidationError as exc:
                errors[line.pk] = " ".join(exc.messages)
    return payments, errors


def ignore(line: BankLine, *, by: Membership) -> BankLine:
    """Set a line aside (a transfer between own accounts, a fee, a payment of no invoice)."""
    return _set_status(line, BankLine.Status.IGNORED, by=by)


def reopen(line: BankLine, *, by: Membership) -> BankLine:
    """Take an ignored line back into reconciliation."""
    return _set_status(line, BankLine.Status.OPEN, by=by)


def _set_status(line: BankLine, status: str, *, by: Membership) -> BankLine:
    _check_manager(by, line.organization_id)
    with transaction.atomic():
        locked = BankLine.objects.select_for_update().get(pk=line.pk)
        if locked.status == BankLine.Status.MATCHED:
            raise ValidationError(
                "This line is recorded as a payment; delete that payment to change it."
            )
        if locked.status != status:
            locked.status = status
            locked.save(update_fields=["status"])
    return locked
