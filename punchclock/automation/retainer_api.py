"""REST endpoints for retainers: create and change them, the balance, preview, close."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import Id, InputSchema, referenced
from punchclock.automation import retainer_runs as runs
from punchclock.automation import retainers
from punchclock.automation.models import (
    Action,
    OveragePolicy,
    Retainer,
    RetainerFrequency,
    RetainerKind,
    UnusedPolicy,
)
from punchclock.automation.retainer_math import Settlement
from punchclock.clients.models import Client
from punchclock.projects.models import Project

router = Router(tags=["Retainers"])
FIRST, LAST = retainers.FIRST_DAY, retainers.LAST_DAY


class FiguresOut(Schema):
    """Hours (kind hours) or amounts (kind amount), as decimal strings."""

    included: str
    carried_in: str = Field(description="+ rolled over, − overage carried from before")
    allowance: str
    used: str
    left: str = Field(description="Negative once the allowance is exceeded")
    overage: str = Field(description="Billed at the close")
    carried_out: str
    expired: str


class RetainerOut(Schema):
    id: int
    client_id: int
    client: str
    project_id: int | None
    project: str | None
    name: str
    kind: str = Field(description=", ".join(RetainerKind.values))
    included: str
    fee: str
    currency: str
    frequency: str = Field(description=", ".join(RetainerFrequency.values))
    starts_on: date
    ends_on: date | None
    overage: str = Field(description=", ".join(OveragePolicy.values))
    overage_rate: str | None
    unused: str = Field(description=", ".join(UnusedPolicy.values))
    rollover_cap: str | None
    action: str = Field(description=", ".join(Action.values))
    is_active: bool
    run_as: str
    message: str = Field(description="Why the last close failed; empty when it did not")
    created_at: datetime


class BalanceOut(Schema):
    period_start: date
    period_end: date
    label: str
    unit: str = Field(description="h, or the currency")
    figures: FiguresOut
    text: str = Field(description="e.g. 12.5 h left of 20 h")


class PlannedOut(Schema):
    period_start: date
    period_end: date
    close_on: date
    status: str = Field(description="drafted, issued, sent (what a close would make) or failed")
    message: str
    figures: FiguresOut | None
    fee: str
    overage_amount: str
    net: str = Field(description="Net invoice total, before tax")
    text: str


class ClosedOut(Schema):
    period_start: date
    period_end: date
    status: str
    message: str
    figures: FiguresOut | None
    invoice_id: int | None
    invoice_number: str | None
    invoice_total: str | None = Field(description="Gross")


class RetainerDetailOut(RetainerOut):
    balance: BalanceOut | None = Field(description="This period so far; None outside its span")


class RunResultOut(Schema):
    retainer_id: int
    dry_run: bool
    planned: list[PlannedOut] = Field(description="Dry run: what closing now would do")
    closed: list[ClosedOut] = Field(description="Run: the periods this call closed")


class NextCloseOut(Schema):
    next_close: PlannedOut | None


class RetainerPatch(InputSchema):
    """Only the fields sent change; closes then act with the caller's authority."""

    nullable = frozenset({"project_id", "ends_on", "overage_rate", "rollover_cap"})

    project_id: Id | None = Field(None, description="Only this hourly project; null: all")
    name: str | None = Field(None, max_length=100)
    kind: RetainerKind | None = None
    included: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    fee: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    frequency: RetainerFrequency | None = None
    starts_on: date | None = Field(None, ge=FIRST, le=LAST, description="The 1st of a month")
    ends_on: date | None = Field(None, ge=FIRST, le=LAST, description="A period's last day")
    overage: OveragePolicy | None = None
    overage_rate: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    unused: UnusedPolicy | None = None
    rollover_cap: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    action: Action | None = None
    is_active: bool | None = None


class RetainerIn(RetainerPatch):
    client_id: Id
    included: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2)
    fee: Decimal = Field(..., ge=0, max_digits=12, decimal_places=2)
    starts_on: date = Field(..., ge=FIRST, le=LAST)


