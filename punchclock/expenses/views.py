"""Expense pages: list, form with a live preview, detail with receipts, approvals, categories,
exchange rates and reimbursements. Each view parses input, calls one service, renders."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can, require
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx
from punchclock.core.money import Money
from punchclock.core.timeutil import local_date, now
from punchclock.expenses import services
from punchclock.expenses.forms import (
    CategoryForm,
    DecideForm,
    ExpenseFilterForm,
    ExpenseForm,
    ManualRateForm,
    PeriodForm,
    RatesFileForm,
    last_month,
    read_uploads,
)
from punchclock.expenses.models import (
    ExchangeRate,
    Expense,
    ExpenseCategory,
    ExpenseStatus,
    Receipt,
)

PAGE_SIZE = 25
# Receipts are user uploads: the browser may show them, but never run anything in them.
RECEIPT_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _posted(request: HttpRequest) -> QueryDict | None:
    """The submitted data, even when empty: an empty POST must fail validation, not pass."""
    return request.POST if request.method == "POST" else None


def _today(membership: Membership) -> Any:
    return local_date(now(), membership.organization.timezone)


# List ------------------------------------------------------------------------------------


def _filtered(expenses: QuerySet[Expense], filters: ExpenseFilterForm) -> QuerySet[Expense]:
    lookups = {
        "start": "spent_on__gte",
        "end": "spent_on__lte",
        "client": "client",
        "project": "project",
        "category": "category",
        "person": "membership",
        "status": "status",
    }
    for name, lookup in lookups.items():
        if name in filters.fields and (value := filters.value(name)):
            expenses = expenses.filter(**{lookup: value})
    for flag in ("billable", "reimbursable"):
        if value := filters.value(flag):
            expenses = expenses.filter(**{flag: value == "yes"})
    return expenses


def _totals(expenses: QuerySet[Expense]) -> tuple[list[Money], list[Money]]:
    """Amounts per currency and billable amounts per client currency, summed as Decimals."""
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    billable: dict[str, Decimal] = defaultdict(Decimal)
    # Summed in Python: SQLite stores decimals as REAL, so SUM() there is not exact. The pk
    # keeps two equal expenses apart when visible_expenses() is DISTINCT.
    rows = expenses.order_by().values_list(
        "pk", "currency", "amount", "billable", "client_currency", "billable_amount"
    )
    for _pk, currency, amount, is_billable, client_currency, billable_amount in rows:
        amounts[currency] += amount
        if is_billable:
            billable[client_currency] += billable_amount
    return (
        [Money(amounts[c], c) for c in sorted(amounts)],
        [Money(billable[c], c) for c in sorted(billable)],
    )


@member_required
def expense_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    filters = ExpenseFilterForm(request.GET, membership=membership)
    expenses = _filtered(services.visible_expenses(membership), filters)
    amounts, billable = _totals(expenses)
    counted = (
        Receipt.objects.filter(expense=OuterRef("pk"))
        .order_by()
        .values("expense")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        expenses.select_related("client", "project__client", "category", "membership__user")
        .annotate(receipt_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0))
        .order_by("-spent_on", "-pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "page": page,
        "filtered": filters.is_filtered(),
        "amount_totals": amounts,
        "billable_totals": billable,
        "show_person": can(membership, "expenses.view_all") or membership.role == "manager",
    }
    template = "expenses/list.html#results" if is_htmx(request) else "expenses/list.html"
    return render(request, template, context)


# Form and preview --------------------------------------------------------------------------


@member_required
def expense_new(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    require(membership, "expenses.record")
    initial = {
        "spent_on": _today(membership),
        "currency": membership.organization.default_currency,
        "amount_includes_tax": True,
    }
    form = ExpenseForm(
        _posted(request), request.FILES or None, membership=membership, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            expense = services.record_expense(
                membership,
                by=membership,
                data=form.to_input(),
                receipts=read_uploads(form.cleaned_data["receipts"]),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Expense “{expense.description}” recorded.")
            return redirect("expenses:detail", pk=expense.pk)
    return _form_page(request, form, expense=None)


@member_required
def expense_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    expense = services.get_expense_for(membership, pk)
    if not services.can_edit(membership, expense):
        raise PermissionDenied("This expense can no longer be changed by you.")
    form = ExpenseForm(
        _posted(request),
        request.FILES or None,
        membership=membership,
        initial=ExpenseForm.initial_for(expense),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_expense(
                expense,
                by=membership,
                data=form.to_input(),
                receipts=read_uploads(form.cleaned_data["receipts"]),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Expense saved.")
            return redirect("expenses:detail", pk=expense.pk)
    return _form_page(request, form, expense=expense)


def _form_page(request: HttpRequest, form: ExpenseForm, *, expense: Expense | None) -> HttpResponse:
    status = 400 if form.errors else 200
    context = {"form": form, "expense": expense, "preview": _preview(request, form)}
    return render(request, "expenses/form.html", context, status=status)


def _preview(request: HttpRequest, form: ExpenseForm) -> dict[str, Any]:
    """The numbers the form would save, or why there are none yet."""
    if not form.is_bound:
        return {"hint": "Choose a client, a category and give the amount to see the totals."}
    if not hasattr(form, "cleaned_data"):
        form.is_valid()
    data = form.to_input()
    if (data.client is None and data.project is None) or data.category is None:
        return {"hint": "Choose a client, a category and give the amount to see the totals."}
    try:
        return {"numbers": services.preview_expense(_membership(request), data=data)}
    except (ValidationError, PermissionDenied) as exc:
        problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        return {"problems": problems}


@member_required
@require_POST
def expense_preview(request: HttpRequest) -> HttpResponse:
    """The live amount preview of the form: computes, never saves."""
    membership = _membership(request)
    form = ExpenseForm(request.POST, membership=membership)
    context = {"preview": _preview(request, form)}
    return render(request, "expenses/form.html#preview", context)


# Detail and its actions --------------------------------------------------------------------


@member_required
def expense_detail(request: HttpRequest, pk: int) -> HttpResponse:
    expense = services.get_expense_for(_membership(request), pk)
    return _detail(request, expense)


def _detail(
    request: HttpRequest, expense: Expense, *, status: int = 200, **overrides: Any
) -> HttpResponse:
    membership = _membership(request)
    may_decide = services.expenses_to_decide(membership).filter(pk=expense.pk).exists()
    context = {
        "expense": expense,
        "receipts": list(expense.receipts.all()),
        "may_edit": services.can_edit(membership, expense),
        "may_submit": expense.membership_id == membership.pk
        and expense.status in (ExpenseStatus.DRAFT, ExpenseStatus.REJECTED),
        "may_decide": may_decide,
        "decide_form": DecideForm(auto_id="id_decide_%s"),
        "decide_error": None,
    } | overrides
    return render(request, "expenses/detail.html", context, status=status)


@member_required
@require_POST
def expense_submit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    expense = services.get_expense_for(membership, pk)
    if services.submit_expenses(membership, expenses=[expense]):
        messages.success(request, "Expense submitted for approval.")
    return redirect("expenses:detail", pk=expense.pk)


@member_required
@require_POST
def expense_decide(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    expense = services.get_expense_for(membership, pk)
    form = DecideForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.decide_expense(
                expense,
                by=membership,
                approve=form.cleaned_data["decision"] == "approve",
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = "Choose approve or reject."
    if is_htmx(request):
        context = {"expense": expense, "error": error, "comment": request.POST.get("comment", "")}
        status = 400 if error else 200
        return render(request, "expenses/approvals.html#row", context, status=status)
    if error:
        return _detail(request, expense, status=400, decide_error=error)
    messages.success(request, f"Expense {expense.get_status_display().lower()}.")
    return redirect("expenses:detail", pk=expense.pk)


@member_required
@require_POST
def expense_delete(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    expense = services.get_expense_for(membership, pk)
    services.delete_expense(expense, by=membership)
    messages.success(request, f"Expense “{expense.description}” deleted.")
    return _go(request, reverse("expenses:list"))


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect; htmx (which asked to confirm first) is told to load the page instead."""
    if is_htmx(request):
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@member_required
@require_POST
def receipt_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    receipt = services.get_receipt_for(membership, pk)
    services.remove_receipt(receipt, by=membership)
    messages.success(request, f"Receipt “{receipt.original_name}” removed.")
    return _go(request, reverse("expenses:detail", kwargs={"pk": receipt.expense_id}))


