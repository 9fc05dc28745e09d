"""Money: Decimal amounts, ISO minor units, half-up rounding in one place."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punchclock.core.money import Money, MoneyError, minor_units, parse_amount, round_money


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.005", "EUR", "0.01"),
        ("0.004", "EUR", "0.00"),
        ("-0.005", "EUR", "-0.01"),
        ("2.675", "EUR", "2.68"),  # a float would give 2.67
        ("1.5", "JPY", "2"),
        ("0.0005", "KWD", "0.001"),
        ("26.3454", "EUR", "26.35"),
        ("292.635", "EUR", "292.64"),
    ],
)
def test_rounding_is_half_up_to_the_currency_minor_unit(amount, currency, expected):
    assert round_money(Decimal(amount), currency) == Decimal(expected)


def test_iso_minor_units_not_cldr_cash_digits():
    # CLDR shows HUF without decimals for cash; ISO 4217 (and invoices) use two.
    assert minor_units("HUF") == 2
    assert minor_units("JPY") == 0
    assert minor_units("BHD") == 3


def test_floats_are_refused():
    with pytest.raises(MoneyError):
        parse_amount(0.1)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(0.1, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "", "1,2,3", "NaN", "Infinity"])
def test_garbage_is_not_an_amount(bad):
    with pytest.raises(MoneyError):
        parse_amount(bad)


def test_unknown_currency_is_refused():
    with pytest.raises(MoneyError):
        Money(Decimal("1"), "EURO")
    with pytest.raises(MoneyError):
        Money(Decimal("1"), "XAU")


def test_different_currencies_do_not_mix():
    with pytest.raises(MoneyError):
        Money(Decimal("1"), "EUR") + Money(Decimal("1"), "USD")


@pytest.mark.parametrize(
    ("currency", "locale", "expected"),
    [
        ("EUR", "de", "1.234,57\xa0€"),
        ("EUR", "fr", "1\u202f234,57\xa0€"),
        ("USD", "en", "$1,234.57"),
        ("JPY", "en", "¥1,235"),
        ("KWD", "en", "KWD1,234.568"),
    ],
)
def test_formatting_follows_the_locale_and_the_iso_digits(currency, locale, expected):
    assert Money(Decimal("1234.5675"), currency).format(locale) == expected


@given(st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=1, max_size=50))
def test_sums_of_rounded_amounts_stay_exact(cents):
    amounts = [Money(Decimal(c).scaleb(-2), "EUR") for c in cents]
    total = sum((a for a in amounts[1:]), start=amounts[0])
    assert total.amount == Decimal(sum(cents)).scaleb(-2)
    assert total.rounded() == total


@pytest.mark.parametrize("locale", ["en", "de", "fr", "de_CH", "ja", "hu", "en_IN"])
def test_format_matches_babels_format_currency(locale):
    """Money.format reuses parsed patterns; it must print what format_currency prints."""
    from babel.numbers import format_currency

    from punchclock.core.money import _pattern, minor_units

    for currency in ("EUR", "USD", "JPY", "HUF", "GBP", "CHF", "BHD", "INR"):
        for text in (
            "0",
            "1234567.891",
            "-12.5",
            "0.005",
            "-0.004",
            "99999999.99",
            "1000",
            "-1234567.5",
            "0.01",
            "7",
            "123456789012.34",
        ):
            money = Money(Decimal(text), currency)
            expected = format_currency(
                money.rounded().amount,
                currency,
                format=_pattern(locale, minor_units(currency)),
                locale=locale,
                currency_digits=False,
            )
            assert money.format(locale) == expected, (locale, currency, text)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("19.99", "EUR", 1999), ("-0.005", "EUR", -1), ("1234", "JPY", 1234), ("1.2345", "BHD", 1235)],
)
def test_minor_units_round_once_and_come_back_exactly(amount, currency, minor):
    from punchclock.core.money import from_minor, round_money, to_minor

    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == round_money(Decimal(amount), currency)
