"""Every change to tracked time: timers, entries, timesheets and locks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from punchclock.accounts.models import Membership, Organization, Role
from punchclock.accounts.permissions import can, is_project_manager, visible_projects
from punchclock.core.services import field_error
from punchclock.core.timeutil import local_date, now
from punchclock.projects.models import Project, ProjectMember, ProjectStatus, Task
from punchclock.tracking.models import (
    LockEvent,
    Source,
    Tag,
    TimeEntry,
    Timesheet,
    TimesheetStatus,
)

# Clocks of laptops and servers drift; an end a little in the future is not an error.
CLOCK_SKEW = timedelta(minutes=2)
LONG_ENTRY = timedelta(hours=24)
MAX_TAGS = 20


class TimerConflict(ValidationError):
    """A concurrent change won the race for the person's running timer."""


# Who may touch which entries -------------------------------------------------------------


def can_view_entry(by: Membership, entry: TimeEntry) -> bool:
    if entry.organization_id != by.organization_id:
        return False
    if entry.membership_id == by.pk or can(by, "time.view_all"):
        return True
    return is_project_manager(by, entry.project)


def can_edit_entry(by: Membership, entry: TimeEntry) -> bool:
    if entry.organization_id != by.organization_id:
        return False
    if entry.membership_id == by.pk or can(by, "time.manage_all"):
        return True
    return is_project_manager(by, entry.project)


def visible_entries(by: Membership) -> QuerySet[TimeEntry]:
    entries = TimeEntry.objects.filter(organization_id=by.organization_id)
    if can(by, "time.view_all"):
        return entries
    managed = (
        Q(project__assignments__membership=by, project__assignments__is_manager=True)
        if by.role == Role.MANAGER
        else Q(pk__in=[])
    )
    return entries.filter(Q(membership=by) | managed).distinct()


def get_entry_for(by: Membership, pk: int) -> TimeEntry:
    from django.http import Http404

    entry = (
        TimeEntry.objects.select_related("project__client", "task", "membership__user")
        .filter(organization_id=by.organization_id, pk=pk)
        .first()
    )
    if entry is None or not can_view_entry(by, entry):
        raise Http404("No such time entry.")
    return entry


# Locks -----------------------------------------------------------------------------------


def lock_reason(entry_owner: Membership, start: datetime) -> str | None:
    """Why time of this person at this instant can no longer change, or None."""
    organization = entry_owner.organization
    day = local_date(start, organization.timezone)
    if organization.lock_date and day <= organization.lock_date:
        return f"Time up to {organization.lock_date} is locked."
    sheet = Timesheet.objects.filter(
        membership=entry_owner,
        period_start__lte=day,
        period_end__gte=day,
        status__in=[TimesheetStatus.SUBMITTED, TimesheetStatus.APPROVED],
    ).first()
    if sheet is not None:
        state = "approved" if sheet.status == TimesheetStatus.APPROVED else "submitted for approval"
        return (
            f"The timesheet {sheet.period_start}–{sheet.period_end} is {state}; "
            "ask an admin to reopen it."
        )
    return None


def billed_on(entry: TimeEntry) -> str | None:
    """The invoice this entry is billed on ("2026-0007", or "a draft"), or None."""
    billing = getattr(entry, "billing", None)  # the reverse one-to-one of invoicing
    if billing is None:
        return None
    invoice = billing.line.invoice
    return invoice.number or "a draft invoice"


def _refuse_if_billed(entry: TimeEntry) -> None:
    where = billed_on(entry)
    if where:
        raise field_error(
            "entry",
            f"This time is billed on {where}; it can only change through a credit note "
            "(or by taking it off the draft).",
        )


def _refuse_if_locked(owner: Membership, *instants: datetime | None) -> None:
    for instant in instants:
        if instant is None:
            continue
        reason = lock_reason(owner, instant)
        if reason:
            raise field_error("start", reason)


# Checks shared by timers and entries -----------------------------------------------------


def _check_target(by: Membership, owner: Membership, project: Project, task: Task | None) -> None:
    if project.organization_id != owner.organization_id:
        raise field_error("project", "That project belongs to another organization.")
    if project.status != ProjectStatus.ACTIVE or project.client.is_archived:
        raise field_error("project", f"The project {project.full_code} is archived.")
    if not visible_projects(owner).filter(pk=project.pk).exists():
        raise field_error("project", f"{owner.user} is not assigned to {project.full_code}.")
    if task is not None:
        if task.project_id != project.pk:
            raise field_error("task", f"The task “{task}” belongs to another project.")
        if task.is_archived:
            raise field_error("task", f"The task “{task}” is archived.")
    if owner.pk != by.pk and not (can(by, "time.manage_all") or is_project_manager(by, project)):
        raise PermissionDenied("You may only track your own time.")


