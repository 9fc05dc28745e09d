"""Recurring invoice pages: the list with each next run, one with its runs, the form.

Every page needs invoices.manage (owners and admins). Each view parses input, calls one
service of automation/recurring.py, renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.automation import recurring as service
from punchclock.automation.models import RecurringInvoice, RecurringRun
from punchclock.automation.recurring_forms import (
    GROUPS,
    PLACEHOLDER_HELP,
    LineFormSet,
    RecurringFilterForm,
    RecurringForm,
    line_initial,
    line_specs,
)
from punchclock.automation.views import LEVELS, PAGE_SIZE, RECENT_RUNS, _biller, _posted
from punchclock.clients.forms import field_groups
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx

PLANNED_SHOWN = 12
RESUMED = "Resumed: the periods that came due meanwhile are billed on the next run, once each."
PAUSED = "Paused: it bills nothing until you resume it."


@dataclass
class Row:
    recurring: RecurringInvoice
    frequency: str
    preview: service.Estimate | None
    due: int
    recent_runs: list[RecurringRun]


@member_required
def recurring_list(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    filters = RecurringFilterForm(request.GET or None, membership=membership)
    found = service.of_organization(membership)
    client = filters.cleaned_data["client"] if filters.is_valid() else None
    if client is not None:
        found = found.filter(client=client)
    runs = Prefetch("runs", queryset=RecurringRun.objects.select_related("invoice"))
    found = found.prefetch_related(runs, "lines__prices")
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        Row(
            recurring,
            service.frequency_text(recurring),
            service.preview(recurring),
            len(service.due(recurring)),
            list(recurring.runs.all())[:RECENT_RUNS],
        )
        for recurring in page.object_list
    ]
    context = {"filters": filters, "page": page, "rows": rows, "filtered": client is not None}
    template = "automation/recurring/list.html"
    return render(request, f"{template}#results" if is_htmx(request) else template, context)


@member_required
def recurring_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    recurring = service.recurring_for(membership, pk)
    due = service.due(recurring)
    context = {
        "recurring": recurring,
        "frequency": service.frequency_text(recurring),
        "end": service.end_text(recurring),
        "lines": service.lines_of(recurring),
        "preview": service.preview(recurring),
        "due_count": len(due),
        "planned": service.dry_run(recurring, limit=PLANNED_SHOWN),
        "more_due": max(len(due) - PLANNED_SHOWN, 0),
        "runs": Paginator(recurring.runs.select_related("invoice"), PAGE_SIZE).get_page(
            request.GET.get("page")
        ),
    }
    return render(request, "automation/recurring/detail.html", context)


@member_required
@require_POST
def recurring_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the due periods now; each period is still billed only once."""
    membership = _biller(request)
    recurring = service.recurring_for(membership, pk)
    try:
        outcomes = service.run_now(recurring, by=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("recurring:detail", pk=recurring.pk)
    if not outcomes:
        messages.info(request, "Nothing was due: no issue day has come since the last run.")
    for outcome in outcomes:
        level = LEVELS.get(outcome.status, messages.SUCCESS)
        messages.add_message(request, level, outcome_text(outcome))
    return redirect("recurring:detail", pk=recurring.pk)


def outcome_text(outcome: service.Outcome) -> str:
    period = f"{outcome.period.start:%-d %b} – {outcome.period.end:%-d %b %Y}"
    invoice = outcome.invoice
    if invoice is None:
        return f"{period}: {outcome.message or outcome.status}"
    name = invoice.number or f"draft {invoice.pk}"
    done = {"drafted": "drafted", "issued": "issued", "sent": "issued and sent"}.get(
        outcome.status, outcome.status
    )
    extra = f" {outcome.message}" if outcome.message else ""
    total = f"{invoice.gross_total:,.2f} {invoice.currency}"
    return f"{period}: {done}, invoice {name} for {total}.{extra}"


def _set_active(request: HttpRequest, pk: int, *, active: bool) -> HttpResponse:
    membership = _biller(request)
    recurring = service.recurring_for(membership, pk)
    try:
        service.set_active(recurring, by=membership, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, RESUMED if active else PAUSED)
    return redirect("recurring:detail", pk=recurring.pk)


@member_required
@require_POST
def recurring_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=False)


