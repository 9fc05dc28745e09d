"""Web forms for time tracking: they turn what people type into instants; services decide."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from punchclock.accounts.models import Membership
from punchclock.accounts.permissions import visible_projects
from punchclock.core.timeutil import (
    TimeInputError,
    local_date,
    parse_duration,
    parse_when,
    start_of_day,
)
from punchclock.projects.models import Project, ProjectStatus, Task
from punchclock.tracking.models import TimeEntry

LONG = timedelta(hours=24)
# Days people can mean; beyond these, UTC conversions and week arithmetic overflow.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def _trackable(person: Membership) -> QuerySet[Project]:
    """Active projects the person may track time on, in the order the pickers show them."""
    return (
        visible_projects(person)
        .filter(status=ProjectStatus.ACTIVE, client__is_archived=False)
        .order_by("client__name", "name")
    )


def trackable_projects(person: Membership) -> list[Project]:
    return list(_trackable(person).select_related("client"))


class ProjectChoice(NamedTuple):
    """A project as the header timer's picker lists it."""

    full_code: str
    client_name: str
    name: str


def project_choices(person: Membership) -> list[ProjectChoice]:
    """trackable_projects as plain values, in the same order: the header timer lists them
    on every page, where loading each project and its client cost ~10 ms at 200 projects."""
    rows = _trackable(person).values_list("client__code", "code", "client__name", "name")
    return [
        ProjectChoice(f"{client}/{code}", client_name, name)
        for client, code, client_name, name in rows
    ]


def project_label(project: Project) -> str:
    return f"{project.client.name} — {project.name} ({project.full_code})"


class _TargetMixin:
    """Project and task pickers: offer active work, but accept any project the person sees so
    that an archived one gets the service's clear message instead of “not a valid choice”."""

    fields: dict[str, forms.Field]

    def _setup_targets(self, person: Membership, current: TimeEntry | None = None) -> None:
        projects = trackable_projects(person)
        if current is not None and current.project not in projects:
            projects.append(current.project)
        project_field = self.fields["project"]
        assert isinstance(project_field, forms.ModelChoiceField)
        project_field.queryset = visible_projects(person)
        project_field.widget.choices = [("", "Choose a project…")] + [
            (p.pk, project_label(p)) for p in projects
        ]
        if len(projects) == 1:
            project_field.initial = projects[0].pk
        task_field = self.fields["task"]
        assert isinstance(task_field, forms.ModelChoiceField)
        task_field.queryset = Task.objects.filter(project__in=visible_projects(person))
        by_project: dict[int, list[Task]] = {}
        for task in Task.objects.filter(project__in=[p.pk for p in projects], is_archived=False):
            by_project.setdefault(task.project_id, []).append(task)
        task_field.widget.choices = [("", "No task")] + [
            (p.full_code, [(t.pk, t.name) for t in by_project[p.pk]])
            for p in projects
            if p.pk in by_project
        ]


def instant_on(text: str, zone: str, day: date) -> datetime:
    """A time typed on a given local day (“9:15”), or a full date and time."""
    try:
        instant = parse_when(text, zone, reference=start_of_day(day, zone) + timedelta(hours=12))
    except OverflowError:
        instant = None
    if instant is None or not in_range(instant.date()):
        raise TimeInputError(f"“{text}” is too far in the past or the future.")
    return instant


def clock_text(instant: datetime | None, zone: str, day: date) -> str:
    """How a form shows an instant: 9:15 on the day itself, with the date otherwise."""
    if instant is None:
        return ""
    local = instant.astimezone(ZoneInfo(zone))
    if local.date() == day:
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in text.replace("#", " ").replace(",", " ").split() if t.strip()]


