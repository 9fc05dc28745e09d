"""Invoice pages: unbilled work, the list, a draft's editor, an issued document, the chain.

Every page needs invoices.manage (owners and admins). Each view parses input, calls one
service, renders."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Max, Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.clients.models import Client
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx
from punchclock.core.money import Money
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing import sending, services
from punchclock.invoicing.forms import (
    AddLineForm,
    CreditForm,
    DetailsForm,
    DiscountForm,
    DraftForm,
    InvoiceFilterForm,
    LineForm,
    PeriodFilterForm,
    SendForm,
)
from punchclock.invoicing.models import EventKind, Invoice, InvoiceLine, InvoiceStatus
from punchclock.invoicing.unbilled import client_unbilled
from punchclock.payments.balances import balance_of, with_balances
from punchclock.payments.views import invoice_panel
from punchclock.projects.ratebook import RateBook

PAGE_SIZE = 25
HOUR = Decimal(3600)


def _biller(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    require(membership, "invoices.manage")
    return membership


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _invoice(membership: Membership, pk: int) -> Invoice:
    invoice = (
        Invoice.objects.filter(organization_id=membership.organization_id, pk=pk)
        .select_related("client", "organization", "credits")
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def _line(membership: Membership, pk: int) -> InvoiceLine:
    line = (
        InvoiceLine.objects.filter(invoice__organization_id=membership.organization_id, pk=pk)
        .select_related("invoice__client", "invoice__organization")
        .first()
    )
    if line is None:
        raise Http404("No such line.")
    return line


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect; htmx is told to load the page instead."""
    if is_htmx(request):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# Unbilled work ---------------------------------------------------------------------------


@dataclass
class ClientWork:
    client: Client
    form: DraftForm
    hours: Decimal = Decimal(0)
    entry_count: int = 0
    unpriced: int = 0
    amounts: list[Money] = field(default_factory=list)
    expenses: list[Money] = field(default_factory=list)
    expense_count: int = 0


def _period(request: HttpRequest, membership: Membership) -> tuple[date, date, PeriodFilterForm]:
    today = local_date(now(), membership.organization.timezone)
    last = today.replace(day=1) - timedelta(days=1)
    start, end = last.replace(day=1), last
    period = PeriodFilterForm(request.GET or None, initial={"start": start, "end": end})
    if (
        period.is_bound
        and period.is_valid()
        and period.cleaned_data["start"] <= period.cleaned_data["end"]
    ):
        start, end = period.cleaned_data["start"], period.cleaned_data["end"]
    return start, end, period


def _client_work(
    client: Client, start: date, end: date, book: RateBook, form: DraftForm
) -> ClientWork:
    found = client_unbilled(client, first=start, last=end, book=book)
    work = ClientWork(
        client,
        form,
        hours=(Decimal(found.raw_seconds) / HOUR).quantize(Decimal("0.01")),
        entry_count=found.entries,
        unpriced=found.unpriced,
        expense_count=found.expense_count,
    )
    if found.entries:
        work.amounts = [Money(found.priced_time_amount + found.fixed_fees, client.currency)]
    if found.expense_count:
        work.expenses = [Money(found.expense_amount, client.currency)]
    return work


