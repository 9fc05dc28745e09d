"""REST endpoint of the time report: JSON by default, CSV or XLSX with format= or Accept.

The report format parameter and its negotiation live here for every report endpoint.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import BeforeValidator

from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.schemas import QuerySchema
from punchclock.reports.export import CONTENT_TYPES, export_response, time_report_table
from punchclock.reports.params import CHOICE_PERIODS, FieldError, parse_request
from punchclock.reports.query import DIMENSIONS
from punchclock.reports.timereport import Figures, Group, hours, time_report

router = Router(tags=["Reports"])


def _format_word(value: Any) -> Any:
    # " CSV " reads as csv and an empty format= as none given, as before the enum.
    if isinstance(value, str):
        return value.strip().lower() or None
    return value


Format = Literal["json", "csv", "xlsx"]
ReportFormat = Annotated[Format | None, BeforeValidator(_format_word)]
FORMAT_HELP = "json (default), csv or xlsx (an Excel workbook)"
BOM_HELP = "CSV only: 0 leaves out the UTF-8 byte-order mark"
# Documented next to each report's JSON schema, so clients know what format= answers.
REPORT_FILES: dict[str, Any] = {
    "responses": {
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                CONTENT_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
            }
        }
    }
}


def wanted_format(request: HttpRequest, asked: Format | None) -> Format:
    """json, csv or xlsx: format= when given, else the Accept header, else json."""
    if asked:
        return asked
    accept = request.headers.get("Accept", "")
    if "text/csv" in accept:
        return "csv"
    if CONTENT_TYPES["xlsx"] in accept:
        return "xlsx"
    return "json"


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
    format: ReportFormat = Field(None, description=FORMAT_HELP)
    bom: str | None = Field(None, description=BOM_HELP)


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
        "`format=csv` or `Accept: text/csv` answers CSV (UTF-8 with BOM unless `bom=0`); "
        "`format=xlsx` or `Accept: application/vnd.openxmlformats-officedocument."
        "spreadsheetml.sheet` an Excel workbook with the same rows."
    ),
    openapi_extra=REPORT_FILES,
)
def time_report_endpoint(request: HttpRequest, query: Query[TimeReportQuery]) -> Any:
    me = acting(request)
    zone = me.user.timezone
    source = query.model_dump(by_alias=True)
    try:
        ask = parse_request(me, source, zone=zone)
    except FieldError as exc:
        raise ValidationError({exc.field: [str(exc)]}) from exc
    wants = wanted_format(request, query.format)
    report = time_report(me, ask.where, by=ask.by, zone=zone)
    if wants != "json":
        table = time_report_table(report)
        return export_response(table, wants, "time-report", bom=query.bom != "0")
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
