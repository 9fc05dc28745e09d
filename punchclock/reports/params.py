"""Report filters as people type them (query strings, CLI flags), checked into a TimeFilter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from punchclock.accounts.models import Membership
from punchclock.core.timeutil import (
    PERIODS,
    TimeInputError,
    local_date,
    now,
    period_bounds,
    start_of_day,
)
from punchclock.reports.query import TimeFilter
from punchclock.reports.timereport import ReportError, parse_by

CHOICE_PERIODS = (*PERIODS, "custom")
YES_NO = {
    "": None,
    "any": None,
    "yes": True,
    "true": True,
    "1": True,
    "no": False,
    "false": False,
    "0": False,
}
ID_FIELDS = {
    "client": "clients",
    "project": "projects",
    "task": "tasks",
    "person": "people",
    "tag": "tags",
}
MAX_DAYS = 366 * 20


class FieldError(ReportError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class ReportRequest:
    where: TimeFilter
    by: tuple[str, ...]
    period: str
    first: date | None  # the period's first and last local day, for display
    last: date | None


def _day(source: Mapping[str, Any], name: str) -> date | None:
    text = str(source.get(name) or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FieldError(name, f"“{text[:40]}” is not a date; write it as YYYY-MM-DD.") from None
    if not date(1970, 1, 2) <= day <= date(2999, 12, 30):
        raise FieldError(name, f"{day} is too far in the past or the future.")
    return day


def _ids(source: Mapping[str, Any], name: str) -> tuple[int, ...]:
    raw = source.get(name)
    values = raw if isinstance(raw, list | tuple) else [raw]
    ids: list[int] = []
    for value in values:
        for part in str(value or "").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or len(part) > 18:
                raise FieldError(name, f"“{part[:30]}” is not a {name} id.")
            ids.append(int(part))
    return tuple(ids)


def _flag(source: Mapping[str, Any], name: str) -> bool | None:
    text = str(source.get(name) or "").strip().lower()
    if text not in YES_NO:
        raise FieldError(name, f"“{text[:20]}” is not a choice for {name}; use yes or no.")
    return YES_NO[text]


def parse_request(
    viewer: Membership, source: Mapping[str, Any], *, zone: str, default_by: str = "project"
) -> ReportRequest:
    """The filter a query string asks for; FieldError names the first field that is wrong."""
    by_text = str(source.get("by") or default_by)
    then = str(source.get("then") or "").strip()
    if then and "," not in by_text:
        by_text = f"{by_text},{then}"
    try:
        by = parse_by(by_text)
    except ReportError as exc:
        raise FieldError("by", str(exc)) from None
    first, last = _day(source, "from"), _day(source, "to")
    period = str(source.get("period") or "").strip().lower() or (
        "custom" if first or last else "month"
    )
    if period not in CHOICE_PERIODS:
        raise FieldError(
            "period", f"“{period[:30]}” is not a period (one of {', '.join(CHOICE_PERIODS)})."
        )
    if period == "custom":
        if first is None or last is None:
            raise FieldError(
                "from" if first is None else "to",
                "A custom period needs both a from and a to date.",
            )
        if last < first:
            raise FieldError("to", "The period ends before it starts.")
        if (last - first).days > MAX_DAYS:
            raise FieldError("to", "A report covers at most twenty years.")
        start: datetime | None = start_of_day(first, zone)
        end: datetime | None = start_of_day(last + timedelta(days=1), zone)
    else:
        try:
            start, end = period_bounds(period, zone)
        except TimeInputError as exc:  # pragma: no cover - period was checked above
            raise FieldError("period", str(exc)) from None
        if start is not None and end is not None:
            first = local_date(start, zone)
            last = local_date(end, zone) - timedelta(days=1)
        else:
            first = last = None
    ids = {field: _ids(source, name) for name, field in ID_FIELDS.items()}
    where = TimeFilter(
        start=start,
        end=end,
        clients=ids["clients"],
        projects=ids["projects"],
        tasks=ids["tasks"],
        people=ids["people"],
        tags=ids["tags"],
        billable=_flag(source, "billable"),
        invoiced=_flag(source, "invoiced"),
        approved=_flag(source, "approved"),
    )
    del viewer  # ids of other organizations match nothing: every query is bounded by it
    return ReportRequest(where=where, by=by, period=period, first=first, last=last)


def today(zone: str) -> date:
    return local_date(now(), zone)
