"""Reading notifications, marking them read, and the settings that shape them.

Everyone reads only their own notifications, and only kinds their role may hear of now (a
former admin no longer sees payments). Preferences are per membership; the long-timer
limit is the organization's, set by owners and admins.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from punchclock.accounts.models import Membership, Organization, Role
from punchclock.accounts.permissions import require
from punchclock.automation.models import (
    Notification,
    NotificationKind,
    NotificationPreferences,
    NotificationSettings,
)
from punchclock.automation.notifications import (
    DEFAULT_EMAIL,
    email_kinds,
    kinds_for,
    long_timer_hours,
)
from punchclock.core.services import field_error
from punchclock.core.timeutil import now

LONGEST_TIMER_HOURS = 168
WATCHING_ROLES = (Role.OWNER, Role.ADMIN, Role.MANAGER)


def notifications_of(membership: Membership) -> QuerySet[Notification]:
    """The member's own notifications, newest first."""
    return Notification.objects.filter(recipient=membership, kind__in=kinds_for(membership))


def unread_count(membership: Membership) -> int:
    """One COUNT on the partial index of unread rows: cheap enough for every page."""
    return notifications_of(membership).filter(read_at__isnull=True).count()


def notification_for(membership: Membership, pk: int) -> Notification:
    found = notifications_of(membership).filter(pk=pk).first()
    if found is None:
        raise Http404("No such notification.")
    return found


def mark_read(membership: Membership, pk: int) -> Notification:
    """Mark one of the member's notifications read (again is harmless)."""
    notification = notification_for(membership, pk)
    if notification.read_at is None:
        notification.read_at = now()
        Notification.objects.filter(pk=pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def mark_all_read(membership: Membership) -> int:
    """Mark every unread notification of the member read; returns how many."""
    return notifications_of(membership).filter(read_at__isnull=True).update(read_at=now())


@dataclass(frozen=True)
class Preferences:
    email: frozenset[str]  # kinds by email
    watch_team_timers: bool
    kinds: tuple[str, ...]  # what this role hears of at all
    may_watch: bool  # may ask to hear of others' long timers


def preferences_of(membership: Membership) -> Preferences:
    row = NotificationPreferences.objects.filter(membership=membership).first()
    kinds = kinds_for(membership)
    return Preferences(
        email=frozenset(email_kinds([membership])[membership.pk] & set(kinds)),
        watch_team_timers=bool(row and row.watch_team_timers),
        kinds=kinds,
        may_watch=membership.role in WATCHING_ROLES,
    )


def save_preferences(
    membership: Membership, *, email: list[str], watch_team_timers: bool = False
) -> Preferences:
    """Choose which kinds come by email; in the app every kind for the role is shown."""
    allowed = kinds_for(membership)
    unknown = [kind for kind in email if kind not in allowed]
    if unknown:
        raise field_error(
            "email",
            f"Not a kind you are told about: {', '.join(unknown)}. "
            f"Choose from {', '.join(allowed)}.",
        )
    if watch_team_timers and membership.role not in WATCHING_ROLES:
        raise field_error("watch_team_timers", "Only owners, admins and managers see others' time.")
    with transaction.atomic():
        NotificationPreferences.objects.update_or_create(
            membership=membership,
            defaults={
                "email_kinds": sorted(set(email)),
                "watch_team_timers": watch_team_timers,
            },
        )
    return preferences_of(membership)


def default_email(membership: Membership) -> tuple[str, ...]:
    return DEFAULT_EMAIL.get(membership.role, ())


def timer_limit(organization: Organization) -> int:
    return long_timer_hours(organization)


def save_timer_limit(by: Membership, *, hours: int) -> int:
    """Set after how many hours a running timer is news (owners and admins)."""
    require(by, "organization.edit_profile")
    if not 1 <= hours <= LONGEST_TIMER_HOURS:
        raise field_error("long_timer_hours", f"Choose from 1 to {LONGEST_TIMER_HOURS} hours.")
    NotificationSettings.objects.update_or_create(
        organization_id=by.organization_id, defaults={"long_timer_hours": hours}
    )
    return hours


KIND_LABELS = dict(NotificationKind.choices)
