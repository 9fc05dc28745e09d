"""REST endpoints for billing schedules: create and change them, preview, run, read runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import require
from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import Id, InputSchema, amount_text, referenced
from punchclock.automation import services
from punchclock.automation.models import Action, BillingSchedule, Frequency, RunStatus, ScheduleRun
from punchclock.automation.periods import Period
from punchclock.clients.models import Client
from punchclock.invoicing.models import Invoice
from punchclock.invoicing.services import GROUPINGS
from punchclock.projects.models import Project

router = Router(tags=["Billing schedules"])

FIRST, LAST = services.FIRST_DAY, services.LAST_DAY


# Schemas ---------------------------------------------------------------------------------


class PreviewOut(Schema):
    run_on: date
    period_start: date
    period_end: date
    hours: str = Field(description="Billable hours unbilled in the period so far")
    expenses: int
    amount: str = Field(description="Net estimate: time, fixed fees and expenses")
    currency: str
    text: str = Field(description="e.g. on 1 Dec: invoice for 42.5 h + 2 expenses ≈ 5,100.00 EUR")


class ScheduleOut(Schema):
    id: int
    client_id: int
    client: str
    project_id: int | None
    project: str | None
    frequency: str = Field(description=", ".join(Frequency.values))
    frequency_text: str = Field(description="e.g. Monthly on the 1st, Every 2 weeks")
    day_of_month: int
    interval_weeks: int
    starts_on: date
    ends_on: date | None
    include_time: bool
    include_expenses: bool
    include_fixed_fees: bool
    group_by: str
    action: str = Field(description=", ".join(Action.values))
    is_active: bool
    run_as: str = Field(description="Whose authority the runs use: who saved it last")
    created_at: datetime
    due_periods: int = Field(description="Periods whose day has come and that have not run")


class ScheduleDetailOut(ScheduleOut):
    next_run: PreviewOut | None = Field(description="None when no run is coming (project ended)")


class RunOut(Schema):
    id: int
    period_start: date
    period_end: date
    run_on: date
    status: str = Field(description=", ".join(RunStatus.values))
    invoice_id: int | None
    invoice_number: str | None = Field(description="None for a draft")
    invoice_total: str | None = Field(description="Gross")
    currency: str | None
    message: str
    attempts: int
    created_at: datetime
    updated_at: datetime


class PeriodResultOut(Schema):
    period_start: date
    period_end: date
    run_on: date
    status: str = Field(
        description=f"{', '.join(RunStatus.values)}; a dry run's is the status the run would get"
    )
    message: str
    invoice_id: int | None
    invoice_number: str | None
    invoice_total: str | None = Field(description="Gross, of the invoice made")
    currency: str | None
    estimate: PreviewOut | None = Field(description="Dry run: what the period would bill")


class RunResultOut(Schema):
    schedule_id: int
    dry_run: bool
    periods: list[PeriodResultOut]


class NextRunOut(Schema):
    next_run: PreviewOut | None = Field(description="None when no run is coming (project ended)")


class SchedulePatch(InputSchema):
    """Only the fields sent are changed; the runs then act with the caller's authority."""

    nullable = frozenset({"project_id", "ends_on"})

    project_id: Id | None = Field(None, description="Only this project of the client; null: all")
    frequency: Frequency | None = None
    day_of_month: int | None = Field(None, ge=1, le=31, description="Monthly and quarterly")
    interval_weeks: int | None = Field(None, ge=1, le=52, description="Weekly")
    starts_on: date | None = Field(None, ge=FIRST, le=LAST, description="The first period's day")
    ends_on: date | None = Field(
        None, ge=FIRST, le=LAST, description="Project end: the project's last day"
    )
    include_time: bool | None = None
    include_expenses: bool | None = None
    include_fixed_fees: bool | None = None
    group_by: str | None = Field(None, max_length=10, description=", ".join(GROUPINGS))
    action: Action | None = None
    is_active: bool | None = None


class ScheduleIn(SchedulePatch):
    client_id: Id
    frequency: Frequency
    starts_on: date = Field(..., ge=FIRST, le=LAST)


