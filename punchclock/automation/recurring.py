"""Recurring invoices: fixed lines billed once per period, exactly once, as schedules are.

A period is claimed by inserting its `RecurringRun` in the same transaction that drafts
(and issues) its invoice, as billing schedules do (see services.run_period): a second
scheduler blocks on the unique index until the first commits, then finds the period
taken; a crash rolls back both. Sending leaves the transaction and reuses the schedules'
retried sending; the "draft ready" email is theirs too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can, require
from punchclock.automation import notifications
from punchclock.automation import recurring_periods as plans
from punchclock.automation.models import (
    Action,
    Billing,
    RecurringFrequency,
    RecurringInvoice,
    RecurringLine,
    RecurringRun,
    RunStatus,
)
from punchclock.automation.periods import Period
from punchclock.automation.recurring_periods import Cycle, Plan
from punchclock.automation.recurring_save import LineSpec as LineSpec
from punchclock.automation.recurring_save import save_recurring as save_recurring
from punchclock.automation.services import (
    RUN_ATTEMPTS,
    WOULD,
    _ordinal,
    after_commit,
    send_run,
)
from punchclock.clients.models import Client
from punchclock.core.services import field_error
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import Invoice, TaxCategory
from punchclock.invoicing.totals import LineInput, Tax, compute_totals

log = logging.getLogger(__name__)
MOST_DUE = 60  # periods billed per run at most; a long-stopped worker catches up over days
SOURCE = "The recurring invoice"


def plan_of(recurring: RecurringInvoice) -> Plan:
    months = plans.MONTHS_OF.get(recurring.frequency, recurring.interval_months)
    return Plan(
        starts_on=recurring.starts_on,
        day_of_month=recurring.day_of_month,
        months=months,
        in_advance=recurring.billing == Billing.ADVANCE,
        ends_on=recurring.ends_on,
        cycles=recurring.cycles,
    )


def today_for(recurring: RecurringInvoice) -> date:
    """The organization's local date: a run happens on the local issue day."""
    return local_date(now(), recurring.organization.timezone)


# Prices, placeholders and the estimate ----------------------------------------------------


def price_on(line: RecurringLine, day: date) -> Decimal:
    """The line's unit price for a period starting on `day`: the latest change by then."""
    price = line.unit_price
    for change in sorted(line.prices.all(), key=lambda c: c.effective_from):
        if change.effective_from <= day:
            price = change.unit_price
    return price


def lines_of(recurring: RecurringInvoice) -> list[RecurringLine]:
    """Its lines with their price changes, read once (or as prefetched by the caller)."""
    if "lines" not in getattr(recurring, "_prefetched_objects_cache", {}):
        prefetch_related_objects([recurring], "lines__prices")
    return list(recurring.lines.all())


def _tax(line: RecurringLine, client: Client) -> tuple[str, Decimal]:
    if line.tax_category:
        return line.tax_category, line.tax_rate if line.tax_rate is not None else Decimal(0)
    return invoicing.default_tax(client, line.tax_rate)


@dataclass(frozen=True)
class PlannedLine:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    net: Decimal


@dataclass(frozen=True)
class Estimate:
    """What one period's invoice would hold: its lines resolved, and its totals."""

    cycle: Cycle
    name: str
    lines: list[PlannedLine]
    net: Decimal
    tax: Decimal
    gross: Decimal
    currency: str
    note: str = ""
    problem: str = ""  # the tax could not be worked out (the run would fail)

    @property
    def period(self) -> Period:
        return self.cycle.period

    def __str__(self) -> str:
        day = self.period.run_on.strftime("%-d %b")
        first = self.lines[0].description if self.lines else self.name
        more = len(self.lines) - 1
        extra = f" + {more} more line{'s' * (more != 1)}" if more > 0 else ""
        tax = " + VAT" if self.tax else ""
        return f"on {day}: {first}{extra} — {self.net:,.2f} {self.currency}{tax}"