def _default_billable(project: Project, task: Task | None, billable: bool | None) -> bool:
    if not project.is_billable_method:
        return False
    if billable is not None:
        return billable
    return task.billable_default if task is not None else project.billable_default


def _tags(organization: Organization, names: Iterable[str]) -> list[Tag]:
    cleaned = sorted({n.strip().lstrip("#").lower() for n in names if n and n.strip()})
    if len(cleaned) > MAX_TAGS:
        raise field_error("tags", f"At most {MAX_TAGS} tags per entry.")
    for name in cleaned:
        if len(name) > 50:
            raise field_error("tags", f"The tag “{name[:20]}…” is longer than 50 characters.")
    return [Tag.objects.get_or_create(organization=organization, name=n)[0] for n in cleaned]


def _whole_second(instant: datetime) -> datetime:
    """Tracked time is kept to the second; sub-second noise would only skew sums."""
    return instant.replace(microsecond=0)


def _check_span(start: datetime, end: datetime | None, *, allow_long: bool) -> None:
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise ValueError("instants must be aware")
    current = now()
    if start > current + CLOCK_SKEW:
        raise field_error("start", "Time cannot be tracked in the future.")
    if end is None:
        return
    if end <= start:
        raise field_error("end", "The end must be after the start.")
    # The length first: "25 hours in one entry" says more than "ends in the future".
    if end - start > LONG_ENTRY and not allow_long:
        hours = (end - start) / timedelta(hours=1)
        raise field_error(
            "end", f"That is {hours:.1f} hours in one entry; confirm it if it is really right."
        )
    if end > current + CLOCK_SKEW:
        raise field_error("end", "Time cannot be tracked in the future.")


def overlapping(entry: TimeEntry) -> QuerySet[TimeEntry]:
    """The person's other entries that overlap this one (shown as a warning)."""
    stop = entry.end or now()
    return (
        TimeEntry.objects.filter(membership_id=entry.membership_id, start__lt=stop)
        .filter(Q(end__isnull=True) | Q(end__gt=entry.start))
        .exclude(pk=entry.pk)
    )


# Timers ----------------------------------------------------------------------------------


def running_entry(membership: Membership) -> TimeEntry | None:
    # No ORDER BY (which .first() would add): it can lead PostgreSQL with stale statistics
    # to walk the person's whole history instead of the one_running_timer index.
    running = TimeEntry.objects.select_related("project__client", "task").filter(
        membership=membership, end__isnull=True
    )
    return next(iter(running.order_by()[:1]), None)


def _lock_person(membership: Membership) -> None:
    # Serialises timer changes of one person: two starts in a race run one after the other,
    # so the second switches from the first instead of both inserting a running entry.
    Membership.objects.select_for_update().filter(pk=membership.pk).first()


@dataclass(frozen=True)
class TimerChange:
    started: TimeEntry | None
    stopped: TimeEntry | None


def start_timer(
    membership: Membership,
    *,
    project: Project,
    task: Task | None = None,
    description: str = "",
    at: datetime | None = None,
    tags: Iterable[str] = (),
    billable: bool | None = None,
    source: str = Source.WEB,
    external_ref: str = "",
) -> TimerChange:
    """Start a timer; a running one of the same person stops at the same instant (switch)."""
    at = _whole_second(at or now())
    try:
        with transaction.atomic():
            _lock_person(membership)
            _check_target(membership, membership, project, task)
            _check_span(at, None, allow_long=False)
            _refuse_if_locked(membership, at)
            stopped = running_entry(membership)
            if stopped is not None and at == stopped.start:
                # A switch within the same second: the first timer never really ran.
                stopped.delete()
                stopped = None
            if stopped is not None:
                if at < stopped.start:
                    raise field_error(
                        "start",
                        "The running timer started after that time; stop it first or pick "
                        "a later start.",
                    )
                stopped.end = at
                stopped.save(update_fields=["end", "updated_at"])
            entry = TimeEntry.objects.create(
                organization_id=membership.organization_id,
                membership=membership,
                project=project,
                task=task,
                description=description.strip()[:500],
                start=at,
                billable=_default_billable(project, task, billable),
                source=source,
                external_ref=external_ref.strip()[:200],
            )
            entry.tags.set(_tags(membership.organization, tags))
    except IntegrityError as exc:
        raise TimerConflict(
            {"timer": ["Another timer was started at the same moment; reload and try again."]}
        ) from exc
    return TimerChange(started=entry, stopped=stopped)


