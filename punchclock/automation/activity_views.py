"""/schedules/activity/: failed and stuck automated work of the organization, with retries.

Owners and admins (invoices.manage). The worker's queue failures are the instance's, so
only instance staff (is_staff) see them, below the organization's own."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.automation import activity, reminders
from punchclock.automation import worker as background
from punchclock.automation.models import RunStatus
from punchclock.automation.views import _biller


@member_required
def activity_page(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    runs = list(activity.failed_runs(membership)[: activity.SHOWN])
    context = {
        "runs": [(run, activity.can_retry(run)) for run in runs],
        "reminders": activity.reminders_not_sent(membership),
        "staff": request.user.is_staff,
        "queue": background.failures() if request.user.is_staff else [],
    }
    return render(request, "automation/activity.html", context)


@member_required
@require_POST
def retry_run(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    run = activity.run_for(membership, pk)
    try:
        outcome = activity.retry_run(run, by=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if outcome is None:
            messages.info(request, "The worker was running this period at the same moment.")
        elif outcome.status == RunStatus.EMPTY:
            messages.info(request, outcome.message)
        elif outcome.status == RunStatus.FAILED or outcome.message:
            messages.error(request, f"{outcome.period}: {outcome.message}")
        else:
            status = RunStatus(outcome.status).label
            number = outcome.invoice.number if outcome.invoice else ""
            messages.success(request, f"{outcome.period}: {status} {number}".rstrip() + ".")
    return redirect("automation:activity")


@member_required
@require_POST
def retry_reminder(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    reminder = activity.reminder_for(membership, pk)
    try:
        outcome = activity.retry_reminder(reminder, by=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if outcome is not None and outcome.status == reminders.State.SENT:
            messages.success(request, f"Reminder for {outcome.invoice.number} sent.")
        else:
            text = outcome.message if outcome is not None else "Another run is sending it."
            messages.warning(request, text or "The reminder was not sent.")
    return redirect("automation:activity")
