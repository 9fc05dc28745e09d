"""Every change to invoices: drafts from unbilled work, lines, issuing, credit notes, chain."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum

from punchclock.accounts.models import Membership, Organization
from punchclock.accounts.permissions import can
from punchclock.automation.coverage import retainer_covered
from punchclock.clients.models import Client, TaxTreatment
from punchclock.core.money import round_money
from punchclock.core.services import field_error
from punchclock.core.timeutil import local_date, now, start_of_day
from punchclock.expenses.models import Expense, ExpenseStatus
from punchclock.invoicing.models import (
    BilledEntry,
    BilledExpense,
    BilledFixedFee,
    BilledWork,
    EventKind,
    Invoice,
    InvoiceChain,
    InvoiceDocument,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceSettings,
    InvoiceStatus,
    NumberSeries,
    SeriesCounter,
    TaxCategory,
    Unit,
)
from punchclock.invoicing.totals import LineInput, Tax, Totals, compute_totals, line_net
from punchclock.invoicing.work import keep_billed_work
from punchclock.projects.models import BillingMethod, Project, RoundingDirection, RoundingScope
from punchclock.projects.ratebook import RateBook
from punchclock.tracking.models import TimeEntry

GROUPINGS = ("project", "task", "person", "day", "entry", "summary")
DEFAULT_SERIES = "default"
# Standard VAT rates for the organization's country when a draft names none.
STANDARD_RATES = {
    "AT": Decimal(20),
    "BE": Decimal(21),
    "CH": Decimal("8.1"),
    "DE": Decimal(19),
    "ES": Decimal(21),
    "FR": Decimal(20),
    "IE": Decimal(23),
    "IT": Decimal(22),
    "LU": Decimal(17),
    "NL": Decimal(21),
    "PL": Decimal(23),
    "PT": Decimal(23),
}
TREATMENT_CATEGORY = {
    TaxTreatment.DOMESTIC: TaxCategory.STANDARD,
    TaxTreatment.REVERSE_CHARGE: TaxCategory.REVERSE_CHARGE,
    TaxTreatment.EXPORT: TaxCategory.EXPORT,
    TaxTreatment.EXEMPT: TaxCategory.EXEMPT,
}
# The wording each category requires on the document (English; documents translate it).
LEGAL_NOTES = {
    TaxCategory.STANDARD: "",
    TaxCategory.ZERO: "Zero-rated supply.",
    TaxCategory.EXEMPT: "Exempt from VAT.",
    TaxCategory.REVERSE_CHARGE: "Reverse charge: VAT is due by the recipient "
    "(Article 196 of Council Directive 2006/112/EC).",
    TaxCategory.INTRA_COMMUNITY: "Intra-community supply, exempt from VAT "
    "(Article 138 of Council Directive 2006/112/EC).",
    TaxCategory.EXPORT: "Export outside the EU, exempt from VAT.",
    TaxCategory.NOT_SUBJECT: "Not subject to VAT.",
}
LINE_FIELDS = {
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "surcharge_percent",
    "tax_category",
    "tax_rate",
    "additional_tax_name",
    "additional_tax_rate",
}
HOUR = Decimal(3600)
HOURS_QUANTUM = Decimal("0.0001")


class WorkAlreadyBilled(ValidationError):
    """Some of the selected work went onto another invoice first."""


# Who may bill --------------------------------------------------------------------------


def _require_biller(by: Membership, organization_id: int) -> None:
    if by.organization_id != organization_id or not can(by, "invoices.manage"):
        raise PermissionDenied("Your role does not allow invoicing.")


def _locked_draft(invoice: Invoice, by: Membership) -> Invoice:
    """The invoice row locked for this transaction, refused unless it is still a draft."""
    _require_biller(by, invoice.organization_id)
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status != InvoiceStatus.DRAFT:
        raise ValidationError(f"Invoice {locked.number} is issued and can no longer change.")
    return locked


def _event(invoice: Invoice, kind: str, by: Membership, **detail: Any) -> None:
    InvoiceEvent.objects.create(invoice=invoice, kind=kind, at=now(), by=by.user, detail=detail)


# Drafts from unbilled work -------------------------------------------------------------


def default_tax(client: Client, tax_rate: Decimal | None = None) -> tuple[str, Decimal]:
    """The tax category and rate the client's tax treatment implies."""
    category = TREATMENT_CATEGORY.get(TaxTreatment(client.tax_treatment), TaxCategory.STANDARD)
    if category != TaxCategory.STANDARD:
        return category, Decimal(0)
    if tax_rate is not None:
        return category, tax_rate
    country = client.organization.country
    if country not in STANDARD_RATES:
        raise field_error("tax_rate", f"Give the VAT rate: none is known for {country or '—'}.")
    return category, STANDARD_RATES[country]


def billed_seconds(seconds: int, project: Project) -> int:
    """The project's rounding rule applied to one entry; tracked time stays as it was."""
    step = project.rounding_minutes * 60
    if step == 0:
        return seconds
    mode = {
        RoundingDirection.UP: ROUND_CEILING,
        RoundingDirection.DOWN: ROUND_FLOOR,
        RoundingDirection.NEAREST: ROUND_HALF_UP,
    }[RoundingDirection(project.rounding_direction)]
    steps = (Decimal(seconds) / step).quantize(Decimal(1), rounding=mode)
    return int(steps) * step


