"""Report pages: the landing list, the time report with its chart, drill-down and export."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from punchclock.accounts.decorators import member_required
from punchclock.accounts.models import Membership, User
from punchclock.accounts.permissions import can
from punchclock.core.htmx import is_htmx
from punchclock.core.timeutil import local_date, now
from punchclock.reports import charts
from punchclock.reports.export import FileFormat, export_response, time_report_table
from punchclock.reports.params import CHOICE_PERIODS, FieldError, ReportRequest, parse_request
from punchclock.reports.query import DIMENSIONS, TIME_DIMENSIONS, day_bounds, entry_ids, scope_for
from punchclock.reports.timereport import (
    Figures,
    ReportError,
    TimeReport,
    decode_key,
    group_labels,
    hours_cells,
    project_label,
    project_names,
    time_report,
)
from punchclock.tracking.models import TimeEntry

PAGE_SIZE = 50
# A longer table shows its first rows with a link to all of them (?rows=all), up to
# ALL_ROWS; past that it is read in a spreadsheet: the exports have every row.
MAX_ROWS = 400
ALL_ROWS = 10_000
PERIOD_LABELS = {
    "today": "Today",
    "yesterday": "Yesterday",
    "week": "This week",
    "last-week": "Last week",
    "month": "This month",
    "last-month": "Last month",
    "year": "This year",
    "last-year": "Last year",
    "all": "All time",
    "custom": "Custom…",
}
FLAG_FILTERS = (
    ("billable", "Billable", "Billable", "Not billable"),
    ("invoiced", "Invoiced", "On an issued invoice", "Not invoiced"),
    ("approved", "Approved", "Approved", "Not approved"),
)


def _viewer(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _zone(request: HttpRequest) -> str:
    return str(request.user.timezone)  # type: ignore[union-attr]


@member_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    return render(
        request,
        "reports/index.html",
        {
            "can_invoice": can(viewer, "invoices.manage"),
            "can_budgets": can(viewer, "projects.manage") or viewer.role == "manager",
        },
    )


def _options(viewer: Membership, selected_project: tuple[int, ...]) -> dict[str, Any]:
    """What the filter selects offer, as (id, label) pairs: only what the viewer may look
    at. Plain values, not model instances: an agency has hundreds of projects."""
    from punchclock.clients.models import Client
    from punchclock.projects.models import Project, Task
    from punchclock.tracking.models import Tag

    org = viewer.organization_id
    scope = scope_for(viewer)
    projects = Project.objects.filter(organization_id=org)
    if not scope.everyone:
        projects = projects.filter(assignments__membership=viewer).distinct()
    people: list[tuple[int, str]] = []
    if scope.everyone or scope.managed:
        people = [
            (pk, User.display_name_of(name, email))
            for pk, name, email in Membership.objects.filter(organization_id=org)
            .order_by("user__name")
            .values_list("pk", "user__name", "user__email")
        ]
    tasks: list[tuple[int, str]] = []
    if len(selected_project) == 1:
        tasks = list(
            Task.objects.filter(project_id=selected_project[0], project__organization_id=org)
            .order_by("name")
            .values_list("pk", "name")
        )
    return {
        "clients": list(
            Client.objects.filter(organization_id=org).order_by("name").values_list("pk", "name")
        )
        if scope.everyone or scope.managed
        else [],
        "projects": [
            (pk, project_label(code, name))
            for pk, code, name in project_names(projects.order_by("client__name", "name"))
        ],
        "tasks": tasks,
        "people": people,
        "tags": list(
            Tag.objects.filter(organization_id=org).order_by("name").values_list("pk", "name")
        ),
    }


CHART_SLOTS = 60  # the most bars a chart draws of the report's own periods


def _chart(viewer: Membership, ask: ReportRequest, report: TimeReport) -> Any:
    """Hours of the first grouping over time, in days, weeks or months by the period length."""
    span = report.where
    if span.start is None or span.end is None:
        unit = "month"
    else:
        days = (span.end - span.start).days
        unit = "day" if days <= 35 else "week" if days <= 190 else "month"
        # A report by week or month draws the periods it was asked for, while they fit
        # the chart (and then the report already holds the chart's cells).
        asked = [name for name in ask.by if name in TIME_DIMENSIONS]
        if asked and days / {"day": 1, "week": 7, "month": 30.4}[asked[0]] <= CHART_SLOTS:
            unit = asked[0]
    first = ask.by[0]
    # (period, series key, seconds): from the report itself when it already holds the
    # chart's cells (a year by client and month), else from an hours-only report.
    cells: list[tuple[Any, Any, int]]
    if first in TIME_DIMENSIONS and first == unit:
        cells = [(g.key[0], None, g.figures.seconds) for g in report.groups]
    elif first not in TIME_DIMENSIONS and report.by == (first, unit):
        cells = [(c.key[0], g.key, c.figures.seconds) for g in report.groups for c in g.children]
    else:
        by = (unit,) if first in TIME_DIMENSIONS else (unit, first)
        series_cells = hours_cells(viewer, span, by=by, zone=report.zone)
        cells = [(period[0], key, seconds) for (period, key), seconds in series_cells.items()]
    if not cells:
        return None
    slots = _slots(unit, span, report.zone, sorted({day for day, _, _ in cells}))
    categories = [_short(unit, day) for day in slots]
    index = {day: i for i, day in enumerate(slots)}
    # Seconds per series and slot, ranked and folded into "Other" as integers; only the
    # series drawn become hours (a month by project has some two hundred series).
    found: dict[Any, list[int]] = {}
    for day, key, seconds in cells:
        found.setdefault(key, [0] * len(slots))[index[day]] += seconds
    if first in TIME_DIMENSIONS:
        series = [charts.Series("Hours", found[None])]
    else:
        labels = {g.key: g.label for g in report.groups}
        series = [charts.Series(labels.get(k, "?"), v) for k, v in found.items()]
        series = charts.top_series(series)
    series = charts.in_hours(series)
    if not categories:
        return None
    title = f"Hours by {first} per {unit}"
    return charts.stacked_bars(categories, series, title=title)


def _slots(unit: str, span: Any, zone: str, found: list[date]) -> list[date]:
    """Every day, week (its Monday) or month (its first) of the range, quiet ones too, so
    a weekend or an idle month shows as a gap instead of vanishing from the axis. The range
    stops at today (or the last period with time, if later): no empty future."""
    if not found and (span.start is None or span.end is None):
        return []
    first = local_date(span.start, zone) if span.start is not None else min(found)
    last = local_date(span.end - timedelta(microseconds=1), zone) if span.end else max(found)
    last = min(last, max([local_date(now(), zone), *found]))

    def start_of(day: date) -> date:
        if unit == "day":
            return day
        if unit == "week":
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    slots, day = [], start_of(first)
    while day <= last:
        slots.append(day)
        day = (
            day + timedelta(days=1 if unit == "day" else 7)
            if unit != "month"
            else (day + timedelta(days=32)).replace(day=1)
        )
    return sorted({*slots, *found})


def _short(unit: str, day: date) -> str:
    if unit == "day":
        return day.strftime("%d %b")
    if unit == "week":
        return f"W{day.isocalendar().week:02d}"
    return day.strftime("%b %y")


def _query_without(request: HttpRequest, *names: str) -> str:
    pairs = [(k, v) for k, v in request.GET.items() if k not in names and v]
    return urlencode(pairs)


@member_required
@require_GET
def time_report_page(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    zone = _zone(request)
    error: FieldError | None = None
    try:
        ask = parse_request(viewer, request.GET, zone=zone)
    except FieldError as exc:
        error = exc
        ask = parse_request(viewer, {}, zone=zone)
    report = time_report(viewer, ask.where, by=ask.by, zone=zone)
    drill_query = _query_without(request, "drill", "page", "rows")
    rows = _rows(report, reverse("reports:time_entries") + "?" + drill_query)
    shown = ALL_ROWS if request.GET.get("rows") == "all" else MAX_ROWS
    context = {
        "ask": ask,
        "report": report,
        "error": error,
        "chart": _chart(viewer, ask, report),
        "dimensions": DIMENSIONS,
        "periods": [(p, PERIOD_LABELS[p]) for p in CHOICE_PERIODS],
        "flags": FLAG_FILTERS,
        "options": _options(viewer, ask.where.projects),
        "params": request.GET,
        "query": _query_without(request),
        "drill_query": drill_query,
        "rows": rows[:shown],
        "hidden_rows": max(0, len(rows) - shown),
        "all_rows": len(rows),
        "can_show_all": shown < len(rows) <= ALL_ROWS,
        "query_all_rows": _query_without(request, "rows") + "&rows=all",
        "currencies": sorted(report.total.amounts),
        "cost_currencies": sorted(report.total.cost),
    }
    context["fragment"] = is_htmx(request)
    template = "reports/time.html#results" if context["fragment"] else "reports/time.html"
    return render(request, template, context, status=400 if error else 200)


def _rows(report: TimeReport, entries_url: str) -> list[dict[str, Any]]:
    """Table rows: each group, then its children indented, each with its drill-down link
    (built here once per row: a {% url %} per row was a good part of a long page's time)."""
    joiner = "&" if not entries_url.endswith("?") else ""
    rows: list[dict[str, Any]] = []
    for group in report.groups:
        rows.append({"group": group, "level": 0, "href": _drill(entries_url, joiner, group.token)})
        for child in group.children:
            token = f"{group.token},{child.token}"
            rows.append({"group": child, "level": 1, "href": _drill(entries_url, joiner, token)})
    return rows


def _drill(entries_url: str, joiner: str, token: str) -> str:
    return f"{entries_url}{joiner}drill={quote(token, safe='')}"


@member_required
@require_GET
def time_report_export(request: HttpRequest, file_format: FileFormat) -> HttpResponse:
    viewer = _viewer(request)
    zone = _zone(request)
    try:
        ask = parse_request(viewer, request.GET, zone=zone)
    except FieldError as exc:
        return HttpResponse(f"{exc.field}: {exc}", status=400, content_type="text/plain")
    report = time_report(viewer, ask.where, by=ask.by, zone=zone)
    name = f"time-report-{'-'.join(ask.by)}-{ask.first or 'all'}-{ask.last or ''}"
    return export_response(
        time_report_table(report),
        file_format,
        name.replace("--", "-").rstrip("-"),
        bom=request.GET.get("bom", "1") != "0",
    )


def apply_drill(
    viewer: Membership, ask: ReportRequest, drill: str, zone: str
) -> tuple[ReportRequest, int | bool | None, list[str]]:
    """The filter narrowed to a group (`project:12,week:2026-11-02`), and its labels."""
    import dataclasses

    where = ask.where
    tag: int | bool | None = False
    for token in [t for t in drill.split(",") if t][:2]:
        dimension, _, text = token.partition(":")
        if dimension not in DIMENSIONS:
            raise ReportError(f"“{dimension[:20]}” is not a grouping.")
        key = decode_key(dimension, text)
        match dimension:
            case "client":
                where = dataclasses.replace(where, clients=(key[0],))
            case "project":
                where = dataclasses.replace(where, projects=(key[0],))
            case "task":
                # (project, None) is the project's time without a task: entry_ids(no_task=)
                tasks = () if key[1] is None else (key[1],)
                where = dataclasses.replace(where, projects=(key[0],), tasks=tasks)
            case "person":
                where = dataclasses.replace(where, people=(key[0],))
            case "tag":
                tag = key[0]
            case _:
                start, end = day_bounds(dimension, key[0], zone)
                where = dataclasses.replace(
                    where,
                    start=max(start, where.start) if where.start else start,
                    end=min(end, where.end) if where.end else end,
                )
    return dataclasses.replace(ask, where=where), tag, []


@member_required
@require_GET
def time_entries(request: HttpRequest) -> HttpResponse:
    """The entries behind one group of the report, newest first, a page at a time."""
    viewer = _viewer(request)
    zone = _zone(request)
    try:
        ask = parse_request(viewer, request.GET, zone=zone)
        drilled, tag, _ = apply_drill(viewer, ask, request.GET.get("drill", ""), zone)
    except (FieldError, ReportError) as exc:
        return render(
            request, "reports/entries.html", {"error": str(exc), "page": None}, status=400
        )
    no_task = any(
        t.startswith("task:") and t.endswith("-none")
        for t in request.GET.get("drill", "").split(",")
    )
    page_number = _page(request.GET.get("page"))
    ids, count = entry_ids(
        scope_for(viewer),
        drilled.where,
        org_zone=viewer.organization.timezone,
        tag=tag,
        no_task=no_task,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    entries = TimeEntry.objects.select_related(
        "project__client", "task", "membership__user"
    ).in_bulk(ids)
    paginator = Paginator(range(count), PAGE_SIZE)
    page = paginator.get_page(page_number)
    title = _drill_title(viewer, request.GET.get("drill", ""))
    return render(
        request,
        "reports/entries.html",
        {
            "entries": [entries[i] for i in ids if i in entries],
            "page": page,
            "count": count,
            "title": title,
            "back": _query_without(request, "drill", "page"),
            "query": _query_without(request, "page"),
            "zone": zone,
        },
    )


def _page(text: str | None) -> int:
    try:
        return max(1, min(int(text or 1), 100_000))
    except ValueError:
        return 1


def _drill_title(viewer: Membership, drill: str) -> str:
    """The group's labels as the report shows them, found by running it narrowed."""
    parts: list[str] = []
    for token in [t for t in drill.split(",") if t][:2]:
        dimension, _, text = token.partition(":")
        key = decode_key(dimension, text)
        labels = group_labels(viewer, (dimension,), {(key,): Figures()})
        parts.append(labels.get((dimension, key), "—"))
    return " · ".join(parts) or "All entries"