@member_required  # type: ignore[arg-type]  # a streamed file, not an HttpResponse
def receipt_file(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A receipt, streamed only to members who may see its expense; never a public URL."""
    receipt = services.get_receipt_for(_membership(request), pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    try:
        handle = receipt.file.storage.open(receipt.file.name or "", "rb")
    except OSError as exc:
        raise Http404("The receipt file is missing.") from exc
    response = FileResponse(handle, content_type=receipt.content_type)
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=False, filename=receipt.original_name) or "inline"
    )
    response["Content-Security-Policy"] = RECEIPT_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


# Approvals -------------------------------------------------------------------------------


@member_required
def approvals(request: HttpRequest) -> HttpResponse:
    pending = (
        services.expenses_to_decide(_membership(request))
        .select_related("client", "project", "category", "membership__user")
        .annotate(receipt_count=Count("receipts"))
        .order_by("spent_on", "pk")
    )
    return render(request, "expenses/approvals.html", {"pending": list(pending)})


# Categories ------------------------------------------------------------------------------


def _category_for(membership: Membership, pk: int) -> ExpenseCategory:
    category = ExpenseCategory.objects.filter(
        organization_id=membership.organization_id, pk=pk
    ).first()
    if category is None:
        raise Http404("No such category.")
    return category


@member_required
def categories(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    require(membership, "expenses.categories")
    form = CategoryForm(_posted(request), auto_id="id_new_%s")
    if request.method == "POST" and form.is_valid():
        try:
            category = services.save_category(None, by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Category “{category.name}” added.")
            return redirect("expenses:categories")
    return _categories_page(request, form=form)


def _categories_page(
    request: HttpRequest, *, form: CategoryForm, editing: ExpenseCategory | None = None
) -> HttpResponse:
    membership = _membership(request)
    rows = ExpenseCategory.objects.filter(organization_id=membership.organization_id).order_by(
        "is_archived", "name"
    )
    context = {
        "categories": list(rows),
        "form": form,
        "editing": editing,
        "currency": membership.organization.default_currency,
    }
    return render(request, "expenses/categories.html", context, status=400 if form.errors else 200)


@member_required
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    category = _category_for(membership, pk)
    require(membership, "expenses.categories")
    form = CategoryForm(_posted(request), initial=CategoryForm.initial_for(category))
    if request.method == "POST" and form.is_valid():
        try:
            services.save_category(category, by=membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
            category.refresh_from_db()
        else:
            messages.success(request, f"Category “{category.name}” saved.")
            return redirect("expenses:categories")
    return _categories_page(request, form=form, editing=category)


@member_required
@require_POST
def category_archive(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    category = _category_for(membership, pk)
    archived = not category.is_archived
    services.save_category(category, by=membership, is_archived=archived)
    verb = "archived" if archived else "restored"
    messages.success(request, f"Category “{category.name}” {verb}.")
    return redirect("expenses:categories")


# Exchange rates --------------------------------------------------------------------------


def _latest_rates(membership: Membership) -> list[ExchangeRate]:
    rates = ExchangeRate.objects.filter(organization_id=membership.organization_id)
    latest = rates.order_by().values("currency").annotate(day=Max("on"))
    if not latest:
        return []
    wanted = Q()
    for row in latest:
        wanted |= Q(currency=row["currency"], on=row["day"])
    # On one day a rate entered by hand wins over the ECB's, as in conversion().
    found: dict[str, ExchangeRate] = {}
    for rate in rates.filter(wanted).order_by("currency", "-source"):
        found.setdefault(rate.currency, rate)
    return [found[c] for c in sorted(found)]


def _rates_page(
    request: HttpRequest,
    *,
    file_form: RatesFileForm | None = None,
    manual_form: ManualRateForm | None = None,
) -> HttpResponse:
    membership = _membership(request)
    file_form = file_form or RatesFileForm(auto_id="id_file_%s")
    manual_form = manual_form or ManualRateForm(
        auto_id="id_manual_%s", initial={"on": _today(membership)}
    )
    context = {
        "rates": _latest_rates(membership),
        "file_form": file_form,
        "manual_form": manual_form,
    }
    status = 400 if file_form.errors or manual_form.errors else 200
    return render(request, "expenses/rates.html", context, status=status)


@member_required
def rates(request: HttpRequest) -> HttpResponse:
    require(_membership(request), "expenses.manage_all")
    return _rates_page(request)


@member_required
@require_POST
def rates_import(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    require(membership, "expenses.manage_all")
    form = RatesFileForm(request.POST, request.FILES, auto_id="id_file_%s")
    if form.is_valid():
        try:
            added = services.import_ecb_rates(
                membership.organization, by=membership, data=form.cleaned_data["file"].read()
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if added:
                messages.success(request, f"{added} new exchange rates imported.")
            else:
                messages.success(request, "0 new rates: these were all imported before.")
            return redirect("expenses:rates")
    return _rates_page(request, file_form=form)


@member_required
@require_POST
def rates_manual(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    require(membership, "expenses.manage_all")
    form = ManualRateForm(request.POST, auto_id="id_manual_%s")
    if form.is_valid():
        try:
            rate = services.set_manual_rate(
                membership.organization, by=membership, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Saved: 1 EUR = {rate.rate.normalize():f} {rate.currency}.")
            return redirect("expenses:rates")
    return _rates_page(request, manual_form=form)


# Reimbursements --------------------------------------------------------------------------


def _period(request: HttpRequest) -> PeriodForm:
    """The period from the query string, last month when none is given."""
    if "start" in request.GET or "end" in request.GET:
        form = PeriodForm(request.GET)
    else:
        start, end = last_month(_today(_membership(request)))
        form = PeriodForm({"start": start.isoformat(), "end": end.isoformat()})
    form.is_valid()
    return form


@member_required
def reimbursements(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    require(membership, "expenses.manage_all")
    form = _period(request)
    rows: list[services.ReimbursementRow] = []
    totals: dict[str, Decimal] = defaultdict(Decimal)
    if not form.errors:
        rows = services.reimbursements(
            membership.organization, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        for row in rows:
            totals[row.currency] += row.total
    context = {
        "form": form,
        "rows": rows,
        "totals": [Money(totals[c], c) for c in sorted(totals)],
        "csv_query": ""
        if form.errors
        else urlencode({"start": form.cleaned_data["start"], "end": form.cleaned_data["end"]}),
    }
    return render(
        request, "expenses/reimbursements.html", context, status=400 if form.errors else 200
    )


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


@member_required
def reimbursements_csv(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    require(membership, "expenses.manage_all")
    form = _period(request)
    if form.errors:
        return HttpResponse("Give a valid period (start and end).", status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    rows = services.reimbursements(membership.organization, start=start, end=end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=f"reimbursements-{start}-{end}.csv")
        or "attachment"
    )
    writer = csv.writer(response)
    writer.writerow(["Person", "Email", "Currency", "Expenses", "Total"])
    for row in rows:
        cells = [row.person, row.email, row.currency, row.count, f"{row.total:f}"]
        writer.writerow([csv_cell(cell) for cell in cells])
    return response