def billed_seconds_by_entry(entries: Sequence[TimeEntry], zone: str) -> dict[int, int]:
    """Each entry's billed seconds under its project's rounding rule.

    Per entry, each entry is rounded. Per day and task, a person's entries of one task on
    one local day are summed and the sum is rounded once; the difference is carried by
    the day's last entries, so the entries always add up to the rounded sum."""
    billed: dict[int, int] = {}
    buckets: dict[tuple[Any, ...], list[TimeEntry]] = {}
    for entry in entries:
        project = entry.project
        if project.rounding_scope == RoundingScope.DAY_TASK and project.rounding_minutes:
            key = (project.pk, entry.task_id, entry.membership_id, local_date(entry.start, zone))
            buckets.setdefault(key, []).append(entry)
        else:
            billed[entry.pk] = billed_seconds(entry.seconds(), project)
    for bucket in buckets.values():
        bucket.sort(key=lambda e: (e.start, e.pk))
        raw = [e.seconds() for e in bucket]
        difference = billed_seconds(sum(raw), bucket[0].project) - sum(raw)
        for position in range(len(bucket) - 1, -1, -1):
            # Rounding up adds to the last entry; rounding down takes from the last ones.
            change = max(difference, -raw[position])
            raw[position] += change
            difference -= change
            if difference == 0:
                break
        billed.update((e.pk, seconds) for e, seconds in zip(bucket, raw, strict=True))
    return billed


def unbilled_entries(
    client: Client, *, start: datetime, end: datetime, project: Project | None = None
) -> QuerySet[TimeEntry]:
    """Finished billable entries of the client's projects in [start, end), not on an invoice."""
    entries = TimeEntry.objects.filter(
        organization_id=client.organization_id,
        project__client=client,
        end__isnull=False,
        billable=True,
        billing__isnull=True,
        start__gte=start,
        start__lt=end,
    ).exclude(project__billing_method=BillingMethod.NON_BILLABLE)
    if project is not None:
        entries = entries.filter(project=project)
    covered = retainer_covered(client)
    if covered is not None:
        # A retainer's close bills this time (decision 0012): nothing else may offer it.
        entries = entries.exclude(covered)
    return entries.select_related("project", "task", "membership__user").order_by("start", "pk")


def unbilled_expenses(
    client: Client, *, first: date, last: date, project: Project | None = None
) -> QuerySet[Expense]:
    expenses = Expense.objects.filter(
        organization_id=client.organization_id,
        client=client,
        billable=True,
        status=ExpenseStatus.APPROVED,
        billing__isnull=True,
        spent_on__gte=first,
        spent_on__lte=last,
    )
    if project is not None:
        expenses = expenses.filter(project=project)
    return expenses.order_by("spent_on", "pk")


@dataclass
class _TimeGroup:
    description: str
    unit_price: Decimal
    first_start: datetime
    raw_seconds: int = 0
    billed_seconds: int = 0
    entries: list[tuple[TimeEntry, int]] = field(default_factory=list)


def _group_key(entry: TimeEntry, group_by: str, zone: str) -> tuple[Any, str]:
    project = entry.project
    day = local_date(entry.start, zone)
    match group_by:
        case "project":
            return project.pk, project.name
        case "task":
            task = entry.task.name if entry.task else "Other work"
            return (project.pk, entry.task_id), f"{project.name}: {task}"
        case "person":
            return (project.pk, entry.membership_id), (
                f"{project.name}: {entry.membership.user.display_name}"
            )
        case "day":
            return (day, project.pk), f"{day.isoformat()} {project.name}"
        case "entry":
            text = entry.description or (entry.task.name if entry.task else project.name)
            return entry.pk, f"{day.isoformat()} {project.name}: {text}"
        case _:
            return "summary", "Services"


def _hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / HOUR).quantize(HOURS_QUANTUM, rounding=ROUND_HALF_UP)


def create_draft(
    client: Client,
    *,
    by: Membership,
    period_start: date,
    period_end: date,
    project: Project | None = None,
    group_by: str = "project",
    tax_rate: Decimal | None = None,
    fee_percent: Decimal | None = None,
    include_time: bool = True,
    include_expenses: bool = True,
    include_fees: bool = True,
) -> Invoice:
    """A draft invoice from the client's unbilled time and expenses in a period (inclusive).

    A fixed-fee project bills what is left of its fee, or `fee_percent` of it as a
    milestone (only with `project`). Billing schedules leave out what they do not bill."""
    _require_biller(by, client.organization_id)
    if group_by not in GROUPINGS:
        raise field_error("group_by", f"Group by one of {', '.join(GROUPINGS)}.")
    if period_end < period_start:
        raise field_error("period_end", "The period ends before it starts.")
    if project is not None and project.client_id != client.pk:
        raise field_error("project", "This project belongs to another client.")
    if fee_percent is not None and (
        project is None or project.billing_method != BillingMethod.FIXED_FEE
    ):
        raise field_error("fee_percent", "A milestone share needs a fixed-fee project.")
    if fee_percent is not None and not Decimal(0) < fee_percent <= 100:
        raise field_error("fee_percent", "A milestone share is more than 0 and at most 100 %.")
    organization = client.organization
    zone = organization.timezone
    category, rate = default_tax(client, tax_rate)
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                organization=organization,
                client=client,
                currency=client.currency,
                language=client.language,
                period_start=period_start,
                period_end=period_end,
                message=client.invoice_message,
                created_by=by.user,
            )
            entries = list(
                unbilled_entries(
                    client,
                    start=start_of_day(period_start, zone),
                    end=start_of_day(period_end + timedelta(days=1), zone),
                    project=project,
                )
            )
            lines = []
            if include_time:
                lines += _time_lines(
                    invoice, entries, group_by=group_by, category=category, rate=rate
                )
            if include_fees:
                lines += _fee_lines(
                    invoice,
                    entries,
                    project,
                    category=category,
                    rate=rate,
                    fee_percent=fee_percent,
                )
            if include_expenses:
                expenses = unbilled_expenses(
                    client, first=period_start, last=period_end, project=project
                )
                lines += _expense_lines(
                    invoice,
                    list(expenses),
                    category=category,
                    rate=rate,
                    start_position=len(lines) + 1,
                )
            if not lines:
                raise ValidationError(
                    f"{client.name} has no unbilled work from {period_start} to {period_end}."
                )
            _store_totals(invoice)
            _event(invoice, EventKind.CREATED, by, lines=len(lines), group_by=group_by)
    except IntegrityError as exc:
        # The one-to-one links refuse work another draft took in the meantime.
        raise WorkAlreadyBilled(
            "Some of this work was put on another invoice at the same moment; try again."
        ) from exc
    return invoice


