"""The header timer: start (and switch), stop, resume, discard; answers the header partial."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from punchclock.accounts.decorators import member_required
from punchclock.core import timeutil
from punchclock.core.htmx import is_htmx
from punchclock.tracking import services
from punchclock.tracking.forms import instant_on
from punchclock.tracking.templatetags.tracking import safe_next, timer_context
from punchclock.tracking.views.common import (
    refused,
    text_of,
    viewer_of,
    zone_of,
)


@member_required
def timer(request: HttpRequest) -> HttpResponse:
    back = safe_next(request, request.GET.get("next"))
    return render(request, "tracking/_timer.html", timer_context(request, back=back))


def _timer_done(request: HttpRequest, *, error: str = "", message: str = "") -> HttpResponse:
    back = safe_next(request, request.POST.get("next"))
    if is_htmx(request):
        context = timer_context(request, error=error, back=back)
        response = render(request, "tracking/_timer.html", context, status=400 if error else 200)
        if not error:
            response["HX-Trigger"] = "timerChanged"
        return response
    if error:
        return refused(request, error, back=back)
    messages.success(request, message)
    return redirect(back)


@member_required
@require_POST
def timer_start(request: HttpRequest) -> HttpResponse:
    """Start a timer; one already running stops at the same instant (a switch)."""
    viewer = viewer_of(request)
    # The picker offers codes (globex/api); anything after the code is its label.
    code = (request.POST.get("project") or "").strip().split(" ")[0]
    try:
        project = services.find_project(viewer, code)
        services.start_timer(
            viewer, project=project, description=(request.POST.get("description") or "")[:500]
        )
    except ValidationError as exc:
        return _timer_done(request, error=text_of(exc))
    return _timer_done(request, message=f"Timer started on {project.full_code}.")


@member_required
@require_POST
def timer_stop(request: HttpRequest) -> HttpResponse:
    """Stop now, or at a typed time (“18:00” means on the day the timer started)."""
    viewer = viewer_of(request)
    text = (request.POST.get("at") or "").strip()
    try:
        at = None
        if text:
            zone = zone_of(request)
            running = services.running_entry(viewer)
            day = timeutil.local_date(running.start if running else timeutil.now(), zone)
            at = instant_on(text, zone, day)
        entry = services.stop_timer(viewer, at=at)
    except timeutil.TimeInputError as exc:
        return _timer_done(request, error=str(exc))
    except ValidationError as exc:
        return _timer_done(request, error=text_of(exc))
    return _timer_done(request, message=f"Stopped: {timeutil.format_duration(entry.seconds())}.")


@member_required
@require_POST
def timer_resume(request: HttpRequest) -> HttpResponse:
    try:
        change = services.resume_timer(viewer_of(request))
    except ValidationError as exc:
        return _timer_done(request, error=text_of(exc))
    assert change.started is not None
    return _timer_done(request, message=f"Resumed {change.started.project.full_code}.")


@member_required
@require_POST
def timer_discard(request: HttpRequest) -> HttpResponse:
    try:
        services.discard_timer(viewer_of(request))
    except ValidationError as exc:
        return _timer_done(request, error=text_of(exc))
    return _timer_done(request, message="Timer discarded.")
