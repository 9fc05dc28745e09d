"""GET /me, and reading and changing the organization by field group."""

from __future__ import annotations

from tests.api.helpers import Api, assert_error, token_for


def test_me_describes_the_user_organization_role_and_token_scope(agency):
    api = Api(token_for(agency.manager, "read"))
    body = api.get("/me").json()
    assert body["user"] == {
        "email": "manager@acme.test",
        "name": "Mia Manager",
        "timezone": "UTC",
        "locale": "en",
    }
    assert body["organization"] == {
        "id": agency.organization.pk,
        "name": "Acme Agency",
        "default_currency": "EUR",
        "timezone": "Europe/Berlin",
    }
    assert body["role"] == "manager"
    assert body["token"]["scope"] == "read"
    assert body["token"]["prefix"].startswith("pc_")


def test_every_member_can_read_the_organization(member_api, agency):
    body = member_api.get("/organization").json()
    assert body["id"] == agency.organization.pk
    assert body["default_currency"] == "EUR"
    assert body["created_at"].endswith("Z") or "+" in body["created_at"]


def test_an_admin_changes_the_profile(admin_api, agency):
    response = admin_api.patch("/organization", {"name": "Acme GmbH", "city": "Berlin"})
    assert response.status_code == 200
    assert response.json()["name"] == "Acme GmbH"
    agency.organization.refresh_from_db()
    assert agency.organization.city == "Berlin"


def test_an_admin_changing_billing_fields_gets_403_and_nothing_changes(admin_api, agency):
    response = admin_api.patch("/organization", {"city": "Berlin", "vat_id": "DE136695976"})
    assert_error(response, 403)
    agency.organization.refresh_from_db()
    assert agency.organization.city == ""
    assert agency.organization.vat_id == ""


def test_the_owner_changes_billing_and_profile_together(owner_api, agency):
    response = owner_api.patch(
        "/organization", {"vat_id": "de 136 695 976", "legal_name": "Acme GmbH", "city": "Köln"}
    )
    assert response.status_code == 200
    assert response.json()["vat_id"] == "DE136695976"
    assert response.json()["city"] == "Köln"


def test_a_failing_profile_change_leaves_billing_untouched(owner_api, agency):
    response = owner_api.patch(
        "/organization", {"legal_name": "Acme GmbH", "timezone": "Mars/Base"}
    )
    assert_error(response, 422, "timezone")
    agency.organization.refresh_from_db()
    assert agency.organization.legal_name == ""


def test_an_invalid_vat_id_names_the_field(owner_api):
    assert_error(owner_api.patch("/organization", {"vat_id": "DE123"}), 422, "vat_id")


def test_an_unknown_currency_names_the_field(owner_api):
    response = owner_api.patch("/organization", {"default_currency": "XYZ"})
    assert_error(response, 422, "default_currency")