def estimate(recurring: RecurringInvoice, cycle: Cycle) -> Estimate:
    """The invoice a period would get, computed as issuing would (rounded per line)."""
    client = recurring.client
    values = plans.placeholder_values(cycle, client.language)
    planned, inputs, problem = [], [], ""
    for line in lines_of(recurring):
        price = price_on(line, cycle.period.start)
        try:
            category, rate = _tax(line, client)
        except ValidationError as exc:
            category, rate, problem = TaxCategory.STANDARD, Decimal(0), " ".join(exc.messages)
        item = LineInput(line.quantity, price, (Tax(category, rate),))
        inputs.append(item)
        planned.append(
            PlannedLine(
                plans.fill(line.description, values), line.quantity, line.unit, price, Decimal(0)
            )
        )
    totals = compute_totals(inputs, currency=client.currency)
    planned = [
        PlannedLine(p.description, p.quantity, p.unit, p.unit_price, net)
        for p, net in zip(planned, totals.line_nets, strict=True)
    ]
    return Estimate(
        cycle,
        recurring.name,
        planned,
        totals.net_total,
        totals.tax_total,
        totals.gross_total,
        client.currency,
        plans.fill(recurring.note, values),
        problem,
    )


def preview(recurring: RecurringInvoice, *, today: date | None = None) -> Estimate | None:
    """The next period to be issued after today, and what it would bill."""
    cycle = plans.next_cycle(plan_of(recurring), after=today or today_for(recurring))
    return estimate(recurring, cycle) if cycle is not None else None


# Running ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    recurring: RecurringInvoice
    cycle: Cycle
    status: str
    invoice: Invoice | None = None
    message: str = ""

    @property
    def period(self) -> Period:
        return self.cycle.period


def _retryable(run: RecurringRun, recurring: RecurringInvoice, today: date) -> bool:
    """A failed period is tried again once a day on later days, RUN_ATTEMPTS times at most."""
    if run.status != RunStatus.FAILED or run.attempts >= RUN_ATTEMPTS:
        return False
    return local_date(run.updated_at, recurring.organization.timezone) < today


def due(recurring: RecurringInvoice, *, today: date | None = None) -> list[Cycle]:
    """Periods whose issue day has come and that no run covers, oldest first.

    A period is covered when a run's span holds its first day: after the frequency or the
    first day changed, no day already billed is billed again."""
    today = today or today_for(recurring)
    spans = sorted(
        (run.period_start, run.period_end)
        for run in recurring.runs.all()  # prefetched by run_due for all of them at once
        if not _retryable(run, recurring, today)
    )
    found = []
    for cycle in plans.cycles_through(plan_of(recurring), through=today):
        start = cycle.period.start
        if not any(first <= start <= last for first, last in spans):
            found.append(cycle)
            if len(found) >= MOST_DUE:
                break
    return found


def _active(organization_id: int | None) -> QuerySet[RecurringInvoice]:
    chosen = RecurringInvoice.objects.filter(is_active=True, deleted_at__isnull=True)
    if organization_id is not None:
        chosen = chosen.filter(organization_id=organization_id)
    # Lines are read only when a period is billed: most days nothing is due.
    return (
        chosen.select_related(
            "organization", "client__organization", "run_as__user", "run_as__organization"
        )
        .prefetch_related("runs")
        .order_by("pk")
    )


def run_due(*, today: date | None = None, organization_id: int | None = None) -> list[Outcome]:
    """Bill every active recurring invoice's due periods (of one organization when given),
    then retry sends that failed before."""
    outcomes: list[Outcome] = []
    for recurring in _active(organization_id):
        for cycle in due(recurring, today=today):
            outcome = run_cycle(recurring, cycle, today=today)
            if outcome is not None:
                outcomes.append(outcome)
    retry_sends(organization_id=organization_id)
    return outcomes


def organizations_due(*, today: date | None = None) -> set[int]:
    """Organizations with a recurring invoice's period due or an issued one still to send:
    the tick's question, three queries however many recurring invoices (their runs are
    read in one prefetch)."""
    found: set[int] = set()
    for recurring in _active(None):
        if recurring.organization_id not in found and due(recurring, today=today):
            found.add(recurring.organization_id)
    unsent = RecurringRun.objects.filter(
        status=RunStatus.ISSUED, recurring__action=Action.SEND, invoice__isnull=False
    )
    return found | set(unsent.values_list("recurring__organization_id", flat=True).distinct())