class RunIn(InputSchema):
    dry_run: bool = Field(False, description="Only say what would be billed; write nothing")


class ScheduleQuery(PageQuery):
    client_id: Id | None = None
    active: bool | None = None


# Output ----------------------------------------------------------------------------------


# The fields of ScheduleOut read straight off the model.
FIELDS = {
    "id",
    "client_id",
    "project_id",
    "frequency",
    "day_of_month",
    "interval_weeks",
    "starts_on",
    "ends_on",
    "include_time",
    "include_expenses",
    "include_fixed_fees",
    "group_by",
    "action",
    "is_active",
    "created_at",
}


def preview_out(preview: services.Preview | None) -> dict[str, Any] | None:
    if preview is None:
        return None
    return {
        "run_on": preview.period.run_on,
        "period_start": preview.period.start,
        "period_end": preview.period.end,
        "hours": f"{preview.hours.normalize():f}",
        "expenses": preview.expenses,
        "amount": amount_text(preview.amount, preview.currency),
        "currency": preview.currency,
        "text": str(preview),
    }


def schedule_out(schedule: BillingSchedule, *, due: int) -> dict[str, Any]:
    project = schedule.project
    return {
        **{name: getattr(schedule, name) for name in FIELDS},
        "client": schedule.client.name,
        "project": project.name if project else None,
        "frequency_text": services.frequency_text(schedule),
        "run_as": schedule.run_as.user.display_name,
        "due_periods": due,
    }


def schedule_detail(schedule: BillingSchedule) -> dict[str, Any]:
    """One schedule with its next run: estimating it reads the unbilled work (a few queries)."""
    return {
        **schedule_out(schedule, due=len(services.due(schedule))),
        "next_run": preview_out(services.preview(schedule)),
    }


def _invoice_fields(invoice: Invoice | None) -> dict[str, Any]:
    if invoice is None:
        return {"invoice_id": None, "invoice_number": None, "invoice_total": None, "currency": None}
    return {
        "invoice_id": invoice.pk,
        "invoice_number": invoice.number or None,
        "invoice_total": amount_text(invoice.gross_total, invoice.currency),
        "currency": invoice.currency,
    }


def run_out(run: ScheduleRun) -> dict[str, Any]:
    names = RunOut.model_fields.keys() - _invoice_fields(None).keys()  # the run's own
    return {**{name: getattr(run, name) for name in names}, **_invoice_fields(run.invoice)}


def _period(period: Period) -> dict[str, Any]:
    return {"period_start": period.start, "period_end": period.end, "run_on": period.run_on}


def outcome_out(outcome: services.Outcome) -> dict[str, Any]:
    return {
        **_period(outcome.period),
        "status": outcome.status,
        "message": outcome.message,
        **_invoice_fields(outcome.invoice),
        "estimate": None,
    }


def planned_out(planned: services.Planned) -> dict[str, Any]:
    return {
        **_period(planned.period),
        "status": planned.status,
        "message": planned.message,
        **_invoice_fields(None),
        "estimate": preview_out(planned.estimate),
    }


def _schedules(by: Membership) -> QuerySet[BillingSchedule]:
    return BillingSchedule.objects.filter(organization_id=by.organization_id).select_related(
        "organization", "client__organization", "project__client", "run_as__user"
    )


def _fields(payload: SchedulePatch, by: Membership) -> dict[str, Any]:
    """The body as save_schedule's fields: project_id becomes the project it names."""
    fields = payload.model_dump(exclude_unset=True, exclude={"client_id"})
    if "project_id" in fields:
        projects = Project.objects.filter(organization_id=by.organization_id)
        fields["project"] = referenced(projects, fields.pop("project_id"), "project_id", "project")
    return fields


# Endpoints -------------------------------------------------------------------------------


