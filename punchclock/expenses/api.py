"""REST endpoints for expenses, receipts, categories, exchange rates and reimbursements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import can, visible_clients, visible_projects
from punchclock.api.auth import acting
from punchclock.api.errors import ERROR_RESPONSES, responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import Id, InputSchema, QuerySchema, amount_text, referenced
from punchclock.clients.models import Client
from punchclock.core.timeutil import local_date, now
from punchclock.expenses import services
from punchclock.expenses.models import (
    ExchangeRate,
    Expense,
    ExpenseCategory,
    ExpenseStatus,
    RateSource,
)
from punchclock.expenses.services import ExpenseInput
from punchclock.projects.models import Project
from punchclock.tracking.services import find_project

router = Router(tags=["Expenses"])

# Schemas ----------------------------------------------------------------------------------

# Decimals arrive as JSON numbers (parsed exactly) or strings; bounds keep absurd values from
# reaching arithmetic that would overflow the decimal context instead of failing validation.
Amount = Decimal | None
RATE = Field(None, gt=0, max_digits=18, decimal_places=8)


class Message(Schema):
    detail: str


class ReceiptOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str = Field(description="Download path under /api/v1")


class ExpenseOut(Schema):
    id: int
    person_id: int
    person: str
    client_id: int
    client: str
    project_id: int | None
    project: str | None = Field(description="The project's code, client/project")
    category_id: int
    category: str
    spent_on: date
    description: str
    vendor: str
    quantity: str | None
    unit: str
    amount: str
    currency: str
    tax_rate: str
    amount_includes_tax: bool
    net_amount: str
    billable: bool
    markup_percent: str
    reimbursable: bool
    client_currency: str
    exchange_rate: str
    rate_source: str
    rate_date: date | None
    billable_amount: str
    status: str
    comment: str
    decided_by: str | None
    decided_at: datetime | None
    receipts: list[ReceiptOut]


_WHERE = frozenset({"client", "client_id", "project", "project_id"})


class ExpenseIn(InputSchema):
    nullable = frozenset(
        {
            "client",
            "client_id",
            "project",
            "project_id",
            "category",
            "category_id",
            "person_id",
            "spent_on",
            "amount",
            "quantity",
            "tax_rate",
            "billable",
            "markup_percent",
            "exchange_rate",
        }
    )

    client: str | None = Field(None, max_length=100, description="Client code, e.g. acme")
    client_id: Id | None = None
    project: str | None = Field(None, max_length=200, description="Project code like acme/api")
    project_id: Id | None = None
    category: str | None = Field(None, max_length=100, description="Category name (any case)")
    category_id: Id | None = None
    person_id: Id | None = Field(None, description="Record for someone else (admins)")
    spent_on: date | None = Field(None, description="Default: today")
    description: str = Field(..., max_length=300)
    vendor: str = Field("", max_length=200)
    amount: Amount = Field(None, description="Gross unless amount_includes_tax is false")
    currency: str = Field("", max_length=3, description="ISO 4217; default the organization's")
    quantity: Amount = Field(None, gt=0, decimal_places=3, description="For unit categories")
    tax_rate: Amount = Field(None, description="Percent; default the category's")
    amount_includes_tax: bool = True
    billable: bool | None = None
    markup_percent: Amount = Field(None, description="Percent; default the category's")
    reimbursable: bool = False
    exchange_rate: Amount = RATE


class ExpensePatch(InputSchema):
    nullable = frozenset({"project", "project_id", "exchange_rate", "billable"})

    client: str | None = Field(None, max_length=100)
    client_id: Id | None = None
    project: str | None = Field(None, max_length=200, description="null: no project")
    project_id: Id | None = None
    category: str | None = Field(None, max_length=100)
    category_id: Id | None = None
    spent_on: date | None = None
    description: str | None = Field(None, max_length=300)
    vendor: str | None = Field(None, max_length=200)
    amount: Amount = None
    currency: str | None = Field(None, max_length=3)
    quantity: Amount = Field(None, gt=0, decimal_places=3)
    tax_rate: Amount = None
    amount_includes_tax: bool | None = None
    billable: bool | None = None
    markup_percent: Amount = None
    reimbursable: bool | None = None
    exchange_rate: Amount = RATE


class ExpenseFilter(PageQuery):
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to", description="Inclusive")
    client_id: Id | None = None
    project_id: Id | None = None
    category_id: Id | None = None
    person_id: Id | None = None
    status: str | None = Field(None, description=", ".join(ExpenseStatus.values))
    billable: bool | None = None
    reimbursable: bool | None = None


class SubmitIn(InputSchema):
    ids: list[Id] = Field(..., min_length=1, max_length=500)


class SubmittedOut(Schema):
    submitted: int


class DecisionIn(InputSchema):
    comment: str = Field("", max_length=2000)


class CategoryOut(Schema):
    id: int
    name: str
    unit: str
    unit_price: str | None
    default_tax_rate: str
    default_markup_percent: str
    billable_default: bool
    is_archived: bool


class CategoryFilter(PageQuery):
    archived: bool | None = Field(None, description="Default: active categories only")


class RateIn(InputSchema):
    currency: str = Field(..., max_length=3)
    rate: Decimal = Field(..., gt=0, max_digits=18, decimal_places=8, description="Per euro")
    on: date


class RateOut(Schema):
    id: int
    currency: str
    rate: str
    on: date
    source: str


class RateFilter(PageQuery):
    currency: str | None = Field(None, max_length=3)
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")
    source: str | None = Field(None, description="ecb or manual")


class ImportedOut(Schema):
    added: int


class ReimbursementQuery(QuerySchema):
    date_from: date = Field(..., alias="from")
    date_to: date = Field(..., alias="to", description="Inclusive")


class ReimbursementRowOut(Schema):
    person: str
    email: str
    currency: str
    count: int
    total: str


class ReimbursementsOut(Schema):
    start: date
    end: date
    rows: list[ReimbursementRowOut]


# Helpers ----------------------------------------------------------------------------------


def _expenses() -> QuerySet[Expense]:
    return Expense.objects.select_related(
        "client", "project__client", "category", "membership__user", "decided_by"
    ).prefetch_related("receipts")


def expense_out(expense: Expense) -> dict[str, Any]:
    currency, target = expense.currency, expense.client_currency
    return {
        "id": expense.pk,
        "person_id": expense.membership_id,
        "person": expense.membership.user.display_name,
        "client_id": expense.client_id,
        "client": expense.client.name,
        "project_id": expense.project_id,
        "project": expense.project.full_code if expense.project else None,
        "category_id": expense.category_id,
        "category": expense.category.name,
        "spent_on": expense.spent_on,
        "description": expense.description,
        "vendor": expense.vendor,
        "quantity": None if expense.quantity is None else format(expense.quantity.normalize(), "f"),
        "unit": expense.category.unit,
        "amount": amount_text(expense.amount, currency),
        "currency": currency,
        "tax_rate": format(expense.tax_rate.normalize(), "f"),
        "amount_includes_tax": expense.amount_includes_tax,
        "net_amount": amount_text(expense.net_amount, currency),
        "billable": expense.billable,
        "markup_percent": format(expense.markup_percent.normalize(), "f"),
        "reimbursable": expense.reimbursable,
        "client_currency": target,
        "exchange_rate": format(expense.exchange_rate.normalize(), "f"),
        "rate_source": expense.rate_source,
        "rate_date": expense.rate_date,
        "billable_amount": amount_text(expense.billable_amount, target),
        "status": expense.status,
        "comment": expense.comment,
        "decided_by": expense.decided_by.display_name if expense.decided_by else None,
        "decided_at": expense.decided_at,
        "receipts": [
            {
                "id": r.pk,
                "name": r.original_name,
                "content_type": r.content_type,
                "size": r.size,
                "url": f"/receipts/{r.pk}",
            }
            for r in expense.receipts.all()
        ],
    }


def _reload(expense: Expense) -> dict[str, Any]:
    return expense_out(_expenses().get(pk=expense.pk))


def _owner(me: Membership, person_id: int | None) -> Membership:
    if person_id is None or person_id == me.pk:
        return me
    owner = (
        Membership.objects.select_related("user", "organization")
        .filter(organization_id=me.organization_id, pk=person_id, is_active=True)
        .first()
    )
    if owner is None:
        raise ValidationError({"person_id": ["No such person in this organization."]})
    return owner


def _client(me: Membership, code: str | None, pk: int | None) -> Client | None:
    if pk is not None:
        return referenced(
            Client.objects.filter(organization_id=me.organization_id), pk, "client_id", "client"
        )
    if code is None:
        return None
    found = visible_clients(me).filter(code__iexact=code.strip()).first()
    if found is None:
        raise ValidationError({"client": [f"No client of yours has the code “{code}”."]})
    return found


def _project(me: Membership, code: str | None, pk: int | None) -> Project | None:
    if pk is not None:
        project = visible_projects(me).select_related("client").filter(pk=pk).first()
        if project is None:
            raise ValidationError({"project_id": ["No such project."]})
        return project
    if code is None:
        return None
    return find_project(me, code)


def _category(me: Membership, name: str | None, pk: int | None) -> ExpenseCategory | None:
    categories = ExpenseCategory.objects.filter(organization_id=me.organization_id)
    if pk is not None:
        return referenced(categories, pk, "category_id", "category")
    if name is None:
        return None
    text = name.strip()
    exact = categories.filter(name__iexact=text).first()
    if exact is not None:
        return exact
    # A unique prefix is enough from the terminal: "soft" for "Software and licences".
    matches = list(categories.filter(name__istartswith=text, is_archived=False)[:5]) if text else []
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(c.name for c in categories.filter(is_archived=False))
    raise ValidationError({"category": [f"No single category matches “{name}” (one of {known})."]})


def _where(
    me: Membership, payload: ExpenseIn | ExpensePatch
) -> tuple[Client | None, Project | None]:
    project = _project(me, payload.project, payload.project_id)
    client = _client(me, payload.client, payload.client_id)
    if project is not None and client is not None and project.client_id != client.pk:
        raise ValidationError({"project": [f"{project.full_code} is not a project of {client}."]})
    return (project.client if project else client), project


def _today(me: Membership) -> date:
    return local_date(now(), me.organization.timezone)


def _sees_all(me: Membership) -> bool:
    return can(me, "expenses.view_all")


def _file_bytes(upload: UploadedFile | None) -> tuple[str, bytes]:
    if upload is None:
        raise ValidationError({"file": ["Send the file as multipart/form-data field “file”."]})
    limit = settings.RECEIPT_MAX_BYTES
    # Checked before reading, so a huge upload is never pulled into memory.
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            {
                "file": [
                    f"“{upload.name}” is {upload.size / 1_048_576:.1f} MB; "
                    f"the limit is {limit / 1_048_576:.0f} MB."
                ]
            }
        )
    return upload.name or "upload", upload.read()


# Expenses ---------------------------------------------------------------------------------


@router.get("/expenses", response=responses(page_of(ExpenseOut)), summary="List expenses")
def list_expenses(request: HttpRequest, filters: Query[ExpenseFilter]) -> dict[str, Any]:
    me = acting(request)
    expenses = services.visible_expenses(me).select_related(
        "client", "project__client", "category", "membership__user", "decided_by"
    )
    if filters.status is not None:
        if filters.status not in ExpenseStatus.values:
            raise ValidationError(
                {"status": [f"“{filters.status}” is not one of {', '.join(ExpenseStatus.values)}."]}
            )
        expenses = expenses.filter(status=filters.status)
    for name, lookup in (
        ("date_from", "spent_on__gte"),
        ("date_to", "spent_on__lte"),
        ("client_id", "client_id"),
        ("project_id", "project_id"),
        ("category_id", "category_id"),
        ("person_id", "membership_id"),
        ("billable", "billable"),
        ("reimbursable", "reimbursable"),
    ):
        value = getattr(filters, name)
        if value is not None:
            expenses = expenses.filter(**{lookup: value})
    page = paginate(expenses.prefetch_related("receipts").order_by("-spent_on", "-pk"), filters)
    page["items"] = [expense_out(e) for e in page["items"]]
    return page


@router.get("/expenses/{id:expense_id}", response=responses(ExpenseOut), summary="One expense")
def get_expense(request: HttpRequest, expense_id: int) -> dict[str, Any]:
    return _reload(services.get_expense_for(acting(request), expense_id))


@router.post("/expenses", response=responses(ExpenseOut, 201), summary="Record an expense")
def create_expense(request: HttpRequest, payload: ExpenseIn) -> Status:
    me = acting(request)
    owner = _owner(me, payload.person_id)
    client, project = _where(me, payload)
    if client is None:
        raise ValidationError({"client": ["Name the client (acme) or project (acme/api)."]})
    expense = services.record_expense(
        owner,
        by=me,
        data=ExpenseInput(
            client=client,
            project=project,
            category=_category(me, payload.category, payload.category_id),
            spent_on=payload.spent_on or _today(owner),
            description=payload.description,
            vendor=payload.vendor,
            amount=payload.amount,
            quantity=payload.quantity,
            currency=payload.currency,
            tax_rate=payload.tax_rate,
            amount_includes_tax=payload.amount_includes_tax,
            billable=payload.billable,
            markup_percent=payload.markup_percent,
            reimbursable=payload.reimbursable,
            exchange_rate=payload.exchange_rate,
        ),
    )
    return Status(201, _reload(expense))


def _merged(me: Membership, expense: Expense, payload: ExpensePatch) -> ExpenseInput:
    """The stored expense with the sent fields laid over it, for full re-validation."""
    sent = payload.model_dump(exclude_unset=True)
    data = ExpenseInput(
        client=expense.client,
        project=expense.project,
        category=expense.category,
        spent_on=expense.spent_on,
        description=expense.description,
        vendor=expense.vendor,
        amount=None if expense.category.is_unit_based else expense.amount,
        quantity=expense.quantity,
        currency=expense.currency,
        tax_rate=expense.tax_rate,
        amount_includes_tax=expense.amount_includes_tax,
        billable=expense.billable,
        markup_percent=expense.markup_percent,
        reimbursable=expense.reimbursable,
        # A rate typed in for this expense stays; looked-up rates are looked up again.
        exchange_rate=expense.exchange_rate if expense.rate_source == RateSource.MANUAL else None,
    )
    if sent.keys() & _WHERE:
        client, project = _where(me, payload)
        if project is not None:
            data.client, data.project = project.client, project
        elif client is not None:
            data.client = client
            if data.project is not None and data.project.client_id != client.pk:
                data.project = None
        if ("project" in sent or "project_id" in sent) and project is None:
            data.project = None
    if "category" in sent or "category_id" in sent:
        data.category = _category(me, payload.category, payload.category_id)
    for name in (
        "spent_on",
        "description",
        "vendor",
        "amount",
        "currency",
        "quantity",
        "tax_rate",
        "amount_includes_tax",
        "markup_percent",
        "reimbursable",
        "billable",
    ):
        if name in sent and (sent[name] is not None or name == "billable"):
            setattr(data, name, sent[name])
    moved = (
        data.currency != expense.currency
        or data.client != expense.client
        or data.spent_on != expense.spent_on
    )
    if "exchange_rate" in sent:
        data.exchange_rate = sent["exchange_rate"]
    elif moved:
        data.exchange_rate = None
    return data


@router.patch(
    "/expenses/{id:expense_id}",
    response=responses(ExpenseOut),
    summary="Change an expense (checked again as a whole)",
)
def update_expense(request: HttpRequest, expense_id: int, payload: ExpensePatch) -> dict[str, Any]:
    me = acting(request)
    expense = services.get_expense_for(me, expense_id)
    updated = services.update_expense(expense, by=me, data=_merged(me, expense, payload))
    return _reload(updated)


@router.delete(
    "/expenses/{id:expense_id}", response=responses(Message), summary="Delete an expense"
)
def delete_expense(request: HttpRequest, expense_id: int) -> dict[str, str]:
    me = acting(request)
    services.delete_expense(services.get_expense_for(me, expense_id), by=me)
    return {"detail": "Deleted."}


@router.post(
    "/expenses/{id:expense_id}/receipts",
    response=responses(ExpenseOut, 201),
    summary="Attach a receipt (multipart/form-data, field “file”: PDF, PNG, JPEG or WebP)",
)
def upload_receipt(
    request: HttpRequest, expense_id: int, file: File[UploadedFile | None] = None
) -> Status:
    me = acting(request)
    # The expense first: another organization's id is a 404 whatever was sent.
    expense = services.get_expense_for(me, expense_id)
    services.add_receipts(expense, by=me, receipts=[_file_bytes(file)])
    return Status(201, _reload(expense))


@router.get(
    "/receipts/{id:receipt_id}",
    response=ERROR_RESPONSES,
    summary="Download a receipt file",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file",
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in ("application/pdf", "image/png", "image/jpeg", "image/webp")
                },
            }
        }
    },
)
def download_receipt(request: HttpRequest, receipt_id: int) -> FileResponse:
    receipt = services.get_receipt_for(acting(request), receipt_id)
    response = FileResponse(
        receipt.file.open("rb"),
        as_attachment=True,
        filename=receipt.original_name,
        content_type=receipt.content_type,
    )
    # Uploaded bytes are served as what they were checked to be, never sniffed or run.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@router.post(
    "/expenses/submit",
    response=responses(SubmittedOut),
    summary="Submit your draft or rejected expenses for approval",
)
def submit_expenses(request: HttpRequest, payload: SubmitIn) -> dict[str, int]:
    me = acting(request)
    ids = set(payload.ids)
    expenses = list(services.visible_expenses(me).filter(pk__in=ids))
    missing = ids - {e.pk for e in expenses}
    if missing:
        listed = ", ".join(str(pk) for pk in sorted(missing))
        raise ValidationError({"ids": [f"No such expense: {listed}."]})
    return {"submitted": services.submit_expenses(me, expenses=expenses)}


def _decide(request: HttpRequest, expense_id: int, comment: str, approve: bool) -> dict[str, Any]:
    me = acting(request)
    expense = services.get_expense_for(me, expense_id)
    services.decide_expense(expense, by=me, approve=approve, comment=comment)
    return _reload(expense)


@router.post(
    "/expenses/{id:expense_id}/approve",
    response=responses(ExpenseOut),
    summary="Approve a submitted expense",
)
def approve_expense(request: HttpRequest, expense_id: int, payload: DecisionIn) -> dict[str, Any]:
    return _decide(request, expense_id, payload.comment, approve=True)


@router.post(
    "/expenses/{id:expense_id}/reject",
    response=responses(ExpenseOut),
    summary="Reject a submitted expense, saying why",
)
def reject_expense(request: HttpRequest, expense_id: int, payload: DecisionIn) -> dict[str, Any]:
    return _decide(request, expense_id, payload.comment, approve=False)


# Categories and exchange rates ------------------------------------------------------------


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


@router.get(
    "/expense-categories", response=responses(page_of(CategoryOut)), summary="Expense categories"
)
def list_categories(request: HttpRequest, filters: Query[CategoryFilter]) -> dict[str, Any]:
    me = acting(request)
    categories = ExpenseCategory.objects.filter(organization_id=me.organization_id)
    categories = categories.filter(is_archived=bool(filters.archived))
    page = paginate(categories.order_by("name", "pk"), filters)
    page["items"] = [
        {
            "id": c.pk,
            "name": c.name,
            "unit": c.unit,
            "unit_price": _decimal_text(c.unit_price),
            "default_tax_rate": _decimal_text(c.default_tax_rate),
            "default_markup_percent": _decimal_text(c.default_markup_percent),
            "billable_default": c.billable_default,
            "is_archived": c.is_archived,
        }
        for c in page["items"]
    ]
    return page


def rate_out(rate: ExchangeRate) -> dict[str, Any]:
    return {
        "id": rate.pk,
        "currency": rate.currency,
        "rate": _decimal_text(rate.rate),
        "on": rate.on,
        "source": rate.source,
    }


@router.get(
    "/exchange-rates",
    response=responses(page_of(RateOut)),
    summary="Exchange rates: units of a currency per euro, by day",
)
def list_exchange_rates(request: HttpRequest, filters: Query[RateFilter]) -> dict[str, Any]:
    me = acting(request)
    rates = ExchangeRate.objects.filter(organization_id=me.organization_id)
    if filters.currency:
        rates = rates.filter(currency=filters.currency.upper())
    if filters.source:
        rates = rates.filter(source=filters.source)
    if filters.date_from:
        rates = rates.filter(on__gte=filters.date_from)
    if filters.date_to:
        rates = rates.filter(on__lte=filters.date_to)
    page = paginate(rates.order_by("-on", "currency", "source"), filters)
    page["items"] = [rate_out(r) for r in page["items"]]
    return page


@router.post(
    "/exchange-rates",
    response=responses(RateOut, 201),
    summary="Enter a rate by hand (it wins over the ECB's on the same day)",
)
def create_exchange_rate(request: HttpRequest, payload: RateIn) -> Status:
    me = acting(request)
    rate = services.set_manual_rate(
        me.organization, by=me, currency=payload.currency, rate=payload.rate, on=payload.on
    )
    return Status(201, rate_out(rate))


@router.post(
    "/exchange-rates/ecb",
    response=responses(ImportedOut),
    summary="Import the ECB's eurofxref XML (multipart/form-data, field “file”)",
)
def import_ecb(request: HttpRequest, file: File[UploadedFile | None] = None) -> dict[str, int]:
    me = acting(request)
    if file is None:
        raise ValidationError({"file": ["Send the ECB XML file as multipart field “file”."]})
    # The daily and 90-day files are small; the full history is about 6 MB.
    limit = 20 * 1_048_576
    if file.size is not None and file.size > limit:
        raise ValidationError({"file": ["The file is larger than any ECB rates file."]})
    return {"added": services.import_ecb_rates(me.organization, by=me, data=file.read())}


# Reports ----------------------------------------------------------------------------------


@router.get(
    "/reports/reimbursements",
    response=responses(ReimbursementsOut),
    summary="What each person paid out of pocket (approved, per currency)",
)
def reimbursements_report(request: HttpRequest, query: Query[ReimbursementQuery]) -> dict[str, Any]:
    me = acting(request)
    if not _sees_all(me):
        raise PermissionDenied("Only admins and owners see everyone's reimbursements.")
    if query.date_to < query.date_from:
        raise ValidationError({"to": ["The end is before the start."]})
    rows = services.reimbursements(me.organization, start=query.date_from, end=query.date_to)
    return {
        "start": query.date_from,
        "end": query.date_to,
        "rows": [
            {
                "person": r.person,
                "email": r.email,
                "currency": r.currency,
                "count": r.count,
                "total": amount_text(r.total, r.currency),
            }
            for r in rows
        ],
    }
