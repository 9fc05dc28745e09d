"""Billing schedule pages: the list with each next run, a schedule with its runs, the form.

Every page needs invoices.manage (owners and admins). Each view parses input, calls one
service of automation/services.py, renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.automation import services
from punchclock.automation.forms import GROUPS, ScheduleFilterForm, ScheduleForm
from punchclock.automation.models import BillingSchedule, RunStatus, ScheduleRun
from punchclock.clients.forms import field_groups
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx

PAGE_SIZE = 25
RECENT_RUNS = 3  # per schedule on the list
PLANNED_SHOWN = 12  # due periods estimated on a schedule's page; the rest are counted
# How each period's outcome is flagged after "Run now": a failure stands out.
LEVELS: dict[str, int] = {RunStatus.FAILED: messages.ERROR, RunStatus.EMPTY: messages.INFO}
RESUMED = "Schedule resumed: its due periods are billed on the next run."
PAUSED = "Schedule paused: it bills nothing until you resume it."


def _biller(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    require(membership, "invoices.manage")
    return membership


def _posted(request: HttpRequest) -> QueryDict | None:
    """The submitted data, even when empty: an empty POST must fail validation, not pass."""
    return request.POST if request.method == "POST" else None


# The list --------------------------------------------------------------------------------


@dataclass
class Row:
    schedule: BillingSchedule
    frequency: str
    preview: services.Preview | None
    due: int


@member_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    filters = ScheduleFilterForm(request.GET or None, membership=membership)
    schedules = BillingSchedule.objects.filter(organization_id=membership.organization_id)
    client = filters.cleaned_data["client"] if filters.is_valid() else None
    if client is not None:
        schedules = schedules.filter(client=client)
    recent = ScheduleRun.objects.select_related("invoice")[:RECENT_RUNS]
    schedules = schedules.select_related(
        "organization", "client__organization", "project__client"
    ).prefetch_related(Prefetch("runs", queryset=recent, to_attr="recent_runs"))
    page = Paginator(schedules, PAGE_SIZE).get_page(request.GET.get("page"))
    due = services.due_counts(list(page.object_list))
    rows = [
        Row(s, services.frequency_text(s), services.preview(s), due[s.pk]) for s in page.object_list
    ]
    context = {"filters": filters, "page": page, "rows": rows, "filtered": client is not None}
    template = "automation/list.html"
    return render(request, f"{template}#results" if is_htmx(request) else template, context)


# One schedule ----------------------------------------------------------------------------


@member_required
def schedule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    schedule = services.schedule_for(membership, pk)
    runs = schedule.runs.select_related("invoice")
    due = services.due(schedule)
    context = {
        "schedule": schedule,
        "frequency": services.frequency_text(schedule),
        "preview": services.preview(schedule),
        "due_count": len(due),
        "planned": services.dry_run(schedule, limit=PLANNED_SHOWN),
        "more_due": max(len(due) - PLANNED_SHOWN, 0),
        "runs": Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page")),
    }
    return render(request, "automation/detail.html", context)


@member_required
@require_POST
def schedule_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the schedule's due periods now; each period is still billed only once."""
    membership = _biller(request)
    schedule = services.schedule_for(membership, pk)
    try:
        outcomes = services.run_schedule(schedule, by=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("automation:detail", pk=schedule.pk)
    if not outcomes:
        messages.info(request, "Nothing was due: no period has ended since the last run.")
    for outcome in outcomes:
        level = LEVELS.get(outcome.status, messages.SUCCESS)
        messages.add_message(request, level, outcome_text(outcome))
    return redirect("automation:detail", pk=schedule.pk)


def outcome_text(outcome: services.Outcome) -> str:
    """One period's result in a sentence: what was billed, or why nothing was."""
    period = f"{outcome.period.start:%-d %b} – {outcome.period.end:%-d %b %Y}"
    invoice = outcome.invoice
    if invoice is None:
        text = outcome.message or RunStatus(outcome.status).label
        return f"{period}: {text}"
    name = invoice.number or f"draft {invoice.pk}"
    done = RunStatus(outcome.status).label.lower()
    total = f"{invoice.gross_total:,.2f} {invoice.currency}"
    extra = f" {outcome.message}" if outcome.message else ""
    return f"{period}: {done}, invoice {name} for {total}.{extra}"


def _set_active(request: HttpRequest, pk: int, *, active: bool) -> HttpResponse:
    membership = _biller(request)
    schedule = services.schedule_for(membership, pk)
    try:
        services.save_schedule(membership, schedule=schedule, is_active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, RESUMED if active else PAUSED)
    return redirect("automation:detail", pk=schedule.pk)


@member_required
@require_POST
def schedule_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=False)


@member_required
@require_POST
def schedule_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=True)


@member_required
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: confirm (or explain why only pausing is possible); POST: delete."""
    membership = _biller(request)
    schedule = services.schedule_for(membership, pk)
    error = ""
    if request.method == "POST":
        try:
            services.delete_schedule(schedule, by=membership)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Schedule for {schedule.client.name} deleted.")
            return redirect("automation:list")
    context = {
        "schedule": schedule,
        "frequency": services.frequency_text(schedule),
        "run_count": schedule.runs.count(),
        "error": error,
    }
    return render(request, "automation/delete.html", context, status=400 if error else 200)


# The form --------------------------------------------------------------------------------


@member_required
def schedule_new(request: HttpRequest) -> HttpResponse:
    """A new schedule; ?client=<id> (the client page's link) chooses the client."""
    membership = _biller(request)
    initial = {"client": request.GET.get("client")} if request.GET.get("client") else {}
    form = ScheduleForm(_posted(request), membership=membership, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            schedule = services.save_schedule(
                membership, client=form.cleaned_data["client"], **form.schedule_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Billing schedule for {schedule.client.name} created.")
            return redirect("automation:detail", pk=schedule.pk)
    return _form_page(request, form, schedule=None)


@member_required
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    schedule = services.schedule_for(membership, pk)
    form = ScheduleForm(
        _posted(request),
        membership=membership,
        schedule=schedule,
        initial=ScheduleForm.initial_for(schedule),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_schedule(membership, schedule=schedule, **form.schedule_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
            schedule.refresh_from_db()  # the service set the posted values on it
        else:
            messages.success(request, "Schedule saved.")
            return redirect("automation:detail", pk=schedule.pk)
    return _form_page(request, form, schedule=schedule)


def _form_page(
    request: HttpRequest, form: ScheduleForm, *, schedule: BillingSchedule | None
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "groups": field_groups(form, GROUPS),
        "schedule": schedule,
        "has_runs": schedule is not None and schedule.runs.exists(),
    }
    status = 400 if form.errors else 200
    return render(request, "automation/form.html", context, status=status)
