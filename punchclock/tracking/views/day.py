"""The day view: a person's entries of a local day, added, edited, split, copied, deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from punchclock.accounts.models import Membership, Role
from punchclock.accounts.permissions import can
from punchclock.core import timeutil
from punchclock.core.forms import apply_service_errors
from punchclock.core.htmx import is_htmx
from punchclock.tracking import forms as f
from punchclock.tracking import services
from punchclock.tracking.models import TimeEntry
from punchclock.tracking.views.common import (
    date_param,
    day_url,
    page,
    page_url,
    person_from,
    person_query,
    refused,
    text_of,
    today_of,
    viewer_of,
    week_url,
    zone_of,
)


@dataclass
class EntryRow:
    entry: TimeEntry
    seconds: int
    lock: str | None
    overlaps: bool
    editable: bool
    may_copy: bool


def _overlapping_ids(entries: list[TimeEntry], until: Any) -> set[int]:
    ordered = sorted(entries, key=lambda e: e.start)
    found: set[int] = set()
    for i, entry in enumerate(ordered):
        end = entry.end or until
        for other in ordered[i + 1 :]:
            if other.start >= end:
                break
            found.update((entry.pk, other.pk))
    return found


def _day_context(
    request: HttpRequest, person: Membership, day: date, **extra: Any
) -> dict[str, Any]:
    viewer, zone = viewer_of(request), zone_of(request)
    first = timeutil.start_of_day(day, zone)
    last = timeutil.start_of_day(day + timedelta(days=1), zone)
    current = timeutil.now()
    # The evening before too: an entry begun then can overlap this morning's.
    window = list(
        services.visible_entries(viewer)
        .filter(membership=person, start__gte=first - timedelta(days=1), start__lt=last)
        .select_related("project__client", "task")
        .prefetch_related("tags")
        .order_by("-start")
    )
    overlaps = _overlapping_ids(window, current)
    locks = services.lock_reasons(person, day - timedelta(days=1), day + timedelta(days=1))
    org_zone = person.organization.timezone
    rights = services.edit_rights(viewer)
    rows = []
    for entry in window:
        if entry.start < first:
            continue
        lock = locks.get(timeutil.local_date(entry.start, org_zone))
        may_edit = rights(entry.membership_id, entry.project_id)
        rows.append(
            EntryRow(
                entry,
                entry.seconds(current),
                lock,
                overlaps=entry.pk in overlaps,
                editable=may_edit and not lock,
                may_copy=may_edit and entry.end is not None,
            )
        )
    day_lock = locks.get(day)
    may_add = not day_lock and (
        person.pk == viewer.pk or can(viewer, "time.manage_all") or viewer.role == Role.MANAGER
    )
    person_param = person_query(person, viewer)
    context: dict[str, Any] = {
        "person": person,
        "person_param": person_param,
        "is_me": person.pk == viewer.pk,
        "urls": {
            "self": day_url(person, viewer, day),
            "previous": day_url(person, viewer, day - timedelta(days=1)),
            "next": day_url(person, viewer, day + timedelta(days=1)),
            "today": page_url("tracking:day", person=person_param),
            "week": week_url(person, viewer, timeutil.week_start(day)),
        },
        "day": day,
        "today": today_of(request),
        "rows": rows,
        "tracked": sum(r.seconds for r in rows),
        "billable": sum(r.seconds for r in rows if r.entry.billable),
        "day_lock": day_lock,
        "may_add": may_add,
        "zone": zone,
        "now": current,
    }
    if may_add and "form" not in extra:
        context["form"] = f.EntryForm(person=person, zone=zone, day=day)
    return context | extra


@page
def day_view(request: HttpRequest) -> HttpResponse:
    person, day = person_from(request, request.GET), date_param(request, request.GET, "date")
    context = _day_context(request, person, day)
    if is_htmx(request):
        return _day_fragment(request, context)
    return render(request, "tracking/day.html", context)


def _day_fragment(
    request: HttpRequest, context: dict[str, Any], *, first: str = "entries", status: int = 200
) -> HttpResponse:
    """One part of the day view, with the day's totals (and the list) swapped out of band."""
    html = render_to_string(f"tracking/day.html#{first}", context, request)
    if first != "entries":
        oob = {**context, "entries_oob": True}
        html += render_to_string("tracking/day.html#entries", oob, request)
    html += render_to_string("tracking/day.html#totals", {**context, "totals_oob": True}, request)
    return HttpResponse(html, status=status)


def _entries_response(
    request: HttpRequest, entry_day: date, person: Membership, *, status: int = 200, **extra: Any
) -> HttpResponse:
    """After a change from a row: the day's list again (htmx) or back to the day (plain)."""
    viewer = viewer_of(request)
    if not is_htmx(request):
        if status >= 400:
            back = day_url(person, viewer, entry_day)
            return refused(request, extra.get("entries_error", ""), back=back)
        if extra.get("entries_message"):
            messages.success(request, extra["entries_message"])
        return redirect(day_url(person, viewer, entry_day))
    context = _day_context(request, person, entry_day, **extra)
    response = _day_fragment(request, context, status=status)
    response["HX-Trigger"] = "entriesChanged"
    return response


def _remap(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(k, k): v for k, v in exc.message_dict.items()})


