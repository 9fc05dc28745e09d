"""The header timer and small formatting filters for the time-tracking pages."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from punchclock.core import timeutil
from punchclock.tracking import services
from punchclock.tracking.forms import project_choices

register = template.Library()

# A timer this old was most likely forgotten: the header says since when it runs.
FORGOTTEN = timedelta(hours=10)


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """Where a plain form post returns to: a local address, else the day view."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("tracking:day")


def timer_context(request: HttpRequest, *, error: str = "", back: str = "") -> dict[str, Any]:
    """What the header timer shows, in two queries: the running entry and the projects."""
    membership = request.membership  # type: ignore[attr-defined]
    zone = request.user.timezone  # type: ignore[union-attr]
    running = services.running_entry(membership)
    current = timeutil.now()
    context: dict[str, Any] = {
        "running": running,
        "zone": zone,
        "now": current,
        "error": error,
        "back": back or request.get_full_path(),
    }
    if running is not None:
        elapsed = running.seconds(current)
        context["long_running"] = elapsed > FORGOTTEN.total_seconds()
        context["elapsed"] = elapsed
        context["start_day"] = timeutil.local_date(running.start, zone)
    # Listed while a timer runs too: the Switch form picks from the same projects.
    context["projects"] = project_choices(membership)
    return context


@register.inclusion_tag("tracking/_timer.html", takes_context=True)
def header_timer(context: template.Context) -> dict[str, Any]:
    return timer_context(context["request"])


@register.filter
def hm(seconds: int | None) -> str:
    """Seconds as hours and minutes, 1:05."""
    return timeutil.format_duration(int(seconds or 0))


@register.filter
def hms(seconds: int | None) -> str:
    """Seconds as a running clock, 1:05:09."""
    total = int(seconds or 0)
    return f"{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}"


@register.filter
def isoutc(instant: Any) -> str:
    """An aware instant as ISO 8601 in UTC, for the ticking clocks' data attributes."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
