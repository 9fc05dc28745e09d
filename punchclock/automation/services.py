"""Billing schedules: make them, preview the next run, and run what is due, exactly once.

A period is claimed by inserting its `ScheduleRun` in the same transaction that drafts
(and issues) its invoice: a second scheduler blocks on the unique index until the first
commits, then finds the period taken; a crash rolls back both, so the period is billed on
the next try. Sending leaves the transaction: a run is committed as issued first and then
sent, so a refused or interrupted email is retried without issuing anything twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can, require
from punchclock.automation.models import (
    Action,
    BillingSchedule,
    Frequency,
    RunStatus,
    ScheduleRun,
)
from punchclock.automation.periods import Period, Rule, next_period, periods
from punchclock.core.services import field_error
from punchclock.core.timeutil import local_date, now, start_of_day
from punchclock.invoicing import sending
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import EventKind, Invoice
from punchclock.invoicing.services import GROUPINGS
from punchclock.invoicing.unbilled import client_unbilled

log = logging.getLogger(__name__)
SEND_ATTEMPTS = 5  # a send refused this often stays failed until someone looks


def rule_of(schedule: BillingSchedule) -> Rule:
    return Rule(
        frequency=schedule.frequency,
        starts_on=schedule.starts_on,
        day_of_month=schedule.day_of_month,
        interval_weeks=schedule.interval_weeks,
        ends_on=schedule.ends_on,
    )


def today_for(schedule: BillingSchedule) -> date:
    return local_date(now(), schedule.organization.timezone)


# Making schedules -------------------------------------------------------------------------


FIELDS = {
    "project",
    "frequency",
    "day_of_month",
    "interval_weeks",
    "starts_on",
    "ends_on",
    "include_time",
    "include_expenses",
    "include_fixed_fees",
    "group_by",
    "action",
    "is_active",
}


def save_schedule(
    by: Membership, *, schedule: BillingSchedule | None = None, client: Any = None, **fields: Any
) -> BillingSchedule:
    """Create (with `client`) or change a schedule; runs act with `by`'s authority."""
    require(by, "invoices.manage")
    unknown = set(fields) - FIELDS
    if unknown:
        raise TypeError(f"cannot set {', '.join(sorted(unknown))}")
    if schedule is None:
        if client is None or client.organization_id != by.organization_id:
            raise field_error("client", "Choose one of your clients.")
        schedule = BillingSchedule(organization_id=by.organization_id, client=client, run_as=by)
    elif schedule.organization_id != by.organization_id:
        raise PermissionDenied("This schedule belongs to another organization.")
    for name, value in fields.items():
        setattr(schedule, name, value)
    schedule.run_as = by
    _check(schedule)
    schedule.full_clean(exclude=["organization", "client", "run_as"])
    schedule.save()
    return schedule


def _check(schedule: BillingSchedule) -> None:
    if schedule.project is not None and schedule.project.client_id != schedule.client_id:
        raise field_error("project", "This project belongs to another client.")
    if schedule.group_by not in GROUPINGS:
        raise field_error("group_by", f"Group by one of {', '.join(GROUPINGS)}.")
    if schedule.frequency == Frequency.PROJECT_END:
        if schedule.ends_on is None:
            raise field_error("ends_on", "Say on which day the project ends.")
        if schedule.ends_on < schedule.starts_on:
            raise field_error("ends_on", "The project cannot end before the schedule starts.")
    if not (schedule.include_time or schedule.include_expenses or schedule.include_fixed_fees):
        raise field_error("include_time", "Bill at least one of time, expenses or fixed fees.")


# Preview ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    period: Period
    hours: Decimal
    expenses: int
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        day = self.period.run_on.strftime("%-d %b")
        return (
            f"on {day}: invoice for {self.hours.normalize():f} h + {self.expenses} expense"
            f"{'s' if self.expenses != 1 else ''} ≈ {self.amount:,.2f} {self.currency}"
        )


