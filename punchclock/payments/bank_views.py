"""Bank import pages: upload a statement, reconcile its lines with open invoices.

Every page needs payments.manage (owners and admins). Each view parses input, calls one
service of bank.py, renders."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.clients.forms import field_groups
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx
from punchclock.core.money import Money
from punchclock.invoicing.models import Invoice
from punchclock.payments import bank
from punchclock.payments.bank_forms import GROUPS, StatementUploadForm
from punchclock.payments.models import BankLine, BankStatement
from punchclock.payments.receivables import OpenInvoice
from punchclock.payments.statements import StatementError, check_size, is_xml

PAGE_SIZE = 25
LINES_PER_PAGE = 100
SHOW = {"open": "To reconcile", "all": "All lines"}
LONGEST_ID = 18  # digits; longer cannot be a database id


def _manager(request: HttpRequest) -> Membership:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    require(membership, "payments.manage")
    return membership


def _statement(membership: Membership, pk: int) -> BankStatement:
    found = BankStatement.objects.filter(organization_id=membership.organization_id, pk=pk).first()
    if found is None:
        raise Http404("No such statement.")
    return found


def _line(membership: Membership, pk: int) -> BankLine:
    found = BankLine.objects.filter(organization_id=membership.organization_id, pk=pk).first()
    if found is None:
        raise Http404("No such bank line.")
    return found


def _statement_url(statement_id: int, line_id: int | None = None) -> str:
    url = reverse("payments:bank_statement", kwargs={"pk": statement_id})
    return f"{url}#line-{line_id}" if line_id else url


# Upload ----------------------------------------------------------------------------------


@member_required
def bank_index(request: HttpRequest) -> HttpResponse:
    """GET: the upload form and recent statements; POST: import a statement."""
    membership = _manager(request)
    organization = membership.organization
    posted = request.method == "POST"
    form = StatementUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        saved=bank.saved_mapping(organization),
        currency=organization.default_currency,
    )
    if posted and form.is_valid():
        done = _import(request, membership, form)
        if done is not None:
            return done
    statements = BankStatement.objects.filter(organization=organization).annotate(
        to_reconcile=Count(
            "lines", filter=Q(lines__status=BankLine.Status.OPEN, lines__amount__gt=0)
        )
    )
    statements = statements.select_related("uploaded_by").order_by("-uploaded_at", "-pk")
    page = Paginator(statements, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "groups": field_groups(form, GROUPS),
        "page": page,
    }
    return render(request, "payments/bank/index.html", context, status=400 if form.errors else 200)


def _import(
    request: HttpRequest, membership: Membership, form: StatementUploadForm
) -> HttpResponse | None:
    """Import the uploaded statement and go to it, or leave the errors on the form."""
    upload: UploadedFile = form.cleaned_data["file"]
    try:
        check_size(upload.size or 0)  # before reading it into memory
    except StatementError as exc:
        form.add_error("file", str(exc))
        return None
    data = upload.read()
    try:
        statement = bank.import_statement(
            membership.organization,
            by=membership,
            data=data,
            filename=upload.name or "statement",
            mapping=None if is_xml(data) else form.mapping(),
        )
    except bank.AlreadyImported as exc:
        messages.warning(request, " ".join(exc.messages))
        if exc.statement is not None:
            return redirect(_statement_url(exc.statement.pk))
        return redirect("payments:bank")
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return None
    messages.success(request, _imported_message(statement))
    return redirect(_statement_url(statement.pk))


def _imported_message(statement: BankStatement) -> str:
    message = f"{statement.new_lines} new line{'s' if statement.new_lines != 1 else ''} imported"
    if duplicates := statement.line_count - statement.new_lines:
        message += f"; {duplicates} {'was' if duplicates == 1 else 'were'} imported before"
    proposed = statement.lines.filter(proposed_invoice__isnull=False).count()
    return f"{message}. {proposed} with a proposed invoice."


# A statement's lines ---------------------------------------------------------------------


@dataclass
class LineRow:
    """One line of the statement page with what its controls need."""

    line: BankLine
    options: SafeString  # <option>s of the open invoices in its currency
    proposal: OpenInvoice | None  # the proposed invoice while it is still open
    checked: bool = False
    error: str = ""

    @property
    def confirmable(self) -> bool:
        return self.line.status == BankLine.Status.OPEN and self.line.amount > 0

    @property
    def paid_invoices(self) -> list[Invoice]:
        payment = getattr(self.line, "payment", None)
        return [a.invoice for a in payment.allocations.all()] if payment else []


class Reconciler:
    """The open invoices of an organization, as choices per currency (rendered once each)."""

    def __init__(self, membership: Membership) -> None:
        self.by_id: dict[int, OpenInvoice] = {}
        by_currency: dict[str, list[OpenInvoice]] = defaultdict(list)
        for found in bank.open_invoices(membership.organization):
            self.by_id[found.invoice.pk] = found
            by_currency[found.invoice.currency].append(found)
        # One invoice select per line; Django's widget rendering would take seconds for a
        # long statement, so the options of each currency are written once, here.
        self.options = {code: _options(found) for code, found in by_currency.items()}

    def row(
        self,
        line: BankLine,
        *,
        selected: int | None = None,
        checked: bool = False,
        error: str = "",
    ) -> LineRow:
        chosen = selected if selected is not None else line.proposed_invoice_id
        html = self.options.get(line.currency, "")
        if chosen is not None:
            html = html.replace(f'value="{chosen}"', f'value="{chosen}" selected', 1)
        proposal = self.by_id.get(line.proposed_invoice_id or 0)
        # Every label in the options is escaped by _options.
        return LineRow(line, mark_safe(html), proposal, checked, error)


def _options(found: list[OpenInvoice]) -> str:
    parts = ['<option value="">Choose the invoice…</option>']
    for item in found:
        invoice, balance = item.invoice, item.balance
        label = (
            f"{invoice.number} · {invoice.client.name} · "
            f"{Money(balance.balance, balance.currency).format('en')} open"
        )
        parts.append(f'<option value="{invoice.pk}">{escape(label)}</option>')
    return "".join(parts)


def _with_payments(lines: QuerySet[BankLine]) -> QuerySet[BankLine]:
    return lines.select_related("payment").prefetch_related("payment__allocations__invoice")


def _statement_page(
    request: HttpRequest,
    membership: Membership,
    statement: BankStatement,
    *,
    errors: dict[int, str] | None = None,
    selected: dict[int, int] | None = None,
    status: int = 200,
) -> HttpResponse:
    errors, selected = errors or {}, selected or {}
    show = request.GET.get("show", "open")
    show = show if show in SHOW else "open"
    every = statement.lines.all()
    to_reconcile = every.filter(status=BankLine.Status.OPEN, amount__gt=0)
    shown = _with_payments(to_reconcile if show == "open" else every)
    # Pages of lines keep a long statement's page light: each line carries a select of the
    # open invoices.
    page = Paginator(shown, LINES_PER_PAGE).get_page(request.GET.get("page"))
    reconciler = Reconciler(membership)
    rows = [
        reconciler.row(
            line,
            selected=selected.get(line.pk),
            checked=line.pk in errors,
            error=errors.get(line.pk, ""),
        )
        for line in page.object_list
    ]
    context = {
        "statement": statement,
        "rows": rows,
        "page": page,
        "show": show,
        "shows": SHOW,
        "counts": {"open": to_reconcile.count(), "all": every.count()},
    }
    return render(request, "payments/bank/statement.html", context, status=status)


@member_required
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _manager(request)
    return _statement_page(request, membership, _statement(membership, pk))


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit() and len(v) <= LONGEST_ID]


@member_required
@require_POST
def confirm_lines(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the selected lines as payments of the invoices chosen beside them."""
    membership = _manager(request)
    statement = _statement(membership, pk)
    lines = statement.lines.filter(pk__in=_ids(request.POST.getlist("line"))).order_by("pk")
    if not lines:
        messages.error(request, "Select the lines to record as payments.")
        return redirect(_statement_url(statement.pk))
    chosen = {
        line.pk: next(iter(_ids([request.POST.get(f"invoice_{line.pk}", "")])), None)
        for line in lines
    }
    invoices = Invoice.objects.filter(
        organization_id=membership.organization_id, pk__in=[i for i in chosen.values() if i]
    ).select_related("organization", "client")
    found = {invoice.pk: invoice for invoice in invoices}
    choices, errors = [], {}
    for line in lines:
        invoice = found.get(chosen[line.pk] or 0)
        if invoice is None:
            errors[line.pk] = "Choose the invoice this payment is for."
        else:
            choices.append((line, invoice))
    payments, failed = bank.confirm_many(choices, by=membership)
    errors |= failed
    if payments:
        count = len(payments)
        messages.success(request, f"{count} payment{'s' if count != 1 else ''} recorded.")
    if errors:
        messages.error(request, f"{len(errors)} could not be recorded; see the lines marked.")
        selected = {pk: invoice for pk, invoice in chosen.items() if invoice}
        return _statement_page(
            request, membership, statement, errors=errors, selected=selected, status=400
        )
    return redirect(_statement_url(statement.pk))


@member_required
@require_POST
def line_ignore(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_status(request, pk, ignoring=True)


@member_required
@require_POST
def line_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _change_status(request, pk, ignoring=False)


def _change_status(request: HttpRequest, pk: int, *, ignoring: bool) -> HttpResponse:
    """Ignore or reopen a line; htmx gets the line's row back, others the statement page."""
    membership = _manager(request)
    line = _line(membership, pk)
    error = ""
    try:
        line = (bank.ignore if ignoring else bank.reopen)(line, by=membership)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if is_htmx(request):
        line = _with_payment(line)
        row = Reconciler(membership).row(line, error=error)
        return render(
            request,
            "payments/bank/statement.html#line_row",
            {"row": row},
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Line ignored." if ignoring else "Line reopened.")
    return redirect(_statement_url(line.statement_id, line.pk))


def _with_payment(line: BankLine) -> BankLine:
    return _with_payments(BankLine.objects.filter(pk=line.pk)).get()
