"""Clients and contacts over the API: list, filter, create, change, archive, delete."""

from __future__ import annotations

from punchclock.clients.models import Client, Contact
from tests import factories
from tests.api.helpers import assert_error


def test_create_a_client_with_organization_defaults(owner_api):
    response = owner_api.post("/clients", {"name": "Initech Inc", "vat_id": "FR40303265045"})
    assert response.status_code == 201
    body = response.json()
    assert body["code"] == "initech"
    assert body["currency"] == "EUR"
    assert body["country"] == "DE"
    assert body["vat_id"] == "FR40303265045"
    assert Client.objects.filter(pk=body["id"], name="Initech Inc").exists()


def test_get_a_client(owner_api, agency):
    body = owner_api.get(f"/clients/{agency.client.pk}").json()
    assert body["name"] == "Globex"
    assert body["code"] == "globex"
    assert body["payment_terms_days"] == 30


def test_patch_changes_only_the_fields_sent(owner_api, agency):
    response = owner_api.patch(f"/clients/{agency.client.pk}", {"city": "Springfield"})
    assert response.status_code == 200
    agency.client.refresh_from_db()
    assert agency.client.city == "Springfield"
    assert agency.client.name == "Globex"


def test_list_filters_by_search_archived_and_currency(owner_api, agency):
    factories.make_client(agency.organization, "Initech", currency="USD", code="initech")
    factories.make_client(agency.organization, "Umbrella", is_archived=True, code="umbrella")
    names = lambda **q: [c["name"] for c in owner_api.get("/clients", q).json()["items"]]  # noqa: E731
    assert names() == ["Globex", "Initech", "Umbrella"]
    assert names(search="tech") == ["Initech"]
    assert names(archived="false") == ["Globex", "Initech"]
    assert names(archived="true") == ["Umbrella"]
    assert names(currency="usd") == ["Initech"]


def test_a_member_sees_only_clients_of_their_projects(member_api, agency):
    factories.make_client(agency.organization, "Initech", code="initech")
    body = member_api.get("/clients").json()
    assert [c["name"] for c in body["items"]] == ["Globex"]
    assert body["count"] == 1


def test_archive_and_restore(owner_api, agency):
    archived = owner_api.post(f"/clients/{agency.client.pk}/archive")
    assert archived.status_code == 200
    assert archived.json()["is_archived"] is True
    agency.project.refresh_from_db()
    assert agency.project.status == "archived"
    restored = owner_api.post(f"/clients/{agency.client.pk}/restore")
    assert restored.json()["is_archived"] is False


def test_delete_a_client_without_projects(owner_api, agency):
    client = factories.make_client(agency.organization, "Initech", code="initech")
    assert owner_api.delete(f"/clients/{client.pk}").status_code == 204
    assert not Client.objects.filter(pk=client.pk).exists()


def test_a_duplicate_code_names_the_field(owner_api):
    assert_error(owner_api.post("/clients", {"name": "Glob", "code": "globex"}), 422, "code")


def test_an_unknown_currency_names_the_field(owner_api):
    assert_error(
        owner_api.post("/clients", {"name": "Initech", "currency": "XYZ"}), 422, "currency"
    )


def test_reverse_charge_without_vat_id_names_the_vat_id(owner_api):
    response = owner_api.post("/clients", {"name": "Initech", "tax_treatment": "reverse_charge"})
    assert_error(response, 422, "vat_id")


def test_payment_terms_beyond_a_year_name_the_field(owner_api, agency):
    response = owner_api.patch(f"/clients/{agency.client.pk}", {"payment_terms_days": 400})
    assert_error(response, 422, "payment_terms_days")


def test_contacts_are_added_listed_changed_and_deleted(owner_api, agency):
    created = owner_api.post(
        f"/clients/{agency.client.pk}/contacts",
        {"name": "Hank Scorpio", "email": "hank@globex.test", "is_billing_contact": True},
    )
    assert created.status_code == 201
    contact_id = created.json()["id"]
    owner_api.post(f"/clients/{agency.client.pk}/contacts", {"name": "Anna"})

    listed = owner_api.get(f"/clients/{agency.client.pk}/contacts").json()
    assert [c["name"] for c in listed["items"]] == ["Hank Scorpio", "Anna"]

    changed = owner_api.patch(f"/contacts/{contact_id}", {"role": "CEO"})
    assert changed.json()["role"] == "CEO"
    assert owner_api.get(f"/contacts/{contact_id}").json()["email"] == "hank@globex.test"

    assert owner_api.delete(f"/contacts/{contact_id}").status_code == 204
    assert not Contact.objects.filter(pk=contact_id).exists()


def test_a_contact_with_a_bad_email_names_the_field(owner_api, agency):
    response = owner_api.post(f"/clients/{agency.client.pk}/contacts", {"name": "X", "email": "x"})
    assert_error(response, 422, "email")