@member_required
def unbilled(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    start, end, period = _period(request, membership)
    posted = None
    if request.method == "POST":
        posted = DraftForm(request.POST, membership=membership)
    if posted is not None and posted.is_valid():
        data = posted.cleaned_data
        try:
            invoice = services.create_draft(
                data["client"],
                by=membership,
                period_start=data["period_start"],
                period_end=data["period_end"],
                project=data["project"],
                group_by=data["group_by"],
                fee_percent=data.get("fee_percent"),
            )
        except ValidationError as exc:
            apply_service_errors(posted, exc)
        else:
            messages.success(request, f"Draft for {invoice.client.name} created.")
            return redirect("invoicing:detail", pk=invoice.pk)
    posted_client = posted.data.get("client") if posted is not None else None
    book = RateBook.load(membership.organization)
    rows = []
    clients = Client.objects.filter(organization_id=membership.organization_id, is_archived=False)
    for client in clients.order_by("name"):
        form = DraftForm(
            membership=membership,
            auto_id=f"id_c{client.pk}_%s",
            initial={"client": client, "period_start": start, "period_end": end},
        )
        if posted is not None and posted_client == str(client.pk):
            form = posted
        _project_field(form, client)
        work = _client_work(client, start, end, book, form)
        if work.entry_count or work.expense_count or form is posted:
            rows.append(work)
    context = {
        "period": period,
        "start": start,
        "end": end,
        "rows": rows,
        "orphan_form": posted
        if posted is not None and all(r.form is not posted for r in rows)
        else None,
    }
    return render(request, "invoicing/unbilled.html", context, status=400 if posted else 200)


def _project_field(form: DraftForm, client: Client) -> None:
    field = form.fields["project"]
    field.queryset = field.queryset.filter(client=client)  # type: ignore[attr-defined]


# List ------------------------------------------------------------------------------------


@member_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    filters = InvoiceFilterForm(request.GET, membership=membership)
    invoices = Invoice.objects.filter(organization_id=membership.organization_id)
    for name in ("status", "kind", "client"):
        if value := filters.value(name):
            invoices = invoices.filter(**{name: value})
    rows = (
        with_balances(invoices)
        .select_related("client")
        .annotate(sent_at=Max("events__at", filter=Q(events__kind=EventKind.SENT)))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    today = local_date(now(), membership.organization.timezone)
    for invoice in page.object_list:
        invoice.pay = balance_of(invoice, today)  # type: ignore[attr-defined]
    context = {"filters": filters, "page": page, "filtered": filters.is_filtered()}
    template = "invoicing/list.html#results" if is_htmx(request) else "invoicing/list.html"
    return render(request, template, context)


# Detail and the draft editor -------------------------------------------------------------


def _detail(
    request: HttpRequest,
    invoice: Invoice,
    *,
    status: int = 200,
    partial: bool = False,
    **overrides: Any,
) -> HttpResponse:
    lines = list(invoice.lines.order_by("position"))
    context = {
        "invoice": invoice,
        "lines": lines,
        "totals": services.invoice_totals(invoice, lines),
        "events": list(invoice.events.select_related("by")),
        "credit_notes": list(invoice.credit_notes.order_by("pk")),
        "editing": None,
        "line_form": None,
        "add_form": AddLineForm(initial={"quantity": 1}),
        "discount_form": DiscountForm(
            initial={
                "discount_percent": invoice.discount_percent,
                "surcharge_percent": invoice.surcharge_percent,
                "surcharge_reason": invoice.surcharge_reason,
            }
        ),
        "details_form": DetailsForm(
            initial={
                "message": invoice.message,
                "tax_note": invoice.tax_note,
                "time_appendix": invoice.time_appendix,
                "purchase_order_reference": invoice.purchase_order_reference,
                "contract_reference": invoice.contract_reference,
                "project_reference": invoice.project_reference,
            }
        ),
        "credit_form": CreditForm(choices=_credit_choices(invoice))
        if not invoice.is_draft
        else None,
        "sent": sending.last_sent(invoice) if not invoice.is_draft else None,
        "einvoice_rows": [] if invoice.is_draft else _einvoice_rows(invoice),
        "validation_results": None,
        "issue_error": None,
    } | overrides
    if not partial:
        membership: Membership = request.membership  # type: ignore[attr-defined]
        context["payments"] = invoice_panel(invoice, membership, form=overrides.get("payment_form"))
    template = "invoicing/detail.html#body" if partial else "invoicing/detail.html"
    return render(request, template, context, status=status)


def render_detail(request: HttpRequest, pk: int, **overrides: Any) -> HttpResponse:
    """The invoice page, as another area's form shows it again with its errors."""
    return _detail(request, _invoice(_biller(request), pk), **overrides)


@member_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    return _detail(request, _invoice(membership, pk))


@member_required
def line_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the line as a form in the table; POST: save it and show the table again."""
    membership = _biller(request)
    line = _line(membership, pk)
    invoice = line.invoice
    if not invoice.is_draft:
        raise Http404("Issued invoices cannot change.")
    initial = {name: getattr(line, name) for name in LineForm.base_fields}
    form = LineForm(_posted(request), initial=initial, prefix="line")
    if request.method == "POST" and form.is_valid():
        try:
            services.update_line(
                line,
                by=membership,
                **{name: form.cleaned_data[name] for name in LineForm.EDITABLE},
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if not is_htmx(request):
                messages.success(request, f"Line {line.position} saved.")
                return redirect("invoicing:detail", pk=invoice.pk)
            invoice.refresh_from_db()
            return _detail(request, invoice, partial=True)
    status = 400 if form.errors else 200
    return _detail(
        request, invoice, status=status, partial=is_htmx(request), editing=line.pk, line_form=form
    )


@member_required
@require_POST
def line_delete(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    line = _line(membership, pk)
    invoice = line.invoice
    try:
        services.delete_line(line, by=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Line {line.position} removed.")
    return _go(request, reverse("invoicing:detail", kwargs={"pk": invoice.pk}))


@member_required
@require_POST
def line_add(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    invoice = _invoice(membership, pk)
    form = AddLineForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_line(
                invoice,
                by=membership,
                description=data["description"],
                quantity=data["quantity"],
                unit=data["unit"],
                unit_price=data["unit_price"],
                discount_percent=data["discount_percent"],
                surcharge_percent=data["surcharge_percent"],
                tax_category=data["tax_category"] or None,
                tax_rate=data["tax_rate"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Line added.")
            return redirect("invoicing:detail", pk=invoice.pk)
    return _detail(request, invoice, status=400, add_form=form)


@member_required
@require_POST
def discount(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    invoice = _invoice(membership, pk)
    form = DiscountForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.set_discount(
                    invoice, by=membership, discount_percent=data["discount_percent"]
                )
                services.set_surcharge(
                    invoice,
                    by=membership,
                    surcharge_percent=data["surcharge_percent"] or Decimal(0),
                    reason=data["surcharge_reason"],
                )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Discount and surcharge saved.")
            return redirect("invoicing:detail", pk=invoice.pk)
    return _detail(request, invoice, status=400, discount_form=form)


@member_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    invoice = _invoice(membership, pk)
    try:
        services.delete_draft(invoice, by=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _go(request, reverse("invoicing:detail", kwargs={"pk": invoice.pk}))
    messages.success(request, f"Draft for {invoice.client.name} deleted; its work is unbilled.")
    return _go(request, reverse("invoicing:list"))


@member_required
@require_POST
def issue(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    invoice = _invoice(membership, pk)
    try:
        issued = services.issue_invoice(invoice, by=membership)
    except ValidationError as exc:
        return _detail(request, invoice, status=400, issue_error=" ".join(exc.messages))
    messages.success(request, f"Invoice {issued.number} issued.")
    return redirect("invoicing:detail", pk=issued.pk)


def _credit_choices(invoice: Invoice) -> list[tuple[str, str]]:
    remaining = invoice.lines.filter(credited_by__isnull=True).order_by("position")
    return [
        (str(line.pk), f"{line.position}. {line.description} ({line.net_amount:.2f})")
        for line in remaining
    ]


@member_required
@require_POST
def credit(request: HttpRequest, pk: int) -> HttpResponse:
    """A credit note for the chosen lines, or for everything left when none are chosen."""
    membership = _biller(request)
    invoice = _invoice(membership, pk)
    form = CreditForm(request.POST, choices=_credit_choices(invoice))
    if not form.is_valid():
        return _detail(request, invoice, status=400, credit_form=form)
    chosen = form.cleaned_data["lines"]
    lines = list(invoice.lines.filter(pk__in=chosen)) if chosen else None
    try:
        note = services.credit_invoice(
            invoice, by=membership, lines=lines, issue_date=form.cleaned_data["issue_date"]
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return _detail(request, invoice, status=400, credit_form=form)
    messages.success(request, f"Credit note {note.number} issued for {invoice.number}.")
    return redirect("invoicing:detail", pk=note.pk)


@member_required
@require_POST
def details(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _biller(request)
    invoice = _invoice(membership, pk)
    form = DetailsForm(request.POST)
    if form.is_valid():
        try:
            services.update_details(invoice, by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("invoicing:detail", pk=invoice.pk)
    return _detail(request, invoice, status=400, details_form=form)


@member_required
def send(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the email as it will go out, editable; POST: send it with the stored PDF."""
    membership = _biller(request)
    invoice = _invoice(membership, pk)
    if invoice.is_draft:
        messages.error(request, "Issue the draft before sending it.")
        return redirect("invoicing:detail", pk=invoice.pk)
    recipients = sending.default_recipients(invoice)
    subject, body = sending.wording(invoice)
    initial = {
        "to": ", ".join(recipients.to),
        "cc": ", ".join(recipients.cc),
        "bcc": ", ".join(recipients.bcc),
        "subject": subject,
        "body": body,
    }
    form = SendForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            event = sending.send_invoice(
                invoice,
                by=membership,
                to=[data["to"]],
                cc=[data["cc"]],
                bcc=[data["bcc"]],
                subject=data["subject"],
                body=data["body"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{invoice.number} sent to {', '.join(event.detail['to'])}.")
            return redirect("invoicing:detail", pk=invoice.pk)
    status = 400 if form.errors else 200
    context = {"invoice": invoice, "form": form, "sent": sending.last_sent(invoice)}
    return render(request, "invoicing/send.html", context, status=status)


# The chain -------------------------------------------------------------------------------


@member_required
def verify(request: HttpRequest) -> HttpResponse:
    membership = _biller(request)
    organization = membership.organization
    broken = services.verify_chain(organization)
    count = Invoice.objects.filter(organization=organization, status=InvoiceStatus.ISSUED).count()
    return render(request, "invoicing/verify.html", {"broken": broken, "count": count})


@member_required
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft's pages as images, drawn by the same template as its PDF."""
    from punchclock.invoicing.documents.pdf import DocumentError, render_pages

    invoice = _invoice(_biller(request), pk)
    try:
        pages = render_pages(invoice)
    except DocumentError as exc:
        return render(request, "invoicing/_preview.html", {"error": str(exc)}, status=400)
    images = [base64.b64encode(page).decode() for page in pages]
    return render(request, "invoicing/_preview.html", {"images": images, "invoice": invoice})


@member_required
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """An issued invoice's stored PDF (the exact bytes issued); a draft's live preview."""
    from punchclock.invoicing.documents.pdf import DocumentError, render_pdf

    invoice = _invoice(_biller(request), pk)
    stored = services.stored_pdf(invoice) if invoice.number else None
    if stored is not None:
        content, name = bytes(stored.content), f"{invoice.number}.pdf"
    else:
        try:
            content = render_pdf(invoice)
        except DocumentError as exc:
            return render(
                request,
                "error.html",
                {"title": "The invoice could not be rendered", "message": str(exc), "status": 400},
                status=400,
            )
        name = f"draft-{invoice.pk}.pdf"
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# E-invoices -----------------------------------------------------------------------------


def _einvoice_rows(invoice: Invoice) -> list[dict[str, Any]]:
    from punchclock.invoicing.documents.einvoice import formats

    wanted = invoice.snapshot.get("einvoice_format", "")
    return [
        {"code": code, "label": found.label, "preferred": code == wanted}
        for code, found in formats.FORMATS.items()
    ]


@member_required
def einvoice_download(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """An issued document as XML in one of the EN 16931 formats."""
    from punchclock.invoicing.documents.einvoice import formats
    from punchclock.invoicing.documents.einvoice.model import EInvoiceError

    invoice = _invoice(_biller(request), pk)
    if invoice.is_draft or code not in formats.FORMATS:
        raise Http404("No such e-invoice.")
    try:
        content = formats.write(invoice, code)
    except EInvoiceError as exc:
        return render(
            request,
            "error.html",
            {"title": "No e-invoice in this format", "message": str(exc), "status": 400},
            status=400,
        )
    response = HttpResponse(content, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{formats.filename(invoice, code)}"'
    return response


@member_required
@require_POST
def einvoice_validate(request: HttpRequest, pk: int) -> HttpResponse:
    """Check every format of an issued document against the official EN 16931 rules."""
    from punchclock.invoicing.documents.einvoice import formats

    invoice = _invoice(_biller(request), pk)
    if invoice.is_draft:
        raise Http404("Drafts have no e-invoice yet.")
    results = formats.check_all(invoice)
    return _detail(request, invoice, validation_results=results)
