"""Local days, weeks and months as SQL expressions, cut in a viewer's zone.

Instants are stored in UTC. A zone's offset is constant between two daylight-saving
transitions, so over a report's range the local wall clock is `start + offset(start)` with
the offset a short CASE over the few transitions Python's zoneinfo finds in that range.
The database then cuts days with its own C date functions: no per-row Python function
(Django's TruncMonth registers one on SQLite) and no dependence on the server's `TZ` or
on PostgreSQL's own copy of the zone rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

Param = Any


def _offset(instant: datetime, zone: ZoneInfo) -> int:
    offset = instant.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@lru_cache(maxsize=256)
def _transitions(zone_name: str, year: int) -> tuple[tuple[datetime, int], ...]:
    """(instant, new offset in seconds) for each offset change of a zone within a year."""
    zone = ZoneInfo(zone_name)
    found: list[tuple[datetime, int]] = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    before = _offset(day, zone)
    while day < end:
        nxt = day + timedelta(hours=12)
        after = _offset(nxt, zone)
        if after != before:
            low, high = day, nxt  # the change lies in (low, high]: narrow it to the second
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                if _offset(mid, zone) == before:
                    low = mid
                else:
                    high = mid
            found.append((high.replace(microsecond=0), after))
            before = after
        day = nxt
    return tuple(found)


@dataclass(frozen=True)
class Offsets:
    """The zone's offset over [start, end): the first offset and the changes after it."""

    first: int
    changes: tuple[tuple[datetime, int], ...]


def offsets(zone_name: str, start: datetime, end: datetime) -> Offsets:
    zone = ZoneInfo(zone_name)
    changes = [
        (at, offset)
        for year in range(start.year, end.year + 1)
        for at, offset in _transitions(zone_name, year)
        if start < at < end
    ]
    return Offsets(_offset(start, zone), tuple(changes))


class Dialect:
    """The few SQL spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, vendor: str, adapt: Callable[[datetime], Param]) -> None:
        self.vendor = vendor
        self.adapt = adapt

    def _case(self, column: str, cut: Offsets, render: Callable[[int], str]) -> tuple[str, list]:
        if not cut.changes:
            return render(cut.first), []
        parts, params = ["CASE"], []
        previous = cut.first
        for at, offset in cut.changes:
            parts.append(f"WHEN {column} < %s THEN {render(previous)}")
            params.append(self.adapt(at))
            previous = offset
        parts.append(f"ELSE {render(previous)} END")
        return " ".join(parts), params

    def local(self, column: str, cut: Offsets, unit: str) -> tuple[str, list]:
        """SQL for the local day, Monday of the week, or first of the month of an instant."""
        if self.vendor == "sqlite":
            modifier, params = self._case(column, cut, lambda s: f"'{s:+d} seconds'")
            match unit:
                case "day":
                    return f"date({column}, {modifier})", params
                case "week":
                    # 'weekday 0' moves to the coming Sunday (or stays), six days back is Monday.
                    return f"date({column}, {modifier}, 'weekday 0', '-6 days')", params
                case _:
                    return f"strftime('%%Y-%%m-01', {column}, {modifier})", params
        shift, params = self._case(column, cut, str)
        wall = f"(({column} AT TIME ZONE 'UTC') + ({shift}) * INTERVAL '1 second')"
        match unit:
            case "day":
                return f"CAST({wall} AS date)", params
            case "week":
                return f"CAST(date_trunc('week', {wall}) AS date)", params
            case _:
                return f"CAST(date_trunc('month', {wall}) AS date)", params


def as_date(value: Any) -> date:
    """A day as the database returned it (text on SQLite, a date on PostgreSQL)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_instant(value: Any) -> datetime:
    """An instant as the database returned it: aware on PostgreSQL, UTC text on SQLite."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
