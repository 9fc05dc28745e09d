"""REST endpoint of the unbilled work report (JSON, CSV or XLSX)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.core.timeutil import local_date, now
from punchclock.reports import sheets
from punchclock.reports.api import REPORT_FILES, wanted_format
from punchclock.reports.api_more import FormatQuery, _file, _q
from punchclock.reports.timereport import hours
from punchclock.reports.unbilled import UnbilledRow, unbilled_report

router = Router(tags=["Reports"])
Money = dict[str, str]


class UnbilledRowOut(Schema):
    project_id: int | None
    project: str
    billable_hours: str
    billed_hours: str
    time: Money
    expenses: Money
    expense_items: int
    total: Money
    oldest: date | None
    age_days: int | None


class UnbilledClientOut(Schema):
    client_id: int
    client: str
    summary: UnbilledRowOut
    projects: list[UnbilledRowOut]


class CoveredOut(Schema):
    retainer_id: int
    retainer: str
    client_id: int
    client: str
    billable_hours: str
    billed_hours: str
    oldest: date | None
    age_days: int | None


class UnbilledOut(Schema):
    today: date
    totals: Money
    clients: list[UnbilledClientOut]
    covered: list[CoveredOut]


def _money(values: dict[str, Any]) -> Money:
    return {currency: _q(amount, currency) for currency, amount in values.items()}


def _row(row: UnbilledRow, today: date) -> dict[str, Any]:
    return {
        "project_id": row.project_id,
        "project": row.label,
        "billable_hours": str(hours(row.billable_seconds)),
        "billed_hours": str(row.billed_hours),
        "time": _money(row.amounts),
        "expenses": _money(row.expenses),
        "expense_items": row.expense_count,
        "total": _money(row.total),
        "oldest": row.oldest,
        "age_days": row.age(today),
    }


@router.get(
    "/reports/unbilled",
    response=responses(UnbilledOut),
    summary="Billable time and expenses not yet invoiced, per client and project, with age",
    description="Time not on an issued invoice (priced as a draft would price it) and "
    "approved billable expenses on no invoice; for owners, admins and billing members. "
    "Time a retainer covers is not in `clients` (the retainer's close bills it): `covered` "
    "lists it per retainer, in hours.",
    openapi_extra=REPORT_FILES,
)
def unbilled_endpoint(request: HttpRequest, query: Query[FormatQuery]) -> Any:
    me = acting(request)
    zone = me.user.timezone
    report = unbilled_report(me, today=local_date(now(), zone), zone=zone)
    wants = wanted_format(request, query.format)
    if wants != "json":
        name = f"unbilled-{report.today}"
        return _file(wants, sheets.unbilled_table(report), name, query.bom)
    return {
        "today": report.today,
        "totals": _money(report.totals),
        "clients": [
            {
                "client_id": c.client_id,
                "client": c.name,
                "summary": _row(c.summary, report.today),
                "projects": [_row(r, report.today) for r in c.rows],
            }
            for c in report.clients
        ],
        "covered": [
            {
                "retainer_id": c.retainer_id,
                "retainer": c.name,
                "client_id": c.client_id,
                "client": c.client,
                "billable_hours": str(hours(c.billable_seconds)),
                "billed_hours": str(c.billed_hours),
                "oldest": c.oldest,
                "age_days": c.age(report.today),
            }
            for c in report.covered
        ],
    }