@transaction.atomic
def stop_timer(membership: Membership, *, at: datetime | None = None) -> TimeEntry:
    at = _whole_second(at or now())
    _lock_person(membership)
    entry = running_entry(membership)
    if entry is None:
        raise field_error("timer", "No timer is running.")
    if at == entry.start:
        raise field_error("at", "The timer has run for less than a second: discard it instead.")
    _check_span(entry.start, at, allow_long=True)
    entry.end = at
    entry.save(update_fields=["end", "updated_at"])
    return entry


def resume_timer(
    membership: Membership, *, at: datetime | None = None, source: str = Source.WEB
) -> TimerChange:
    """Start again what the person tracked last."""
    last = (
        TimeEntry.objects.filter(membership=membership, end__isnull=False)
        .select_related("project", "task")
        .order_by("-end")
        .first()
    )
    if last is None:
        raise field_error("timer", "There is nothing to resume yet.")
    return start_timer(
        membership,
        project=last.project,
        task=last.task,
        description=last.description,
        at=at,
        tags=[t.name for t in last.tags.all()],
        billable=last.billable,
        source=source,
        external_ref=last.external_ref,
    )


@transaction.atomic
def discard_timer(membership: Membership) -> None:
    _lock_person(membership)
    entry = running_entry(membership)
    if entry is None:
        raise field_error("timer", "No timer is running.")
    entry.delete()


# Entries ---------------------------------------------------------------------------------


@transaction.atomic
def add_entry(
    owner: Membership,
    *,
    by: Membership,
    project: Project,
    start: datetime,
    end: datetime,
    task: Task | None = None,
    description: str = "",
    tags: Iterable[str] = (),
    billable: bool | None = None,
    source: str = Source.WEB,
    external_ref: str = "",
    allow_long: bool = False,
) -> TimeEntry:
    """Record finished time for a person (normally oneself)."""
    start, end = _whole_second(start), _whole_second(end)
    _check_target(by, owner, project, task)
    _check_span(start, end, allow_long=allow_long)
    _refuse_if_locked(owner, start, end)
    entry = TimeEntry.objects.create(
        organization_id=owner.organization_id,
        membership=owner,
        project=project,
        task=task,
        description=description.strip()[:500],
        start=start,
        end=end,
        billable=_default_billable(project, task, billable),
        source=source,
        external_ref=external_ref.strip()[:200],
    )
    entry.tags.set(_tags(owner.organization, tags))
    return entry


ENTRY_FIELDS = {"project", "task", "description", "start", "end", "billable", "external_ref"}


@transaction.atomic
def update_entry(
    entry: TimeEntry,
    *,
    by: Membership,
    tags: Iterable[str] | None = None,
    allow_long: bool = False,
    **fields: Any,
) -> TimeEntry:
    if not can_edit_entry(by, entry):
        raise PermissionDenied("You may not change this entry.")
    unknown = set(fields) - ENTRY_FIELDS
    if unknown:
        raise TypeError(f"cannot set {', '.join(sorted(unknown))}")
    owner = entry.membership
    _refuse_if_billed(entry)
    _refuse_if_locked(owner, entry.start, entry.end)
    moved = "project" in fields and fields["project"].pk != entry.project_id
    if moved and "task" not in fields and entry.task_id is not None:
        fields["task"] = None
    for name, value in fields.items():
        setattr(entry, name, _whole_second(value) if name in ("start", "end") and value else value)
    if entry.end is None and "end" in fields:
        raise field_error("end", "Stop the timer instead of clearing the end.")
    _check_target(by, owner, entry.project, entry.task)
    _check_span(entry.start, entry.end, allow_long=allow_long)
    _refuse_if_locked(owner, entry.start, entry.end)
    if not entry.project.is_billable_method:
        entry.billable = False
    entry.description = entry.description.strip()[:500]
    entry.save()
    if tags is not None:
        entry.tags.set(_tags(owner.organization, tags))
    return entry


