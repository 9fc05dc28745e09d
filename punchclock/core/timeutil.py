"""Time: aware UTC instants inside, the person's zone only at the edges."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
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


class TimeInputError(ValueError):
    """A time or duration a person typed that cannot be used."""


def to_utc(day: date, clock: time, zone: str) -> datetime:
    """The UTC instant of a local wall-clock time.

    A time that does not exist (skipped by the spring-forward gap) is refused. A time that
    exists twice (the fall-back hour) means its first occurrence, the one still on summer
    time: people write down the time their clock showed as the hour began.
    """
    tz = ZoneInfo(zone)
    local = datetime.combine(day, clock.replace(tzinfo=None), tzinfo=tz).replace(fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise TimeInputError(
            f"{day.isoformat()} {clock.strftime('%H:%M')} does not exist in {zone}: the clocks "
            "jumped forward over it (daylight saving time). Pick a time after the change."
        )
    return instant


_DURATION = re.compile(
    r"""^\s*(?:
        (?P<hm_h>\d+):(?P<hm_m>[0-5]?\d)                                   # 1:30
      | (?P<bare>\d+(?:[.,]\d+)?)                                          # 1.5 (hours)
      | (?:(?P<h>\d+(?:[.,]\d+)?)\s*h(?:ours?|rs?)?)?\s*
        (?:(?P<m>\d+(?:[.,]\d+)?)\s*m(?:in(?:utes?|s)?)?)?                 # 1h30m, 1.5h, 90m
        (?P<trail>\d{1,2})?                                                # the 30 of 1h30
    )\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


def parse_duration(text: str) -> timedelta:
    """A duration as people write it: 1h30, 1h 30m, 1.5h, 90m, 1:30, or hours as 1.5."""
    match = _DURATION.match(text or "")
    if not match or not text.strip():
        raise TimeInputError(f"“{text}” is not a duration; write it like 1h30, 1.5h, 90m or 1:30.")
    parts = match.groupdict()

    def number(value: str | None) -> Decimal:
        return Decimal(value.replace(",", ".")) if value else Decimal(0)

    if parts["hm_h"] is not None:
        minutes = number(parts["hm_h"]) * 60 + number(parts["hm_m"])
    elif parts["bare"] is not None:
        minutes = number(parts["bare"]) * 60
    else:
        if parts["h"] is None and parts["m"] is None:
            raise TimeInputError(f"“{text}” is not a duration; write it like 1h30 or 90m.")
        if parts["trail"] and (parts["h"] is None or parts["m"] is not None):
            raise TimeInputError(f"“{text}” is not a duration; write it like 1h30 or 90m.")
        minutes = number(parts["h"]) * 60 + number(parts["m"]) + number(parts["trail"])
    seconds = int((minutes * 60).to_integral_value())
    if seconds <= 0:
        raise TimeInputError("A duration must be longer than zero.")
    return timedelta(seconds=seconds)


def format_duration(seconds: int) -> str:
    """Hours and minutes as 1:05 (seconds are dropped, not rounded)."""
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60}:{minutes % 60:02d}"


def week_start(day: date) -> date:
    """The Monday of the ISO week a day falls in."""
    return day - timedelta(days=day.weekday())


_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def parse_day(text: str, zone: str, today: date | None = None) -> date:
    """A calendar day as typed: today, yesterday, a weekday (the latest one), or 2026-11-20."""
    value = (text or "").strip().lower()
    today = today or local_date(now(), zone)
    if value in ("", "today"):
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    if value[:3] in _WEEKDAYS and value.isalpha():
        back = (today.weekday() - _WEEKDAYS.index(value[:3])) % 7
        return today - timedelta(days=back)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TimeInputError(
            f"“{text}” is not a day; write today, yesterday, a weekday or 2026-11-20."
        ) from None


_CLOCK = re.compile(r"^(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?$")


def parse_clock(text: str) -> time:
    match = _CLOCK.match((text or "").strip())
    hours = int(match["h"]) if match else 99
    minutes = int(match["m"] or 0) if match else 99
    if hours > 23 or minutes > 59:
        raise TimeInputError(f"“{text}” is not a time of day; write it like 9:15 or 17:00.")
    return time(hours, minutes)


def parse_when(text: str, zone: str, reference: datetime | None = None) -> datetime:
    """An instant as typed: ISO 8601 with offset, or local “9:15”, “yesterday 17:00”,
    “2026-11-20 9:15” in the given zone."""
    value = (text or "").strip()
    if not value:
        raise TimeInputError("A time is needed.")
    if "T" in value or value.endswith("Z") or re.search(r"[+-]\d{2}:?\d{2}$", value):
        try:
            instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise TimeInputError(f"“{text}” is not an ISO 8601 date and time.") from None
        if instant.tzinfo is None:
            return to_utc(instant.date(), instant.time(), zone)
        return instant.astimezone(UTC)
    reference = reference or now()
    parts = value.split()
    if len(parts) == 1:
        day, clock = local_date(reference, zone), parts[0]
    elif len(parts) == 2:
        day, clock = parse_day(parts[0], zone, local_date(reference, zone)), parts[1]
    else:
        raise TimeInputError(f"“{text}” is not a time; write it like 9:15 or yesterday 17:00.")
    return to_utc(day, parse_clock(clock), zone)


PERIODS = (
    "today",
    "yesterday",
    "week",
    "last-week",
    "month",
    "last-month",
    "year",
    "last-year",
    "all",
)


def period_bounds(
    period: str, zone: str, today: date | None = None
) -> tuple[datetime | None, datetime | None]:
    """[start, end) as UTC instants of a named period cut in a zone; (None, None) for all."""
    today = today or local_date(now(), zone)
    match period:
        case "today":
            first, last = today, today
        case "yesterday":
            first = last = today - timedelta(days=1)
        case "week":
            first = week_start(today)
            last = first + timedelta(days=6)
        case "last-week":
            first = week_start(today) - timedelta(days=7)
            last = first + timedelta(days=6)
        case "month":
            first = today.replace(day=1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        case "last-month":
            last = today.replace(day=1) - timedelta(days=1)
            first = last.replace(day=1)
        case "year":
            first, last = today.replace(month=1, day=1), today.replace(month=12, day=31)
        case "last-year":
            first = today.replace(year=today.year - 1, month=1, day=1)
            last = first.replace(month=12, day=31)
        case "all":
            return None, None
        case _:
            raise TimeInputError(f"“{period}” is not a period (one of {', '.join(PERIODS)}).")
    return start_of_day(first, zone), start_of_day(last + timedelta(days=1), zone)
