"""Team time, approvals of submitted timesheets, reopening, and the lock date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from punchclock.accounts.models import Membership, Role
from punchclock.accounts.permissions import can
from punchclock.core import timeutil
from punchclock.core.forms import apply_service_errors
from punchclock.tracking import forms as f
from punchclock.tracking import services
from punchclock.tracking.models import LockEvent, Timesheet, TimesheetStatus
from punchclock.tracking.templatetags.tracking import safe_next
from punchclock.tracking.views.common import (
    BadInput,
    date_param,
    page,
    refused,
    text_of,
    today_of,
    viewer_of,
    zone_of,
)


def _require_approver(viewer: Membership) -> None:
    if not (can(viewer, "time.view_all") or viewer.role == Role.MANAGER):
        raise PermissionDenied("Team time is for managers and admins.")


@dataclass
class TeamRow:
    person: Membership
    days: list[int]
    sheet: Timesheet | None

    @property
    def total(self) -> int:
        return sum(self.days)

    @property
    def capacity_seconds(self) -> int:
        return int(self.person.weekly_capacity_hours * 3600)


@page
def team(request: HttpRequest) -> HttpResponse:
    viewer, zone = viewer_of(request), zone_of(request)
    _require_approver(viewer)
    monday = timeutil.week_start(date_param(request, request.GET, "week"))
    sunday = monday + timedelta(days=6)
    people = list(
        services.visible_people(viewer)
        .filter(is_active=True)
        .select_related("user")
        .order_by("user__name", "user__email")
    )
    rows = {p.pk: TeamRow(p, [0] * 7, None) for p in people}
    current = timeutil.now()
    # Plain tuples, no model instances: a busy week of a big team stays one light query.
    spans = (
        services.visible_entries(viewer)
        .filter(
            start__gte=timeutil.start_of_day(monday, zone),
            start__lt=timeutil.start_of_day(sunday + timedelta(days=1), zone),
        )
        .values_list("membership_id", "start", "end")
    )
    for person_id, start, end in spans:
        if person_id in rows:
            index = (timeutil.local_date(start, zone) - monday).days
            rows[person_id].days[index] += int(((end or current) - start).total_seconds())
    for sheet in Timesheet.objects.filter(
        membership_id__in=rows, period_start__lte=sunday, period_end__gte=monday
    ).order_by("submitted_at"):
        rows[sheet.membership_id].sheet = sheet
    table = list(rows.values())
    context = {
        "monday": monday,
        "sunday": sunday,
        "days": [monday + timedelta(days=i) for i in range(7)],
        "rows": table,
        "day_totals": [sum(r.days[i] for r in table) for i in range(7)],
        "week_total": sum(r.total for r in table),
        "previous_week": monday - timedelta(days=7),
        "next_week": monday + timedelta(days=7),
        "this_week": timeutil.week_start(today_of(request)),
        "sees_all": can(viewer, "time.view_all"),
    }
    return render(request, "tracking/team.html", context)


def _approvals_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    viewer = viewer_of(request)
    admin = can(viewer, "time.manage_all")
    pending = list(
        services.decidable_timesheets(viewer)
        .filter(status=TimesheetStatus.SUBMITTED)
        .select_related("membership__user")
        .order_by("period_start", "membership__user__name")[:100]
    )
    approved: list[Timesheet] = []
    if admin:
        approved = list(
            Timesheet.objects.filter(
                organization_id=viewer.organization_id, status=TimesheetStatus.APPROVED
            )
            .select_related("membership__user", "decided_by")
            .order_by("-period_start", "membership__user__name")[:30]
        )
    hours = _hours_of(request, pending + approved)
    context = {
        "pending": [(s, hours.get(s.pk, 0)) for s in pending],
        "approved": [(s, hours.get(s.pk, 0)) for s in approved],
        "admin": admin,
        "errors": {},
    }
    if admin:
        context["lock_form"] = extra.pop("lock_form", None) or f.LockDateForm(
            initial={"lock_date": viewer.organization.lock_date}
        )
        context["lock_events"] = list(
            LockEvent.objects.filter(organization_id=viewer.organization_id).select_related("by")[
                :5
            ]
        )
    return context | extra


def _hours_of(request: HttpRequest, sheets: list[Timesheet]) -> dict[int, int]:
    """Tracked seconds in each timesheet's period, in one query for all of them."""
    if not sheets:
        return {}
    zone = zone_of(request)
    periods: dict[int, list[Timesheet]] = {}
    people_by_span: dict[tuple[date, date], set[int]] = {}
    for sheet in sheets:
        periods.setdefault(sheet.membership_id, []).append(sheet)
        span = (sheet.period_start, sheet.period_end)
        people_by_span.setdefault(span, set()).add(sheet.membership_id)
    # One OR term per distinct period with the people in an IN: weekly sheets share their
    # period, so a page of sheets is a few range seeks on (membership, start), whatever
    # the planner knows about the table.
    condition = Q()
    for (first, last), people in people_by_span.items():
        condition |= Q(
            membership_id__in=sorted(people),
            start__gte=timeutil.start_of_day(first, zone),
            start__lt=timeutil.start_of_day(last + timedelta(days=1), zone),
        )
    totals: dict[int, int] = {}
    spans = (
        services.visible_entries(viewer_of(request))
        .filter(condition, end__isnull=False)
        .order_by()
        .values_list("membership_id", "start", "duration_seconds")
    )
    for person_id, start, seconds in spans:
        day = timeutil.local_date(start, zone)
        for sheet in periods[person_id]:
            if sheet.period_start <= day <= sheet.period_end:
                totals[sheet.pk] = totals.get(sheet.pk, 0) + (seconds or 0)
    return totals


