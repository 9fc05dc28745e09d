"""The weekly timesheet: a grid of (project, task) rows by day, each cell a day's total."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from punchclock.accounts.models import Membership, Role
from punchclock.accounts.permissions import can, visible_projects
from punchclock.core import timeutil
from punchclock.core.htmx import is_htmx
from punchclock.projects.models import Project, ProjectStatus, Task
from punchclock.tracking import forms as f
from punchclock.tracking import services
from punchclock.tracking.models import TimeEntry, Timesheet, TimesheetStatus
from punchclock.tracking.views.common import (
    BadInput,
    date_param,
    page,
    person_from,
    person_query,
    refused,
    text_of,
    today_of,
    viewer_of,
    week_url,
    zone_of,
)

ROWS_KEY = "timesheet_rows"


@dataclass
class Cell:
    day: date
    entries: list[TimeEntry] = field(default_factory=list)
    seconds: int = 0
    why_read_only: str = ""
    error: str = ""
    typed: str = ""

    @property
    def editable(self) -> bool:
        return not self.why_read_only


@dataclass
class GridRow:
    project: Project
    task: Task | None
    cells: list[Cell]

    @property
    def key(self) -> str:
        return f"{self.project.pk}-{self.task.pk if self.task else 0}"

    @property
    def total(self) -> int:
        return sum(c.seconds for c in self.cells)


def _added_rows(request: HttpRequest, person: Membership, monday: date) -> list[list[int | None]]:
    rows = request.session.get(ROWS_KEY, {})
    return list(rows.get(f"{person.pk}:{monday}", []))


def _remember_row(
    request: HttpRequest, person: Membership, monday: date, project_id: int, task_id: int | None
) -> None:
    """Rows without time yet live in the session, per person and week, until time lands."""
    rows = request.session.get(ROWS_KEY, {})
    week = rows.setdefault(f"{person.pk}:{monday}", [])
    if [project_id, task_id] not in week:
        week.append([project_id, task_id])
    # Only the weeks in view matter; keep the session small.
    request.session[ROWS_KEY] = dict(list(rows.items())[-12:])


def _grid_rows(
    request: HttpRequest, person: Membership, monday: date, entries: list[TimeEntry]
) -> list[GridRow]:
    zone = zone_of(request)
    days = [monday + timedelta(days=i) for i in range(7)]
    targets: dict[tuple[int, int | None], tuple[Project, Task | None]] = {}
    by_cell: dict[tuple[int, int | None, date], list[TimeEntry]] = {}
    for entry in entries:
        key = (entry.project_id, entry.task_id)
        targets.setdefault(key, (entry.project, entry.task))
        day = timeutil.local_date(entry.start, zone)
        by_cell.setdefault((*key, day), []).append(entry)
    wanted = [(p, t) for p, t in _added_rows(request, person, monday) if (p, t) not in targets]
    if wanted:
        projects = (
            visible_projects(person)
            .select_related("client")
            .in_bulk([p for p, _ in wanted if p is not None])
        )
        tasks = Task.objects.in_bulk([t for _, t in wanted if t is not None])
        for project_id, task_id in wanted:
            project = projects.get(project_id or 0)
            task = tasks.get(task_id) if task_id else None
            if project is not None and (
                task_id is None or (task and task.project_id == project.pk)
            ):
                targets[(project.pk, task_id)] = (project, task)
    rows = [
        GridRow(project, task, [Cell(d, by_cell.get((project.pk, task_id, d), [])) for d in days])
        for (_, task_id), (project, task) in targets.items()
    ]
    rows.sort(key=lambda r: (r.project.client.name, r.project.name, r.task.name if r.task else ""))
    return rows


def _week_context(
    request: HttpRequest, person: Membership, monday: date, **extra: Any
) -> dict[str, Any]:
    viewer, zone = viewer_of(request), zone_of(request)
    sunday = monday + timedelta(days=6)
    current, today = timeutil.now(), today_of(request)
    entries = list(
        services.visible_entries(viewer)
        .filter(
            membership=person,
            start__gte=timeutil.start_of_day(monday, zone),
            start__lt=timeutil.start_of_day(sunday + timedelta(days=1), zone),
        )
        .select_related("project__client", "task")
        .order_by("start")
    )
    rows = _grid_rows(request, person, monday, entries)
    locks = services.lock_reasons(person, monday, sunday)
    rights = services.edit_rights(viewer)
    for row in rows:
        for cell in row.cells:
            cell.seconds = sum(e.seconds(current) for e in cell.entries)
            cell.why_read_only = _why_read_only(
                cell, row, locks, today, rights(person.pk, row.project.pk)
            )
    days = [monday + timedelta(days=i) for i in range(7)]
    day_totals = [sum(r.cells[i].seconds for r in rows) for i in range(7)]
    sheet = (
        Timesheet.objects.filter(
            membership=person, period_start__lte=sunday, period_end__gte=monday
        )
        .select_related("decided_by")
        .order_by("-submitted_at")
        .first()
    )
    open_week = sheet is None or sheet.status == TimesheetStatus.REJECTED
    may_decide = (
        sheet is not None
        and sheet.status == TimesheetStatus.SUBMITTED
        and person.pk != viewer.pk
        and services.decidable_timesheets(viewer).filter(pk=sheet.pk).exists()
    )
    may_add_rows = any(not locks.get(d) for d in days) and (
        person.pk == viewer.pk or can(viewer, "time.manage_all") or viewer.role == Role.MANAGER
    )
    this_week = timeutil.week_start(today)
    context = {
        "person": person,
        "person_param": person_query(person, viewer),
        "is_me": person.pk == viewer.pk,
        "zone": zone,
        "urls": {
            "self": week_url(person, viewer, monday),
            "previous": week_url(person, viewer, monday - timedelta(days=7)),
            "next": week_url(person, viewer, monday + timedelta(days=7)),
            "this_week": week_url(person, viewer, this_week),
        },
        "monday": monday,
        "sunday": sunday,
        "days": [(d, locks.get(d), d == today) for d in days],
        "rows": rows,
        "day_totals": day_totals,
        "week_total": sum(day_totals),
        "billable_total": sum(e.seconds(current) for e in entries if e.billable),
        "this_week": this_week,
        "sheet": sheet,
        "may_submit": person.pk == viewer.pk and open_week,
        "may_decide": may_decide,
        "row_form": extra.pop("row_form", None)
        or (f.RowForm(person=person) if may_add_rows else None),
    }
    return context | extra


def _why_read_only(
    cell: Cell, row: GridRow, locks: dict[date, str], today: date, may_edit: bool
) -> str:
    if locks.get(cell.day):
        return locks[cell.day]
    if not may_edit:
        return "You may not change this person's time on this project."
    if row.project.status != ProjectStatus.ACTIVE or row.project.client.is_archived:
        return f"The project {row.project.full_code} is archived."
    if row.task is not None and row.task.is_archived:
        return f"The task “{row.task}” is archived."
    if any(e.end is None for e in cell.entries):
        return "A timer is running here: stop it first."
    if len(cell.entries) > 1:
        return f"{len(cell.entries)} entries: change them in the day view."
    if cell.day > today and not cell.entries:
        return "This day is still to come."
    return ""


@page
def week_view(request: HttpRequest) -> HttpResponse:
    person = person_from(request, request.GET)
    monday = timeutil.week_start(date_param(request, request.GET, "week"))
    context = _week_context(request, person, monday)
    if is_htmx(request):
        return _grid_fragment(request, context)
    return render(request, "tracking/week.html", context)


def _grid_fragment(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    html = render_to_string("tracking/week.html#grid", context, request)
    html += render_to_string("tracking/week.html#stats", {**context, "oob": True}, request)
    return HttpResponse(html, status=status)


@page
@require_POST
def week_cell(request: HttpRequest) -> HttpResponse:
    """Set one day's total of a row: add an entry, resize the only one, or remove it."""
    viewer, zone = viewer_of(request), zone_of(request)
    person = person_from(request, request.POST)
    form = f.CellForm(request.POST)
    if not form.is_valid():
        field_name, errors = next(iter(form.errors.items()))
        raise BadInput(f"{field_name.capitalize()}: {errors[0]}")
    data = form.cleaned_data
    project = visible_projects(person).select_related("client").filter(pk=data["project"]).first()
    if project is None:
        raise Http404("No such project.")
    task = project.tasks.filter(pk=data["task"]).first() if data["task"] else None
    if data["task"] and task is None:
        raise BadInput(f"{project.full_code} has no such task.")
    day, seconds = data["day"], data["duration"]
    entries = list(
        services.visible_entries(viewer).filter(
            membership=person,
            project=project,
            task=task,
            start__gte=timeutil.start_of_day(day, zone),
            start__lt=timeutil.start_of_day(day + timedelta(days=1), zone),
        )
    )
    error = ""
    try:
        error = _set_cell(viewer, person, project, task, day, entries, seconds)
    except ValidationError as exc:
        error = text_of(exc)
    monday = timeutil.week_start(day)
    _remember_row(request, person, monday, project.pk, task.pk if task else None)
    if not is_htmx(request):
        if error:
            return refused(request, error, back=week_url(person, viewer, monday))
        return redirect(week_url(person, viewer, monday))
    context = _week_context(request, person, monday)
    key = f"{project.pk}-{task.pk if task else 0}"
    row = next(r for r in context["rows"] if r.key == key)
    if error:
        cell = next(c for c in row.cells if c.day == day)
        cell.error, cell.typed = error, request.POST.get("duration", "")[:20]
    context["row"] = row
    html = render_to_string("tracking/week.html#row", context, request)
    html += render_to_string("tracking/week.html#totals", {**context, "oob": True}, request)
    return HttpResponse(html, status=400 if error else 200)


