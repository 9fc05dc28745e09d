"""Money and rates in templates, formatted for the signed-in person's locale."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import format_currency
from django import template

from punchclock.core.money import Money, MoneyError, round_money

register = template.Library()


def _locale(context: template.Context) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    return getattr(user, "locale", None) or "en"


@register.simple_tag(takes_context=True)
def money(context: template.Context, amount: Any, currency: str | None = None) -> str:
    """{% money amount currency %} or {% money some_money %}; empty for no amount."""
    if isinstance(amount, Money):
        amount, currency = amount.amount, amount.currency
    if amount is None or amount == "" or not currency:
        return ""
    try:
        return Money(Decimal(amount), currency).format(_locale(context))
    except (MoneyError, ArithmeticError, ValueError):
        return f"{amount} {currency}"


@register.simple_tag(takes_context=True)
def rate(context: template.Context, amount: Any, currency: str | None = None) -> str:
    """Like money, but keeps a rate's extra decimals (rates have up to 4): €95.1234."""
    if isinstance(amount, Money):
        amount, currency = amount.amount, amount.currency
    if amount is None or not currency:
        return ""
    try:
        value = Decimal(amount)
        if value == round_money(value, currency):
            return Money(value, currency).format(_locale(context))
        return format_currency(
            value.normalize(), currency, locale=_locale(context), decimal_quantization=False
        )
    except (MoneyError, ArithmeticError, ValueError):
        return f"{amount} {currency}"


@register.filter
def country_name(code: str) -> str:
    """The English name of an ISO 3166 country code, or the code itself."""
    if not code:
        return ""
    return str(Locale("en").territories.get(code.upper(), code))


@register.simple_tag(takes_context=True)
def quantity(context: template.Context, value: Any) -> str:
    """{% quantity line.quantity %}: up to 4 decimals, no trailing zeros, in the locale."""
    from babel.numbers import format_decimal

    if value is None or value == "":
        return ""
    try:
        number = Decimal(value)
    except (ArithmeticError, ValueError):
        return str(value)
    return format_decimal(number, format="#,##0.####", locale=_locale(context))
