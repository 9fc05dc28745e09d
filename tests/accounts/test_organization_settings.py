"""Organization settings: profile and branding for admins, billing identity for owners."""

from __future__ import annotations

from django.urls import reverse

from punchclock.accounts.models import Organization
from tests.conftest import login

URL = reverse("accounts:organization_settings")
BILLING = reverse("accounts:organization_billing")
PROFILE = {
    "name": "Acme Agency GmbH",
    "email": "hello@acme.test",
    "phone": "+49 30 1234",
    "website": "acme.test",
    "address_line1": "Hauptstr. 1",
    "address_line2": "",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
    "brand_colour": "#ff6600",
    "locale": "de",
    "timezone": "Europe/Berlin",
}
IDENTITY = {
    "legal_name": "Acme Agency GmbH",
    "vat_id": "de 136 695 976",
    "tax_number": "30/123/45678",
    "iban": "de89 3704 0044 0532 0130 00",
    "bic": "cobadeffxxx",
    "default_currency": "USD",
}


def _organization(agency) -> Organization:
    return Organization.objects.get(pk=agency.organization.pk)


def test_an_admin_edits_profile_and_branding(agency):
    response = login(agency.admin).post(URL, PROFILE)
    assert response.status_code == 302
    organization = _organization(agency)
    assert organization.name == "Acme Agency GmbH"
    assert organization.website == "https://acme.test"
    assert organization.brand_colour == "#ff6600"
    assert (organization.city, organization.country, organization.locale) == ("Berlin", "DE", "de")


def test_the_brand_colour_is_a_colour_input(as_owner):
    html = as_owner.get(URL).content.decode()
    assert 'type="color"' in html
    assert 'name="brand_colour"' in html


def test_a_bad_profile_names_the_fields_and_writes_nothing(as_owner, agency):
    response = as_owner.post(
        URL, PROFILE | {"brand_colour": "red; }", "email": "nope", "country": "XX"}
    )
    assert response.status_code == 400
    assert set(response.context["profile_form"].errors) == {"brand_colour", "email", "country"}
    organization = _organization(agency)
    assert organization.name == "Acme Agency"
    assert organization.brand_colour == "#2563eb"


def test_managers_and_members_may_not_open_settings(agency):
    for membership in (agency.manager, agency.member):
        http = login(membership)
        assert http.get(URL).status_code == 403
        assert http.post(URL, PROFILE).status_code == 403
    assert _organization(agency).name == "Acme Agency"


def test_the_owner_edits_the_billing_identity_normalized(as_owner, agency):
    response = as_owner.post(BILLING, IDENTITY)
    assert response.status_code == 302
    organization = _organization(agency)
    assert organization.vat_id == "DE136695976"
    assert organization.iban == "DE89370400440532013000"
    assert organization.bic == "COBADEFFXXX"
    assert organization.default_currency == "USD"
    assert organization.legal_name == "Acme Agency GmbH"


def test_an_admin_sees_the_billing_identity_read_only(agency):
    html = login(agency.admin).get(URL).content.decode()
    assert "Only owners can change the billing and tax identity" in html
    assert reverse("accounts:organization_billing") not in html


def test_an_admin_posting_the_billing_form_gets_403(agency):
    response = login(agency.admin).post(BILLING, IDENTITY)
    assert response.status_code == 403
    assert _organization(agency).vat_id == ""


def test_an_invalid_vat_id_names_the_field_and_writes_nothing(as_owner, agency):
    response = as_owner.post(BILLING, IDENTITY | {"vat_id": "DE123456789"})
    assert response.status_code == 400
    errors = response.context["billing_form"].errors
    assert list(errors) == ["vat_id"]
    assert "not a valid VAT ID" in errors["vat_id"][0]
    organization = _organization(agency)
    assert (organization.vat_id, organization.default_currency) == ("", "EUR")


def test_an_invalid_iban_and_bic_name_their_fields_and_write_nothing(as_owner, agency):
    response = as_owner.post(BILLING, IDENTITY | {"iban": "DE00 1234", "bic": "XX"})
    assert response.status_code == 400
    errors = response.context["billing_form"].errors
    assert set(errors) == {"iban", "bic"}
    assert "not a valid IBAN" in errors["iban"][0]
    assert _organization(agency).iban == ""
    assert "not a valid IBAN" in response.content.decode()


def test_an_empty_billing_post_asks_for_the_currency(as_owner, agency):
    response = as_owner.post(BILLING, {})
    assert response.status_code == 400
    assert list(response.context["billing_form"].errors) == ["default_currency"]


def test_a_refused_profile_does_not_leak_into_the_page(as_owner, agency):
    """The page after an error shows the saved brand colour, not the refused one."""
    response = as_owner.post(URL, PROFILE | {"name": "x" * 300})
    assert response.status_code == 400
    assert "--brand: #2563eb" in response.content.decode()
