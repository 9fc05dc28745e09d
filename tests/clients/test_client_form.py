"""Creating and editing a client on the web: clear field errors, nothing written on bad input."""

from __future__ import annotations

import pytest
from django.urls import reverse

from punchclock.clients.models import Client
from tests.conftest import login

NEW = reverse("clients:new")


def _data(**overrides):
    data = {
        "name": "Initech GmbH",
        "code": "",
        "email": "billing@initech.test",
        "address_line1": "Hauptstraße 1",
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
        "vat_id": "",
        "currency": "EUR",
        "language": "de",
        "payment_terms_days": "14",
        "tax_treatment": "domestic",
        "notes": "",
    }
    return data | overrides


def test_the_form_renders_with_the_organizations_defaults(agency, as_owner):
    response = as_owner.get(NEW)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="DE" selected>Germany</option>' in html
    assert '<option value="EUR" selected>' in html


def test_common_currencies_come_first(agency, as_owner):
    html = as_owner.get(NEW).content.decode()
    assert html.index('value="EUR"') < html.index('value="CHF"') < html.index('value="AED"')


def test_a_client_is_created_with_a_code_derived_from_its_name(agency, as_owner):
    response = as_owner.post(NEW, _data())
    client = Client.objects.get(name="Initech GmbH")
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[client.pk])
    assert client.code == "initech"
    assert client.payment_terms_days == 14


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"vat_id": "DE123"}, "vat_id", "is not a valid VAT ID"),
        ({"currency": "XYZ"}, "currency", "Select a valid choice"),
        ({"tax_treatment": "reverse_charge"}, "vat_id", "reverse charge needs"),
        ({"code": "globex"}, "code", "already uses the code"),
        ({"country": "QQ"}, "country", "Select a valid choice"),
        ({"payment_terms_days": "400"}, "payment_terms_days", "less than or equal to 365"),
        ({"payment_terms_days": "soon"}, "payment_terms_days", "Enter a whole number"),
        ({"name": ""}, "name", "This field is required"),
        ({"email": "not-an-email"}, "email", "valid email"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_written(
    agency, as_owner, overrides, field, message
):
    before = Client.objects.count()
    response = as_owner.post(NEW, _data(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Client.objects.count() == before


def test_garbage_post_is_a_400_not_a_crash(agency, as_owner):
    response = as_owner.post(NEW, {"payment_terms_days": ["1", "2"], "name": "\x00"})
    assert response.status_code == 400


def test_edit_saves_the_changes(agency, as_owner):
    url = reverse("clients:edit", args=[agency.client.pk])
    assert as_owner.get(url).status_code == 200
    data = _data(name="Globex Corporation", code="globex", vat_id="DE 812 345 673")
    response = as_owner.post(url, data)
    assert response.status_code == 302
    agency.client.refresh_from_db()
    assert agency.client.name == "Globex Corporation"
    assert agency.client.vat_id == "DE812345673"


def test_edit_refuses_an_empty_code(agency, as_owner):
    url = reverse("clients:edit", args=[agency.client.pk])
    response = as_owner.post(url, _data(code=""))
    assert response.status_code == 400
    assert "code" in response.context["form"].errors
    agency.client.refresh_from_db()
    assert agency.client.code == "globex"


def test_edit_with_a_duplicate_code_changes_nothing(agency, as_owner):
    from tests.factories import make_client

    make_client(agency.organization, "Other", code="other")
    url = reverse("clients:edit", args=[agency.client.pk])
    response = as_owner.post(url, _data(name="Renamed", code="other"))
    assert response.status_code == 400
    agency.client.refresh_from_db()
    assert (agency.client.name, agency.client.code) == ("Globex", "globex")
    # The page header shows the stored name, not the refused input.
    assert "Edit Globex" in response.content.decode()


@pytest.mark.parametrize("role", ["manager", "member"])
def test_only_owners_and_admins_may_open_the_forms(agency, role):
    http = login(getattr(agency, role))
    assert http.get(NEW).status_code == 403
    assert http.post(NEW, _data()).status_code == 403
    assert http.get(reverse("clients:edit", args=[agency.client.pk])).status_code == 403
    assert not Client.objects.filter(name="Initech GmbH").exists()


def test_admin_may_create_a_client(agency):
    response = login(agency.admin).post(NEW, _data())
    assert response.status_code == 302
