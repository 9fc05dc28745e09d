"""REST endpoints for recurring invoices: create and change them, preview, run, read runs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from punchclock.accounts.permissions import require
from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import Id, InputSchema, amount_text, referenced
from punchclock.automation import recurring as service
from punchclock.automation import services
from punchclock.automation.api import PeriodResultOut, RunIn, _invoice_fields
from punchclock.automation.models import (
    Action,
    Billing,
    RecurringFrequency,
    RecurringInvoice,
    RecurringRun,
    RunStatus,
)
from punchclock.automation.recurring_periods import PLACEHOLDERS
from punchclock.clients.models import Client
from punchclock.invoicing.models import TaxCategory, Unit

router = Router(tags=["Recurring invoices"])

FIRST, LAST = services.FIRST_DAY, services.LAST_DAY
PLACEHOLDER_TEXT = "Placeholders: " + ", ".join("{" + name + "}" for name in PLACEHOLDERS)


# Schemas ---------------------------------------------------------------------------------


class PriceIn(InputSchema):
    effective_from: date = Field(..., ge=FIRST, le=LAST)
    unit_price: Decimal = Field(..., max_digits=14, decimal_places=4)


class RecurringLineIn(InputSchema):
    description: str = Field(..., min_length=1, max_length=500, description=PLACEHOLDER_TEXT)
    quantity: Decimal = Field(Decimal(1), gt=0, max_digits=12, decimal_places=4)
    unit_price: Decimal = Field(..., max_digits=14, decimal_places=4)
    unit: Unit = Unit.PIECE
    tax_category: TaxCategory | None = Field(None, description="Default: the client's treatment")
    tax_rate: Decimal | None = Field(None, ge=0, le=100, max_digits=6, decimal_places=3)
    prices: list[PriceIn] = Field(
        default_factory=list,
        max_length=100,
        description="Price changes: from each day on, periods starting then use its price",
    )


class PriceOut(Schema):
    effective_from: date
    unit_price: str


class RecurringLineOut(Schema):
    position: int
    description: str
    quantity: str
    unit: str
    unit_price: str
    tax_category: str | None = Field(description="None: the client's treatment decides")
    tax_rate: str | None
    prices: list[PriceOut]


class PlannedLineOut(Schema):
    description: str = Field(description="With its placeholders filled for the period")
    quantity: str
    unit: str
    unit_price: str = Field(description="The price for the period, price changes applied")
    net: str


class EstimateOut(Schema):
    run_on: date
    period_start: date
    period_end: date
    cycle: int
    lines: list[PlannedLineOut]
    net: str
    tax: str
    gross: str
    currency: str
    note: str
    problem: str = Field(description="Non-empty when the run would fail (e.g. no VAT rate)")
    text: str = Field(description="e.g. on 1 Dec: Hosting December 2026 — 49.00 EUR + VAT")


class RecurringOut(Schema):
    id: int
    client_id: int
    client: str
    name: str
    frequency: str = Field(description=", ".join(RecurringFrequency.values))
    frequency_text: str = Field(description="e.g. Monthly on the 1st, in advance")
    interval_months: int
    day_of_month: int
    billing: str = Field(description=", ".join(Billing.values))
    starts_on: date
    ends_on: date | None
    cycles: int | None
    note: str
    action: str = Field(description=", ".join(Action.values))
    is_active: bool
    run_as: str
    created_at: datetime
    due_periods: int


class RecurringDetailOut(RecurringOut):
    lines: list[RecurringLineOut]
    next_run: EstimateOut | None = Field(description="None when it has ended")


class RecurringRunOut(Schema):
    id: int
    cycle: int
    period_start: date
    period_end: date
    run_on: date = Field(description="The period's issue day (a catch-up run issues later)")
    status: str = Field(description=", ".join(RunStatus.values))
    invoice_id: int | None
    invoice_number: str | None
    invoice_total: str | None
    currency: str | None
    message: str
    attempts: int
    created_at: datetime
    updated_at: datetime


class RecurringPeriodOut(PeriodResultOut):
    cycle: int
    invoice_estimate: EstimateOut | None = Field(description="Dry run: the invoice it would make")


class RecurringRunResultOut(Schema):
    recurring_id: int
    dry_run: bool
    periods: list[RecurringPeriodOut]


class NextRecurringOut(Schema):
    next_run: EstimateOut | None


class RecurringPatch(InputSchema):
    """Only the fields sent change; `lines`, when sent, replace all lines."""

    nullable = frozenset({"ends_on", "cycles"})

    name: str | None = Field(None, min_length=1, max_length=100)
    frequency: RecurringFrequency | None = None
    interval_months: int | None = Field(None, ge=1, le=120, description="Every N months")
    day_of_month: int | None = Field(None, ge=1, le=31, description="29–31: the month's last")
    billing: Billing | None = None
    starts_on: date | None = Field(None, ge=FIRST, le=LAST, description="An issue day")
    ends_on: date | None = Field(None, ge=FIRST, le=LAST, description="No period after it starts")
    cycles: int | None = Field(None, ge=1, le=10_000, description="Stop after N invoices")
    note: str | None = Field(None, max_length=2000, description=PLACEHOLDER_TEXT)
    action: Action | None = None
    is_active: bool | None = None
    lines: list[RecurringLineIn] | None = Field(None, min_length=1, max_length=100)


class RecurringIn(RecurringPatch):
    client_id: Id
    name: str = Field(..., min_length=1, max_length=100)
    starts_on: date = Field(..., ge=FIRST, le=LAST, description="An issue day")
    lines: list[RecurringLineIn] = Field(..., min_length=1, max_length=100)


class RecurringQuery(PageQuery):
    client_id: Id | None = None
    active: bool | None = None


# Output ----------------------------------------------------------------------------------


def _money(value: Decimal | None, currency: str) -> str | None:
    return amount_text(value, currency)


def estimate_out(found: service.Estimate | None) -> dict[str, Any] | None:
    if found is None:
        return None
    currency = found.currency
    return {
        "run_on": found.period.run_on,
        "period_start": found.period.start,
        "period_end": found.period.end,
        "cycle": found.cycle.number,
        "lines": [
            {
                "description": line.description,
                "quantity": f"{line.quantity.normalize():f}",
                "unit": line.unit,
                "unit_price": _money(line.unit_price, currency),
                "net": _money(line.net, currency),
            }
            for line in found.lines
        ],
        "net": _money(found.net, currency),
        "tax": _money(found.tax, currency),
        "gross": _money(found.gross, currency),
        "currency": currency,
        "note": found.note,
        "problem": found.problem,
        "text": str(found),
    }


FIELDS = {
    "id",
    "client_id",
    "name",
    "frequency",
    "interval_months",
    "day_of_month",
    "billing",
    "starts_on",
    "ends_on",
    "cycles",
    "note",
    "action",
    "is_active",
    "created_at",
}


def recurring_out(recurring: RecurringInvoice, *, due: int) -> dict[str, Any]:
    return {
        **{name: getattr(recurring, name) for name in FIELDS},
        "client": recurring.client.name,
        "frequency_text": service.frequency_text(recurring),
        "run_as": recurring.run_as.user.display_name,
        "due_periods": due,
    }


def lines_out(recurring: RecurringInvoice) -> list[dict[str, Any]]:
    currency = recurring.client.currency
    return [
        {
            "position": line.position,
            "description": line.description,
            "quantity": f"{line.quantity.normalize():f}",
            "unit": line.unit,
            "unit_price": _money(line.unit_price, currency),
            "tax_category": line.tax_category or None,
            "tax_rate": None if line.tax_rate is None else f"{line.tax_rate.normalize():f}",
            "prices": [
                {
                    "effective_from": p.effective_from,
                    "unit_price": _money(p.unit_price, currency),
                }
                for p in line.prices.all()
            ],
        }
        for line in service.lines_of(recurring)
    ]


def recurring_detail(recurring: RecurringInvoice) -> dict[str, Any]:
    return {
        **recurring_out(recurring, due=len(service.due(recurring))),
        "lines": lines_out(recurring),
        "next_run": estimate_out(service.preview(recurring)),
    }


def run_out(run: RecurringRun) -> dict[str, Any]:
    names = RecurringRunOut.model_fields.keys() - _invoice_fields(None).keys()
    return {**{name: getattr(run, name) for name in names}, **_invoice_fields(run.invoice)}


def _period(outcome: service.Outcome | service.Planned) -> dict[str, Any]:
    period = outcome.period
    return {
        "period_start": period.start,
        "period_end": period.end,
        "run_on": period.run_on,
        "cycle": outcome.cycle.number,
        "status": outcome.status,
        "message": outcome.message,
        "estimate": None,
    }


def _fields(payload: RecurringPatch) -> dict[str, Any]:
    """The body as save_recurring's fields; `lines` becomes LineSpecs."""
    fields = payload.model_dump(exclude_unset=True, exclude={"client_id", "lines"})
    if payload.lines is not None:
        fields["lines"] = [
            service.LineSpec(
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                unit=line.unit,
                tax_category=line.tax_category or "",
                tax_rate=line.tax_rate,
                prices=tuple((p.effective_from, p.unit_price) for p in line.prices),
            )
            for line in payload.lines
        ]
    return fields


