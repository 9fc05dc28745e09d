"""Reminders (dunning): which open invoice gets which reminder today, each step exactly once.

The steps of an invoice follow the organization's active levels in order: level 1, 2, 3
on their days (the due date plus `days_after_due`), then the repeating level 4 every
`repeat_every_days`. The rule for late or missed days: a level waits until the previous
reminder has gone out, and then keeps its distance from it (level 3 comes at least
days₃ − days₂ after level 2 went out), so an invoice that is months overdue when
reminders are switched on is walked through the levels at their normal pace, not on three
consecutive days. No reminder goes out on the day the invoice was issued. Late-fee
documents are not themselves reminded (that would charge fees on fees).

Exactly once: a step is claimed by inserting its `ReminderSent` row (unique on invoice,
level, repetition) in one transaction that locks the invoice as payments do, re-reads its
balance, issues the step's late fee and saves the email's recipients on the row. A second
worker queues on that lock (PostgreSQL) or the write lock (SQLite), then collides with the
unique row and skips. A crash before the commit rolls back the claim and its late fee
together: the step is simply due again.

At most one email: the row's status becomes "unconfirmed" (with the recipients, one more
attempt counted) in a commit *before* the message goes to the mail server, "sent" (and
`sent_at`) after. A row left "unconfirmed" was being handed over by a worker that stopped
before it could confirm: the mail may have gone, so no run sends it again by itself; the
pages show it as unconfirmed and a person can send it again. A refusing mail server puts
the row back to "waiting", and the next run delivers the step after
checking the balance again under the lock: an invoice paid or credited in between gets no
reminder, and the step's late fee is cancelled by a credit note.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Min, QuerySet

from punchclock.accounts.models import Membership, Organization, Role
from punchclock.automation import reminder_text as text
from punchclock.automation.models import LateFee, ReminderLevel, ReminderSent, ReminderStatus
from punchclock.automation.reminder_settings import levels_of, require_biller
from punchclock.core.money import round_money
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing import sending
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import Invoice, TaxCategory, Unit
from punchclock.payments.balances import Balance, balance_of, owing, with_balances

log = logging.getLogger(__name__)

REPEATING = 4
FIXED_LEVELS = (1, 2, 3)
WITHDRAWN = "Withdrawn: "  # the message of a step that must not go out any more


class State:
    """Where a claimed step stands: its row's status."""

    WAITING = ReminderStatus.WAITING.value  # claimed, not yet handed to the mail server
    UNCONFIRMED = ReminderStatus.UNCONFIRMED.value  # handed over, not confirmed (yet)
    SENT = ReminderStatus.SENT.value
    WITHDRAWN = ReminderStatus.WITHDRAWN.value  # paid or credited before it went out

    LABELS = {
        WAITING: "Waiting to be sent",
        UNCONFIRMED: "Not confirmed",
        SENT: "Sent",
        WITHDRAWN: "Withdrawn",
    }


def state_of(reminder: ReminderSent) -> str:
    return str(reminder.status)


def today_for(organization: Organization) -> date:
    """Reminder days turn at midnight in the organization's zone, not the server's."""
    return local_date(now(), organization.timezone)


# What is due ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One reminder to send: this invoice, this level, this repetition of it, due on `day`."""

    invoice: Invoice
    level: ReminderLevel
    repetition: int
    day: date


def open_invoices(organization: Organization, *, due_by: date) -> QuerySet[Invoice]:
    """Issued invoices due by `due_by` that still owe something, with balances and history."""
    late_fees = ReminderSent.objects.filter(
        invoice__organization=organization, late_fee_invoice__isnull=False
    ).values("late_fee_invoice")
    invoices = Invoice.objects.filter(organization=organization, due_date__lte=due_by)
    return (
        owing(invoices.exclude(pk__in=late_fees))
        .select_related("client", "organization")
        .prefetch_related("reminders")
        .order_by("due_date", "pk")
    )


def due(organization: Organization, today: date) -> list[Step]:
    """The next step of every open invoice whose day has come (at most one per invoice)."""
    levels = {row.level: row for row in levels_of(organization)}
    active = [row for row in levels.values() if row.is_active]
    if not active:
        return []
    earliest = min(row.days_after_due for row in active)
    steps = []
    for invoice in open_invoices(organization, due_by=today - timedelta(days=earliest)):
        if not balance_of(invoice, today).is_open:
            continue
        step = next_step(invoice, levels, list(invoice.reminders.all()), today)
        if step is not None:
            steps.append(step)
    return steps


