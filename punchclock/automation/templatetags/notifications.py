"""The nav's bell: how many notifications the member has not read (one COUNT)."""

from __future__ import annotations

from typing import Any

from django import template

from punchclock.automation.notification_prefs import unread_count

register = template.Library()


@register.inclusion_tag("automation/notifications/_bell.html", takes_context=True)
def notification_bell(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    membership = getattr(request, "membership", None)
    path = request.path
    return {
        "unread": unread_count(membership) if membership is not None else 0,
        "current": path.startswith("/notifications/") and "/preferences" not in path,
    }
