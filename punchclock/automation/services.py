"""Billing schedules: make them, preview the next run, and run what is due, exactly once.

A period is claimed by inserting its `ScheduleRun` in the same transaction that drafts
(and issues) its invoice: a second scheduler blocks on the unique index until the first
commits, then finds the period taken; a crash rolls back both, so the period is billed on
the next try. Sending leaves the transaction: a run is committed as issued first and then
sent, so a refused or interrupted email is retried without issuing anything twice.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from punchclock.accounts.models import Membership, Organization
from punchclock.accounts.permissions import can, require
from punchclock.automation import notification_mail, notifications
from punchclock.automation.models import (
    Action,
    BillingSchedule,
    Frequency,
    RecurringRun,
    RunStatus,
    ScheduleRun,
)
from punchclock.automation.periods import MOST_PERIODS, Period, Rule, next_period, periods
from punchclock.core.services import field_error
from punchclock.core.timeutil import local_date, now, start_of_day
from punchclock.invoicing import sending
from punchclock.invoicing import services as invoicing
from punchclock.invoicing.models import EventKind, Invoice
from punchclock.invoicing.services import GROUPINGS
from punchclock.invoicing.unbilled import client_unbilled

log = logging.getLogger(__name__)
SEND_ATTEMPTS = 5  # a send refused this often stays failed until someone looks
RUN_ATTEMPTS = 5  # a failed period is tried again on later days, this often at most
# Schedule days stay where period arithmetic (a year of weeks, a quarter) cannot leave the
# calendar: a schedule starting in 9999 would raise OverflowError on every preview.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


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
    for name in ("starts_on", "ends_on"):
        day = getattr(schedule, name)
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise field_error(name, f"Choose a day from {FIRST_DAY:%Y} to {LAST_DAY:%Y}.")
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
    return estimate(schedule, period)


def estimate(schedule: BillingSchedule, period: Period) -> Preview:
    """What a run of this period would bill from the work unbilled in it now."""
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
    """Periods whose day has come that no run has taken yet, or whose run failed on an
    earlier day and may try again (at most RUN_ATTEMPTS times, once a day)."""
    today = today or today_for(schedule)
    # `runs.all()` uses the runs run_due prefetched for all schedules in one query.
    taken = {
        run.period_start
        for run in schedule.runs.all()
        if not _retryable(run.status, run.attempts, run.updated_at, schedule, today)
    }
    untaken = (p for p in periods(rule_of(schedule), through=today) if p.start not in taken)
    return list(itertools.islice(untaken, MOST_PERIODS))


def _retryable(
    status: str, attempts: int, updated: Any, schedule: BillingSchedule, today: date
) -> bool:
    if status != RunStatus.FAILED or attempts >= RUN_ATTEMPTS:
        return False
    return local_date(updated, schedule.organization.timezone) < today


def run_due(
    *,
    today: date | None = None,
    schedules: QuerySet[BillingSchedule] | None = None,
    organization: Organization | None = None,
) -> list[Outcome]:
    """Run every active schedule's due periods, then retry sends that failed before; only
    `organization`'s when given (the worker's job per organization)."""
    outcomes: list[Outcome] = []
    chosen = schedules if schedules is not None else BillingSchedule.objects.all()
    if organization is not None:
        chosen = chosen.filter(organization=organization)
    active = chosen.filter(is_active=True).select_related(
        "organization", "client", "project", "run_as__user", "run_as__organization"
    )
    for schedule in active.prefetch_related("runs"):
        for period in due(schedule, today=today):
            outcome = run_period(schedule, period, today=today)
            if outcome is not None:
                outcomes.append(outcome)
    retry_sends(organization=organization)
    return outcomes


def run_period(
    schedule: BillingSchedule, period: Period, *, today: date | None = None, again: bool = False
) -> Outcome | None:
    """Bill one period of a schedule; None when another run has taken it.

    The invoice is issued on the day of the run (a period caught up late is not back-dated:
    issue dates of a series never go backwards). `again`: a person retries a failed run
    that made no invoice, whatever its day and attempts (the activity page)."""
    today = today or today_for(schedule)
    try:
        with transaction.atomic():
            run, created = ScheduleRun.objects.select_for_update().get_or_create(
                schedule=schedule,
                period_start=period.start,
                defaults={
                    "period_end": period.end,
                    "run_on": period.run_on,
                    "status": RunStatus.EMPTY,
                },
            )
            if not created:
                retried = again and run.status == RunStatus.FAILED and run.invoice_id is None
                if not retried and not _retryable(
                    run.status, run.attempts, run.updated_at, schedule, today
                ):
                    return None  # another scheduler took this period
                run.attempts += 1
                run.save(update_fields=["attempts"])
            outcome = _bill(schedule, period, run, issue_on=today)
            if outcome.status == RunStatus.DRAFTED and outcome.invoice is not None:
                # Told in the run's transaction: a draft is announced once, with its run.
                notifications.draft_ready(outcome.invoice, period=str(period))
    except IntegrityError:
        return None  # another scheduler took this period
    return after_commit(run, outcome, action=schedule.action)


class RunOutcome(Protocol):
    status: str
    message: str
    invoice: Invoice | None


def after_commit[O: RunOutcome](run: ScheduleRun | RecurringRun, outcome: O, *, action: str) -> O:
    """What follows a run's commit, for schedules and recurring invoices alike: send what it
    issued when the action says so (once, under the run's lock), and mail the news of a
    draft now (the worker is the one running anyway), not a minute on."""
    if outcome.status == RunStatus.ISSUED and action == Action.SEND:
        send_run(run)
        run.refresh_from_db()
        outcome.status, outcome.message = run.status, run.message
    if outcome.status == RunStatus.DRAFTED and outcome.invoice is not None:
        notification_mail.deliver_draft_news(outcome.invoice.pk)
    return outcome


def _bill(
    schedule: BillingSchedule, period: Period, run: ScheduleRun, *, issue_on: date
) -> Outcome:
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
            issued = invoicing.issue_invoice(draft, by=by, issue_date=issue_on)
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


def send_run(run: ScheduleRun | RecurringRun) -> None:
    """Send a run's issued invoice once: the run row is locked, the sent event checked."""
    with transaction.atomic():
        if isinstance(run, ScheduleRun):
            schedule_run = (
                ScheduleRun.objects.select_for_update(of=("self",))
                .select_related("schedule__run_as__user", "invoice")
                .get(pk=run.pk)
            )
            send_locked(schedule_run, by=schedule_run.schedule.run_as)
        else:
            recurring_run = (
                RecurringRun.objects.select_for_update(of=("self",))
                .select_related("recurring__run_as__user", "invoice")
                .get(pk=run.pk)
            )
            send_locked(recurring_run, by=recurring_run.recurring.run_as)


def send_locked(locked: ScheduleRun | RecurringRun, *, by: Membership) -> None:
    """Send a locked run's issued invoice once, unless its sent event says it went already.

    A refused send counts an attempt and is retried by later runs, up to SEND_ATTEMPTS;
    the caller holds the run's row lock until its transaction ends."""
    if locked.status != RunStatus.ISSUED or locked.invoice is None:
        return
    if locked.invoice.events.filter(kind=EventKind.SENT).exists():
        locked.status = RunStatus.SENT
        locked.save(update_fields=["status", "updated_at"])
        return
    try:
        sending.send_invoice(locked.invoice, by=by)
    except (ValidationError, OSError) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        locked.attempts += 1
        locked.message = f"Issued, but sending failed: {text}"
        if locked.attempts > SEND_ATTEMPTS:
            locked.status = RunStatus.FAILED
        locked.save(update_fields=["attempts", "message", "status", "updated_at"])
        log.warning("Run %s of %s: %s", locked.pk, type(locked).__name__, locked.message)
        return
    locked.status, locked.message = RunStatus.SENT, ""
    locked.save(update_fields=["status", "message", "updated_at"])


def _unsent() -> QuerySet[ScheduleRun]:
    return ScheduleRun.objects.filter(
        status=RunStatus.ISSUED, schedule__action=Action.SEND, invoice__isnull=False
    )


def retry_sends(*, organization: Organization | None = None) -> None:
    """Send what an earlier run issued but could not send (the mail server was away)."""
    waiting = _unsent()
    if organization is not None:
        waiting = waiting.filter(schedule__organization=organization)
    for run in waiting:
        send_run(run)


def organizations_due() -> set[int]:
    """Organizations with a period due or an issued invoice still to send.

    Three queries however many schedules: the active schedules, all their runs in one
    prefetch (only the columns `due` reads), and the unsent runs. The tick calls this
    each minute, so an idle instance costs these and no more."""
    runs = ScheduleRun.objects.only(
        "schedule_id", "period_start", "status", "attempts", "updated_at"
    )
    active = (
        BillingSchedule.objects.filter(is_active=True)
        .select_related("organization")
        .prefetch_related(Prefetch("runs", queryset=runs))
    )
    found: set[int] = set()
    for schedule in active:
        if schedule.organization_id not in found and due(schedule):
            found.add(schedule.organization_id)
    unsent = _unsent().values_list("schedule__organization_id", flat=True).distinct()
    return found | set(unsent)


# For the pages, the API and the CLI -------------------------------------------------------


def schedule_for(by: Membership, pk: int) -> BillingSchedule:
    """A schedule of `by`'s organization, or 404; only people who bill may see schedules."""
    require(by, "invoices.manage")
    found = (
        BillingSchedule.objects.filter(organization_id=by.organization_id, pk=pk)
        .select_related(
            "organization",
            "client__organization",
            "project__client",
            "run_as__user",
            "run_as__organization",
        )
        .first()
    )
    if found is None:
        raise Http404("No such billing schedule.")
    return found


def due_counts(schedules: list[BillingSchedule]) -> dict[int, int]:
    """How many periods are due per schedule, in one query for a whole page of them."""
    taken: dict[int, set[date]] = {s.pk: set() for s in schedules}
    runs = ScheduleRun.objects.filter(schedule__in=[s.pk for s in schedules])
    for schedule_id, start in runs.values_list("schedule_id", "period_start"):
        taken[schedule_id].add(start)
    return {
        s.pk: sum(p.start not in taken[s.pk] for p in periods(rule_of(s), through=today_for(s)))
        for s in schedules
    }


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def frequency_text(schedule: BillingSchedule) -> str:
    """How often it bills, as a person says it: "Monthly on the 1st", "Every 2 weeks"."""
    if schedule.frequency == Frequency.WEEKLY:
        weeks = schedule.interval_weeks
        return "Every week" if weeks == 1 else f"Every {weeks} weeks"
    if schedule.frequency == Frequency.QUARTERLY:
        day = schedule.day_of_month
        return "Quarterly" if day == 1 else f"Quarterly on the {_ordinal(day)}"
    if schedule.frequency == Frequency.PROJECT_END and schedule.ends_on is not None:
        return f"Once after {schedule.ends_on:%-d %b %Y}"
    return f"Monthly on the {_ordinal(schedule.day_of_month)}"


# What a run would do, by the action: the status its run would get.
WOULD: dict[str, str] = {
    Action.DRAFT: RunStatus.DRAFTED,
    Action.ISSUE: RunStatus.ISSUED,
    Action.SEND: RunStatus.SENT,
}


@dataclass(frozen=True)
class Planned:
    """A due period as a dry run sees it: the status it would get, and its estimate."""

    period: Period
    status: str
    message: str = ""
    estimate: Preview | None = None


def dry_run(
    schedule: BillingSchedule, *, today: date | None = None, limit: int | None = None
) -> list[Planned]:
    """What running the due periods now would do, in the order they would run; writes nothing.

    The same checks as a run (authority, any work at all), so "nothing to bill" and failures
    show before they happen; `limit` keeps a page from estimating years of periods."""
    by = schedule.run_as
    allowed = by.is_active and can(by, "invoices.manage")
    planned = []
    for period in due(schedule, today=today)[:limit]:
        if not allowed:
            planned.append(Planned(period, RunStatus.FAILED, _no_authority(by)))
        elif not _has_work(schedule, period):
            planned.append(Planned(period, RunStatus.EMPTY, _nothing(schedule, period)))
        else:
            planned.append(Planned(period, WOULD[schedule.action], "", estimate(schedule, period)))
    return planned


def run_schedule(
    schedule: BillingSchedule, *, by: Membership, today: date | None = None
) -> list[Outcome]:
    """Run one schedule's due periods now ("Run now"), each exactly once, as the worker would.

    Unlike run_due it leaves other schedules' failed sends alone: a person's click in one
    organization must not send another organization's email."""
    require(by, "invoices.manage")
    if schedule.organization_id != by.organization_id:
        raise PermissionDenied("This schedule belongs to another organization.")
    if not schedule.is_active:
        raise field_error("is_active", "This schedule is paused: resume it to run it.")
    outcomes = []
    for period in due(schedule, today=today):
        outcome = run_period(schedule, period, today=today)
        if outcome is not None:  # None: a worker took the period at the same moment
            outcomes.append(outcome)
    return outcomes


def delete_schedule(schedule: BillingSchedule, *, by: Membership) -> None:
    """Delete a schedule that never ran; one with runs keeps its history: pause it instead."""
    require(by, "invoices.manage")
    if schedule.organization_id != by.organization_id:
        raise PermissionDenied("This schedule belongs to another organization.")
    refused = field_error("schedule", "This schedule has run, so it keeps its history: pause it.")
    try:
        with transaction.atomic():
            if schedule.runs.exists():
                raise refused
            schedule.delete()
    except IntegrityError:
        # A worker's run committed between the check and the delete (PostgreSQL's deferred
        # foreign key refuses the delete then): the schedule now has history.
        raise refused from None
