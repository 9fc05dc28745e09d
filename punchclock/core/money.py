"""Money: Decimal amounts with a currency, rounded in exactly one place.

Minor units follow ISO 4217, not babel/CLDR: CLDR rounds some currencies (HUF, TWD, …) to
whole units for cash display, while invoices must use the ISO exponent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel import Locale
from babel.numbers import (
    NumberPattern,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    list_currencies,
    parse_pattern,
)

# ISO 4217 exponents that differ from the usual 2.
_MINOR_UNITS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}
# Codes babel knows that are funds, metals or testing codes rather than money people invoice.
_NOT_INVOICEABLE = {
    "XAU",
    "XAG",
    "XPT",
    "XPD",
    "XTS",
    "XXX",
    "XDR",
    "XSU",
    "XUA",
    "XBA",
    "XBB",
    "XBC",
    "XBD",
}


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


@cache
def currency_codes() -> frozenset[str]:
    return frozenset(c for c in list_currencies() if len(c) == 3 and c not in _NOT_INVOICEABLE)


def is_currency(code: str) -> bool:
    return code in currency_codes()


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit: the one rounding rule for money."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Money rounded to the currency's unit, as a whole number of that unit (cents)."""
    return int(round_money(amount, currency).scaleb(minor_units(currency)))


def from_minor(minor: int, currency: str) -> Decimal:
    """A whole number of the currency's unit as money: 1999 EUR cents are 19.99."""
    return Decimal(minor).scaleb(-minor_units(currency))


def parse_amount(value: str | int | Decimal) -> Decimal:
    """A Decimal from user input; floats are refused because they are already imprecise."""
    if isinstance(value, float):
        raise MoneyError("amounts must be given as text or Decimal, not float")
    try:
        amount = Decimal(str(value).strip().replace(" ", ""))
    except InvalidOperation as exc:
        raise MoneyError(f"{value!r} is not a number") from exc
    if not amount.is_finite():
        raise MoneyError(f"{value!r} is not a finite number")
    return amount


@cache
def _pattern(locale: str, digits: int) -> str:
    """The locale's currency pattern with the ISO number of decimals."""
    standard = Locale.parse(locale).currency_formats["standard"].pattern
    standard = standard.split(";")[0]
    return re.sub(r"0\.0+", "0" + ("." + "0" * digits if digits else ""), standard)


@cache
def _parsed_pattern(locale: str, digits: int) -> tuple[NumberPattern, Locale]:
    return parse_pattern(_pattern(locale, digits)), Locale.parse(locale)


def _unquoted(text: str) -> str:
    # As NumberPattern.apply does: text in single quotes is literal, '' is a quote.
    return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", text)


@cache
def _formatter(locale: str, currency: str) -> Callable[[Decimal], str] | None:
    """NumberPattern.apply for one locale and currency, with the symbols and the pattern's
    affixes worked out once: babel looks them up again for every amount, which was most
    of a long report table's time. None for patterns it does not cover (scientific,
    significant digits, plural currency names, quotes in the symbols): those go
    to babel. tests/core/test_money.py holds it to babel's output."""
    pattern, parsed = _parsed_pattern(locale, minor_units(currency))
    affixes = (*pattern.prefix, *pattern.suffix)
    if (
        pattern.exp_prec
        or pattern.scale
        or "@" in pattern.pattern
        or pattern.number_pattern == ""
        or any("¤¤¤" in text or text.count("'") % 2 for text in affixes)
    ):
        return None
    group, point = get_group_symbol(parsed), get_decimal_symbol(parsed)
    if "'" in group + point:
        return None  # babel unquotes the whole text, digits and all (de_CH's 1'234)
    symbol = get_currency_symbol(currency, parsed)

    def literal(text: str) -> str:
        return _unquoted(text.replace("¤¤", currency.upper()).replace("¤", symbol))

    heads = [literal(text) for text in pattern.prefix]
    tails = [literal(text) for text in pattern.suffix]
    first_size, next_size = pattern.grouping
    least_digits = pattern.int_prec[0]
    least, most = pattern.frac_prec
    quantum = Decimal(10) ** -most

    def format_amount(value: Decimal) -> str:
        negative = int(value.is_signed())
        whole, _, fraction = f"{abs(value).normalize().quantize(quantum):f}".partition(".")
        if len(whole) < least_digits:
            whole = "0" * (least_digits - len(whole)) + whole
        grouped, size = "", first_size
        while len(whole) > size:
            grouped = group + whole[-size:] + grouped
            whole, size = whole[:-size], next_size
        number = whole + grouped
        fraction = fraction or "0"
        if len(fraction) < least:
            fraction += "0" * (least - len(fraction))
        if most and not (least == 0 and int(fraction) == 0):
            while len(fraction) > least and fraction[-1] == "0":
                fraction = fraction[:-1]
            number += point + fraction
        return heads[negative] + number + tails[negative]

    return format_amount


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise MoneyError("Money needs a Decimal amount")
        if not is_currency(self.currency):
            raise MoneyError(f"{self.currency!r} is not an ISO 4217 currency code")

    def rounded(self) -> Money:
        return Money(round_money(self.amount, self.currency), self.currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * Decimal(factor), self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def format(self, locale: str | Locale = "en") -> str:
        # The same as babel's format_currency with _pattern, without parsing the locale and
        # the pattern again for every amount (a report table formats thousands).
        fast = _formatter(str(locale), self.currency)
        if fast is not None:
            return fast(self.rounded().amount)
        pattern, parsed = _parsed_pattern(str(locale), minor_units(self.currency))
        return pattern.apply(
            self.rounded().amount, parsed, currency=self.currency, currency_digits=False
        )

    def __str__(self) -> str:
        return self.format()
