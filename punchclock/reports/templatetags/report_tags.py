"""Small filters for report tables."""

from __future__ import annotations

from typing import Any

from django import template

from punchclock.reports.timereport import hours as to_hours

register = template.Library()


@register.filter
def lookup(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key)


@register.filter
def hours(seconds: int | None) -> str:
    """Seconds as decimal hours with two places: 7.50."""
    return f"{to_hours(seconds or 0):,}"


@register.filter
def share(part: int | None, whole: int | None) -> int:
    """Part of whole in percent (0–100), for the bar behind a row's hours."""
    return round(100 * (part or 0) / whole) if whole else 0


@register.filter
def palette(index: int) -> str:
    """The chart colour of series number `index`, for legends drawn in HTML."""
    from punchclock.reports.charts import PALETTE

    return PALETTE[int(index) % len(PALETTE)]


@register.filter
def runs_out(row: Any, today: Any) -> Any:
    """The day a budget row runs out at its pace (budgets.BudgetRow.runs_out)."""
    return row.runs_out(today)


@register.filter
def age_on(row: Any, today: Any) -> Any:
    """Days since an unbilled row's oldest item (unbilled.UnbilledRow.age)."""
    return row.age(today)
