"""REST endpoints of the dashboard, budget, revenue, tax, utilisation and profitability reports
(JSON, CSV or XLSX)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.schemas import QuerySchema
from punchclock.core.money import quantum
from punchclock.core.timeutil import local_date, now
from punchclock.reports import sheets
from punchclock.reports.api import (
    BOM_HELP,
    FORMAT_HELP,
    REPORT_FILES,
    ReportFormat,
    wanted_format,
)
from punchclock.reports.budgets import budget_report
from punchclock.reports.dashboard import dashboard
from punchclock.reports.export import FileFormat, Table, export_response
from punchclock.reports.params import CHOICE_PERIODS
from punchclock.reports.revenue import RevenueForbidden, revenue_report, tax_report
from punchclock.reports.timereport import hours
from punchclock.reports.views_more import read_period, run_utilisation

router = Router(tags=["Reports"])
Money = dict[str, str]


class PeriodQuery(QuerySchema):
    period: str | None = Field(None, description=f"One of {', '.join(CHOICE_PERIODS)}")
    from_: str | None = Field(None, alias="from", description="First day (YYYY-MM-DD), custom")
    to: str | None = Field(None, description="Last day, included (YYYY-MM-DD), custom")
    format: ReportFormat = Field(None, description=FORMAT_HELP)
    bom: str | None = Field(None, description=BOM_HELP)


class FormatQuery(QuerySchema):
    format: ReportFormat = Field(None, description=FORMAT_HELP)
    bom: str | None = Field(None, description=BOM_HELP)


def _file(wants: FileFormat, table: Table, name: str, bom: str | None) -> HttpResponse:
    return export_response(table, wants, name, bom=bom != "0")


def _period(request: HttpRequest, query: PeriodQuery, default: str) -> Any:
    me = acting(request)
    source = {"period": query.period, "from": query.from_, "to": query.to}
    period, error = read_period(me, source, zone=me.user.timezone, default=default)
    if error is not None:
        raise ValidationError({error.field: [str(error)]})
    return me, period


def _money(values: dict[str, Any]) -> Money:
    return {c: str(a) for c, a in sorted(values.items())}


# Dashboard -------------------------------------------------------------------------------


class DashboardOut(Schema):
    today: date
    zone: str
    week_hours: str = Field(description="The caller's own hours this week (Monday to Sunday)")
    week_days: dict[str, str] = Field(description="The caller's hours per local day")
    running_entry_id: int | None
    unbilled: list[dict[str, Any]] | None = Field(
        None, description="Owners and admins: per client, unbilled amount per currency"
    )
    unbilled_totals: Money | None = None
    revenue: dict[str, dict[str, str]] | None = Field(
        None, description="Owners and admins: net invoiced this month and last, per currency"
    )
    team_week: list[dict[str, Any]] = Field(
        default_factory=list, description="Hours this week per person (people the caller sees)"
    )
    budgets: list[dict[str, Any]] | None = Field(
        None, description="Managers, owners, admins: budgets needing attention first"
    )
    pending_timesheets: int | None = None


@router.get(
    "/reports/dashboard",
    response=responses(DashboardOut),
    summary="The caller's dashboard: their week and timer, and what their role looks after",
)
def dashboard_endpoint(request: HttpRequest) -> dict[str, Any]:
    me = acting(request)
    board = dashboard(me)
    return {
        "today": board.today,
        "zone": board.zone,
        "week_hours": str(board.week_hours),
        "week_days": {
            day.isoformat(): str(hours(board.week.per_day.get(day, 0))) for day in board.week.days
        },
        "running_entry_id": board.running.pk if board.running else None,
        "unbilled": None
        if board.unbilled is None
        else [
            {"client_id": r.client_id, "client": r.name, "amounts": _money(r.total)}
            for r in board.unbilled
        ],
        "unbilled_totals": None if board.unbilled_totals is None else _money(board.unbilled_totals),
        "revenue": None
        if board.revenue is None
        else {
            c: {"this_month": str(a), "last_month": str(b)} for c, (a, b) in board.revenue.items()
        },
        "team_week": [
            {"person_id": g.key[0], "person": g.label, "hours": str(hours(g.figures.seconds))}
            for g in board.team
        ],
        "budgets": None
        if board.budgets is None
        else [
            {"project_id": r.project.pk, "percent": str(r.percent), "state": r.state}
            for r in board.budgets
        ],
        "pending_timesheets": board.pending_timesheets,
    }


# Budgets ---------------------------------------------------------------------------------


class BudgetOut(Schema):
    project_id: int
    project: str
    client: str
    kind: str = Field(description="hours or money")
    currency: str
    budget: str
    used: str
    remaining: str
    used_hours: str
    percent: str
    alert_percent: int
    state: str = Field(description="ok, alert (threshold crossed) or over")
    pace_per_day: str = Field(description="Use per day over the last 28 days")
    runs_out_on: date | None
    effective_hourly_rate: str | None = Field(description="Fixed-fee projects: fee ÷ hours")
    burn: list[str] = Field(description="Cumulative use at the end of each of the last 12 months")


class BudgetsOut(Schema):
    today: date
    months: list[date]
    projects: list[BudgetOut]


@router.get(
    "/reports/budgets",
    response=responses(BudgetsOut),
    summary="Budget use, burn, forecast and alert state of every project with a budget",
    description="Owners and admins see every project, managers the projects they manage.",
    openapi_extra=REPORT_FILES,
)
def budgets_endpoint(request: HttpRequest, query: Query[FormatQuery]) -> Any:
    me = acting(request)
    wants = wanted_format(request, query.format)
    zone = me.user.timezone
    report = budget_report(me, today=local_date(now(), zone), zone=zone)
    if wants != "json":
        return _file(wants, sheets.budgets_table(report), f"budgets-{report.today}", query.bom)
    out = []
    for row in report.rows:
        rate = row.effective_rate
        out.append(
            {
                "project_id": row.project.pk,
                "project": row.project.full_code,
                "client": row.project.client.name,
                "kind": row.kind,
                "currency": row.currency,
                "budget": str(row.budget),
                "used": str(row.used),
                "remaining": str(row.remaining),
                "used_hours": str(row.used_hours),
                "percent": str(row.percent),
                "alert_percent": row.project.budget_alert_percent,
                "state": row.state,
                "pace_per_day": str(row.pace_per_day.quantize(Decimal("0.01"))),
                "runs_out_on": row.runs_out(report.today),
                "effective_hourly_rate": None if rate is None else str(rate),
                "burn": [str(v.quantize(Decimal("0.01"))) for v in row.burn],
            }
        )
    return {"today": report.today, "months": report.months, "projects": out}


# Revenue and tax -------------------------------------------------------------------------


class RevenueRowOut(Schema):
    month: date
    currency: str
    documents: int
    net: str
    tax: str
    gross: str
    received: str


class HomeMonthOut(Schema):
    month: date
    net: str
    gross: str
    received: str
    unconverted: int = Field(description="Documents and payments left out: no exchange rate")


class RevenueOut(Schema):
    first_day: date
    last_day: date
    home_currency: str
    rows: list[RevenueRowOut]
    totals: list[RevenueRowOut]
    home: list[HomeMonthOut]


def _q(amount: Decimal, currency: str) -> str:
    return str(amount.quantize(quantum(currency)))


def _row(row: Any) -> dict[str, Any]:
    c = row.currency
    return {
        "month": row.month,
        "currency": c,
        "documents": row.documents,
        "net": _q(row.net, c),
        "tax": _q(row.tax, c),
        "gross": _q(row.gross, c),
        "received": _q(row.received, c),
    }


def _money_report(build: Any, me: Any, period: Any) -> Any:
    first, last = period.days
    try:
        return build(me, first=first, last=last)
    except RevenueForbidden as exc:
        raise PermissionDenied(str(exc)) from exc


@router.get(
    "/reports/revenue",
    response=responses(RevenueOut),
    summary="Invoiced (issue date, credit notes negative) and received per month and currency",
    description="Owners and admins. Converted to the organization currency with each "
    "invoice's recorded rate (or the exchange-rate table on the issue or receipt day).",
    openapi_extra=REPORT_FILES,
)
def revenue_endpoint(request: HttpRequest, query: Query[PeriodQuery]) -> Any:
    wants = wanted_format(request, query.format)
    me, period = _period(request, query, "year")
    report = _money_report(revenue_report, me, period)
    if wants != "json":
        return _file(wants, sheets.revenue_table(report), "revenue", query.bom)
    return {
        "first_day": report.first,
        "last_day": report.last,
        "home_currency": report.home,
        "rows": [_row(r) for r in report.rows],
        "totals": [_row(t) for t in report.totals.values()],
        "home": [
            {
                "month": m.month,
                "net": _q(m.net, report.home),
                "gross": _q(m.gross, report.home),
                "received": _q(m.received, report.home),
                "unconverted": m.unconverted,
            }
            for m in report.months
        ],
    }


class TaxRowOut(Schema):
    tax: str
    category: str
    category_name: str
    rate: str
    currency: str
    documents: int
    basis: str
    amount: str
    home_basis: str | None
    home_amount: str | None


class TaxOut(Schema):
    first_day: date
    last_day: date
    home_currency: str
    documents: int
    rows: list[TaxRowOut]
    document_net: Money
    document_tax: Money


@router.get(
    "/reports/tax",
    response=responses(TaxOut),
    summary="Taxable basis and tax per tax, category and rate of documents issued in a period",
    description="Owners and admins. Rows add up to the documents' tax totals to the cent.",
    openapi_extra=REPORT_FILES,
)
def tax_endpoint(request: HttpRequest, query: Query[PeriodQuery]) -> Any:
    wants = wanted_format(request, query.format)
    me, period = _period(request, query, "last-month")
    report = _money_report(tax_report, me, period)
    if wants != "json":
        return _file(wants, sheets.tax_table(report), "tax", query.bom)
    return {
        "first_day": report.first,
        "last_day": report.last,
        "home_currency": report.home,
        "documents": report.documents,
        "rows": [
            {
                "tax": r.name,
                "category": r.category,
                "category_name": r.category_label,
                "rate": str(r.rate),
                "currency": r.currency,
                "documents": r.documents,
                "basis": str(r.basis),
                "amount": str(r.tax),
                "home_basis": None if r.home_basis is None else str(r.home_basis),
                "home_amount": None if r.home_tax is None else str(r.home_tax),
            }
            for r in report.rows
        ],
        "document_net": _money(report.document_net),
        "document_tax": _money(report.document_tax),
    }


# Utilisation -----------------------------------------------------------------------------


class ShareOut(Schema):
    id: int
    label: str
    hours: str
    billable_hours: str


class PersonOut(Schema):
    membership_id: int
    name: str
    weekly_capacity: str
    capacity_hours: str
    hours: str
    billable_hours: str
    utilisation_percent: str | None
    projects: list[ShareOut]


class ProjectShareOut(Schema):
    project_id: int
    label: str
    hours: str
    billable_hours: str
    people: list[ShareOut]


class UtilisationOut(Schema):
    first_day: date
    last_day: date
    counted_days: int
    people: list[PersonOut]
    projects: list[ProjectShareOut]


def _share(share: Any) -> dict[str, Any]:
    return {
        "id": share.key,
        "label": share.label,
        "hours": str(hours(share.seconds)),
        "billable_hours": str(hours(share.billable_seconds)),
    }


@router.get(
    "/reports/utilisation",
    response=responses(UtilisationOut),
    summary="Billable hours against capacity per person, and who worked how much per project",
    description="Members see their own time; managers theirs and their projects'.",
    openapi_extra=REPORT_FILES,
)
def utilisation_endpoint(request: HttpRequest, query: Query[PeriodQuery]) -> Any:
    wants = wanted_format(request, query.format)
    me, period = _period(request, query, "month")
    report = run_utilisation(me, period, me.user.timezone)
    if wants != "json":
        return _file(wants, sheets.utilisation_table(report), "utilisation", query.bom)
    return {
        "first_day": report.first,
        "last_day": report.last,
        "counted_days": report.counted_days,
        "people": [
            {
                "membership_id": p.membership_id,
                "name": p.name,
                "weekly_capacity": str(p.weekly_capacity),
                "capacity_hours": str(p.capacity_hours),
                "hours": str(p.hours),
                "billable_hours": str(p.billable_hours),
                "utilisation_percent": None if p.utilisation is None else str(p.utilisation),
                "projects": [_share(s) for s in p.projects],
            }
            for p in report.people
        ],
        "projects": [
            {
                "project_id": pr.project_id,
                "label": pr.label,
                "hours": str(hours(pr.seconds)),
                "billable_hours": str(hours(pr.billable_seconds)),
                "people": [_share(s) for s in pr.people],
            }
            for pr in report.projects
        ],
    }


# Profitability ---------------------------------------------------------------------------


class ProfitQuery(PeriodQuery):
    by: str = Field("project", description="project, client or person")


class ProfitRowOut(Schema):
    id: int | None
    label: str
    hours: str
    invoiced: Money = Field(description="Issued lines' value for this work, per currency")
    uninvoiced: Money = Field(description="Billable value of work not on an issued invoice")
    cost: Money = Field(description="Cost rates × hours, per currency")
    expenses: Money = Field(description="Approved non-billable expenses")
    revenue_home: str | None
    cost_home: str | None
    margin: str | None
    margin_percent: str | None


class ProfitOut(Schema):
    by: str
    first_day: date
    last_day: date
    home_currency: str
    rate_day: date
    rates: dict[str, str | None]
    rows: list[ProfitRowOut]
    total: ProfitRowOut


def _profit_row(row: Any) -> dict[str, Any]:
    def home(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "id": row.key,
        "label": row.label,
        "hours": str(hours(row.seconds)),
        "invoiced": _money(row.invoiced),
        "uninvoiced": _money(row.uninvoiced),
        "cost": _money(row.cost),
        "expenses": _money(row.expenses),
        "revenue_home": home(row.revenue_home),
        "cost_home": home(row.cost_home),
        "margin": home(row.margin),
        "margin_percent": home(row.margin_percent),
    }


@router.get(
    "/reports/profitability",
    response=responses(ProfitOut),
    summary="Revenue against cost per project, client or person for a period's work",
    description="Owners and admins. Revenue: issued lines (less credit notes) for the work, "
    "or its billable value while not invoiced; cost: cost rates × hours plus non-billable "
    "expenses; margin in the organization currency at the rates of the period's last day.",
    openapi_extra=REPORT_FILES,
)
def profitability_endpoint(request: HttpRequest, query: Query[ProfitQuery]) -> Any:
    from punchclock.reports.profitability import DIMENSIONS, profitability

    wants = wanted_format(request, query.format)
    me, period = _period(request, query, "year")
    if query.by not in DIMENSIONS:
        raise ValidationError({"by": [f"Use one of {', '.join(DIMENSIONS)}."]})
    first, last = period.days
    report = profitability(
        me, period.where, by=query.by, first=first, last=last, zone=me.user.timezone
    )
    if wants != "json":
        return _file(wants, sheets.profitability_table(report), "profitability", query.bom)
    return {
        "by": report.by,
        "first_day": report.first,
        "last_day": report.last,
        "home_currency": report.home,
        "rate_day": report.rate_day,
        "rates": {c: None if r is None else str(r) for c, r in report.rates.items()},
        "rows": [_profit_row(r) for r in report.rows],
        "total": _profit_row(report.total),
    }