def preview(schedule: BillingSchedule) -> Preview | None:
    """What the next run would bill if the period ended now (work not yet billed)."""
    period = next_period(rule_of(schedule), after=today_for(schedule))
    if period is None:
        return None
    row = client_unbilled(schedule.client, first=period.start, last=period.end)
    hours, amount, expenses = Decimal(0), Decimal(0), 0
    for project in row.projects:
        if schedule.project_id and (
            project.project is None or project.project.pk != schedule.project_id
        ):
            continue
        if schedule.include_time:
            hours += Decimal(project.billed_seconds) / 3600
            amount += project.priced_time_amount
        if schedule.include_fixed_fees and project.fixed_fee:
            amount += project.fixed_fee
        if schedule.include_expenses:
            expenses += project.expense_count
            amount += project.expense_amount
    hours = hours.quantize(Decimal("0.01"))
    return Preview(period, hours, expenses, amount, schedule.client.currency)


# Running ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    schedule: BillingSchedule
    period: Period
    status: str
    invoice: Invoice | None = None
    message: str = ""


def due(schedule: BillingSchedule, *, today: date | None = None) -> list[Period]:
    """Periods whose day has come and that no run has taken yet."""
    today = today or today_for(schedule)
    taken = set(schedule.runs.values_list("period_start", flat=True))
    return [p for p in periods(rule_of(schedule), through=today) if p.start not in taken]


def run_due(
    *, today: date | None = None, schedules: QuerySet[BillingSchedule] | None = None
) -> list[Outcome]:
    """Run every active schedule's due periods, then retry sends that failed before."""
    outcomes: list[Outcome] = []
    chosen = schedules if schedules is not None else BillingSchedule.objects.all()
    for schedule in chosen.filter(is_active=True).select_related(
        "organization", "client", "project", "run_as__user", "run_as__organization"
    ):
        for period in due(schedule, today=today):
            outcome = run_period(schedule, period)
            if outcome is not None:
                outcomes.append(outcome)
    retry_sends()
    return outcomes


def run_period(schedule: BillingSchedule, period: Period) -> Outcome | None:
    """Bill one period of a schedule; None when another run has taken it."""
    try:
        with transaction.atomic():
            run = ScheduleRun.objects.create(
                schedule=schedule,
                period_start=period.start,
                period_end=period.end,
                run_on=period.run_on,
                status=RunStatus.EMPTY,
            )
            outcome = _bill(schedule, period, run)
    except IntegrityError:
        return None  # another scheduler took this period
    if outcome.status == RunStatus.ISSUED and schedule.action == Action.SEND:
        _send(run)
        run.refresh_from_db()
        outcome.status, outcome.message = run.status, run.message
    if outcome.status == RunStatus.DRAFTED:
        _tell_owner(schedule, outcome)
    return outcome


def _bill(schedule: BillingSchedule, period: Period, run: ScheduleRun) -> Outcome:
    """Draft (and issue) the period's invoice inside the run's transaction."""
    by = schedule.run_as
    if not by.is_active or not can(by, "invoices.manage"):
        return _record(run, schedule, period, RunStatus.FAILED, None, _no_authority(by))
    if not _has_work(schedule, period):
        return _record(run, schedule, period, RunStatus.EMPTY, None, _nothing(schedule, period))
    try:
        with transaction.atomic():
            draft = invoicing.create_draft(
                schedule.client,
                by=by,
                period_start=period.start,
                period_end=period.end,
                project=schedule.project,
                group_by=schedule.group_by,
                include_time=schedule.include_time,
                include_expenses=schedule.include_expenses,
                include_fees=schedule.include_fixed_fees,
            )
            if schedule.action == Action.DRAFT:
                return _record(run, schedule, period, RunStatus.DRAFTED, draft, "")
            issued = invoicing.issue_invoice(draft, by=by, issue_date=period.run_on)
    except ValidationError as exc:
        text = " ".join(exc.messages)
        if "no unbilled work" in text:
            return _record(run, schedule, period, RunStatus.EMPTY, None, text)
        return _record(run, schedule, period, RunStatus.FAILED, None, text)
    return _record(run, schedule, period, RunStatus.ISSUED, issued, "")


