"""The live amount preview: the same pricing rules as saving, and nothing saved."""

from __future__ import annotations

from django.urls import reverse

from punchclock.expenses.models import ExchangeRate, Expense
from punchclock.expenses.services import import_ecb_rates


def post(http, agency, categories, **fields):
    data = {
        "client": agency.client.pk,
        "category": categories["Software and licences"].pk,
        "spent_on": "2026-11-02",
        "amount": "119.00",
        "currency": "EUR",
        "tax_rate": "19",
        "amount_includes_tax": "on",
    }
    data.update(fields)
    return http.post(reverse("expenses:preview"), data, HTTP_HX_REQUEST="true")


def test_the_preview_shows_net_tax_markup_and_billable_amount(agency, categories, as_member):
    response = post(as_member, agency, categories)
    numbers = response.context["preview"]["numbers"]
    assert response.status_code == 200
    assert str(numbers["net"]) == "100.00"
    assert str(numbers["tax"]) == "19.00"
    assert str(numbers["billable_amount"]) == "110.00"  # the category's 10 % markup
    body = response.content.decode()
    assert body.lstrip().startswith('<div class="preview-body"')
    assert "€110.00" in body
    assert not Expense.objects.exists()


def test_the_preview_converts_with_the_stored_rate(agency, categories, as_owner, ecb_file):
    import_ecb_rates(agency.organization, by=agency.owner, data=ecb_file)
    response = post(
        as_owner,
        agency,
        categories,
        category=categories["Travel"].pk,
        amount="105.56",
        currency="USD",
        tax_rate="0",
        spent_on="2017-03-08",
    )
    body = response.content.decode()
    assert "€100.00" in body
    assert "1 USD = 0.9473 EUR" in body
    assert "ECB, 2017-03-08" in body


def test_the_preview_shows_the_unit_price_for_mileage(agency, categories, as_member):
    response = post(
        as_member, agency, categories, category=categories["Mileage"].pk, quantity="100"
    )
    body = response.content.decode()
    assert "100 km" in body
    assert "€30.00" in body


def test_the_preview_explains_what_is_missing(agency, categories, as_member):
    response = post(as_member, agency, categories, currency="USD", amount="10")
    assert response.status_code == 200
    assert "No exchange rate for USD" in response.content.decode()
    response = post(as_member, agency, categories, category="")
    assert "Choose a client, a category" in response.content.decode()


def test_the_preview_writes_nothing_even_with_a_rate_by_hand(agency, categories, as_member):
    response = post(as_member, agency, categories, currency="USD", exchange_rate="0.5")
    assert str(response.context["preview"]["numbers"]["billable_amount"]) == "55.00"
    assert not Expense.objects.exists()
    assert not ExchangeRate.objects.exists()


def test_the_preview_only_answers_posts(as_member):
    assert as_member.get(reverse("expenses:preview")).status_code == 405
