"""Receivables pages: what clients owe and for how long, and a client's statement of account
as a page, a PDF and a CSV file. Owners and admins only (payments.manage)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.clients.models import Client
from punchclock.core.htmx import is_htmx
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing.forms import DATE
from punchclock.payments import receivables
from punchclock.payments.receivables import BUCKET_LABELS, BUCKETS

FORMATS = ("html", "pdf", "csv")


SHOWN_INVOICES = 100


def _manager(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    require(membership, "payments.manage")
    return membership


def _today(membership: Membership) -> date:
    """Days overdue count in the organization's calendar, not the server's."""
    return local_date(now(), membership.organization.timezone)


class ClientFilterForm(forms.Form):
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(), required=False, empty_label="All clients"
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["client"]
        field.queryset = Client.objects.filter(  # type: ignore[attr-defined]
            organization_id=organization_id
        ).order_by("name")


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=DATE)
    end = forms.DateField(label="To", widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The period ends before it starts.")
        return data


@member_required
def receivables_page(request: HttpRequest) -> HttpResponse:
    membership = _manager(request)
    filters = ClientFilterForm(request.GET or None, organization_id=membership.organization_id)
    client = filters.cleaned_data["client"] if filters.is_valid() else None
    found = receivables.receivables(
        membership.organization_id,
        today=_today(membership),
        client_id=client.pk if client else None,
    )
    # The longest overdue first; a long tail of invoices not yet due is one click away.
    show_all = request.GET.get("all") == "1"
    context = {
        "filters": filters,
        "client": client,
        "found": found,
        "shown_invoices": found.invoices if show_all else found.invoices[:SHOWN_INVOICES],
        "buckets": [(key, BUCKET_LABELS[key]) for key in BUCKETS],
    }
    template = "payments/receivables/index.html"
    return render(request, f"{template}#results" if is_htmx(request) else template, context)


def _period(request: HttpRequest, today: date) -> PeriodForm:
    """The period asked for; this calendar year when none is given."""
    return PeriodForm(
        {
            "start": request.GET.get("start") or today.replace(month=1, day=1),
            "end": request.GET.get("end") or today.replace(month=12, day=31),
        }
    )


@member_required
def statement_page(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the statement; ?format=pdf or ?format=csv downloads it."""
    membership = _manager(request)
    client = (
        Client.objects.filter(organization_id=membership.organization_id, pk=pk)
        .select_related("organization")
        .first()
    )
    if client is None:
        raise Http404("No such client.")
    today = _today(membership)
    period = _period(request, today)
    wanted = request.GET.get("format") or "html"
    if wanted not in FORMATS or not period.is_valid():
        problem = "" if wanted in FORMATS else f"There is no “{wanted}” format: use pdf or csv."
        context = {"client": client, "period": period, "problem": problem}
        return render(request, "payments/receivables/statement.html", context, status=400)
    found = receivables.statement(
        client, start=period.cleaned_data["start"], end=period.cleaned_data["end"]
    )
    if wanted == "html":
        context = {"client": client, "period": period, "statement": found}
        return render(request, "payments/receivables/statement.html", context)
    return _download(found, wanted, today)


def _download(found: receivables.Statement, wanted: str, today: date) -> HttpResponse:
    # Imported here: Typst and babel's data load only when a document is drawn.
    from punchclock.invoicing.documents.pdf import DocumentError
    from punchclock.payments.documents import statement

    if wanted == "csv":
        response = HttpResponse(statement.render_csv(found), content_type="text/csv; charset=utf-8")
    else:
        try:
            content = statement.render_pdf(found, today=today)
        except DocumentError as exc:
            return HttpResponse(f"The statement could not be drawn: {exc}", status=400)
        response = HttpResponse(content, content_type="application/pdf")
    name = statement.filename(found, wanted)
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=wanted == "csv", filename=name) or "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
