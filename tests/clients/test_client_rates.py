"""Client-level bill rates on the client page: owners and admins only, in its currency."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.urls import reverse

from punchclock.projects.models import Rate, RateScope
from tests.conftest import login
from tests.factories import make_rate

HTMX = {"HX-Request": "true"}


def _add(agency):
    return reverse("clients:rate_add", args=[agency.client.pk])


def test_a_client_rate_is_added_inline(agency, as_owner):
    data = {"amount": "85,50", "effective_from": "2026-01-01"}
    response = as_owner.post(_add(agency), data, headers=HTMX)
    assert response.status_code == 200
    assert response.content.decode().strip().startswith('<section class="card" id="client-rates"')
    rate = Rate.objects.get(scope=RateScope.CLIENT)
    assert rate.amount == rate.amount.__class__("85.50")
    assert rate.currency == "EUR"
    assert rate.client == agency.client


def test_a_bad_amount_is_refused_on_its_field(agency, as_owner):
    response = as_owner.post(_add(agency), {"amount": "lots", "effective_from": "2026-01-01"})
    assert response.status_code == 400
    assert "amount" in response.context["rate_form"].errors
    assert not Rate.objects.exists()


def test_a_bad_date_is_refused_on_its_field(agency, as_owner):
    response = as_owner.post(_add(agency), {"amount": "80", "effective_from": "2026-02-30"})
    assert response.status_code == 400
    assert "effective_from" in response.context["rate_form"].errors


def test_managers_and_members_cannot_add_client_rates(agency):
    data = {"amount": "80", "effective_from": "2026-01-01"}
    assert login(agency.manager).post(_add(agency), data).status_code == 403
    assert login(agency.member).post(_add(agency), data).status_code == 403
    assert not Rate.objects.exists()


def test_the_history_shows_past_current_and_scheduled_rates(agency, as_owner):
    make_rate(agency.organization, "70", client=agency.client, effective_from=date(2020, 1, 1))
    make_rate(agency.organization, "75", client=agency.client, effective_from=date(2021, 1, 1))
    future = datetime.now(UTC).date() + timedelta(days=400)
    make_rate(agency.organization, "90", client=agency.client, effective_from=future)
    html = as_owner.get(reverse("clients:detail", args=[agency.client.pk])).content.decode()
    assert html.count('badge-muted">Past') == 1
    assert "In force" in html
    assert "Scheduled" in html
    assert "31 Dec 2020" in html  # the 2020 rate ends the day before the next begins