def start_draft(
    client: Client,
    *,
    by: Membership,
    period_start: date | None = None,
    period_end: date | None = None,
) -> Invoice:
    """An empty draft for free lines (fixed items, milestones, a recurring invoice's period)."""
    _require_biller(by, client.organization_id)
    with transaction.atomic():
        invoice = Invoice.objects.create(
            organization=client.organization,
            client=client,
            currency=client.currency,
            language=client.language,
            message=client.invoice_message,
            created_by=by.user,
            period_start=period_start,
            period_end=period_end,
        )
        _event(invoice, EventKind.CREATED, by, lines=0)
    return invoice


def _time_lines(
    invoice: Invoice,
    entries: list[TimeEntry],
    *,
    group_by: str,
    category: str,
    rate: Decimal,
) -> list[InvoiceLine]:
    book = RateBook.load(invoice.organization)
    groups: dict[tuple[Any, Decimal], _TimeGroup] = {}
    hourly = [entry for entry in entries if entry.project.is_hourly]
    rounded = billed_seconds_by_entry(hourly, invoice.organization.timezone)
    for entry in hourly:
        price, _scope = book.bill(entry.membership, entry.project, entry.task, entry.start)
        day = local_date(entry.start, invoice.organization.timezone)
        if price is None:
            raise field_error(
                "rates",
                f"No bill rate for {entry.membership.user.display_name} on "
                f"{entry.project.full_code} on {day}; set one first.",
            )
        if price.currency != invoice.currency:
            raise field_error(
                "rates",
                f"The rate for {entry.project.full_code} on {day} is in {price.currency}, "
                f"the client is billed in {invoice.currency}.",
            )
        key, description = _group_key(entry, group_by, invoice.organization.timezone)
        group = groups.setdefault(
            (key, price.amount), _TimeGroup(description, price.amount, entry.start)
        )
        seconds = entry.seconds()
        billed = rounded[entry.pk]
        group.raw_seconds += seconds
        group.billed_seconds += billed
        group.entries.append((entry, billed))
    lines = []
    for position, group in enumerate(sorted(groups.values(), key=lambda g: g.first_start), 1):
        line = _new_line(
            invoice,
            position=position,
            description=group.description,
            quantity=_hours(group.billed_seconds),
            unit=Unit.HOUR,
            unit_price=group.unit_price,
            tax_category=category,
            tax_rate=rate,
            raw_hours=_hours(group.raw_seconds),
        )
        BilledEntry.objects.bulk_create(
            BilledEntry(entry=entry, line=line, billed_seconds=billed)
            for entry, billed in group.entries
        )
        lines.append(line)
    return lines


def fee_share_billed(project: Project) -> Decimal:
    """How much of a fixed-fee project's fee is on invoices or drafts, in percent."""
    total = BilledFixedFee.objects.filter(project=project).aggregate(total=Sum("share_percent"))
    return Decimal(total["total"] or 0)


def _fee_lines(
    invoice: Invoice,
    entries: list[TimeEntry],
    project: Project | None,
    *,
    category: str,
    rate: Decimal,
    fee_percent: Decimal | None = None,
) -> list[InvoiceLine]:
    """A fixed-fee project bills what is left of its fee when its work appears, or a share.

    The project row is locked while its shares are added up, so two drafts cannot bill
    the same share; a full credit note releases the shares it cancels."""
    projects = {
        e.project_id: e.project
        for e in entries
        if e.project.billing_method == BillingMethod.FIXED_FEE
    }
    if project is not None and project.billing_method == BillingMethod.FIXED_FEE:
        projects[project.pk] = project
    lines = []
    position = invoice.lines.count()
    for fee_project in projects.values():
        if fee_project.fixed_fee is None:
            continue
        Project.objects.select_for_update().filter(pk=fee_project.pk).first()
        left = Decimal(100) - fee_share_billed(fee_project)
        share = left if fee_percent is None else fee_percent
        if fee_percent is not None and fee_percent > left:
            raise field_error(
                "fee_percent",
                f"Only {left.normalize():f} % of the fee of {fee_project.name} is left to bill.",
            )
        if share <= 0:
            continue
        position += 1
        own = [e for e in entries if e.project_id == fee_project.pk]
        full = share == 100
        line = _new_line(
            invoice,
            position=position,
            description=f"{fee_project.name} (fixed fee)"
            if full
            else f"{fee_project.name} (fixed fee, {share.normalize():f} %)",
            quantity=Decimal(1) if full else (share / 100).quantize(HOURS_QUANTUM),
            unit=Unit.PIECE,
            unit_price=fee_project.fixed_fee,
            tax_category=category,
            tax_rate=rate,
            raw_hours=_hours(sum(e.seconds() for e in own)),
        )
        BilledFixedFee.objects.create(project=fee_project, line=line, share_percent=share)
        BilledEntry.objects.bulk_create(
            BilledEntry(entry=e, line=line, billed_seconds=e.seconds()) for e in own
        )
        lines.append(line)
    return lines