class RunIn(InputSchema):
    dry_run: bool = Field(False, description="Only say what closing would do; write nothing")


class RetainerQuery(PageQuery):
    client_id: Id | None = None
    active: bool | None = None


# Output -------------------------------------------------------------------------------------


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def figures_out(retainer: Retainer, settled: Settlement | Any) -> dict[str, str]:
    names = ["included", "carried_in", "used", "overage", "carried_out", "expired"]
    values = {name: getattr(settled, name) for name in names}
    values["allowance"] = values["included"] + values["carried_in"]
    values["left"] = values["allowance"] - values["used"]
    return {k: f"{retainers.from_units(retainer, v):f}" for k, v in values.items()}


def retainer_out(retainer: Retainer) -> dict[str, Any]:
    plain = [
        "id", "client_id", "project_id", "name", "kind", "frequency", "starts_on", "ends_on",
        "overage", "unused", "action", "is_active", "message", "created_at",
    ]  # fmt: skip
    return {
        **{name: getattr(retainer, name) for name in plain},
        "client": retainer.client.name,
        "project": retainer.project.name if retainer.project else None,
        "included": _dec(retainer.included),
        "fee": _dec(retainer.fee),
        "currency": retainer.client.currency,
        "overage_rate": _dec(retainer.overage_rate),
        "rollover_cap": _dec(retainer.rollover_cap),
        "run_as": retainer.run_as.user.display_name,
    }


def balance_out(found: retainers.Balance | None) -> dict[str, Any] | None:
    if found is None:
        return None
    retainer = found.retainer
    left = "over" if found.over else "left"
    return {
        "period_start": found.period.start,
        "period_end": found.period.end,
        "label": found.label,
        "unit": "h" if retainer.kind == RetainerKind.HOURS else retainer.client.currency,
        "figures": figures_out(retainer, found.settlement),
        "text": f"{found.left_text.lstrip('-')} {left} of {found.allowance_text}",
    }


def planned_out(retainer: Retainer, planned: runs.Planned) -> dict[str, Any]:
    settled = planned.settlement
    return {
        "period_start": planned.period.start,
        "period_end": planned.period.end,
        "close_on": planned.period.run_on,
        "status": planned.status,
        "message": planned.message,
        "figures": figures_out(retainer, settled) if settled else None,
        "fee": f"{planned.fee:f}",
        "overage_amount": f"{planned.overage_amount:f}",
        "net": f"{planned.net:f}",
        "text": runs.preview_text(retainer, planned),
    }


def closed_out(retainer: Retainer, outcome: runs.Outcome) -> dict[str, Any]:
    invoice = outcome.invoice
    return {
        "period_start": outcome.period.start,
        "period_end": outcome.period.end,
        "status": outcome.status,
        "message": outcome.message,
        "figures": figures_out(retainer, outcome.closed) if outcome.closed else None,
        "invoice_id": invoice.pk if invoice else None,
        "invoice_number": (invoice.number or None) if invoice else None,
        "invoice_total": f"{invoice.gross_total:f}" if invoice else None,
    }


def detail_out(retainer: Retainer) -> dict[str, Any]:
    return {**retainer_out(retainer), "balance": balance_out(retainers.balance(retainer))}


def _fields(payload: RetainerPatch, by: Membership) -> dict[str, Any]:
    fields = payload.model_dump(exclude_unset=True, exclude={"client_id"})
    if "project_id" in fields:
        projects = Project.objects.filter(organization_id=by.organization_id)
        fields["project"] = referenced(projects, fields.pop("project_id"), "project_id", "project")
    return fields


# Endpoints ----------------------------------------------------------------------------------


@router.get(
    "/retainers",
    response=responses(page_of(RetainerOut)),
    summary="Retainers, by client",
    description="Each one's balance this period is on GET /retainers/{retainer_id}/balance: "
    "it reads the tracked time, so lists leave it out.",
)
def list_retainers(request: HttpRequest, query: Query[RetainerQuery]) -> dict[str, Any]:
    by = acting(request)
    require(by, "invoices.manage")
    found = Retainer.objects.filter(organization_id=by.organization_id).select_related(
        "client", "project", "run_as__user"
    )
    if query.client_id is not None:
        found = found.filter(client_id=query.client_id)
    if query.active is not None:
        found = found.filter(is_active=query.active)
    page = paginate(found, query)
    page["items"] = [retainer_out(r) for r in page["items"]]
    return page


