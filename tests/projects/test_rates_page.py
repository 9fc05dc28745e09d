"""The organization's rates page: defaults, people, clients and cost rates, for admins only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from punchclock.projects.models import Rate, RateKind, RateScope
from tests.conftest import login
from tests.factories import make_client, make_rate

URL = reverse("projects:rates")
HTMX = {"HX-Request": "true"}


def _add(scope):
    return reverse("projects:rates_add", args=[scope])


def test_owner_sees_every_section(agency, as_owner):
    make_rate(agency.organization, "100")
    make_rate(agency.organization, "45", kind=RateKind.COST, membership=agency.member)
    response = as_owner.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("organization", "member", "client", "cost"):
        assert f'id="rates-{section}"' in html
    assert "never changes earlier work" in html
    assert "€100.00" in html
    assert "€45.00" in html


@pytest.mark.parametrize("role", ["manager", "member"])
def test_managers_and_members_may_not_open_the_rates_page(agency, role):
    http = login(getattr(agency, role))
    assert http.get(URL).status_code == 403
    assert http.post(_add("organization"), {"amount": "1", "currency": "EUR"}).status_code == 403


def test_an_organization_default_is_added_per_currency(agency, as_owner):
    data = {"amount": "100", "currency": "USD", "effective_from": "2026-01-01"}
    response = as_owner.post(_add("organization"), data, headers=HTMX)
    assert response.status_code == 200
    assert (
        response.content.decode()
        .strip()
        .startswith('<section class="card" id="rates-organization"')
    )
    rate = Rate.objects.get()
    assert (rate.scope, rate.currency, rate.scope_key) == (
        RateScope.ORGANIZATION,
        "USD",
        "organization:USD",
    )


def test_a_person_default_and_a_cost_rate(agency, as_owner):
    person = {"membership": agency.member.pk, "amount": "90", "currency": "EUR"}
    cost = {"membership": agency.member.pk, "amount": "42.5"}
    as_owner.post(_add("member"), person | {"effective_from": "2026-01-01"})
    as_owner.post(_add("cost"), cost | {"effective_from": "2026-01-01"})
    kinds = dict(Rate.objects.values_list("kind", "amount"))
    assert kinds == {RateKind.BILL: Decimal(90), RateKind.COST: Decimal("42.5")}


def test_a_client_rate_in_another_currency_is_refused_on_the_currency(agency, as_owner):
    data = {
        "client": agency.client.pk,
        "amount": "90",
        "currency": "USD",
        "effective_from": "2026-01-01",
    }
    response = as_owner.post(_add("client"), data, headers=HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Rates for Globex are in its currency, EUR." in html
    assert not Rate.objects.exists()


def test_a_client_rate_takes_the_clients_currency(agency, as_owner):
    usd = make_client(agency.organization, "Yankee", currency="USD", country="US")
    data = {"client": usd.pk, "amount": "90", "currency": "", "effective_from": "2026-01-01"}
    assert as_owner.post(_add("client"), data).status_code == 302
    assert Rate.objects.get().currency == "USD"


@pytest.mark.parametrize(
    ("scope", "data", "field"),
    [
        ("organization", {"amount": "-1", "currency": "EUR"}, "amount"),
        ("organization", {"amount": "1", "currency": "ZZZ"}, "currency"),
        ("member", {"amount": "1", "currency": "EUR", "membership": "999999"}, "membership"),
        ("cost", {"amount": "1.00001", "membership": "1"}, "amount"),
        ("client", {"amount": "1", "client": "nope"}, "client"),
    ],
)
def test_bad_input_is_refused_on_its_field(agency, as_owner, scope, data, field):
    if scope == "cost":
        data = data | {"membership": agency.member.pk}
    response = as_owner.post(_add(scope), data | {"effective_from": "2026-01-01"})
    assert response.status_code == 400
    assert field in response.context["forms"][scope].errors
    assert not Rate.objects.exists()


def test_an_unknown_scope_is_404(agency, as_owner):
    assert as_owner.post(_add("galaxy"), {"amount": "1"}).status_code == 404


def test_the_page_needs_no_more_queries_for_more_rates(
    agency, as_owner, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_rate(agency.organization, "100")
    with CaptureQueriesContext(connection) as few:
        as_owner.get(URL)
    for membership in (agency.owner, agency.admin, agency.manager, agency.member):
        make_rate(agency.organization, "90", membership=membership)
        make_rate(agency.organization, "40", kind=RateKind.COST, membership=membership)
    with django_assert_max_num_queries(len(few.captured_queries)):
        as_owner.get(URL)
