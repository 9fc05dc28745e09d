"""Money in templates: the person's locale, a rate's extra decimals, never a crash."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from django.template import Context, Template

from punchclock.core.money import Money


def _render(source: str, locale: str = "en", **values) -> str:
    request = SimpleNamespace(user=SimpleNamespace(locale=locale))
    template = Template("{% load money %}" + source)
    return template.render(Context({"request": request, **values}))


def test_money_follows_the_persons_locale():
    assert _render("{% money a 'EUR' %}", a=Decimal("1234.5")) == "€1,234.50"
    assert _render("{% money a 'EUR' %}", locale="de", a=Decimal("1234.5")) == "1.234,50\xa0€"


def test_a_money_value_is_accepted_whole():
    assert _render("{% money m %}", m=Money(Decimal("9"), "USD")) == "$9.00"


def test_rates_keep_their_extra_decimals():
    assert _render("{% rate a 'EUR' %}", a=Decimal("95.1250")) == "€95.125"
    assert _render("{% rate a 'EUR' %}", a=Decimal("95.0000")) == "€95.00"


def test_nothing_to_show_is_empty_and_bad_values_do_not_crash():
    assert _render("{% money a 'EUR' %}", a=None) == ""
    assert _render("{% money a 'XYZ' %}", a=Decimal(1)) == "1 XYZ"


def test_country_names():
    assert _render("{{ 'de'|country_name }}") == "Germany"
    assert _render("{{ ''|country_name }}") == ""


def test_quantities_drop_trailing_zeros_in_the_locale():
    rendered = Template("{% load money %}{% quantity q %}|{% quantity w %}").render(
        Context({"q": Decimal("33.3000"), "w": Decimal("15.0000")})
    )
    assert rendered == "33.3|15"