def next_step(
    invoice: Invoice,
    levels: dict[int, ReminderLevel],
    history: list[ReminderSent],
    today: date,
) -> Step | None:
    """The invoice's next step if its day has come (see the module docstring for the rule).

    `levels` holds every level, switched off or not: a level switched off after it went
    out still sets the distance to the next one."""
    if invoice.due_date is None or invoice.issue_date is None:
        return None  # not issued
    if any(state_of(row) == State.WAITING for row in history):
        return None  # the previous one has not gone out yet: it goes first
    zone = invoice.organization.timezone
    last = max(history, key=lambda row: (row.level, row.repetition), default=None)
    last_day = local_date(last.sent_at or last.created_at, zone) if last else None
    reached = last.level if last else 0
    active = {number: row for number, row in levels.items() if row.is_active}
    fixed = [active[n] for n in FIXED_LEVELS if n in active and n > reached]
    if fixed:
        level, repetition = fixed[0], 0
        day = invoice.due_date + timedelta(days=level.days_after_due)
        if last is not None and last_day is not None:
            before = levels.get(last.level)
            gap = level.days_after_due - before.days_after_due if before else 1
            day = max(day, last_day + timedelta(days=max(gap, 1)))
    elif REPEATING in active:
        level = active[REPEATING]
        repetition = last.repetition + 1 if last and last.level == REPEATING else 0
        day = invoice.due_date + timedelta(days=level.days_after_due)
        if last_day is not None:
            day = max(day, last_day + timedelta(days=level.repeat_every_days))
    else:
        return None
    day = max(day, invoice.issue_date + timedelta(days=1))
    return Step(invoice, level, repetition, day) if day <= today else None


# Sending ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    invoice: Invoice
    level: int
    repetition: int
    status: str  # a State, or "skipped" / "failed" when nothing was claimed
    message: str = ""
    late_fee: Invoice | None = None


def acting_member(organization: Organization) -> Membership | None:
    """Whose authority late fees are issued with when the worker runs: an owner, else admin."""
    members = Membership.objects.filter(
        organization=organization, is_active=True, role__in=[Role.OWNER, Role.ADMIN]
    ).select_related("user", "organization")
    return min(members, key=lambda m: (m.role != Role.OWNER, m.pk), default=None)


def send_due(
    today: date | None = None,
    *,
    organization: Organization | None = None,
    by: Membership | None = None,
) -> list[Outcome]:
    """Send every reminder due today, each once; deliver claimed ones not yet sent first."""
    if organization is not None:
        organizations: Sequence[Organization] = [organization]
    else:
        organizations = list(
            Organization.objects.filter(reminder_levels__is_active=True).distinct()
        )
    outcomes: list[Outcome] = []
    for found in organizations:
        outcomes += _send_for(found, today or today_for(found), by or acting_member(found))
    return outcomes


def organizations_due() -> set[int]:
    """Organizations that may have a reminder to send now, in four queries for all of them.

    A cheap superset: an organization with active levels and an open invoice past the day
    of its earliest level, or with a claimed step not yet sent. Whether the invoice's next
    step has come is left to the organization's job (it reads each invoice's history)."""
    earliest = dict(
        ReminderLevel.objects.filter(is_active=True)
        .values("organization_id")
        .annotate(days=Min("days_after_due"))
        .values_list("organization_id", "days")
    )
    zones = dict(Organization.objects.filter(pk__in=earliest).values_list("pk", "timezone"))
    cutoffs = {
        pk: local_date(now(), zone) - timedelta(days=earliest[pk]) for pk, zone in zones.items()
    }
    found: set[int] = set()
    if cutoffs:
        invoices = Invoice.objects.filter(
            organization_id__in=cutoffs, due_date__lte=max(cutoffs.values())
        )
        first_due = owing(invoices).values("organization_id").annotate(first=Min("due_date"))
        for row in first_due.values_list("organization_id", "first"):
            if row[1] <= cutoffs[row[0]]:
                found.add(row[0])
    unsent = ReminderSent.objects.filter(status=State.WAITING).values_list(
        "invoice__organization_id", flat=True
    )
    return found | set(unsent.distinct())


def _send_for(organization: Organization, today: date, by: Membership | None) -> list[Outcome]:
    outcomes: list[Outcome | None] = []
    for row in waiting(organization):
        try:
            outcomes.append(deliver(row, today=today, by=by))
        except (ValidationError, PermissionDenied) as exc:
            outcomes.append(_failed(row.invoice, row.level, row.repetition, exc))
    for step in due(organization, today):
        if not step.invoice.client.email:
            message = _no_email(step.invoice)
            outcomes.append(
                Outcome(step.invoice, step.level.level, step.repetition, "skipped", message)
            )
            continue
        try:
            outcomes.append(send_step(step, today=today, by=by))
        except (ValidationError, PermissionDenied) as exc:
            outcomes.append(_failed(step.invoice, step.level.level, step.repetition, exc))
    return [outcome for outcome in outcomes if outcome is not None]