# Endpoints -------------------------------------------------------------------------------


@router.get(
    "/recurring-invoices",
    response=responses(page_of(RecurringOut)),
    summary="Recurring invoices, by client, with the number of periods due",
    description="Lines and the next run's invoice are on GET /recurring-invoices/{recurring_id}; "
    "the next run also on "
    "/recurring-invoices/{recurring_id}/preview.",
)
def list_recurring(request: HttpRequest, query: Query[RecurringQuery]) -> dict[str, Any]:
    by = acting(request)
    require(by, "invoices.manage")
    found = service.of_organization(by).prefetch_related("runs")
    if query.client_id is not None:
        found = found.filter(client_id=query.client_id)
    if query.active is not None:
        found = found.filter(is_active=query.active)
    page = paginate(found, query)
    page["items"] = [recurring_out(r, due=len(service.due(r))) for r in page["items"]]
    return page


@router.post(
    "/recurring-invoices",
    response=responses(RecurringDetailOut, 201),
    summary="Create a recurring invoice for a client: fixed lines billed once per period",
    description="Runs act with the caller's authority (an owner or admin). Issued on "
    "`day_of_month` every 1 (monthly), 3 (quarterly), 12 (yearly) or `interval_months` "
    "(months) months from `starts_on`, which must be an issue day; `billing` advance bills "
    "the period starting that day, arrears the one just ended. Line descriptions and the "
    f"note may use {PLACEHOLDER_TEXT}; unknown ones are refused (422).",
)
def create_recurring(request: HttpRequest, payload: RecurringIn) -> Status:
    by = acting(request)
    require(by, "invoices.manage")
    clients = Client.objects.filter(organization_id=by.organization_id)
    client = referenced(clients, payload.client_id, "client_id", "client")
    saved = service.save_recurring(by, client=client, **_fields(payload))
    return Status(201, recurring_detail(service.recurring_for(by, saved.pk)))