@transaction.atomic
def delete_entry(entry: TimeEntry, *, by: Membership) -> None:
    if not can_edit_entry(by, entry):
        raise PermissionDenied("You may not delete this entry.")
    _refuse_if_billed(entry)
    _refuse_if_locked(entry.membership, entry.start, entry.end)
    entry.delete()


@transaction.atomic
def split_entry(entry: TimeEntry, *, by: Membership, at: datetime) -> tuple[TimeEntry, TimeEntry]:
    """Cut a finished entry in two at an instant; both halves keep everything else."""
    if not can_edit_entry(by, entry):
        raise PermissionDenied("You may not change this entry.")
    if entry.end is None:
        raise field_error("at", "Stop the timer before splitting the entry.")
    at = _whole_second(at)
    if not entry.start < at < entry.end:
        raise field_error("at", "The split time must lie inside the entry.")
    _refuse_if_billed(entry)
    _refuse_if_locked(entry.membership, entry.start, entry.end)
    tags = list(entry.tags.all())
    second = TimeEntry.objects.create(
        organization_id=entry.organization_id,
        membership_id=entry.membership_id,
        project_id=entry.project_id,
        task_id=entry.task_id,
        description=entry.description,
        start=at,
        end=entry.end,
        billable=entry.billable,
        source=entry.source,
        external_ref=entry.external_ref,
    )
    second.tags.set(tags)
    entry.end = at
    entry.save(update_fields=["end", "updated_at"])
    return entry, second


@transaction.atomic
def duplicate_entry(entry: TimeEntry, *, by: Membership, on: date | None = None) -> TimeEntry:
    """Copy an entry, by default to the same time today (in the person's zone)."""
    if not can_edit_entry(by, entry):
        raise PermissionDenied("You may not copy this entry.")
    if entry.end is None:
        raise field_error("entry", "A running entry cannot be copied; stop it first.")
    zone = entry.membership.user.timezone
    target = on or local_date(now(), zone)
    shift = target - local_date(entry.start, zone)
    return add_entry(
        entry.membership,
        by=by,
        project=entry.project,
        task=entry.task,
        start=entry.start + shift,
        end=entry.end + shift,
        description=entry.description,
        tags=[t.name for t in entry.tags.all()],
        billable=entry.billable,
        external_ref=entry.external_ref,
        source=entry.source,
        allow_long=True,
    )


# Timesheets and the lock date -----------------------------------------------------------


@transaction.atomic
def submit_timesheet(membership: Membership, *, period_start: date, period_end: date) -> Timesheet:
    if period_end < period_start:
        raise field_error("period_end", "The period ends before it starts.")
    if (period_end - period_start).days > 31:
        raise field_error("period_end", "Submit at most a month at a time.")
    clash = Timesheet.objects.filter(
        membership=membership, period_start__lte=period_end, period_end__gte=period_start
    ).exclude(status=TimesheetStatus.REJECTED)
    if clash.exists():
        raise field_error("period_start", "This period overlaps one already submitted.")
    if running_entry(membership) is not None:
        running = running_entry(membership)
        assert running is not None
        if local_date(running.start, membership.user.timezone) <= period_end:
            raise field_error("timer", "Stop the running timer before submitting.")
    sheet, _ = Timesheet.objects.update_or_create(
        membership=membership,
        period_start=period_start,
        defaults={
            "organization_id": membership.organization_id,
            "period_end": period_end,
            "status": TimesheetStatus.SUBMITTED,
            "submitted_at": now(),
            "decided_by": None,
            "decided_at": None,
            "comment": "",
        },
    )
    return sheet


def _may_decide(by: Membership, sheet: Timesheet) -> bool:
    if sheet.organization_id != by.organization_id or sheet.membership_id == by.pk:
        return can(by, "time.manage_all") and sheet.organization_id == by.organization_id
    if can(by, "time.manage_all"):
        return True
    if by.role != Role.MANAGER:
        return False
    # A manager decides on people who work on projects the manager manages.
    return sheet.membership.assignments.filter(
        project__assignments__membership=by, project__assignments__is_manager=True
    ).exists()