def _failed(
    invoice: Invoice, level: int, repetition: int, exc: ValidationError | PermissionDenied
) -> Outcome:
    """Nothing was sent or charged (the transaction rolled back); the next run tries again."""
    message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    log.warning("Reminder %s for %s not sent: %s", level, invoice.number, message)
    return Outcome(invoice, level, repetition, "failed", message)


def _no_email(invoice: Invoice) -> str:
    return f"{invoice.client.name} has no billing email; add one and the reminder goes out."


def waiting(organization: Organization) -> list[ReminderSent]:
    """Claimed steps that have not gone out: the mail server refused, or there was no address."""
    unsent = ReminderSent.objects.filter(
        invoice__organization=organization, status=State.WAITING
    ).select_related("invoice")
    return list(unsent.order_by("pk"))


def _locked(invoice_id: int, today: date) -> tuple[Invoice, Balance]:
    """The invoice locked as payments lock it, then its balance read in a new statement.

    Payments and credit notes take the same lock, so none lands between this read and the
    commit; the second statement sees the payment a waiting lock let through."""
    Invoice.objects.select_for_update(no_key=True).filter(pk=invoice_id).values_list("pk").get()
    invoice = (
        with_balances(Invoice.objects.filter(pk=invoice_id))
        .select_related("client", "organization")
        .get()
    )
    return invoice, balance_of(invoice, today)


def send_step(step: Step, *, today: date, by: Membership | None) -> Outcome | None:
    """Claim a step, charge its late fee and send it; None when it is taken or was paid."""
    try:
        with transaction.atomic():
            invoice, balance = _locked(step.invoice.pk, today)
            if not balance.is_open:
                return None
            row = ReminderSent.objects.create(
                invoice=invoice,
                level=step.level.level,
                repetition=step.repetition,
                balance=balance.balance,
            )
            if step.level.late_fee != LateFee.NONE:
                row.late_fee_invoice = _issue_late_fee(invoice, step, balance, today, by)
            email = _prepare(row, invoice, balance, today)
    except IntegrityError:
        return None  # another run claimed this step first
    return _hand_over(row, invoice, email)


def late_fee_amount(level: ReminderLevel, balance: Balance) -> Decimal:
    """A fixed fee in the invoice's currency, or a percentage of what is still open."""
    if level.late_fee == LateFee.PERCENT:
        return round_money(balance.balance * level.late_fee_amount / 100, balance.currency)
    return round_money(level.late_fee_amount, balance.currency)


def _issue_late_fee(
    invoice: Invoice, step: Step, balance: Balance, today: date, by: Membership | None
) -> Invoice | None:
    """A new, numbered invoice of one line; the reminded invoice itself never changes.

    Untaxed fees are compensation, not a supply (not subject to VAT, category O), and
    EN 16931 lets O share a document with nothing else, so the fee has a document of its
    own either way. None when a percentage of a small balance rounds to nothing."""
    amount = late_fee_amount(step.level, balance)
    if amount <= 0:
        return None
    if by is None:
        raise ValidationError(
            "No active owner or admin can issue the late fee; the reminder waits for one."
        )
    client = invoice.client
    if client.currency != invoice.currency:
        raise ValidationError(
            f"{client.name} is now billed in {client.currency}, but {invoice.number} is in "
            f"{invoice.currency}; the late fee cannot be charged in either."
        )
    language = text.language_of(invoice.language)
    description = text.LATE_FEE_LINE[language].format(
        number=invoice.number, step=step.level.level + step.repetition
    )
    if step.level.late_fee_taxed:
        category, rate = invoicing.default_tax(client)
    else:
        category, rate = TaxCategory.NOT_SUBJECT, Decimal(0)
    draft = invoicing.start_draft(client, by=by)
    invoicing.update_details(
        draft,
        by=by,
        message=description + ".",
        tax_note=invoice.tax_note if category == TaxCategory.EXEMPT else "",
        purchase_order_reference=invoice.purchase_order_reference,
    )
    invoicing.add_line(
        draft,
        by=by,
        description=description,
        quantity=Decimal(1),
        unit=Unit.PIECE,
        unit_price=amount,
        tax_category=category,
        tax_rate=rate,
    )
    return invoicing.issue_invoice(draft, by=by, issue_date=today)