@page
def approvals(request: HttpRequest) -> HttpResponse:
    _require_approver(viewer_of(request))
    return render(request, "tracking/approvals.html", _approvals_context(request))


def _sheet_for(viewer: Membership, pk: int) -> Timesheet:
    sheet = (
        Timesheet.objects.select_related("membership__user", "membership__organization")
        .filter(organization_id=viewer.organization_id, pk=pk)
        .first()
    )
    if sheet is None:
        raise Http404("No such timesheet.")
    return sheet


def _sheet_refused(request: HttpRequest, sheet: Timesheet, message: str) -> HttpResponse:
    back = request.POST.get("next")
    if back:
        return refused(request, message, back=safe_next(request, back))
    context = _approvals_context(request, errors={sheet.pk: message})
    listed = {s.pk for s, _ in context["pending"] + context["approved"]}
    if sheet.pk not in listed:
        context["page_error"] = f"{sheet.membership.user.display_name}: {message}"
    return render(request, "tracking/approvals.html", context, status=400)


@page
@require_POST
def timesheet_decide(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    sheet = _sheet_for(viewer, pk)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        raise BadInput("Choose approve or reject.")
    comment = (request.POST.get("comment") or "")[:2000]
    try:
        services.decide_timesheet(sheet, by=viewer, approve=decision == "approve", comment=comment)
    except ValidationError as exc:
        return _sheet_refused(request, sheet, text_of(exc))
    who = sheet.membership.user.display_name
    verb = "approved" if decision == "approve" else "rejected"
    messages.success(request, f"The timesheet of {who} ({sheet.period_start:%d %b}) is {verb}.")
    return redirect(safe_next(request, request.POST.get("next") or reverse("tracking:approvals")))


@page
@require_POST
def timesheet_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = viewer_of(request)
    sheet = _sheet_for(viewer, pk)
    reason = (request.POST.get("reason") or "")[:2000]
    try:
        services.reopen_timesheet(sheet, by=viewer, reason=reason)
    except ValidationError as exc:
        return _sheet_refused(request, sheet, text_of(exc))
    messages.success(
        request, f"The timesheet of {sheet.membership.user.display_name} is open again."
    )
    return redirect(safe_next(request, request.POST.get("next") or reverse("tracking:approvals")))


@page
@require_POST
def lock_date(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    if "lock_date" not in request.POST:
        # An empty value removes the lock date; a form without the field is not a request to.
        raise BadInput("“lock_date” is missing.")
    form = f.LockDateForm(request.POST)
    if form.is_valid():
        try:
            services.set_lock_date(
                viewer.organization, by=viewer, lock_date=form.cleaned_data["lock_date"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
    if form.errors:
        _require_approver(viewer)
        context = _approvals_context(request, lock_form=form)
        return render(request, "tracking/approvals.html", context, status=400)
    locked = form.cleaned_data["lock_date"]
    messages.success(
        request,
        f"Time up to {locked:%d %b %Y} is locked." if locked else "The lock date is removed.",
    )
    return redirect("tracking:approvals")