@transaction.atomic
def decide_timesheet(
    sheet: Timesheet, *, by: Membership, approve: bool, comment: str = ""
) -> Timesheet:
    if not _may_decide(by, sheet):
        raise PermissionDenied("You may not approve this timesheet.")
    if sheet.status != TimesheetStatus.SUBMITTED:
        raise field_error("status", f"This timesheet is already {sheet.get_status_display()}.")
    if not approve and not comment.strip():
        raise field_error("comment", "Say why the timesheet is rejected.")
    sheet.status = TimesheetStatus.APPROVED if approve else TimesheetStatus.REJECTED
    sheet.decided_by = by.user
    sheet.decided_at = now()
    sheet.comment = comment.strip()
    sheet.save()
    return sheet


@transaction.atomic
def reopen_timesheet(sheet: Timesheet, *, by: Membership, reason: str) -> Timesheet:
    """Unlock a submitted or approved timesheet (admins); the unlock is logged."""
    if sheet.organization_id != by.organization_id or not can(by, "time.manage_all"):
        raise PermissionDenied("Only admins and owners can reopen timesheets.")
    if not reason.strip():
        raise field_error("reason", "Say why the timesheet is reopened.")
    LockEvent.objects.create(
        organization_id=sheet.organization_id,
        by=by.user,
        action="reopen_timesheet",
        detail=f"{sheet.membership.user} {sheet.period_start}–{sheet.period_end} "
        f"({sheet.status}): {reason.strip()}",
    )
    sheet.status = TimesheetStatus.REJECTED
    sheet.comment = f"Reopened: {reason.strip()}"
    sheet.decided_by = by.user
    sheet.decided_at = now()
    sheet.save()
    return sheet


@transaction.atomic
def set_lock_date(organization: Organization, *, by: Membership, lock_date: date | None) -> None:
    if organization.pk != by.organization_id or not can(by, "time.manage_all"):
        raise PermissionDenied("Only admins and owners can move the lock date.")
    today = local_date(now(), organization.timezone)
    if lock_date is not None and lock_date >= today:
        raise field_error("lock_date", "The lock date must be in the past.")
    LockEvent.objects.create(
        organization=organization,
        by=by.user,
        action="set_lock_date",
        detail=f"{organization.lock_date or 'none'} → {lock_date or 'none'}",
    )
    organization.lock_date = lock_date
    organization.save(update_fields=["lock_date"])


# Lookups by what people type ------------------------------------------------------------


def find_project(membership: Membership, code: str) -> Project:
    """A trackable project from “client/project” (unique prefixes of either part suffice)."""
    text = (code or "").strip().lower()
    if not text:
        raise field_error("project", "Name a project like acme/api.")
    client_part, _, project_part = text.partition("/")
    candidates = (
        visible_projects(membership)
        .filter(
            status=ProjectStatus.ACTIVE,
            client__is_archived=False,
            client__code__startswith=client_part,
            code__startswith=project_part,
        )
        .select_related("client")
    )
    exact = [p for p in candidates if p.full_code == text]
    found = exact or list(candidates[:20])
    if not found:
        raise field_error("project", f"No active project of yours matches “{code}”.")
    if len(found) > 1:
        names = ", ".join(sorted(p.full_code for p in found))
        raise field_error("project", f"“{code}” matches several projects: {names}.")
    return found[0]


def find_task(project: Project, name: str | None) -> Task | None:
    if not name:
        return None
    tasks = [
        t
        for t in project.tasks.filter(is_archived=False)
        if t.name.lower().startswith(name.strip().lower())
    ]
    exact = [t for t in tasks if t.name.lower() == name.strip().lower()]
    if exact:
        return exact[0]
    if len(tasks) == 1:
        return tasks[0]
    if not tasks:
        raise field_error("task", f"{project.full_code} has no task “{name}”.")
    raise field_error(
        "task", f"“{name}” matches several tasks: {', '.join(t.name for t in tasks)}."
    )