class EntryForm(_TargetMixin, forms.Form):
    """Add time on a day: start and end, a start and a duration, or just a duration."""

    project = forms.ModelChoiceField(queryset=Project.objects.none())
    task = forms.ModelChoiceField(queryset=Task.objects.none(), required=False)
    description = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "What did you work on?"}),
    )
    start = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"placeholder": "9:00"})
    )
    end = forms.CharField(
        max_length=40, required=False, widget=forms.TextInput(attrs={"placeholder": "10:30"})
    )
    duration = forms.CharField(
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "1h30"}),
        help_text="Instead of an end: 1h30, 1.5h, 90m or 1:30",
    )
    tags = forms.CharField(
        max_length=500, required=False, widget=forms.TextInput(attrs={"placeholder": "bug, call"})
    )
    allow_long = forms.BooleanField(
        required=False,
        label="Yes, this really is longer than 24 hours",
        widget=forms.HiddenInput,
    )

    def __init__(
        self, data: Any = None, *, person: Membership, zone: str, day: date, **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        self.zone, self.day = zone, day
        self._setup_targets(person)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["start_at"] = data["end_at"] = None
        data["seconds"] = None
        start, end, duration = (data.get(k, "").strip() for k in ("start", "end", "duration"))
        try:
            data["start_at"] = instant_on(start, self.zone, self.day) if start else None
        except TimeInputError as exc:
            self.add_error("start", str(exc))
        try:
            data["end_at"] = instant_on(end, self.zone, self.day) if end else None
        except TimeInputError as exc:
            self.add_error("end", str(exc))
        try:
            length = parse_duration(duration) if duration else None
        except TimeInputError as exc:
            self.add_error("duration", str(exc))
            return data
        if end and duration:
            self.add_error("duration", "Give an end or a duration, not both.")
        elif not end and not duration:
            field = "end" if start else "duration"
            self.add_error(field, "Give a start and an end, or a duration like 1h30.")
        elif length is not None:
            data["seconds"] = int(length.total_seconds())
            if data["start_at"] is not None:
                data["end_at"] = data["start_at"] + length
        elif end and not start:
            self.add_error("start", "Give the start time too.")
        span = (
            (data["end_at"] - data["start_at"])
            if data["start_at"] and data["end_at"]
            else timedelta(seconds=data["seconds"] or 0)
        )
        if span > LONG:
            self.ask_to_confirm()
        return data

    def ask_to_confirm(self) -> None:
        self.fields["allow_long"].widget = forms.CheckboxInput()

    @property
    def by_duration(self) -> bool:
        return (
            self.is_bound
            and bool(self.data.get("duration", "").strip())
            and not bool(self.data.get("start", "").strip())
        )


class EntryEditForm(_TargetMixin, forms.Form):
    """Change an entry; times are on the entry's own day unless a date is typed."""

    project = forms.ModelChoiceField(queryset=Project.objects.none())
    task = forms.ModelChoiceField(queryset=Task.objects.none(), required=False)
    description = forms.CharField(max_length=500, required=False)
    start = forms.CharField(max_length=40)
    end = forms.CharField(
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "running"}),
    )
    tags = forms.CharField(max_length=500, required=False)
    billable = forms.BooleanField(required=False)
    allow_long = forms.BooleanField(
        required=False,
        label="Yes, this really is longer than 24 hours",
        widget=forms.HiddenInput,
    )

    def __init__(self, data: Any = None, *, entry: TimeEntry, zone: str, **kwargs: Any) -> None:
        self.entry, self.zone = entry, zone
        self.day = local_date(entry.start, zone)
        initial = {
            "project": entry.project_id,
            "task": entry.task_id,
            "description": entry.description,
            "start": clock_text(entry.start, zone, self.day),
            "end": clock_text(entry.end, zone, self.day),
            "tags": ", ".join(t.name for t in entry.tags.all()),
            "billable": entry.billable,
        }
        super().__init__(data, initial=initial, **kwargs)
        self._setup_targets(entry.membership, current=entry)
        if entry.end is None:
            self.fields["end"].help_text = "Leave empty to keep the timer running"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("start", "end"):
            text = (data.get(name) or "").strip()
            try:
                data[f"{name}_at"] = instant_on(text, self.zone, self.day) if text else None
            except TimeInputError as exc:
                self.add_error(name, str(exc))
        if self.entry.end is not None and not (data.get("end") or "").strip():
            self.add_error("end", "Give the end time.")
        start_at, end_at = data.get("start_at"), data.get("end_at")
        if start_at and end_at and end_at - start_at > LONG:
            self.fields["allow_long"].widget = forms.CheckboxInput()
        return data

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields: dict[str, Any] = {
            "project": data["project"],
            "task": data["task"],
            "description": data["description"],
            "start": data["start_at"],
            "billable": data["billable"],
        }
        if data.get("end_at") is not None:
            fields["end"] = data["end_at"]
        return fields


class SplitForm(forms.Form):
    at = forms.CharField(max_length=40, label="Split at")

    def __init__(self, data: Any = None, *, entry: TimeEntry, zone: str, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.zone, self.day = zone, local_date(entry.start, zone)

    def clean_at(self) -> datetime:
        try:
            return instant_on(self.cleaned_data["at"], self.zone, self.day)
        except TimeInputError as exc:
            raise ValidationError(str(exc)) from exc


class CellForm(forms.Form):
    """One cell of the weekly grid: that day's total for a (project, task) row."""

    project = forms.IntegerField(min_value=1)
    task = forms.IntegerField(min_value=1, required=False)
    day = forms.DateField()
    duration = forms.CharField(max_length=20, required=False)

    def clean_day(self) -> date:
        day: date = self.cleaned_data["day"]
        if not in_range(day):
            raise ValidationError("That day is too far in the past or the future.")
        return day

    def clean_duration(self) -> int:
        text = self.cleaned_data["duration"].strip()
        if text in ("", "0", "0:00"):
            return 0
        try:
            return int(parse_duration(text).total_seconds())
        except TimeInputError as exc:
            raise ValidationError(str(exc)) from exc


class RowForm(_TargetMixin, forms.Form):
    """A (project, task) row to add to the weekly grid."""

    project = forms.ModelChoiceField(queryset=Project.objects.none())
    task = forms.ModelChoiceField(queryset=Task.objects.none(), required=False)

    def __init__(self, data: Any = None, *, person: Membership, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self._setup_targets(person)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        project, task = data.get("project"), data.get("task")
        if project is not None and project.status != ProjectStatus.ACTIVE:
            self.add_error("project", f"The project {project.full_code} is archived.")
        if project is not None and task is not None and task.project_id != project.pk:
            self.add_error("task", f"The task “{task}” belongs to another project.")
        return data


class LockDateForm(forms.Form):
    lock_date = forms.DateField(
        required=False,
        label="Lock time up to and including",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Members can no longer add or change time on or before this day. "
        "Leave empty to unlock.",
    )

    def clean_lock_date(self) -> date | None:
        day: date | None = self.cleaned_data["lock_date"]
        if day is not None and not in_range(day):
            raise ValidationError("That day is too far in the past or the future.")
        return day