@router.get(
    "/recurring-invoices/{id:recurring_id}",
    response=responses(RecurringDetailOut),
    summary="A recurring invoice with its next run",
)
def get_recurring(request: HttpRequest, recurring_id: int) -> dict[str, Any]:
    return recurring_detail(service.recurring_for(acting(request), recurring_id))


@router.patch(
    "/recurring-invoices/{id:recurring_id}",
    response=responses(RecurringDetailOut),
    summary="Change a recurring invoice; is_active false pauses it; lines replace all lines",
)
def update_recurring(
    request: HttpRequest, recurring_id: int, payload: RecurringPatch
) -> dict[str, Any]:
    by = acting(request)
    found = service.recurring_for(by, recurring_id)
    service.save_recurring(by, recurring=found, **_fields(payload))
    return recurring_detail(service.recurring_for(by, recurring_id))


@router.delete(
    "/recurring-invoices/{id:recurring_id}",
    response=responses(None, 204),
    summary="Delete a recurring invoice: it never runs again; its runs and invoices stay",
)
def delete_recurring(request: HttpRequest, recurring_id: int) -> Status[None]:
    by = acting(request)
    service.delete_recurring(service.recurring_for(by, recurring_id), by=by)
    return Status(204, None)


@router.get(
    "/recurring-invoices/{id:recurring_id}/runs",
    response=responses(page_of(RecurringRunOut)),
    summary="A recurring invoice's runs, latest period first: status, invoice, message",
)
def list_recurring_runs(
    request: HttpRequest, recurring_id: int, query: Query[PageQuery]
) -> dict[str, Any]:
    found = service.recurring_for(acting(request), recurring_id)
    page = paginate(found.runs.select_related("invoice"), query)
    page["items"] = [run_out(r) for r in page["items"]]
    return page


@router.post(
    "/recurring-invoices/{id:recurring_id}/run",
    response=responses(RecurringRunResultOut),
    summary="Run the due periods now, or with dry_run say what they would invoice",
    description="Each period is billed once, whoever runs it; catch-up periods are issued "
    "today. A paused recurring invoice cannot run (422), but can dry-run.",
)
def run_recurring(request: HttpRequest, recurring_id: int, payload: RunIn) -> dict[str, Any]:
    by = acting(request)
    found = service.recurring_for(by, recurring_id)
    periods: list[dict[str, Any]]
    if payload.dry_run:
        periods = [
            {
                **_period(p),
                **_invoice_fields(None),
                "invoice_estimate": estimate_out(p.estimate),
            }
            for p in service.dry_run(found)
        ]
    else:
        periods = [
            {**_period(o), **_invoice_fields(o.invoice), "invoice_estimate": None}
            for o in service.run_now(found, by=by)
        ]
    return {"recurring_id": found.pk, "dry_run": payload.dry_run, "periods": periods}


@router.get(
    "/recurring-invoices/{id:recurring_id}/preview",
    response=responses(NextRecurringOut),
    summary="The next run: its period and the invoice it would make",
)
def preview_recurring(request: HttpRequest, recurring_id: int) -> dict[str, Any]:
    found = service.recurring_for(acting(request), recurring_id)
    return {"next_run": estimate_out(service.preview(found))}
