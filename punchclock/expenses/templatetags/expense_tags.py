"""Expense facts in templates: the conversion hint and the status badge."""

from __future__ import annotations

from decimal import Decimal

from django import template

from punchclock.expenses.models import Expense

register = template.Library()

SOURCES = {"ecb": "ECB", "manual": "manual"}
BADGES = {"draft": "badge-muted", "submitted": "badge-warn", "approved": "badge-ok"}


@register.filter
def rate_hint(expense: Expense) -> str:
    """“1 USD = 0.9473 EUR (ECB, 2017-03-08)”, or empty when nothing was converted."""
    if not expense.rate_source or expense.currency == expense.client_currency:
        return ""
    rate = Decimal(expense.exchange_rate).quantize(Decimal("0.0001"))
    day = f", {expense.rate_date.isoformat()}" if expense.rate_date else ""
    source = SOURCES.get(expense.rate_source, expense.rate_source)
    return f"1 {expense.currency} = {rate} {expense.client_currency} ({source}{day})"


@register.filter
def status_badge(status: str) -> str:
    """The badge class for an expense status."""
    return BADGES.get(status, "badge-danger")
