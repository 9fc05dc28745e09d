"""Time: aware UTC instants inside, the person's zone only at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.utils import timezone


def now() -> datetime:
    return timezone.now()


@cache
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: str) -> bool:
    return name in zone_names()


def local_date(instant: datetime, zone: str) -> date:
    """The calendar date of an instant as seen in a zone (rates switch at local midnight)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: instants must be aware")
    return instant.astimezone(ZoneInfo(zone)).date()


def start_of_day(day: date, zone: str) -> datetime:
    """The UTC instant at which a local calendar day begins in a zone."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)