@page
@require_POST
def entry_create(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    person = person_from(request, request.POST)
    day = date_param(request, request.POST, "date")
    form = f.EntryForm(request.POST, person=person, zone=zone_of(request), day=day)
    if form.is_valid():
        data = form.cleaned_data
        common = {
            "by": viewer,
            "project": data["project"],
            "task": data["task"],
            "description": data["description"],
            "tags": f.split_tags(data["tags"]),
            "allow_long": data["allow_long"],
        }
        try:
            if data["start_at"] is not None:
                services.add_entry(person, start=data["start_at"], end=data["end_at"], **common)
            else:
                services.add_duration(person, day=day, seconds=data["seconds"], **common)
        except ValidationError as exc:
            # A duration has no start or end of its own: its errors belong under it.
            names = {"start": "duration", "end": "duration"} if form.by_duration else {}
            apply_service_errors(form, _remap(exc, names))
    if form.errors:
        if is_htmx(request):
            context = _day_context(request, person, day, form=form)
            return render(request, "tracking/day.html#add_form", context, status=400)
        return render(
            request, "tracking/day.html", _day_context(request, person, day, form=form), status=400
        )
    if not is_htmx(request):
        messages.success(request, "Time added.")
        return redirect(day_url(person, viewer, day))
    return _day_fragment(request, _day_context(request, person, day, added=True), first="add_form")


@page
def entry_row(request: HttpRequest, pk: int) -> HttpResponse:
    """One entry as a row of the day view (the Cancel of an inline edit)."""
    viewer = viewer_of(request)
    entry = services.get_entry_for(viewer, pk)
    day = timeutil.local_date(entry.start, zone_of(request))
    if not is_htmx(request):
        return redirect(day_url(entry.membership, viewer, day) + f"#entry-{entry.pk}")
    context = _day_context(request, entry.membership, day)
    context["row"] = next((r for r in context["rows"] if r.entry.pk == entry.pk), None)
    return render(request, "tracking/day.html#row", context)


@page
def entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    viewer, zone = viewer_of(request), zone_of(request)
    entry = services.get_entry_for(viewer, pk)
    if not services.can_edit_entry(viewer, entry):
        raise PermissionDenied("You may not change this entry.")
    day = timeutil.local_date(entry.start, zone)
    was_running = entry.end is None
    form = f.EntryEditForm(
        request.POST if request.method == "POST" else None, entry=entry, zone=zone
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_entry(
                entry,
                by=viewer,
                tags=f.split_tags(data["tags"]),
                allow_long=data["allow_long"],
                **form.changes(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return _edited(request, entry, day, was_running=was_running)
    status = 400 if form.errors else 200
    back = day_url(entry.membership, viewer, day)
    context = {"form": form, "entry": entry, "day": day, "zone": zone, "back": back}
    if is_htmx(request):
        return render(request, "tracking/day.html#edit_row", context, status=status)
    return render(request, "tracking/entry_edit.html", context, status=status)


def _edited(
    request: HttpRequest, entry: TimeEntry, day: date, *, was_running: bool
) -> HttpResponse:
    viewer = viewer_of(request)
    if not is_htmx(request):
        messages.success(request, "Entry saved.")
        return redirect(day_url(entry.membership, viewer, day) + f"#entry-{entry.pk}")
    context = _day_context(request, entry.membership, day)
    context["row"] = next((r for r in context["rows"] if r.entry.pk == entry.pk), None)
    html = render_to_string("tracking/day.html#row", context, request) if context["row"] else ""
    html += render_to_string("tracking/day.html#totals", {**context, "totals_oob": True}, request)
    response = HttpResponse(html)
    if was_running:
        response["HX-Trigger"] = "entriesChanged"
    return response


@page
@require_POST
def entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    entry = services.get_entry_for(viewer, pk)
    day, person = timeutil.local_date(entry.start, zone_of(request)), entry.membership
    try:
        services.delete_entry(entry, by=viewer)
    except ValidationError as exc:
        return _entries_response(request, day, person, status=400, entries_error=text_of(exc))
    return _entries_response(request, day, person, entries_message="Entry deleted.")


@page
@require_POST
def entry_split(request: HttpRequest, pk: int) -> HttpResponse:
    viewer, zone = viewer_of(request), zone_of(request)
    entry = services.get_entry_for(viewer, pk)
    day, person = timeutil.local_date(entry.start, zone), entry.membership
    form = f.SplitForm(request.POST, entry=entry, zone=zone)
    try:
        if not form.is_valid():
            raise ValidationError({"at": form.errors.get("at", ["Give a time."])})
        services.split_entry(entry, by=viewer, at=form.cleaned_data["at"])
    except ValidationError as exc:
        return _entries_response(request, day, person, status=400, entries_error=text_of(exc))
    return _entries_response(request, day, person, entries_message="Entry split in two.")


@page
@require_POST
def entry_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    entry = services.get_entry_for(viewer, pk)
    day, person = timeutil.local_date(entry.start, zone_of(request)), entry.membership
    try:
        services.duplicate_entry(entry, by=viewer)
    except ValidationError as exc:
        return _entries_response(request, day, person, status=400, entries_error=text_of(exc))
    message = "Copied to today." if day != today_of(request) else "Copied: the copy is below."
    return _entries_response(request, day, person, entries_message=message)