def deliver(reminder: ReminderSent, *, today: date, by: Membership | None) -> Outcome | None:
    """Send a claimed step that has not gone out; None when another run got to it first."""
    with transaction.atomic():
        invoice, balance = _locked(reminder.invoice_id, today)
        row = (
            ReminderSent.objects.select_for_update(of=("self",))
            .select_related("late_fee_invoice")
            .get(pk=reminder.pk)
        )
        if state_of(row) != State.WAITING:
            return None
        if not balance.is_open:
            message = _withdraw(row, invoice, by)
            status = State.WITHDRAWN
            return Outcome(
                invoice, row.level, row.repetition, status, message, row.late_fee_invoice
            )
        email = _prepare(row, invoice, balance, today)
    return _hand_over(row, invoice, email)


def _prepare(
    row: ReminderSent, invoice: Invoice, balance: Balance, today: date
) -> EmailMessage | None:
    """The email, and its recipients saved on the row; None when the client has no address.

    The "unconfirmed" status marks the step as handed over: from the commit on, no run sends it by
    itself again."""
    recipients = sending.default_recipients(invoice)
    email = None
    if recipients.to:
        email = _email(row, invoice, balance, today, recipients)
        row.recipients = [*recipients.to, *recipients.cc, *recipients.bcc]
        row.message = ""
        row.status = State.UNCONFIRMED
        row.attempts += 1
    else:
        row.message = f"Not sent yet: {_no_email(invoice)}"
    row.balance = balance.balance
    row.save(
        update_fields=["recipients", "message", "balance", "late_fee_invoice", "status", "attempts"]
    )
    return email


def _hand_over(row: ReminderSent, invoice: Invoice, email: EmailMessage | None) -> Outcome:
    """Give the email to the mail server; refused, the step waits for the next run."""
    fee = row.late_fee_invoice
    outcome = Outcome(invoice, row.level, row.repetition, State.WAITING, row.message, fee)
    if email is None:
        return outcome
    try:
        email.send()
    except (smtplib.SMTPException, OSError) as exc:
        # The server said no, so the mail did not go: it may be sent on the next run.
        outcome.message = f"Not sent yet: the mail server did not take it ({exc})."
        ReminderSent.objects.filter(pk=row.pk, sent_at=None).update(
            recipients=[], message=outcome.message, status=State.WAITING
        )
        log.warning("Reminder %s for %s: %s", row.level, invoice.number, outcome.message)
        return outcome
    ReminderSent.objects.filter(pk=row.pk).update(sent_at=now(), status=State.SENT)
    outcome.status = State.SENT
    return outcome


def _withdraw(row: ReminderSent, invoice: Invoice, by: Membership | None) -> str:
    """Paid or credited since the claim: no reminder, and its late fee cancelled."""
    row.message = f"{WITHDRAWN}{invoice.number} was paid or credited before it went out."
    row.status = State.WITHDRAWN
    fee = row.late_fee_invoice
    if fee is not None:
        try:
            if by is None:
                raise PermissionDenied("no active owner or admin can credit it")
            note = invoicing.credit_invoice(fee, by=by)
        except (ValidationError, PermissionDenied) as exc:
            reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            row.message += f" Late fee {fee.number} is still charged ({reason})."
        else:
            row.message += f" Late fee {fee.number} cancelled by credit note {note.number}."
    row.save(update_fields=["message", "status"])
    return row.message


def _email(
    row: ReminderSent,
    invoice: Invoice,
    balance: Balance,
    today: date,
    recipients: sending.Recipients,
) -> EmailMessage:
    subject, body = text.wording(invoice, row.level, balance, today, row.late_fee_invoice)
    organization = invoice.organization
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].split("@")[-1]
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=sending._sender(organization),
        to=recipients.to,
        cc=recipients.cc,
        bcc=recipients.bcc,
        reply_to=[organization.email] if organization.email else None,
        headers={"Message-ID": make_msgid(domain=domain)},
    )
    for document in filter(None, (invoice, row.late_fee_invoice)):
        pdf = invoicing.stored_pdf(document)
        if pdf is not None:
            message.attach(f"{document.number}.pdf", bytes(pdf.content), "application/pdf")
    return message


def send_again(reminder: ReminderSent, *, by: Membership) -> Outcome | None:
    """A person sends an unconfirmed reminder again, having checked it did not arrive."""
    organization = reminder.invoice.organization
    require_biller(by, organization)
    with transaction.atomic():
        row = ReminderSent.objects.select_for_update().get(pk=reminder.pk)
        if state_of(row) != State.UNCONFIRMED:
            raise ValidationError("Only a reminder whose sending was not confirmed is sent again.")
        row.recipients, row.status = [], State.WAITING
        row.save(update_fields=["recipients", "status"])
    return deliver(row, today=today_for(organization), by=by)
