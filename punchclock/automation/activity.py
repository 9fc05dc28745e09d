"""Failed and stuck automated work of one organization, and retrying it where that is safe.

What an owner can act on: schedule runs that failed (billing refused, or the invoice issued
but its email refused too often), and reminders that did not go out (waiting for a mail
server or an address) or whose hand-over was never confirmed. A retry goes through the same
claims as the worker, so it never issues an invoice or charges a late fee twice: a run
that made an invoice is only sent again, a run that made none is billed under its row's
lock, a waiting reminder is delivered under the invoice's lock.

The queue table of the worker is the instance's, not an organization's: its failures are
read by `worker.failures()` and shown to instance staff only (see decision 0014).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.automation import reminders, services
from punchclock.automation.models import Action, ReminderSent, RunStatus, ScheduleRun
from punchclock.automation.periods import Period
from punchclock.core.services import field_error

SHOWN = 50


def failed_runs(by: Membership) -> QuerySet[ScheduleRun]:
    """Runs that failed, and issued runs whose email has not gone out yet, newest first."""
    require(by, "invoices.manage")
    unsent = Q(status=RunStatus.ISSUED, schedule__action=Action.SEND, invoice__isnull=False)
    return (
        ScheduleRun.objects.filter(schedule__organization_id=by.organization_id)
        .filter(Q(status=RunStatus.FAILED) | unsent)
        .select_related("schedule__client", "schedule__project", "invoice")
        .order_by("-updated_at", "-pk")
    )


@dataclass(frozen=True)
class ReminderRow:
    row: ReminderSent
    state: str
    label: str


def reminders_not_sent(by: Membership) -> list[ReminderRow]:
    """Claimed reminders that have not gone out: waiting to be sent, or not confirmed."""
    require(by, "invoices.manage")
    rows = (
        ReminderSent.objects.filter(
            invoice__organization_id=by.organization_id,
            status__in=[reminders.State.WAITING, reminders.State.UNCONFIRMED],
        )
        .select_related("invoice__client", "late_fee_invoice")
        .order_by("-created_at", "-pk")
    )[:SHOWN]
    return [ReminderRow(row, row.status, reminders.State.LABELS[row.status]) for row in rows]


def run_for(by: Membership, pk: int) -> ScheduleRun:
    require(by, "invoices.manage")
    found = (
        ScheduleRun.objects.filter(schedule__organization_id=by.organization_id, pk=pk)
        .select_related(
            "schedule__organization",
            "schedule__client",
            "schedule__project",
            "schedule__run_as__user",
            "schedule__run_as__organization",
        )
        .first()
    )
    if found is None:
        raise Http404("No such schedule run.")
    return found


def can_retry(run: ScheduleRun) -> bool:
    """A failed run; or an issued one of an "issue and send" schedule, not yet sent."""
    if run.status == RunStatus.FAILED:
        return True
    return (
        run.status == RunStatus.ISSUED
        and run.invoice_id is not None
        and run.schedule.action == Action.SEND
    )


def retry_run(run: ScheduleRun, *, by: Membership) -> services.Outcome | None:
    """Try a failed run again now: send its invoice again, or bill its period again.

    None when a worker got to it at the same moment."""
    require(by, "invoices.manage")
    schedule = run.schedule
    if schedule.organization_id != by.organization_id:
        raise PermissionDenied("This run belongs to another organization.")
    if not can_retry(run):
        raise field_error("run", "Only a failed run, or one whose email failed, is retried.")
    if run.invoice_id is not None:
        # The invoice is issued: never again. Only the email is retried, with a fresh count
        # of attempts; the send checks the invoice's sent event under the run's lock.
        retried = ScheduleRun.objects.filter(
            pk=run.pk, status__in=[RunStatus.FAILED, RunStatus.ISSUED]
        ).update(status=RunStatus.ISSUED, attempts=1)
        if not retried:
            return None
        services.send_run(run)
        run.refresh_from_db()
        period = Period(run.period_start, run.period_end, run.run_on)
        return services.Outcome(schedule, period, run.status, run.invoice, run.message)
    if not schedule.is_active:
        raise field_error("run", "This schedule is paused: resume it to retry its runs.")
    period = Period(run.period_start, run.period_end, run.run_on)
    return services.run_period(schedule, period, again=True)


def reminder_for(by: Membership, pk: int) -> ReminderSent:
    require(by, "invoices.manage")
    found = (
        ReminderSent.objects.filter(invoice__organization_id=by.organization_id, pk=pk)
        .select_related("invoice__organization", "invoice__client")
        .first()
    )
    if found is None:
        raise Http404("No such reminder.")
    return found


def retry_reminder(reminder: ReminderSent, *, by: Membership) -> reminders.Outcome | None:
    """Deliver a waiting reminder now (never handed to a mail server, so it cannot arrive
    twice); an unconfirmed one is sent again only by `reminders.send_again`."""
    require(by, "invoices.manage")
    if reminder.invoice.organization_id != by.organization_id:
        raise PermissionDenied("This reminder belongs to another organization.")
    if reminders.state_of(reminder) != reminders.State.WAITING:
        raise field_error("reminder", "Only a reminder waiting to be sent is retried here.")
    organization = reminder.invoice.organization
    return reminders.deliver(reminder, today=reminders.today_for(organization), by=by)