def _set_cell(
    viewer: Membership,
    person: Membership,
    project: Project,
    task: Task | None,
    day: date,
    entries: list[TimeEntry],
    seconds: int,
) -> str:
    """Call the one service the typed total asks for; a refusal comes back as a sentence."""
    if len(entries) > 1:
        return f"This cell has {len(entries)} entries: change them in the day view."
    if not entries:
        if seconds:
            services.add_duration(
                person, by=viewer, project=project, task=task, day=day, seconds=seconds
            )
        return ""
    entry = entries[0]
    if entry.end is None:
        return "A timer is running here: stop it first."
    if seconds == entry.duration_seconds:
        return ""
    if seconds:
        services.update_entry(entry, by=viewer, end=entry.start + timedelta(seconds=seconds))
    else:
        services.delete_entry(entry, by=viewer)
    return ""


@page
@require_POST
def week_row(request: HttpRequest) -> HttpResponse:
    """Add a (project, task) row to the grid before any time is on it."""
    viewer = viewer_of(request)
    person = person_from(request, request.POST)
    monday = timeutil.week_start(date_param(request, request.POST, "week"))
    form = f.RowForm(request.POST, person=person)
    if form.is_valid():
        task = form.cleaned_data["task"]
        _remember_row(
            request, person, monday, form.cleaned_data["project"].pk, task.pk if task else None
        )
    status = 400 if form.errors else 200
    if is_htmx(request):
        context = _week_context(request, person, monday, row_form=form if form.errors else None)
        return _grid_fragment(request, context, status=status)
    if form.errors:
        context = _week_context(request, person, monday, row_form=form)
        return render(request, "tracking/week.html", context, status=status)
    return redirect(week_url(person, viewer, monday))


@page
@require_POST
def week_submit(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    monday = timeutil.week_start(date_param(request, request.POST, "week", required=True))
    try:
        services.submit_timesheet(
            viewer, period_start=monday, period_end=monday + timedelta(days=6)
        )
    except ValidationError as exc:
        context = _week_context(request, viewer, monday, submit_error=text_of(exc))
        return render(request, "tracking/week.html", context, status=400)
    messages.success(request, f"The week of {monday:%d %b} is submitted for approval.")
    return redirect(week_url(viewer, viewer, monday))