def _expense_lines(
    invoice: Invoice,
    expenses: list[Expense],
    *,
    category: str,
    rate: Decimal,
    start_position: int,
) -> list[InvoiceLine]:
    lines = []
    for position, expense in enumerate(expenses, start_position):
        if expense.client_currency != invoice.currency:
            raise field_error(
                "expenses", f"Expense “{expense.description}” is not in {invoice.currency}."
            )
        line = _new_line(
            invoice,
            position=position,
            description=f"{expense.spent_on.isoformat()} {expense.description}",
            quantity=Decimal(1),
            unit=Unit.PIECE,
            unit_price=expense.billable_amount,
            tax_category=category,
            tax_rate=rate,
        )
        BilledExpense.objects.create(expense=expense, line=line)
        lines.append(line)
    return lines


def _new_line(invoice: Invoice, **fields: Any) -> InvoiceLine:
    line = InvoiceLine(invoice=invoice, **fields)
    line.net_amount = line_net(
        line.quantity,
        line.unit_price,
        line.discount_percent,
        invoice.currency,
        line.surcharge_percent,
    )
    line.full_clean(exclude=["invoice", "credits_line"])
    line.save()
    return line


# Editing drafts ------------------------------------------------------------------------


# The line fields totals are computed from, in line_input's order.
TOTALS_FIELDS = (
    "quantity",
    "unit_price",
    "tax_category",
    "tax_rate",
    "additional_tax_rate",
    "additional_tax_name",
    "discount_percent",
    "surcharge_percent",
)


def line_input(
    quantity: Decimal,
    unit_price: Decimal,
    tax_category: str,
    tax_rate: Decimal,
    additional_tax_rate: Decimal | None,
    additional_tax_name: str,
    discount_percent: Decimal,
    surcharge_percent: Decimal,
) -> LineInput:
    """What compute_totals needs of a line, from its TOTALS_FIELDS (a report reads
    thousands of lines as plain values)."""
    taxes = [Tax(tax_category, tax_rate)]
    if additional_tax_rate is not None:
        taxes.append(Tax(tax_category, additional_tax_rate, additional_tax_name))
    return LineInput(quantity, unit_price, tuple(taxes), discount_percent, surcharge_percent)


def _line_input(line: InvoiceLine) -> LineInput:
    return line_input(*(getattr(line, name) for name in TOTALS_FIELDS))


def invoice_totals(invoice: Invoice, lines: Sequence[InvoiceLine] | None = None) -> Totals:
    lines = list(invoice.lines.all()) if lines is None else lines
    return compute_totals(
        [_line_input(line) for line in lines],
        currency=invoice.currency,
        discount_percent=invoice.discount_percent,
        surcharge_percent=invoice.surcharge_percent,
    )


def _store_totals(invoice: Invoice) -> Totals:
    totals = invoice_totals(invoice)
    invoice.net_total = totals.net_total
    invoice.tax_total = totals.tax_total
    invoice.gross_total = totals.gross_total
    invoice.save(update_fields=["net_total", "tax_total", "gross_total"])
    return totals


def add_line(
    invoice: Invoice,
    *,
    by: Membership,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    unit: str = Unit.PIECE,
    discount_percent: Decimal = Decimal(0),
    surcharge_percent: Decimal = Decimal(0),
    tax_category: str | None = None,
    tax_rate: Decimal | None = None,
    additional_tax_name: str = "",
    additional_tax_rate: Decimal | None = None,
) -> InvoiceLine:
    """A free line at the end of a draft; tax defaults to the client's treatment."""
    with transaction.atomic():
        locked = _locked_draft(invoice, by)
        if tax_category is None:
            tax_category, tax_rate = default_tax(locked.client, tax_rate)
        last = locked.lines.order_by("-position").values_list("position", flat=True).first()
        line = _new_line(
            locked,
            position=(last or 0) + 1,
            description=description,
            quantity=quantity,
            unit=unit,
            unit_price=unit_price,
            discount_percent=discount_percent,
            surcharge_percent=surcharge_percent,
            tax_category=tax_category,
            tax_rate=tax_rate if tax_rate is not None else Decimal(0),
            additional_tax_name=additional_tax_name,
            additional_tax_rate=additional_tax_rate,
        )
        _store_totals(locked)
        _event(locked, EventKind.EDITED, by, added_line=line.position)
    return line


