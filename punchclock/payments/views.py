"""Payments by hand: the panel on an invoice, recording, refunds, credit, and the history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can, require
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx
from punchclock.core.timeutil import local_date, now
from punchclock.invoicing.models import Invoice, InvoiceKind
from punchclock.payments import services
from punchclock.payments.balances import balance_of, client_credit, with_balances
from punchclock.payments.forms import PaymentFilterForm, PaymentForm, RefundForm
from punchclock.payments.models import Allocation, Payment

PAGE_SIZE = 50


def _manager(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    require(membership, "payments.manage")
    return membership


def _invoice(membership: Membership, pk: int) -> Invoice:
    invoice = (
        with_balances(Invoice.objects.filter(organization_id=membership.organization_id, pk=pk))
        .select_related("client", "organization")
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def _payment(membership: Membership, pk: int) -> Payment:
    payment = Payment.objects.filter(organization_id=membership.organization_id, pk=pk).first()
    if payment is None:
        raise Http404("No such payment.")
    return payment


def _today(membership: Membership) -> Any:
    return local_date(now(), membership.organization.timezone)


def invoice_panel(
    invoice: Invoice, membership: Membership, form: PaymentForm | None = None
) -> dict[str, Any] | None:
    """What the invoice page shows about money: balance, state, payments, forms."""
    if invoice.is_draft or not can(membership, "payments.manage"):
        return None
    if not hasattr(invoice, "paid_e4"):
        invoice = _invoice(membership, invoice.pk)
    today = _today(membership)
    balance = balance_of(invoice, today)
    allocations = (
        Allocation.objects.filter(invoice=invoice)
        .select_related("payment")
        .order_by("payment__received_on", "pk")
    )
    credit = client_credit(invoice.client_id).get(invoice.currency)
    return {
        "balance": balance,
        "allocations": list(allocations),
        "is_invoice": invoice.kind == InvoiceKind.INVOICE,
        "credit": credit if credit and credit > 0 and balance.balance > 0 else None,
        "payment_form": form
        or PaymentForm(
            initial={
                "amount": balance.balance if balance.balance > 0 else None,
                "received_on": today,
                "method": "transfer",
            }
        ),
        "refund_form": RefundForm(initial={"refunded_on": today}),
    }


def _back(invoice_pk: int) -> HttpResponse:
    return redirect(reverse("invoicing:detail", kwargs={"pk": invoice_pk}) + "#payments")


@member_required
@require_POST
def record(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _manager(request)
    invoice = _invoice(membership, pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_payment(
                invoice,
                services.PaymentInput(
                    amount=data["amount"],
                    received_on=data["received_on"],
                    method=data["method"],
                    currency=(data["currency"] or "").strip().upper(),
                    exchange_rate=data["exchange_rate"],
                    reference=data["reference"],
                    note=data["note"],
                ),
                by=membership,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Payment recorded.")
            return _back(invoice.pk)
    from punchclock.invoicing.views import render_detail

    return render_detail(request, invoice.pk, status=400, payment_form=form)


@member_required
@require_POST
def use_credit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _manager(request)
    invoice = _invoice(membership, pk)
    try:
        allocations = services.apply_credit(invoice, by=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        used = sum(a.amount for a in allocations)
        messages.success(request, f"{used:.2f} {invoice.currency} of credit used.")
    return _back(invoice.pk)


@member_required
@require_POST
def refund(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _manager(request)
    payment = _payment(membership, pk)
    form = RefundForm(request.POST)
    back = request.POST.get("invoice")
    if form.is_valid():
        try:
            services.refund_payment(
                payment,
                by=membership,
                amount=form.cleaned_data["amount"],
                on=form.cleaned_data["refunded_on"],
                reference=form.cleaned_data["reference"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Refund recorded.")
    else:
        messages.error(request, "Enter the amount returned and the date.")
    if back and back.isdigit():
        return _back(int(back))
    return redirect("payments:list")


@member_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _manager(request)
    payment = _payment(membership, pk)
    back = request.POST.get("invoice")
    try:
        services.delete_payment(payment, by=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Payment deleted.")
    if back and back.isdigit():
        return _back(int(back))
    return redirect("payments:list")


@member_required
def payment_list(request: HttpRequest) -> HttpResponse:
    membership = _manager(request)
    clients = membership.organization.clients.order_by("name")
    filters = PaymentFilterForm(request.GET or None, clients=clients)
    payments = Payment.objects.filter(organization_id=membership.organization_id)
    if filters.is_valid():
        if filters.cleaned_data["client"]:
            payments = payments.filter(client=filters.cleaned_data["client"])
        if filters.cleaned_data["method"]:
            payments = payments.filter(method=filters.cleaned_data["method"])
    rows = (
        payments.select_related("client", "refund_of")
        .prefetch_related(
            Prefetch("allocations", queryset=Allocation.objects.select_related("invoice"))
        )
        .order_by("-received_on", "-pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "payments/list.html#results" if is_htmx(request) else "payments/list.html"
    return render(request, template, {"page": page, "filters": filters})