def _has_work(schedule: BillingSchedule, period: Period) -> bool:
    if schedule.include_time or schedule.include_fixed_fees:
        zone = schedule.organization.timezone
        entries = invoicing.unbilled_entries(
            schedule.client,
            start=start_of_day(period.start, zone),
            end=start_of_day(period.end + timedelta(days=1), zone),
            project=schedule.project,
        )
        if entries.exists():
            return True
    if schedule.include_expenses:
        expenses = invoicing.unbilled_expenses(
            schedule.client, first=period.start, last=period.end, project=schedule.project
        )
        if expenses.exists():
            return True
    return False


def _nothing(schedule: BillingSchedule, period: Period) -> str:
    what = schedule.project or schedule.client
    return f"No unbilled work for {what} from {period.start} to {period.end}: nothing billed."


def _no_authority(by: Membership) -> str:
    return (
        f"{by.user.display_name} may no longer issue invoices for this organization; "
        "save the schedule again as an owner or admin."
    )


def _record(
    run: ScheduleRun,
    schedule: BillingSchedule,
    period: Period,
    status: str,
    invoice: Invoice | None,
    message: str,
) -> Outcome:
    run.status, run.invoice, run.message = status, invoice, message
    run.save(update_fields=["status", "invoice", "message", "updated_at"])
    if status == RunStatus.FAILED:
        log.warning("Schedule %s, period %s: %s", schedule.pk, period, message)
    return Outcome(schedule, period, status, invoice, message)


def _send(run: ScheduleRun) -> None:
    """Send a run's issued invoice once: the run row is locked, the sent event checked."""
    with transaction.atomic():
        locked = (
            ScheduleRun.objects.select_for_update(of=("self",))
            .select_related("schedule__run_as__user", "invoice")
            .get(pk=run.pk)
        )
        if locked.status != RunStatus.ISSUED or locked.invoice is None:
            return
        if locked.invoice.events.filter(kind=EventKind.SENT).exists():
            locked.status = RunStatus.SENT
            locked.save(update_fields=["status", "updated_at"])
            return
        try:
            sending.send_invoice(locked.invoice, by=locked.schedule.run_as)
        except (ValidationError, OSError) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            locked.attempts += 1
            locked.message = f"Issued, but sending failed: {text}"
            if locked.attempts > SEND_ATTEMPTS:
                locked.status = RunStatus.FAILED
            locked.save(update_fields=["attempts", "message", "status", "updated_at"])
            log.warning("Schedule run %s: %s", locked.pk, locked.message)
            return
        locked.status, locked.message = RunStatus.SENT, ""
        locked.save(update_fields=["status", "message", "updated_at"])


def retry_sends() -> None:
    """Send what an earlier run issued but could not send (the mail server was away)."""
    waiting = ScheduleRun.objects.filter(
        status=RunStatus.ISSUED, schedule__action=Action.SEND, invoice__isnull=False
    )
    for run in waiting:
        _send(run)


def _tell_owner(schedule: BillingSchedule, outcome: Outcome) -> None:
    """The draft is ready for review: one email to whoever the runs act for."""
    invoice = outcome.invoice
    if invoice is None:
        return
    user = schedule.run_as.user
    link = f"{settings.SITE_URL}/invoices/{invoice.pk}/"
    try:
        send_mail(
            f"Draft invoice for {schedule.client.name} is ready for review",
            f"The billing schedule drafted an invoice for {schedule.client.name}, "
            f"{outcome.period}: {invoice.gross_total:.2f} {invoice.currency}.\n\n"
            f"Review and issue it: {link}\n",
            None,
            [user.email],
        )
    except OSError as exc:  # the draft exists either way; the list shows it
        log.warning("Could not tell %s about draft %s: %s", user.email, invoice.pk, exc)
