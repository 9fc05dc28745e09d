"""REST endpoints for time tracking: timer, entries and timesheets (reports: reports/api.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import visible_projects
from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import Id, InputSchema
from punchclock.core.timeutil import (
    PERIODS,
    TimeInputError,
    parse_day,
    parse_duration,
    parse_when,
    period_bounds,
    start_of_day,
)
from punchclock.projects.models import Project, ProjectStatus, Task
from punchclock.tracking import services
from punchclock.tracking.models import Source, TimeEntry, Timesheet, TimesheetStatus

router = Router(tags=["Time tracking"])

# Schemas ----------------------------------------------------------------------------------


class Message(Schema):
    detail: str


class EntryOut(Schema):
    id: int
    person_id: int
    person: str
    project_id: int
    project: str = Field(description="The project's code, client/project")
    project_name: str
    client: str
    task_id: int | None
    task: str | None
    description: str
    start: datetime
    end: datetime | None
    seconds: int = Field(description="Tracked seconds; a running entry counts up to now")
    billable: bool
    tags: list[str]
    source: str
    external_ref: str
    warnings: list[str] = []


class TimerChangeOut(Schema):
    started: EntryOut
    stopped: EntryOut | None


class RunningOut(Schema):
    running: EntryOut | None


class TrackableProjectOut(Schema):
    id: int
    code: str
    name: str
    client: str
    tasks: list[str]


class TrackableProjectsOut(Schema):
    items: list[TrackableProjectOut]


class StartIn(InputSchema):
    nullable = frozenset({"project", "project_id", "task", "task_id", "at", "billable"})

    project: str | None = Field(None, description="Project code like acme/api (prefixes work)")
    project_id: Id | None = None
    task: str | None = Field(None, description="Task name (a unique prefix works)")
    task_id: Id | None = None
    description: str = Field("", max_length=500)
    at: str | None = Field(None, description="9:15, yesterday 17:00 or ISO 8601; default now")
    tags: list[str] = Field([], max_length=20)
    billable: bool | None = None
    external_ref: str = Field("", max_length=200)


class AtIn(InputSchema):
    nullable = frozenset({"at"})

    at: str | None = None


class EntryIn(InputSchema):
    nullable = frozenset(
        {
            "project",
            "project_id",
            "task",
            "task_id",
            "person_id",
            "start",
            "end",
            "date",
            "duration",
            "billable",
        }
    )

    project: str | None = None
    project_id: Id | None = None
    task: str | None = None
    task_id: Id | None = None
    person_id: Id | None = Field(None, description="Track for someone else (managers, admins)")
    description: str = Field("", max_length=500)
    start: str | None = Field(None, description="With end: 9:15, 2026-11-20 9:15 or ISO 8601")
    end: str | None = None
    date: str | None = Field(None, description="With duration: today, yesterday, 2026-11-20")
    duration: str | None = Field(None, description="1h30, 1.5h, 90m or 1:30")
    tags: list[str] = Field([], max_length=20)
    billable: bool | None = None
    external_ref: str = Field("", max_length=200)
    allow_long: bool = Field(False, description="Confirm an entry longer than 24 hours")


class EntryPatch(InputSchema):
    nullable = frozenset(
        {
            "project",
            "project_id",
            "task",
            "task_id",
            "description",
            "start",
            "end",
            "tags",
            "billable",
            "external_ref",
        }
    )

    project: str | None = None
    project_id: Id | None = None
    task: str | None = None
    task_id: Id | None = None
    description: str | None = Field(None, max_length=500)
    start: str | None = None
    end: str | None = None
    tags: list[str] | None = Field(None, max_length=20)
    billable: bool | None = None
    external_ref: str | None = Field(None, max_length=200)
    allow_long: bool = False


class EntryFilter(PageQuery):
    period: str | None = Field(None, description=f"One of {', '.join(PERIODS)}")
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to", description="Inclusive")
    person_id: Id | None = None
    project_id: Id | None = None
    client_id: Id | None = None
    billable: bool | None = None
    running: bool | None = None


class SplitIn(InputSchema):
    at: str


class DuplicateIn(InputSchema):
    nullable = frozenset({"date"})

    date: str | None = None


class TimesheetOut(Schema):
    id: int
    person_id: int
    person: str
    period_start: date
    period_end: date
    status: str
    submitted_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str


class TimesheetIn(InputSchema):
    period_start: date
    period_end: date


class DecisionIn(InputSchema):
    comment: str = Field("", max_length=2000)


class ReopenIn(InputSchema):
    reason: str = Field(..., max_length=2000)


class TimesheetFilter(PageQuery):
    status: str | None = None
    person_id: Id | None = None


# Helpers ----------------------------------------------------------------------------------


def _zone(membership: Membership) -> str:
    return membership.user.timezone


def _when(text: str | None, membership: Membership, field: str) -> datetime | None:
    if text is None or text == "":
        return None
    try:
        return parse_when(text, _zone(membership))
    except TimeInputError as exc:
        raise ValidationError({field: [str(exc)]}) from exc


def _project(membership: Membership, code: str | None, pk: int | None) -> Project:
    if pk is not None:
        project = visible_projects(membership).select_related("client").filter(pk=pk).first()
        if project is None:
            raise ValidationError({"project_id": ["No such project."]})
        return project
    if not code:
        raise ValidationError({"project": ["Name the project (acme/api) or give project_id."]})
    return services.find_project(membership, code)


def _task(project: Project, name: str | None, pk: int | None) -> Task | None:
    if pk is not None:
        task = project.tasks.filter(pk=pk).first()
        if task is None:
            raise ValidationError({"task_id": [f"{project.full_code} has no such task."]})
        return task
    return services.find_task(project, name)


def entry_out(entry: TimeEntry, warnings: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "person_id": entry.membership_id,
        "person": entry.membership.user.display_name,
        "project_id": entry.project_id,
        "project": entry.project.full_code,
        "project_name": entry.project.name,
        "client": entry.project.client.name,
        "task_id": entry.task_id,
        "task": entry.task.name if entry.task else None,
        "description": entry.description,
        "start": entry.start,
        "end": entry.end,
        "seconds": entry.seconds(),
        "billable": entry.billable,
        "tags": [t.name for t in entry.tags.all()],
        "source": entry.source,
        "external_ref": entry.external_ref,
        "warnings": warnings or [],
    }


def _overlap_warnings(entry: TimeEntry) -> list[str]:
    clashes = list(services.overlapping(entry)[:3])
    return [f"overlaps entry {c.pk} ({c.project.full_code})" for c in clashes]


def _entries():
    return TimeEntry.objects.select_related(
        "project__client", "task", "membership__user"
    ).prefetch_related("tags")


def _reload(entry: TimeEntry) -> TimeEntry:
    return _entries().get(pk=entry.pk)


# Timer ------------------------------------------------------------------------------------


@router.get("/timer", response=responses(RunningOut), summary="The running timer")
def timer(request: HttpRequest) -> dict[str, Any]:
    running = services.running_entry(acting(request))
    return {"running": entry_out(_reload(running)) if running else None}


@router.post(
    "/timer/start",
    response=responses(TimerChangeOut),
    summary="Start a timer (switching from the running one)",
)
def timer_start(request: HttpRequest, payload: StartIn) -> dict[str, Any]:
    me = acting(request)
    project = _project(me, payload.project, payload.project_id)
    change = services.start_timer(
        me,
        project=project,
        task=_task(project, payload.task, payload.task_id),
        description=payload.description,
        at=_when(payload.at, me, "at"),
        tags=payload.tags,
        billable=payload.billable,
        source=_source(request),
        external_ref=payload.external_ref,
    )
    assert change.started is not None
    return {
        "started": entry_out(_reload(change.started)),
        "stopped": entry_out(_reload(change.stopped)) if change.stopped else None,
    }


def _source(request: HttpRequest) -> str:
    agent = request.headers.get("User-Agent", "")
    return Source.CLI if agent.startswith("punch/") else Source.API


@router.post("/timer/stop", response=responses(EntryOut), summary="Stop the running timer")
def timer_stop(request: HttpRequest, payload: AtIn) -> dict[str, Any]:
    me = acting(request)
    entry = services.stop_timer(me, at=_when(payload.at, me, "at"))
    return entry_out(_reload(entry))


@router.post(
    "/timer/resume", response=responses(TimerChangeOut), summary="Start again what was tracked last"
)
def timer_resume(request: HttpRequest, payload: AtIn) -> dict[str, Any]:
    me = acting(request)
    change = services.resume_timer(me, at=_when(payload.at, me, "at"), source=_source(request))
    assert change.started is not None
    return {
        "started": entry_out(_reload(change.started)),
        "stopped": entry_out(_reload(change.stopped)) if change.stopped else None,
    }


@router.post("/timer/discard", response=responses(Message), summary="Throw the running timer away")
def timer_discard(request: HttpRequest) -> dict[str, str]:
    services.discard_timer(acting(request))
    return {"detail": "The running timer was discarded."}


@router.get(
    "/tracking/projects",
    response=responses(TrackableProjectsOut),
    summary="Projects the caller can track time on",
)
def trackable_projects(request: HttpRequest) -> dict[str, Any]:
    me = acting(request)
    projects = (
        visible_projects(me)
        .filter(status=ProjectStatus.ACTIVE, client__is_archived=False)
        .select_related("client")
        .prefetch_related("tasks")
        .order_by("client__code", "code")
    )
    if not _sees_all(me):
        projects = projects.filter(assignments__membership=me)
    return {
        "items": [
            {
                "id": p.pk,
                "code": p.full_code,
                "name": p.name,
                "client": p.client.name,
                "tasks": [t.name for t in p.tasks.all() if not t.is_archived],
            }
            for p in projects
        ]
    }


def _sees_all(membership: Membership) -> bool:
    from punchclock.accounts.permissions import can

    return can(membership, "time.manage_all")


# Entries ----------------------------------------------------------------------------------


@router.get("/entries", response=responses(page_of(EntryOut)), summary="List time entries")
def list_entries(request: HttpRequest, filters: Query[EntryFilter]) -> dict[str, Any]:
    me = acting(request)
    entries = (
        services.visible_entries(me)
        .select_related("project__client", "task", "membership__user")
        .prefetch_related("tags")
    )
    zone = _zone(me)
    if filters.period:
        try:
            start, end = period_bounds(filters.period, zone)
        except TimeInputError as exc:
            raise ValidationError({"period": [str(exc)]}) from exc
        if start is not None:
            entries = entries.filter(start__gte=start, start__lt=end)
    if filters.date_from:
        entries = entries.filter(start__gte=start_of_day(filters.date_from, zone))
    if filters.date_to:
        from datetime import timedelta

        entries = entries.filter(start__lt=start_of_day(filters.date_to + timedelta(days=1), zone))
    for name, lookup in (
        ("person_id", "membership_id"),
        ("project_id", "project_id"),
        ("client_id", "project__client_id"),
        ("billable", "billable"),
    ):
        value = getattr(filters, name)
        if value is not None:
            entries = entries.filter(**{lookup: value})
    if filters.running is not None:
        entries = entries.filter(end__isnull=filters.running)
    page = paginate(entries.order_by("-start", "-pk"), filters)
    page["items"] = [entry_out(e) for e in page["items"]]
    return page


@router.get("/entries/{id:entry_id}", response=responses(EntryOut), summary="One time entry")
def get_entry(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    entry = services.get_entry_for(acting(request), entry_id)
    return entry_out(_reload(entry), _overlap_warnings(entry))


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


@router.post("/entries", response=responses(EntryOut, 201), summary="Add finished time")
def create_entry(request: HttpRequest, payload: EntryIn) -> Status:
    me = acting(request)
    owner = _owner(me, payload.person_id)
    project = _project(owner, payload.project, payload.project_id)
    task = _task(project, payload.task, payload.task_id)
    common: dict[str, Any] = {
        "by": me,
        "project": project,
        "task": task,
        "description": payload.description,
        "tags": payload.tags,
        "billable": payload.billable,
        "source": _source(request),
        "external_ref": payload.external_ref,
    }
    if payload.duration is not None:
        if payload.start or payload.end:
            raise ValidationError({"duration": ["Give either start and end, or a duration."]})
        try:
            seconds = int(parse_duration(payload.duration).total_seconds())
        except TimeInputError as exc:
            raise ValidationError({"duration": [str(exc)]}) from exc
        try:
            day = parse_day(payload.date or "today", _zone(owner))
        except TimeInputError as exc:
            raise ValidationError({"date": [str(exc)]}) from exc
        entry = services.add_duration(
            owner, day=day, seconds=seconds, allow_long=payload.allow_long, **common
        )
    else:
        start, end = _when(payload.start, owner, "start"), _when(payload.end, owner, "end")
        if start is None or end is None:
            raise ValidationError(
                {
                    "start" if start is None else "end": [
                        "Give start and end, or a duration (and a date)."
                    ]
                }
            )
        entry = services.add_entry(
            owner, start=start, end=end, allow_long=payload.allow_long, **common
        )
    return Status(201, entry_out(_reload(entry), _overlap_warnings(entry)))


@router.patch("/entries/{id:entry_id}", response=responses(EntryOut), summary="Change an entry")
def update_entry(request: HttpRequest, entry_id: int, payload: EntryPatch) -> dict[str, Any]:
    me = acting(request)
    entry = services.get_entry_for(me, entry_id)
    sent = payload.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    project = entry.project
    if "project" in sent or "project_id" in sent:
        project = _project(entry.membership, payload.project, payload.project_id)
        changes["project"] = project
    if "task" in sent or "task_id" in sent:
        changes["task"] = _task(project, payload.task, payload.task_id)
    for name in ("start", "end"):
        if name in sent:
            value = _when(sent[name], entry.membership, name)
            if value is None:
                raise ValidationError({name: ["Give a time."]})
            changes[name] = value
    for name in ("description", "billable", "external_ref"):
        if sent.get(name) is not None:
            changes[name] = sent[name]
    entry = services.update_entry(
        entry, by=me, tags=payload.tags, allow_long=payload.allow_long, **changes
    )
    return entry_out(_reload(entry), _overlap_warnings(entry))


@router.delete("/entries/{id:entry_id}", response=responses(Message), summary="Delete an entry")
def delete_entry(request: HttpRequest, entry_id: int) -> dict[str, str]:
    me = acting(request)
    services.delete_entry(services.get_entry_for(me, entry_id), by=me)
    return {"detail": "Deleted."}


@router.post(
    "/entries/{id:entry_id}/split",
    response=responses(list[EntryOut]),
    summary="Cut an entry in two",
)
def split_entry(request: HttpRequest, entry_id: int, payload: SplitIn) -> list[dict[str, Any]]:
    me = acting(request)
    entry = services.get_entry_for(me, entry_id)
    at = _when(payload.at, entry.membership, "at")
    if at is None:
        raise ValidationError({"at": ["Give the time to split at, like 12:30."]})
    halves = services.split_entry(entry, by=me, at=at)
    return [entry_out(_reload(e)) for e in halves]


@router.post(
    "/entries/{id:entry_id}/duplicate",
    response=responses(EntryOut, 201),
    summary="Copy an entry to another day",
)
def duplicate_entry(request: HttpRequest, entry_id: int, payload: DuplicateIn) -> Status:
    me = acting(request)
    entry = services.get_entry_for(me, entry_id)
    try:
        day = parse_day(payload.date, _zone(entry.membership)) if payload.date else None
    except TimeInputError as exc:
        raise ValidationError({"date": [str(exc)]}) from exc
    copy = services.duplicate_entry(entry, by=me, on=day)
    return Status(201, entry_out(_reload(copy)))


# Timesheets -------------------------------------------------------------------------------


def timesheet_out(sheet: Timesheet) -> dict[str, Any]:
    return {
        "id": sheet.pk,
        "person_id": sheet.membership_id,
        "person": sheet.membership.user.display_name,
        "period_start": sheet.period_start,
        "period_end": sheet.period_end,
        "status": sheet.status,
        "submitted_at": sheet.submitted_at,
        "decided_by": sheet.decided_by.display_name if sheet.decided_by else None,
        "decided_at": sheet.decided_at,
        "comment": sheet.comment,
    }


def _sheets(me: Membership):
    sheets = Timesheet.objects.filter(organization_id=me.organization_id).select_related(
        "membership__user", "decided_by"
    )
    if _sees_all(me):
        return sheets
    from django.db.models import Q

    managed = Q(
        membership__assignments__project__assignments__membership=me,
        membership__assignments__project__assignments__is_manager=True,
    )
    return sheets.filter(Q(membership=me) | managed).distinct()


def _sheet_for(me: Membership, pk: int) -> Timesheet:
    from django.http import Http404

    sheet = _sheets(me).filter(pk=pk).first()
    if sheet is None:
        raise Http404("No such timesheet.")
    return sheet


@router.get("/timesheets", response=responses(page_of(TimesheetOut)), summary="Timesheets")
def list_timesheets(request: HttpRequest, filters: Query[TimesheetFilter]) -> dict[str, Any]:
    sheets = _sheets(acting(request))
    if filters.status:
        if filters.status not in TimesheetStatus.values:
            raise ValidationError({"status": [f"“{filters.status}” is not a status."]})
        sheets = sheets.filter(status=filters.status)
    if filters.person_id:
        sheets = sheets.filter(membership_id=filters.person_id)
    page = paginate(sheets.order_by("-period_start", "pk"), filters)
    page["items"] = [timesheet_out(s) for s in page["items"]]
    return page


@router.post(
    "/timesheets", response=responses(TimesheetOut, 201), summary="Submit a period for approval"
)
def submit_timesheet(request: HttpRequest, payload: TimesheetIn) -> Status:
    sheet = services.submit_timesheet(
        acting(request), period_start=payload.period_start, period_end=payload.period_end
    )
    return Status(201, timesheet_out(_sheet_for(acting(request), sheet.pk)))


@router.post(
    "/timesheets/{id:sheet_id}/approve",
    response=responses(TimesheetOut),
    summary="Approve a submitted timesheet",
)
def approve_timesheet(request: HttpRequest, sheet_id: int, payload: DecisionIn) -> dict[str, Any]:
    me = acting(request)
    sheet = services.decide_timesheet(
        _sheet_for(me, sheet_id), by=me, approve=True, comment=payload.comment
    )
    return timesheet_out(sheet)


@router.post(
    "/timesheets/{id:sheet_id}/reject",
    response=responses(TimesheetOut),
    summary="Reject a submitted timesheet with a comment",
)
def reject_timesheet(request: HttpRequest, sheet_id: int, payload: DecisionIn) -> dict[str, Any]:
    me = acting(request)
    sheet = services.decide_timesheet(
        _sheet_for(me, sheet_id), by=me, approve=False, comment=payload.comment
    )
    return timesheet_out(sheet)


@router.post(
    "/timesheets/{id:sheet_id}/reopen",
    response=responses(TimesheetOut),
    summary="Unlock a submitted or approved timesheet (admins; logged)",
)
def reopen_timesheet(request: HttpRequest, sheet_id: int, payload: ReopenIn) -> dict[str, Any]:
    me = acting(request)
    sheet = services.reopen_timesheet(_sheet_for(me, sheet_id), by=me, reason=payload.reason)
    return timesheet_out(sheet)