def run_cycle(
    recurring: RecurringInvoice, cycle: Cycle, *, today: date | None = None
) -> Outcome | None:
    """Bill one period; None when another run has taken it. Issued on the day of the run."""
    today = today or today_for(recurring)
    period = cycle.period
    try:
        with transaction.atomic():
            run, created = RecurringRun.objects.select_for_update().get_or_create(
                recurring=recurring,
                period_start=period.start,
                defaults={
                    "period_end": period.end,
                    "run_on": period.run_on,
                    "cycle": cycle.number,
                    "status": RunStatus.FAILED,  # set for real below, in this transaction
                },
            )
            if not created:
                if not _retryable(run, recurring, today):
                    return None  # another scheduler took this period
                run.attempts += 1
                run.save(update_fields=["attempts"])
            outcome = _bill(recurring, cycle, run, issue_on=today)
            if outcome.status == RunStatus.DRAFTED and outcome.invoice is not None:
                # Told in the run's transaction: a draft is announced once, with its run.
                notifications.draft_ready(
                    outcome.invoice, period=str(period), source=f"{SOURCE} “{recurring.name}”"
                )
    except IntegrityError:
        return None  # another scheduler took this period (or the invoice was just deleted)
    return after_commit(run, outcome, action=recurring.action)


def _bill(
    recurring: RecurringInvoice, cycle: Cycle, run: RecurringRun, *, issue_on: date
) -> Outcome:
    """Draft (and issue) the period's invoice inside the run's transaction."""
    by = recurring.run_as
    if not by.is_active or not can(by, "invoices.manage"):
        return _record(run, recurring, cycle, RunStatus.FAILED, None, _no_authority(by))
    period = cycle.period
    values = plans.placeholder_values(cycle, recurring.client.language)
    try:
        with transaction.atomic():
            draft = invoicing.start_draft(
                recurring.client, by=by, period_start=period.start, period_end=period.end
            )
            for line in lines_of(recurring):
                category, rate = _tax(line, recurring.client)
                invoicing.add_line(
                    draft,
                    by=by,
                    description=plans.fill(line.description, values),
                    quantity=line.quantity,
                    unit=line.unit,
                    unit_price=price_on(line, period.start),
                    tax_category=category,
                    tax_rate=rate,
                )
            note = plans.fill(recurring.note, values).strip()
            if note:
                draft = invoicing.update_details(draft, by=by, message=note)
            if recurring.action == Action.DRAFT:
                return _record(run, recurring, cycle, RunStatus.DRAFTED, draft, "")
            issued = invoicing.issue_invoice(draft, by=by, issue_date=issue_on)
    except ValidationError as exc:
        return _record(run, recurring, cycle, RunStatus.FAILED, None, " ".join(exc.messages))
    return _record(run, recurring, cycle, RunStatus.ISSUED, issued, "")


def _no_authority(by: Membership) -> str:
    return (
        f"{by.user.display_name} may no longer issue invoices for this organization; "
        "save the recurring invoice again as an owner or admin."
    )


def _record(
    run: RecurringRun,
    recurring: RecurringInvoice,
    cycle: Cycle,
    status: str,
    invoice: Invoice | None,
    message: str,
) -> Outcome:
    run.status, run.invoice, run.message = status, invoice, message
    run.save(update_fields=["status", "invoice", "message", "updated_at"])
    if status == RunStatus.FAILED:
        log.warning("Recurring invoice %s, period %s: %s", recurring.pk, cycle.period, message)
    return Outcome(recurring, cycle, status, invoice, message)


def retry_sends(
    *, organization_id: int | None = None, recurring: RecurringInvoice | None = None
) -> None:
    """Send what an earlier run issued but could not send (the mail server was away)."""
    waiting = RecurringRun.objects.filter(
        status=RunStatus.ISSUED, recurring__action=Action.SEND, invoice__isnull=False
    )
    if organization_id is not None:
        waiting = waiting.filter(recurring__organization_id=organization_id)
    if recurring is not None:
        waiting = waiting.filter(recurring=recurring)
    for run in waiting:
        send_run(run)


# For the pages, the API and the CLI -------------------------------------------------------


def recurring_for(by: Membership, pk: int) -> RecurringInvoice:
    """A recurring invoice of `by`'s organization, or 404; only people who bill see them."""
    require(by, "invoices.manage")
    found = of_organization(by).filter(pk=pk).first()
    if found is None:
        raise Http404("No such recurring invoice.")
    return found


