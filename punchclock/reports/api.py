"""REST endpoint of the time report: JSON by default, CSV with format=csv or Accept."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.schemas import QuerySchema
from punchclock.reports.export import time_report_csv
from punchclock.reports.params import CHOICE_PERIODS, FieldError, parse_request
from punchclock.reports.query import DIMENSIONS
from punchclock.reports.timereport import Figures, Group, hours, time_report

router = Router(tags=["Reports"])


class TimeReportQuery(QuerySchema):
    period: str = Field("month", description=f"One of {', '.join(CHOICE_PERIODS)}")
    by: str = Field(
        "project", description=f"One or two of {', '.join(DIMENSIONS)}, comma-separated"
    )
    from_: str | None = Field(None, alias="from", description="First day (YYYY-MM-DD), custom")
    to: str | None = Field(None, description="Last day, included (YYYY-MM-DD), custom")
    client: str | None = Field(None, description="Client ids, comma-separated")
    project: str | None = Field(None, description="Project ids, comma-separated")
    task: str | None = Field(None, description="Task ids, comma-separated")
    person: str | None = Field(None, description="Membership ids, comma-separated")
    tag: str | None = Field(None, description="Tag ids, comma-separated (any of them)")
    billable: str | None = Field(None, description="yes or no")
    invoiced: str | None = Field(None, description="yes (on an issued invoice) or no")
    approved: str | None = Field(None, description="yes (in an approved timesheet) or no")
    format: str | None = Field(None, description="json (default) or csv")
    bom: str | None = Field(None, description="CSV only: 0 leaves out the UTF-8 byte-order mark")


class FiguresOut(Schema):
    key: str
    label: str
    hours: str
    billable_hours: str
    billed_hours: str = Field(description="Billable time after each project's rounding rule")
    seconds: int
    billable_seconds: int
    billed_seconds: int
    amounts: dict[str, str] = Field(description="Billable amount per currency")
    cost: dict[str, str] = Field(description="Cost per currency (owners and admins)")


class GroupOut(FiguresOut):
    children: list[FiguresOut] = []


class TimeReportOut(Schema):
    period: str
    start: datetime | None
    end: datetime | None
    first_day: date | None
    last_day: date | None
    zone: str
    by: str
    rows: list[GroupOut]
    total: FiguresOut


def figures_out(key: str, label: str, figures: Figures) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "hours": str(hours(figures.seconds)),
        "billable_hours": str(hours(figures.billable_seconds)),
        "billed_hours": str(hours(figures.billed_seconds)),
        "seconds": figures.seconds,
        "billable_seconds": figures.billable_seconds,
        "billed_seconds": figures.billed_seconds,
        "amounts": {c: str(a) for c, a in sorted(figures.amounts.items())},
        "cost": {c: str(a) for c, a in sorted(figures.cost.items())},
    }


def _group(group: Group) -> dict[str, Any]:
    out = figures_out(group.token, group.label, group.figures)
    out["children"] = [figures_out(c.token, c.label, c.figures) for c in group.children]
    return out


@router.get(
    "/reports/time",
    response=responses(TimeReportOut),
    summary="Hours, billed hours, billable amount and cost, grouped by one or two things",
    description=(
        "Filters combine; ids of several values are comma-separated. Days, weeks (Monday) and "
        "months are cut in the token owner's time zone. Members see their own time and no "
        "money; managers their own and their projects' time; owners and admins everything. "
        "`format=csv` or `Accept: text/csv` answers CSV (UTF-8 with BOM unless `bom=0`)."
    ),
)
def time_report_endpoint(request: HttpRequest, query: Query[TimeReportQuery]) -> Any:
    me = acting(request)
    zone = me.user.timezone
    source = query.model_dump(by_alias=True)
    try:
        ask = parse_request(me, source, zone=zone)
    except FieldError as exc:
        raise ValidationError({exc.field: [str(exc)]}) from exc
    wants = (query.format or "").strip().lower()
    if wants not in ("", "json", "csv"):
        raise ValidationError({"format": ["Use json or csv."]})
    accept = request.headers.get("Accept", "")
    report = time_report(me, ask.where, by=ask.by, zone=zone)
    if wants == "csv" or (not wants and "text/csv" in accept):
        body = time_report_csv(report, bom=(query.bom or "1") != "0")
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="time-report.csv"'
        return response
    return {
        "period": ask.period,
        "start": ask.where.start,
        "end": ask.where.end,
        "first_day": ask.first,
        "last_day": ask.last,
        "zone": zone,
        "by": ",".join(ask.by),
        "rows": [_group(g) for g in report.groups],
        "total": figures_out("total", "Total", report.total),
    }