@router.get(
    "/schedules",
    response=responses(page_of(ScheduleOut)),
    summary="Billing schedules, by client, with the number of periods due",
    description="Each schedule's next-run estimate is on GET /schedules/{schedule_id} and "
    "/schedules/{schedule_id}/preview: it reads the unbilled work, so lists leave it out.",
)
def list_schedules(request: HttpRequest, query: Query[ScheduleQuery]) -> dict[str, Any]:
    by = acting(request)
    require(by, "invoices.manage")
    schedules = _schedules(by)
    if query.client_id is not None:
        schedules = schedules.filter(client_id=query.client_id)
    if query.active is not None:
        schedules = schedules.filter(is_active=query.active)
    page = paginate(schedules, query)
    due = services.due_counts(page["items"])
    page["items"] = [schedule_out(s, due=due[s.pk]) for s in page["items"]]
    return page


@router.post(
    "/schedules",
    response=responses(ScheduleDetailOut, 201),
    summary="Create a billing schedule for a client (or one of its projects)",
    description="Runs act with the caller's authority (an owner or admin). Monthly and "
    "quarterly runs happen on `day_of_month`; weekly every `interval_weeks`; project_end "
    "once, the day after `ends_on`. Each run bills the period up to the day before it.",
)
def create_schedule(request: HttpRequest, payload: ScheduleIn) -> Status:
    by = acting(request)
    require(by, "invoices.manage")
    clients = Client.objects.filter(organization_id=by.organization_id)
    client = referenced(clients, payload.client_id, "client_id", "client")
    schedule = services.save_schedule(by, client=client, **_fields(payload, by))
    return Status(201, schedule_detail(services.schedule_for(by, schedule.pk)))


@router.get(
    "/schedules/{id:schedule_id}",
    response=responses(ScheduleDetailOut),
    summary="A billing schedule with its next run",
)
def get_schedule(request: HttpRequest, schedule_id: int) -> dict[str, Any]:
    return schedule_detail(services.schedule_for(acting(request), schedule_id))


@router.patch(
    "/schedules/{id:schedule_id}",
    response=responses(ScheduleDetailOut),
    summary="Change a schedule; is_active false pauses it",
)
def update_schedule(request: HttpRequest, schedule_id: int, payload: SchedulePatch) -> Any:
    by = acting(request)
    schedule = services.schedule_for(by, schedule_id)
    services.save_schedule(by, schedule=schedule, **_fields(payload, by))
    return schedule_detail(services.schedule_for(by, schedule_id))


@router.delete(
    "/schedules/{id:schedule_id}",
    response=responses(None, 204),
    summary="Delete a schedule that never ran (pause one that has runs)",
)
def delete_schedule(request: HttpRequest, schedule_id: int) -> Status[None]:
    by = acting(request)
    services.delete_schedule(services.schedule_for(by, schedule_id), by=by)
    return Status(204, None)


@router.get(
    "/schedules/{id:schedule_id}/runs",
    response=responses(page_of(RunOut)),
    summary="A schedule's runs, latest period first: status, invoice, message",
)
def list_runs(request: HttpRequest, schedule_id: int, query: Query[PageQuery]) -> dict[str, Any]:
    schedule = services.schedule_for(acting(request), schedule_id)
    page = paginate(schedule.runs.select_related("invoice"), query)
    page["items"] = [run_out(r) for r in page["items"]]
    return page


@router.post(
    "/schedules/{id:schedule_id}/run",
    response=responses(RunResultOut),
    summary="Run a schedule's due periods now, or with dry_run say what they would bill",
    description="Each period is billed once, whoever runs it: periods a worker already ran "
    "are not in the answer. A paused schedule cannot run (422), but can dry-run.",
)
def run_schedule(request: HttpRequest, schedule_id: int, payload: RunIn) -> dict[str, Any]:
    by = acting(request)
    schedule = services.schedule_for(by, schedule_id)
    if payload.dry_run:
        periods = [planned_out(p) for p in services.dry_run(schedule)]
    else:
        periods = [outcome_out(o) for o in services.run_schedule(schedule, by=by)]
    return {"schedule_id": schedule.pk, "dry_run": payload.dry_run, "periods": periods}


@router.get(
    "/schedules/{id:schedule_id}/preview",
    response=responses(NextRunOut),
    summary="The next run: its period and what it would bill from the work so far",
)
def preview_schedule(request: HttpRequest, schedule_id: int) -> dict[str, Any]:
    schedule = services.schedule_for(acting(request), schedule_id)
    return {"next_run": preview_out(services.preview(schedule))}