@member_required
@require_POST
def recurring_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=True)


@member_required
def recurring_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: confirm; POST: delete (runs and invoices stay)."""
    membership = _biller(request)
    recurring = service.recurring_for(membership, pk)
    if request.method == "POST":
        service.delete_recurring(recurring, by=membership)
        messages.success(request, f"“{recurring.name}” for {recurring.client.name} deleted.")
        return redirect("recurring:list")
    context = {
        "recurring": recurring,
        "frequency": service.frequency_text(recurring),
        "run_count": recurring.runs.count(),
    }
    return render(request, "automation/recurring/delete.html", context)


# The form --------------------------------------------------------------------------------


def _lines(request: HttpRequest, initial: list[dict[str, Any]]) -> Any:
    """The lines formset: posted, with one more blank row when "Add a line" was pressed."""
    if request.method != "POST":
        return LineFormSet(prefix="lines", initial=[*initial, {}])
    data = request.POST.copy()
    if "add_line" in data:
        count = data.get("lines-TOTAL_FORMS", "0")
        total = int(count) if count.isdigit() and int(count) < 100 else 0
        data["lines-TOTAL_FORMS"] = str(total + 1)
        data[f"lines-{total}-quantity"] = "1"
        data[f"lines-{total}-unit"] = "C62"
    return LineFormSet(data, prefix="lines")


def _save(
    request: HttpRequest, form: RecurringForm, lines: Any, **target: Any
) -> RecurringInvoice | None:
    """Save when both the form and its lines are valid; errors go onto the form."""
    if request.method != "POST" or "add_line" in request.POST:
        return None
    form_ok, lines_ok = form.is_valid(), lines.is_valid()
    if not (form_ok and lines_ok):
        return None
    try:
        return service.save_recurring(
            _biller(request), lines=line_specs(lines), **target, **form.recurring_fields()
        )
    except ValidationError as exc:
        # A line's error shows under the lines, the others under their fields.
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        for message in errors.pop("lines", []):
            lines._non_form_errors = lines.error_class([message])
        if errors:
            apply_service_errors(form, ValidationError(errors))
        return None


@member_required
def recurring_new(request: HttpRequest) -> HttpResponse:
    """A new recurring invoice; ?client=<id> chooses the client."""
    membership = _biller(request)
    initial = {"client": request.GET.get("client")} if request.GET.get("client") else {}
    form = RecurringForm(_posted(request), membership=membership, initial=initial)
    lines = _lines(request, [])
    client = form.cleaned_data.get("client") if form.is_bound and form.is_valid() else None
    saved = _save(request, form, lines, client=client)
    if saved is not None:
        messages.success(request, f"Recurring invoice “{saved.name}” created.")
        return redirect("recurring:detail", pk=saved.pk)
    return _form_page(request, form, lines, recurring=None)


@member_required
def recurring_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    recurring = service.recurring_for(membership, pk)
    form = RecurringForm(
        _posted(request),
        membership=membership,
        recurring=recurring,
        initial=RecurringForm.initial_for(recurring),
    )
    lines = _lines(request, line_initial(recurring))
    saved = _save(request, form, lines, recurring=recurring)
    if saved is not None:
        messages.success(request, "Recurring invoice saved.")
        return redirect("recurring:detail", pk=saved.pk)
    if request.method == "POST":
        recurring.refresh_from_db()  # the service may have set the posted values on it
    return _form_page(request, form, lines, recurring=recurring)


def _form_page(
    request: HttpRequest, form: RecurringForm, lines: Any, *, recurring: RecurringInvoice | None
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "groups": field_groups(form, GROUPS),
        "lines": lines,
        "placeholders": PLACEHOLDER_HELP,
        "recurring": recurring,
        "has_runs": recurring is not None and recurring.runs.exists(),
    }
    invalid = request.method == "POST" and "add_line" not in request.POST
    return render(
        request, "automation/recurring/form.html", context, status=400 if invalid else 200
    )
