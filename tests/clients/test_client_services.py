"""The client services validate, keep tenancy and archive rather than delete history."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from punchclock.clients import services
from punchclock.clients.models import Client, TaxTreatment
from punchclock.projects.models import ProjectStatus
from tests.factories import make_client


def test_create_client_takes_the_organizations_defaults(agency):
    client = services.create_client(by=agency.owner, name="Initech")
    assert (client.currency, client.country, client.code) == ("EUR", "DE", "initech")


def test_a_suggested_code_never_clashes(agency):
    make_client(agency.organization, "Initech", code="initech")
    client = services.create_client(by=agency.owner, name="Initech Two")
    assert client.code == "initech2"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"vat_id": "DE000"}, "vat_id"),
        ({"tax_treatment": TaxTreatment.REVERSE_CHARGE}, "vat_id"),
        ({"country": "XX"}, "country"),
        ({"currency": "ABC"}, "currency"),
        ({"code": "globex"}, "code"),
        ({"payment_terms_days": 366}, "payment_terms_days"),
        ({"language": "xx"}, "language"),
        ({"invoice_cc": "ap@initech.test, not mail"}, "invoice_cc"),
        (
            {"electronic_address": "x1", "electronic_address_scheme": "ZZ"},
            "electronic_address_scheme",
        ),
        ({"electronic_address_scheme": "EM"}, "electronic_address"),
        ({"electronic_address": "nope", "electronic_address_scheme": "em"}, "electronic_address"),
        ({"einvoice_format": "pdf-only"}, "einvoice_format"),
    ],
)
def test_invalid_clients_are_refused_naming_the_field(agency, fields, field):
    with pytest.raises(ValidationError) as caught:
        services.create_client(by=agency.owner, name="Initech", **fields)
    assert field in caught.value.message_dict
    assert not Client.objects.filter(name="Initech").exists()


def test_invoice_copies_are_stored_as_a_clean_list(agency):
    client = services.create_client(
        by=agency.owner, name="Initech", invoice_cc=" ap@initech.test;cfo@initech.test  "
    )
    assert client.invoice_cc == "ap@initech.test, cfo@initech.test"


def test_an_e_invoicing_address_is_stored_with_its_scheme_code(agency):
    client = services.create_client(
        by=agency.owner,
        name="Stadt Musterhausen",
        buyer_reference=" 991-12345-67 ",
        electronic_address="rechnung@musterhausen.test",
        electronic_address_scheme="em",
        einvoice_format="xrechnung-ubl",
    )
    assert (client.buyer_reference, client.electronic_address_scheme) == ("991-12345-67", "EM")


def test_reverse_charge_with_a_valid_vat_id_is_accepted(agency):
    client = services.create_client(
        by=agency.owner,
        name="Rivière",
        country="FR",
        vat_id="fr 44732829320",
        tax_treatment=TaxTreatment.REVERSE_CHARGE,
    )
    assert client.vat_id == "FR44732829320"


def test_only_owners_and_admins_manage_clients(agency):
    for membership in (agency.manager, agency.member):
        with pytest.raises(PermissionDenied):
            services.create_client(by=membership, name="Nope")


def test_another_organizations_client_cannot_be_changed(agency, outsider):
    with pytest.raises(PermissionDenied):
        services.update_client(agency.client, by=outsider, name="Hijacked")
    with pytest.raises(PermissionDenied):
        services.archive_client(agency.client, by=outsider)


def test_archiving_archives_every_project_of_the_client(agency):
    services.archive_client(agency.client, by=agency.owner)
    assert set(agency.client.projects.values_list("status", flat=True)) == {ProjectStatus.ARCHIVED}


def test_a_client_with_projects_is_not_deleted(agency):
    with pytest.raises(ValidationError, match="only be archived"):
        services.delete_client(agency.client, by=agency.owner)
    assert Client.objects.filter(pk=agency.client.pk).exists()


def test_contacts_are_added_and_validated(agency):
    contact = services.add_contact(agency.client, by=agency.owner, name=" Ada ", email="a@b.test")
    assert contact.name == "Ada"
    with pytest.raises(ValidationError) as caught:
        services.add_contact(agency.client, by=agency.owner, name="Eve", email="nope")
    assert "email" in caught.value.message_dict