def of_organization(by: Membership) -> QuerySet[RecurringInvoice]:
    return RecurringInvoice.objects.filter(
        organization_id=by.organization_id, deleted_at__isnull=True
    ).select_related("organization", "client__organization", "run_as__user", "run_as__organization")


def due_counts(recurrings: list[RecurringInvoice]) -> dict[int, int]:
    """How many periods are due per recurring invoice (runs prefetched)."""
    return {r.pk: len(due(r)) for r in recurrings}


def frequency_text(recurring: RecurringInvoice) -> str:
    """How often, as a person says it: "Monthly on the 1st, in advance"."""
    day = f"on the {_ordinal(recurring.day_of_month)}"
    if recurring.frequency == RecurringFrequency.MONTHS:
        months = recurring.interval_months
        how = "Monthly" if months == 1 else f"Every {months} months"
    else:
        how = RecurringFrequency(recurring.frequency).label
    when = "in advance" if recurring.billing == Billing.ADVANCE else "in arrears"
    return f"{how} {day}, {when}"


def end_text(recurring: RecurringInvoice) -> str:
    if recurring.cycles is not None:
        return f"After {recurring.cycles} invoice{'s' * (recurring.cycles != 1)}"
    if recurring.ends_on is not None:
        return f"No period starting after {recurring.ends_on:%-d %b %Y}"
    return "Open-ended"


@dataclass(frozen=True)
class Planned:
    """A due period as a dry run sees it: the status it would get, and its invoice."""

    cycle: Cycle
    status: str
    message: str = ""
    estimate: Estimate | None = None

    @property
    def period(self) -> Period:
        return self.cycle.period


def dry_run(
    recurring: RecurringInvoice, *, today: date | None = None, limit: int | None = None
) -> list[Planned]:
    """What running the due periods now would do, in order; writes nothing."""
    by = recurring.run_as
    allowed = by.is_active and can(by, "invoices.manage")
    planned = []
    for cycle in due(recurring, today=today)[:limit]:
        if not allowed:
            planned.append(Planned(cycle, RunStatus.FAILED, _no_authority(by)))
            continue
        guess = estimate(recurring, cycle)
        if guess.problem:
            planned.append(Planned(cycle, RunStatus.FAILED, guess.problem, guess))
        else:
            planned.append(Planned(cycle, WOULD[recurring.action], "", guess))
    return planned


def run_now(
    recurring: RecurringInvoice, *, by: Membership, today: date | None = None
) -> list[Outcome]:
    """Run one recurring invoice's due periods now, each exactly once, as the worker would."""
    require(by, "invoices.manage")
    if recurring.organization_id != by.organization_id or recurring.deleted_at is not None:
        raise PermissionDenied("This recurring invoice belongs to another organization.")
    if not recurring.is_active:
        raise field_error("is_active", "This recurring invoice is paused: resume it to run it.")
    outcomes = []
    for cycle in due(recurring, today=today):
        outcome = run_cycle(recurring, cycle, today=today)
        if outcome is not None:  # None: a worker took the period at the same moment
            outcomes.append(outcome)
    retry_sends(recurring=recurring)
    return outcomes


def set_active(recurring: RecurringInvoice, *, by: Membership, active: bool) -> RecurringInvoice:
    """Pause or resume; resuming bills the periods that came due meanwhile, once each."""
    return save_recurring(by, recurring=recurring, is_active=active)


def delete_recurring(recurring: RecurringInvoice, *, by: Membership) -> None:
    """Stop it for good. One that never ran goes; one that ran leaves its runs and invoices."""
    require(by, "invoices.manage")
    if recurring.organization_id != by.organization_id:
        raise PermissionDenied("This recurring invoice belongs to another organization.")
    with transaction.atomic():
        # The row lock orders this against a run inserting its claim (which must read it).
        locked = RecurringInvoice.objects.select_for_update().get(pk=recurring.pk)
        if locked.runs.exists():
            locked.is_active, locked.deleted_at = False, now()
            locked.save(update_fields=["is_active", "deleted_at"])
        else:
            locked.delete()