def update_line(line: InvoiceLine, *, by: Membership, **fields: Any) -> InvoiceLine:
    """Change a draft's line (description, quantity, unit, prices, discount, taxes)."""
    unknown = set(fields) - LINE_FIELDS
    if unknown:
        raise TypeError(f"cannot set {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = _locked_draft(line.invoice, by)
        current = InvoiceLine.objects.get(pk=line.pk, invoice=locked)
        for name, value in fields.items():
            setattr(current, name, value)
        current.net_amount = line_net(
            current.quantity,
            current.unit_price,
            current.discount_percent,
            locked.currency,
            current.surcharge_percent,
        )
        current.full_clean(exclude=["invoice", "credits_line"])
        current.save()
        _store_totals(locked)
        _event(locked, EventKind.EDITED, by, changed_line=current.position, fields=sorted(fields))
    return current


def delete_line(line: InvoiceLine, *, by: Membership) -> None:
    """Remove a line from a draft; the work it billed becomes unbilled again."""
    with transaction.atomic():
        locked = _locked_draft(line.invoice, by)
        InvoiceLine.objects.filter(pk=line.pk, invoice=locked).delete()
        _store_totals(locked)
        _event(locked, EventKind.EDITED, by, deleted_line=line.position)


def set_discount(invoice: Invoice, *, by: Membership, discount_percent: Decimal) -> Invoice:
    with transaction.atomic():
        locked = _locked_draft(invoice, by)
        locked.discount_percent = discount_percent
        locked.full_clean(exclude=["snapshot"])
        locked.save(update_fields=["discount_percent"])
        _store_totals(locked)
        _event(locked, EventKind.EDITED, by, discount_percent=str(discount_percent))
    return locked


def set_surcharge(
    invoice: Invoice, *, by: Membership, surcharge_percent: Decimal, reason: str = ""
) -> Invoice:
    """A surcharge on the whole draft (a document-level charge), with the reason printed."""
    reason = reason.strip()
    if surcharge_percent and not reason:
        raise field_error("surcharge_reason", "Say what the surcharge is for.")
    with transaction.atomic():
        locked = _locked_draft(invoice, by)
        locked.surcharge_percent = surcharge_percent
        locked.surcharge_reason = reason if surcharge_percent else ""
        locked.full_clean(exclude=["snapshot"])
        locked.save(update_fields=["surcharge_percent", "surcharge_reason"])
        _store_totals(locked)
        _event(
            locked,
            EventKind.EDITED,
            by,
            surcharge_percent=str(surcharge_percent),
            surcharge_reason=locked.surcharge_reason,
        )
    return locked


def update_details(
    invoice: Invoice,
    *,
    by: Membership,
    message: str | None = None,
    tax_note: str | None = None,
    time_appendix: bool | None = None,
    purchase_order_reference: str | None = None,
    contract_reference: str | None = None,
    project_reference: str | None = None,
) -> Invoice:
    """A draft's message, exemption reason, time appendix and the client's references."""
    changes = {
        name: value
        for name, value in (
            ("message", message),
            ("tax_note", tax_note),
            ("time_appendix", time_appendix),
            ("purchase_order_reference", purchase_order_reference),
            ("contract_reference", contract_reference),
            ("project_reference", project_reference),
        )
        if value is not None
    }
    with transaction.atomic():
        locked = _locked_draft(invoice, by)
        for name, value in changes.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        locked.full_clean(exclude=["snapshot"])
        locked.save(update_fields=list(changes))
        _event(locked, EventKind.EDITED, by, fields=sorted(changes))
    return locked


def delete_draft(invoice: Invoice, *, by: Membership) -> None:
    """Delete a draft; its lines' links go with it, so the work is unbilled again."""
    with transaction.atomic():
        locked = _locked_draft(invoice, by)
        locked.delete()


# Issuing -------------------------------------------------------------------------------


def create_series(
    organization: Organization,
    *,
    by: Membership,
    name: str,
    pattern: str = "{year}-{seq:04}",
    yearly_reset: bool = True,
) -> NumberSeries:
    _require_biller(by, organization.pk)
    try:
        sample = pattern.format(year=2026, seq=1)
    except (KeyError, IndexError, ValueError):
        raise field_error("pattern", "Use only {year} and {seq}, e.g. {year}-{seq:04}.") from None
    if "{seq" not in pattern:
        raise field_error("pattern", "The pattern needs {seq}.")
    if yearly_reset and "{year" not in pattern:
        raise field_error("pattern", "A series that restarts every year needs {year}.")
    if len(sample) > 40:
        raise field_error("pattern", "Numbers of this pattern would be too long.")
    with transaction.atomic():
        return NumberSeries.objects.create(
            organization=organization, name=name, pattern=pattern, yearly_reset=yearly_reset
        )


def _default_series(organization: Organization) -> NumberSeries:
    series, _ = NumberSeries.objects.get_or_create(organization=organization, name=DEFAULT_SERIES)
    return series


def check_issuable(invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    """The rules of EN 16931 and the tax categories that a document must meet to be issued."""
    if not lines:
        raise field_error("lines", "An invoice needs at least one line.")
    client = invoice.client
    for line in lines:
        where = f"line {line.position}"
        if line.tax_category == TaxCategory.STANDARD and line.tax_rate <= 0:
            raise field_error("tax_rate", f"{where}: standard-rated VAT needs a rate (BR-S-05).")
        if line.tax_category != TaxCategory.STANDARD and line.tax_rate != 0:
            raise field_error(
                "tax_rate", f"{where}: category {line.tax_category} has a VAT rate of 0."
            )
        if line.tax_category in (TaxCategory.REVERSE_CHARGE, TaxCategory.INTRA_COMMUNITY) and (
            not client.vat_id
        ):
            raise field_error(
                "vat_id",
                f"{where}: {line.get_tax_category_display()} needs the buyer's VAT ID "
                "(BR-AE-02, BR-IC-02); add it to the client.",
            )
        if line.tax_category == TaxCategory.EXEMPT and not invoice.tax_note:
            raise field_error("tax_note", "Exempt supplies need the exemption reason (BR-E-10).")
    categories = {line.tax_category for line in lines}
    if TaxCategory.NOT_SUBJECT in categories and len(categories) > 1:
        raise field_error(
            "tax_category",
            "Lines not subject to VAT cannot share a document with taxed or exempt lines "
            "(BR-O-11); put them on an invoice of their own.",
        )
    if categories == {TaxCategory.NOT_SUBJECT} and not invoice.organization.registration_number:
        raise field_error(
            "registration_number",
            "A document not subject to VAT may not show VAT IDs, so it needs your "
            "registration number (BT-30, BR-O-02); add it to the organization's billing details.",
        )
    if (
        client.requires_purchase_order
        and invoice.kind == InvoiceKind.INVOICE
        and not invoice.purchase_order_reference
    ):
        raise field_error(
            "purchase_order_reference",
            f"{client.name} needs its purchase order number on every invoice (BT-13).",
        )


def _snapshot(
    invoice: Invoice, lines: Sequence[InvoiceLine], *, contact_name: str = ""
) -> dict[str, Any]:
    """Seller, buyer and tax wording as they are now; later edits never reach the document.

    The person who issues is the seller's contact (BG-6) for questions about it."""
    org, client = invoice.organization, invoice.client
    categories = sorted({line.tax_category for line in lines})
    return {
        "seller": {
            "name": org.display_legal_name,
            "address_line1": org.address_line1,
            "address_line2": org.address_line2,
            "postal_code": org.postal_code,
            "city": org.city,
            "country": org.country,
            "vat_id": org.vat_id,
            "tax_number": org.tax_number,
            "legal_registration_id": org.registration_number,
            "iban": org.iban,
            "bic": org.bic,
            "email": org.email,
            "phone": org.phone,
            "website": org.website,
            "electronic_address": org.electronic_address,
            "electronic_address_scheme": org.electronic_address_scheme,
            "contact_name": contact_name,
        },
        "buyer": {
            "name": client.name,
            "address_line1": client.address_line1,
            "address_line2": client.address_line2,
            "postal_code": client.postal_code,
            "city": client.city,
            "region": client.region,
            "country": client.country,
            "vat_id": client.vat_id,
            "email": client.email,
            "buyer_reference": client.buyer_reference,
            "electronic_address": client.electronic_address,
            "electronic_address_scheme": client.electronic_address_scheme,
        },
        "einvoice_format": client.einvoice_format,
        "purchase_order_reference": invoice.purchase_order_reference,
        "contract_reference": invoice.contract_reference,
        "project_reference": invoice.project_reference,
        "payment_terms_days": client.payment_terms_days,
        **_design(org),
        "tax_notes": {
            c: LEGAL_NOTES[TaxCategory(c)] for c in categories if LEGAL_NOTES[TaxCategory(c)]
        },
    }


def _design(organization: Organization) -> dict[str, str]:
    """What the organization chose for its documents, frozen like the rest."""
    found = InvoiceSettings.of(organization.pk)
    return {"footer_text": found.footer_text, "font": found.font}


def _money(value: Decimal, places: int = 4) -> str:
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places)):f}"