@router.post(
    "/retainers",
    response=responses(RetainerDetailOut, 201),
    summary="Create a retainer for a client (or one of its hourly projects)",
    description="Periods are calendar months or quarters; `starts_on` is the first of one. "
    "Each period closes once, the day after it ends, with one invoice: the fee, any "
    "overage, and all of the period's time linked to it.",
)
def create_retainer(request: HttpRequest, payload: RetainerIn) -> Status:
    by = acting(request)
    require(by, "invoices.manage")
    clients = Client.objects.filter(organization_id=by.organization_id)
    client = referenced(clients, payload.client_id, "client_id", "client")
    retainer = retainers.save_retainer(by, client=client, **_fields(payload, by))
    return Status(201, detail_out(retainers.retainer_for(by, retainer.pk)))


@router.get(
    "/retainers/{id:retainer_id}",
    response=responses(RetainerDetailOut),
    summary="A retainer with this period's balance",
)
def get_retainer(request: HttpRequest, retainer_id: int) -> dict[str, Any]:
    return detail_out(retainers.retainer_for(acting(request), retainer_id))


@router.patch(
    "/retainers/{id:retainer_id}",
    response=responses(RetainerDetailOut),
    summary="Change a retainer; is_active false pauses its closes",
)
def update_retainer(request: HttpRequest, retainer_id: int, payload: RetainerPatch) -> Any:
    by = acting(request)
    retainer = retainers.retainer_for(by, retainer_id)
    retainers.save_retainer(by, retainer=retainer, **_fields(payload, by))
    return detail_out(retainers.retainer_for(by, retainer_id))


@router.delete(
    "/retainers/{id:retainer_id}",
    response=responses(None, 204),
    summary="Delete a retainer that never closed a period",
)
def delete_retainer(request: HttpRequest, retainer_id: int) -> Status[None]:
    by = acting(request)
    retainers.delete_retainer(retainers.retainer_for(by, retainer_id), by=by)
    return Status(204, None)


@router.get(
    "/retainers/{id:retainer_id}/balance",
    response=responses(BalanceOut | None),
    summary="This period's allowance, use so far and what is left (null outside its span)",
)
def retainer_balance(request: HttpRequest, retainer_id: int) -> dict[str, Any] | None:
    return balance_out(retainers.balance(retainers.retainer_for(acting(request), retainer_id)))


@router.get(
    "/retainers/{id:retainer_id}/preview",
    response=responses(NextCloseOut),
    summary="The next close, if this period ended now",
)
def preview_retainer(request: HttpRequest, retainer_id: int) -> dict[str, Any]:
    retainer = retainers.retainer_for(acting(request), retainer_id)
    nxt = runs.preview(retainer)
    return {"next_close": planned_out(retainer, nxt) if nxt else None}


@router.post(
    "/retainers/{id:retainer_id}/run",
    response=responses(RunResultOut),
    summary="Close the ended periods now, or with dry_run say what closing would do",
    description="Each period closes once, whoever runs it. A paused retainer cannot close "
    "(422), but can dry-run.",
)
def run_retainer(request: HttpRequest, retainer_id: int, payload: RunIn) -> dict[str, Any]:
    by = acting(request)
    retainer = retainers.retainer_for(by, retainer_id)
    planned: list[dict[str, Any]] = []
    done: list[dict[str, Any]] = []
    if payload.dry_run:
        planned = [planned_out(retainer, p) for p in runs.dry_run(retainer)]
    else:
        done = [closed_out(retainer, o) for o in runs.run_retainer(retainer, by=by)]
    return {
        "retainer_id": retainer.pk,
        "dry_run": payload.dry_run,
        "planned": planned,
        "closed": done,
    }