@transaction.atomic
def add_duration(
    owner: Membership,
    *,
    by: Membership,
    project: Project,
    day: date,
    seconds: int,
    **fields: Any,
) -> TimeEntry:
    """Record “1h30 on Tuesday”: placed after that day's last entry, or from 09:00 local."""
    from punchclock.core.timeutil import start_of_day, to_utc

    zone = owner.user.timezone
    day_start = start_of_day(day, zone)
    next_day = start_of_day(day + timedelta(days=1), zone)
    last_end = (
        TimeEntry.objects.filter(
            membership=owner, start__gte=day_start, start__lt=next_day, end__isnull=False
        )
        .order_by("-end")
        .values_list("end", flat=True)
        .first()
    )
    from datetime import time as clock

    start = last_end or to_utc(day, clock(9, 0), zone)
    current = _whole_second(now())
    latest_start = current - timedelta(seconds=seconds)
    if start > latest_start and day < local_date(current, zone):
        # A past day whose last entry ran until just now (after midnight): placing the time
        # after it would end in the future, so it ends now instead; an overlap is only a
        # warning. On today itself, time that does not fit yet is refused as future.
        start = latest_start
    return add_entry(
        owner, by=by, project=project, start=start, end=start + timedelta(seconds=seconds), **fields
    )


# Bulk history (demo data and importers) ---------------------------------------------------


@transaction.atomic
def record_history(organization: Organization, entries: list[TimeEntry]) -> int:
    """Store many finished entries at once; each must already belong to the organization.

    For imports and demo data, where thousands of rows would make one service call each too
    slow. The same invariants hold: finished, positive, whole seconds, one organization.
    """
    for entry in entries:
        if entry.organization_id != organization.pk or entry.end is None:
            raise ValueError("history entries must be finished and of this organization")
        entry.start = _whole_second(entry.start)
        entry.end = _whole_second(entry.end)
        if entry.end <= entry.start:
            raise ValueError("history entries must end after they start")
        entry.duration_seconds = int((entry.end - entry.start).total_seconds())
    TimeEntry.objects.bulk_create(entries, batch_size=500)
    return len(entries)


# Read-only helpers for the web pages (many rows, a fixed number of queries) ---------------


def visible_people(by: Membership) -> QuerySet[Membership]:
    """People whose time a member may look at: everyone for admins, the people on their
    projects for managers (and themselves), only themselves for members."""
    people = Membership.objects.filter(organization_id=by.organization_id)
    if can(by, "time.view_all"):
        return people
    if by.role == Role.MANAGER:
        managed = ProjectMember.objects.filter(membership=by, is_manager=True).values("project_id")
        return people.filter(Q(pk=by.pk) | Q(assignments__project_id__in=managed)).distinct()
    return people.filter(pk=by.pk)


def edit_rights(by: Membership) -> Callable[[int, int], bool]:
    """can_edit_entry as a test on (person id, project id), with one query for all rows."""
    if can(by, "time.manage_all"):
        return lambda _person_id, _project_id: True
    managed: set[int] = set()
    if by.role == Role.MANAGER:
        managed = set(
            ProjectMember.objects.filter(membership=by, is_manager=True).values_list(
                "project_id", flat=True
            )
        )
    return lambda person_id, project_id: person_id == by.pk or project_id in managed


def lock_reasons(owner: Membership, first: date, last: date) -> dict[date, str]:
    """lock_reason for every day of [first, last] at once: {day: why it is locked}."""
    reasons: dict[date, str] = {}
    sheets = Timesheet.objects.filter(
        membership=owner,
        period_start__lte=last,
        period_end__gte=first,
        status__in=[TimesheetStatus.SUBMITTED, TimesheetStatus.APPROVED],
    )
    for sheet in sheets:
        state = "approved" if sheet.status == TimesheetStatus.APPROVED else "submitted for approval"
        text = (
            f"The timesheet {sheet.period_start}–{sheet.period_end} is {state}; "
            "ask an admin to reopen it."
        )
        day = max(first, sheet.period_start)
        while day <= min(last, sheet.period_end):
            reasons[day] = text
            day += timedelta(days=1)
    lock_date = owner.organization.lock_date
    day = first
    # The lock date wins over a timesheet, as in lock_reason.
    while lock_date and day <= min(last, lock_date):
        reasons[day] = f"Time up to {lock_date} is locked."
        day += timedelta(days=1)
    return reasons


def decidable_timesheets(by: Membership) -> QuerySet[Timesheet]:
    """Timesheets this member may approve or reject (the rule of decide_timesheet)."""
    sheets = Timesheet.objects.filter(organization_id=by.organization_id)
    if can(by, "time.manage_all"):
        return sheets
    if by.role != Role.MANAGER:
        return sheets.none()
    managed = ProjectMember.objects.filter(membership=by, is_manager=True).values("project_id")
    return (
        sheets.filter(membership__assignments__project_id__in=managed)
        .exclude(membership=by)
        .distinct()
    )