def _surcharge_fields(document: Invoice | InvoiceLine, *, reason: bool = False) -> dict[str, str]:
    """Surcharges enter the hashed form only where present.

    Documents issued before surcharges existed keep the exact bytes they were hashed with,
    so the chain still verifies; a document with a surcharge has it covered.
    """
    if not document.surcharge_percent:
        return {}
    fields = {"surcharge_percent": _money(document.surcharge_percent)}
    if reason and isinstance(document, Invoice):
        fields["surcharge_reason"] = document.surcharge_reason
    return fields


def canonical_document(invoice: Invoice, lines: Sequence[InvoiceLine]) -> bytes:
    """The bytes the chain hashes: every legal field of the document, in a fixed form."""
    document = {
        "organization": invoice.organization_id,
        "kind": invoice.kind,
        "number": invoice.number,
        "series": invoice.series_id,
        "chain_position": invoice.chain_position,
        "previous_hash": invoice.previous_hash,
        "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "issued_at": invoice.issued_at.isoformat() if invoice.issued_at else None,
        "client": invoice.client_id,
        "credits": invoice.credits_id,
        "currency": invoice.currency,
        "language": invoice.language,
        "discount_percent": _money(invoice.discount_percent),
        "message": invoice.message,
        "tax_note": invoice.tax_note,
        **_surcharge_fields(invoice, reason=True),
        "snapshot": invoice.snapshot,
        "net_total": _money(invoice.net_total),
        "tax_total": _money(invoice.tax_total),
        "gross_total": _money(invoice.gross_total),
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "quantity": _money(line.quantity),
                "unit": line.unit,
                "unit_price": _money(line.unit_price),
                "discount_percent": _money(line.discount_percent),
                **_surcharge_fields(line),
                "tax_category": line.tax_category,
                "tax_rate": _money(line.tax_rate, 3),
                "additional_tax_name": line.additional_tax_name,
                "additional_tax_rate": None
                if line.additional_tax_rate is None
                else _money(line.additional_tax_rate, 3),
                "net_amount": _money(line.net_amount),
                "credits_line": line.credits_line_id,
            }
            for line in sorted(lines, key=lambda line: line.position)
        ],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document_hash(invoice: Invoice, lines: Sequence[InvoiceLine]) -> str:
    return hashlib.sha256(canonical_document(invoice, lines)).hexdigest()


def issue_invoice(
    invoice: Invoice,
    *,
    by: Membership,
    issue_date: date | None = None,
    series: NumberSeries | None = None,
) -> Invoice:
    """Number, snapshot, total and chain a draft; from then on it never changes."""
    with transaction.atomic():
        locked = _locked_draft(invoice, by)
        _issue(locked, by=by, issue_date=issue_date, series=series)
    return locked


