"""REST endpoints for one's own notifications, their preferences, and the long-timer limit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from punchclock.api.auth import acting
from punchclock.api.errors import responses
from punchclock.api.pagination import PageQuery, page_of, paginate
from punchclock.api.schemas import InputSchema
from punchclock.automation import notification_prefs as prefs
from punchclock.automation.models import EmailState, Notification, NotificationKind

router = Router(tags=["Notifications"])


class NotificationOut(Schema):
    id: int
    kind: str = Field(description=", ".join(NotificationKind.values))
    title: str
    text: str
    link: str = Field(description="A path in the web app, e.g. /invoices/12/")
    created_at: datetime
    read_at: datetime | None
    email_state: str = Field(description=", ".join(EmailState.values))
    email_error: str = Field(description="Why the email failed, when it did")


class NotificationQuery(PageQuery):
    unread: bool | None = Field(None, description="true: only unread ones")


class UnreadOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int


class PreferencesOut(Schema):
    email: list[str] = Field(description="Kinds that also come by email")
    watch_team_timers: bool = Field(description="Also told of other people's long timers")
    kinds: list[str] = Field(description="Kinds this member is told about (in the app always)")
    long_timer_hours: int = Field(description="The organization's limit for a running timer")


class PreferencesIn(InputSchema):
    email: list[NotificationKind] | None = Field(None, max_length=10)
    watch_team_timers: bool | None = None


class SettingsIn(InputSchema):
    long_timer_hours: int = Field(..., ge=1, le=prefs.LONGEST_TIMER_HOURS)


def notification_out(notification: Notification) -> dict[str, Any]:
    return {name: getattr(notification, name) for name in NotificationOut.model_fields}


def _preferences_out(found: prefs.Preferences, hours: int) -> dict[str, Any]:
    return {
        "email": sorted(found.email),
        "watch_team_timers": found.watch_team_timers,
        "kinds": list(found.kinds),
        "long_timer_hours": hours,
    }


@router.get(
    "/notifications",
    response=responses(page_of(NotificationOut)),
    summary="Your notifications, newest first",
)
def list_notifications(request: HttpRequest, query: Query[NotificationQuery]) -> dict[str, Any]:
    found = prefs.notifications_of(acting(request))
    if query.unread is not None:
        found = found.filter(read_at__isnull=query.unread)
    page = paginate(found, query)
    page["items"] = [notification_out(n) for n in page["items"]]
    return page


@router.get(
    "/notifications/unread-count",
    response=responses(UnreadOut),
    summary="How many of your notifications are unread",
)
def unread_notifications(request: HttpRequest) -> dict[str, int]:
    return {"unread": prefs.unread_count(acting(request))}


@router.post(
    "/notifications/{id:notification_id}/read",
    response=responses(NotificationOut),
    summary="Mark one of your notifications read",
)
def read_notification(request: HttpRequest, notification_id: int) -> dict[str, Any]:
    return notification_out(prefs.mark_read(acting(request), notification_id))


@router.post(
    "/notifications/read",
    response=responses(MarkedOut),
    summary="Mark all your notifications read",
)
def read_all_notifications(request: HttpRequest) -> dict[str, int]:
    return {"marked": prefs.mark_all_read(acting(request))}


@router.get(
    "/notifications/preferences",
    response=responses(PreferencesOut),
    summary="Which kinds you are told about, and which also by email",
)
def get_notification_preferences(request: HttpRequest) -> dict[str, Any]:
    by = acting(request)
    return _preferences_out(prefs.preferences_of(by), prefs.timer_limit(by.organization))


@router.patch(
    "/notifications/preferences",
    response=responses(PreferencesOut),
    summary="Choose which kinds also come by email; only the fields sent change",
)
def update_notification_preferences(request: HttpRequest, payload: PreferencesIn) -> Any:
    by = acting(request)
    current = prefs.preferences_of(by)
    email = payload.email if payload.email is not None else sorted(current.email)
    watch = (
        payload.watch_team_timers
        if payload.watch_team_timers is not None
        else current.watch_team_timers
    )
    found = prefs.save_preferences(by, email=[str(k) for k in email], watch_team_timers=watch)
    return _preferences_out(found, prefs.timer_limit(by.organization))


@router.put(
    "/notifications/settings",
    response=responses(PreferencesOut),
    summary="Set the organization's long-timer limit in hours (owners and admins)",
)
def set_notification_settings(request: HttpRequest, payload: SettingsIn) -> Any:
    by = acting(request)
    hours = prefs.save_timer_limit(by, hours=payload.long_timer_hours)
    return _preferences_out(prefs.preferences_of(by), hours)
