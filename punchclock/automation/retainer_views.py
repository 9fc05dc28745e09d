"""Retainer pages: the list with this period's bar, a retainer with its periods, the form.

Every page needs invoices.manage (owners and admins). Each view parses input, calls one
service of automation/retainers.py or retainer_runs.py, renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.automation import retainer_runs as runs
from punchclock.automation import retainers
from punchclock.automation.models import Retainer
from punchclock.automation.retainer_forms import GROUPS, RetainerForm
from punchclock.automation.views import _biller, _posted
from punchclock.clients.forms import field_groups
from punchclock.core.forms import apply_service_errors

PAGE_SIZE = 25


@member_required
def retainer_list(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    found = Retainer.objects.filter(organization_id=membership.organization_id).select_related(
        "organization", "client__organization", "project__client"
    )
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(r, retainers.balance(r)) for r in page.object_list]
    return render(request, "automation/retainers/list.html", {"page": page, "rows": rows})


@member_required
def retainer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    retainer = retainers.retainer_for(membership, pk)
    planned = runs.dry_run(retainer)
    nxt = runs.preview(retainer)
    context = {
        "retainer": retainer,
        "balance": retainers.balance(retainer),
        "preview": nxt,
        "preview_text": runs.preview_text(retainer, nxt) if nxt else "",
        "planned": [(p, runs.preview_text(retainer, p)) for p in planned],
        "periods": Paginator(
            [(p, _figures(retainer, p)) for p in retainer.periods.select_related("invoice")],
            PAGE_SIZE,
        ).get_page(request.GET.get("page")),
    }
    return render(request, "automation/retainers/detail.html", context)


def _figures(retainer: Retainer, closed: Any) -> dict[str, str]:
    return {
        name: retainers.show(retainer, getattr(closed, name)) if getattr(closed, name) else "—"
        for name in ("included", "carried_in", "used", "overage", "carried_out", "expired")
    }


@member_required
@require_POST
def retainer_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Close the ended periods now; each is still closed only once."""
    membership = _biller(request)
    retainer = retainers.retainer_for(membership, pk)
    try:
        outcomes = runs.run_retainer(retainer, by=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("retainers:detail", pk=retainer.pk)
    if not outcomes:
        messages.info(request, "Nothing was due: no period has ended since the last close.")
    for outcome in outcomes:
        span = f"{outcome.period.start:%-d %b} – {outcome.period.end:%-d %b %Y}"
        invoice = outcome.invoice
        if invoice is None:
            messages.error(request, f"{span}: {outcome.message}")
            continue
        name = invoice.number or f"draft {invoice.pk}"
        total = f"{invoice.gross_total:,.2f} {invoice.currency}"
        messages.success(request, f"{span}: closed, invoice {name} for {total}.")
    return redirect("retainers:detail", pk=retainer.pk)


def _set_active(request: HttpRequest, pk: int, *, active: bool) -> HttpResponse:
    membership = _biller(request)
    retainer = retainers.retainer_for(membership, pk)
    try:
        retainers.save_retainer(membership, retainer=retainer, is_active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            "Retainer resumed: ended periods close on the next run."
            if active
            else "Retainer paused: no period closes until you resume it; its time stays covered.",
        )
    return redirect("retainers:detail", pk=retainer.pk)


@member_required
@require_POST
def retainer_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=False)


@member_required
@require_POST
def retainer_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=True)


@member_required
def retainer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: confirm (or explain why not); POST: delete."""
    membership = _biller(request)
    retainer = retainers.retainer_for(membership, pk)
    error = ""
    if request.method == "POST":
        try:
            retainers.delete_retainer(retainer, by=membership)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Retainer “{retainer.name}” deleted.")
            return redirect("retainers:list")
    context = {"retainer": retainer, "closed": retainer.periods.count(), "error": error}
    return render(
        request, "automation/retainers/delete.html", context, status=400 if error else 200
    )


@member_required
def retainer_new(request: HttpRequest) -> HttpResponse:
    """A new retainer; ?client=<id> (the client page's link) chooses the client."""
    membership = _biller(request)
    initial = {"client": request.GET.get("client")} if request.GET.get("client") else {}
    form = RetainerForm(_posted(request), membership=membership, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            retainer = retainers.save_retainer(
                membership, client=form.cleaned_data["client"], **form.retainer_fields()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Retainer for {retainer.client.name} created.")
            return redirect("retainers:detail", pk=retainer.pk)
    return _form_page(request, form, retainer=None)


@member_required
def retainer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    retainer = retainers.retainer_for(membership, pk)
    form = RetainerForm(
        _posted(request),
        membership=membership,
        retainer=retainer,
        initial=RetainerForm.initial_for(retainer),
    )
    if request.method == "POST" and form.is_valid():
        try:
            retainers.save_retainer(membership, retainer=retainer, **form.retainer_fields())
        except ValidationError as exc:
            apply_service_errors(form, exc)
            retainer.refresh_from_db()  # the service set the posted values on it
        else:
            messages.success(request, "Retainer saved.")
            return redirect("retainers:detail", pk=retainer.pk)
    return _form_page(request, form, retainer=retainer)


def _form_page(
    request: HttpRequest, form: RetainerForm, *, retainer: Retainer | None
) -> HttpResponse:
    context = {
        "form": form,
        "groups": field_groups(form, GROUPS),
        "retainer": retainer,
        "has_periods": retainer is not None and retainer.periods.exists(),
    }
    return render(
        request, "automation/retainers/form.html", context, status=400 if form.errors else 200
    )