def _pay_online_url(invoice: Invoice) -> str:
    """The client portal link printed on the PDF when the client may pay it online.

    Made inside the issuing transaction, so the PDF and its link come and go together."""
    from punchclock.payments import portal, stripe_payments
    from punchclock.payments.models import PortalLink

    offered = (
        invoice.kind == InvoiceKind.INVOICE
        and invoice.client.online_payment
        and stripe_payments.keys_configured()
        and stripe_payments.stripe_enabled(invoice.organization_id)
        and stripe_payments.stripe_units(invoice.currency) is not None
    )
    if not offered:
        return ""
    link = PortalLink.objects.create(
        organization_id=invoice.organization_id,
        client_id=invoice.client_id,
        invoice=invoice,
        nonce=secrets.token_hex(16),
    )
    return portal.url_for(link)


def _issue(
    invoice: Invoice, *, by: Membership, issue_date: date | None, series: NumberSeries | None
) -> None:
    organization = invoice.organization
    lines = list(invoice.lines.order_by("position"))
    check_issuable(invoice, lines)
    series = series or invoice.series or _default_series(organization)
    if series.organization_id != organization.pk:
        raise field_error("series", "This numbering series belongs to another organization.")

    # Lock order, always the same so issuers queue instead of deadlocking: the chain head
    # (one per organization), then the series, then its counter. On PostgreSQL these are
    # row locks held to commit; on SQLite the IMMEDIATE transaction already holds the one
    # write lock. Numbers come from these rows, never a sequence: a rollback leaves no gap.
    chain, _ = InvoiceChain.objects.select_for_update().get_or_create(organization=organization)
    series = NumberSeries.objects.select_for_update().get(pk=series.pk)
    # Today is read once the locks are held: an issuer that queued across midnight gets
    # the new day, never a date before the one the previous issuer just used.
    issue_date = issue_date or local_date(now(), organization.timezone)
    if series.last_issue_date and issue_date < series.last_issue_date:
        raise field_error(
            "issue_date",
            f"Series {series.name} already has a document dated {series.last_issue_date}; "
            "issue dates cannot go backwards.",
        )
    year = issue_date.year if series.yearly_reset else 0
    counter, _ = SeriesCounter.objects.select_for_update().get_or_create(series=series, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    series.last_issue_date = issue_date
    series.save(update_fields=["last_issue_date"])

    invoice.series = series
    invoice.number = series.format(year=issue_date.year, seq=counter.last)
    invoice.issue_date = issue_date
    invoice.due_date = issue_date + timedelta(days=invoice.client.payment_terms_days)
    invoice.snapshot = _snapshot(invoice, lines, contact_name=by.user.display_name)
    totals = invoice_totals(invoice, lines)
    invoice.net_total = totals.net_total
    invoice.tax_total = totals.tax_total
    invoice.gross_total = totals.gross_total
    tax_currency = _tax_currency(invoice, totals.tax_total)
    if tax_currency:
        invoice.snapshot["tax_currency"] = tax_currency
    pay_url = _pay_online_url(invoice)
    if pay_url:
        invoice.snapshot["pay_url"] = pay_url
    invoice.issued_at = now()
    invoice.chain_position = chain.length + 1
    invoice.previous_hash = chain.last_hash
    invoice.sha256 = document_hash(invoice, lines)
    invoice.status = InvoiceStatus.ISSUED
    invoice.save()
    _mark_invoiced(invoice, invoiced=True)
    if invoice.kind == InvoiceKind.INVOICE:  # a credit note's lines bill no entries
        keep_billed_work([invoice.pk])
    chain.length = invoice.chain_position
    chain.last_hash = invoice.sha256
    chain.save(update_fields=["length", "last_hash"])
    pdf = _store_pdf(invoice)
    _event(
        invoice,
        EventKind.ISSUED,
        by,
        number=invoice.number,
        sha256=invoice.sha256,
        pdf_sha256=pdf.sha256,
    )


def _mark_invoiced(invoice: Invoice, *, invoiced: bool) -> None:
    """Set TimeEntry.invoiced on the entries billed on this invoice's lines.

    The two places an entry's "on an issued invoice" changes call this in their own
    transaction: issuing (drafts, schedules, recurring runs and retainer closes all issue
    through _issue) and a full credit note, which deletes the billed rows. A partial credit
    keeps them, so its entries stay invoiced. Drafts never set the flag: deleting a draft or
    one of its lines takes off rows whose entries were never flagged. `updated_at` stays:
    the tracked time did not change."""
    TimeEntry.objects.filter(billing__line__invoice=invoice).update(invoiced=invoiced)


def _tax_currency(invoice: Invoice, tax_total: Decimal) -> dict[str, str] | None:
    """The VAT in the organization's own currency when the invoice is in another (BT-111).

    The rate is the recorded one (ECB or manual) on the issue date; a credit note uses its
    invoice's rate, so it reverses exactly what was declared."""
    from punchclock.expenses.services import conversion

    home = invoice.organization.default_currency
    if invoice.currency == home or not tax_total:
        return None
    original = invoice.credits.snapshot.get("tax_currency") if invoice.credits else None
    if original and original.get("code") == home:
        rate, rate_date, source = Decimal(original["rate"]), original["rate_date"], "invoice"
    else:
        assert invoice.issue_date is not None
        found = conversion(invoice.organization, invoice.currency, home, invoice.issue_date)
        rate = found.rate
        rate_date = found.rate_date.isoformat() if found.rate_date else ""
        source = found.source
    amount = round_money(tax_total * rate, home)
    return {
        "code": home,
        "rate": f"{rate:f}",
        "rate_date": rate_date,
        "source": source,
        "tax_total": f"{amount:f}",
    }


def _store_pdf(invoice: Invoice) -> InvoiceDocument:
    """Render the issued invoice once, as Factur-X when EN 16931 can express it.

    A template that fails, or an e-invoice that would break the official rules, rolls the
    whole issue back with the reason."""
    from punchclock.invoicing.documents.pdf import DocumentError, language_of, render_pdf

    try:
        content = render_pdf(invoice)
    except DocumentError as exc:
        raise field_error("template", f"The invoice could not be rendered: {exc}") from exc
    xml = checked_einvoice(invoice)
    if xml is not None:
        from punchclock.invoicing.documents.einvoice.formats import embed_facturx

        content = embed_facturx(content, xml, lang=language_of(invoice))
    return InvoiceDocument.objects.create(
        invoice=invoice,
        kind="pdf",
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
    )


def checked_einvoice(invoice: Invoice) -> bytes | None:
    """The issued document's CII, checked against EN 16931 and the client's format.

    None when EN 16931 cannot express the document at all (a second tax, three-decimal
    currencies); a ValidationError naming the rules when the e-invoice would be invalid."""
    from punchclock.invoicing.documents.einvoice import formats, validation
    from punchclock.invoicing.documents.einvoice.model import EInvoiceError, from_invoice

    if formats.not_applicable(invoice):
        return None
    try:
        model = from_invoice(invoice)
    except EInvoiceError as exc:
        raise field_error("einvoice", f"The e-invoice cannot be made: {exc}") from exc
    wanted = invoice.snapshot.get("einvoice_format", "")
    if wanted in formats.FORMATS:
        try:
            formats.write(invoice, wanted, model)
        except EInvoiceError as exc:
            raise field_error("einvoice", f"For {invoice.client.name}: {exc}") from exc
    xml = formats.write(invoice, "cii", model)
    report = validation.validate(xml)
    if not report.valid:
        broken = "; ".join(f"{f.rule}: {f.message}" for f in report.errors[:5])
        raise field_error("einvoice", f"The e-invoice would break EN 16931 rules: {broken}")
    return xml


def stored_pdf(invoice: Invoice) -> InvoiceDocument | None:
    return InvoiceDocument.objects.filter(invoice=invoice, kind="pdf").first()


# Credit notes --------------------------------------------------------------------------


def credit_invoice(
    invoice: Invoice,
    *,
    by: Membership,
    lines: Sequence[InvoiceLine] | None = None,
    issue_date: date | None = None,
    series: NumberSeries | None = None,
) -> Invoice:
    """An issued credit note cancelling the whole invoice (releasing its work) or some lines."""
    _require_biller(by, invoice.organization_id)
    with transaction.atomic():
        original = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if original.status != InvoiceStatus.ISSUED or original.kind != InvoiceKind.INVOICE:
            raise ValidationError("Only issued invoices can be credited.")
        remaining = list(original.lines.filter(credited_by__isnull=True).order_by("position"))
        if lines is None:
            chosen = remaining
        else:
            wanted = {line.pk for line in lines}
            chosen = [line for line in remaining if line.pk in wanted]
            if len(chosen) != len(wanted):
                raise field_error(
                    "lines", "Some lines are not on this invoice or already credited."
                )
        if not chosen:
            raise field_error("lines", f"Invoice {original.number} is already fully credited.")
        note = Invoice.objects.create(
            organization=original.organization,
            client=original.client,
            kind=InvoiceKind.CREDIT_NOTE,
            credits=original,
            currency=original.currency,
            language=original.language,
            discount_percent=original.discount_percent,
            surcharge_percent=original.surcharge_percent,
            surcharge_reason=original.surcharge_reason,
            tax_note=original.tax_note,
            message=f"Credit note for invoice {original.number}.",
            created_by=by.user,
        )
        for position, line in enumerate(chosen, 1):
            _new_line(
                note,
                position=position,
                description=line.description,
                quantity=-line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                surcharge_percent=line.surcharge_percent,
                tax_category=line.tax_category,
                tax_rate=line.tax_rate,
                additional_tax_name=line.additional_tax_name,
                additional_tax_rate=line.additional_tax_rate,
                credits_line=line,
            )
        _event(note, EventKind.CREATED, by, credits=original.number)
        _issue(note, by=by, issue_date=issue_date, series=series or original.series)
        released = 0
        if lines is None:
            # A full credit cancels the invoice: its time and expenses can be billed again.
            _mark_invoiced(original, invoiced=False)
            # The kept sums go first: a trigger refuses to take billed rows off an issued
            # line while its kept work still counts them.
            BilledWork.objects.filter(line__invoice=original).delete()
            for model in (BilledEntry, BilledExpense, BilledFixedFee):
                released += model.objects.filter(line__invoice=original).delete()[0]
        _event(original, EventKind.CREDITED, by, credit_note=note.number, released=released)
    return note


# The chain -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    position: int
    invoice: Invoice | None
    reason: str


def verify_chain(organization: Organization) -> ChainBreak | None:
    """Recompute every issued document's hash in order; the first that does not fit."""
    previous = ""
    position = 0
    documents = (
        Invoice.objects.filter(organization=organization, status=InvoiceStatus.ISSUED)
        .prefetch_related("lines")
        .order_by("chain_position")
    )
    for document in documents.iterator(chunk_size=200):
        position += 1
        if document.chain_position != position:
            return ChainBreak(position, document, f"document {position} is missing")
        if document.previous_hash != previous:
            return ChainBreak(position, document, "previous hash does not match")
        if document_hash(document, list(document.lines.all())) != document.sha256:
            return ChainBreak(position, document, "content was altered")
        previous = document.sha256
    head = InvoiceChain.objects.filter(organization=organization).first()
    if head is not None and (head.length != position or head.last_hash != previous):
        return ChainBreak(position + 1, None, "documents at the end of the chain are missing")
    return None
